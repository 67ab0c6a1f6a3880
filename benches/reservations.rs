//! Benchmark: reserve + release throughput and latency over HTTP.
//!
//! Starts the real server in-process on a scratch database (created from
//! `DATABASE_URL`'s server and dropped afterwards), stocks one product per
//! virtual user plus one shared hot product, and for each concurrency level
//! runs virtual users that each reserve one unit and release it again, in a
//! loop, for a fixed time. Prints a Markdown table. Run with `scripts/bench`.

use std::time::{Duration, Instant};

use canasta::auth::{JwtKeys, Role};
use canasta::config::{JwtAlgorithm, JwtSettings, Secret, Settings};
use canasta::db;
use canasta::startup::Application;
use diesel::prelude::*;
use futures::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";

fn url_with_db(base: &str, db: &str) -> String {
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    format!("{prefix}/{db}")
}

struct ScratchDb {
    admin_url: String,
    name: String,
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn post(client: &awc::Client, url: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut res = client
        .post(url)
        .insert_header(("authorization", format!("Bearer {token}")))
        .send_json(body)
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

struct Level {
    users: usize,
    cycles: usize,
    errors: usize,
    elapsed: Duration,
    reserve: Vec<Duration>,
    release: Vec<Duration>,
}

async fn run_level(
    base: &str,
    token: &str,
    products: &[Uuid],
    users: usize,
    duration: Duration,
) -> Level {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let started = Instant::now();
    let results = join_all((0..users).map(|u| {
        let (client, product) = (&client, products[u % products.len()]);
        async move {
            let mut out = (0usize, 0usize, vec![], vec![]);
            while started.elapsed() < duration {
                let body = json!({"owner_type": "checkout", "owner_id": Uuid::now_v7(),
                                  "lines": [{"product_id": product, "quantity": 1}]});
                let t = Instant::now();
                let (status, r) =
                    post(client, &format!("{base}/api/v1/reservations"), token, &body).await;
                out.2.push(t.elapsed());
                if status != 201 {
                    out.1 += 1;
                    continue;
                }
                let id = r["id"].as_str().unwrap_or_default().to_string();
                let t = Instant::now();
                let (status, _) = post(
                    client,
                    &format!("{base}/api/v1/reservations/{id}/release"),
                    token,
                    &json!({}),
                )
                .await;
                out.3.push(t.elapsed());
                if status == 200 {
                    out.0 += 1;
                } else {
                    out.1 += 1;
                }
            }
            out
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let mut level = Level {
        users,
        cycles: 0,
        errors: 0,
        elapsed,
        reserve: vec![],
        release: vec![],
    };
    for (cycles, errors, reserve, release) in results {
        level.cycles += cycles;
        level.errors += errors;
        level.reserve.extend(reserve);
        level.release.extend(release);
    }
    level.reserve.sort();
    level.release.sort();
    level
}

fn main() {
    let base_url = std::env::var("DATABASE_URL").expect("set DATABASE_URL (scripts/bench does)");
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let levels: Vec<usize> = std::env::var("BENCH_LEVELS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 32, 64]);
    let scratch = ScratchDb {
        admin_url: url_with_db(&base_url, "postgres"),
        name: format!("canasta_bench_{}", Uuid::now_v7().simple()),
    };
    {
        let mut admin = PgConnection::establish(&scratch.admin_url).expect("connect to the server");
        diesel::sql_query(format!("CREATE DATABASE \"{}\"", scratch.name))
            .execute(&mut admin)
            .unwrap();
        let mut conn = PgConnection::establish(&url_with_db(&base_url, &scratch.name)).unwrap();
        db::migrate(&mut conn).unwrap();
    }
    let jwt = JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(Secret::new(SECRET)),
        public_key_file: None,
        private_key_file: None,
        issuer: None,
        audience: None,
    };
    let keys = JwtKeys::from_settings(&jwt).unwrap();
    let token = keys
        .mint(
            Uuid::now_v7(),
            &[Role::Admin],
            None,
            Duration::from_secs(3600),
        )
        .unwrap();
    let pool_size: u32 = std::env::var("DATABASE_POOL_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let settings = Settings {
        database_url: Secret::new(url_with_db(&base_url, &scratch.name)),
        pool_size,
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
        jwt,
    };
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).expect("the server starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::default();
        let seller = Uuid::now_v7();
        let (s, _) = post(&client, &format!("{base}/api/v1/sellers"), &token, &json!({"id": seller, "display_name": "Bench"})).await;
        assert_eq!(s, 201);
        let max_users = levels.iter().copied().max().unwrap_or(1);
        let mut spread = vec![];
        for i in 0..max_users {
            let (s, p) = post(&client, &format!("{base}/api/v1/products"), &token,
                &json!({"seller_id": seller, "sku": format!("B{i}"), "name": "Bench", "category": "bench", "price_usd": "1.00"})).await;
            assert_eq!(s, 201, "{p}");
            let id: Uuid = p["id"].as_str().unwrap().parse().unwrap();
            let mut res = client.put(format!("{base}/api/v1/inventory/{id}"))
                .insert_header(("authorization", format!("Bearer {token}")))
                .send_json(&json!({"on_hand": 100_000_000})).await.unwrap();
            assert_eq!(res.status().as_u16(), 200, "{:?}", res.body().await);
            spread.push(id);
        }
        let hot = vec![spread[0]];
        println!("reserve+release over HTTP, {seconds}s per level, pool {pool_size}, {} cores\n", std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("| products | users | cycles/s | reserve p50 ms | reserve p99 ms | release p50 ms | release p99 ms | errors |");
        println!("|---|---|---|---|---|---|---|---|");
        for (label, products) in [("one per user", &spread), ("one hot product", &hot)] {
            for &users in &levels {
                let l = run_level(&base, &token, products, users, Duration::from_secs(seconds)).await;
                println!(
                    "| {label} | {} | {:.0} | {} | {} | {} | {} | {} |",
                    l.users,
                    l.cycles as f64 / l.elapsed.as_secs_f64(),
                    ms(percentile(&l.reserve, 0.50)),
                    ms(percentile(&l.reserve, 0.99)),
                    ms(percentile(&l.release, 0.50)),
                    ms(percentile(&l.release, 0.99)),
                    l.errors
                );
            }
        }
    });
    drop(scratch);
}
