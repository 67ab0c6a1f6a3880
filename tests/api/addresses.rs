//! Address books: Venezuelan validation, one default, ownership.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

fn caracas() -> Value {
    json!({
        "label": "Casa",
        "recipient": "María Pérez",
        "phone": "0414-123.45.67",
        "national_id": "v12.345.678",
        "state": "distrito capital",
        "municipality": "Libertador",
        "city": "Caracas",
        "line1": "Av. Urdaneta, Edif. Sol, piso 3",
        "reference_point": "Frente a la panadería",
        "latitude": 10.5,
        "longitude": -66.91
    })
}

#[actix_web::test]
async fn an_address_is_normalised_and_the_first_is_the_default() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let resp = app.post("/api/v1/addresses", Some(&user), caracas()).await;
    resp.assert_status(201);
    assert_eq!(resp.body["phone"], "+584141234567");
    assert_eq!(resp.body["national_id"], "V-12345678");
    assert_eq!(resp.body["state"], "Distrito Capital");
    assert_eq!(resp.body["is_default"], true);
    let mut office = caracas();
    office["label"] = json!("Oficina");
    office["national_id"] = json!("J-07013380-5");
    office["state"] = json!("Miranda");
    let second = app.post("/api/v1/addresses", Some(&user), office).await;
    assert_eq!(second.body["is_default"], false);
    let id = second.body["id"].str();
    let made = app
        .post(
            &format!("/api/v1/addresses/{id}/default"),
            Some(&user),
            json!({}),
        )
        .await;
    assert_eq!(made.body["is_default"], true);
    let list = app.get("/api/v1/addresses", Some(&user)).await;
    let defaults: Vec<bool> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["is_default"].as_bool().unwrap())
        .collect();
    assert_eq!(defaults, [true, false]);
    assert_eq!(list.body["items"][0]["id"], id);
    assert_eq!(list.body["states"].as_array().unwrap().len(), 25);
    // Deleting the default promotes the other one.
    app.delete(&format!("/api/v1/addresses/{id}"), Some(&user))
        .await
        .assert_status(204);
    let list = app.get("/api/v1/addresses", Some(&user)).await;
    assert_eq!(list.body["items"][0]["is_default"], true);
}

#[actix_web::test]
async fn every_invalid_field_is_named_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let resp = app
        .post(
            "/api/v1/addresses",
            Some(&user),
            json!({"recipient": "", "phone": "555-1234", "national_id": "J-12345678-5", "state": "Florida",
                   "municipality": "x", "city": "y", "line1": "z", "latitude": 40.7, "longitude": -74.0}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(
        resp.error_fields(),
        ["latitude", "national_id", "phone", "recipient", "state"]
    );
    let resp = app
        .post("/api/v1/addresses", Some(&user), json!({"recipient": "A"}))
        .await;
    resp.assert_problem(422, "validation_failed");
    let mut half = caracas();
    half["longitude"] = Value::Null;
    app.post("/api/v1/addresses", Some(&user), half)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(app.count("addresses"), 0);
}

#[actix_web::test]
async fn a_change_is_checked_as_a_whole_and_addresses_are_private() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let id = app
        .post("/api/v1/addresses", Some(&user), caracas())
        .await
        .id();
    let path = format!("/api/v1/addresses/{id}");
    let changed = app
        .patch(
            &path,
            Some(&user),
            json!({"phone": "+58 212 555 1234", "latitude": null, "longitude": null}),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["phone"], "+582125551234");
    assert!(changed.body["latitude"].is_null());
    assert_eq!(changed.body["recipient"], "María Pérez");
    app.patch(&path, Some(&user), json!({"phone": "12"}))
        .await
        .assert_problem(422, "validation_failed");
    app.patch(&path, Some(&user), json!({"colour": "red"}))
        .await
        .assert_problem(422, "validation_failed");
    let other = app.customer();
    app.get(&path, Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.patch(&path, Some(&other), json!({"city": "Maracay"}))
        .await
        .assert_problem(404, "not_found");
    app.delete(&path, Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, None)
        .await
        .assert_problem(401, "unauthorized");
    app.get(
        &format!("/api/v1/addresses/{}", Uuid::now_v7()),
        Some(&user),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(app.get(&path, Some(&user)).await.body["city"], "Caracas");
}

#[actix_web::test]
async fn foreign_numbers_are_not_taken_for_venezuelan_ones() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    for phone in ["020 7946 0958", "+4141234567", "+1 212 555 1234"] {
        let resp = app
            .post(
                "/api/v1/addresses",
                Some(&user),
                json!({"recipient": "Ana", "phone": phone, "national_id": "V-1234567",
                       "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
            )
            .await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), ["phone"], "{phone}");
    }
    assert_eq!(app.count("addresses"), 0);
}
