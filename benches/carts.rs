//! Benchmark: add-to-cart and get-cart over HTTP.
//!
//! Starts the real server in-process on a scratch database with a rate, a
//! fee rule and 20 stocked products. Each virtual user is a shopper with its
//! own cart who, in a loop, adds a product (quantities stay small: every
//! tenth add clears the cart) and reads the cart back (which re-prices every
//! line). Prints a Markdown table. Run with `scripts/bench`.

#![expect(
    clippy::unwrap_used,
    reason = "tests and benchmarks fail loudly on a broken setup"
)]

mod common;

use std::time::Instant;

use awc::http::Method;
use canasta::auth::Role;
use common::{Samples, call};
use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

fn main() {
    let (duration, levels) = common::plan();
    let db = common::ScratchDb::create();
    let (jwt, keys) = common::keys();
    let admin = common::token(&keys, &[Role::Admin]);
    actix_web::rt::System::new().block_on(async move {
        let base = common::start(&db, jwt);
        let client = awc::Client::default();
        let post = |path: &str, body: serde_json::Value| {
            let (client, url, admin) = (&client, format!("{base}{path}"), admin.clone());
            async move { call(client, Method::POST, &url, &admin, Some(&body)).await }
        };
        assert_eq!(post("/api/v1/exchange-rates", json!({"rate": "36.5", "source": "bench"})).await.0, 201);
        assert_eq!(post("/api/v1/fee-rules", json!({"code": "service_fee", "name": "Fee", "kind": "percent", "amount": "2"})).await.0, 201);
        let seller = Uuid::now_v7();
        assert_eq!(post("/api/v1/sellers", json!({"id": seller, "display_name": "Bench"})).await.0, 201);
        let mut products = vec![];
        for i in 0..20 {
            let (s, p) = post("/api/v1/products", json!({"seller_id": seller, "sku": format!("C{i}"), "name": format!("Item {i}"),
                                                       "category": "bench", "price_usd": "1.99", "max_per_order": 10000})).await;
            assert_eq!(s, 201, "{p}");
            let id: Uuid = p["id"].as_str().unwrap().parse().unwrap();
            let url = format!("{base}/api/v1/inventory/{id}");
            assert_eq!(call(&client, Method::PUT, &url, &admin, Some(&json!({"on_hand": 100_000_000}))).await.0, 200);
            products.push(id);
        }
        println!("add-to-cart and get-cart over HTTP, {}s per level, pool {}, {} cores\n", duration.as_secs(), common::pool_size(), common::cores());
        println!("| users | requests/s | add p50 ms | add p99 ms | get p50 ms | get p99 ms | errors |");
        println!("|---|---|---|---|---|---|---|");
        for &users in &levels {
            let started = Instant::now();
            let results = join_all((0..users).map(|u| {
                let (client, products, base) = (&client, &products, &base);
                let shopper = common::token(&keys, &[Role::Customer]);
                async move {
                    let (mut adds, mut gets, mut n, mut errors) = (Samples::default(), Samples::default(), 0usize, 0usize);
                    let (_, cart) = call(client, Method::GET, &format!("{base}/api/v1/carts/me"), &shopper, None).await;
                    let cart = cart["id"].as_str().unwrap_or_default().to_string();
                    while started.elapsed() < duration {
                        n += 1;
                        if n % 10 == 0 {
                            call(client, Method::DELETE, &format!("{base}/api/v1/carts/{cart}/items"), &shopper, None).await;
                        }
                        let body = json!({"product_id": products[(u + n) % products.len()], "quantity": 1});
                        let url = format!("{base}/api/v1/carts/{cart}/items");
                        let (s, _) = adds.time(call(client, Method::POST, &url, &shopper, Some(&body))).await;
                        if s != 200 { errors += 1 }
                        let url = format!("{base}/api/v1/carts/{cart}");
                        let (s, _) = gets.time(call(client, Method::GET, &url, &shopper, None)).await;
                        if s != 200 { errors += 1 }
                    }
                    (adds, gets, errors)
                }
            }))
            .await;
            let elapsed = started.elapsed();
            let (mut adds, mut gets, mut errors) = (Samples::default(), Samples::default(), 0);
            for (a, g, e) in results {
                adds.0.extend(a.0);
                gets.0.extend(g.0);
                errors += e;
            }
            let requests = (adds.0.len() + gets.0.len()) as f64 / elapsed.as_secs_f64();
            println!("| {users} | {requests:.0} | {} | {} | {} | {} | {errors} |", adds.ms(0.5), adds.ms(0.99), gets.ms(0.5), gets.ms(0.99));
        }
    });
}
