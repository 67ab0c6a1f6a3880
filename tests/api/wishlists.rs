//! Wishlists and share links for wishlists and carts.

use awc::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

fn product_ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product_id"].string())
        .collect()
}

#[actix_web::test]
async fn a_user_has_a_default_list_and_named_lists_with_unique_names() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let lists = app.get("/api/v1/wishlists", Some(&user)).await;
    lists.assert_status(200);
    assert_eq!(lists.body["items"][0]["is_default"], true);
    let created = app
        .post(
            "/api/v1/wishlists",
            Some(&user),
            json!({"name": "Para la casa"}),
        )
        .await;
    created.assert_status(201);
    app.post(
        "/api/v1/wishlists",
        Some(&user),
        json!({"name": "PARA LA CASA"}),
    )
    .await
    .assert_problem(409, "conflict");
    app.post("/api/v1/wishlists", Some(&user), json!({"name": "  "}))
        .await
        .assert_problem(422, "validation_failed");
    app.post("/api/v1/wishlists", None, json!({"name": "x"}))
        .await
        .assert_problem(401, "unauthorized");
    let default = lists.body["items"][0]["id"].str();
    app.delete(&format!("/api/v1/wishlists/{default}"), Some(&user))
        .await
        .assert_problem(409, "conflict");
    app.patch(
        &format!("/api/v1/wishlists/{default}"),
        Some(&user),
        json!({"name": "Otra"}),
    )
    .await
    .assert_problem(409, "conflict");
    let id = created.body["id"].str();
    let renamed = app
        .patch(
            &format!("/api/v1/wishlists/{id}"),
            Some(&user),
            json!({"name": "Regalos"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "Regalos");
    // Another user sees none of it.
    let other = app.customer();
    app.get(&format!("/api/v1/wishlists/{id}"), Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/api/v1/wishlists/{id}"), Some(&other))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/api/v1/wishlists/{id}"), Some(&user))
        .await
        .assert_status(204);
    assert_eq!(
        app.get("/api/v1/wishlists", Some(&user)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn cart_lines_move_to_a_list_and_quick_add_back() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let cart = app.get("/api/v1/carts/me", Some(&user)).await.id();
    let added = app
        .post(
            &format!("/api/v1/carts/{cart}/items"),
            Some(&user),
            json!({"product_id": p, "quantity": 2}),
        )
        .await;
    let item = added.body["items"][0]["id"].string();
    let moved = app
        .post(
            &format!("/api/v1/carts/{cart}/items/{item}/move-to-wishlist"),
            Some(&user),
            json!({}),
        )
        .await;
    moved.assert_status(200);
    assert!(moved.body["items"].as_array().unwrap().is_empty());
    let lists = app.get("/api/v1/wishlists", Some(&user)).await;
    let default = lists.body["items"][0]["id"].string();
    assert_eq!(lists.body["items"][0]["item_count"], 1);
    let list = app
        .get(&format!("/api/v1/wishlists/{default}"), Some(&user))
        .await;
    assert_eq!(product_ids(&list.body), [p.to_string()]);
    assert_eq!(
        list.body["items"][0]["price"],
        json!({"usd": "2.00", "ves": "20.00"})
    );
    assert_eq!(list.body["items"][0]["availability"], "in_stock");
    let back = app
        .post(
            &format!("/api/v1/wishlists/{default}/items/{p}/add-to-cart"),
            Some(&user),
            json!({"quantity": 3}),
        )
        .await;
    back.assert_status(200);
    assert_eq!(back.body["items"][0]["quantity"], 3);
    app.post(
        &format!(
            "/api/v1/wishlists/{default}/items/{}/add-to-cart",
            Uuid::now_v7()
        ),
        Some(&user),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/wishlists/{default}/items"),
        Some(&user),
        json!({"product_id": Uuid::now_v7()}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.delete(
        &format!("/api/v1/wishlists/{default}/items/{p}"),
        Some(&user),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/api/v1/wishlists/{default}/items/{p}"),
        Some(&user),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_shared_list_is_read_only_by_link_and_revocable() {
    let app = TestApp::spawn().await;
    let (_, p) = app.priced_product("2.00", 50, 10).await;
    let user = app.customer();
    let list = app
        .post(
            "/api/v1/wishlists",
            Some(&user),
            json!({"name": "Cumpleaños"}),
        )
        .await
        .id();
    app.post(
        &format!("/api/v1/wishlists/{list}/items"),
        Some(&user),
        json!({"product_id": p}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/wishlists/{list}/share"),
        Some(&app.customer()),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    let link = app
        .post(
            &format!("/api/v1/wishlists/{list}/share"),
            Some(&user),
            json!({}),
        )
        .await;
    link.assert_status(200);
    let path = link.body["path"].string();
    let shared = app.get(&path, None).await;
    shared.assert_status(200);
    assert_eq!(shared.body["name"], "Cumpleaños");
    assert_eq!(product_ids(&shared.body), [p.to_string()]);
    // A new link replaces the old one; unsharing ends it.
    let newer = app
        .post(
            &format!("/api/v1/wishlists/{list}/share"),
            Some(&user),
            json!({}),
        )
        .await;
    app.get(&path, None).await.assert_problem(404, "not_found");
    let newer_path = newer.body["path"].string();
    app.get(&newer_path, None).await.assert_status(200);
    app.delete(&format!("/api/v1/wishlists/{list}/share"), Some(&user))
        .await
        .assert_status(204);
    app.get(&newer_path, None)
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/shared/wishlists/guess", None)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_shared_cart_is_a_snapshot_anyone_with_the_link_can_copy() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (seller, p) = app.priced_product("1.50", 50, 10).await;
    let (guest, token) = app.guest_cart().await;
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{guest}/items"),
        None,
        Some(&token),
        None,
        Some(json!({"product_id": p, "quantity": 2})),
    )
    .await
    .assert_status(200);
    app.cart_call(
        Method::POST,
        &format!("/api/v1/carts/{guest}/shares"),
        None,
        None,
        None,
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let share = app
        .cart_call(
            Method::POST,
            &format!("/api/v1/carts/{guest}/shares"),
            None,
            Some(&token),
            None,
            None,
        )
        .await;
    share.assert_status(201);
    assert_eq!(share.body["snapshot"]["total"]["usd"], "3.00");
    let path = share.body["path"].string();
    // The snapshot does not follow later price changes.
    app.patch(
        &format!("/api/v1/products/{p}"),
        Some(&app.seller(seller)),
        json!({"price_usd": "2.00"}),
    )
    .await
    .assert_status(200);
    let shown = app.get(&path, None).await;
    shown.assert_status(200);
    assert_eq!(shown.body["lines"][0]["unit_price"]["usd"], "1.50");
    assert_eq!(shown.body["lines"][0]["quantity"], 2);
    // A signed-in recipient copies it at today's price.
    let friend = app.customer();
    let copied = app
        .post(&format!("{path}/copy"), Some(&friend), json!({}))
        .await;
    copied.assert_status(200);
    assert_eq!(copied.body["items"][0]["quantity"], 2);
    assert_eq!(copied.body["items"][0]["unit_price"]["usd"], "2.00");
    // Copying into someone else's cart is not possible; no target and no user is 422.
    app.post(
        &format!("{path}/copy"),
        Some(&app.customer()),
        json!({"cart_id": guest}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(&format!("{path}/copy"), None, json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let share_id = share.body["id"].str();
    app.cart_call(
        Method::DELETE,
        &format!("/api/v1/carts/{guest}/shares/{share_id}"),
        None,
        Some(&token),
        None,
        None,
    )
    .await
    .assert_status(204);
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.post(&format!("{path}/copy"), Some(&friend), json!({}))
        .await
        .assert_problem(404, "not_found");
}
