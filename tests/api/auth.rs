//! Bearer JWT authentication: every way a token can be bad is a 401 with
//! `WWW-Authenticate: Bearer`; the wrong role is a 403.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use canasta::auth::{JwtKeys, Role};
use canasta::config::{JwtAlgorithm, JwtSettings, Secret};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

use crate::helpers::{SECRET, TestApp};

fn keys(secret: &str, issuer: Option<&str>) -> JwtKeys {
    JwtKeys::from_settings(&JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(Secret::new(secret)),
        public_key_file: None,
        private_key_file: None,
        issuer: issuer.map(String::from),
        audience: None,
    })
    .unwrap()
}

fn hs256(claims: serde_json::Value, secret: &str) -> String {
    use jsonwebtoken::{EncodingKey, Header, encode};
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn assert_rejected(app: &TestApp, token: &str) {
    let resp = app
        .post(
            "/api/v1/exchange-rates",
            Some(token),
            json!({"rate": "40", "source": "bcv"}),
        )
        .await;
    resp.assert_problem(401, "unauthorized");
    assert_eq!(
        resp.header("www-authenticate"),
        Some(r#"Bearer realm="canasta", error="invalid_token""#)
    );
}

#[actix_web::test]
async fn a_missing_token_is_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let resp = app
        .post(
            "/api/v1/exchange-rates",
            None,
            json!({"rate": "40", "source": "bcv"}),
        )
        .await;
    resp.assert_problem(401, "unauthorized");
    // No credentials sent: a challenge without an error code (RFC 6750 §3.1).
    assert_eq!(
        resp.header("www-authenticate"),
        Some(r#"Bearer realm="canasta""#)
    );
    assert_eq!(app.count("exchange_rates"), 0);
    // Another scheme is a malformed request.
    let resp = app
        .raw(
            awc::http::Method::GET,
            "/api/v1/carts/me",
            &[("authorization", "Basic YTpi")],
            vec![],
        )
        .await;
    resp.assert_problem(401, "unauthorized");
    assert_eq!(
        resp.header("www-authenticate"),
        Some(r#"Bearer realm="canasta", error="invalid_request""#)
    );
}

#[actix_web::test]
async fn malformed_expired_and_wrongly_signed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let now = chrono::Utc::now().timestamp();
    let admin = json!({"sub": sub, "roles": ["admin"], "exp": now + 600});
    assert_rejected(&app, "not.a.jwt").await;
    assert_rejected(
        &app,
        &hs256(
            json!({"sub": sub, "roles": ["admin"], "exp": now - 120}),
            SECRET,
        ),
    )
    .await;
    assert_rejected(
        &app,
        &hs256(admin.clone(), "another-secret-that-is-long-enough-000000"),
    )
    .await;
    assert_rejected(
        &app,
        &hs256(
            json!({"sub": "not-a-uuid", "roles": ["admin"], "exp": now + 600}),
            SECRET,
        ),
    )
    .await;
    assert_rejected(
        &app,
        &hs256(json!({"sub": sub, "roles": ["admin"]}), SECRET),
    )
    .await;
    let headers = [("authorization", "Basic YWRtaW46YWRtaW4=")];
    app.raw(awc::http::Method::GET, "/api/v1/sellers", &headers, vec![])
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(app.count("exchange_rates"), 0);
}

#[actix_web::test]
async fn an_unsigned_alg_none_token_is_401() {
    let app = TestApp::spawn().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"sub": Uuid::now_v7(), "roles": ["admin"], "exp": chrono::Utc::now().timestamp() + 600});
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_rejected(&app, &format!("{header}.{payload}.")).await;
}

#[actix_web::test]
async fn a_bad_token_on_a_public_endpoint_is_still_401() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/products", Some("garbage"))
        .await
        .assert_problem(401, "unauthorized");
    app.get("/api/v1/products", None).await.assert_status(200);
}

#[actix_web::test]
async fn the_wrong_role_is_403() {
    let app = TestApp::spawn().await;
    for token in [app.customer(), app.support(), app.seller(Uuid::now_v7())] {
        app.post(
            "/api/v1/exchange-rates",
            Some(&token),
            json!({"rate": "40", "source": "bcv"}),
        )
        .await
        .assert_problem(403, "forbidden");
    }
    // Unknown roles are ignored, not trusted.
    let odd = app.token_for(Uuid::now_v7(), &[], None);
    app.post(
        "/api/v1/exchange-rates",
        Some(&odd),
        json!({"rate": "40", "source": "bcv"}),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(app.count("exchange_rates"), 0);
}

#[actix_web::test]
async fn issuer_is_checked_when_configured() {
    let app = TestApp::spawn_with(|s| s.jwt.issuer = Some("https://id.example".into())).await;
    let sub = Uuid::now_v7();
    let without = keys(SECRET, None)
        .mint(sub, &[Role::Admin], None, Duration::from_secs(600))
        .unwrap();
    assert_rejected(&app, &without).await;
    let other = keys(SECRET, Some("https://evil.example"))
        .mint(sub, &[Role::Admin], None, Duration::from_secs(600))
        .unwrap();
    assert_rejected(&app, &other).await;
    let good = keys(SECRET, Some("https://id.example"))
        .mint(sub, &[Role::Admin], None, Duration::from_secs(600))
        .unwrap();
    app.post(
        "/api/v1/exchange-rates",
        Some(&good),
        json!({"rate": "40", "source": "bcv"}),
    )
    .await
    .assert_status(201);
}

fn es256_settings(with_private: bool) -> JwtSettings {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    JwtSettings {
        algorithm: JwtAlgorithm::Es256,
        secret: None,
        public_key_file: Some(format!("{dir}/es256-public.pem").into()),
        private_key_file: with_private.then(|| format!("{dir}/es256-private.pem").into()),
        issuer: None,
        audience: None,
    }
}

#[actix_web::test]
async fn an_es256_public_key_verifies_tokens_and_hs256_ones_are_refused() {
    let app = TestApp::spawn_with(|s| s.jwt = es256_settings(false)).await;
    let signer = JwtKeys::from_settings(&es256_settings(true)).unwrap();
    let token = signer
        .mint(
            Uuid::now_v7(),
            &[Role::Admin],
            None,
            Duration::from_secs(600),
        )
        .unwrap();
    app.post(
        "/api/v1/exchange-rates",
        Some(&token),
        json!({"rate": "40", "source": "bcv"}),
    )
    .await
    .assert_status(201);
    // A token signed with HS256 (for instance with the public key as the secret) is refused.
    let hs = keys(SECRET, None)
        .mint(
            Uuid::now_v7(),
            &[Role::Admin],
            None,
            Duration::from_secs(600),
        )
        .unwrap();
    assert_rejected(&app, &hs).await;
}
