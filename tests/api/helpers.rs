//! The test harness: `TestApp::spawn()` starts the real server on a free
//! port against a fresh database cloned from a migrated template, and drops
//! that database when the test ends. Typed helpers keep tests short.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use awc::http::Method;
use canasta::auth::{JwtKeys, Role};
use canasta::config::{JwtAlgorithm, JwtSettings, Secret, Settings};
use canasta::db::{self, DbPool};
use canasta::startup::Application;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The HS256 secret every test server uses.
pub const SECRET: &str = "test-secret-that-is-long-enough-0123456789";

/// `DATABASE_URL` with another database name.
pub fn url_with_db(db: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server; run the tests with scripts/test");
    let (prefix, rest) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

fn maintenance() -> PgConnection {
    PgConnection::establish(&url_with_db("postgres")).expect("connect to the maintenance database")
}

fn migrations_hash() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).unwrap());
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// The migrated template database, created once per migrations hash. An
/// advisory lock keeps concurrent test processes from building it twice.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("canasta_tpl_{}", migrations_hash());
        let mut conn = maintenance();
        diesel::sql_query("SELECT pg_advisory_lock(727274)")
            .execute(&mut conn)
            .unwrap();
        let existing: Vec<Name> =
            diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'canasta_tpl_%'")
                .load(&mut conn)
                .unwrap();
        if !existing.iter().any(|n| n.datname == name) {
            for stale in existing {
                let _ = diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    stale.datname
                ))
                .execute(&mut conn);
            }
            let building = format!("{name}_build");
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
            ))
            .execute(&mut conn)
            .unwrap();
            diesel::sql_query(format!("CREATE DATABASE \"{building}\""))
                .execute(&mut conn)
                .unwrap();
            {
                let mut build = PgConnection::establish(&url_with_db(&building)).unwrap();
                db::migrate(&mut build).unwrap();
            }
            diesel::sql_query(format!(
                "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
            ))
            .execute(&mut conn)
            .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(727274)")
            .execute(&mut conn)
            .unwrap();
        name
    })
}

/// A database cloned from the template, dropped when this value is.
pub struct TestDb {
    /// Its name.
    pub name: String,
}

impl TestDb {
    /// Clones the template into a new database.
    pub fn create() -> Self {
        let template = template();
        let name = format!("canasta_test_{}", Uuid::now_v7().simple());
        let mut conn = maintenance();
        let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        let mut attempt = 0;
        // Two clones of one template at the same instant can collide; retry briefly.
        while let Err(e) = diesel::sql_query(&sql).execute(&mut conn) {
            attempt += 1;
            assert!(attempt < 50, "cannot create {name}: {e}");
            std::thread::sleep(Duration::from_millis(20 * attempt));
        }
        Self { name }
    }

    /// Its connection URL.
    pub fn url(&self) -> String {
        url_with_db(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut conn = maintenance();
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn);
    }
}

/// Settings for a test server on `database_url`.
pub fn test_settings(database_url: String) -> Settings {
    Settings {
        database_url: Secret::new(database_url),
        pool_size: 8,
        pool_timeout: Duration::from_secs(5),
        host: "127.0.0.1".into(),
        port: 0,
        workers: Some(2),
        run_migrations: false,
        cors_origins: vec![],
        max_body_bytes: 65_536,
        run_jobs: false,
        job_interval: Duration::from_millis(100),
        cart_idle: Duration::from_secs(72 * 3600),
        idempotency_retention: Duration::from_secs(24 * 3600),
        cart_hold: None,
        jwt: JwtSettings {
            algorithm: JwtAlgorithm::Hs256,
            secret: Some(Secret::new(SECRET)),
            public_key_file: None,
            private_key_file: None,
            issuer: None,
            audience: None,
        },
        // Test receivers listen on 127.0.0.1 over plain HTTP; tests of the
        // SSRF refusals turn these off.
        webhooks: canasta::config::WebhookSettings {
            allow_http: true,
            allow_private: true,
            connect_timeout: Duration::from_millis(500),
            timeout: Duration::from_millis(1500),
            retry_schedule: vec![Duration::from_millis(200); 3],
            disable_after: Duration::from_secs(3600),
            lease: Duration::from_secs(5),
        },
    }
}

/// One response, with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: awc::http::header::HeaderMap,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The body as text.
    pub text: String,
}

/// Reading answers in tests without `as_str().unwrap()` chains: a value of
/// the wrong shape panics showing what it was.
pub trait JsonExt {
    /// The string this value is.
    fn str(&self) -> &str;
    /// The string this value is, owned.
    fn string(&self) -> String {
        self.str().to_string()
    }
    /// The integer this value is.
    fn int(&self) -> i64;
}

impl JsonExt for Value {
    #[track_caller]
    fn str(&self) -> &str {
        self.as_str()
            .unwrap_or_else(|| panic!("expected a string, found {self}"))
    }

    #[track_caller]
    fn int(&self) -> i64 {
        self.as_i64()
            .unwrap_or_else(|| panic!("expected an integer, found {self}"))
    }
}

impl Resp {
    /// The `id` of the resource answered.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"].string()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with `status` and `code`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["type"], format!("urn:canasta:problem:{code}"));
        self
    }

    /// Asserts `status`, showing the body otherwise.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    /// The fields a validation problem names, sorted.
    pub fn error_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        fields.sort();
        fields
    }
}

/// A running server and its database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The database (dropped last).
    pub db: TestDb,
    /// A pool on the same database, for arranging and checking data.
    pub pool: DbPool,
    keys: JwtKeys,
    client: awc::Client,
}

impl TestApp {
    /// Starts a server on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server on a fresh database with adjusted settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create();
        let mut settings = test_settings(db.url());
        adjust(&mut settings);
        let keys = JwtKeys::from_settings(&settings.jwt).unwrap();
        let address = start_server(settings);
        let pool = db::pool(&db.url(), 2, Duration::from_secs(5));
        Self {
            address,
            db,
            pool,
            keys,
            client: client(),
        }
    }

    /// Starts another server on the same database (a second instance).
    pub fn another_instance(&self) -> String {
        start_server(test_settings(self.db.url()))
    }

    /// A token for a new user with `roles`.
    pub fn token(&self, roles: &[Role], seller: Option<Uuid>) -> String {
        self.token_for(Uuid::now_v7(), roles, seller)
    }

    /// A token for `sub` with `roles`.
    pub fn token_for(&self, sub: Uuid, roles: &[Role], seller: Option<Uuid>) -> String {
        self.keys
            .mint(
                sub,
                roles,
                seller.map(Into::into),
                Duration::from_secs(3600),
            )
            .unwrap()
    }

    /// An admin token.
    pub fn admin(&self) -> String {
        self.token(&[Role::Admin], None)
    }

    /// A support token.
    pub fn support(&self) -> String {
        self.token(&[Role::Support], None)
    }

    /// A customer token.
    pub fn customer(&self) -> String {
        self.token(&[Role::Customer], None)
    }

    /// A token for staff of `seller`.
    pub fn seller(&self, seller: Uuid) -> String {
        self.token(&[Role::Seller], Some(seller))
    }

    /// Sends a request with optional bearer token and JSON body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut headers = vec![];
        let auth;
        if let Some(t) = token {
            auth = format!("Bearer {t}");
            headers.push(("authorization", auth.as_str()));
        }
        let bytes = match body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(b).unwrap()
            }
            None => vec![],
        };
        self.raw(method, path, &headers, bytes).await
    }

    /// Sends raw bytes with the given headers.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Resp {
        send(
            &self.client,
            method,
            &format!("{}{path}", self.address),
            headers,
            body,
        )
        .await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(&body)).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(&body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Creates an active seller and returns its id.
    pub async fn create_seller(&self) -> Uuid {
        let id = Uuid::now_v7();
        self.post(
            "/api/v1/sellers",
            Some(&self.admin()),
            json!({"id": id, "display_name": format!("Shop {id}")}),
        )
        .await
        .assert_status(201);
        id
    }

    /// Creates a product for `seller` (as that seller) and returns it.
    pub async fn create_product(&self, seller: Uuid, sku: &str, price: &str) -> Value {
        self.create_product_with(seller, json!({"sku": sku, "name": format!("Product {sku}"), "category": "groceries", "price_usd": price}))
            .await
    }

    /// Creates a product from a full body (as the seller) and returns it.
    pub async fn create_product_with(&self, seller: Uuid, body: Value) -> Value {
        let resp = self
            .post("/api/v1/products", Some(&self.seller(seller)), body)
            .await;
        resp.assert_status(201);
        resp.body
    }

    /// Posts an exchange rate effective now.
    pub async fn post_rate(&self, rate: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/exchange-rates",
                Some(&self.admin()),
                json!({"rate": rate, "source": "bcv"}),
            )
            .await;
        resp.assert_status(201);
        resp.body
    }

    /// Rows in `table` (to check that nothing was written).
    pub fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().unwrap();
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<Count>(conn.pg())
            .unwrap()
            .n
    }
}

/// An HTTP client with a timeout suited to tests.
pub fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
}

/// Starts a server for `settings` on the current runtime; returns its address.
pub fn start_server(settings: Settings) -> String {
    let app = Application::build(settings).expect("the test server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    address
}

/// Sends a JSON request with a bearer token to the instance at `base`
/// (another instance than the app's own, as a load balancer would).
pub async fn send_json_to(
    base: &str,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> Resp {
    let auth = format!("Bearer {token}");
    send(
        &client(),
        method,
        &format!("{base}{path}"),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// Sends one request and reads the whole answer.
pub async fn send(
    client: &awc::Client,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let method_name = method.as_str().to_string();
    let mut req = client.request(method, url);
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let mut res = req.send_body(body).await.expect("the request is answered");
    let bytes = res
        .body()
        .limit(10 * 1024 * 1024)
        .await
        .expect("the body is read");
    let text = String::from_utf8_lossy(&bytes).to_string();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let names: Vec<String> = res
        .headers()
        .keys()
        .map(|k| k.as_str().to_string())
        .collect();
    crate::contract::check(
        &method_name,
        url,
        res.status().as_u16(),
        content_type,
        &names,
        &bytes,
    );
    Resp {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    }
}

impl TestApp {
    /// Creates a seller and a product with `on_hand` units; returns (seller, product).
    pub async fn stocked_product(&self, on_hand: i32) -> (Uuid, Uuid) {
        let seller = self.create_seller().await;
        let sku = format!("SKU-{}", Uuid::now_v7().simple());
        let product = self.create_product(seller, &sku, "5.00").await["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        self.put(
            &format!("/api/v1/inventory/{product}"),
            Some(&self.seller(seller)),
            json!({"on_hand": on_hand}),
        )
        .await
        .assert_status(200);
        (seller, product)
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PUT, path, token, Some(&body)).await
    }

    /// Asks for a reservation of `lines` (product, quantity) as an admin.
    pub async fn reserve(&self, lines: &[(Uuid, i32)]) -> Resp {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(p, q)| json!({"product_id": p, "quantity": q}))
            .collect();
        self.post(
            "/api/v1/reservations",
            Some(&self.admin()),
            json!({"owner_type": "checkout", "owner_id": Uuid::now_v7(), "lines": lines}),
        )
        .await
    }

    /// The product's stock figures as its seller sees them.
    pub async fn stock(&self, seller: Uuid, product: Uuid) -> Value {
        let resp = self
            .get(
                &format!("/api/v1/inventory/{product}"),
                Some(&self.seller(seller)),
            )
            .await;
        resp.assert_status(200);
        resp.body
    }

    /// Checks the inventory invariants in the database: `reserved` equals the
    /// sum of active reservations, the ledger replays to `on_hand` and
    /// `reserved`, and nothing is negative. Returns the offending products.
    pub fn inventory_violations(&self) -> Vec<String> {
        canasta::invariants::inventory(&mut self.pool.get().unwrap()).unwrap()
    }

    /// Asserts the stock invariants hold, listing the violations if not.
    #[track_caller]
    pub fn assert_stock_invariants(&self) {
        let violations = self.inventory_violations();
        assert!(violations.is_empty(), "{violations:?}");
    }
}

impl TestApp {
    /// Checks the order invariants: every order's subtotal is the sum of its
    /// lines in both currencies; a paid live order's stock is sold; a
    /// cancelled order holds nothing; a line's status follows its order.
    /// Returns the offending orders.
    pub fn order_violations(&self) -> Vec<String> {
        canasta::invariants::orders(&mut self.pool.get().unwrap()).unwrap()
    }

    /// Asserts the order invariants hold, listing the violations if not.
    #[track_caller]
    pub fn assert_order_invariants(&self) {
        let violations = self.order_violations();
        assert!(violations.is_empty(), "{violations:?}");
    }
}

impl TestApp {
    /// A stocked product of a new seller with a price; returns (seller, product).
    pub async fn priced_product(
        &self,
        price: &str,
        on_hand: i32,
        max_per_order: i32,
    ) -> (Uuid, Uuid) {
        let seller = self.create_seller().await;
        let sku = format!("SKU-{}", Uuid::now_v7().simple());
        let product: Uuid = self
            .create_product_with(
                seller,
                json!({"sku": sku, "name": format!("Product {sku}"), "category": "groceries", "price_usd": price, "max_per_order": max_per_order}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        self.put(
            &format!("/api/v1/inventory/{product}"),
            Some(&self.seller(seller)),
            json!({"on_hand": on_hand}),
        )
        .await
        .assert_status(200);
        (seller, product)
    }

    /// Opens a guest cart; returns (cart id, token).
    pub async fn guest_cart(&self) -> (String, String) {
        let resp = self
            .request(Method::POST, "/api/v1/carts", None, None)
            .await;
        resp.assert_status(201);
        (
            resp.body["id"].as_str().unwrap().to_string(),
            resp.body["guest_token"].as_str().unwrap().to_string(),
        )
    }

    /// Sends a cart request as a guest (token) and/or a user (bearer), with an optional If-Match.
    pub async fn cart_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        cart_token: Option<&str>,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![];
        if let Some(b) = &bearer {
            headers.push(("authorization", b));
        }
        if let Some(t) = cart_token {
            headers.push(("x-cart-token", t));
        }
        if let Some(m) = if_match {
            headers.push(("if-match", m));
        }
        let bytes = match &body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(b).unwrap()
            }
            None => vec![],
        };
        self.raw(method, path, &headers, bytes).await
    }
}
