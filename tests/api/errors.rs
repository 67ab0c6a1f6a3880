//! Every failure is RFC 9457 problem+json with a stable code, including
//! actix's own (routing, content type, size, path and query parsing).

use awc::http::Method;
use serde_json::json;

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/nothing-here", None)
        .await
        .assert_problem(404, "route_not_found");
    app.get("/nothing", None)
        .await
        .assert_problem(404, "route_not_found");
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::spawn().await;
    let resp = app
        .request(Method::PUT, "/api/v1/products", None, None)
        .await;
    resp.assert_problem(405, "method_not_allowed");
    assert_eq!(resp.header("allow"), Some("GET, POST"));
    let id = uuid::Uuid::now_v7();
    let resp = app
        .request(Method::POST, &format!("/api/v1/products/{id}"), None, None)
        .await;
    resp.assert_problem(405, "method_not_allowed");
    assert_eq!(resp.header("allow"), Some("DELETE, GET, PATCH"));
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = format!("Bearer {}", app.admin());
    let headers = [
        ("authorization", token.as_str()),
        ("content-type", "application/json"),
    ];
    let resp = app
        .raw(
            Method::POST,
            "/api/v1/sellers",
            &headers,
            b"{\"id\": ".to_vec(),
        )
        .await;
    resp.assert_problem(400, "malformed_json");
    let resp = app
        .raw(Method::POST, "/api/v1/sellers", &headers, vec![])
        .await;
    resp.assert_problem(400, "malformed_json");
    assert_eq!(app.count("sellers"), 0);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let token = format!("Bearer {}", app.admin());
    let body = br#"{"id":"0190a000-0000-7000-8000-000000000001","display_name":"x"}"#.to_vec();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let headers = [
            ("authorization", token.as_str()),
            ("content-type", content_type),
        ];
        let resp = app
            .raw(Method::POST, "/api/v1/sellers", &headers, body.clone())
            .await;
        resp.assert_problem(415, "unsupported_media_type");
    }
    let resp = app
        .raw(
            Method::POST,
            "/api/v1/sellers",
            &[("authorization", token.as_str())],
            body,
        )
        .await;
    resp.assert_problem(415, "unsupported_media_type");
    assert_eq!(app.count("sellers"), 0);
}

#[actix_web::test]
async fn an_oversize_body_is_a_413_problem() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(70_000);
    let resp = app
        .post(
            "/api/v1/products",
            Some(&app.admin()),
            json!({"description": big}),
        )
        .await;
    resp.assert_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn bad_path_and_query_parameters_are_400_problems() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/products/not-a-uuid", None)
        .await
        .assert_problem(400, "invalid_parameter");
    for query in [
        "limit=abc",
        "limit=0",
        "limit=101",
        "sort=cheapest",
        "seller_id=nope",
        "q=",
        "include_inactive=maybe",
    ] {
        app.get(&format!("/api/v1/products?{query}"), None)
            .await
            .assert_problem(400, "invalid_parameter");
    }
    app.get("/api/v1/products?cursor=garbage", None)
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/api/v1/exchange-rates?from=yesterday", None)
        .await
        .assert_problem(400, "invalid_parameter");
}

#[actix_web::test]
async fn unknown_fields_and_wrong_types_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let id = uuid::Uuid::now_v7();
    let resp = app
        .post(
            "/api/v1/sellers",
            Some(&admin),
            json!({"id": id, "display_name": "A", "colour": "red"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert!(resp.body["errors"][0]["message"].str().contains("colour"));
    let resp = app
        .post(
            "/api/v1/sellers",
            Some(&admin),
            json!({"id": id, "display_name": 7}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["display_name"]);
    let resp = app
        .post(
            "/api/v1/sellers",
            Some(&admin),
            json!({"display_name": "A"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(app.count("sellers"), 0);
}

#[actix_web::test]
async fn validation_lists_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let resp = app
        .post(
            "/api/v1/products",
            Some(&app.seller(seller)),
            json!({
                "sku": "bad sku!",
                "name": "   ",
                "category": "Not A Slug",
                "image_url": "ftp://x",
                "price_usd": "0",
                "weight_kg": "-1",
                "max_per_order": 0
            }),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(
        resp.error_fields(),
        [
            "category",
            "image_url",
            "max_per_order",
            "name",
            "price_usd",
            "sku",
            "weight_kg"
        ]
    );
    assert_eq!(app.count("products"), 0);
}

#[actix_web::test]
async fn money_as_a_json_number_is_refused() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let resp = app
        .post(
            "/api/v1/products",
            Some(&app.seller(seller)),
            json!({"sku": "A1", "name": "A", "category": "home", "price_usd": 1.1}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["price_usd"]);
}
