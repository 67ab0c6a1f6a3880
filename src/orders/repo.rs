//! Orders' statements: the rows of `orders`, `order_items` and
//! `order_history`, and the combined statements that write an order's rows
//! with their outbox events in one round trip (placement and every move are
//! on the hot path; see `docs/benchmarks.md`). Outbox rows come built from
//! `crate::outbox::Message`; this file never spells a payload.

use diesel::prelude::*;
use uuid::Uuid;

use super::state::{ItemStatus, OrderStatus, PaymentStatus, ShippingStatus};
use super::{HistoryRow, OrderId, OrderItemRow, OrderRow};
use crate::db::cached::CachedExt;
use crate::db::schema::{order_history as h, order_items as i, orders as o};
use crate::ids::SellerId;
use crate::outbox::OutboxRow;

/// Writes orders with their lines, opening history and outbox events in one
/// statement, drawing each order's number (`CN-001001`) from the database's
/// sequence and adding it to the order's `order.placed` payload; returns the
/// numbers by order id. The rows travel as JSON and are expanded into each
/// table's own row type, so the columns cannot drift.
pub fn insert_opened(
    conn: &mut PgConnection,
    orders: &[OrderRow],
    items: &[OrderItemRow],
    history: &[HistoryRow],
    events: &[OutboxRow],
) -> QueryResult<std::collections::HashMap<OrderId, String>> {
    use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = SqlUuid)]
        id: OrderId,
        #[diesel(sql_type = Text)]
        number: String,
    }
    let numbers = diesel::sql_query(
        "WITH o AS (
             INSERT INTO orders
             SELECT r.* FROM jsonb_array_elements($1) WITH ORDINALITY AS a(value, n),
                  LATERAL jsonb_populate_record(NULL::orders, a.value || jsonb_build_object(
                      'number', 'CN-' || lpad(nextval('order_number_seq')::text, 6, '0'))) AS r
             ORDER BY a.n
             RETURNING id, number
         ), i AS (
             INSERT INTO order_items SELECT * FROM jsonb_populate_recordset(NULL::order_items, $2)
         ), h AS (
             INSERT INTO order_history SELECT * FROM jsonb_populate_recordset(NULL::order_history, $3)
         ), x AS (
             INSERT INTO outbox
             SELECT r.* FROM jsonb_array_elements($4) AS e(value)
             JOIN o ON o.id = (e.value->>'aggregate_id')::uuid,
                  LATERAL jsonb_populate_record(NULL::outbox, e.value || jsonb_build_object(
                      'payload', (e.value->'payload') || jsonb_build_object('number', o.number))) AS r
         )
         SELECT id, number FROM o",
    )
    .bind::<Jsonb, _>(to_json(orders)?)
    .bind::<Jsonb, _>(to_json(items)?)
    .bind::<Jsonb, _>(to_json(history)?)
    .bind::<Jsonb, _>(to_json(events)?)
    .cached()
    .load::<Number>(conn)?;
    Ok(numbers.into_iter().map(|n| (n.id, n.number)).collect())
}

fn to_json<T: serde::Serialize + ?Sized>(rows: &T) -> QueryResult<serde_json::Value> {
    serde_json::to_value(rows).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// Writes a move's history row and its outbox event in one statement.
pub fn record(conn: &mut PgConnection, row: &HistoryRow, event: &OutboxRow) -> QueryResult<()> {
    use diesel::sql_types::Jsonb;
    diesel::sql_query(
        "WITH h AS (
             INSERT INTO order_history SELECT * FROM jsonb_populate_record(NULL::order_history, $1)
         )
         INSERT INTO outbox SELECT * FROM jsonb_populate_record(NULL::outbox, $2)",
    )
    .bind::<Jsonb, _>(to_json(row)?)
    .bind::<Jsonb, _>(to_json(event)?)
    .cached()
    .execute(conn)?;
    Ok(())
}

/// One order.
pub fn find(conn: &mut PgConnection, id: OrderId) -> QueryResult<Option<OrderRow>> {
    o::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

/// The orders of a checkout, by seller.
pub fn of_checkout(
    conn: &mut PgConnection,
    checkout_id: crate::ids::CheckoutId,
) -> QueryResult<Vec<OrderRow>> {
    o::table
        .filter(o::checkout_id.eq(checkout_id))
        .order(o::seller_id.asc())
        .select(OrderRow::as_select())
        .load(conn)
}

/// An order's lines, in the order they were placed.
pub fn items_of(conn: &mut PgConnection, order_id: OrderId) -> QueryResult<Vec<OrderItemRow>> {
    i::table
        .filter(i::order_id.eq(order_id))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load(conn)
}

/// The lines of several orders, in the order they were placed.
pub fn items_of_many(conn: &mut PgConnection, ids: &[OrderId]) -> QueryResult<Vec<OrderItemRow>> {
    i::table
        .filter(i::order_id.eq_any(ids))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load(conn)
}

/// An order's history, oldest first.
pub fn history_of(conn: &mut PgConnection, order_id: OrderId) -> QueryResult<Vec<HistoryRow>> {
    h::table
        .filter(h::order_id.eq(order_id))
        .order(h::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)
}

/// Sets the order's lines to `want` (one statement, touching only lines
/// that differ).
pub fn set_items_status(
    conn: &mut PgConnection,
    order_id: OrderId,
    want: ItemStatus,
) -> QueryResult<()> {
    diesel::update(
        i::table
            .filter(i::order_id.eq(order_id))
            .filter(i::status.ne(want)),
    )
    .set(i::status.eq(want))
    .execute(conn)
    .map(|_| ())
}

/// The order row, only while all three statuses are still the ones read in
/// `o`: every check of the transition table reads all three (cancelling
/// depends on the shipping, shipping on the payment), so a move's update is
/// conditional on all of them, and of two concurrent moves from one state
/// exactly one matches a row.
type AsRead = diesel::dsl::Filter<
    diesel::dsl::Find<o::table, OrderId>,
    diesel::dsl::And<
        diesel::dsl::And<
            diesel::dsl::Eq<o::status, OrderStatus>,
            diesel::dsl::Eq<o::payment_status, PaymentStatus>,
        >,
        diesel::dsl::Eq<o::shipping_status, ShippingStatus>,
    >,
>;

fn as_read(o: &OrderRow) -> AsRead {
    o::table.find(o.id).filter(
        o::status
            .eq(o.status)
            .and(o::payment_status.eq(o.payment_status))
            .and(o::shipping_status.eq(o.shipping_status)),
    )
}

/// Sets the main status while the statuses are as read (`None`: it changed).
pub fn set_status(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: OrderStatus,
) -> QueryResult<Option<OrderRow>> {
    diesel::update(as_read(o))
        .set((o::status.eq(to), o::updated_at.eq(crate::db::now())))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Sets the payment status while the statuses are as read (`None`: it changed).
pub fn set_payment_status(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: PaymentStatus,
) -> QueryResult<Option<OrderRow>> {
    diesel::update(as_read(o))
        .set((o::payment_status.eq(to), o::updated_at.eq(crate::db::now())))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Sets the shipping status while the statuses are as read (`None`: it changed).
pub fn set_shipping_status(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: ShippingStatus,
) -> QueryResult<Option<OrderRow>> {
    diesel::update(as_read(o))
        .set((
            o::shipping_status.eq(to),
            o::updated_at.eq(crate::db::now()),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Points the order at a new stock hold.
pub fn set_reservation(
    conn: &mut PgConnection,
    id: OrderId,
    reservation_id: Uuid,
) -> QueryResult<()> {
    diesel::update(o::table.find(id))
        .set(o::reservation_id.eq(reservation_id))
        .execute(conn)
        .map(|_| ())
}

/// Moves the payment deadline.
pub fn set_payment_due(
    conn: &mut PgConnection,
    id: OrderId,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<OrderRow> {
    diesel::update(o::table.find(id))
        .set(o::payment_due_at.eq(at))
        .returning(OrderRow::as_returning())
        .get_result(conn)
}

/// Sets the carrier and tracking number.
pub fn set_tracking(
    conn: &mut PgConnection,
    id: OrderId,
    carrier: Option<String>,
    tracking_number: Option<String>,
) -> QueryResult<OrderRow> {
    diesel::update(o::table.find(id))
        .set((
            o::carrier.eq(carrier),
            o::tracking_number.eq(tracking_number),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
}

/// Claims up to `batch` orders unpaid past their window (payment pending
/// or rejected), oldest deadline first, skipping ones another job holds.
pub fn claim_unpaid(conn: &mut PgConnection, batch: i64) -> QueryResult<Vec<OrderRow>> {
    o::table
        .filter(o::status.eq(OrderStatus::PendingPayment))
        .filter(o::payment_status.eq_any([PaymentStatus::Pending, PaymentStatus::Failed]))
        .filter(o::payment_due_at.le(crate::db::now()))
        .order(o::payment_due_at.asc())
        .limit(batch)
        .for_update()
        .skip_locked()
        .select(OrderRow::as_select())
        .load(conn)
}

/// What an order list selects, resolved from the caller's view.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The buyer's orders only.
    pub user_id: Option<Uuid>,
    /// One seller's orders only.
    pub seller_id: Option<SellerId>,
    /// Placed at or after.
    pub created_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Placed before.
    pub created_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Main status.
    pub status: Option<OrderStatus>,
    /// Payment status.
    pub payment_status: Option<PaymentStatus>,
    /// Shipping status.
    pub shipping_status: Option<ShippingStatus>,
    /// A number prefix (`CN-00`) or a product name in a line.
    pub number_prefix_or_item: Option<(String, String)>,
    /// Ids below this (the cursor).
    pub before_id: Option<OrderId>,
    /// Rows to fetch.
    pub limit: i64,
}

/// Orders matching `q`, newest first.
pub fn list(conn: &mut PgConnection, q: &ListQuery) -> QueryResult<Vec<OrderRow>> {
    let mut s = o::table.select(OrderRow::as_select()).into_boxed();
    if let Some(u) = q.user_id {
        s = s.filter(o::user_id.eq(u));
    }
    if let Some(seller) = q.seller_id {
        s = s.filter(o::seller_id.eq(seller));
    }
    if let Some(t) = q.created_from {
        s = s.filter(o::created_at.ge(t));
    }
    if let Some(t) = q.created_to {
        s = s.filter(o::created_at.lt(t));
    }
    if let Some(st) = q.status {
        s = s.filter(o::status.eq(st));
    }
    if let Some(st) = q.payment_status {
        s = s.filter(o::payment_status.eq(st));
    }
    if let Some(st) = q.shipping_status {
        s = s.filter(o::shipping_status.eq(st));
    }
    if let Some((number, text)) = &q.number_prefix_or_item {
        let in_items = i::table
            .filter(i::order_id.eq(o::id))
            .filter(i::name.ilike(format!("%{}%", crate::db::escape_like(text))));
        s = s.filter(
            o::number
                .like(format!("{}%", crate::db::escape_like(number)))
                .or(diesel::dsl::exists(in_items)),
        );
    }
    if let Some(id) = q.before_id {
        s = s.filter(o::id.lt(id));
    }
    s.order(o::id.desc()).limit(q.limit).load(conn)
}
