//! Liveness, readiness, behaviour while the database is away, and the pool.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::helpers::{TestApp, TestDb, client, send, start_server, test_settings, url_with_db};

#[actix_web::test]
async fn liveness_answers_ok() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthz", None).await;
    resp.assert_status(200);
    assert_eq!(resp.body["status"], "ok");
}

#[actix_web::test]
async fn readiness_answers_ok_when_the_database_answers() {
    let app = TestApp::spawn().await;
    app.get("/readyz", None).await.assert_status(200);
}

#[actix_web::test]
async fn an_unreachable_database_gives_a_fast_503_problem_not_a_hang() {
    let mut settings = test_settings("postgres://canasta:canasta@127.0.0.1:1/nowhere".into());
    settings.pool_timeout = Duration::from_millis(500);
    let address = start_server(settings);
    let client = client();
    for path in [
        "/readyz",
        "/api/v1/products",
        "/api/v1/exchange-rates/current",
    ] {
        let started = Instant::now();
        let resp = send(
            &client,
            awc::http::Method::GET,
            &format!("{address}{path}"),
            &[],
            vec![],
        )
        .await;
        resp.assert_problem(503, "service_unavailable");
        assert_eq!(resp.header("retry-after"), Some("1"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} took {:?}",
            started.elapsed()
        );
    }
    // Liveness does not depend on the database.
    send(
        &client,
        awc::http::Method::GET,
        &format!("{address}/healthz"),
        &[],
        vec![],
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn the_service_recovers_by_itself_when_the_database_comes_back() {
    // The server starts while its database does not exist yet (an outage),
    // then the database appears: the next requests succeed without a restart.
    let name = format!("canasta_test_{}", uuid::Uuid::now_v7().simple());
    let mut settings = test_settings(url_with_db(&name));
    settings.pool_timeout = Duration::from_millis(300);
    let address = start_server(settings);
    let client = client();
    let readyz = format!("{address}/readyz");
    let ready = || send(&client, awc::http::Method::GET, &readyz, &[], vec![]);
    ready().await.assert_problem(503, "service_unavailable");

    let db = TestDb::create();
    let mut conn = PgConnection::establish(&url_with_db("postgres")).unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{}\" RENAME TO \"{name}\"",
        db.name
    ))
    .execute(&mut conn)
    .unwrap();
    let renamed = TestDb { name };
    std::mem::forget(db);

    let mut status = 0;
    for _ in 0..50 {
        status = ready().await.status;
        if status == 200 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the service did not recover");
    send(
        &client,
        awc::http::Method::GET,
        &format!("{address}/api/v1/products"),
        &[],
        vec![],
    )
    .await
    .assert_status(200);
    drop(renamed);
}

#[actix_web::test]
async fn metrics_count_the_sql_statements_sent() {
    let app = TestApp::spawn().await;
    let read = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("canasta_sql_statements_total "))
            .and_then(|n| n.parse().ok())
            .expect("the statements counter")
    };
    let first = app.get("/metrics", None).await;
    first.assert_status(200);
    assert!(
        first
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    assert!(first.text.contains("canasta_db_pool_connections "));
    let before = read(&first.text);
    app.get("/readyz", None).await.assert_status(200);
    let after = read(&app.get("/metrics", None).await.text);
    assert!(after > before, "{before} -> {after}");
}

/// Statuses of `n` sequential product-list requests.
async fn statuses(app: &TestApp, n: usize) -> Vec<u16> {
    let mut out = vec![];
    for _ in 0..n {
        let resp = app.get("/api/v1/products", None).await;
        if resp.status != 200 {
            resp.assert_problem(503, "service_unavailable");
        }
        out.push(resp.status);
    }
    out
}

fn kill_server_connections(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(conn.pg())
    .unwrap();
}

#[actix_web::test]
async fn connections_the_database_closed_are_replaced() {
    let app = TestApp::spawn().await;
    statuses(&app, 4).await;
    // Killed while idle: the pool checks a connection idle for more than
    // `TRUSTED_FOR` before handing it out, so nobody notices.
    kill_server_connections(&app);
    actix_web::rt::time::sleep(canasta::db::TRUSTED_FOR + Duration::from_millis(200)).await;
    assert_eq!(statuses(&app, 6).await, vec![200; 6]);
    // Killed just after use (a database restart under load): a connection
    // trusted as fresh may fail one request with 503; it is then checked and
    // replaced, and the service carries on by itself.
    kill_server_connections(&app);
    let seen = statuses(&app, 12).await;
    let failed = seen.iter().filter(|s| **s == 503).count();
    assert!(
        failed <= 8,
        "more failures than pooled connections: {seen:?}"
    );
    assert_eq!(seen[seen.len() - 3..], [200, 200, 200], "{seen:?}");
}

#[actix_web::test]
async fn hot_writes_are_prepared_once_per_connection() {
    use canasta::db::schema::carts;
    use canasta::events::{Event, Publish, notify};
    let app = TestApp::spawn().await;
    let (cart, _) = app.guest_cart().await;
    let id: uuid::Uuid = cart.parse().unwrap();
    let mut conn = app.pool.get().unwrap();
    let conn = conn.pg();
    let mut version: i32 = carts::table
        .find(id)
        .select(carts::version)
        .first(conn)
        .unwrap();
    for _ in 0..3 {
        let next = Event::Cart {
            id: id.into(),
            version: version + 1,
        };
        let bumped = canasta::carts::repo::bump(conn, id.into(), version, true, Publish::of(&next))
            .unwrap()
            .expect("the cart was at this version");
        assert_eq!(bumped.version, version + 1);
        version = bumped.version;
        notify(conn, &Event::Rate).unwrap();
    }
    // A stale version bumps nothing.
    let stale = Publish::of(&Event::Rate);
    assert!(
        canasta::carts::repo::bump(conn, id.into(), version - 1, true, stale)
            .unwrap()
            .is_none()
    );
    #[derive(QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
    }
    let prepared: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Prepared>(conn)
        .unwrap()
        .into_iter()
        .map(|p| p.statement)
        .collect();
    let count = |prefix: &str| prepared.iter().filter(|s| s.starts_with(prefix)).count();
    assert_eq!(count("UPDATE \"carts\""), 1, "{prepared:?}");
    assert_eq!(count("SELECT (pg_notify"), 1, "{prepared:?}");
}
