//! Class tests of the order lifecycle, over every reachable state:
//! - the actions an order lists are exactly the ones that work: for every
//!   state and every caller, each listed action (its request as listed, with
//!   its `required_fields` filled in) is accepted, and every other action is
//!   refused without changing anything;
//! - two moves from one state never both win: for every pair of moves the
//!   table allows from a state, both are sent at the same moment through two
//!   instances; exactly one wins, the timeline gets only the winner's rows,
//!   and the invariants hold.

use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, Resp, TestApp, send_json_to};

/// Every action an order may list.
const ALL_ACTIONS: &[&str] = &[
    "report_payment",
    "verify_payment",
    "reject_payment",
    "collect_payment",
    "cancel",
    "mark_preparing",
    "mark_shipped",
    "mark_in_transit",
    "mark_delivered",
    "mark_returned",
    "override",
];

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Buyer,
    Seller,
    OtherSeller,
    Support,
    Admin,
    Stranger,
}

const EVERYONE: [Who; 6] = [
    Who::Buyer,
    Who::Seller,
    Who::OtherSeller,
    Who::Support,
    Who::Admin,
    Who::Stranger,
];

/// One seller with a product and a courier, and the setup to place orders.
struct Lab {
    app: TestApp,
    seller: Uuid,
    other_seller: Uuid,
    product: String,
    courier: String,
    admin: String,
    support: String,
}

/// An order placed by `buyer`.
struct Order {
    id: String,
    buyer: String,
}

impl Lab {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        app.post_rate("10").await;
        {
            let mut conn = app.pool.get().unwrap();
            canasta::payments::service::seed_defaults(&mut conn).unwrap();
        }
        let shop = crate::checkout::shop(&app, "2.50", "1.000", 10_000).await;
        let other_seller = app.create_seller().await;
        let admin = app.admin();
        let support = app.support();
        Self {
            seller: shop.seller,
            other_seller,
            product: shop.product,
            courier: shop.courier,
            admin,
            support,
            app,
        }
    }

    fn token(&self, who: Who, order: &Order) -> String {
        match who {
            Who::Buyer => order.buyer.clone(),
            Who::Seller => self.app.seller(self.seller),
            Who::OtherSeller => self.app.seller(self.other_seller),
            Who::Support => self.support.clone(),
            Who::Admin => self.admin.clone(),
            Who::Stranger => self.app.customer(),
        }
    }

    /// Places an order for one unit, paid with `method`.
    async fn place(&self, method: &str) -> Order {
        let app = &self.app;
        let buyer = app.customer();
        let cart = app.get("/api/v1/carts/me", Some(&buyer)).await.id();
        app.post(
            &format!("/api/v1/carts/{cart}/items"),
            Some(&buyer),
            json!({"product_id": self.product, "quantity": 1}),
        )
        .await
        .assert_status(200);
        let checkout = app
            .post("/api/v1/checkouts", Some(&buyer), json!({"cart_id": cart}))
            .await;
        checkout.assert_status(201);
        let id = checkout.id();
        let address = app
            .post(
                "/api/v1/addresses",
                Some(&buyer),
                json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
                       "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
            )
            .await
            .id();
        let review = app
            .patch(
                &format!("/api/v1/checkouts/{id}"),
                Some(&buyer),
                json!({"address_id": address, "payment_method": method,
                       "deliveries": [{"seller_id": self.seller, "option_id": self.courier}]}),
            )
            .await;
        assert_eq!(review.body["ready"], true, "{}", review.text);
        let placed = crate::checkout::place(
            &app.address,
            &buyer,
            &id,
            Some("k"),
            &review.body["expected_total"],
        )
        .await;
        placed.assert_status(201);
        Order {
            id: placed.body["orders"][0]["id"].string(),
            buyer,
        }
    }

    async fn details(&self, order: &Order) -> Value {
        let resp = self
            .app
            .get(&format!("/api/v1/orders/{}", order.id), Some(&self.admin))
            .await;
        resp.assert_status(200);
        resp.body
    }

    /// The caller's allowed actions as listed (404 -> none).
    async fn listed(&self, order: &Order, who: Who) -> Vec<Value> {
        let resp = self
            .app
            .get(
                &format!("/api/v1/orders/{}", order.id),
                Some(&self.token(who, order)),
            )
            .await;
        match resp.status {
            200 => resp.body["allowed_actions"].as_array().unwrap().clone(),
            404 => vec![],
            other => panic!("{who:?} reads the order: {other} {}", resp.text),
        }
    }

    /// The request for `action` as a client would write it from the docs.
    async fn request_for(&self, order: &Order, action: &str) -> (String, Value) {
        let base = format!("/api/v1/orders/{}", order.id);
        let d = self.details(order).await;
        let body = |mut fixed: Value, fields: &[&str]| {
            for f in fields {
                fixed[*f] = fill(f, &d);
            }
            fixed
        };
        match action {
            "report_payment" => (
                format!("{base}/payments"),
                body(json!({}), &["bank", "phone", "national_id", "reference"]),
            ),
            "verify_payment" => (format!("{base}/payments/verify"), json!({})),
            "reject_payment" => (
                format!("{base}/payments/reject"),
                body(json!({}), &["reason"]),
            ),
            "collect_payment" => (
                format!("{base}/payments/collect"),
                body(json!({}), &["amount", "collected_by"]),
            ),
            "cancel" => (format!("{base}/cancel"), body(json!({}), &["reason"])),
            "mark_preparing" => (format!("{base}/shipping"), json!({"status": "preparing"})),
            "mark_shipped" => (
                format!("{base}/shipping"),
                body(
                    json!({"status": "shipped"}),
                    &["carrier", "tracking_number"],
                ),
            ),
            "mark_in_transit" => (format!("{base}/shipping"), json!({"status": "in_transit"})),
            "mark_delivered" => (format!("{base}/shipping"), json!({"status": "delivered"})),
            "mark_returned" => (
                format!("{base}/shipping"),
                body(json!({"status": "returned"}), &["reason"]),
            ),
            "override" => (
                format!("{base}/override"),
                body(json!({}), &["field", "to", "reason"]),
            ),
            other => panic!("unknown action {other}"),
        }
    }

    async fn post(&self, base: &str, path: &str, token: &str, body: &Value) -> Resp {
        send_json_to(base, awc::http::Method::POST, path, token, body).await
    }

    /// Takes `action` as `who` with the request written from the docs.
    async fn take(&self, order: &Order, who: Who, action: &str) -> Resp {
        let (path, body) = self.request_for(order, action).await;
        self.post(&self.app.address, &path, &self.token(who, order), &body)
            .await
    }

    /// Places an order and moves it along `steps` (each must succeed).
    async fn order_at(&self, state: &State) -> Order {
        let order = self.place(state.method).await;
        for (who, action) in state.steps {
            let resp = self.take(&order, *who, action).await;
            assert!(
                resp.status == 200,
                "{}: {action} as {who:?}: {} {}",
                state.name,
                resp.status,
                resp.text
            );
        }
        order
    }

    fn history_rows(&self, order: &Order) -> Vec<(String, String)> {
        use canasta::db::schema::order_history as h;
        let id: Uuid = order.id.parse().unwrap();
        let mut conn = self.app.pool.get().unwrap();
        h::table
            .filter(h::order_id.eq(id))
            .order(h::id.asc())
            .select((h::field, h::to_value))
            .load(conn.pg())
            .unwrap()
    }
}

/// A sample value for a field a listed action asks the caller to add.
fn fill(field: &str, order: &Value) -> Value {
    match field {
        "reason" => json!("checked by the test"),
        "bank" => json!("Banesco"),
        "phone" => json!("0414-1234567"),
        "national_id" => json!("V-12345678"),
        "reference" => json!(Uuid::now_v7().simple().to_string()[20..].to_string()),
        "sender" => json!("Ana Pérez"),
        "paid_on" => json!("2026-11-30"),
        "amount" => order["total"]["usd"].clone(),
        "collected_by" => json!("Repartidor"),
        "carrier" => json!("MRW"),
        "tracking_number" => json!("MRW-1"),
        "field" => json!("shipping_status"),
        "to" => {
            if order["shipping_status"] == "preparing" {
                json!("not_shipped")
            } else {
                json!("preparing")
            }
        }
        other => panic!("no sample for {other}"),
    }
}

/// A reachable state: the method and the moves that lead there.
struct State {
    name: &'static str,
    method: &'static str,
    steps: &'static [(Who, &'static str)],
}

use Who::{Buyer as B, Seller as S};

const STATES: &[State] = &[
    State {
        name: "placed",
        method: "pago_movil",
        steps: &[],
    },
    State {
        name: "reported",
        method: "pago_movil",
        steps: &[(B, "report_payment")],
    },
    State {
        name: "rejected",
        method: "pago_movil",
        steps: &[(B, "report_payment"), (S, "reject_payment")],
    },
    State {
        name: "paid",
        method: "pago_movil",
        steps: &[(B, "report_payment"), (S, "verify_payment")],
    },
    State {
        name: "preparing",
        method: "pago_movil",
        steps: &[
            (B, "report_payment"),
            (S, "verify_payment"),
            (S, "mark_preparing"),
        ],
    },
    State {
        name: "shipped",
        method: "pago_movil",
        steps: &[
            (B, "report_payment"),
            (S, "verify_payment"),
            (S, "mark_preparing"),
            (S, "mark_shipped"),
        ],
    },
    State {
        name: "in_transit",
        method: "pago_movil",
        steps: &[
            (B, "report_payment"),
            (S, "verify_payment"),
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_in_transit"),
        ],
    },
    State {
        name: "completed",
        method: "pago_movil",
        steps: &[
            (B, "report_payment"),
            (S, "verify_payment"),
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_delivered"),
        ],
    },
    State {
        name: "returned",
        method: "pago_movil",
        steps: &[
            (B, "report_payment"),
            (S, "verify_payment"),
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_in_transit"),
            (S, "mark_returned"),
        ],
    },
    State {
        name: "cancelled",
        method: "pago_movil",
        steps: &[(B, "cancel")],
    },
    State {
        name: "cash placed",
        method: "cash_usd",
        steps: &[],
    },
    State {
        name: "cash preparing",
        method: "cash_usd",
        steps: &[(S, "mark_preparing")],
    },
    State {
        name: "cash shipped",
        method: "cash_usd",
        steps: &[(S, "mark_preparing"), (S, "mark_shipped")],
    },
    State {
        name: "cash delivered, not collected",
        method: "cash_usd",
        steps: &[
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_delivered"),
        ],
    },
    State {
        name: "cash refused at the door",
        method: "cash_usd",
        steps: &[
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_in_transit"),
            (S, "mark_returned"),
        ],
    },
    State {
        name: "cash completed",
        method: "cash_usd",
        steps: &[
            (S, "mark_preparing"),
            (S, "mark_shipped"),
            (S, "mark_delivered"),
            (S, "collect_payment"),
        ],
    },
];

fn statuses(d: &Value) -> [Value; 3] {
    [
        d["status"].clone(),
        d["payment_status"].clone(),
        d["shipping_status"].clone(),
    ]
}

/// For the states in `names`: every caller's listed actions work as listed,
/// and every other action is refused without a change.
async fn listed_actions_are_exactly_the_ones_that_work(names: &[&str]) {
    let lab = Lab::new().await;
    for state in STATES.iter().filter(|s| names.contains(&s.name)) {
        let order = lab.order_at(state).await;
        let before = statuses(&lab.details(&order).await);
        let mut accepted = vec![];
        for who in EVERYONE {
            let links = lab.listed(&order, who).await;
            let listed: Vec<&str> = links.iter().map(|l| l["action"].str()).collect();
            for action in ALL_ACTIONS.iter().filter(|a| !listed.contains(a)) {
                let resp = lab.take(&order, who, action).await;
                assert!(
                    (400..500).contains(&resp.status),
                    "{}: unlisted {action} as {who:?} was accepted: {} {}",
                    state.name,
                    resp.status,
                    resp.text
                );
                assert_eq!(
                    statuses(&lab.details(&order).await),
                    before,
                    "{}: a refused {action} as {who:?} changed the order",
                    state.name
                );
            }
            for link in links {
                accepted.push((who, link["action"].string()));
            }
        }
        // Each listed action, taken as listed (its body plus the fields it
        // says to add), on an order of its own in the same state.
        for (who, action) in accepted {
            let fresh = lab.order_at(state).await;
            let link = lab
                .listed(&fresh, who)
                .await
                .into_iter()
                .find(|l| l["action"] == action.as_str())
                .unwrap_or_else(|| panic!("{}: {action} listed for {who:?}", state.name));
            let details = lab.details(&fresh).await;
            let mut body = link["body"].clone();
            for field in link["required_fields"].as_array().unwrap() {
                let field = field.str();
                body[field] = fill(field, &details);
            }
            assert_eq!(link["method"], "POST");
            let resp = lab
                .post(
                    &lab.app.address,
                    link["path"].str(),
                    &lab.token(who, &fresh),
                    &body,
                )
                .await;
            assert_eq!(
                resp.status, 200,
                "{}: listed {action} as {who:?} with {body} was refused: {}",
                state.name, resp.text
            );
        }
    }
    lab.app.assert_stock_invariants();
    lab.app.assert_order_invariants();
}

#[actix_web::test]
async fn before_payment_the_listed_actions_are_exactly_the_ones_that_work() {
    listed_actions_are_exactly_the_ones_that_work(&["placed", "reported", "rejected", "cancelled"])
        .await;
}

#[actix_web::test]
async fn after_payment_the_listed_actions_are_exactly_the_ones_that_work() {
    listed_actions_are_exactly_the_ones_that_work(&[
        "paid",
        "preparing",
        "shipped",
        "in_transit",
        "completed",
        "returned",
    ])
    .await;
}

#[actix_web::test]
async fn cash_on_delivery_lists_exactly_the_actions_that_work() {
    listed_actions_are_exactly_the_ones_that_work(&[
        "cash placed",
        "cash preparing",
        "cash shipped",
        "cash delivered, not collected",
        "cash refused at the door",
        "cash completed",
    ])
    .await;
}

/// Holds the order's row lock in a transaction of the test's own, so that
/// two requests both read the same state and then queue on their update;
/// released once both wait, which makes the race real every time.
struct RowLock {
    conn: PgConnection,
}

impl RowLock {
    fn take(app: &TestApp, order: &Order) -> Self {
        let mut conn = PgConnection::establish(&app.db.url()).unwrap();
        diesel::sql_query("BEGIN").execute(&mut conn).unwrap();
        diesel::sql_query(format!(
            "SELECT 1 FROM orders WHERE id = '{}' FOR UPDATE",
            order.id
        ))
        .execute(&mut conn)
        .unwrap();
        Self { conn }
    }

    /// Waits (up to ~5 s) until `n` other sessions wait for a lock.
    async fn wait_for(&mut self, app: &TestApp, n: i64) {
        for _ in 0..250 {
            if app.count(
                "pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            ) >= n
            {
                return;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    fn release(mut self) {
        diesel::sql_query("COMMIT").execute(&mut self.conn).unwrap();
    }
}

/// For the states in `names`: every pair of moves listed there, sent at
/// once through two instances, has exactly one winner.
async fn conflicting_moves_have_one_winner(names: &[&str]) {
    let lab = Lab::new().await;
    let second = lab.app.another_instance();
    let mut races = 0;
    for state in STATES.iter().filter(|s| names.contains(&s.name)) {
        let probe = lab.order_at(state).await;
        // The table's moves from here, each with a caller who may make it.
        let mut moves: Vec<(Who, String)> = vec![];
        for who in [Who::Seller, Who::Buyer, Who::Support] {
            for link in lab.listed(&probe, who).await {
                let action = link["action"].string();
                if !moves.iter().any(|(_, a)| *a == action) {
                    moves.push((who, action));
                }
            }
        }
        for i in 0..moves.len() {
            for j in i..moves.len() {
                let (a, b) = (&moves[i], &moves[j]);
                let order = lab.order_at(state).await;
                let before = lab.details(&order).await;
                let history_before = lab.history_rows(&order).len();
                let (path_a, body_a) = lab.request_for(&order, &a.1).await;
                let (path_b, body_b) = lab.request_for(&order, &b.1).await;
                let (token_a, token_b) = (lab.token(a.0, &order), lab.token(b.0, &order));
                let lock = RowLock::take(&lab.app, &order);
                let requests = futures::future::join(
                    lab.post(&lab.app.address, &path_a, &token_a, &body_a),
                    lab.post(&second, &path_b, &token_b, &body_b),
                );
                let release = async {
                    let mut lock = lock;
                    lock.wait_for(&lab.app, 2).await;
                    lock.release();
                };
                let ((x, y), ()) = futures::join!(requests, release);
                let won: Vec<&Resp> = [&x, &y].into_iter().filter(|r| r.status == 200).collect();
                assert_eq!(
                    won.len(),
                    1,
                    "{}: {a:?} vs {b:?}: {} {} / {} {}",
                    state.name,
                    x.status,
                    x.text,
                    y.status,
                    y.text
                );
                let lost = if x.status == 200 { &y } else { &x };
                lost.assert_problem(409, "invalid_transition");
                // Only the winner's moves are in the timeline: one row per
                // status that changed, each ending at the order's value.
                let after = lab.details(&order).await;
                let changed = ["status", "payment_status", "shipping_status"]
                    .into_iter()
                    .filter(|f| before[*f] != after[*f])
                    .count();
                let rows = lab.history_rows(&order);
                assert_eq!(
                    rows.len() - history_before,
                    changed,
                    "{}: {a:?} vs {b:?}: {rows:?}",
                    state.name
                );
                races += 1;
            }
        }
    }
    assert!(races > 0);
    lab.app.assert_stock_invariants();
    lab.app.assert_order_invariants();
}

#[actix_web::test]
async fn conflicting_moves_before_payment_have_exactly_one_winner() {
    conflicting_moves_have_one_winner(&["placed", "reported", "rejected"]).await;
}

#[actix_web::test]
async fn conflicting_moves_after_payment_have_exactly_one_winner() {
    conflicting_moves_have_one_winner(&["paid", "preparing", "shipped", "in_transit", "completed"])
        .await;
}

#[actix_web::test]
async fn conflicting_moves_of_cash_orders_have_exactly_one_winner() {
    conflicting_moves_have_one_winner(&[
        "cash placed",
        "cash preparing",
        "cash shipped",
        "cash delivered, not collected",
        "cash refused at the door",
    ])
    .await;
}

#[actix_web::test]
async fn cash_is_recorded_only_as_the_orders_total_by_its_seller_and_completes_it() {
    let lab = Lab::new().await;
    let order = lab
        .order_at(
            STATES
                .iter()
                .find(|s| s.name == "cash delivered, not collected")
                .unwrap(),
        )
        .await;
    let path = format!("/api/v1/orders/{}/payments/collect", order.id);
    let total = lab.details(&order).await["total"]["usd"].clone();
    let seller = lab.token(Who::Seller, &order);
    let app = &lab.app;
    for (body, field) in [
        (
            json!({"amount": "1.00", "collected_by": "Repartidor"}),
            "amount",
        ),
        (
            json!({"amount": 7.3, "collected_by": "Repartidor"}),
            "amount",
        ),
        (json!({"amount": total, "collected_by": ""}), "collected_by"),
        (json!({"amount": total}), "collected_by"),
        (
            json!({"amount": total, "collected_by": "x", "tip": "1"}),
            "tip",
        ),
    ] {
        let resp = app.post(&path, Some(&seller), body.clone()).await;
        resp.assert_problem(422, "validation_failed");
        assert_eq!(resp.error_fields(), [field], "{body}: {}", resp.text);
    }
    // A number is refused in words a client can act on.
    let resp = app
        .post(
            &path,
            Some(&seller),
            json!({"amount": 7.3, "collected_by": "R"}),
        )
        .await;
    assert!(
        resp.body["errors"][0]["message"]
            .str()
            .contains(r#"send a decimal string such as "6.50""#),
        "{}",
        resp.text
    );
    let good = json!({"amount": total, "collected_by": "Repartidor", "note": "vuelto 0.70"});
    app.post(&path, Some(&order.buyer), good.clone())
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &path,
        Some(&lab.token(Who::OtherSeller, &order)),
        good.clone(),
    )
    .await
    .assert_problem(404, "not_found");
    assert_eq!(lab.details(&order).await["payment_status"], "pending");
    let done = app.post(&path, Some(&seller), good.clone()).await;
    done.assert_status(200);
    assert_eq!(
        (
            done.body["status"].as_str(),
            done.body["payment_status"].as_str()
        ),
        (Some("completed"), Some("paid"))
    );
    let d = lab.details(&order).await;
    assert_eq!(d["payments"][0]["details"]["kind"], "collected");
    assert_eq!(d["payments"][0]["details"]["collected_by"], "Repartidor");
    assert_eq!(d["payments"][0]["status"], "verified");
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["to"].as_str(),
            last["actor_role"].as_str(),
            last["source"].as_str()
        ),
        (Some("completed"), Some("seller"), Some("system"))
    );
    app.post(&path, Some(&seller), good)
        .await
        .assert_problem(409, "invalid_transition");
    app.assert_stock_invariants();
    app.assert_order_invariants();
}

#[actix_web::test]
async fn a_cash_order_not_dispatched_in_its_window_is_cancelled_and_a_dispatched_one_is_not() {
    let lab = Lab::new().await;
    let waiting = lab.place("cash_usd").await;
    let dispatched = lab
        .order_at(STATES.iter().find(|s| s.name == "cash preparing").unwrap())
        .await;
    {
        let mut conn = lab.app.pool.get().unwrap();
        diesel::sql_query("UPDATE orders SET payment_due_at = now() - interval '1 minute'")
            .execute(conn.pg())
            .unwrap();
    }
    let cancelled = canasta::jobs::expire_unpaid_orders(&lab.app.pool).await;
    assert_eq!(cancelled, 1);
    let d = lab.details(&waiting).await;
    assert_eq!(d["status"], "cancelled");
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason"], "not dispatched within the window");
    assert_eq!(last["actor_role"], "system");
    assert_eq!(lab.details(&dispatched).await["status"], "processing");
    lab.app.assert_stock_invariants();
    lab.app.assert_order_invariants();
}
