//! Exchange rates: admins post, anyone reads; history is never overwritten.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn there_is_no_current_rate_until_one_is_posted() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/exchange-rates/current", None)
        .await
        .assert_problem(404, "not_found");
    app.post_rate("36.50").await;
    let resp = app.get("/api/v1/exchange-rates/current", None).await;
    resp.assert_status(200);
    assert_eq!(resp.body["rate"], "36.5");
    assert_eq!(resp.body["base_currency"], "USD");
    assert_eq!(resp.body["quote_currency"], "VES");
}

#[actix_web::test]
async fn the_latest_effective_rate_is_current_and_future_rates_wait() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let past = (Utc::now() - Duration::hours(2)).to_rfc3339();
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    for (rate, at) in [("35", past.as_str()), ("40", future.as_str())] {
        app.post(
            "/api/v1/exchange-rates",
            Some(&admin),
            json!({"rate": rate, "effective_at": at, "source": "bcv"}),
        )
        .await
        .assert_status(201);
    }
    app.post_rate("36.25").await;
    let current = app.get("/api/v1/exchange-rates/current", None).await;
    assert_eq!(current.body["rate"], "36.25");
    let history = app.get("/api/v1/exchange-rates", None).await;
    let rates: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rate"].str())
        .collect();
    assert_eq!(rates, ["40", "36.25", "35"]);
}

#[actix_web::test]
async fn a_second_rate_at_the_same_instant_is_409_and_nothing_is_overwritten() {
    let app = TestApp::spawn().await;
    let at = "2026-01-15T12:00:00Z";
    let admin = app.admin();
    app.post(
        "/api/v1/exchange-rates",
        Some(&admin),
        json!({"rate": "30", "effective_at": at, "source": "bcv"}),
    )
    .await
    .assert_status(201);
    app.post(
        "/api/v1/exchange-rates",
        Some(&admin),
        json!({"rate": "31", "effective_at": at, "source": "bcv"}),
    )
    .await
    .assert_problem(409, "duplicate_rate");
    assert_eq!(app.count("exchange_rates"), 1);
    assert_eq!(
        app.get("/api/v1/exchange-rates/current", None).await.body["rate"],
        "30"
    );
}

#[actix_web::test]
async fn invalid_rates_are_422_and_write_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let far = (Utc::now() + Duration::days(60)).to_rfc3339();
    for (body, field) in [
        (json!({"rate": "0", "source": "bcv"}), "rate"),
        (json!({"rate": "-3", "source": "bcv"}), "rate"),
        (json!({"rate": "36.123456789", "source": "bcv"}), "rate"),
        (json!({"rate": "abc", "source": "bcv"}), "rate"),
        (json!({"rate": 36.5, "source": "bcv"}), "rate"),
        (json!({"rate": "36", "source": ""}), "source"),
        (
            json!({"rate": "36", "source": "bcv", "effective_at": far}),
            "effective_at",
        ),
        (
            json!({"rate": "36", "source": "bcv", "effective_at": "tomorrow"}),
            "effective_at",
        ),
    ] {
        let resp = app
            .post("/api/v1/exchange-rates", Some(&admin), body.clone())
            .await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), [field], "{body}");
    }
    assert_eq!(app.count("exchange_rates"), 0);
}

#[actix_web::test]
async fn history_filters_by_date_and_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for day in 1..=5 {
        let at = format!("2026-03-0{day}T00:00:00Z");
        app.post(
            "/api/v1/exchange-rates",
            Some(&admin),
            json!({"rate": format!("3{day}"), "effective_at": at, "source": "bcv"}),
        )
        .await
        .assert_status(201);
    }
    let page1 = app
        .get(
            "/api/v1/exchange-rates?from=2026-03-02T00:00:00Z&to=2026-03-05T00:00:00Z&limit=2",
            None,
        )
        .await;
    let rates = |r: &serde_json::Value| -> Vec<String> {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["rate"].string())
            .collect()
    };
    assert_eq!(rates(&page1.body), ["34", "33"]);
    let cursor = page1.body["next_cursor"].str();
    let page2 = app
        .get(&format!("/api/v1/exchange-rates?from=2026-03-02T00:00:00Z&to=2026-03-05T00:00:00Z&limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(rates(&page2.body), ["32"]);
    assert!(page2.body.get("next_cursor").is_none());
    app.get(
        "/api/v1/exchange-rates?from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z",
        None,
    )
    .await
    .assert_problem(400, "invalid_parameter");
}
