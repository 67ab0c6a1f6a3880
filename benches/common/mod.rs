//! Shared bench plumbing: a scratch database on `DATABASE_URL`'s server, the
//! real server started in-process on it, tokens, and latency statistics.

use std::time::{Duration, Instant};

use canasta::auth::{JwtKeys, Role};
use canasta::config::{JwtAlgorithm, JwtSettings, Secret, Settings};
use canasta::db;
use canasta::startup::Application;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";

fn url_with_db(base: &str, db: &str) -> String {
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    format!("{prefix}/{db}")
}

/// A migrated scratch database, dropped with this value.
pub struct ScratchDb {
    admin_url: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl ScratchDb {
    /// Creates and migrates it.
    pub fn create() -> Self {
        let base = std::env::var("DATABASE_URL").expect("set DATABASE_URL (scripts/bench does)");
        let name = format!("canasta_bench_{}", Uuid::now_v7().simple());
        let admin_url = url_with_db(&base, "postgres");
        let mut admin = PgConnection::establish(&admin_url).expect("connect to the server");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .unwrap();
        let url = url_with_db(&base, &name);
        db::migrate(&mut PgConnection::establish(&url).unwrap()).unwrap();
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Token signing for the bench's callers.
pub fn keys() -> (JwtSettings, JwtKeys) {
    let jwt = JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(Secret::new(SECRET)),
        public_key_file: None,
        private_key_file: None,
        issuer: None,
        audience: None,
    };
    let keys = JwtKeys::from_settings(&jwt).unwrap();
    (jwt, keys)
}

/// A token for a new user with `roles`.
pub fn token(keys: &JwtKeys, roles: &[Role]) -> String {
    keys.mint(Uuid::now_v7(), roles, None, Duration::from_secs(3600))
        .unwrap()
}

/// The pool size benches use (`DATABASE_POOL_SIZE`, default 16).
pub fn pool_size() -> u32 {
    std::env::var("DATABASE_POOL_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16)
}

/// Seconds per level (`BENCH_SECONDS`, default 5) and the levels (`BENCH_LEVELS`, default 1,8,32,64).
pub fn plan() -> (Duration, Vec<usize>) {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let levels = std::env::var("BENCH_LEVELS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 32, 64]);
    (Duration::from_secs(seconds), levels)
}

/// Starts the real server on `db` (call inside an actix runtime); returns its base URL.
pub fn start(db: &ScratchDb, jwt: JwtSettings) -> String {
    let settings = Settings {
        database_url: Secret::new(db.url.clone()),
        pool_size: pool_size(),
        pool_timeout: Duration::from_secs(5),
        host: "127.0.0.1".into(),
        port: 0,
        workers: None,
        run_migrations: false,
        cors_origins: vec![],
        max_body_bytes: 65_536,
        run_jobs: false,
        job_interval: Duration::from_secs(1),
        cart_idle: Duration::from_secs(72 * 3600),
        idempotency_retention: Duration::from_secs(24 * 3600),
        cart_hold: None,
        jwt,
        webhooks: canasta::config::WebhookSettings::default(),
    };
    let app = Application::build(settings).expect("the server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    base
}

/// Sends a JSON request; returns the status and the JSON body.
pub async fn call(
    client: &awc::Client,
    method: awc::http::Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let req = client
        .request(method, url)
        .insert_header(("authorization", format!("Bearer {token}")));
    let mut res = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    }
    .expect("the server answers");
    let status = res.status().as_u16();
    (
        status,
        res.json::<Value>()
            .limit(4 << 20)
            .await
            .unwrap_or(Value::Null),
    )
}

/// Latencies of one kind of request.
#[derive(Debug, Default)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    /// Times `f`.
    pub async fn time<T>(&mut self, f: impl std::future::Future<Output = T>) -> T {
        let t = Instant::now();
        let out = f.await;
        self.0.push(t.elapsed());
        out
    }

    /// The p-th percentile in milliseconds (0.0 to 1.0).
    pub fn ms(&mut self, p: f64) -> String {
        self.0.sort();
        if self.0.is_empty() {
            return "-".into();
        }
        let idx = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        format!("{:.2}", self.0[idx].as_secs_f64() * 1000.0)
    }
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
