//! canasta-load: drives running canasta instances over HTTP with realistic
//! scenarios and many virtual users, prints requests/s, latency percentiles
//! and statuses per concurrency level as Markdown, and checks the database
//! invariants after every scenario (exit status 1 when one is broken or a
//! request got a 5xx).
//!
//! Scenarios:
//! - `browse`: list products, read a product, read the cart;
//! - `cart`: add a line, change its quantity, read the cart;
//! - `checkout`: empty cart to placed order with a payment reference;
//! - `hot`: N buyers check out the last M units of one product at once.
//!
//! It needs the database (`DATABASE_URL`: to seed payment methods and to
//! check invariants) and the servers' HS256 secret (`JWT_SECRET`: to mint
//! tokens for its users). `scripts/load` starts servers and runs it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use awc::http::Method;
use canasta::auth::{JwtKeys, Role};
use canasta::config::{JwtAlgorithm, JwtSettings, Secret};
use clap::Parser;
use diesel::{Connection, PgConnection};
use futures::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(version, about = "Load generator for canasta")]
struct Args {
    /// Base URL of a canasta instance; repeat for several (users are spread round-robin).
    #[arg(long = "url", required_unless_present = "check_only")]
    urls: Vec<String>,
    /// Scenarios to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "browse,cart,add,checkout,hot"
    )]
    scenarios: Vec<Scenario>,
    /// Concurrency levels (virtual users), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    levels: Vec<usize>,
    /// Seconds per scenario and level.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Buyers in the hot-product race.
    #[arg(long, default_value_t = 200)]
    hot_buyers: usize,
    /// Units of the hot product.
    #[arg(long, default_value_t = 50)]
    hot_units: i32,
    /// An outage is part of the run (a killed instance, a database restart):
    /// refused connections and 503s are reported but do not fail it.
    #[arg(long)]
    tolerate_outage: bool,
    /// Only check the invariants, and that no reservation outlived its owner
    /// or its expiry (run after a fault test once the jobs had a round).
    #[arg(long)]
    check_only: bool,
    /// Skip measuring SQL statements per request (needs the servers' `/metrics`).
    #[arg(long)]
    no_statements: bool,
    /// Also write the report to this file.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// The database the servers use.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The servers' HS256 signing secret.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    Browse,
    Cart,
    /// Add-to-cart alone (cleared every 10 rounds): the pgbench ceiling's twin.
    Add,
    Checkout,
    Hot,
}

/// What a run measured: latencies per step, statuses, finished flows.
#[derive(Default)]
struct Stats {
    steps: BTreeMap<&'static str, Vec<Duration>>,
    statuses: BTreeMap<u16, usize>,
    flows: usize,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (k, v) in other.steps {
            self.steps.entry(k).or_default().extend(v);
        }
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.flows += other.flows;
    }

    fn all(&self) -> Vec<Duration> {
        let mut all: Vec<Duration> = self.steps.values().flatten().copied().collect();
        all.sort();
        all
    }

    fn requests(&self) -> usize {
        self.statuses.values().sum()
    }

    fn server_errors(&self, tolerate_outage: bool) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| {
                (**s >= 500 || **s == 0) && !(tolerate_outage && matches!(**s, 0 | 503))
            })
            .map(|(_, n)| n)
            .sum()
    }

    fn status_line(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| {
                if *s == 0 {
                    format!("transport:{n}")
                } else {
                    format!("{s}:{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn pct(sorted: &[Duration], p: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    format!("{:.1}", sorted[idx].as_secs_f64() * 1000.0)
}

fn step_pct(stats: &Stats, step: &str, p: f64) -> String {
    let mut v = stats.steps.get(step).cloned().unwrap_or_default();
    v.sort();
    pct(&v, p)
}

/// One virtual user's HTTP plumbing.
struct Caller {
    client: awc::Client,
    base: String,
    token: String,
    stats: Stats,
    /// When set, SQL statements each step cost (read from `/metrics` around it).
    profile: Option<BTreeMap<&'static str, Vec<u64>>>,
}

impl Caller {
    fn new(base: &str, token: String) -> Self {
        let client = awc::Client::builder()
            .connector(awc::Connector::new().limit(0))
            .timeout(Duration::from_secs(30))
            .finish();
        Self {
            client,
            base: base.to_string(),
            token,
            stats: Stats::default(),
            profile: None,
        }
    }

    async fn call(
        &mut self,
        step: &'static str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, String)],
    ) -> (u16, Value) {
        let before = match self.profile {
            Some(_) => self.statements().await,
            None => 0,
        };
        let out = self.send(step, method, path, body, headers).await;
        if self.profile.is_some() {
            let spent = self.statements().await.saturating_sub(before);
            if let Some(p) = self.profile.as_mut() {
                p.entry(step).or_default().push(spent);
            }
        }
        out
    }

    /// The server's SQL statement counter.
    async fn statements(&self) -> u64 {
        let Ok(mut res) = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
        else {
            return 0;
        };
        let body = res.body().await.unwrap_or_default();
        String::from_utf8_lossy(&body)
            .lines()
            .find_map(|l| l.strip_prefix("canasta_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    async fn send(
        &mut self,
        step: &'static str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, String)],
    ) -> (u16, Value) {
        let started = Instant::now();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {}", self.token)));
        for (k, v) in headers {
            req = req.insert_header((*k, v.as_str()));
        }
        let sent = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        let (status, value) = match sent {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let value = res
                    .json::<Value>()
                    .limit(8 << 20)
                    .await
                    .unwrap_or(Value::Null);
                (status, value)
            }
            Err(_) => (0, Value::Null),
        };
        self.stats
            .steps
            .entry(step)
            .or_default()
            .push(started.elapsed());
        *self.stats.statuses.entry(status).or_default() += 1;
        (status, value)
    }

    async fn get(&mut self, step: &'static str, path: &str) -> (u16, Value) {
        self.call(step, Method::GET, path, None, &[]).await
    }

    async fn post(&mut self, step: &'static str, path: &str, body: Value) -> (u16, Value) {
        self.call(step, Method::POST, path, Some(body), &[]).await
    }
}

/// The shop every scenario buys from.
struct Shop {
    seller: Uuid,
    products: Vec<Uuid>,
    option: Uuid,
}

struct Env {
    args: Args,
    keys: JwtKeys,
    admin: String,
}

impl Env {
    fn token(&self, roles: &[Role], seller: Option<Uuid>) -> String {
        self.keys
            .mint(
                Uuid::now_v7(),
                roles,
                seller.map(Into::into),
                Duration::from_secs(6 * 3600),
            )
            .expect("mint a token")
    }

    fn base(&self, i: usize) -> &str {
        &self.args.urls[i % self.args.urls.len()]
    }

    fn db(&self) -> PgConnection {
        PgConnection::establish(&self.args.database_url).unwrap_or_else(|e| {
            eprintln!("error: cannot connect to DATABASE_URL: {e}");
            std::process::exit(2)
        })
    }
}

async fn must(
    c: &mut Caller,
    step: &'static str,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let (status, value) = c.call(step, method, path, Some(body), &[]).await;
    if !(200..300).contains(&status) {
        eprintln!("error: setup {step} {path} answered {status}: {value}");
        std::process::exit(2);
    }
    value
}

/// Creates a seller with `products` products of `on_hand` units each and a courier option.
async fn make_shop(env: &Env, products: usize, on_hand: i32) -> Shop {
    let mut admin = Caller::new(env.base(0), env.admin.clone());
    let seller = Uuid::now_v7();
    must(
        &mut admin,
        "setup",
        Method::POST,
        "/api/v1/sellers",
        json!({"id": seller, "display_name": format!("Load {seller}")}),
    )
    .await;
    let mut ids = vec![];
    for i in 0..products {
        let p = must(
            &mut admin,
            "setup",
            Method::POST,
            "/api/v1/products",
            json!({"seller_id": seller, "sku": format!("L{i}"), "name": format!("Harina PAN {i}"),
                   "category": "load", "price_usd": "1.99", "weight_kg": "1.000", "max_per_order": 1000}),
        )
        .await;
        let id: Uuid = p["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("product id");
        must(
            &mut admin,
            "setup",
            Method::PUT,
            &format!("/api/v1/inventory/{id}"),
            json!({"on_hand": on_hand}),
        )
        .await;
        ids.push(id);
    }
    let option = must(
        &mut admin,
        "setup",
        Method::POST,
        &format!("/api/v1/sellers/{seller}/delivery-options"),
        json!({"kind": "courier_door", "name": "MRW", "carrier": "MRW", "base_cost_usd": "3.00",
               "per_kg_usd": "0.50", "min_days": 1, "max_days": 3}),
    )
    .await;
    Shop {
        seller,
        products: ids,
        option: option["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("option id"),
    }
}

async fn prepare(env: &Env) {
    let mut admin = Caller::new(env.base(0), env.admin.clone());
    let (s, v) = admin
        .post(
            "setup",
            "/api/v1/exchange-rates",
            json!({"rate": "36.50", "source": "load"}),
        )
        .await;
    if !matches!(s, 201 | 409) {
        eprintln!("error: creating the exchange rate answered {s}: {v}");
        std::process::exit(2);
    }
    let mut conn = env.db();
    canasta::payments::service::seed_defaults(&mut conn).expect("seed payment methods");
}

/// Browse: a product page, a product, the cart.
async fn browse(mut c: Caller, shop: &Shop, deadline: Instant) -> Stats {
    let mut n = 0usize;
    while Instant::now() < deadline {
        n += 1;
        c.get("list products", "/api/v1/products?limit=20").await;
        let id = shop.products[n % shop.products.len()];
        c.get("get product", &format!("/api/v1/products/{id}"))
            .await;
        c.get("get cart", "/api/v1/carts/me").await;
        c.stats.flows += 1;
    }
    c.stats
}

/// Cart: add a line, change its quantity, read the cart; cleared every 10
/// rounds. With `add_only` a round is just the add (the `add` scenario, what
/// `bench/pgbench/add_to_cart.sql` replays in SQL).
async fn cart(mut c: Caller, shop: &Shop, deadline: Instant, user: usize, add_only: bool) -> Stats {
    let (_, me) = c.get("get cart", "/api/v1/carts/me").await;
    let Some(cart) = me["id"].as_str().map(str::to_string) else {
        return c.stats;
    };
    if add_only {
        // Only the adds count: the cart read that found the cart is setup.
        c.stats = Stats::default();
    }
    let mut n = 0usize;
    while Instant::now() < deadline {
        n += 1;
        if n.is_multiple_of(10) {
            c.call(
                "clear cart",
                Method::DELETE,
                &format!("/api/v1/carts/{cart}/items"),
                None,
                &[],
            )
            .await;
        }
        let product = shop.products[(user + n) % shop.products.len()];
        let (status, body) = c
            .post(
                "add to cart",
                &format!("/api/v1/carts/{cart}/items"),
                json!({"product_id": product, "quantity": 1}),
            )
            .await;
        if add_only {
            c.stats.flows += usize::from(status == 200);
            continue;
        }
        let item = body["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|i| i["product_id"] == product.to_string())
                .and_then(|i| i["id"].as_str().map(str::to_string))
        });
        if let Some(item) = item {
            c.call(
                "change quantity",
                Method::PATCH,
                &format!("/api/v1/carts/{cart}/items/{item}"),
                Some(json!({"quantity": 2})),
                &[],
            )
            .await;
        }
        c.get("get cart", &format!("/api/v1/carts/{cart}")).await;
        c.stats.flows += 1;
    }
    c.stats
}

/// One buyer's whole checkout: returns true when an order was placed and its payment reported.
async fn checkout_once(c: &mut Caller, shop: &Shop, products: &[Uuid]) -> bool {
    let (s, me) = c.get("get cart", "/api/v1/carts/me").await;
    let Some(cart) = me["id"].as_str().map(str::to_string).filter(|_| s == 200) else {
        return false;
    };
    for p in products {
        let (s, _) = c
            .post(
                "add to cart",
                &format!("/api/v1/carts/{cart}/items"),
                json!({"product_id": p, "quantity": 1}),
            )
            .await;
        if s != 200 {
            return false;
        }
    }
    let (s, address) = c
        .post(
            "add address",
            "/api/v1/addresses",
            json!({"recipient": "María Pérez", "phone": "0414-1234567", "national_id": "V-12345678",
                   "state": "Distrito Capital", "municipality": "Libertador", "city": "Caracas",
                   "line1": "Av. Urdaneta, Edif. Central, piso 3", "reference_point": "frente a la plaza"}),
        )
        .await;
    if s != 201 {
        return false;
    }
    let (s, started) = c
        .post(
            "start checkout",
            "/api/v1/checkouts",
            json!({"cart_id": cart}),
        )
        .await;
    let Some(checkout) = started["id"]
        .as_str()
        .map(str::to_string)
        .filter(|_| s == 201)
    else {
        return false;
    };
    let (s, review) = c
        .call(
            "choose",
            Method::PATCH,
            &format!("/api/v1/checkouts/{checkout}"),
            Some(
                json!({"address_id": address["id"], "payment_method": "pago_movil",
                        "deliveries": [{"seller_id": shop.seller, "option_id": shop.option}]}),
            ),
            &[],
        )
        .await;
    if s != 200 {
        return false;
    }
    let (s, placed) = c
        .call(
            "place order",
            Method::POST,
            &format!("/api/v1/checkouts/{checkout}/place"),
            Some(json!({"expected_total": review["expected_total"]})),
            &[("idempotency-key", Uuid::now_v7().to_string())],
        )
        .await;
    if s != 201 {
        return false;
    }
    let Some(order) = placed["orders"][0]["id"].as_str().map(str::to_string) else {
        return false;
    };
    let (s, _) = c
        .post(
            "report payment",
            &format!("/api/v1/orders/{order}/payments"),
            json!({"bank": "Banesco", "phone": "0414-1234567", "national_id": "V-12345678",
                   "reference": Uuid::now_v7().simple().to_string()[..12].to_string()}),
        )
        .await;
    s == 200
}

/// Checkout: a new buyer each round, cart to placed order with a payment reference.
async fn checkout(env: &Env, base: &str, shop: &Shop, deadline: Instant, user: usize) -> Stats {
    let mut stats = Stats::default();
    let mut n = 0usize;
    while Instant::now() < deadline {
        n += 1;
        let mut c = Caller::new(base, env.token(&[Role::Customer], None));
        let a = shop.products[(user + n) % shop.products.len()];
        let b = shop.products[(user + n + 1) % shop.products.len()];
        if checkout_once(&mut c, shop, &[a, b]).await {
            c.stats.flows += 1;
        }
        stats.merge(c.stats);
    }
    stats
}

/// SQL statements per step of one buyer's checkout, the minimum of five
/// single-user runs (background jobs may add to a run, never subtract).
async fn statement_profile(env: &Env, shop: &Shop, out: &mut String) {
    let mut best: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut order: Vec<&'static str> = vec![];
    for round in 0..5 {
        let mut c = Caller::new(env.base(0), env.token(&[Role::Customer], None));
        c.profile = Some(BTreeMap::new());
        let products = [shop.products[round], shop.products[round + 1]];
        checkout_once(&mut c, shop, &products).await;
        for (step, counts) in c.profile.unwrap_or_default() {
            let per_call = counts.iter().copied().min().unwrap_or(0);
            if !order.contains(&step) {
                order.push(step);
            }
            let e = best.entry(step).or_insert(u64::MAX);
            *e = (*e).min(per_call);
        }
    }
    let steps = [
        "get cart",
        "add to cart",
        "add address",
        "start checkout",
        "choose",
        "place order",
        "report payment",
    ];
    let mut text = String::from(
        "\n### SQL statements per request (one buyer's checkout, BEGIN/COMMIT included; the pool checks a connection only after 500 ms idle)\n\n| request | statements |\n|---|---|\n",
    );
    let mut whole = 0;
    for step in steps {
        if let Some(n) = best.get(step) {
            let times = if step == "add to cart" { 2 } else { 1 };
            whole += n * times;
            let _ = writeln!(text, "| {step} | {n} |");
        }
    }
    let _ = writeln!(text, "| whole checkout (8 requests) | {whole} |");
    emit(out, &text);
}

/// Checks the database invariants; returns the report text and whether they hold.
fn invariants(env: &Env) -> (String, bool) {
    let mut out = String::new();
    let mut conn = env.db();
    let ok = match canasta::invariants::all(&mut conn) {
        Ok(problems) if problems.is_empty() => {
            let _ = writeln!(
                out,
                "\nInvariants: hold (no oversell; `reserved` = active reservations; the ledger replays to `on_hand`; order totals = lines in USD and VES; one order per seller per checkout).\n"
            );
            true
        }
        Ok(problems) => {
            let _ = writeln!(out, "\nInvariants: **BROKEN** ({}):\n", problems.len());
            for p in problems.iter().take(20) {
                let _ = writeln!(out, "- {p}");
            }
            false
        }
        Err(e) => {
            let _ = writeln!(out, "\nInvariants: could not be checked: {e}\n");
            false
        }
    };
    (out, ok)
}

fn emit(out: &mut String, text: &str) {
    print!("{text}");
    out.push_str(text);
}

async fn timed(env: &Env, scenario: Scenario, shop: &Shop, out: &mut String) -> usize {
    let (title, key) = match scenario {
        Scenario::Browse => (
            "browse: list products, read a product, read the cart",
            "get product",
        ),
        Scenario::Cart => (
            "cart: add a line, change its quantity, read the cart",
            "add to cart",
        ),
        Scenario::Add => (
            "add: add-to-cart alone (cleared every 10 rounds)",
            "add to cart",
        ),
        Scenario::Checkout => (
            "checkout: empty cart -> 2 lines -> address -> checkout -> choices -> place -> payment reference",
            "place order",
        ),
        Scenario::Hot => unreachable!("the hot race is not timed"),
    };
    let flow = match scenario {
        Scenario::Checkout => "checkouts/s",
        Scenario::Add => "adds/s",
        _ => "rounds/s",
    };
    emit(
        out,
        &format!(
            "\n### {title}\n\n{}s per level, {} instance(s).\n\n| users | requests/s | {flow} | p50 ms | p95 ms | p99 ms | max ms | {key} p50 ms | {key} p99 ms | statuses |\n|---|---|---|---|---|---|---|---|---|---|\n",
            env.args.seconds,
            env.args.urls.len()
        ),
    );
    let mut server_errors = 0;
    for &users in &env.args.levels {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(env.args.seconds);
        let runs = (0..users).map(|u| {
            let base = env.base(u).to_string();
            async move {
                let shopper = || Caller::new(&base, env.token(&[Role::Customer], None));
                match scenario {
                    Scenario::Browse => browse(shopper(), shop, deadline).await,
                    Scenario::Cart => cart(shopper(), shop, deadline, u, false).await,
                    Scenario::Add => cart(shopper(), shop, deadline, u, true).await,
                    _ => checkout(env, &base, shop, deadline, u).await,
                }
            }
        });
        let mut stats = Stats::default();
        for s in join_all(runs).await {
            stats.merge(s);
        }
        let secs = started.elapsed().as_secs_f64();
        let all = stats.all();
        server_errors += stats.server_errors(env.args.tolerate_outage);
        emit(
            out,
            &format!(
                "| {users} | {:.0} | {:.1} | {} | {} | {} | {} | {} | {} | {} |\n",
                stats.requests() as f64 / secs,
                stats.flows as f64 / secs,
                pct(&all, 0.5),
                pct(&all, 0.95),
                pct(&all, 0.99),
                pct(&all, 1.0),
                step_pct(&stats, key, 0.5),
                step_pct(&stats, key, 0.99),
                stats.status_line()
            ),
        );
    }
    server_errors
}

async fn hot(env: &Env, out: &mut String) -> (usize, bool) {
    let shop = make_shop(env, 1, env.args.hot_units).await;
    let buyers = env.args.hot_buyers;
    let started = Instant::now();
    let runs = (0..buyers).map(|u| {
        let base = env.base(u).to_string();
        let shop = &shop;
        async move {
            let mut c = Caller::new(&base, env.token(&[Role::Customer], None));
            let placed = checkout_once(&mut c, shop, &shop.products).await;
            (placed, c.stats)
        }
    });
    let mut stats = Stats::default();
    let mut placed = 0;
    for (ok, s) in join_all(runs).await {
        placed += usize::from(ok);
        stats.merge(s);
    }
    let secs = started.elapsed().as_secs_f64();
    let mut conn = env.db();
    let sold = hot_orders(&mut conn, shop.products[0]);
    let exact = sold == env.args.hot_units as i64 && placed == env.args.hot_units as usize;
    emit(
        out,
        &format!(
            "\n### hot product: {buyers} buyers check out the last {} units of one product at once\n\n| buyers | units | orders placed | orders in the database | 5xx | seconds | statuses |\n|---|---|---|---|---|---|---|\n| {buyers} | {} | {placed} | {sold} | {} | {secs:.1} | {} |\n\n{}\n",
            env.args.hot_units,
            env.args.hot_units,
            stats.server_errors(env.args.tolerate_outage),
            stats.status_line(),
            if exact {
                "Exactly as many orders as units; every other buyer got a 4xx answer."
            } else {
                "**Not exact**: orders differ from units."
            }
        ),
    );
    (stats.server_errors(env.args.tolerate_outage), exact)
}

fn hot_orders(conn: &mut PgConnection, product: Uuid) -> i64 {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(DISTINCT order_id) AS n FROM order_items WHERE product_id = $1")
        .bind::<SqlUuid, _>(product)
        .get_result::<N>(conn)
        .map(|r| r.n)
        .unwrap_or(-1)
}

fn main() {
    let args = Args::parse();
    let jwt = JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(Secret::new(args.jwt_secret.clone())),
        public_key_file: None,
        private_key_file: None,
        issuer: std::env::var("JWT_ISSUER").ok(),
        audience: std::env::var("JWT_AUDIENCE").ok(),
    };
    let keys = JwtKeys::from_settings(&jwt).unwrap_or_else(|e| {
        eprintln!("error: JWT_SECRET: {e}");
        std::process::exit(2)
    });
    let admin = keys
        .mint(
            Uuid::now_v7(),
            &[Role::Admin],
            None,
            Duration::from_secs(6 * 3600),
        )
        .expect("mint");
    let env = Env { args, keys, admin };
    if env.args.check_only {
        let mut conn = env.db();
        let (text, mut ok) = invariants(&env);
        print!("{text}");
        match canasta::invariants::dangling_reservations(&mut conn) {
            Ok(d) if d.is_empty() => {
                println!("Reservations: every one ended or still has a live owner.")
            }
            Ok(d) => {
                ok = false;
                println!("Reservations: **{} dangling**:", d.len());
                for r in d.iter().take(20) {
                    println!("- {r}");
                }
            }
            Err(e) => {
                ok = false;
                println!("Reservations: could not be checked: {e}");
            }
        }
        std::process::exit(if ok { 0 } else { 1 });
    }
    let ok = actix_rt::System::new().block_on(async {
        let mut out = String::new();
        prepare(&env).await;
        let shop = make_shop(&env, 20, 100_000_000).await;
        let mut ok = true;
        if !env.args.no_statements {
            statement_profile(&env, &shop, &mut out).await;
        }
        for &scenario in &env.args.scenarios {
            if scenario == Scenario::Hot {
                let (errors, exact) = hot(&env, &mut out).await;
                ok &= errors == 0 && exact;
            } else {
                ok &= timed(&env, scenario, &shop, &mut out).await == 0;
            }
            let (text, held) = invariants(&env);
            emit(&mut out, &text);
            ok &= held;
        }
        if let Some(path) = &env.args.report
            && let Err(e) = std::fs::write(path, &out)
        {
            eprintln!("error: writing {}: {e}", path.display());
            return false;
        }
        ok
    });
    std::process::exit(if ok { 0 } else { 1 });
}
