//! Order reads and writes shared by checkout and the order endpoints: the
//! order itself (placement's insert, reads, visibility) and its moves (the
//! conditional updates, history and outbox, stock that follows, cancel,
//! override, the unpaid-order job, allowed actions). Each sub-resource has
//! its own file beside it, re-exported here: `payments.rs`, `fulfilment.rs`,
//! `lists.rs`.

use diesel::prelude::*;
use uuid::Uuid;

use super::state::{self, Mover, OrderStatus, PaymentStatus, Refusal, ShippingStatus, Statuses};
use super::{HistoryRow, OrderItemRow, OrderRow};
use crate::auth::Principal;
use crate::db::cached::CachedExt;
use crate::db::schema::{order_history as h, order_items as i, orders as o};
use crate::error::{AppError, ErrorCode};
use crate::inventory::service as inventory;

pub use super::fulfilment::{ShippingUpdate, update_shipping};
pub use super::lists::{OrderFilter, OrderWithItems, View, default_view, list};
pub use super::payments::{
    Collection, PaymentReport, RESUBMIT_GRACE_HOURS, VERIFICATION_WINDOW_HOURS, collect_payment,
    reject_payment, submissions, submit_payment, verify_payment,
};

/// Writes an order with its lines, its opening history rows and its
/// `order.placed` outbox event in one statement (placement's hot path);
/// returns the order number the database drew. The rows travel as JSON and
/// are expanded into each table's own row type, so the columns cannot drift.
pub fn insert(
    conn: &mut PgConnection,
    order: &OrderRow,
    items: &[OrderItemRow],
    history: &[HistoryRow],
    event: serde_json::Value,
) -> Result<String, AppError> {
    use diesel::sql_types::{Jsonb, Text, Timestamptz, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = Text)]
        number: String,
    }
    let json = |v: serde_json::Result<serde_json::Value>| v.map_err(AppError::internal);
    let row: Number = diesel::sql_query(
        "WITH o AS (
             INSERT INTO orders
             SELECT * FROM jsonb_populate_record(NULL::orders, $1 || jsonb_build_object(
                 'number', 'CN-' || lpad(nextval('order_number_seq')::text, 6, '0')))
             RETURNING id, number
         ), i AS (
             INSERT INTO order_items SELECT * FROM jsonb_populate_recordset(NULL::order_items, $2)
         ), h AS (
             INSERT INTO order_history SELECT * FROM jsonb_populate_recordset(NULL::order_history, $3)
         ), x AS (
             INSERT INTO outbox (id, topic, aggregate_id, payload, created_at, available_at)
             SELECT $4, 'order.placed', o.id, $5 || jsonb_build_object('number', o.number), $6, $6 FROM o
         )
         SELECT number FROM o",
    )
    .bind::<Jsonb, _>(json(serde_json::to_value(order))?)
    .bind::<Jsonb, _>(json(serde_json::to_value(items))?)
    .bind::<Jsonb, _>(json(serde_json::to_value(history))?)
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<Jsonb, _>(event)
    .bind::<Timestamptz, _>(crate::db::now())
    .cached()
    .get_result(conn)?;
    Ok(row.number)
}

/// The orders of a checkout, by seller.
pub fn of_checkout(conn: &mut PgConnection, checkout_id: Uuid) -> Result<Vec<OrderRow>, AppError> {
    Ok(o::table
        .filter(o::checkout_id.eq(checkout_id))
        .order(o::seller_id.asc())
        .select(OrderRow::as_select())
        .load(conn)?)
}

/// An order with its lines and history, for its buyer, its seller or an
/// operator (404 for everyone else).
pub fn get(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<(OrderRow, Vec<OrderItemRow>, Vec<HistoryRow>), AppError> {
    let (order, _) = visible(conn, viewer, id)?;
    let items = i::table
        .filter(i::order_id.eq(id))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load(conn)?;
    Ok((order, items, history_of(conn, id)?))
}

/// An order's status history, oldest first, for whoever may see the order.
pub fn timeline(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<Vec<HistoryRow>, AppError> {
    visible(conn, viewer, id)?;
    history_of(conn, id)
}

fn history_of(conn: &mut PgConnection, id: Uuid) -> Result<Vec<HistoryRow>, AppError> {
    Ok(h::table
        .filter(h::order_id.eq(id))
        .order(h::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)?)
}

pub(super) fn method_of(o: &OrderRow) -> Option<crate::payments::MethodCode> {
    o.payment_method.parse().ok()
}

pub(super) fn statuses(o: &OrderRow) -> Statuses {
    Statuses {
        order: o.status,
        payment: o.payment_status,
        shipping: o.shipping_status,
        on_delivery: method_of(o).is_some_and(|m| m.collected_on_delivery()),
    }
}

/// How the caller relates to the order; `None` when it may not see it.
pub fn mover_of(viewer: &Principal, o: &OrderRow) -> Option<Mover> {
    if viewer.is_operator() {
        Some(Mover::Operator)
    } else if viewer.acting_seller() == Some(o.seller_id) {
        Some(Mover::Seller)
    } else if viewer.user_id == o.user_id {
        Some(Mover::Buyer)
    } else {
        None
    }
}

fn source(m: Mover) -> &'static str {
    match m {
        Mover::Buyer => "buyer",
        Mover::Seller => "seller",
        Mover::Operator => "operator",
        Mover::System => "system",
    }
}

pub(super) fn refused(r: Refusal, what: &str) -> AppError {
    match r {
        Refusal::NotAllowed => AppError::conflict(
            ErrorCode::InvalidTransition,
            format!("the order cannot {what} now"),
        ),
        Refusal::NotYours => AppError::forbidden(format!("you may not {what}")),
        Refusal::Blocked(why) => AppError::conflict(ErrorCode::InvalidTransition, why),
    }
}

/// Sets the order's lines to the status its statuses imply (one statement,
/// touching only lines that differ).
fn sync_items(conn: &mut PgConnection, o: &OrderRow) -> Result<(), AppError> {
    let want = state::item_status(statuses(o));
    diesel::update(
        i::table
            .filter(i::order_id.eq(o.id))
            .filter(i::status.ne(want)),
    )
    .set(i::status.eq(want))
    .execute(conn)?;
    Ok(())
}

fn lost_race() -> AppError {
    AppError::conflict(
        ErrorCode::InvalidTransition,
        "the order changed meanwhile; read it again",
    )
}

/// Who makes a move, as the history records it.
#[derive(Debug, Clone, Copy)]
pub struct By {
    /// The user (none for jobs).
    pub user: Option<Uuid>,
    /// Their role from the token (`customer`, `seller`, `admin`, `support`), or `system`.
    pub role: &'static str,
    /// How they relate to the order.
    pub mover: Mover,
    /// An admin setting a status outside the table (history source `override`).
    pub overriding: bool,
}

impl By {
    /// A caller acting in `mover`'s place.
    pub fn caller(viewer: &Principal, mover: Mover) -> Self {
        Self {
            user: Some(viewer.user_id),
            role: inventory::Actor::of(viewer).role,
            mover,
            overriding: false,
        }
    }

    /// A move that follows from the caller's (completion on delivery,
    /// processing on verification): recorded as `system`, with the caller.
    pub fn automatic(viewer: &Principal) -> Self {
        Self {
            user: Some(viewer.user_id),
            role: inventory::Actor::of(viewer).role,
            mover: Mover::System,
            overriding: false,
        }
    }

    /// A background job.
    pub fn system() -> Self {
        Self {
            user: None,
            role: "system",
            mover: Mover::System,
            overriding: false,
        }
    }
}

/// One status change, as the history records it.
struct Change<'a> {
    field: &'a str,
    from: &'a str,
    to: &'a str,
    by: By,
    reason: &'a str,
}

/// Writes a move's history row and its `order.status_changed` outbox event
/// in one statement.
fn record(conn: &mut PgConnection, o: &OrderRow, c: Change<'_>) -> Result<(), AppError> {
    let Change {
        field,
        from,
        to,
        by,
        reason,
    } = c;
    use diesel::sql_types::{Jsonb, Timestamptz, Uuid as SqlUuid};
    let now = crate::db::now();
    let row = HistoryRow {
        id: Uuid::now_v7(),
        order_id: o.id,
        field: field.into(),
        from_value: Some(from.into()),
        to_value: to.into(),
        actor_id: by.user,
        actor_role: by.role.into(),
        source: if by.overriding {
            "override".into()
        } else {
            source(by.mover).into()
        },
        reason: reason.into(),
        created_at: now,
    };
    diesel::sql_query(
        "WITH h AS (
             INSERT INTO order_history SELECT * FROM jsonb_populate_record(NULL::order_history, $1)
         )
         INSERT INTO outbox (id, topic, aggregate_id, payload, created_at, available_at)
         VALUES ($2, 'order.status_changed', $3, $4, $5, $5)
         RETURNING id",
    )
    .bind::<Jsonb, _>(serde_json::to_value(&row).map_err(AppError::internal)?)
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(o.id)
    .bind::<Jsonb, _>(serde_json::json!({"order_id": o.id, "number": o.number, "field": field, "from": from, "to": to}))
    .bind::<Timestamptz, _>(now)
    .cached()
    .get_result::<crate::db::Done>(conn)?;
    Ok(())
}

/// The order row, only while all three statuses are still the ones read in
/// `o`: every check of the transition table reads all three (cancelling
/// depends on the shipping, shipping on the payment), so a move's update is
/// conditional on all of them, and of two concurrent moves from one state
/// exactly one matches a row.
type AsRead = diesel::dsl::Filter<
    diesel::dsl::Find<o::table, Uuid>,
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

/// Applies a move's conditional update (`None` when the order changed
/// meanwhile: 409), keeps the lines' status in step when it changes, and
/// records the move.
fn apply_move(
    conn: &mut PgConnection,
    o: &OrderRow,
    change: Change<'_>,
    updated: QueryResult<Option<OrderRow>>,
) -> Result<OrderRow, AppError> {
    let row = updated?.ok_or_else(lost_race)?;
    if state::item_status(statuses(&row)) != state::item_status(statuses(o)) {
        sync_items(conn, &row)?;
    }
    record(conn, o, change)?;
    Ok(row)
}

/// Moves the main status: checked against the table (unless an admin
/// overrides), applied only if the status is still the one read (so of two
/// concurrent moves one wins), with a history row.
pub fn move_order(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: OrderStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    if !by.overriding {
        state::check_order(statuses(o), to, by.mover)
            .map_err(|r| refused(r, &format!("become {to}")))?;
    }
    let updated = diesel::update(as_read(o))
        .set((o::status.eq(to), o::updated_at.eq(crate::db::now())))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional();
    apply_move(
        conn,
        o,
        Change {
            field: "status",
            from: o.status.as_str(),
            to: to.as_str(),
            by,
            reason,
        },
        updated,
    )
}

/// Moves the payment status (see `move_order`).
pub fn move_payment(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: PaymentStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    if !by.overriding {
        state::check_payment(statuses(o), to, by.mover)
            .map_err(|r| refused(r, &format!("set the payment to {to}")))?;
    }
    let updated = diesel::update(as_read(o))
        .set((o::payment_status.eq(to), o::updated_at.eq(crate::db::now())))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional();
    apply_move(
        conn,
        o,
        Change {
            field: "payment_status",
            from: o.payment_status.as_str(),
            to: to.as_str(),
            by,
            reason,
        },
        updated,
    )
}

/// Moves the shipping status (see `move_order`).
pub fn move_shipping(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: ShippingStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    if !by.overriding {
        state::check_shipping(statuses(o), to, by.mover)
            .map_err(|r| refused(r, &format!("set the shipping to {to}")))?;
    }
    let updated = diesel::update(as_read(o))
        .set((
            o::shipping_status.eq(to),
            o::updated_at.eq(crate::db::now()),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional();
    apply_move(
        conn,
        o,
        Change {
            field: "shipping_status",
            from: o.shipping_status.as_str(),
            to: to.as_str(),
            by,
            reason,
        },
        updated,
    )
}

pub(super) fn visible(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<(OrderRow, Mover), AppError> {
    let order: OrderRow = o::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("order"))?;
    let mover = mover_of(viewer, &order).ok_or(AppError::NotFound("order"))?;
    Ok((order, mover))
}

/// Cancels an order: the buyer before payment; the seller or an operator
/// (with a reason) until it ships. Held stock is released; sold stock goes
/// back on hand.
pub fn cancel(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    reason: &str,
) -> Result<OrderRow, AppError> {
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        if mover != Mover::Buyer && reason.trim().is_empty() {
            return Err(AppError::invalid(
                "reason",
                "is required when a seller or operator cancels",
            ));
        }
        let by = By::caller(viewer, mover);
        let cancelled = move_order(conn, &order, OrderStatus::Cancelled, by, reason.trim())?;
        unwind_stock(conn, &inventory::Actor::of(viewer), &order)?;
        Ok(cancelled)
    })
}

/// Gives a cancelled order's stock back: a hold is released, sold units
/// return on hand (a `return` movement per line). Ended holds need nothing.
fn unwind_stock(
    conn: &mut PgConnection,
    actor: &inventory::Actor,
    order: &OrderRow,
) -> Result<(), AppError> {
    use crate::inventory::{MovementReason, OwnerType, ReservationStatus};
    let reservation = inventory::reservation(conn, order.reservation_id)?;
    match reservation.status {
        ReservationStatus::Active => {
            inventory::end(conn, actor, reservation.id, inventory::Outcome::Release)?;
        }
        ReservationStatus::Committed => {
            let items: Vec<OrderItemRow> = i::table
                .filter(i::order_id.eq(order.id))
                .select(OrderItemRow::as_select())
                .load(conn)?;
            for item in items {
                inventory::change_on_hand(
                    conn,
                    actor,
                    item.product_id,
                    item.quantity,
                    MovementReason::Return,
                    Some((OwnerType::Order, order.id)),
                    Some(order.number.clone()),
                    "order cancelled".into(),
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Sells the order's units: its hold is committed; when the hold already
/// ended (the buyer paid after the window), the units are held again and
/// sold at once, or 409 `insufficient_stock` when they are gone.
pub(super) fn commit_stock(
    conn: &mut PgConnection,
    actor: &inventory::Actor,
    order: &OrderRow,
) -> Result<(), AppError> {
    use crate::inventory::{OwnerType, ReservationStatus};
    let reservation = inventory::reservation(conn, order.reservation_id)?;
    let lapsed = inventory::lapsed(&reservation);
    if lapsed {
        // Expired in all but name: end it as the job would, then take the units again.
        inventory::end(conn, actor, reservation.id, inventory::Outcome::Expire)?;
    }
    match reservation.status {
        ReservationStatus::Active if !lapsed => {
            inventory::end(conn, actor, reservation.id, inventory::Outcome::Commit)?;
        }
        ReservationStatus::Committed => {}
        _ => {
            let lines: Vec<(Uuid, i32)> = i::table
                .filter(i::order_id.eq(order.id))
                .select((i::product_id, i::quantity))
                .load(conn)?;
            let (again, _) = inventory::reserve(
                conn,
                actor,
                inventory::NewReservation {
                    owner_type: OwnerType::Order,
                    owner_id: order.id,
                    ttl_seconds: 60,
                    lines,
                },
            )?;
            inventory::end(conn, actor, again.id, inventory::Outcome::Commit)?;
            diesel::update(o::table.find(order.id))
                .set(o::reservation_id.eq(again.id))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A status an admin sets outside the table.
#[derive(Debug, Clone, Copy)]
pub enum OverrideTarget {
    /// The main status.
    Order(OrderStatus),
    /// The payment status.
    Payment(PaymentStatus),
    /// The shipping status.
    Shipping(ShippingStatus),
}

/// An admin sets one status outside the table, with a reason (history source
/// `override`). Still a conditional update on the status read, so it cannot
/// cross a concurrent move. Stock follows: overriding to `cancelled`
/// releases or returns it, overriding the payment to `paid` sells it. A
/// cancelled order is not reopened (its stock is gone; place a new order).
pub fn override_status(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    target: OverrideTarget,
    reason: &str,
) -> Result<OrderRow, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "an override must say why"));
    }
    conn.transaction(|conn| {
        let (order, _) = visible(conn, viewer, id)?;
        if !viewer.is_admin() {
            return Err(AppError::forbidden(
                "only admins override an order's status",
            ));
        }
        if order.status == OrderStatus::Cancelled {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "a cancelled order is not reopened; its stock was released",
            ));
        }
        let by = By {
            user: Some(viewer.user_id),
            role: inventory::Actor::of(viewer).role,
            mover: Mover::Operator,
            overriding: true,
        };
        let same = |a: &str, b: &str| {
            if a == b {
                Err(AppError::conflict(
                    ErrorCode::InvalidTransition,
                    format!("the status is already {a}"),
                ))
            } else {
                Ok(())
            }
        };
        let row = match target {
            OverrideTarget::Order(to) => {
                same(order.status.as_str(), to.as_str())?;
                move_order(conn, &order, to, by, reason)?
            }
            OverrideTarget::Payment(to) => {
                same(order.payment_status.as_str(), to.as_str())?;
                move_payment(conn, &order, to, by, reason)?
            }
            OverrideTarget::Shipping(to) => {
                same(order.shipping_status.as_str(), to.as_str())?;
                move_shipping(conn, &order, to, by, reason)?
            }
        };
        let actor = inventory::Actor::of(viewer);
        if row.status == OrderStatus::Cancelled {
            unwind_stock(conn, &actor, &order)?;
        } else if row.payment_status == PaymentStatus::Paid
            && order.payment_status != PaymentStatus::Paid
        {
            commit_stock(conn, &actor, &order)?;
        }
        Ok(row)
    })
}

/// Orders unpaid past their method's window (payment pending or rejected)
/// per transaction, claimed with `SKIP LOCKED`.
pub const UNPAID_BATCH: i64 = 100;

/// Cancels up to `batch` orders whose payment window has passed with no
/// payment waiting for verification, releasing their stock; returns how many.
pub fn expire_unpaid(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let due: Vec<OrderRow> = o::table
            .filter(o::status.eq(OrderStatus::PendingPayment))
            .filter(o::payment_status.eq_any([PaymentStatus::Pending, PaymentStatus::Failed]))
            .filter(o::payment_due_at.le(crate::db::now()))
            .order(o::payment_due_at.asc())
            .limit(batch)
            .for_update()
            .skip_locked()
            .select(OrderRow::as_select())
            .load(conn)?;
        let system = inventory::Actor::system();
        for order in &due {
            let why = if statuses(order).on_delivery {
                "not dispatched within the window"
            } else {
                "not paid within the payment window"
            };
            move_order(conn, order, OrderStatus::Cancelled, By::system(), why)?;
            unwind_stock(conn, &system, order)?;
        }
        Ok(due.len())
    })
}

/// The actions `viewer` may take on `order` now.
pub fn actions_for(viewer: &Principal, order: &OrderRow) -> Vec<state::Action> {
    use crate::payments::MethodCode;
    let Some(mover) = mover_of(viewer, order) else {
        return vec![];
    };
    let by_reference = order
        .payment_method
        .parse::<MethodCode>()
        .is_ok_and(MethodCode::reported_by_reference);
    state::allowed_actions(statuses(order), mover, by_reference, viewer.is_admin())
}
