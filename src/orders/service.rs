//! Order reads and writes shared by checkout and the order endpoints.

use diesel::prelude::*;
use uuid::Uuid;

use super::state::{self, Mover, OrderStatus, PaymentStatus, Refusal, ShippingStatus, Statuses};
use super::{HistoryRow, OrderItemRow, OrderRow};
use crate::auth::Principal;
use crate::db::cached::CachedExt;
use crate::db::schema::{order_history as h, order_items as i, orders as o};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::inventory::service as inventory;

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

fn method_of(o: &OrderRow) -> Option<crate::payments::MethodCode> {
    o.payment_method.parse().ok()
}

fn statuses(o: &OrderRow) -> Statuses {
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

fn refused(r: Refusal, what: &str) -> AppError {
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

fn visible(
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

/// What a buyer sends for a manual payment.
#[derive(Debug, Clone, Default)]
pub struct PaymentReport {
    /// The paying bank (Pago Móvil, transfer).
    pub bank: Option<String>,
    /// The paying phone (Pago Móvil).
    pub phone: Option<String>,
    /// The payer's cédula or RIF (Pago Móvil).
    pub national_id: Option<String>,
    /// The reference or confirmation code.
    pub reference: String,
    /// The sender's name (Zelle).
    pub sender: Option<String>,
    /// The day of the transfer (transfer), `YYYY-MM-DD`.
    pub paid_on: Option<chrono::NaiveDate>,
}

/// The buyer reports a manual payment: the order waits for verification.
/// A reference already used on another order for the same method and bank
/// is accepted but flagged (`duplicate_of`), never silently.
pub fn submit_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    report: PaymentReport,
) -> Result<OrderRow, AppError> {
    use crate::db::schema::payment_submissions as p;
    use crate::payments::MethodCode;
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        if mover != Mover::Buyer {
            return Err(AppError::forbidden("only the buyer reports a payment"));
        }
        let method: MethodCode = order.payment_method.parse().map_err(AppError::internal)?;
        let mut errors = vec![];
        let mut need = |field: &str, present: bool| {
            if !present {
                errors.push(FieldError::new(field, format!("is required for {method}")));
            }
        };
        let reference = report.reference.trim().to_string();
        need("reference", !reference.is_empty() && reference.len() <= 64);
        let mut phone = None;
        let mut national_id = None;
        match method {
            MethodCode::PagoMovil => {
                need("bank", report.bank.as_deref().is_some_and(|b| !b.trim().is_empty()));
                match report.phone.as_deref().map(crate::addresses::venezuela::phone_e164) {
                    Some(Ok(p)) => phone = Some(p),
                    _ => errors.push(FieldError::new("phone", "must be the paying Venezuelan phone")),
                }
                match report.national_id.as_deref().map(crate::addresses::venezuela::national_id) {
                    Some(Ok(n)) => national_id = Some(n),
                    _ => errors.push(FieldError::new("national_id", "must be the payer's cédula or RIF")),
                }
            }
            MethodCode::BankTransfer => {
                need("bank", report.bank.as_deref().is_some_and(|b| !b.trim().is_empty()));
                need("paid_on", report.paid_on.is_some());
            }
            MethodCode::Zelle => need("sender", report.sender.as_deref().is_some_and(|s| !s.trim().is_empty())),
            MethodCode::CashUsd | MethodCode::Card => {
                return Err(AppError::conflict(
                    ErrorCode::InvalidTransition,
                    format!("{method} payments are not reported by reference"),
                ));
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors,
            });
        }
        let bank = report.bank.clone().unwrap_or_default().trim().to_uppercase();
        let key = crate::payments::service::reference_key(&reference);
        // One reference at a time: a second report of the same reference
        // waits for the first to commit and then sees it (read, then insert).
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 42)) IS NULL AS done")
            .bind::<diesel::sql_types::Text, _>(format!("{method}|{bank}|{key}"))
            .get_result::<crate::db::Done>(conn)?;
        let duplicate_of: Option<Uuid> = p::table
            .filter(p::method.eq(method.as_str()))
            .filter(p::bank.eq(&bank))
            .filter(p::reference_key.eq(&key))
            .filter(p::order_id.ne(order.id))
            .select(p::order_id)
            .first(conn)
            .optional()?;
        let by = By::caller(viewer, mover);
        let updated = move_payment(conn, &order, PaymentStatus::AwaitingVerification, by, "payment reported")?;
        // The units stay held while the seller checks the payment.
        inventory::hold_at_least_until(conn, order.reservation_id, crate::db::now() + chrono::Duration::hours(VERIFICATION_WINDOW_HOURS))?;
        diesel::insert_into(p::table)
            .values((
                p::id.eq(Uuid::now_v7()),
                p::order_id.eq(order.id),
                p::method.eq(method.as_str()),
                p::details.eq(serde_json::json!({
                    "bank": bank, "phone": phone, "national_id": national_id, "reference": reference,
                    "sender": report.sender, "paid_on": report.paid_on,
                })),
                p::bank.eq(&bank),
                p::reference.eq(&reference),
                p::reference_key.eq(&key),
                p::duplicate_of.eq(duplicate_of),
                p::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        Ok(updated)
    })
}

/// The order and the caller's part in it, for a caller who may set its
/// payment to `to` (verify, reject, collect): 404 when they may not see the
/// order, 403 when their role never makes that move (before the state is
/// looked at, so a buyer is told "not yours", not "not now").
fn payment_checker(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    to: PaymentStatus,
) -> Result<(OrderRow, Mover), AppError> {
    let (order, mover) = visible(conn, viewer, id)?;
    if !state::may_set_payment(to, mover) {
        return Err(AppError::forbidden(
            "only the seller or an operator checks or records a payment",
        ));
    }
    Ok((order, mover))
}

/// Marks the order's latest submitted payment `status` (with `reason`) in
/// one statement.
fn settle_submission(
    conn: &mut PgConnection,
    order_id: Uuid,
    status: &str,
    reason: &str,
) -> Result<(), AppError> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE payment_submissions SET status = $2, reason = $3
         WHERE id = (SELECT id FROM payment_submissions
                     WHERE order_id = $1 AND status = 'submitted' ORDER BY id DESC LIMIT 1)",
    )
    .bind::<SqlUuid, _>(order_id)
    .bind::<Text, _>(status)
    .bind::<Text, _>(reason)
    .execute(conn)?;
    Ok(())
}

/// The seller or an operator confirms the payment: paid, the held stock is
/// sold, and the order moves to processing.
pub fn verify_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<OrderRow, AppError> {
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Paid)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By::caller(viewer, mover);
        let paid = move_payment(conn, &order, PaymentStatus::Paid, by, "payment verified")?;
        commit_stock(conn, &inventory::Actor::of(viewer), &order)?;
        settle_submission(conn, id, "verified", "")?;
        let system = By::automatic(viewer);
        move_order(
            conn,
            &paid,
            OrderStatus::Processing,
            system,
            "payment verified",
        )
    })
}

/// The seller or an operator rejects the reported payment (the buyer may report again).
pub fn reject_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    reason: &str,
) -> Result<OrderRow, AppError> {
    if reason.trim().is_empty() || reason.len() > 500 {
        return Err(AppError::invalid(
            "reason",
            "explain the rejection (1 to 500 characters)",
        ));
    }
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Failed)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By::caller(viewer, mover);
        let mut failed = move_payment(conn, &order, PaymentStatus::Failed, by, reason.trim())?;
        // The buyer gets time to report again before the unpaid-order job cancels.
        let grace = crate::db::now() + chrono::Duration::hours(RESUBMIT_GRACE_HOURS);
        if failed.payment_due_at < grace {
            failed = diesel::update(o::table.find(id))
                .set(o::payment_due_at.eq(grace))
                .returning(OrderRow::as_returning())
                .get_result(conn)?;
        }
        inventory::hold_at_least_until(conn, failed.reservation_id, failed.payment_due_at)?;
        settle_submission(conn, id, "rejected", reason.trim())?;
        Ok(failed)
    })
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
fn commit_stock(
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

/// How long a reported payment may wait for verification while its stock stays held.
pub const VERIFICATION_WINDOW_HOURS: i64 = 72;

/// After a rejection the buyer has at least this long to report again.
pub const RESUBMIT_GRACE_HOURS: i64 = 24;

/// What a seller or operator sends to move the shipment.
#[derive(Debug, Clone)]
pub struct ShippingUpdate {
    /// The new shipping status.
    pub to: ShippingStatus,
    /// The carrier (required for couriers when shipping).
    pub carrier: Option<String>,
    /// The tracking number (required for couriers when shipping).
    pub tracking_number: Option<String>,
    /// Why (required for returns).
    pub reason: String,
}

/// The seller or an operator moves the shipment: preparing, shipped (with
/// carrier and tracking number for courier deliveries), in transit,
/// delivered (which completes the order), returned (with a reason).
pub fn update_shipping(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    update: ShippingUpdate,
) -> Result<OrderRow, AppError> {
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let carrier = trimmed(&update.carrier);
    let tracking = trimmed(&update.tracking_number);
    let reason = update.reason.trim().to_string();
    let mut errors = vec![];
    if update.to == ShippingStatus::NotShipped {
        errors.push(FieldError::new(
            "status",
            "must be preparing, shipped, in_transit, delivered or returned",
        ));
    }
    let carries = matches!(
        update.to,
        ShippingStatus::Shipped | ShippingStatus::InTransit
    );
    if !carries && (carrier.is_some() || tracking.is_some()) {
        let field = if carrier.is_some() {
            "carrier"
        } else {
            "tracking_number"
        };
        errors.push(FieldError::new(
            field,
            "is only set when shipped or in transit",
        ));
    }
    if update.to == ShippingStatus::Returned && reason.is_empty() {
        errors.push(FieldError::new("reason", "is required for a return"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors,
        });
    }
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        let by = By::caller(viewer, mover);
        let kind = order.delivery["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let courier = kind.starts_with("courier");
        let carrier = carrier.or_else(|| {
            order.delivery["carrier"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(str::to_string)
        });
        if update.to == ShippingStatus::Shipped && courier {
            let mut errors = vec![];
            if carrier.is_none() {
                errors.push(FieldError::new(
                    "carrier",
                    "is required for courier deliveries",
                ));
            }
            if tracking.is_none() {
                errors.push(FieldError::new(
                    "tracking_number",
                    "is required for courier deliveries",
                ));
            }
            if !errors.is_empty() {
                // The move itself may be refused first (wrong caller or state).
                state::check_shipping(statuses(&order), update.to, mover)
                    .map_err(|r| refused(r, &format!("set the shipping to {}", update.to)))?;
                return Err(AppError::Validation {
                    code: ErrorCode::ValidationFailed,
                    errors,
                });
            }
        }
        let why = if reason.is_empty() {
            format!("marked {}", update.to)
        } else {
            reason.clone()
        };
        let mut row = move_shipping(conn, &order, update.to, by, &why)?;
        if carries && (carrier.is_some() || tracking.is_some()) {
            row = diesel::update(o::table.find(id))
                .set((
                    o::carrier.eq(carrier.clone().or(row.carrier.clone())),
                    o::tracking_number.eq(tracking.clone().or(row.tracking_number.clone())),
                ))
                .returning(OrderRow::as_returning())
                .get_result(conn)?;
        }
        if update.to == ShippingStatus::Preparing && row.status == OrderStatus::PendingPayment {
            // Paid at delivery: dispatching confirms the order and sells its units.
            let system = By::automatic(viewer);
            row = move_order(
                conn,
                &row,
                OrderStatus::Processing,
                system,
                "dispatch started; paid at delivery",
            )?;
            commit_stock(conn, &inventory::Actor::of(viewer), &row)?;
        }
        row = complete_if_done(conn, viewer, row)?;
        Ok(row)
    })
}

/// Completes a delivered and paid order in processing (recorded as `system`).
fn complete_if_done(
    conn: &mut PgConnection,
    viewer: &Principal,
    row: OrderRow,
) -> Result<OrderRow, AppError> {
    let by = By::automatic(viewer);
    if row.status == OrderStatus::Processing
        && state::check_order(statuses(&row), OrderStatus::Completed, by.mover).is_ok()
    {
        let why = if row.payment_status == PaymentStatus::Paid
            && row.shipping_status == ShippingStatus::Delivered
        {
            "delivered and paid"
        } else {
            "delivered"
        };
        return move_order(conn, &row, OrderStatus::Completed, by, why);
    }
    Ok(row)
}

/// What the seller or an operator records when cash is collected at
/// delivery or pickup.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The amount collected, in the method's currency.
    pub amount: rust_decimal::Decimal,
    /// Who collected it (the courier or the shop's clerk).
    pub collected_by: String,
    /// Anything worth keeping (change given, receipt number).
    pub note: String,
}

/// The seller or an operator records the cash collected at delivery or
/// pickup: the payment becomes `paid` (a verified submission keeps the
/// amount and who collected it), and a delivered order completes. The
/// amount must be the order's total in the method's currency.
pub fn collect_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
    collection: Collection,
) -> Result<OrderRow, AppError> {
    use crate::db::schema::payment_submissions as p;
    use crate::payments::Currency;
    let collected_by = collection.collected_by.trim().to_string();
    if collected_by.is_empty() {
        return Err(AppError::invalid(
            "collected_by",
            "say who collected the money",
        ));
    }
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Paid)?;
        let method =
            method_of(&order).ok_or_else(|| AppError::internal("unknown payment method"))?;
        if !method.collected_on_delivery() {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                format!("{method} is not paid at delivery"),
            ));
        }
        let by = By::caller(viewer, mover);
        state::check_payment(statuses(&order), PaymentStatus::Paid, by.mover)
            .map_err(|r| refused(r, "record a collected payment"))?;
        let currency = crate::payments::service::currency_of(conn, method)?;
        let due = match currency {
            Currency::Usd => order.total_usd,
            Currency::Ves => order.total_ves,
        };
        if collection.amount != due {
            return Err(AppError::invalid(
                "amount",
                format!("must be the order's total, {due} {currency}"),
            ));
        }
        let paid = move_payment(
            conn,
            &order,
            PaymentStatus::Paid,
            by,
            "collected at delivery",
        )?;
        diesel::insert_into(p::table)
            .values((
                p::id.eq(Uuid::now_v7()),
                p::order_id.eq(order.id),
                p::method.eq(method.as_str()),
                p::details.eq(serde_json::json!({
                    "amount": collection.amount.to_string(), "currency": currency.as_str(),
                    "collected_by": collected_by, "note": collection.note.trim(),
                })),
                p::reference.eq(""),
                p::status.eq("verified"),
                p::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        complete_if_done(conn, viewer, paid)
    })
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

/// The payments reported for an order, oldest first.
pub fn submissions(
    conn: &mut PgConnection,
    order_id: Uuid,
) -> Result<Vec<super::PaymentSubmissionRow>, AppError> {
    use crate::db::schema::payment_submissions as p;
    Ok(p::table
        .filter(p::order_id.eq(order_id))
        .order(p::id.asc())
        .select(super::PaymentSubmissionRow::as_select())
        .load(conn)?)
}

/// An order and its lines.
pub type OrderWithItems = (OrderRow, Vec<OrderItemRow>);

/// Whose orders a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Orders the caller placed.
    Buyer,
    /// Orders of the seller the caller acts for.
    Seller,
    /// Every order (operators).
    All,
}

/// Filters of the order list.
#[derive(Debug, Clone)]
pub struct OrderFilter {
    /// Whose orders.
    pub view: View,
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
    /// One seller's orders (buyers and operators).
    pub seller_id: Option<Uuid>,
    /// Order number (prefix, with or without `CN-`) or a product name in it.
    pub q: Option<String>,
    /// The page.
    pub page: crate::pagination::PageRequest,
}

/// The caller's view when the request names none: operators see all,
/// sellers their shop's orders, everybody else their own purchases.
pub fn default_view(viewer: &Principal) -> View {
    if viewer.is_operator() {
        View::All
    } else if viewer.acting_seller().is_some() {
        View::Seller
    } else {
        View::Buyer
    }
}

/// A page of orders, newest first, with their lines, and the next cursor.
pub fn list(
    conn: &mut PgConnection,
    viewer: &Principal,
    f: &OrderFilter,
) -> Result<(Vec<OrderWithItems>, Option<String>), AppError> {
    let mut q = o::table.select(OrderRow::as_select()).into_boxed();
    match f.view {
        View::Buyer => q = q.filter(o::user_id.eq(viewer.user_id)),
        View::Seller => {
            let seller = viewer
                .acting_seller()
                .ok_or_else(|| AppError::forbidden("the seller view needs the seller role"))?;
            if f.seller_id.is_some_and(|s| s != seller) {
                return Err(AppError::forbidden("sellers see only their own orders"));
            }
            q = q.filter(o::seller_id.eq(seller));
        }
        View::All => {
            if !viewer.is_operator() {
                return Err(AppError::forbidden("only operators see every order"));
            }
        }
    }
    if let Some(s) = f.seller_id {
        q = q.filter(o::seller_id.eq(s));
    }
    if let Some(t) = f.created_from {
        q = q.filter(o::created_at.ge(t));
    }
    if let Some(t) = f.created_to {
        q = q.filter(o::created_at.lt(t));
    }
    if let Some(s) = f.status {
        q = q.filter(o::status.eq(s));
    }
    if let Some(s) = f.payment_status {
        q = q.filter(o::payment_status.eq(s));
    }
    if let Some(s) = f.shipping_status {
        q = q.filter(o::shipping_status.eq(s));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = text.to_uppercase();
        let number = if upper.starts_with("CN-") {
            upper
        } else {
            format!("CN-{upper}")
        };
        let number_prefix = format!("{}%", crate::db::escape_like(&number));
        let in_items = i::table
            .filter(i::order_id.eq(o::id))
            .filter(i::name.ilike(format!("%{}%", crate::db::escape_like(text))));
        q = q.filter(
            o::number
                .like(number_prefix)
                .or(diesel::dsl::exists(in_items)),
        );
    }
    if let Some(after) = &f.page.after {
        q = q.filter(o::id.lt(after.id));
    }
    let rows: Vec<OrderRow> = q.order(o::id.desc()).limit(f.page.fetch()).load(conn)?;
    let (rows, next) = f.page.finish(rows, |r| crate::pagination::Cursor {
        key: None,
        id: r.id,
    });
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut items: std::collections::HashMap<Uuid, Vec<OrderItemRow>> =
        std::collections::HashMap::new();
    for item in i::table
        .filter(i::order_id.eq_any(&ids))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load::<OrderItemRow>(conn)?
    {
        items.entry(item.order_id).or_default().push(item);
    }
    Ok((
        rows.into_iter()
            .map(|r| {
                let lines = items.remove(&r.id).unwrap_or_default();
                (r, lines)
            })
            .collect(),
        next,
    ))
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
