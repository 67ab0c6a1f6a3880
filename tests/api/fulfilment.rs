//! After payment: shipping steps, completion on delivery, the actions each
//! caller may take, admin overrides, and the unpaid-order job.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};
use crate::orders::{pago_movil, placed};

fn actions(details: &Value) -> Vec<String> {
    details["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].string())
        .collect()
}

async fn details(app: &TestApp, order: &str, token: &str) -> Value {
    let resp = app
        .get(&format!("/api/v1/orders/{order}"), Some(token))
        .await;
    resp.assert_status(200);
    resp.body.clone()
}

async fn ship(app: &TestApp, order: &str, token: &str, body: Value) -> crate::helpers::Resp {
    app.post(
        &format!("/api/v1/orders/{order}/shipping"),
        Some(token),
        body,
    )
    .await
}

/// Reports and verifies the payment of `order`.
async fn pay(app: &TestApp, order: &str, buyer: &str, seller: &str, reference: &str) {
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(buyer),
        pago_movil(reference),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/orders/{order}/payments/verify"),
        Some(seller),
        json!({}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn an_order_goes_from_cart_to_completed_and_each_caller_sees_its_next_actions() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    let product: Uuid = a.product.parse().unwrap();

    let d = details(&app, &order, &user).await;
    assert_eq!(actions(&d), ["report_payment", "cancel"]);
    assert_eq!(
        d["allowed_actions"][0]["path"],
        format!("/api/v1/orders/{order}/payments")
    );
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "reserved")
    );
    assert_eq!(actions(&details(&app, &order, &seller).await), ["cancel"]);
    assert_eq!(
        actions(&details(&app, &order, &app.admin()).await),
        ["cancel", "override"]
    );
    // Shipping before payment is refused.
    ship(&app, &order, &seller, json!({"status": "preparing"}))
        .await
        .assert_problem(409, "invalid_transition");

    pay(&app, &order, &user, &seller, "5001").await;
    assert!(actions(&details(&app, &order, &user).await).is_empty());
    assert_eq!(
        actions(&details(&app, &order, &seller).await),
        ["cancel", "mark_preparing"]
    );

    // The buyer does not ship; steps cannot be skipped.
    ship(&app, &order, &user, json!({"status": "preparing"}))
        .await
        .assert_problem(403, "forbidden");
    ship(&app, &order, &seller, json!({"status": "shipped"}))
        .await
        .assert_problem(409, "invalid_transition");
    let prepared = ship(&app, &order, &seller, json!({"status": "preparing"})).await;
    prepared.assert_status(200);
    assert_eq!(prepared.body["shipping_status"], "preparing");
    // A courier shipment needs the carrier (defaulting to the option's, unset here) and tracking number.
    let resp = ship(&app, &order, &seller, json!({"status": "shipped"})).await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["carrier", "tracking_number"]);
    ship(
        &app,
        &order,
        &seller,
        json!({"status": "shipped", "carrier": "MRW", "tracking_number": "MRW-1"}),
    )
    .await
    .assert_status(200);
    let d = details(&app, &order, &user).await;
    assert_eq!(
        (d["carrier"].as_str(), d["tracking_number"].as_str()),
        (Some("MRW"), Some("MRW-1"))
    );
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "shipped")
    );
    // Shipped orders are not cancelled any more.
    app.post(
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&seller),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(409, "invalid_transition");
    ship(
        &app,
        &order,
        &seller,
        json!({"status": "in_transit", "tracking_number": "MRW-2"}),
    )
    .await
    .assert_status(200);
    let delivered = ship(&app, &order, &seller, json!({"status": "delivered"})).await;
    delivered.assert_status(200);
    assert_eq!(
        (
            delivered.body["status"].as_str(),
            delivered.body["shipping_status"].as_str()
        ),
        (Some("completed"), Some("delivered"))
    );
    let d = details(&app, &order, &user).await;
    assert_eq!(d["tracking_number"], "MRW-2");
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "delivered")
    );
    assert_eq!(
        actions(&details(&app, &order, &seller).await),
        ["mark_returned"]
    );

    // The timeline endpoint shows every move with who made it.
    let timeline = app
        .get(&format!("/api/v1/orders/{order}/timeline"), Some(&user))
        .await;
    timeline.assert_status(200);
    let moves: Vec<String> = timeline.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e["field"].str(),
                e["to"].str(),
                e["source"].str()
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            "status:pending_payment:buyer",
            "payment_status:pending:buyer",
            "shipping_status:not_shipped:buyer",
            "payment_status:awaiting_verification:buyer",
            "payment_status:paid:seller",
            "status:processing:system",
            "shipping_status:preparing:seller",
            "shipping_status:shipped:seller",
            "shipping_status:in_transit:seller",
            "shipping_status:delivered:seller",
            "status:completed:system",
        ]
    );
    app.get(
        &format!("/api/v1/orders/{order}/timeline"),
        Some(&app.customer()),
    )
    .await
    .assert_problem(404, "not_found");

    // A return needs a reason; the stock stays sold (the seller restocks after inspection).
    ship(&app, &order, &seller, json!({"status": "returned"}))
        .await
        .assert_problem(422, "validation_failed");
    let returned = ship(
        &app,
        &order,
        &seller,
        json!({"status": "returned", "reason": "llegó dañado"}),
    )
    .await;
    assert_eq!(returned.body["shipping_status"], "returned");
    let stock = app.stock(a.seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(8), Some(0))
    );
    app.assert_stock_invariants();
    app.assert_order_invariants();
}

#[actix_web::test]
async fn bad_shipping_requests_are_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    pay(&app, &order, &user, &seller, "6001").await;
    for (body, field) in [
        (json!({"status": "not_shipped"}), "status"),
        (json!({"status": "lost"}), "status"),
        (json!({}), "status"),
        (
            json!({"status": "preparing", "tracking_number": "X"}),
            "tracking_number",
        ),
        (json!({"status": "shipped", "carrier": ""}), "carrier"),
        (json!({"status": "preparing", "colour": "red"}), "colour"),
    ] {
        let resp = ship(&app, &order, &seller, body.clone()).await;
        assert!(matches!(resp.status, 400 | 422), "{body}: {}", resp.text);
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(resp.error_fields(), [field], "{body}: {}", resp.text);
    }
    // Strangers and other sellers see nothing; support may act (operators).
    ship(
        &app,
        &order,
        &app.customer(),
        json!({"status": "preparing"}),
    )
    .await
    .assert_problem(404, "not_found");
    ship(
        &app,
        &order,
        &app.seller(Uuid::now_v7()),
        json!({"status": "preparing"}),
    )
    .await
    .assert_problem(404, "not_found");
    ship(
        &app,
        &Uuid::now_v7().to_string(),
        &seller,
        json!({"status": "preparing"}),
    )
    .await
    .assert_problem(404, "not_found");
    ship(&app, &order, "", json!({"status": "preparing"}))
        .await
        .assert_problem(401, "unauthorized");
    let d = details(&app, &order, &user).await;
    assert_eq!(d["shipping_status"], "not_shipped");
    ship(&app, &order, &app.support(), json!({"status": "preparing"}))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn admins_override_with_a_reason_and_stock_follows() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    let admin = app.admin();
    let product: Uuid = a.product.parse().unwrap();
    let path = format!("/api/v1/orders/{order}/override");
    let paid = json!({"field": "payment_status", "to": "paid", "reason": "confirmado por teléfono con el banco"});
    // Only admins; strangers do not learn the order exists.
    app.post(&path, Some(&seller), paid.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(&app.support()), paid.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(&user), paid.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(&app.customer()), paid.clone())
        .await
        .assert_problem(404, "not_found");
    // A reason and a real value are required.
    let resp = app
        .post(
            &path,
            Some(&admin),
            json!({"field": "payment_status", "to": "paid"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["reason"]);
    let resp = app
        .post(
            &path,
            Some(&admin),
            json!({"field": "payment_status", "to": "gratis", "reason": "x"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["to"]);
    app.post(
        &path,
        Some(&admin),
        json!({"field": "colour", "to": "paid", "reason": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &path,
        Some(&admin),
        json!({"field": "status", "to": "pending_payment", "reason": "x"}),
    )
    .await
    .assert_problem(409, "invalid_transition");

    // Paid by override: the held units are sold.
    let overridden = app.post(&path, Some(&admin), paid.clone()).await;
    overridden.assert_status(200);
    assert_eq!(overridden.body["payment_status"], "paid");
    let stock = app.stock(a.seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(8), Some(0))
    );
    let d = details(&app, &order, &admin).await;
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["source"].as_str(),
            last["reason"].as_str(),
            last["to"].as_str()
        ),
        (
            Some("override"),
            Some("confirmado por teléfono con el banco"),
            Some("paid")
        )
    );
    // Cancelled by override: the sold units return on hand, and it is not reopened.
    app.post(
        &path,
        Some(&admin),
        json!({"field": "status", "to": "cancelled", "reason": "fraude"}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.stock(a.seller, product).await["on_hand"], 10);
    app.post(
        &path,
        Some(&admin),
        json!({"field": "status", "to": "processing", "reason": "error"}),
    )
    .await
    .assert_problem(409, "invalid_transition");
    app.assert_stock_invariants();
    app.assert_order_invariants();
}

fn make_overdue(app: &TestApp, order: &str) {
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(
        "UPDATE orders SET payment_due_at = now() - interval '1 minute' WHERE id = $1::uuid",
    )
    .bind::<diesel::sql_types::Text, _>(order)
    .execute(conn.pg())
    .unwrap();
}

#[actix_web::test]
async fn unpaid_orders_are_cancelled_by_the_job_and_their_stock_released() {
    let app = TestApp::spawn_with(|s| s.run_jobs = true).await;
    let (user, a, overdue) = placed(&app).await;
    let product: Uuid = a.product.parse().unwrap();
    let (user2, b, reported) = placed(&app).await;
    let product_b: Uuid = b.product.parse().unwrap();
    // A payment waiting for verification keeps its order past the window.
    app.post(
        &format!("/api/v1/orders/{reported}/payments"),
        Some(&user2),
        pago_movil("7001"),
    )
    .await
    .assert_status(200);
    assert_eq!(app.stock(a.seller, product).await["reserved"], 2);
    make_overdue(&app, &overdue);
    make_overdue(&app, &reported);
    let mut status = String::new();
    for _ in 0..100 {
        status = details(&app, &overdue, &user).await["status"].string();
        if status == "cancelled" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "cancelled");
    let d = details(&app, &overdue, &user).await;
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["source"].as_str(), last["actor_id"].is_null()),
        (Some("system"), true)
    );
    assert!(actions(&d).is_empty());
    assert_eq!(app.stock(a.seller, product).await["reserved"], 0);
    let waiting = details(&app, &reported, &user2).await;
    assert_eq!(waiting["status"], "pending_payment");
    assert_eq!(app.stock(b.seller, product_b).await["reserved"], 2);
    app.assert_stock_invariants();
    app.assert_order_invariants();
}

#[actix_web::test]
async fn a_rejected_payment_gets_time_to_report_again_and_a_late_payment_takes_the_stock_again() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    let product: Uuid = a.product.parse().unwrap();
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&user),
        pago_movil("8001"),
    )
    .await
    .assert_status(200);
    make_overdue(&app, &order);
    let rejected = app
        .post(
            &format!("/api/v1/orders/{order}/payments/reject"),
            Some(&seller),
            json!({"reason": "monto incompleto"}),
        )
        .await;
    rejected.assert_status(200);
    let due: chrono::DateTime<chrono::Utc> = rejected.body["payment_due_at"].str().parse().unwrap();
    assert!(due > chrono::Utc::now() + chrono::Duration::hours(23));
    // The job leaves it alone.
    {
        let mut conn = app.pool.get().unwrap();
        assert_eq!(
            canasta::orders::service::expire_unpaid(&mut conn, 100).unwrap(),
            0
        );
    }
    // The hold expired meanwhile (say the buyer paid days later): verification takes the units again.
    {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query(
            "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE owner_id = $1::uuid",
        )
        .bind::<diesel::sql_types::Text, _>(&order)
        .execute(conn.pg())
        .unwrap();
        assert_eq!(
            canasta::inventory::service::expire_due(&mut conn, 100).unwrap(),
            1
        );
    }
    assert_eq!(app.stock(a.seller, product).await["reserved"], 0);
    pay(&app, &order, &user, &seller, "8002").await;
    let stock = app.stock(a.seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(8), Some(0))
    );
    app.assert_stock_invariants();
    app.assert_order_invariants();
}
