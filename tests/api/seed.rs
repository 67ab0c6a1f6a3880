//! `canasta seed` loads demo data once: running it twice adds nothing.

use canasta::auth::JwtKeys;
use diesel::prelude::*;

use crate::helpers::{TestApp, test_settings};

#[actix_web::test]
async fn seeding_twice_does_not_duplicate_data_and_prints_working_tokens() {
    let app = TestApp::spawn().await;
    let keys = JwtKeys::from_settings(&test_settings(app.db.url()).jwt).unwrap();
    let mut conn = PgConnection::establish(&app.db.url()).unwrap();
    let first = canasta::seed::run(&mut conn, &keys).unwrap();
    let counts = (
        app.count("sellers"),
        app.count("products"),
        app.count("exchange_rates"),
        app.count("product_price_history"),
    );
    assert_eq!(counts, (3, 12, 1, 12));
    assert_eq!(
        (
            app.count("stock_movements"),
            app.count("fee_rules"),
            app.count("payment_methods"),
            app.count("delivery_options")
        ),
        (12, 1, 5, 6)
    );
    let second = canasta::seed::run(&mut conn, &keys).unwrap();
    assert!(
        second.contains("0 sellers and 0 products added"),
        "{second}"
    );
    assert_eq!(
        (
            app.count("sellers"),
            app.count("products"),
            app.count("exchange_rates"),
            app.count("product_price_history")
        ),
        counts
    );
    assert_eq!(
        (
            app.count("stock_movements"),
            app.count("fee_rules"),
            app.count("payment_methods"),
            app.count("delivery_options")
        ),
        (12, 1, 5, 6)
    );
    let token = |name: &str| {
        first
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_string()
    };
    let seller_id = token("SELLER_ID");
    let own = app
        .get(
            &format!("/api/v1/products?seller_id={seller_id}&include_inactive=true"),
            Some(&token("SELLER_TOKEN")),
        )
        .await;
    own.assert_status(200);
    assert_eq!(own.body["items"].as_array().unwrap().len(), 4);
    app.get("/api/v1/sellers", Some(&token("ADMIN_TOKEN")))
        .await
        .assert_status(200);
    app.get("/api/v1/sellers", Some(&token("CUSTOMER_TOKEN")))
        .await
        .assert_problem(403, "forbidden");
}
