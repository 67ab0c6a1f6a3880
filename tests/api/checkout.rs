//! Checkout sessions: stock held, choices checked, and a review whose totals
//! add up in both currencies.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

pub struct Shop {
    pub seller: Uuid,
    pub product: String,
    pub courier: String,
}

pub async fn shop(app: &TestApp, price: &str, weight: &str, on_hand: i32) -> Shop {
    let seller = app.create_seller().await;
    let token = app.seller(seller);
    let product = app
        .create_product_with(seller, json!({"sku": "P", "name": "Producto", "category": "home", "price_usd": price, "weight_kg": weight}))
        .await["id"]
        .string();
    app.put(
        &format!("/api/v1/inventory/{product}"),
        Some(&token),
        json!({"on_hand": on_hand}),
    )
    .await
    .assert_status(200);
    let courier = app
        .post(
            &format!("/api/v1/sellers/{seller}/delivery-options"),
            Some(&token),
            json!({"kind": "courier_door", "name": "MRW", "base_cost_usd": "4.00", "per_kg_usd": "0.80", "min_days": 2, "max_days": 4}),
        )
        .await
        .id();
    Shop {
        seller,
        product,
        courier,
    }
}

async fn setup(app: &TestApp) -> (String, String, Shop, Shop) {
    app.post_rate("10").await;
    {
        let mut conn = app.pool.get().unwrap();
        canasta::payments::service::seed_defaults(&mut conn).unwrap();
    }
    let fee = app
        .post(
            "/api/v1/fee-rules",
            Some(&app.admin()),
            json!({"code": "service_fee", "name": "Servicio", "kind": "percent", "amount": "2"}),
        )
        .await
        .status;
    assert!(matches!(fee, 201 | 409), "the fee rule exists once");
    let a = shop(app, "1.25", "1.000", 10).await;
    let b = shop(app, "19.99", "0.200", 10).await;
    let user = app.customer();
    let cart = app.get("/api/v1/carts/me", Some(&user)).await.id();
    for (p, q) in [(&a.product, 2), (&b.product, 1)] {
        app.post(
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            json!({"product_id": p, "quantity": q}),
        )
        .await
        .assert_status(200);
    }
    (user, cart, a, b)
}

fn fields(missing: &Value) -> Vec<String> {
    let mut f: Vec<String> = missing
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].str().split('.').next().unwrap().to_string())
        .collect();
    f.sort();
    f.dedup();
    f
}

#[actix_web::test]
async fn a_checkout_holds_the_stock_and_its_review_adds_up_in_both_currencies() {
    let app = TestApp::spawn().await;
    let (user, cart, a, b) = setup(&app).await;
    let started = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await;
    started.assert_status(201);
    assert_eq!(started.body["ready"], false);
    assert_eq!(
        fields(&started.body["missing"]),
        ["address_id", "deliveries", "payment_method"]
    );
    assert_eq!(
        app.stock(a.seller, a.product.parse().unwrap()).await["reserved"],
        2
    );
    let id = started.id();
    let addr = app
        .post(
            "/api/v1/addresses",
            Some(&user),
            json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
               "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
        )
        .await
        .id();
    let chosen = app
        .patch(
            &format!("/api/v1/checkouts/{id}"),
            Some(&user),
            json!({"address_id": addr, "payment_method": "zelle", "gift_wrap": true, "gift_message": "¡Feliz cumpleaños!",
                   "deliveries": [{"seller_id": a.seller, "option_id": a.courier}, {"seller_id": b.seller, "option_id": b.courier}]}),
        )
        .await;
    chosen.assert_status(200);
    let r = &chosen.body;
    assert_eq!(r["ready"], true, "{}", r["missing"]);
    assert_eq!(r["customization"]["gift_message"], "¡Feliz cumpleaños!");
    // Seller A: 2 x 1.25 = 2.50; MRW 4.00 + 0.80 x 2 kg = 5.60; fee 2% of 2.50 = 0.05;
    // IGTF 3% of 8.15 = 0.2445 -> 0.24; total 8.39.
    let first = r["sellers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seller_id"] == a.seller.to_string())
        .unwrap();
    assert_eq!(first["subtotal"]["usd"], "2.50");
    assert_eq!(first["delivery"]["usd"], "5.60");
    assert_eq!(first["fees"][0]["amount"]["usd"], "0.05");
    assert_eq!(first["surcharge"]["usd"], "0.24");
    assert_eq!(first["total"], json!({"usd": "8.39", "ves": "83.90"}));
    // Every total is the sum of its displayed parts, per seller and overall, in both currencies.
    let d = |v: &Value| v.str().parse::<rust_decimal::Decimal>().unwrap();
    for cur in ["usd", "ves"] {
        let mut overall = rust_decimal::Decimal::ZERO;
        for s in r["sellers"].as_array().unwrap() {
            let fees: rust_decimal::Decimal = s["fees"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| d(&f["amount"][cur]))
                .sum();
            let lines: rust_decimal::Decimal = s["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| d(&l["line_total"][cur]))
                .sum();
            assert_eq!(lines, d(&s["subtotal"][cur]));
            assert_eq!(
                d(&s["subtotal"][cur]) + d(&s["delivery"][cur]) + fees + d(&s["surcharge"][cur]),
                d(&s["total"][cur])
            );
            overall += d(&s["total"][cur]);
        }
        assert_eq!(overall, d(&r["total"][cur]));
    }
    assert_eq!(r["expected_total"], r["total"]);
    // Starting again replaces the checkout: the stock is held once, not twice.
    let again = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await;
    again.assert_status(201);
    assert_eq!(
        app.stock(a.seller, a.product.parse().unwrap()).await["reserved"],
        2
    );
    assert_eq!(
        app.get(&format!("/api/v1/checkouts/{id}"), Some(&user))
            .await
            .body["status"],
        "abandoned"
    );
    app.patch(
        &format!("/api/v1/checkouts/{id}"),
        Some(&user),
        json!({"gift_wrap": false}),
    )
    .await
    .assert_problem(409, "conflict");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn bad_choices_are_named_and_others_cannot_touch_the_checkout() {
    let app = TestApp::spawn().await;
    let (user, cart, a, b) = setup(&app).await;
    let id = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await
        .id();
    let someone_elses = app
        .post(
            "/api/v1/addresses",
            Some(&app.customer()),
            json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
               "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
        )
        .await
        .id();
    let resp = app
        .patch(
            &format!("/api/v1/checkouts/{id}"),
            Some(&user),
            json!({"address_id": someone_elses, "payment_method": "card",
                   "deliveries": [{"seller_id": a.seller, "option_id": b.courier}, {"seller_id": Uuid::now_v7(), "option_id": a.courier}]}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(
        resp.error_fields(),
        [
            "address_id",
            "deliveries[0].option_id",
            "deliveries[1].seller_id",
            "payment_method"
        ]
    );
    app.patch(
        &format!("/api/v1/checkouts/{id}"),
        Some(&user),
        json!({"payment_method": "bitcoin"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(&format!("/api/v1/checkouts/{id}"), Some(&app.customer()))
        .await
        .assert_problem(404, "not_found");
    app.patch(
        &format!("/api/v1/checkouts/{id}"),
        Some(&app.customer()),
        json!({"gift_wrap": true}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        "/api/v1/checkouts",
        Some(&app.customer()),
        json!({"cart_id": cart}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post("/api/v1/checkouts", None, json!({"cart_id": cart}))
        .await
        .assert_problem(401, "unauthorized");
    // An empty cart has nothing to check out.
    let empty = app.customer();
    let empty_cart = app.get("/api/v1/carts/me", Some(&empty)).await.id();
    app.post(
        "/api/v1/checkouts",
        Some(&empty),
        json!({"cart_id": empty_cart}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_checkout_needs_the_stock_and_ends_when_its_hold_ends() {
    let app = TestApp::spawn().await;
    let (user, cart, a, _) = setup(&app).await;
    // Someone else takes the stock after the cart was filled: starting the
    // checkout lowers the cart to what is left and refuses, saying so.
    app.reserve(&[(a.product.parse().unwrap(), 9)])
        .await
        .assert_status(201);
    let refused = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await;
    refused.assert_problem(409, "cart_changed");
    assert!(
        refused.body["detail"].str().contains("2 -> 1"),
        "{}",
        refused.text
    );
    assert_eq!(app.count("checkouts"), 0);
    let cart_now = app.get("/api/v1/carts/me", Some(&user)).await;
    let line = cart_now.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["product_id"] == a.product.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["quantity"], 1);
    // Started again, the checkout holds the lowered cart.
    let started = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await;
    started.assert_status(201);
    let id = started.id();
    assert_eq!(
        app.stock(a.seller, a.product.parse().unwrap()).await["reserved"],
        10
    );
    // The hold ends (here released by an operator; normally by the expiry job).
    let hold: Uuid = {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        canasta::db::schema::checkouts::table
            .find(id.parse::<Uuid>().unwrap())
            .select(canasta::db::schema::checkouts::reservation_id)
            .first(conn.pg())
            .unwrap()
    };
    app.post(
        &format!("/api/v1/reservations/{hold}/release"),
        Some(&app.admin()),
        json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get(&format!("/api/v1/checkouts/{id}"), Some(&user))
            .await
            .body["expired"],
        true
    );
    app.patch(
        &format!("/api/v1/checkouts/{id}"),
        Some(&user),
        json!({"gift_wrap": true}),
    )
    .await
    .assert_problem(409, "checkout_expired");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn only_a_group_carts_owner_checks_it_out() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 10, 10).await;
    let owner = app.customer();
    let group = app
        .post("/api/v1/group-carts", Some(&owner), json!({}))
        .await;
    let id = group.body["cart"]["id"].string();
    let member = app.customer();
    app.post(
        &format!("/api/v1/group-carts/{id}/join"),
        Some(&member),
        json!({"invite_token": group.body["invite_token"]}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/carts/{id}/items"),
        Some(&member),
        json!({"product_id": p, "quantity": 1}),
    )
    .await
    .assert_status(200);
    app.post("/api/v1/checkouts", Some(&member), json!({"cart_id": id}))
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/checkouts", Some(&owner), json!({"cart_id": id}))
        .await
        .assert_status(201);
}

/// A checkout with every choice made; returns (buyer, checkout id, expected total, shops).
pub async fn ready_checkout(app: &TestApp) -> (String, String, Value, Shop, Shop) {
    let (user, cart, a, b) = setup(app).await;
    let id = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await
        .id();
    let addr = app
        .post(
            "/api/v1/addresses",
            Some(&user),
            json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
               "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
        )
        .await
        .id();
    let review = app
        .patch(
            &format!("/api/v1/checkouts/{id}"),
            Some(&user),
            json!({"address_id": addr, "payment_method": "pago_movil",
                   "deliveries": [{"seller_id": a.seller, "option_id": a.courier}, {"seller_id": b.seller, "option_id": b.courier}]}),
        )
        .await;
    assert_eq!(review.body["ready"], true, "{}", review.text);
    let expected = review.body["expected_total"].clone();
    (user, id, expected, a, b)
}

pub async fn place(
    base: &str,
    user: &str,
    id: &str,
    key: Option<&str>,
    expected: &Value,
) -> crate::helpers::Resp {
    let auth = format!("Bearer {user}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    let body = serde_json::to_vec(&json!({"expected_total": expected})).unwrap();
    let url = format!("{base}/api/v1/checkouts/{id}/place");
    crate::helpers::send(
        &crate::helpers::client(),
        awc::http::Method::POST,
        &url,
        &headers,
        body,
    )
    .await
}

#[actix_web::test]
async fn placing_splits_per_seller_freezes_prices_and_converts_the_cart() {
    let app = TestApp::spawn().await;
    let (user, id, expected, a, b) = ready_checkout(&app).await;
    let placed = place(&app.address, &user, &id, Some("key-1"), &expected).await;
    placed.assert_status(201);
    let orders = placed.body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o["number"].str().starts_with("CN-")));
    // Each order announced itself in the outbox, with its number.
    {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Event {
            #[diesel(sql_type = diesel::sql_types::Text)]
            number: String,
        }
        let mut conn = app.pool.get().unwrap();
        let mut announced: Vec<String> = diesel::sql_query(
            "SELECT payload->>'number' AS number FROM outbox WHERE topic = 'order.placed' ORDER BY 1",
        )
        .load::<Event>(conn.pg())
        .unwrap()
        .into_iter()
        .map(|e| e.number)
        .collect();
        let mut numbers: Vec<String> = orders.iter().map(|o| o["number"].string()).collect();
        numbers.sort();
        announced.sort();
        assert_eq!(announced, numbers);
    }
    assert!(
        orders
            .iter()
            .all(|o| o["status"] == "pending_payment" && o["payment_status"] == "pending")
    );
    assert_eq!(placed.body["total"], expected);
    assert_eq!(placed.body["payment"]["method"]["code"], "pago_movil");
    assert_eq!(placed.body["payment"]["amount_due"], expected["ves"]);
    // The stock is now held by the orders, not the checkout; the cart is converted.
    assert_eq!(
        app.stock(a.seller, a.product.parse().unwrap()).await["reserved"],
        2
    );
    assert_eq!(
        app.stock(b.seller, b.product.parse().unwrap()).await["reserved"],
        1
    );
    assert_eq!(
        app.count("reservations WHERE status = 'active' AND owner_type = 'order'"),
        2
    );
    assert_eq!(
        app.count("reservations WHERE status = 'active' AND owner_type = 'checkout'"),
        0
    );
    let fresh = app.get("/api/v1/carts/me", Some(&user)).await;
    assert!(fresh.body["items"].as_array().unwrap().is_empty());
    assert_eq!(app.count("carts WHERE status = 'converted'"), 1);
    // The order's details: lines, frozen money, the opening timeline.
    let order_id = orders[0]["id"].str();
    let details = app
        .get(&format!("/api/v1/orders/{order_id}"), Some(&user))
        .await;
    details.assert_status(200);
    assert_eq!(details.body["timeline"].as_array().unwrap().len(), 3);
    assert_eq!(details.body["address"]["state"], "Miranda");
    assert_eq!(details.body["delivery_option"]["name"], "MRW");
    assert_eq!(
        details.body["delivery"]["usd"],
        orders[0]["delivery"]["usd"]
    );
    let seller_of = details.body["seller_id"].str().parse::<Uuid>().unwrap();
    app.get(
        &format!("/api/v1/orders/{order_id}"),
        Some(&app.seller(seller_of)),
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/orders/{order_id}"), Some(&app.support()))
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/orders/{order_id}"), Some(&app.customer()))
        .await
        .assert_problem(404, "not_found");
    app.get(
        &format!("/api/v1/orders/{order_id}"),
        Some(&app.seller(Uuid::now_v7())),
    )
    .await
    .assert_problem(404, "not_found");
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn retries_and_other_keys_return_the_same_orders_and_a_reused_key_is_refused() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = ready_checkout(&app).await;
    place(&app.address, &user, &id, None, &expected)
        .await
        .assert_problem(428, "precondition_required");
    let first = place(&app.address, &user, &id, Some("k1"), &expected).await;
    first.assert_status(201);
    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].string())
            .collect()
    };
    let retry = place(&app.address, &user, &id, Some("k1"), &expected).await;
    retry.assert_status(200);
    assert_eq!(ids(&retry), ids(&first));
    let other_key = place(&app.address, &user, &id, Some("k2"), &expected).await;
    other_key.assert_status(200);
    assert_eq!(ids(&other_key), ids(&first));
    let mut changed = expected.clone();
    changed["usd"] = json!("1.00");
    place(&app.address, &user, &id, Some("k1"), &changed)
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(app.count("orders"), 2);
}

#[actix_web::test]
async fn a_changed_total_is_refused_with_the_new_review_and_nothing_is_placed() {
    let app = TestApp::spawn().await;
    let (user, id, expected, a, _) = ready_checkout(&app).await;
    app.patch(
        &format!("/api/v1/products/{}", a.product),
        Some(&app.seller(a.seller)),
        json!({"price_usd": "1.50"}),
    )
    .await
    .assert_status(200);
    let refused = place(&app.address, &user, &id, Some("k"), &expected).await;
    refused.assert_problem(409, "total_changed");
    let new_total = refused.body["current"]["expected_total"].clone();
    assert_ne!(new_total, expected);
    assert_eq!(app.count("orders"), 0);
    // The buyer accepts the new total and places with the same key (the refused attempt left no trace).
    place(&app.address, &user, &id, Some("k"), &new_total)
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn an_unready_or_foreign_checkout_is_not_placed() {
    let app = TestApp::spawn().await;
    let (user, cart, _, _) = setup(&app).await;
    let started = app
        .post("/api/v1/checkouts", Some(&user), json!({"cart_id": cart}))
        .await;
    let id = started.id();
    let expected = started.body["expected_total"].clone();
    let resp = place(&app.address, &user, &id, Some("k"), &expected).await;
    resp.assert_problem(422, "validation_failed");
    assert!(resp.error_fields().contains(&"address_id".to_string()));
    place(&app.address, &app.customer(), &id, Some("k"), &expected)
        .await
        .assert_problem(404, "not_found");
    let bad = crate::helpers::send(
        &crate::helpers::client(),
        awc::http::Method::POST,
        &format!("{}/api/v1/checkouts/{id}/place", app.address),
        &[
            ("authorization", format!("Bearer {user}").as_str()),
            ("content-type", "application/json"),
            ("idempotency-key", "k"),
        ],
        serde_json::to_vec(&json!({"expected_total": {"usd": 1.5, "ves": "15"}})).unwrap(),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(app.count("orders"), 0);
}

#[actix_web::test]
async fn twenty_parallel_placements_on_two_instances_give_one_set_of_orders() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = ready_checkout(&app).await;
    let second = app.another_instance();
    let results = futures::future::join_all((0..20).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let key = if i < 10 {
            "same-key".to_string()
        } else {
            format!("key-{i}")
        };
        let (user, id, expected) = (user.clone(), id.clone(), expected.clone());
        async move { place(&base, &user, &id, Some(&key), &expected).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    let first: Vec<Value> = results[0].body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert!(results.iter().all(|r| {
        r.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].clone())
            .collect::<Vec<_>>()
            == first
    }));
    assert_eq!(app.count("orders"), 2);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn a_product_withdrawn_after_the_review_is_named_at_placement_and_nothing_is_placed() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _a, b) = ready_checkout(&app).await;
    let seller_b = app.seller(b.seller);
    let withdrawn = app
        .delete(&format!("/api/v1/products/{}", b.product), Some(&seller_b))
        .await;
    assert!(withdrawn.status < 300, "{}", withdrawn.text);
    // The review names the withdrawn line and asks for a new checkout; nothing is placed.
    let resp = place(&app.address, &user, &id, Some("w"), &expected).await;
    resp.assert_problem(422, "validation_failed");
    assert!(
        resp.error_fields()[0].starts_with("lines."),
        "{}",
        resp.text
    );
    assert_eq!(app.count("orders"), 0);
    app.assert_stock_invariants();
    app.assert_order_invariants();
}

#[actix_web::test]
async fn idempotency_keys_are_forgotten_after_the_retention_and_placement_stays_single() {
    let app = TestApp::spawn().await;
    let (user, id, expected, _, _) = ready_checkout(&app).await;
    let first = place(&app.address, &user, &id, Some("k1"), &expected).await;
    first.assert_status(201);
    assert_eq!(app.count("idempotency_keys"), 1);
    // Within the retention nothing is forgotten.
    let retention = std::time::Duration::from_secs(24 * 3600);
    assert_eq!(
        canasta::jobs::expire_idempotency_keys(&app.pool, retention).await,
        0
    );
    {
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
            .execute(conn.pg())
            .unwrap();
    }
    assert_eq!(
        canasta::jobs::expire_idempotency_keys(&app.pool, retention).await,
        1
    );
    assert_eq!(app.count("idempotency_keys"), 0);
    // The key is free again; the checkout is still placed once.
    let mut changed = expected.clone();
    changed["usd"] = json!("1.00");
    let again = place(&app.address, &user, &id, Some("k1"), &changed).await;
    again.assert_status(200);
    assert_eq!(again.body["orders"], first.body["orders"]);
    assert_eq!(app.count("orders"), 2);
}
