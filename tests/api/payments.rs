//! Payment methods as data.

use serde_json::json;

use crate::helpers::{JsonExt, TestApp};

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
        .map(|m| m["code"].str())
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

#[actix_web::test]
async fn a_fresh_database_gets_its_methods_from_the_install_command_without_a_jwt_secret() {
    let app = TestApp::spawn().await;
    let list = app.get("/api/v1/payment-methods", None).await;
    assert_eq!(
        list.body["items"],
        json!([]),
        "no method before the install"
    );
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_canasta"))
            .arg("install-payment-methods")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", app.db.url())
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("installed 5"));
    let again = run();
    assert!(String::from_utf8_lossy(&again.stdout).contains("installed 0"));
    let list = app.get("/api/v1/payment-methods", None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 4);
}

#[actix_web::test]
async fn admins_create_and_retire_methods_and_nobody_else_can() {
    let app = TestApp::spawn().await;
    let body = json!({"code": "zelle", "name": "Zelle", "currency": "USD",
                      "instructions": "Envía a pagos@example.com", "surcharge_percent": "3",
                      "payment_window_minutes": 1440});
    for token in [
        app.customer(),
        app.support(),
        app.seller(uuid::Uuid::now_v7()),
    ] {
        app.post("/api/v1/payment-methods", Some(&token), body.clone())
            .await
            .assert_problem(403, "forbidden");
    }
    app.post("/api/v1/payment-methods", None, body.clone())
        .await
        .assert_problem(401, "unauthorized");
    for (bad, field) in [
        (json!({"surcharge_percent": "101"}), "surcharge_percent"),
        (json!({"surcharge_percent": 3}), "surcharge_percent"),
        (
            json!({"payment_window_minutes": 1}),
            "payment_window_minutes",
        ),
        (json!({"code": "bitcoin"}), "code"),
        (json!({"name": ""}), "name"),
    ] {
        let mut b = body.clone();
        for (k, v) in bad.as_object().unwrap() {
            b[k] = v.clone();
        }
        let resp = app
            .post("/api/v1/payment-methods", Some(&app.admin()), b)
            .await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), [field], "{}", resp.text);
    }
    assert_eq!(app.count("payment_methods"), 0);
    let created = app
        .post("/api/v1/payment-methods", Some(&app.admin()), body.clone())
        .await;
    created.assert_status(201);
    assert_eq!(created.body["surcharge_percent"], "3");
    app.post("/api/v1/payment-methods", Some(&app.admin()), body)
        .await
        .assert_problem(409, "duplicate_payment_method");
    let listed = app.get("/api/v1/payment-methods", None).await;
    assert_eq!(listed.body["items"][0]["code"], "zelle");

    app.delete(
        "/api/v1/payment-methods/zelle",
        Some(&app.seller(uuid::Uuid::now_v7())),
    )
    .await
    .assert_problem(403, "forbidden");
    let retired = app
        .delete("/api/v1/payment-methods/zelle", Some(&app.admin()))
        .await;
    retired.assert_status(200);
    assert_eq!(retired.body["active"], false);
    app.delete("/api/v1/payment-methods/card", Some(&app.admin()))
        .await
        .assert_problem(404, "not_found");
    let listed = app.get("/api/v1/payment-methods", None).await;
    assert_eq!(listed.body["items"], json!([]));
    // Admins still see it, to offer it again.
    app.get("/api/v1/payment-methods?include_inactive=true", None)
        .await
        .assert_problem(401, "unauthorized");
    app.get(
        "/api/v1/payment-methods?include_inactive=true",
        Some(&app.customer()),
    )
    .await
    .assert_problem(403, "forbidden");
    let all = app
        .get(
            "/api/v1/payment-methods?include_inactive=true",
            Some(&app.admin()),
        )
        .await;
    assert_eq!(all.body["items"][0]["active"], false);
}
