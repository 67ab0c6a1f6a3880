//! Delivery options as data, and delivery quotes for a cart and an address.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

fn address(state: &str, municipality: &str) -> Value {
    json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567", "state": state,
           "municipality": municipality, "city": "Caracas", "line1": "Calle 1"})
}

#[actix_web::test]
async fn sellers_manage_their_options_and_anyone_lists_them() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let path = format!("/api/v1/sellers/{seller}/delivery-options");
    let body = json!({"kind": "local_delivery", "name": "Delivery Caracas", "base_cost_usd": "2.00", "per_kg_usd": "0.50",
                      "states": ["distrito capital"], "municipalities": ["Libertador"], "min_days": 0, "max_days": 1});
    let created = app
        .post(&path, Some(&app.seller(seller)), body.clone())
        .await;
    created.assert_status(201);
    assert_eq!(created.body["states"], json!(["Distrito Capital"]));
    app.post(&path, Some(&app.seller(Uuid::now_v7())), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(&app.customer()), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, None, body)
        .await
        .assert_problem(401, "unauthorized");
    let list = app.get(&path, None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let id = created.body["id"].str();
    let off = app
        .patch(
            &format!("/api/v1/delivery-options/{id}"),
            Some(&app.seller(seller)),
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.body["active"], false);
    assert!(
        app.get(&path, None).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.patch(
        &format!("/api/v1/delivery-options/{id}"),
        Some(&app.seller(Uuid::now_v7())),
        json!({"active": true}),
    )
    .await
    .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn invalid_options_name_every_bad_field() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let path = format!("/api/v1/sellers/{seller}/delivery-options");
    let resp = app
        .post(&path, Some(&app.seller(seller)), json!({"kind": "pickup"}))
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(
        resp.error_fields(),
        ["base_cost_usd", "max_days", "min_days", "name"]
    );
    let resp = app
        .post(&path, Some(&app.seller(seller)), json!({"kind": "courier_door", "name": "MRW", "base_cost_usd": "-1", "per_kg_usd": "0.001",
                                                       "states": ["Narnia"], "min_days": 5, "max_days": 2}))
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(
        resp.error_fields(),
        ["base_cost_usd", "max_days", "per_kg_usd", "states[0]"]
    );
    app.post(&path, Some(&app.seller(seller)), json!({"kind": "teleport", "name": "x", "base_cost_usd": "1", "min_days": 0, "max_days": 0}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(app.count("delivery_options"), 0);
}

#[actix_web::test]
async fn a_quote_prices_each_sellers_options_that_reach_the_address() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let seller = app.create_seller().await;
    let product = app
        .create_product_with(seller, json!({"sku": "P1", "name": "Caja", "category": "home", "price_usd": "10.00", "weight_kg": "2.000"}))
        .await["id"]
        .string();
    app.put(
        &format!("/api/v1/inventory/{product}"),
        Some(&app.seller(seller)),
        json!({"on_hand": 10}),
    )
    .await
    .assert_status(200);
    let opts = format!("/api/v1/sellers/{seller}/delivery-options");
    let token = app.seller(seller);
    for body in [
        json!({"kind": "pickup", "name": "Retiro en tienda", "base_cost_usd": "0", "min_days": 0, "max_days": 0}),
        json!({"kind": "local_delivery", "name": "Delivery", "base_cost_usd": "2.00", "per_kg_usd": "0.50", "states": ["Distrito Capital"], "municipalities": ["Libertador"], "min_days": 0, "max_days": 1}),
        json!({"kind": "courier_door", "name": "MRW a domicilio", "carrier": "MRW", "base_cost_usd": "4.00", "per_kg_usd": "1.00", "free_above_usd": "100", "min_days": 2, "max_days": 4}),
        json!({"kind": "courier_office", "name": "Zoom oficina", "carrier": "Zoom", "base_cost_usd": "3.00", "states": ["Zulia"], "min_days": 2, "max_days": 5}),
    ] {
        app.post(&opts, Some(&token), body).await.assert_status(201);
    }
    let user = app.customer();
    let addr = app
        .post(
            "/api/v1/addresses",
            Some(&user),
            address("Distrito Capital", "Libertador"),
        )
        .await
        .id();
    let cart = app.get("/api/v1/carts/me", Some(&user)).await.id();
    app.post(
        &format!("/api/v1/carts/{cart}/items"),
        Some(&user),
        json!({"product_id": product, "quantity": 2}),
    )
    .await
    .assert_status(200);
    let quote = app
        .post(
            &format!("/api/v1/carts/{cart}/delivery-quote"),
            Some(&user),
            json!({"address_id": addr}),
        )
        .await;
    quote.assert_status(200);
    let s = &quote.body["sellers"][0];
    assert_eq!(s["weight_kg"], "4.000");
    let priced: Vec<(String, String, String)> = s["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["option"]["name"].str().into(),
                o["cost"]["usd"].str().into(),
                o["cost"]["ves"].str().into(),
            )
        })
        .collect();
    // Pickup 0; local 2 + 0.5*4 = 4.00; courier 4 + 1*4 = 8.00; Zoom only serves Zulia.
    assert_eq!(
        priced,
        [
            ("Retiro en tienda".into(), "0.00".into(), "0.00".into()),
            ("Delivery".into(), "4.00".into(), "40.00".into()),
            ("MRW a domicilio".into(), "8.00".into(), "80.00".into())
        ]
    );
    // Another user's address, or no user, gets nothing.
    let other = app.customer();
    app.post(
        &format!("/api/v1/carts/{cart}/delivery-quote"),
        Some(&other),
        json!({"address_id": addr}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/carts/{cart}/delivery-quote"),
        None,
        json!({"address_id": addr}),
    )
    .await
    .assert_problem(401, "unauthorized");
}
