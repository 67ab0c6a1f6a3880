//! Products: sellers manage their own catalog, admins any; shoppers see
//! active products of active sellers, priced in USD and VES.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].string())
        .collect()
}

#[actix_web::test]
async fn a_seller_creates_a_product_priced_in_both_currencies() {
    let app = TestApp::spawn().await;
    app.post_rate("36.50").await;
    let seller = app.create_seller().await;
    let product = app
        .create_product_with(
            seller,
            json!({"sku": "HARINA-1KG", "name": "Harina 1 kg", "category": "groceries", "price_usd": "1.01",
                   "weight_kg": "1.000", "image_url": "https://img.example/h.png", "max_per_order": 12}),
        )
        .await;
    assert_eq!(product["seller_id"], seller.to_string());
    assert_eq!(product["price_usd"], "1.01");
    // 1.01 * 36.5 = 36.865 -> 36.87 (half away from zero)
    assert_eq!(product["price_ves"], "36.87");
    assert_eq!(product["exchange_rate"]["rate"], "36.5");
    assert_eq!(product["max_per_order"], 12);
    let id = product["id"].str();
    let read = app.get(&format!("/api/v1/products/{id}"), None).await;
    read.assert_status(200);
    assert_eq!(read.body["sku"], "HARINA-1KG");
    let history = app
        .get(&format!("/api/v1/products/{id}/price-history"), None)
        .await;
    assert_eq!(history.body["items"][0]["new_price_usd"], "1.01");
    assert!(history.body["items"][0]["old_price_usd"].is_null());
}

#[actix_web::test]
async fn without_a_rate_the_ves_price_is_absent() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let product = app.create_product(seller, "A1", "2.00").await;
    assert!(product["price_ves"].is_null());
    assert!(product["exchange_rate"].is_null());
}

#[actix_web::test]
async fn a_new_exchange_rate_reprices_products_in_ves() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    app.post_rate("36.50").await;
    let id = app.create_product(seller, "A1", "2.00").await["id"].string();
    app.post(
        "/api/v1/exchange-rates",
        Some(&app.admin()),
        json!({"rate": "40.10", "source": "bcv", "effective_at": (chrono::Utc::now() + chrono::Duration::milliseconds(1)).to_rfc3339()}),
    )
    .await
    .assert_status(201);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    let read = app.get(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(read.body["price_ves"], "80.20");
}

#[actix_web::test]
async fn sellers_create_only_for_themselves_and_customers_not_at_all() {
    let app = TestApp::spawn().await;
    let mine = app.create_seller().await;
    let theirs = app.create_seller().await;
    let body = json!({"seller_id": theirs, "sku": "X1", "name": "X", "category": "home", "price_usd": "1.00"});
    app.post("/api/v1/products", Some(&app.seller(mine)), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/products", Some(&app.customer()), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/products", Some(&app.support()), body.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post("/api/v1/products", None, body)
        .await
        .assert_problem(401, "unauthorized");
    // A seller token without a seller_id claim acts for no seller.
    let bare = app.token(&[canasta::auth::Role::Seller], None);
    app.post(
        "/api/v1/products",
        Some(&bare),
        json!({"sku": "X1", "name": "X", "category": "home", "price_usd": "1.00"}),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(app.count("products"), 0);
    assert_eq!(app.count("product_price_history"), 0);
}

#[actix_web::test]
async fn admins_create_for_a_named_seller_that_must_exist() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let admin = app.admin();
    let body = json!({"sku": "X1", "name": "X", "category": "home", "price_usd": "1.00"});
    let resp = app
        .post("/api/v1/products", Some(&admin), body.clone())
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["seller_id"]);
    let mut unknown = body.clone();
    unknown["seller_id"] = json!(Uuid::now_v7());
    let resp = app.post("/api/v1/products", Some(&admin), unknown).await;
    resp.assert_problem(422, "validation_failed");
    let mut good = body;
    good["seller_id"] = json!(seller);
    app.post("/api/v1/products", Some(&admin), good)
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn a_duplicate_sku_for_the_same_seller_is_409_but_another_seller_may_reuse_it() {
    let app = TestApp::spawn().await;
    let a = app.create_seller().await;
    let b = app.create_seller().await;
    app.create_product(a, "SKU-1", "1.00").await;
    app.post(
        "/api/v1/products",
        Some(&app.seller(a)),
        json!({"sku": "SKU-1", "name": "Again", "category": "home", "price_usd": "2.00"}),
    )
    .await
    .assert_problem(409, "duplicate_sku");
    app.create_product(b, "SKU-1", "1.00").await;
    let second = app.create_product(a, "SKU-2", "1.00").await;
    app.patch(
        &format!("/api/v1/products/{}", second["id"].str()),
        Some(&app.seller(a)),
        json!({"sku": "SKU-1"}),
    )
    .await
    .assert_problem(409, "duplicate_sku");
    assert_eq!(app.count("products"), 3);
}

#[actix_web::test]
async fn an_inactive_seller_cannot_add_products() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    app.patch(
        &format!("/api/v1/sellers/{seller}"),
        Some(&app.admin()),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/products",
        Some(&app.seller(seller)),
        json!({"sku": "A", "name": "A", "category": "home", "price_usd": "1.00"}),
    )
    .await
    .assert_problem(409, "seller_inactive");
    assert_eq!(app.count("products"), 0);
}

#[actix_web::test]
async fn a_price_change_is_kept_in_the_history() {
    let app = TestApp::spawn().await;
    app.post_rate("10").await;
    let seller = app.create_seller().await;
    let id = app.create_product(seller, "A1", "1.00").await["id"].string();
    let path = format!("/api/v1/products/{id}");
    let token = app.seller(seller);
    let resp = app
        .patch(
            &path,
            Some(&token),
            json!({"price_usd": "1.50", "name": "Renamed"}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["price_usd"], "1.50");
    assert_eq!(resp.body["price_ves"], "15.00");
    assert_eq!(resp.body["name"], "Renamed");
    // A change that keeps the price adds no history entry.
    app.patch(&path, Some(&token), json!({"description": "Nice"}))
        .await
        .assert_status(200);
    let history = app.get(&format!("{path}/price-history"), None).await;
    let items = history.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["old_price_usd"], "1.00");
    assert_eq!(items[0]["new_price_usd"], "1.50");
}

#[actix_web::test]
async fn nullable_fields_are_cleared_with_null_and_kept_when_absent() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let product = app
        .create_product_with(seller, json!({"sku": "A1", "name": "A", "category": "home", "price_usd": "1.00", "weight_kg": "2.5", "image_url": "https://x.example/a.png"}))
        .await;
    let path = format!("/api/v1/products/{}", product["id"].str());
    let token = app.seller(seller);
    let kept = app.patch(&path, Some(&token), json!({"name": "B"})).await;
    assert_eq!(kept.body["weight_kg"], "2.500");
    assert_eq!(kept.body["image_url"], "https://x.example/a.png");
    let cleared = app
        .patch(
            &path,
            Some(&token),
            json!({"weight_kg": null, "image_url": null}),
        )
        .await;
    cleared.assert_status(200);
    assert!(cleared.body["weight_kg"].is_null());
    assert!(cleared.body["image_url"].is_null());
}

#[actix_web::test]
async fn another_sellers_product_cannot_be_changed_or_deactivated() {
    let app = TestApp::spawn().await;
    let owner = app.create_seller().await;
    let intruder = app.create_seller().await;
    let id = app.create_product(owner, "A1", "1.00").await["id"].string();
    let path = format!("/api/v1/products/{id}");
    let token = app.seller(intruder);
    app.patch(&path, Some(&token), json!({"price_usd": "0.01"}))
        .await
        .assert_problem(403, "forbidden");
    app.delete(&path, Some(&token))
        .await
        .assert_problem(403, "forbidden");
    app.patch(&path, Some(&app.customer()), json!({"price_usd": "0.01"}))
        .await
        .assert_problem(403, "forbidden");
    app.delete(&path, Some(&app.customer()))
        .await
        .assert_problem(403, "forbidden");
    let read = app.get(&path, None).await;
    assert_eq!(read.body["price_usd"], "1.00");
    assert_eq!(read.body["active"], true);
    assert_eq!(app.count("product_price_history"), 1);
    // Admins may change any product.
    app.patch(&path, Some(&app.admin()), json!({"price_usd": "1.10"}))
        .await
        .assert_status(200);
    app.patch(
        &format!("/api/v1/products/{}", Uuid::now_v7()),
        Some(&app.admin()),
        json!({"name": "x"}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_deactivated_product_is_hidden_from_shoppers_but_not_from_its_seller() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let id = app.create_product(seller, "A1", "1.00").await["id"].string();
    let path = format!("/api/v1/products/{id}");
    let token = app.seller(seller);
    app.delete(&path, Some(&token)).await.assert_status(204);
    app.delete(&path, Some(&token)).await.assert_status(204);
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.get(&path, Some(&app.customer()))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}/price-history"), None)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.get(&path, Some(&token)).await.body["active"], false);
    app.get(&path, Some(&app.support()))
        .await
        .assert_status(200);
    assert!(ids(&app.get("/api/v1/products", None).await.body).is_empty());
    // Another seller cannot even learn that it exists.
    app.patch(
        &path,
        Some(&app.seller(Uuid::now_v7())),
        json!({"name": "x"}),
    )
    .await
    .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn products_of_an_inactive_seller_leave_the_public_catalog() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let id = app.create_product(seller, "A1", "1.00").await["id"].string();
    app.patch(
        &format!("/api/v1/sellers/{seller}"),
        Some(&app.admin()),
        json!({"active": false}),
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/products/{id}"), None)
        .await
        .assert_problem(404, "not_found");
    assert!(ids(&app.get("/api/v1/products", None).await.body).is_empty());
}

#[actix_web::test]
async fn include_inactive_is_for_operators_and_a_seller_on_its_own_catalog() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    let id = app.create_product(seller, "A1", "1.00").await["id"].string();
    app.delete(&format!("/api/v1/products/{id}"), Some(&app.seller(seller)))
        .await
        .assert_status(204);
    let own = format!("/api/v1/products?include_inactive=true&seller_id={seller}");
    app.get(&own, None)
        .await
        .assert_problem(401, "unauthorized");
    app.get(&own, Some(&app.customer()))
        .await
        .assert_problem(403, "forbidden");
    app.get(&own, Some(&app.seller(Uuid::now_v7())))
        .await
        .assert_problem(403, "forbidden");
    app.get(
        "/api/v1/products?include_inactive=true",
        Some(&app.seller(seller)),
    )
    .await
    .assert_problem(403, "forbidden");
    assert_eq!(
        ids(&app.get(&own, Some(&app.seller(seller))).await.body),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        ids(&app
            .get(
                "/api/v1/products?include_inactive=true",
                Some(&app.support())
            )
            .await
            .body),
        [id]
    );
}

#[actix_web::test]
async fn the_catalog_filters_by_category_seller_and_text() {
    let app = TestApp::spawn().await;
    let a = app.create_seller().await;
    let b = app.create_seller().await;
    let harina = app.create_product_with(a, json!({"sku": "HAR-1", "name": "Harina PAN", "category": "groceries", "price_usd": "1.25"})).await;
    let cafe = app.create_product_with(a, json!({"sku": "CAF-1", "name": "Café 100%", "category": "groceries", "price_usd": "4.80"})).await;
    let audif = app.create_product_with(b, json!({"sku": "AUD_X", "name": "Audífonos", "category": "electronics", "price_usd": "19.99"})).await;
    let id = |p: &Value| p["id"].string();
    let list = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move { ids(&app.get(&format!("/api/v1/products?{q}"), None).await.body) }
    };
    assert_eq!(list("category=electronics").await, [id(&audif)]);
    assert_eq!(
        list(&format!("seller_id={a}")).await,
        [id(&cafe), id(&harina)]
    );
    assert_eq!(list("q=harina").await, [id(&harina)]);
    assert_eq!(list("q=aud_").await, [id(&audif)]);
    // LIKE wildcards in the search text match themselves only.
    assert_eq!(list("q=%25").await, [id(&cafe)]);
    assert_eq!(list("q=_").await, [id(&audif)]);
    assert!(list("category=groceries&q=aud").await.is_empty());
}

async fn walk(app: &TestApp, sort: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/products?sort={sort}&limit=3");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let resp = app.get(&path, None).await;
        resp.assert_status(200);
        out.extend(resp.body["items"].as_array().unwrap().iter().cloned());
        match resp.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[actix_web::test]
async fn every_sort_pages_through_all_products_once_in_a_stable_order() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    // Repeated prices and names make the id tie-breaker matter.
    let prices = [
        "3.00", "1.00", "2.00", "1.00", "3.00", "2.50", "1.00", "9.99",
    ];
    let names = ["b", "a", "c", "a", "b", "d", "a", "e"];
    for (i, (price, name)) in prices.iter().zip(names).enumerate() {
        app.create_product_with(
            seller,
            json!({"sku": format!("S{i}"), "name": name, "category": "home", "price_usd": price}),
        )
        .await;
    }
    let price = |p: &Value| p["price_usd"].str().parse::<f64>().unwrap();
    let id = |p: &Value| p["id"].string();

    let newest = walk(&app, "newest").await;
    let mut expected: Vec<String> = newest.iter().map(id).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(newest.iter().map(id).collect::<Vec<_>>(), expected);

    for sort in ["price_asc", "price_desc", "name_asc"] {
        let all = walk(&app, sort).await;
        assert_eq!(all.len(), prices.len(), "{sort}");
        let mut unique: Vec<String> = all.iter().map(id).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), prices.len(), "{sort} repeated an item");
        for pair in all.windows(2) {
            let ordered = match sort {
                "price_asc" => (price(&pair[0]), id(&pair[0])) < (price(&pair[1]), id(&pair[1])),
                "price_desc" => (price(&pair[0]), id(&pair[0])) > (price(&pair[1]), id(&pair[1])),
                _ => {
                    (pair[0]["name"].as_str(), id(&pair[0]))
                        < (pair[1]["name"].as_str(), id(&pair[1]))
                }
            };
            assert!(ordered, "{sort}: {} before {}", pair[0], pair[1]);
        }
    }
}

#[actix_web::test]
async fn a_cursor_from_another_sort_is_rejected() {
    let app = TestApp::spawn().await;
    let seller = app.create_seller().await;
    for i in 0..3 {
        app.create_product(seller, &format!("S{i}"), "1.00").await;
    }
    let page = app.get("/api/v1/products?limit=1&sort=newest", None).await;
    let cursor = page.body["next_cursor"].str();
    app.get(
        &format!("/api/v1/products?limit=1&sort=price_asc&cursor={cursor}"),
        None,
    )
    .await
    .assert_problem(400, "invalid_parameter");
}

#[actix_web::test]
async fn two_instances_on_one_database_see_the_same_catalog() {
    let app = TestApp::spawn().await;
    let other = app.another_instance();
    let seller = app.create_seller().await;
    let id = app.create_product(seller, "A1", "1.00").await["id"].string();
    let client = crate::helpers::client();
    let resp = crate::helpers::send(
        &client,
        awc::http::Method::GET,
        &format!("{other}/api/v1/products/{id}"),
        &[],
        vec![],
    )
    .await;
    resp.assert_status(200);
    assert_eq!(resp.body["sku"], "A1");
}
