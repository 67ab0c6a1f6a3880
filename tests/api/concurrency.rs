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
    assert!(
        app.inventory_violations().is_empty(),
        "{:?}",
        app.inventory_violations()
    );
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
    assert!(
        app.inventory_violations().is_empty(),
        "{:?}",
        app.inventory_violations()
    );
}

#[actix_web::test]
async fn concurrent_releases_of_one_reservation_release_it_once() {
    let app = TestApp::spawn().await;
    let (seller, product) = app.stocked_product(10).await;
    let id = app.reserve(&[(product, 6)]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
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
    assert!(
        app.inventory_violations().is_empty(),
        "{:?}",
        app.inventory_violations()
    );
}
