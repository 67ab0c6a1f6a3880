//! Order lists: who sees what, filters, search and pagination.

use serde_json::Value;

use crate::helpers::{JsonExt, TestApp};
use crate::orders::{pago_movil, placed};

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].string())
        .collect()
}

#[actix_web::test]
async fn buyers_sellers_and_operators_each_see_their_orders_with_filters() {
    let app = TestApp::spawn().await;
    // Two buyers, each with two orders (one per shop).
    let (buyer1, shop1, order1) = placed(&app).await;
    let (buyer2, shop2, order2) = placed(&app).await;
    app.post(
        &format!("/api/v1/orders/{order2}/payments"),
        Some(&buyer2),
        pago_movil("42"),
    )
    .await
    .assert_status(200);

    let mine = app.get("/api/v1/orders", Some(&buyer1)).await;
    mine.assert_status(200);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
    assert!(
        mine.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["items"].as_array().is_some_and(|l| !l.is_empty()))
    );
    // Newest first.
    let all = app.get("/api/v1/orders", Some(&app.support())).await;
    let listed = numbers(&all.body);
    assert_eq!(listed.len(), 4);
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, sorted);

    // A seller sees its own shop's order only.
    let seller1 = app.seller(shop1.seller);
    let shop_orders = app.get("/api/v1/orders", Some(&seller1)).await;
    let ids: Vec<&str> = shop_orders.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].str())
        .collect();
    assert_eq!(ids, [order1.as_str()]);
    app.get(
        &format!("/api/v1/orders?seller_id={}", shop2.seller),
        Some(&seller1),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get("/api/v1/orders?view=all", Some(&buyer1))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/orders?view=seller", Some(&buyer1))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/orders", None)
        .await
        .assert_problem(401, "unauthorized");
    // A seller who also buys sees its purchases with view=buyer.
    let buying_seller = app.get("/api/v1/orders?view=buyer", Some(&seller1)).await;
    assert_eq!(buying_seller.body["items"].as_array().unwrap().len(), 0);

    // Filters.
    let awaiting = app
        .get(
            "/api/v1/orders?payment_status=awaiting_verification",
            Some(&app.admin()),
        )
        .await;
    let ids: Vec<&str> = awaiting.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].str())
        .collect();
    assert_eq!(ids, [order2.as_str()]);
    let by_seller = app
        .get(
            &format!(
                "/api/v1/orders?seller_id={}&status=pending_payment",
                shop2.seller
            ),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(by_seller.body["items"].as_array().unwrap().len(), 1);
    let none = app
        .get("/api/v1/orders?status=completed", Some(&buyer1))
        .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let shipping = app
        .get("/api/v1/orders?shipping_status=not_shipped", Some(&buyer1))
        .await;
    assert_eq!(shipping.body["items"].as_array().unwrap().len(), 2);

    // Search by number (full, prefix without CN-, any case) and by product name.
    let number = app
        .get(&format!("/api/v1/orders/{order1}"), Some(&buyer1))
        .await
        .body["number"]
        .string();
    let found = app
        .get(&format!("/api/v1/orders?q={number}"), Some(&app.admin()))
        .await;
    assert_eq!(numbers(&found.body), std::slice::from_ref(&number));
    let digits = number.trim_start_matches("CN-").to_lowercase();
    let found = app
        .get(&format!("/api/v1/orders?q={digits}"), Some(&buyer1))
        .await;
    assert_eq!(numbers(&found.body), std::slice::from_ref(&number));
    let by_name = app.get("/api/v1/orders?q=produc", Some(&buyer1)).await;
    assert_eq!(by_name.body["items"].as_array().unwrap().len(), 2);
    let nothing = app
        .get("/api/v1/orders?q=bicicleta%25", Some(&buyer1))
        .await;
    assert_eq!(nothing.body["items"].as_array().unwrap().len(), 0);

    // Date range.
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let enc = |t: &str| t.replace('+', "%2B");
    let later = app
        .get(
            &format!("/api/v1/orders?created_from={}", enc(&future)),
            Some(&buyer1),
        )
        .await;
    later.assert_status(200);
    assert_eq!(later.body["items"].as_array().unwrap().len(), 0);
    let window = app
        .get(
            &format!(
                "/api/v1/orders?created_from={}&created_to={}",
                enc(&past),
                enc(&future)
            ),
            Some(&buyer1),
        )
        .await;
    assert_eq!(window.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn order_pages_follow_the_cursor_and_bad_queries_are_400() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        placed(&app).await;
    }
    let admin = app.admin();
    let mut seen = vec![];
    let mut path = "/api/v1/orders?limit=4".to_string();
    loop {
        let page = app.get(&path, Some(&admin)).await;
        page.assert_status(200);
        seen.extend(numbers(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/orders?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6);

    for (query, field) in [
        ("status=lost", "status"),
        ("payment_status=maybe", "payment_status"),
        ("view=everyone", "view"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=zzz", "cursor"),
        ("seller_id=nope", "seller_id"),
        ("created_from=yesterday", "created_from"),
        ("q=", "q"),
        (
            "created_from=2026-01-02T00:00:00Z&created_to=2026-01-01T00:00:00Z",
            "created_to",
        ),
    ] {
        let resp = app
            .get(&format!("/api/v1/orders?{query}"), Some(&admin))
            .await;
        assert_eq!(resp.status, 400, "{query}: {}", resp.text);
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(resp.error_fields(), [field], "{query}: {}", resp.text);
    }
}
