//! Sellers: admins manage them; a seller edits its own profile; the public
//! reads active ones.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn an_admin_creates_a_seller_and_a_duplicate_id_is_409() {
    let app = TestApp::spawn().await;
    let id = Uuid::now_v7();
    let body = json!({"id": id, "display_name": "  Bodegón  "});
    let resp = app
        .post("/api/v1/sellers", Some(&app.admin()), body.clone())
        .await;
    resp.assert_status(201);
    assert_eq!(resp.body["display_name"], "Bodegón");
    assert_eq!(resp.body["active"], true);
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/sellers/{id}").as_str())
    );
    app.post("/api/v1/sellers", Some(&app.admin()), body)
        .await
        .assert_problem(409, "duplicate_seller");
    assert_eq!(app.count("sellers"), 1);
}

#[actix_web::test]
async fn only_admins_create_sellers() {
    let app = TestApp::spawn().await;
    let id = Uuid::now_v7();
    for token in [app.customer(), app.support(), app.seller(id)] {
        app.post(
            "/api/v1/sellers",
            Some(&token),
            json!({"id": id, "display_name": "Mine"}),
        )
        .await
        .assert_problem(403, "forbidden");
    }
    app.post(
        "/api/v1/sellers",
        None,
        json!({"id": id, "display_name": "Mine"}),
    )
    .await
    .assert_problem(401, "unauthorized");
    assert_eq!(app.count("sellers"), 0);
}

#[actix_web::test]
async fn an_inactive_seller_is_hidden_from_everyone_but_itself_and_operators() {
    let app = TestApp::spawn().await;
    let id = app.create_seller().await;
    let path = format!("/api/v1/sellers/{id}");
    app.get(&path, None).await.assert_status(200);
    app.patch(&path, Some(&app.admin()), json!({"active": false}))
        .await
        .assert_status(200);
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.get(&path, Some(&app.customer()))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&app.seller(Uuid::now_v7())))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get(&path, Some(&app.seller(id))).await.body["active"],
        false
    );
    app.get(&path, Some(&app.support()))
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/sellers/{}", Uuid::now_v7()), None)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_seller_renames_itself_but_cannot_change_its_active_flag_or_others() {
    let app = TestApp::spawn().await;
    let id = app.create_seller().await;
    let other = app.create_seller().await;
    let me = app.seller(id);
    let resp = app
        .patch(
            &format!("/api/v1/sellers/{id}"),
            Some(&me),
            json!({"display_name": "Nuevo"}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["display_name"], "Nuevo");
    app.patch(
        &format!("/api/v1/sellers/{id}"),
        Some(&me),
        json!({"active": false}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/sellers/{other}"),
        Some(&me),
        json!({"display_name": "Mine now"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/sellers/{id}"),
        Some(&app.customer()),
        json!({"display_name": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let other_now = app.get(&format!("/api/v1/sellers/{other}"), None).await;
    assert_eq!(other_now.body["display_name"], format!("Shop {other}"));
    app.patch(
        &format!("/api/v1/sellers/{id}"),
        Some(&me),
        json!({"display_name": ""}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn updating_a_missing_seller_is_404() {
    let app = TestApp::spawn().await;
    app.patch(
        &format!("/api/v1/sellers/{}", Uuid::now_v7()),
        Some(&app.admin()),
        json!({"display_name": "x"}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn operators_list_sellers_page_by_page() {
    let app = TestApp::spawn().await;
    let mut ids = vec![];
    for _ in 0..5 {
        ids.push(app.create_seller().await);
    }
    app.get("/api/v1/sellers", Some(&app.customer()))
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/sellers", Some(&app.seller(ids[0])))
        .await
        .assert_problem(403, "forbidden");
    let support = app.support();
    let mut seen = vec![];
    let mut path = "/api/v1/sellers?limit=2".to_string();
    loop {
        let resp = app.get(&path, Some(&support)).await;
        resp.assert_status(200);
        for s in resp.body["items"].as_array().unwrap() {
            seen.push(s["id"].str().parse::<Uuid>().unwrap());
        }
        match resp.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/sellers?limit=2&cursor={c}"),
            None => break,
        }
    }
    ids.sort();
    assert_eq!(seen, ids);
}
