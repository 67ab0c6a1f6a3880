//! Reservations: all-or-nothing holds that always end.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn lines_of_one_product_are_summed_before_checking() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(5).await;
    let resp = app.reserve(&[(product, 3), (product, 3)]).await;
    resp.assert_problem(409, "insufficient_stock");
    assert_eq!(
        resp.body["shortages"],
        json!([{"product_id": product, "requested": 6, "available": 5}])
    );
    assert_eq!(app.stock(seller, product).await["reserved"], 0);
    assert_eq!(app.count("reservations"), 0);
    let ok = app.reserve(&[(product, 2), (product, 3)]).await;
    ok.assert_status(201);
    assert_eq!(
        ok.body["lines"],
        json!([{"product_id": product, "quantity": 5}])
    );
}

#[actix_web::test]
async fn a_shortfall_on_any_product_holds_nothing_and_lists_every_short_product() {
    let app = TestApp::spawn().await;
    let (seller, a) = app.stocked_product(10).await;
    let (_, b) = app.stocked_product(1).await;
    let (_, c) = app.stocked_product(0).await;
    let movements = app.count("stock_movements");
    let resp = app.reserve(&[(a, 4), (b, 2), (c, 1)]).await;
    resp.assert_problem(409, "insufficient_stock");
    let mut short: Vec<String> = resp.body["shortages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["product_id"].string())
        .collect();
    short.sort();
    let mut expected = vec![b.to_string(), c.to_string()];
    expected.sort();
    assert_eq!(short, expected);
    assert_eq!(app.stock(seller, a).await["reserved"], 0);
    assert_eq!(app.count("stock_movements"), movements);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn release_returns_units_and_commit_sells_them_and_each_ends_once() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let admin = app.admin();
    let first = app.reserve(&[(product, 4)]).await;
    let id = first.body["id"].str();
    assert_eq!(first.body["status"], "active");
    let released = app
        .post(
            &format!("/api/v1/reservations/{id}/release"),
            Some(&admin),
            json!({}),
        )
        .await;
    released.assert_status(200);
    assert_eq!(released.body["status"], "released");
    assert!(released.body["ended_at"].is_string());
    app.post(
        &format!("/api/v1/reservations/{id}/release"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_problem(409, "reservation_not_active");
    app.post(
        &format!("/api/v1/reservations/{id}/commit"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_problem(409, "reservation_not_active");
    let stock = app.stock(seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(10), Some(0))
    );

    let second = app.reserve(&[(product, 3)]).await;
    let id = second.body["id"].str();
    let committed = app
        .post(
            &format!("/api/v1/reservations/{id}/commit"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(committed.body["status"], "committed");
    let stock = app.stock(seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(7), Some(0))
    );
    let sales = app
        .get(
            &format!("/api/v1/inventory/{product}/movements?reason=sale"),
            Some(&admin),
        )
        .await;
    assert_eq!(sales.body["items"][0]["reservation_id"], id);
    assert_eq!(sales.body["items"][0]["owner_type"], "checkout");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn extend_moves_the_expiry_of_an_active_reservation_only() {
    let app = TestApp::spawn().await;
    let (_, product) = app.stocked_product(10).await;
    let admin = app.admin();
    let r = app.reserve(&[(product, 1)]).await;
    let id = r.body["id"].str();
    let before = chrono::DateTime::parse_from_rfc3339(r.body["expires_at"].str()).unwrap();
    let extended = app
        .post(
            &format!("/api/v1/reservations/{id}/extend"),
            Some(&admin),
            json!({"ttl_seconds": 3600}),
        )
        .await;
    extended.assert_status(200);
    let after = chrono::DateTime::parse_from_rfc3339(extended.body["expires_at"].str()).unwrap();
    assert!(after - before > chrono::Duration::minutes(40));
    app.post(
        &format!("/api/v1/reservations/{id}/extend"),
        Some(&admin),
        json!({"ttl_seconds": 0}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/reservations/{id}/release"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/reservations/{id}/extend"),
        Some(&admin),
        json!({"ttl_seconds": 60}),
    )
    .await
    .assert_problem(409, "reservation_not_active");
}

#[actix_web::test]
async fn the_expiry_job_releases_expired_reservations() {
    let app = TestApp::spawn_with(|s| s.run_jobs = true).await;
    let (seller, product) = app.stocked_product(10).await;
    let admin = app.admin();
    let resp = app
        .post(
            "/api/v1/reservations",
            Some(&admin),
            json!({"owner_type": "cart", "owner_id": Uuid::now_v7(), "ttl_seconds": 1, "lines": [{"product_id": product, "quantity": 4}]}),
        )
        .await;
    resp.assert_status(201);
    let id = resp.body["id"].str();
    // Reads say `expired` as soon as the time is up; the job has ended it
    // (and released the units) once `ended_at` is set.
    let mut read = Value::Null;
    for _ in 0..100 {
        read = app
            .get(&format!("/api/v1/reservations/{id}"), Some(&admin))
            .await
            .body;
        if read["status"] == "expired" && !read["ended_at"].is_null() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(read["status"], "expired");
    assert!(!read["ended_at"].is_null(), "the job ended it: {read}");
    assert_eq!(app.stock(seller, product).await["reserved"], 0);
    let expiry = app
        .get(
            &format!("/api/v1/inventory/{product}/movements?reason=expiry"),
            Some(&admin),
        )
        .await;
    assert_eq!(expiry.body["items"][0]["actor_role"], "system");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn only_admins_reserve_and_operators_read_reservations() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let body = json!({"owner_type": "order", "owner_id": Uuid::now_v7(), "lines": [{"product_id": product, "quantity": 1}]});
    for token in [app.customer(), app.seller(seller), app.support()] {
        app.post("/api/v1/reservations", Some(&token), body.clone())
            .await
            .assert_problem(403, "forbidden");
    }
    app.post("/api/v1/reservations", None, body)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(app.count("reservations"), 0);
    let id = app.reserve(&[(product, 1)]).await.id();
    app.get(&format!("/api/v1/reservations/{id}"), Some(&app.support()))
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/reservations/{id}"), Some(&app.customer()))
        .await
        .assert_problem(403, "forbidden");
    for action in ["release", "commit"] {
        app.post(
            &format!("/api/v1/reservations/{id}/{action}"),
            Some(&app.support()),
            json!({}),
        )
        .await
        .assert_problem(403, "forbidden");
    }
    app.get(
        &format!("/api/v1/reservations/{}", Uuid::now_v7()),
        Some(&app.admin()),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/reservations/{}/release", Uuid::now_v7()),
        Some(&app.admin()),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn bad_reservation_requests_are_422_and_hold_nothing() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let admin = app.admin();
    let owner = Uuid::now_v7();
    let line = |q: serde_json::Value| json!([{"product_id": product, "quantity": q}]);
    for (body, fields) in [
        (
            json!({"owner_type": "checkout", "owner_id": owner, "lines": []}),
            vec!["lines"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "lines": line(json!(0))}),
            vec!["lines[0].quantity"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "lines": line(json!(-2))}),
            vec!["lines[0].quantity"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "lines": line(json!(1_000_000_000))}),
            vec!["lines[0].quantity"],
        ),
        (
            json!({"owner_type": "wishlist", "owner_id": owner, "lines": line(json!(1))}),
            vec!["owner_type"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "ttl_seconds": 0, "lines": line(json!(1))}),
            vec!["ttl_seconds"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "ttl_seconds": 10_000_000, "lines": line(json!(1))}),
            vec!["ttl_seconds"],
        ),
        (
            json!({"owner_type": "checkout", "owner_id": owner, "lines": [{"product_id": Uuid::now_v7(), "quantity": 1}]}),
            vec!["lines[0].product_id"],
        ),
    ] {
        let resp = app
            .post("/api/v1/reservations", Some(&admin), body.clone())
            .await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), fields, "{body}");
    }
    let too_many: Vec<_> = (0..101)
        .map(|_| json!({"product_id": product, "quantity": 1}))
        .collect();
    app.post(
        "/api/v1/reservations",
        Some(&admin),
        json!({"owner_type": "checkout", "owner_id": owner, "lines": too_many}),
    )
    .await
    .assert_problem(422, "validation_failed");
    assert_eq!(app.count("reservations"), 0);
    assert_eq!(app.stock(seller, product).await["reserved"], 0);
}

#[actix_web::test]
async fn timestamps_read_back_exactly_as_first_answered() {
    let app = TestApp::spawn().await;
    let (_, product) = app.stocked_product(10).await;
    let created = app.reserve(&[(product, 1)]).await;
    let id = created.body["id"].str();
    let read = app
        .get(&format!("/api/v1/reservations/{id}"), Some(&app.admin()))
        .await;
    assert_eq!(created.body["expires_at"], read.body["expires_at"]);
    assert_eq!(created.body["created_at"], read.body["created_at"]);
}

#[actix_web::test]
async fn a_reservation_past_its_expiry_is_expired_before_the_job_reaches_it() {
    let app = TestApp::spawn().await; // no jobs: nothing ends it in the background
    let (seller, product) = app.stocked_product(10).await;
    let admin = app.admin();
    let mut ids = vec![];
    for _ in 0..3 {
        let resp = app
            .post(
                "/api/v1/reservations",
                Some(&admin),
                json!({"owner_type": "cart", "owner_id": Uuid::now_v7(), "ttl_seconds": 1, "lines": [{"product_id": product, "quantity": 2}]}),
            )
            .await;
        resp.assert_status(201);
        ids.push(resp.id());
    }
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let read = app
        .get(&format!("/api/v1/reservations/{}", ids[0]), Some(&admin))
        .await;
    assert_eq!(read.body["status"], "expired");
    app.post(
        &format!("/api/v1/reservations/{}/extend", ids[0]),
        Some(&admin),
        json!({"ttl_seconds": 600}),
    )
    .await
    .assert_problem(409, "reservation_not_active");
    app.post(
        &format!("/api/v1/reservations/{}/commit", ids[1]),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_problem(409, "reservation_not_active");
    // Nothing was sold.
    assert_eq!(app.stock(seller, product).await["on_hand"], 10);
    // Releasing it ends it as what it is: expired.
    let released = app
        .post(
            &format!("/api/v1/reservations/{}/release", ids[2]),
            Some(&admin),
            json!({}),
        )
        .await;
    released.assert_status(200);
    assert_eq!(released.body["status"], "expired");
    app.assert_stock_invariants();
}
