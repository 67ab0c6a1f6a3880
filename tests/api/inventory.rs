//! Stock levels, the movement ledger, availability and low-stock alerts.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn a_seller_sets_levels_and_available_subtracts_reserved_and_safety_stock() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let token = app.seller(seller);
    let path = format!("/api/v1/inventory/{product}");
    let resp = app
        .put(
            &path,
            Some(&token),
            json!({"safety_stock": 2, "low_stock_threshold": 1}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        (
            resp.body["on_hand"].as_i64(),
            resp.body["available"].as_i64()
        ),
        (Some(10), Some(8))
    );
    app.reserve(&[(product, 3)]).await.assert_status(201);
    let stock = app.stock(seller, product).await;
    assert_eq!(stock["reserved"], 3);
    assert_eq!(stock["available"], 5);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn a_product_never_stocked_shows_zeros() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let product = app.create_product(seller, "A1", "1.00").await["id"].string();
    let stock = app
        .get(
            &format!("/api/v1/inventory/{product}"),
            Some(&app.seller(seller)),
        )
        .await;
    stock.assert_status(200);
    assert_eq!(
        (
            stock.body["on_hand"].as_i64(),
            stock.body["available"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

#[actix_web::test]
async fn restocks_and_adjustments_are_in_the_ledger_which_replays_to_the_figures() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(5).await;
    let token = app.seller(seller);
    let base = format!("/api/v1/inventory/{product}");
    let resp = app
        .post(
            &format!("{base}/restocks"),
            Some(&token),
            json!({"quantity": 20, "reference": "FAC-0001", "note": "camión"}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["on_hand"], 25);
    app.post(
        &format!("{base}/adjustments"),
        Some(&token),
        json!({"delta": -3, "reason": "adjustment", "note": "dañados"}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("{base}/adjustments"),
        Some(&token),
        json!({"delta": 1, "reason": "return"}),
    )
    .await
    .assert_status(200);
    let all = app.get(&format!("{base}/movements"), Some(&token)).await;
    let reasons: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].str())
        .collect();
    assert_eq!(reasons, ["return", "adjustment", "restock", "correction"]);
    assert_eq!(all.body["items"][2]["reference"], "FAC-0001");
    assert_eq!(all.body["items"][2]["actor_role"], "seller");
    assert_eq!(all.body["items"][0]["on_hand_after"], 23);
    let restocks = app
        .get(&format!("{base}/movements?reason=restock"), Some(&token))
        .await;
    assert_eq!(restocks.body["items"].as_array().unwrap().len(), 1);
    let paged = app
        .get(&format!("{base}/movements?limit=3"), Some(&token))
        .await;
    let cursor = paged.body["next_cursor"].str();
    let rest = app
        .get(
            &format!("{base}/movements?limit=3&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(rest.body["items"][0]["reason"], "correction");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn reserved_units_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let token = app.seller(seller);
    app.reserve(&[(product, 8)]).await.assert_status(201);
    let base = format!("/api/v1/inventory/{product}");
    app.post(
        &format!("{base}/adjustments"),
        Some(&token),
        json!({"delta": -3, "reason": "adjustment"}),
    )
    .await
    .assert_problem(409, "stock_conflict");
    app.put(&base, Some(&token), json!({"on_hand": 7}))
        .await
        .assert_problem(409, "stock_conflict");
    app.post(
        &format!("{base}/adjustments"),
        Some(&token),
        json!({"delta": -2, "reason": "adjustment"}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.stock(seller, product).await["on_hand"], 8);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn only_the_products_seller_and_admins_change_stock_and_operators_read_it() {
    let app = TestApp::spawn().await;
    let (_, product) = app.stocked_product(10).await;
    let other = app.create_seller().await;
    let base = format!("/api/v1/inventory/{product}");
    let movements_before = app.count("stock_movements");
    for token in [app.seller(other), app.customer(), app.support()] {
        app.put(&base, Some(&token), json!({"on_hand": 1}))
            .await
            .assert_problem(403, "forbidden");
        app.post(
            &format!("{base}/restocks"),
            Some(&token),
            json!({"quantity": 1}),
        )
        .await
        .assert_problem(403, "forbidden");
        app.post(
            &format!("{base}/adjustments"),
            Some(&token),
            json!({"delta": -1, "reason": "adjustment"}),
        )
        .await
        .assert_problem(403, "forbidden");
    }
    for token in [app.seller(other), app.customer()] {
        app.get(&base, Some(&token))
            .await
            .assert_problem(403, "forbidden");
        app.get(&format!("{base}/movements"), Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
    app.get(&base, Some(&app.support()))
        .await
        .assert_status(200);
    app.get(&base, None)
        .await
        .assert_problem(401, "unauthorized");
    app.put(&base, None, json!({"on_hand": 1}))
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(app.count("stock_movements"), movements_before);
    app.post(
        &format!("{base}/restocks"),
        Some(&app.admin()),
        json!({"quantity": 1}),
    )
    .await
    .assert_status(200);
    app.get(
        &format!("/api/v1/inventory/{}", Uuid::now_v7()),
        Some(&app.admin()),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn bad_quantities_are_422_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let token = app.seller(seller);
    let base = format!("/api/v1/inventory/{product}");
    let movements = app.count("stock_movements");
    for (path, body, field) in [
        (base.clone(), json!({}), "__all__"),
        (base.clone(), json!({"on_hand": -1}), "on_hand"),
        (base.clone(), json!({"on_hand": 2_000_000_000}), "on_hand"),
        (base.clone(), json!({"on_hand": 1.5}), "on_hand"),
        (base.clone(), json!({"safety_stock": -2}), "safety_stock"),
        (
            format!("{base}/adjustments"),
            json!({"delta": 0, "reason": "adjustment"}),
            "delta",
        ),
        (
            format!("{base}/adjustments"),
            json!({"delta": 999_999_999, "reason": "adjustment"}),
            "delta",
        ),
        (
            format!("{base}/adjustments"),
            json!({"delta": 1, "reason": "sale"}),
            "reason",
        ),
        (format!("{base}/adjustments"), json!({"delta": 1}), "reason"),
        (
            format!("{base}/restocks"),
            json!({"quantity": 0}),
            "quantity",
        ),
        (
            format!("{base}/restocks"),
            json!({"quantity": -5}),
            "quantity",
        ),
        (
            format!("{base}/restocks"),
            json!({"quantity": "5"}),
            "quantity",
        ),
        (
            format!("{base}/restocks"),
            json!({"quantity": 5, "reference": ""}),
            "reference",
        ),
    ] {
        let method = if path == base {
            awc::http::Method::PUT
        } else {
            awc::http::Method::POST
        };
        let resp = app.request(method, &path, Some(&token), Some(&body)).await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), [field], "{body}");
    }
    assert_eq!(app.count("stock_movements"), movements);
    assert_eq!(app.stock(seller, product).await["on_hand"], 10);
}

fn statuses(resp: &Value) -> Vec<(String, Option<i64>)> {
    resp["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["status"].string(), i["available"].as_i64()))
        .collect()
}

#[actix_web::test]
async fn availability_is_public_in_words_and_full_for_the_seller() {
    let app = TestApp::spawn().await;
    let (seller, plenty) = app.stocked_product(50).await;
    let token = app.seller(seller);
    let low = app.create_product(seller, "LOW", "1.00").await["id"].string();
    app.put(
        &format!("/api/v1/inventory/{low}"),
        Some(&token),
        json!({"on_hand": 3, "low_stock_threshold": 5}),
    )
    .await
    .assert_status(200);
    let none = app.create_product(seller, "NONE", "1.00").await["id"].string();
    let hidden = app.create_product(seller, "HID", "1.00").await["id"].string();
    app.delete(&format!("/api/v1/products/{hidden}"), Some(&token))
        .await
        .assert_status(204);
    let missing = Uuid::now_v7();
    let query =
        format!("/api/v1/availability?product_ids={plenty},{low},{none},{hidden},{missing}");
    let public = app.get(&query, None).await;
    public.assert_status(200);
    assert_eq!(
        statuses(&public.body),
        [
            ("in_stock".into(), None),
            ("low_stock".into(), Some(3)),
            ("out_of_stock".into(), None),
            ("unknown".into(), None),
            ("unknown".into(), None)
        ]
    );
    assert!(public.body["items"][0].get("stock").is_none());
    let own = app.get(&query, Some(&token)).await;
    assert_eq!(own.body["items"][0]["available"], 50);
    assert_eq!(own.body["items"][0]["stock"]["on_hand"], 50);
    assert_eq!(own.body["items"][3]["status"], "out_of_stock");
    let other = app.get(&query, Some(&app.seller(Uuid::now_v7()))).await;
    assert!(other.body["items"][0].get("stock").is_none());
    app.get("/api/v1/availability?product_ids=nope", None)
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/availability", None)
        .await
        .assert_problem(400, "invalid_parameter");
}

#[actix_web::test]
async fn a_low_stock_alert_is_raised_once_per_crossing_and_cleared_by_a_restock() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let token = app.seller(seller);
    app.put(
        &format!("/api/v1/inventory/{product}"),
        Some(&token),
        json!({"low_stock_threshold": 5}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.count("stock_alerts"), 0);
    app.reserve(&[(product, 6)]).await.assert_status(201);
    app.reserve(&[(product, 1)]).await.assert_status(201);
    app.reserve(&[(product, 1)]).await.assert_status(201);
    assert_eq!(app.count("stock_alerts"), 1);
    assert_eq!(app.count("outbox"), 1);
    let alerts = app.get("/api/v1/inventory-alerts", Some(&token)).await;
    alerts.assert_status(200);
    let alert = &alerts.body["items"][0];
    assert_eq!(
        (alert["available"].as_i64(), alert["threshold"].as_i64()),
        (Some(4), Some(5))
    );
    let id = alert["id"].str();
    // Others cannot see or acknowledge it.
    let other = app.seller(Uuid::now_v7());
    assert!(
        app.get("/api/v1/inventory-alerts", Some(&other)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.post(
        &format!("/api/v1/inventory-alerts/{id}/acknowledge"),
        Some(&other),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.get("/api/v1/inventory-alerts", Some(&app.customer()))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/inventory-alerts?seller_id={}", Uuid::now_v7()),
        Some(&token),
    )
    .await
    .assert_problem(403, "forbidden");
    let acked = app
        .post(
            &format!("/api/v1/inventory-alerts/{id}/acknowledge"),
            Some(&token),
            json!({}),
        )
        .await;
    acked.assert_status(200);
    assert_eq!(acked.body["status"], "acknowledged");
    app.post(
        &format!("/api/v1/inventory-alerts/{id}/acknowledge"),
        Some(&token),
        json!({}),
    )
    .await
    .assert_problem(409, "alert_not_open");
    // A restock above the threshold clears it; the next crossing raises a new one.
    app.post(
        &format!("/api/v1/inventory/{product}/restocks"),
        Some(&token),
        json!({"quantity": 10}),
    )
    .await
    .assert_status(200);
    let cleared = app
        .get(
            "/api/v1/inventory-alerts?status=cleared",
            Some(&app.support()),
        )
        .await;
    assert_eq!(cleared.body["items"][0]["id"], id);
    assert!(
        app.get("/api/v1/inventory-alerts", Some(&token)).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.reserve(&[(product, 8)]).await.assert_status(201);
    assert_eq!(app.count("stock_alerts"), 2);
    assert_eq!(app.count("outbox"), 2);
}

#[actix_web::test]
async fn another_sellers_hidden_product_is_404_and_a_visible_one_403() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(5).await;
    let intruder = app.seller(app.create_seller().await);
    let paths = [
        format!("/api/v1/inventory/{product}"),
        format!("/api/v1/inventory/{product}/movements"),
    ];
    for path in &paths {
        app.get(path, Some(&intruder))
            .await
            .assert_problem(403, "forbidden");
    }
    app.patch(
        &format!("/api/v1/products/{product}"),
        Some(&app.seller(seller)),
        serde_json::json!({"active": false}),
    )
    .await
    .assert_status(200);
    // Hidden now: its existence does not show, exactly as on the catalog.
    app.get(&format!("/api/v1/products/{product}"), Some(&intruder))
        .await
        .assert_problem(404, "not_found");
    for path in &paths {
        app.get(path, Some(&intruder))
            .await
            .assert_problem(404, "not_found");
    }
    app.put(
        &paths[0],
        Some(&intruder),
        serde_json::json!({"on_hand": 1}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/inventory/{product}/restocks"),
        Some(&intruder),
        serde_json::json!({"quantity": 1}),
    )
    .await
    .assert_problem(404, "not_found");
    // Its own seller still manages it.
    app.get(&paths[0], Some(&app.seller(seller)))
        .await
        .assert_status(200);
}
