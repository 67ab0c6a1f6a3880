//! Carts: guests and users, snapshots and dual-currency prices, notices,
//! summary with fees, versioned writes, batches, save for later, merge, and
//! idle expiry.

use std::time::Duration;

use awc::http::Method;
use futures::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, Resp, TestApp};

fn lines(cart: &Value) -> Vec<(String, i64)> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["product_id"].string(), i["quantity"].int()))
        .collect()
}

fn sorted(mut v: Vec<(String, i64)>) -> Vec<(String, i64)> {
    v.sort();
    v
}

fn notice_kinds(cart: &Value) -> Vec<String> {
    cart["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].string())
        .collect()
}

async fn add(app: &TestApp, user: &str, cart: &str, product: Uuid, quantity: i64) -> Resp {
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{cart}/items"),
        Some(user),
        None,
        None,
        Some(json!({"product_id": product, "quantity": quantity})),
    )
    .await
}

async fn my_cart(app: &TestApp, user: &str) -> Resp {
    let resp = app.get("/api/v1/carts/me", Some(user)).await;
    resp.assert_status(200);
    resp
}

#[actix_web::test]
async fn a_guest_cart_opens_only_with_its_token() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let resp = app.request(Method::POST, "/api/v1/carts", None, None).await;
    resp.assert_status(201);
    assert_eq!(resp.body["is_guest"], true);
    let token = resp.body["guest_token"].str();
    assert!(token.len() >= 43, "a high-entropy token");
    assert_eq!(resp.header("x-cart-token"), Some(token));
    assert_eq!(resp.header("etag"), Some("\"1\""));
    let id = resp.body["id"].str();
    let path = format!("/api/v1/carts/{id}");
    let read = app
        .cart_call(Method::GET, &path, None, Some(token), None, None)
        .await;
    read.assert_status(200);
    assert!(
        read.body.get("guest_token").is_none(),
        "the token is shown once"
    );
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.cart_call(Method::GET, &path, None, Some("guessed-token"), None, None)
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&app.customer()))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&app.support()))
        .await
        .assert_status(200);
    let stored: i64 =
        app.count("carts WHERE guest_token_hash IS NOT NULL AND guest_token_hash <> ''");
    assert_eq!(stored, 1);
    assert_eq!(
        app.count(&format!("carts WHERE guest_token_hash = '{token}'")),
        0,
        "only the hash is stored"
    );
}

#[actix_web::test]
async fn a_user_has_one_active_cart_across_devices() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let first = app
        .request(Method::POST, "/api/v1/carts", Some(&user), None)
        .await;
    first.assert_status(200);
    let again = app
        .request(Method::POST, "/api/v1/carts", Some(&user), None)
        .await;
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(my_cart(&app, &user).await.body["id"], first.body["id"]);
    // Two devices opening the cart at the same instant still share one cart.
    let other = app.customer();
    let ids: Vec<Value> = join_all((0..6).map(|_| app.get("/api/v1/carts/me", Some(&other))))
        .await
        .into_iter()
        .map(|r| r.body["id"].clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(app.count("carts"), 2);
}

#[actix_web::test]
async fn lines_snapshot_the_product_and_the_summary_adds_up_per_seller_with_fees() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    app.post(
        "/api/v1/fee-rules",
        Some(&app.admin()),
        json!({"code": "service_fee", "name": "Tarifa de servicio", "kind": "percent", "amount": "2"}),
    )
    .await
    .assert_status(201);
    let (_, a) = app.priced_product("1.25", 50, 10).await;
    let (_, b) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, a, 2).await.assert_status(200);
    add(&app, &user, &cart, b, 1).await.assert_status(200);
    let resp = add(&app, &user, &cart, a, 1).await;
    resp.assert_status(200);
    let body = &resp.body;
    assert_eq!(lines(body), [(a.to_string(), 3), (b.to_string(), 1)]);
    let first = &body["items"][0];
    assert!(first["name"].str().starts_with("Product SKU-"));
    assert_eq!(first["unit_price"], json!({"usd": "1.25", "ves": "12.50"}));
    assert_eq!(first["line_total"], json!({"usd": "3.75", "ves": "37.50"}));
    let s = &body["summary"];
    assert_eq!(s["sellers"].as_array().unwrap().len(), 2);
    assert_eq!(s["item_count"], 4);
    assert_eq!(s["subtotal"], json!({"usd": "5.75", "ves": "57.50"}));
    // 2% of 5.75 = 0.115 -> 0.12 USD, 1.20 VES
    assert_eq!(
        s["fees"][0]["amount"],
        json!({"usd": "0.12", "ves": "1.20"})
    );
    assert_eq!(s["total"], json!({"usd": "5.87", "ves": "58.70"}));
    assert_eq!(
        resp.header("etag"),
        Some(format!("\"{}\"", body["version"]).as_str())
    );
}

#[actix_web::test]
async fn quantities_are_checked_against_the_maximum_and_stock_and_bad_input_writes_nothing() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 5, 3).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    let resp = add(&app, &user, &cart, p, 4).await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["quantity"]);
    for q in [0, -1, 10_001] {
        add(&app, &user, &cart, p, q)
            .await
            .assert_problem(422, "validation_failed");
    }
    let resp = add(&app, &user, &cart, Uuid::now_v7(), 1).await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["product_id"]);
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 2}),
    )
    .await
    .assert_status(200);
    let short = add(&app, &user, &cart, p, 3).await;
    short.assert_problem(409, "insufficient_stock");
    assert_eq!(short.body["shortages"][0]["available"], 2);
    let hidden = app.create_product(seller, "HIDDEN", "1.00").await["id"].string();
    app.delete(
        &format!("/api/v1/products/{hidden}"),
        Some(&app.seller(seller)),
    )
    .await
    .assert_status(204);
    add(&app, &user, &cart, hidden.parse().unwrap(), 1)
        .await
        .assert_problem(409, "product_unavailable");
    let after = my_cart(&app, &user).await;
    assert!(lines(&after.body).is_empty());
    assert_eq!(after.body["version"], 1);
    assert_eq!(app.count("cart_items"), 0);
}

#[actix_web::test]
async fn a_price_change_is_a_notice_with_history_until_the_shopper_acts() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, p, 2).await.assert_status(200);
    app.patch(
        &format!("/api/v1/products/{p}"),
        Some(&app.seller(seller)),
        json!({"price_usd": "1.50"}),
    )
    .await
    .assert_status(200);
    let read = my_cart(&app, &user).await;
    assert_eq!(notice_kinds(&read.body), ["price_changed"]);
    let n = &read.body["notices"][0];
    assert_eq!(n["old_price"], json!({"usd": "1.00", "ves": "10.00"}));
    assert_eq!(n["new_price"], json!({"usd": "1.50", "ves": "15.00"}));
    assert_eq!(read.body["items"][0]["unit_price"]["usd"], "1.50");
    assert_eq!(
        read.body["items"][0]["price_history"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(read.body["summary"]["subtotal"]["usd"], "3.00");
    // Still shown on the next read (another device), gone once the shopper acts.
    assert_eq!(
        notice_kinds(&my_cart(&app, &user).await.body),
        ["price_changed"]
    );
    add(&app, &user, &cart, p, 1).await.assert_status(200);
    assert!(notice_kinds(&my_cart(&app, &user).await.body).is_empty());
}

#[actix_web::test]
async fn an_exchange_rate_change_reprices_the_ves_side_with_a_notice() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, p, 1).await.assert_status(200);
    let later = (chrono::Utc::now() + chrono::Duration::milliseconds(1)).to_rfc3339();
    app.post(
        "/api/v1/exchange-rates",
        Some(&app.admin()),
        json!({"rate": "12.5", "source": "bcv", "effective_at": later}),
    )
    .await
    .assert_status(201);
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    let read = my_cart(&app, &user).await;
    assert_eq!(notice_kinds(&read.body), ["price_changed"]);
    assert_eq!(
        read.body["notices"][0]["new_price"],
        json!({"usd": "2.00", "ves": "25.00"})
    );
    assert_eq!(read.body["summary"]["total"]["ves"], "25.00");
    assert_eq!(read.body["exchange_rate"]["rate"], "12.5");
}

#[actix_web::test]
async fn stock_and_availability_changes_are_reported_not_applied_silently() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let (seller2, q) = app.priced_product("3.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, p, 5).await.assert_status(200);
    add(&app, &user, &cart, q, 1).await.assert_status(200);
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 3, "low_stock_threshold": 5}),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/api/v1/sellers/{seller2}"),
        Some(&app.admin()),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    let read = my_cart(&app, &user).await;
    assert_eq!(
        notice_kinds(&read.body),
        ["quantity_reduced", "low_stock", "product_unavailable"]
    );
    assert_eq!(read.body["notices"][0]["from_quantity"], 5);
    assert_eq!(read.body["notices"][0]["to_quantity"], 3);
    assert_eq!(lines(&read.body), [(p.to_string(), 3), (q.to_string(), 1)]);
    assert_eq!(read.body["items"][1]["counted"], false);
    assert_eq!(read.body["summary"]["subtotal"]["usd"], "3.00");
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 0}),
    )
    .await
    .assert_status(200);
    let read = my_cart(&app, &user).await;
    assert!(notice_kinds(&read.body).contains(&"out_of_stock".to_string()));
    assert_eq!(read.body["summary"]["subtotal"]["usd"], "0.00");
}

#[actix_web::test]
async fn a_quantity_reduction_stays_noticed_until_the_shoppers_own_next_write() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let (_, q) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, p, 5).await.assert_status(200);
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 3}),
    )
    .await
    .assert_status(200);
    // An operator reads first (and so lowers the line); another read follows.
    let by_operator = app
        .get(&format!("/api/v1/carts/{cart}"), Some(&app.support()))
        .await;
    by_operator.assert_status(200);
    assert_eq!(notice_kinds(&by_operator.body), ["quantity_reduced"]);
    app.get(&format!("/api/v1/carts/{cart}"), Some(&app.admin()))
        .await
        .assert_status(200);
    // The shopper still sees what happened, on every read until they act.
    for _ in 0..2 {
        let read = my_cart(&app, &user).await;
        assert_eq!(notice_kinds(&read.body), ["quantity_reduced"]);
        assert_eq!(read.body["notices"][0]["from_quantity"], 5);
        assert_eq!(read.body["notices"][0]["to_quantity"], 3);
        assert_eq!(lines(&read.body), [(p.to_string(), 3)]);
    }
    // The shopper's own write acknowledges it.
    let written = add(&app, &user, &cart, q, 1).await;
    written.assert_status(200);
    assert!(notice_kinds(&written.body).is_empty(), "{}", written.text);
    assert!(notice_kinds(&my_cart(&app, &user).await.body).is_empty());
}

#[actix_web::test]
async fn a_stale_if_match_is_412_with_the_current_cart_and_no_update_is_lost() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 20).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await;
    let id = cart.id();
    let etag = cart.header("etag").unwrap().to_string();
    let added = add(&app, &user, &id, p, 1).await;
    let item = added.body["items"][0]["id"].string();
    let etag_now = added.header("etag").unwrap().to_string();
    let path = format!("/api/v1/carts/{id}/items/{item}");
    let stale = app
        .cart_call(
            Method::PATCH,
            &path,
            Some(&user),
            None,
            Some(&etag),
            Some(json!({"quantity": 5})),
        )
        .await;
    stale.assert_problem(412, "version_conflict");
    assert_eq!(stale.body["current"]["items"][0]["quantity"], 1);
    assert_eq!(stale.header("etag"), Some(etag_now.as_str()));
    app.cart_call(
        Method::PATCH,
        &path,
        Some(&user),
        None,
        Some("garbage"),
        Some(json!({"quantity": 5})),
    )
    .await
    .assert_problem(400, "invalid_parameter");
    // Two devices send a change based on the same version at once: one wins, one gets 412.
    let both = join_all([3, 7].map(|q| {
        app.cart_call(
            Method::PATCH,
            &path,
            Some(&user),
            None,
            Some(&etag_now),
            Some(json!({"quantity": q})),
        )
    }))
    .await;
    let mut statuses: Vec<u16> = both.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let winner = both.iter().find(|r| r.status == 200).unwrap();
    assert_eq!(
        my_cart(&app, &user).await.body["items"][0]["quantity"],
        winner.body["items"][0]["quantity"]
    );
    // Without If-Match the write applies to the latest version.
    app.cart_call(
        Method::PATCH,
        &path,
        Some(&user),
        None,
        None,
        Some(json!({"quantity": 2})),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn a_batch_applies_all_operations_or_none() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 10).await;
    let (_, q) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let id = my_cart(&app, &user).await.id();
    let path = format!("/api/v1/carts/{id}/batch");
    let call =
        |body: Value| app.cart_call(Method::POST, &path, Some(&user), None, None, Some(body));
    let bad = call(json!({"operations": [{"op": "add", "product_id": p, "quantity": 1}, {"op": "add", "product_id": q, "quantity": 0}]})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["operations[1].quantity"]);
    let too_much = call(json!({"operations": [{"op": "add", "product_id": p, "quantity": 1}, {"op": "add", "product_id": q, "quantity": 11}]})).await;
    too_much.assert_problem(422, "validation_failed");
    assert_eq!(too_much.error_fields(), ["operations[1].quantity"]);
    call(json!({"operations": [{"op": "add", "product_id": p, "quantity": 1}, {"op": "remove", "item_id": Uuid::now_v7()}]}))
        .await
        .assert_problem(404, "not_found");
    call(json!({"operations": [{"op": "explode"}]}))
        .await
        .assert_problem(422, "validation_failed");
    call(json!({"operations": []}))
        .await
        .assert_problem(422, "validation_failed");
    let many: Vec<Value> = (0..51)
        .map(|_| json!({"op": "add", "product_id": p, "quantity": 1}))
        .collect();
    call(json!({"operations": many}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(app.count("cart_items"), 0);
    let ok = call(json!({"operations": [
        {"op": "add", "product_id": p, "quantity": 2},
        {"op": "add", "product_id": q, "quantity": 1},
        {"op": "add", "product_id": p, "quantity": 1}
    ]}))
    .await;
    ok.assert_status(200);
    assert_eq!(lines(&ok.body), [(p.to_string(), 3), (q.to_string(), 1)]);
    let item = ok.body["items"][1]["id"].str();
    let ok = call(json!({"operations": [{"op": "set_quantity", "item_id": item, "quantity": 4}, {"op": "save_for_later", "item_id": item}]})).await;
    assert_eq!(ok.body["saved_items"][0]["quantity"], 4);
}

#[actix_web::test]
async fn saved_lines_leave_the_totals_and_come_back_subject_to_stock() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let user = app.customer();
    let id = my_cart(&app, &user).await.id();
    let item = add(&app, &user, &id, p, 4).await.body["items"][0]["id"].string();
    let saved = app
        .cart_call(
            Method::POST,
            &format!("/api/v1/carts/{id}/items/{item}/save-for-later"),
            Some(&user),
            None,
            None,
            None,
        )
        .await;
    saved.assert_status(200);
    assert!(saved.body["items"].as_array().unwrap().is_empty());
    assert_eq!(saved.body["saved_items"][0]["id"], item.as_str());
    assert_eq!(saved.body["summary"]["subtotal"]["usd"], "0.00");
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 2}),
    )
    .await
    .assert_status(200);
    let back = format!("/api/v1/carts/{id}/items/{item}/move-to-cart");
    app.cart_call(Method::POST, &back, Some(&user), None, None, None)
        .await
        .assert_problem(409, "insufficient_stock");
    app.put(
        &format!("/api/v1/inventory/{p}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 20}),
    )
    .await
    .assert_status(200);
    let moved = app
        .cart_call(Method::POST, &back, Some(&user), None, None, None)
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["summary"]["subtotal"]["usd"], "4.00");
    let cleared = app
        .cart_call(
            Method::DELETE,
            &format!("/api/v1/carts/{id}/items"),
            Some(&user),
            None,
            None,
            None,
        )
        .await;
    assert!(cleared.body["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn nobody_else_reads_or_writes_a_users_cart() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 10).await;
    let owner = app.customer();
    let id = my_cart(&app, &owner).await.id();
    let item = add(&app, &owner, &id, p, 1).await.body["items"][0]["id"].string();
    let intruder = app.customer();
    add(&app, &intruder, &id, p, 1)
        .await
        .assert_problem(404, "not_found");
    app.cart_call(
        Method::DELETE,
        &format!("/api/v1/carts/{id}/items/{item}"),
        Some(&intruder),
        None,
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.cart_call(
        Method::DELETE,
        &format!("/api/v1/carts/{id}/items/{item}"),
        Some(&app.support()),
        None,
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{id}/items"),
        None,
        None,
        None,
        Some(json!({"product_id": p, "quantity": 1})),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(
        lines(&my_cart(&app, &owner).await.body),
        [(p.to_string(), 1)]
    );
}

#[actix_web::test]
async fn merging_counts_both_carts_soft_holds_as_available_to_the_merge() {
    let app = TestApp::spawn_with(|s| s.cart_hold = Some(Duration::from_secs(600))).await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 10, 10).await;
    let user = app.customer();
    let mine = my_cart(&app, &user).await.id();
    add(&app, &user, &mine, p, 4).await.assert_status(200);
    let (guest, token) = app.guest_cart().await;
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{guest}/items"),
        None,
        Some(&token),
        None,
        Some(json!({"product_id": p, "quantity": 5})),
    )
    .await
    .assert_status(200);
    assert_eq!(app.stock(seller, p).await["available"], 1);
    let merged = app
        .post(
            "/api/v1/carts/merge",
            Some(&user),
            json!({"guest_cart_id": guest, "guest_token": token}),
        )
        .await;
    merged.assert_status(200);
    // 4 + 5 of the 10: nothing lost, nothing capped.
    assert_eq!(lines(&merged.body["cart"]), [(p.to_string(), 9)]);
    assert_eq!(merged.body["adjustments"], json!([]));
    let stock = app.stock(seller, p).await;
    assert_eq!(
        (stock["reserved"].as_i64(), stock["available"].as_i64()),
        (Some(9), Some(1))
    );
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn merging_respects_the_cart_line_limit_and_reports_what_did_not_fit() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let seller = app.create_seller().await;
    let user = app.customer();
    let mine = my_cart(&app, &user).await.id();
    // Fill the user's cart to the line limit in one batch.
    let mut ops = vec![];
    for i in 0..canasta::carts::service::MAX_LINES {
        let product = app.create_product(seller, &format!("L{i}"), "1.00").await["id"].clone();
        app.put(
            &format!("/api/v1/inventory/{}", product.str()),
            Some(&app.seller(seller)),
            json!({"on_hand": 10}),
        )
        .await
        .assert_status(200);
        ops.push(json!({"op": "add", "product_id": product, "quantity": 1}));
    }
    for chunk in ops.chunks(50) {
        app.post(
            &format!("/api/v1/carts/{mine}/batch"),
            Some(&user),
            json!({"operations": chunk}),
        )
        .await
        .assert_status(200);
    }
    let (_, extra) = app.priced_product("2.00", 10, 10).await;
    let (guest, token) = app.guest_cart().await;
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{guest}/items"),
        None,
        Some(&token),
        None,
        Some(json!({"product_id": extra, "quantity": 2})),
    )
    .await
    .assert_status(200);
    let merged = app
        .post(
            "/api/v1/carts/merge",
            Some(&user),
            json!({"guest_cart_id": guest, "guest_token": token}),
        )
        .await;
    merged.assert_status(200);
    assert_eq!(
        merged.body["adjustments"],
        json!([{"product_id": extra, "requested": 2, "merged_quantity": 0, "reason": "line_limit"}])
    );
    assert_eq!(
        merged.body["cart"]["items"].as_array().unwrap().len(),
        canasta::carts::service::MAX_LINES
    );
}

#[actix_web::test]
async fn merging_a_guest_cart_adds_up_caps_and_reports_and_is_harmless_twice() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, a) = app.priced_product("1.00", 50, 3).await;
    let (_, b) = app.priced_product("2.00", 50, 10).await;
    let (guest, token) = app.guest_cart().await;
    for (product, q) in [(a, 2), (b, 1)] {
        app.cart_call(
            Method::POST,
            &format!("/api/v1/carts/{guest}/items"),
            None,
            Some(&token),
            None,
            Some(json!({"product_id": product, "quantity": q})),
        )
        .await
        .assert_status(200);
    }
    let user = app.customer();
    let mine = my_cart(&app, &user).await.id();
    add(&app, &user, &mine, a, 2).await.assert_status(200);
    let body = json!({"guest_cart_id": guest, "guest_token": token});
    let merged = app
        .post("/api/v1/carts/merge", Some(&user), body.clone())
        .await;
    merged.assert_status(200);
    assert_eq!(
        sorted(lines(&merged.body["cart"])),
        sorted(vec![(a.to_string(), 3), (b.to_string(), 1)])
    );
    assert_eq!(
        merged.body["adjustments"],
        json!([{"product_id": a, "requested": 4, "merged_quantity": 3, "reason": "max_per_order"}])
    );
    assert_eq!(merged.body["already_merged"], false);
    // The guest token no longer opens or changes the guest cart.
    app.cart_call(
        Method::GET,
        &format!("/api/v1/carts/{guest}"),
        None,
        Some(&token),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let again = app
        .post("/api/v1/carts/merge", Some(&user), body.clone())
        .await;
    again.assert_status(200);
    assert_eq!(again.body["already_merged"], true);
    assert_eq!(
        sorted(lines(&again.body["cart"])),
        sorted(vec![(a.to_string(), 3), (b.to_string(), 1)])
    );
    // Another user cannot merge it; a wrong token is 404; no token is 401.
    app.post("/api/v1/carts/merge", Some(&app.customer()), body.clone())
        .await
        .assert_problem(404, "not_found");
    let (guest2, _) = app.guest_cart().await;
    app.post(
        "/api/v1/carts/merge",
        Some(&user),
        json!({"guest_cart_id": guest2, "guest_token": "wrong"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post("/api/v1/carts/merge", None, body)
        .await
        .assert_problem(401, "unauthorized");
}

#[actix_web::test]
async fn idle_carts_are_abandoned_or_expired_by_the_job_and_users_get_theirs_back() {
    let app = TestApp::spawn_with(|s| {
        s.run_jobs = true;
        s.cart_idle = Duration::from_millis(300);
    })
    .await;
    let user = app.customer();
    let mine = my_cart(&app, &user).await.body["id"].clone();
    let (guest, token) = app.guest_cart().await;
    let mut statuses = (0, 0);
    for _ in 0..60 {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        statuses = (
            app.count("carts WHERE status = 'abandoned'"),
            app.count("carts WHERE status = 'expired'"),
        );
        if statuses == (1, 1) {
            break;
        }
    }
    assert_eq!(statuses, (1, 1));
    app.cart_call(
        Method::GET,
        &format!("/api/v1/carts/{guest}"),
        None,
        Some(&token),
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let back = my_cart(&app, &user).await;
    assert_eq!(back.body["id"], mine);
    assert_eq!(back.body["status"], "active");
}

/// Reads an event stream until `needle` appears (or 10 s pass).
async fn read_until(
    stream: &mut awc::ClientResponse<
        impl futures::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
    >,
    seen: &mut String,
    needle: &str,
) -> bool {
    use futures::StreamExt;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match actix_web::rt::time::timeout(left, stream.next()).await {
            Ok(Some(Ok(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return false,
        }
    }
    true
}

#[actix_web::test]
async fn the_event_stream_reports_changes_made_through_another_instance() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    let item = add(&app, &user, &cart, p, 1).await.body["items"][0]["id"].string();
    let client = crate::helpers::client();
    let mut stream = client
        .get(format!("{}/api/v1/carts/{cart}/events", app.address))
        .insert_header(("authorization", format!("Bearer {user}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(
        stream.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut seen = String::new();
    assert!(
        read_until(&mut stream, &mut seen, "event: cart\n").await,
        "{seen}"
    );

    let other = app.another_instance();
    let send = |method: Method, path: String, token: String, body: Value| {
        let other = other.clone();
        async move { crate::helpers::send_json_to(&other, method, &path, &token, &body).await }
    };
    send(
        Method::PATCH,
        format!("/api/v1/carts/{cart}/items/{item}"),
        user.clone(),
        json!({"quantity": 4}),
    )
    .await
    .assert_status(200);
    assert!(
        read_until(&mut stream, &mut seen, "event: cart_changed").await,
        "{seen}"
    );
    send(
        Method::PATCH,
        format!("/api/v1/products/{p}"),
        app.seller(seller),
        json!({"price_usd": "1.10"}),
    )
    .await
    .assert_status(200);
    assert!(
        read_until(&mut stream, &mut seen, "\"reason\":\"product\"").await,
        "{seen}"
    );
    send(
        Method::POST,
        "/api/v1/exchange-rates".into(),
        app.admin(),
        json!({"rate": "11", "source": "bcv"}),
    )
    .await
    .assert_status(201);
    assert!(
        read_until(&mut stream, &mut seen, "\"reason\":\"exchange_rate\"").await,
        "{seen}"
    );
}

#[actix_web::test]
async fn safety_stock_sellers_and_scheduled_rates_make_carts_stale_when_they_take_effect() {
    let app = TestApp::spawn_with(|s| s.run_jobs = true).await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 50, 10).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await.id();
    add(&app, &user, &cart, p, 2).await.assert_status(200);
    let client = crate::helpers::client();
    let mut stream = client
        .get(format!("{}/api/v1/carts/{cart}/events", app.address))
        .insert_header(("authorization", format!("Bearer {user}")))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    assert!(read_until(&mut stream, &mut seen, "event: cart\n").await);
    // Through a second instance, as a load balancer would send them.
    let other = app.another_instance();
    let admin = app.admin();
    let call = |method: Method, path: String, body: Value| {
        let (other, admin) = (other.clone(), admin.clone());
        async move { crate::helpers::send_json_to(&other, method, &path, &admin, &body).await }
    };
    call(
        Method::PUT,
        format!("/api/v1/inventory/{p}"),
        json!({"safety_stock": 50}),
    )
    .await
    .assert_status(200);
    assert!(
        read_until(&mut stream, &mut seen, "\"reason\":\"product\"").await,
        "{seen}"
    );
    call(
        Method::PATCH,
        format!("/api/v1/sellers/{seller}"),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    assert!(
        read_until(&mut stream, &mut seen, "\"reason\":\"seller\"").await,
        "{seen}"
    );
    // A rate scheduled two seconds ahead: nothing at posting, an event when it applies.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    seen.clear();
    call(
        Method::POST,
        "/api/v1/exchange-rates".into(),
        json!({"rate": "12", "effective_at": at, "source": "bcv"}),
    )
    .await
    .assert_status(201);
    let posted = std::time::Instant::now();
    assert!(
        read_until(&mut stream, &mut seen, "\"reason\":\"exchange_rate\"").await,
        "{seen}"
    );
    assert!(
        posted.elapsed() >= Duration::from_millis(1500),
        "announced before it took effect: {seen}"
    );
    assert_eq!(app.count("exchange_rates WHERE announced_at IS NULL"), 0);
}

#[actix_web::test]
async fn a_browser_opens_the_stream_with_a_single_use_ticket_instead_of_headers() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (guest, token) = app.guest_cart().await;
    let other_cart = my_cart(&app, &app.customer()).await.id();
    // Only whoever may read the cart gets a ticket.
    let path = format!("/api/v1/carts/{guest}/events/tickets");
    app.post(&path, None, json!({}))
        .await
        .assert_problem(404, "not_found");
    app.cart_call(Method::POST, &path, Some(&app.customer()), None, None, None)
        .await
        .assert_problem(404, "not_found");
    let issued = app
        .cart_call(Method::POST, &path, None, Some(&token), None, None)
        .await;
    issued.assert_status(201);
    let ticket = issued.body["ticket"].string();
    assert_eq!(
        issued.body["url"],
        format!("/api/v1/carts/{guest}/events?ticket={ticket}")
    );
    // Not for another cart, and it does not leak which carts exist.
    app.get(
        &format!("/api/v1/carts/{other_cart}/events?ticket={ticket}"),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // No header at all, as EventSource sends it.
    let client = crate::helpers::client();
    let url = format!("{}{}", app.address, issued.body["url"].str());
    let mut stream = client.get(&url).send().await.unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    let mut seen = String::new();
    assert!(
        read_until(&mut stream, &mut seen, "event: cart\n").await,
        "{seen}"
    );
    drop(stream);
    // Single use.
    app.get(
        &format!("/api/v1/carts/{guest}/events?ticket={ticket}"),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    // Expired tickets do not work either.
    let late = app
        .cart_call(Method::POST, &path, None, Some(&token), None, None)
        .await;
    {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query(
            "UPDATE cart_stream_tickets SET expires_at = now() - interval '1 second'",
        )
        .execute(conn.pg())
        .unwrap();
    }
    app.get(
        &format!(
            "/api/v1/carts/{guest}/events?ticket={}",
            late.body["ticket"].str()
        ),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn the_event_stream_is_only_for_the_carts_owner() {
    let app = TestApp::spawn().await;
    let owner = app.customer();
    let cart = my_cart(&app, &owner).await.id();
    app.get(
        &format!("/api/v1/carts/{cart}/events"),
        Some(&app.customer()),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/carts/{cart}/events"), None)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn with_soft_holds_on_cart_lines_keep_their_units_until_they_go() {
    let app = TestApp::spawn_with(|s| s.cart_hold = Some(Duration::from_secs(600))).await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 5, 10).await;
    let (a, b) = (app.customer(), app.customer());
    let cart_a = my_cart(&app, &a).await.id();
    let cart_b = my_cart(&app, &b).await.id();
    let added = add(&app, &a, &cart_a, p, 3).await;
    added.assert_status(200);
    let stock = app.stock(seller, p).await;
    assert_eq!(
        (stock["reserved"].as_i64(), stock["available"].as_i64()),
        (Some(3), Some(2))
    );
    add(&app, &b, &cart_b, p, 3)
        .await
        .assert_problem(409, "insufficient_stock");
    // The holder's own view counts its hold as available: no false notices.
    let mine = my_cart(&app, &a).await;
    assert!(
        notice_kinds(&mine.body)
            .iter()
            .all(|k| k != "quantity_reduced" && k != "out_of_stock"),
        "{}",
        mine.body
    );
    assert_eq!(mine.body["items"][0]["counted"], true);
    let item = added.body["items"][0]["id"].string();
    app.patch(
        &format!("/api/v1/carts/{cart_a}/items/{item}"),
        Some(&a),
        json!({"quantity": 1}),
    )
    .await
    .assert_status(200);
    add(&app, &b, &cart_b, p, 3).await.assert_status(200);
    assert_eq!(app.stock(seller, p).await["reserved"], 4);
    app.delete(&format!("/api/v1/carts/{cart_a}/items/{item}"), Some(&a))
        .await
        .assert_status(200);
    assert_eq!(app.stock(seller, p).await["reserved"], 3);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn soft_holds_end_when_the_cart_goes_idle() {
    let app = TestApp::spawn_with(|s| {
        s.cart_hold = Some(Duration::from_secs(600));
        s.run_jobs = true;
        s.cart_idle = Duration::from_millis(500);
    })
    .await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.00", 5, 10).await;
    let (guest, token) = app.guest_cart().await;
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{guest}/items"),
        None,
        Some(&token),
        None,
        Some(json!({"product_id": p, "quantity": 2})),
    )
    .await
    .assert_status(200);
    assert_eq!(app.stock(seller, p).await["reserved"], 2);
    let mut reserved = 2;
    for _ in 0..50 {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        reserved = app.stock(seller, p).await["reserved"].int();
        if reserved == 0 {
            break;
        }
    }
    assert_eq!(reserved, 0);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn placing_the_checkout_tells_the_carts_watchers_its_new_version() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = crate::checkout::ready_checkout(&app).await;
    let checkout = app
        .get(&format!("/api/v1/checkouts/{id}"), Some(&user))
        .await;
    let cart = checkout.body["cart_id"].string();
    let version = app.get("/api/v1/carts/me", Some(&user)).await.body["version"].int();
    let client = crate::helpers::client();
    let mut stream = client
        .get(format!("{}/api/v1/carts/{cart}/events", app.address))
        .insert_header(("authorization", format!("Bearer {user}")))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    assert!(read_until(&mut stream, &mut seen, "event: cart\n").await);
    // Placed through another instance: the conversion's event is spelled in
    // SQL by `events::PublishCartRow` and must read as `Event::Cart`.
    crate::checkout::place(&app.another_instance(), &user, &id, Some("k"), &expected)
        .await
        .assert_status(201);
    let changed = format!("{{\"cart_id\":\"{cart}\",\"version\":{}}}", version + 1);
    assert!(read_until(&mut stream, &mut seen, &changed).await, "{seen}");
    assert_eq!(app.count("carts WHERE status = 'converted'"), 1);
}

/// Every operation the committed document says takes `If-Match` (so a new
/// one is covered without editing this test): sent with a stale version it
/// is 412 `version_conflict` with the cart as it is now in `current` and its
/// `ETag`, and it changes nothing.
#[actix_web::test]
async fn every_if_match_operation_refuses_a_stale_version_with_the_current_cart() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 20).await;
    let user = app.customer();
    let cart = my_cart(&app, &user).await;
    let id = cart.id();
    let stale = cart.header("etag").unwrap().to_string();
    let added = add(&app, &user, &id, p, 2).await;
    let item = added.body["items"][0]["id"].string();
    let now = added.header("etag").unwrap().to_string();
    let version = added.body["version"].clone();
    let body_for = |schema: &str| match schema {
        "AddItemRequest" => Some(json!({"product_id": p, "quantity": 1})),
        "UpdateItemRequest" => Some(json!({"quantity": 3})),
        "MoveToWishlistRequest" => Some(json!({})),
        "BatchRequest" => Some(json!({"operations": [{"op": "remove", "item_id": item}]})),
        "" => None,
        other => panic!("no body for {other}: add one here"),
    };
    let mut seen = 0;
    let paths = crate::contract::spec()["paths"].as_object().unwrap();
    for (template, item_ops) in paths {
        for (method, op) in item_ops.as_object().unwrap() {
            let takes_if_match = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            if !takes_if_match {
                continue;
            }
            seen += 1;
            let path = template
                .replace("{cart_id}", &id)
                .replace("{item_id}", &item);
            let schema = op
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .map_or("", |r| r.rsplit('/').next().unwrap());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let refused = app
                .cart_call(
                    method,
                    &path,
                    Some(&user),
                    None,
                    Some(&stale),
                    body_for(schema),
                )
                .await;
            refused.assert_problem(412, "version_conflict");
            assert_eq!(refused.body["current"]["version"], version, "{template}");
            assert_eq!(refused.header("etag"), Some(now.as_str()), "{template}");
            let after = my_cart(&app, &user).await;
            assert_eq!(
                after.body["version"], version,
                "{template} changed the cart"
            );
            assert_eq!(after.body["items"][0]["quantity"], 2, "{template}");
        }
    }
    assert_eq!(seen, 8, "the cart's conditional writes");
}
