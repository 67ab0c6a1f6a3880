//! Benchmark: reserve + release throughput and latency over HTTP.
//!
//! Starts the real server in-process on a scratch database, stocks one
//! product per virtual user plus one shared hot product, and for each
//! concurrency level runs virtual users that each reserve one unit and
//! release it again, in a loop, for a fixed time. Prints a Markdown table.
//! Run with `scripts/bench`.

#![expect(
    clippy::unwrap_used,
    reason = "tests and benchmarks fail loudly on a broken setup"
)]

mod common;

use std::time::{Duration, Instant};

use awc::http::Method;
use canasta::auth::Role;
use common::{Samples, call};
use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

struct Level {
    cycles: usize,
    errors: usize,
    elapsed: Duration,
    reserve: Samples,
    release: Samples,
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
            let (mut cycles, mut errors, mut reserve, mut release) =
                (0, 0, Samples::default(), Samples::default());
            while started.elapsed() < duration {
                let body = json!({"owner_type": "checkout", "owner_id": Uuid::now_v7(),
                                  "lines": [{"product_id": product, "quantity": 1}]});
                let url = format!("{base}/api/v1/reservations");
                let (status, r) = reserve
                    .time(call(client, Method::POST, &url, token, Some(&body)))
                    .await;
                if status != 201 {
                    errors += 1;
                    continue;
                }
                let url = format!(
                    "{base}/api/v1/reservations/{}/release",
                    r["id"].as_str().unwrap_or_default()
                );
                let (status, _) = release
                    .time(call(client, Method::POST, &url, token, None))
                    .await;
                if status == 200 {
                    cycles += 1
                } else {
                    errors += 1
                }
            }
            (cycles, errors, reserve, release)
        }
    }))
    .await;
    let mut level = Level {
        cycles: 0,
        errors: 0,
        elapsed: started.elapsed(),
        reserve: Samples::default(),
        release: Samples::default(),
    };
    for (cycles, errors, reserve, release) in results {
        level.cycles += cycles;
        level.errors += errors;
        level.reserve.0.extend(reserve.0);
        level.release.0.extend(release.0);
    }
    level
}

fn main() {
    let (duration, levels) = common::plan();
    let db = common::ScratchDb::create();
    let (jwt, keys) = common::keys();
    let token = common::token(&keys, &[Role::Admin]);
    actix_web::rt::System::new().block_on(async move {
        let base = common::start(&db, jwt);
        let client = awc::Client::default();
        let seller = Uuid::now_v7();
        let (s, _) = call(&client, Method::POST, &format!("{base}/api/v1/sellers"), &token, Some(&json!({"id": seller, "display_name": "Bench"}))).await;
        assert_eq!(s, 201);
        let mut spread = vec![];
        for i in 0..levels.iter().copied().max().unwrap_or(1) {
            let body = json!({"seller_id": seller, "sku": format!("B{i}"), "name": "Bench", "category": "bench", "price_usd": "1.00"});
            let (s, p) = call(&client, Method::POST, &format!("{base}/api/v1/products"), &token, Some(&body)).await;
            assert_eq!(s, 201, "{p}");
            let id: Uuid = p["id"].as_str().unwrap().parse().unwrap();
            let (s, _) = call(&client, Method::PUT, &format!("{base}/api/v1/inventory/{id}"), &token, Some(&json!({"on_hand": 100_000_000}))).await;
            assert_eq!(s, 200);
            spread.push(id);
        }
        let hot = vec![spread[0]];
        println!("reserve+release over HTTP, {}s per level, pool {}, {} cores\n", duration.as_secs(), common::pool_size(), common::cores());
        println!("| products | users | cycles/s | reserve p50 ms | reserve p99 ms | release p50 ms | release p99 ms | errors |");
        println!("|---|---|---|---|---|---|---|---|");
        for (label, products) in [("one per user", &spread), ("one hot product", &hot)] {
            for &users in &levels {
                let mut l = run_level(&base, &token, products, users, duration).await;
                println!(
                    "| {label} | {users} | {:.0} | {} | {} | {} | {} | {} |",
                    l.cycles as f64 / l.elapsed.as_secs_f64(),
                    l.reserve.ms(0.50),
                    l.reserve.ms(0.99),
                    l.release.ms(0.50),
                    l.release.ms(0.99),
                    l.errors
                );
            }
        }
    });
}
