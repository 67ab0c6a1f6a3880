//! The served OpenAPI document and the docs page.

use crate::helpers::{JsonExt, TestApp};

#[actix_web::test]
async fn the_openapi_document_is_served_and_matches_the_code() {
    let app = TestApp::spawn().await;
    let resp = app.get("/api/v1/openapi.json", None).await;
    resp.assert_status(200);
    assert_eq!(resp.body, canasta::openapi::spec());
    assert!(resp.body["openapi"].str().starts_with("3.1"));
}

#[actix_web::test]
async fn the_docs_page_is_html_that_embeds_the_document() {
    let app = TestApp::spawn().await;
    let resp = app.get("/docs", None).await;
    resp.assert_status(200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.text.contains("canasta API"));
}
