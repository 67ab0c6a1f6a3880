//! Real parallel requests against two app instances sharing one database:
//! no oversell, no deadlock, no 5xx, and the invariants hold afterwards.

use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, client, send};

async fn race(app: &TestApp, bodies: Vec<serde_json::Value>) -> Vec<u16> {
    let second = app.another_instance();
    let client = client();
    let token = format!("Bearer {}", app.admin());
    let requests = bodies.into_iter().enumerate().map(|(i, body)| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let client = &client;
        let token = token.clone();
        async move {
            let headers = [
                ("authorization", token.as_str()),
                ("content-type", "application/json"),
            ];
            send(
                client,
                awc::http::Method::POST,
                &format!("{base}/api/v1/reservations"),
                &headers,
                serde_json::to_vec(&body).unwrap(),
            )
            .await
            .status
        }
    });
    join_all(requests).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[actix_web::test]
async fn fifty_buyers_racing_for_seven_units_on_two_instances_get_exactly_seven() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(7).await;
    let bodies = (0..50)
        .map(|_| json!({"owner_type": "checkout", "owner_id": Uuid::now_v7(), "lines": [{"product_id": product, "quantity": 1}]}))
        .collect();
    let statuses = race(&app, bodies).await;
    assert_eq!(count(&statuses, 201), 7, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 43, "{statuses:?}");
    let stock = app.stock(seller, product).await;
    assert_eq!(
        (stock["reserved"].as_i64(), stock["available"].as_i64()),
        (Some(7), Some(0))
    );
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn multi_product_reservations_in_opposite_orders_neither_deadlock_nor_oversell() {
    let app = TestApp::spawn().await;
    let (seller, p) = app.stocked_product(15).await;
    let (_, q) = app.stocked_product(15).await;
    let bodies = (0..40)
        .map(|i| {
            let lines = if i % 2 == 0 {
                json!([{"product_id": p, "quantity": 1}, {"product_id": q, "quantity": 1}])
            } else {
                json!([{"product_id": q, "quantity": 1}, {"product_id": p, "quantity": 1}])
            };
            json!({"owner_type": "checkout", "owner_id": Uuid::now_v7(), "lines": lines})
        })
        .collect();
    let statuses = race(&app, bodies).await;
    assert_eq!(count(&statuses, 201), 15, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 25, "{statuses:?}");
    assert_eq!(app.stock(seller, p).await["reserved"], 15);
    app.assert_stock_invariants();
}

#[actix_web::test]
async fn concurrent_releases_of_one_reservation_release_it_once() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let id = app.reserve(&[(product, 6)]).await.id();
    let second = app.another_instance();
    let client = client();
    let token = format!("Bearer {}", app.admin());
    let statuses = join_all((0..10).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let action = if i % 3 == 0 { "commit" } else { "release" };
        let (client, token, id) = (&client, token.clone(), id.clone());
        async move {
            let headers = [("authorization", token.as_str())];
            send(
                client,
                awc::http::Method::POST,
                &format!("{base}/api/v1/reservations/{id}/{action}"),
                &headers,
                vec![],
            )
            .await
            .status
        }
    }))
    .await;
    assert_eq!(count(&statuses, 200), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 409), 9, "{statuses:?}");
    assert_eq!(app.stock(seller, product).await["reserved"], 0);
    app.assert_stock_invariants();
}

/// One request with a bearer token to either instance.
async fn call(
    client: &awc::Client,
    base: &str,
    method: awc::http::Method,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> crate::helpers::Resp {
    let auth = format!("Bearer {token}");
    let key = Uuid::now_v7().to_string();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("idempotency-key", key.as_str()),
    ];
    send(
        client,
        method,
        &format!("{base}{path}"),
        &headers,
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

/// A buyer's whole journey: cart, checkout, choices, place. Returns the
/// status of the step that stopped it, or 201 when an order was placed.
async fn buy(
    client: &awc::Client,
    base: &str,
    token: &str,
    shop: &crate::checkout::Shop,
) -> (u16, &'static str) {
    use awc::http::Method;
    let cart = call(
        client,
        base,
        Method::GET,
        "/api/v1/carts/me",
        token,
        json!({}),
    )
    .await;
    if cart.status != 200 {
        return (cart.status, "cart");
    }
    let cart = cart.id();
    let added = call(
        client,
        base,
        Method::POST,
        &format!("/api/v1/carts/{cart}/items"),
        token,
        json!({"product_id": shop.product, "quantity": 1}),
    )
    .await;
    if added.status != 200 {
        return (added.status, "add");
    }
    let address = call(
        client,
        base,
        Method::POST,
        "/api/v1/addresses",
        token,
        json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
               "state": "Zulia", "municipality": "Maracaibo", "city": "Maracaibo", "line1": "Av. 5 de Julio"}),
    )
    .await;
    if address.status != 201 {
        return (address.status, "address");
    }
    let started = call(
        client,
        base,
        Method::POST,
        "/api/v1/checkouts",
        token,
        json!({"cart_id": cart}),
    )
    .await;
    if started.status != 201 {
        return (started.status, "start");
    }
    let checkout = started.id();
    let review = call(
        client,
        base,
        Method::PATCH,
        &format!("/api/v1/checkouts/{checkout}"),
        token,
        json!({"address_id": address.body["id"], "payment_method": "pago_movil",
               "deliveries": [{"seller_id": shop.seller, "option_id": shop.courier}]}),
    )
    .await;
    if review.status != 200 {
        return (review.status, "choose");
    }
    let placed = call(
        client,
        base,
        Method::POST,
        &format!("/api/v1/checkouts/{checkout}/place"),
        token,
        json!({"expected_total": review.body["expected_total"]}),
    )
    .await;
    (placed.status, "place")
}

#[actix_web::test]
async fn fifty_buyers_checking_out_the_last_ten_units_on_two_instances_place_exactly_ten_orders() {
    let app = TestApp::spawn().await;
    app.post_rate("40").await;
    {
        let mut conn = app.pool.get().unwrap();
        canasta::payments::service::seed_defaults(&mut conn).unwrap();
    }
    let shop = crate::checkout::shop(&app, "3.50", "0.500", 10).await;
    let second = app.another_instance();
    let client = client();
    let buyers: Vec<String> = (0..50).map(|_| app.customer()).collect();
    let journeys = buyers.iter().enumerate().map(|(i, token)| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let (client, shop) = (&client, &shop);
        async move { buy(client, &base, token, shop).await }
    });
    let outcomes = join_all(journeys).await;
    let placed = outcomes.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(placed, 10, "{outcomes:?}");
    // The others were refused with a 409, never a 5xx: when their checkout
    // asked for the stock (`insufficient_stock` if they raced for the last
    // units, `product_unavailable` if the cart already saw none left), or,
    // arriving last, when adding a product none of which was left.
    assert!(
        outcomes
            .iter()
            .all(|o| o.0 == 201 || *o == (409, "start") || *o == (409, "add")),
        "{outcomes:?}"
    );
    assert_eq!(app.count("orders"), 10);
    let product: Uuid = shop.product.parse().unwrap();
    let stock = app.stock(shop.seller, product).await;
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
        (Some(10), Some(10))
    );
    app.assert_stock_invariants();
    app.assert_order_invariants();
}
