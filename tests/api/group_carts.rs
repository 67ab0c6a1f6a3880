//! Group carts: invitations, per-participant lines and subtotals, leaving
//! and removal, and who may do what.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

struct Group {
    id: String,
    invite: String,
    owner: String,
    owner_id: Uuid,
}

async fn open_group(app: &TestApp) -> Group {
    let owner_id = Uuid::now_v7();
    let owner = app.token_for(owner_id, &[canasta::auth::Role::Customer], None);
    let resp = app
        .post("/api/v1/group-carts", Some(&owner), json!({}))
        .await;
    resp.assert_status(201);
    assert_eq!(resp.body["cart"]["kind"], "group");
    Group {
        id: resp.body["cart"]["id"].string(),
        invite: resp.body["invite_token"].string(),
        owner,
        owner_id,
    }
}

fn subtotal_of(cart: &Value, user: Uuid) -> String {
    cart["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == user.to_string())
        .map(|p| p["subtotal"]["usd"].string())
        .unwrap_or_default()
}

#[actix_web::test]
async fn participants_add_their_own_lines_and_see_per_participant_subtotals() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 10).await;
    let g = open_group(&app).await;
    let friend_id = Uuid::now_v7();
    let friend = app.token_for(friend_id, &[canasta::auth::Role::Customer], None);
    // Not a participant yet: the cart is invisible.
    app.get(&format!("/api/v1/carts/{}", g.id), Some(&friend))
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        Some(&friend),
        json!({"invite_token": "wrong"}),
    )
    .await
    .assert_problem(404, "not_found");
    let joined = app
        .post(
            &format!("/api/v1/group-carts/{}/join", g.id),
            Some(&friend),
            json!({"invite_token": g.invite}),
        )
        .await;
    joined.assert_status(200);
    assert_eq!(joined.body["participants"].as_array().unwrap().len(), 2);
    // Same product, two participants: two lines, each attributed.
    app.post(
        &format!("/api/v1/carts/{}/items", g.id),
        Some(&g.owner),
        json!({"product_id": p, "quantity": 2}),
    )
    .await
    .assert_status(200);
    let cart = app
        .post(
            &format!("/api/v1/carts/{}/items", g.id),
            Some(&friend),
            json!({"product_id": p, "quantity": 3}),
        )
        .await;
    cart.assert_status(200);
    assert_eq!(cart.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(subtotal_of(&cart.body, g.owner_id), "2.00");
    assert_eq!(subtotal_of(&cart.body, friend_id), "3.00");
    assert_eq!(cart.body["summary"]["subtotal"]["usd"], "5.00");
    // Nobody changes another's line; the owner may remove any.
    let owners_line = cart.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["added_by"] == g.owner_id.to_string())
        .unwrap()["id"]
        .string();
    let friends_line = cart.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["added_by"] == friend_id.to_string())
        .unwrap()["id"]
        .string();
    app.patch(
        &format!("/api/v1/carts/{}/items/{owners_line}", g.id),
        Some(&friend),
        json!({"quantity": 9}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.delete(
        &format!("/api/v1/carts/{}/items/{owners_line}", g.id),
        Some(&friend),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/carts/{}/items/{friends_line}", g.id),
        Some(&g.owner),
        json!({"quantity": 9}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.delete(
        &format!("/api/v1/carts/{}/items/{friends_line}", g.id),
        Some(&g.owner),
    )
    .await
    .assert_status(200);
    // The owner's personal cart is a different cart.
    let personal = app.get("/api/v1/carts/me", Some(&g.owner)).await;
    assert_ne!(personal.body["id"], g.id.as_str());
    assert_eq!(personal.body["kind"], "personal");
}

#[actix_web::test]
async fn a_member_leaves_with_their_lines_and_the_owner_removes_members() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let (_, p) = app.priced_product("1.00", 50, 10).await;
    let g = open_group(&app).await;
    let (a_id, b_id) = (Uuid::now_v7(), Uuid::now_v7());
    let a = app.token_for(a_id, &[canasta::auth::Role::Customer], None);
    let b = app.token_for(b_id, &[canasta::auth::Role::Customer], None);
    for t in [&a, &b] {
        app.post(
            &format!("/api/v1/group-carts/{}/join", g.id),
            Some(t),
            json!({"invite_token": g.invite}),
        )
        .await
        .assert_status(200);
        app.post(
            &format!("/api/v1/carts/{}/items", g.id),
            Some(t),
            json!({"product_id": p, "quantity": 1}),
        )
        .await
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/group-carts/{}/leave", g.id),
        Some(&a),
        json!({}),
    )
    .await
    .assert_status(204);
    app.get(&format!("/api/v1/carts/{}", g.id), Some(&a))
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/group-carts/{}/leave", g.id),
        Some(&g.owner),
        json!({}),
    )
    .await
    .assert_problem(409, "conflict");
    app.delete(
        &format!("/api/v1/group-carts/{}/participants/{}", g.id, g.owner_id),
        Some(&b),
    )
    .await
    .assert_problem(403, "forbidden");
    let after = app
        .delete(
            &format!("/api/v1/group-carts/{}/participants/{b_id}", g.id),
            Some(&g.owner),
        )
        .await;
    after.assert_status(200);
    assert!(after.body["items"].as_array().unwrap().is_empty());
    assert_eq!(after.body["participants"].as_array().unwrap().len(), 1);
    app.delete(
        &format!("/api/v1/group-carts/{}/participants/{b_id}", g.id),
        Some(&g.owner),
    )
    .await
    .assert_problem(404, "not_found");
    // A new invitation replaces the old one.
    app.post(
        &format!("/api/v1/group-carts/{}/invite", g.id),
        Some(&b),
        json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    let fresh = app
        .post(
            &format!("/api/v1/group-carts/{}/invite", g.id),
            Some(&g.owner),
            json!({}),
        )
        .await;
    fresh.assert_status(200);
    let newcomer = app.customer();
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        Some(&newcomer),
        json!({"invite_token": g.invite}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        Some(&newcomer),
        json!({"invite_token": fresh.body["invite_token"]}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        None,
        json!({"invite_token": "x"}),
    )
    .await
    .assert_problem(401, "unauthorized");
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        Some(&newcomer),
        json!({}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn only_the_owner_may_check_out_a_group_cart() {
    use canasta::auth::{Principal, Role};
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    let g = open_group(&app).await;
    let member_id = Uuid::now_v7();
    let member = app.token_for(member_id, &[Role::Customer], None);
    app.post(
        &format!("/api/v1/group-carts/{}/join", g.id),
        Some(&member),
        json!({"invite_token": g.invite}),
    )
    .await
    .assert_status(200);
    let mut conn = app.pool.get().unwrap();
    let cart: canasta::carts::CartRow = canasta::db::schema::carts::table
        .find(g.id.parse::<Uuid>().unwrap())
        .select(canasta::carts::CartRow::as_select())
        .first(conn.pg())
        .unwrap();
    let who = |user_id| Principal {
        user_id,
        roles: [Role::Customer].into(),
        seller_id: None,
    };
    assert!(canasta::carts::service::may_check_out(&mut conn, &cart, &who(g.owner_id)).unwrap());
    assert!(!canasta::carts::service::may_check_out(&mut conn, &cart, &who(member_id)).unwrap());
}
