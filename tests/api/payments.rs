//! Payment methods as data.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_offered_methods_are_public_and_admins_tune_them() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.pool.get().unwrap();
        assert_eq!(
            canasta::payments::service::seed_defaults(&mut conn).unwrap(),
            5
        );
        assert_eq!(
            canasta::payments::service::seed_defaults(&mut conn).unwrap(),
            0
        );
    }
    let list = app.get("/api/v1/payment-methods", None).await;
    list.assert_status(200);
    let codes: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["bank_transfer", "cash_usd", "pago_movil", "zelle"]);
    let zelle = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "zelle")
        .unwrap()
        .clone();
    assert_eq!(
        (
            zelle["currency"].as_str(),
            zelle["surcharge_percent"].as_str()
        ),
        (Some("USD"), Some("3"))
    );
    let changed = app
        .patch(
            "/api/v1/payment-methods/zelle",
            Some(&app.admin()),
            json!({"surcharge_percent": "2.5", "payment_window_minutes": 60}),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["surcharge_percent"], "2.5");
    app.patch(
        "/api/v1/payment-methods/zelle",
        Some(&app.customer()),
        json!({"active": false}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        "/api/v1/payment-methods/zelle",
        Some(&app.seller(uuid::Uuid::now_v7())),
        json!({"active": false}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        "/api/v1/payment-methods/zelle",
        Some(&app.admin()),
        json!({"surcharge_percent": "150"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.patch(
        "/api/v1/payment-methods/zelle",
        Some(&app.admin()),
        json!({"payment_window_minutes": 1}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.patch(
        "/api/v1/payment-methods/bitcoin",
        Some(&app.admin()),
        json!({"active": true}),
    )
    .await
    .assert_problem(400, "invalid_parameter");
    app.patch(
        "/api/v1/payment-methods/card",
        Some(&app.admin()),
        json!({"active": true}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        app.get("/api/v1/payment-methods", None).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
