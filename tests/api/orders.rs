//! The order lifecycle after placement: manual payments, verification and
//! rejection, cancellation, and conflicting moves.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::checkout::{Shop, place, ready_checkout};
use crate::helpers::{JsonExt, TestApp};

/// Places a ready checkout paid by Pago Móvil; returns (buyer, shop A, A's order id).
pub async fn placed(app: &TestApp) -> (String, Shop, String) {
    let (user, id, expected, a, _) = ready_checkout(app).await;
    let resp = place(&app.address, &user, &id, Some("k"), &expected).await;
    resp.assert_status(201);
    let order = resp.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["seller_id"] == a.seller.to_string())
        .unwrap()["id"]
        .string();
    (user, a, order)
}

pub fn pago_movil(reference: &str) -> Value {
    json!({"bank": "Banesco", "phone": "0414-1234567", "national_id": "V-12345678", "reference": reference})
}

#[actix_web::test]
async fn a_verified_payment_sells_the_stock_and_moves_the_order_to_processing() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    let product: Uuid = a.product.parse().unwrap();
    app.post(
        &format!("/api/v1/orders/{order}/payments/verify"),
        Some(&seller),
        json!({}),
    )
    .await
    .assert_problem(409, "invalid_transition");
    let reported = app
        .post(
            &format!("/api/v1/orders/{order}/payments"),
            Some(&user),
            pago_movil("0001"),
        )
        .await;
    reported.assert_status(200);
    assert_eq!(reported.body["payment_status"], "awaiting_verification");
    app.post(
        &format!("/api/v1/orders/{order}/payments/verify"),
        Some(&user),
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    let verified = app
        .post(
            &format!("/api/v1/orders/{order}/payments/verify"),
            Some(&seller),
            json!({}),
        )
        .await;
    verified.assert_status(200);
    assert_eq!(
        (
            verified.body["payment_status"].as_str(),
            verified.body["status"].as_str()
        ),
        (Some("paid"), Some("processing"))
    );
    let stock = app.stock(a.seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(8), Some(0))
    );
    let details = app
        .get(&format!("/api/v1/orders/{order}"), Some(&user))
        .await;
    let moves: Vec<(String, String)> = details.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .skip(3)
        .map(|t| (t["field"].str().into(), t["to"].str().into()))
        .collect();
    assert_eq!(
        moves,
        [
            ("payment_status".into(), "awaiting_verification".into()),
            ("payment_status".into(), "paid".into()),
            ("status".into(), "processing".into())
        ]
    );
    assert_eq!(details.body["payments"][0]["status"], "verified");
    // After payment the buyer can no longer cancel; the seller can, with a reason, and the stock returns.
    app.post(
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&user),
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&seller),
        json!({}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&seller),
            json!({"reason": "sin stock real"}),
        )
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(app.stock(a.seller, product).await["on_hand"], 10);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn a_rejected_payment_can_be_reported_again_and_reused_references_are_flagged() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    let resp = app
        .post(
            &format!("/api/v1/orders/{order}/payments"),
            Some(&user),
            json!({"reference": "1"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["bank", "national_id", "phone"]);
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&user),
        pago_movil("0002"),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/orders/{order}/payments/reject"),
        Some(&seller),
        json!({}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let rejected = app
        .post(
            &format!("/api/v1/orders/{order}/payments/reject"),
            Some(&seller),
            json!({"reason": "no llegó"}),
        )
        .await;
    assert_eq!(rejected.body["payment_status"], "failed");
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&user),
        pago_movil("0003"),
    )
    .await
    .assert_status(200);
    // Another order reporting the same reference is accepted but flagged.
    let (user2, _, order2) = placed(&app).await;
    app.post(
        &format!("/api/v1/orders/{order2}/payments"),
        Some(&user2),
        pago_movil("0003"),
    )
    .await
    .assert_status(200);
    let details = app
        .get(&format!("/api/v1/orders/{order2}"), Some(&user2))
        .await;
    assert_eq!(details.body["payments"][0]["duplicate_of"], order.as_str());
    // Strangers see nothing.
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&app.customer()),
        pago_movil("9"),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/orders/{order}/payments/verify"),
        Some(&app.seller(Uuid::now_v7())),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_buyer_cancels_before_payment_and_the_hold_is_released() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let product: Uuid = a.product.parse().unwrap();
    assert_eq!(app.stock(a.seller, product).await["reserved"], 2);
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            Some(&user),
            json!({}),
        )
        .await;
    cancelled.assert_status(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(app.stock(a.seller, product).await["reserved"], 0);
    app.post(
        &format!("/api/v1/orders/{order}/cancel"),
        Some(&user),
        json!({}),
    )
    .await
    .assert_problem(409, "invalid_transition");
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&user),
        pago_movil("1"),
    )
    .await
    .assert_problem(409, "invalid_transition");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn conflicting_moves_at_once_leave_exactly_one_in_the_history() {
    let app = TestApp::spawn().await;
    let (user, a, order) = placed(&app).await;
    let seller = app.seller(a.seller);
    app.post(
        &format!("/api/v1/orders/{order}/payments"),
        Some(&user),
        pago_movil("77"),
    )
    .await
    .assert_status(200);
    let second = app.another_instance();
    let client = crate::helpers::client();
    let calls = (0..10).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let (path, token, body) = if i % 2 == 0 {
            (
                format!("/api/v1/orders/{order}/payments/verify"),
                seller.clone(),
                json!({}),
            )
        } else {
            (
                format!("/api/v1/orders/{order}/cancel"),
                user.clone(),
                json!({}),
            )
        };
        let client = &client;
        async move {
            let auth = format!("Bearer {token}");
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            crate::helpers::send(
                client,
                awc::http::Method::POST,
                &format!("{base}{path}"),
                &headers,
                serde_json::to_vec(&body).unwrap(),
            )
            .await
            .status
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The losers get 409 (the order changed) or 403 (a buyer may not cancel a paid order).
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 403 | 409)),
        "{statuses:?}"
    );
    let details = app
        .get(&format!("/api/v1/orders/{order}"), Some(&user))
        .await;
    let terminal = details.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["field"] == "status" && (t["to"] == "cancelled" || t["to"] == "processing"))
        .count();
    assert_eq!(terminal, 1, "{}", details.body["timeline"]);
    app.assert_stock_invariants();
}

/// The ids of the orders of one placed checkout (two sellers, one buyer).
async fn two_orders(app: &TestApp) -> (String, String, String) {
    let (user, id, expected, _, _) = ready_checkout(app).await;
    let resp = place(&app.address, &user, &id, Some("k"), &expected).await;
    resp.assert_status(201);
    let ids: Vec<String> = resp.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].string())
        .collect();
    (user, ids[0].clone(), ids[1].clone())
}

#[actix_web::test]
async fn one_reference_reported_on_two_orders_at_the_same_moment_is_flagged_once() {
    let app = TestApp::spawn().await;
    let second = app.another_instance();
    for round in 0..5 {
        let (user, a, b) = two_orders(&app).await;
        // The same reference, written two ways, through two instances at once.
        let reference = format!("0045-12{round}4");
        let spaced = format!("0045 12{round}4");
        let auth = format!("Bearer {user}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let client = crate::helpers::client();
        let send = |base: String, order: &str, r: &str| {
            let body = serde_json::to_vec(&pago_movil(r)).unwrap();
            let url = format!("{base}/api/v1/orders/{order}/payments");
            let client = &client;
            let headers = &headers;
            async move {
                crate::helpers::send(client, awc::http::Method::POST, &url, headers, body).await
            }
        };
        let (x, y) = futures::join!(
            send(app.address.clone(), &a, &reference),
            send(second.clone(), &b, &spaced)
        );
        x.assert_status(200);
        y.assert_status(200);
        let flags: Vec<Value> = [&a, &b]
            .iter()
            .map(|o| {
                let mut conn = app.pool.get().unwrap();
                use canasta::db::schema::payment_submissions as p;
                use diesel::prelude::*;
                let id: Uuid = o.parse().unwrap();
                let dup: Option<Uuid> = p::table
                    .filter(p::order_id.eq(id))
                    .select(p::duplicate_of)
                    .first(conn.pg())
                    .unwrap();
                json!(dup)
            })
            .collect();
        let flagged = flags.iter().filter(|f| !f.is_null()).count();
        assert_eq!(flagged, 1, "round {round}: {flags:?}");
        // The flag names the other order.
        let (first, other) = if flags[0].is_null() {
            (&a, &flags[1])
        } else {
            (&b, &flags[0])
        };
        assert_eq!(other, &json!(first));
    }
}

#[actix_web::test]
async fn references_match_without_separators_or_spacing() {
    let app = TestApp::spawn().await;
    let (user, a, b) = two_orders(&app).await;
    app.post(
        &format!("/api/v1/orders/{a}/payments"),
        Some(&user),
        pago_movil("0045-1234"),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/orders/{b}/payments"),
        Some(&user),
        pago_movil(" 00451234 "),
    )
    .await
    .assert_status(200);
    let details = app.get(&format!("/api/v1/orders/{b}"), Some(&user)).await;
    assert_eq!(details.body["payments"][0]["duplicate_of"], a.as_str());
    // What the buyer typed is kept as typed.
    assert_eq!(
        details.body["payments"][0]["details"]["reference"],
        "00451234"
    );
}
