//! Order reads and writes shared by checkout and the order endpoints.

use diesel::prelude::*;
use uuid::Uuid;

use super::{HistoryRow, OrderItemRow, OrderRow};
use crate::auth::Principal;
use crate::db::schema::{order_history as h, order_items as i, orders as o};
use crate::error::AppError;

/// The next short order number (`CN-001001`).
pub fn next_number(conn: &mut PgConnection) -> Result<String, AppError> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let next: Next =
        diesel::sql_query("SELECT nextval('order_number_seq') AS n").get_result(conn)?;
    Ok(format!("CN-{:06}", next.n))
}

/// Writes an order with its lines and its opening history rows.
pub fn insert(
    conn: &mut PgConnection,
    order: &OrderRow,
    items: &[OrderItemRow],
    history: &[HistoryRow],
) -> Result<(), AppError> {
    diesel::insert_into(o::table).values(order).execute(conn)?;
    diesel::insert_into(i::table).values(items).execute(conn)?;
    diesel::insert_into(h::table)
        .values(history)
        .execute(conn)?;
    Ok(())
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
    let order: OrderRow = o::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("order"))?;
    let visible = viewer.is_operator()
        || order.user_id == viewer.user_id
        || viewer.acting_seller() == Some(order.seller_id);
    if !visible {
        return Err(AppError::NotFound("order"));
    }
    let items = i::table
        .filter(i::order_id.eq(id))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load(conn)?;
    let history = h::table
        .filter(h::order_id.eq(id))
        .order(h::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)?;
    Ok((order, items, history))
}

use super::state::{self, Mover, OrderStatus, PaymentStatus, Refusal, ShippingStatus, Statuses};
use crate::error::{ErrorCode, FieldError};
use crate::inventory::service as inventory;

fn statuses(o: &OrderRow) -> Statuses {
    Statuses {
        order: o.status,
        payment: o.payment_status,
        shipping: o.shipping_status,
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
    /// How they relate to the order.
    pub mover: Mover,
}

fn record(
    conn: &mut PgConnection,
    o: &OrderRow,
    field: &str,
    from: &str,
    to: &str,
    by: By,
    reason: &str,
) -> Result<(), AppError> {
    diesel::insert_into(h::table)
        .values(&HistoryRow {
            id: Uuid::now_v7(),
            order_id: o.id,
            field: field.into(),
            from_value: Some(from.into()),
            to_value: to.into(),
            actor_id: by.user,
            actor_role: source(by.mover).into(),
            source: source(by.mover).into(),
            reason: reason.into(),
            created_at: crate::db::now(),
        })
        .execute(conn)?;
    crate::outbox::enqueue(
        conn,
        "order.status_changed",
        o.id,
        serde_json::json!({"order_id": o.id, "number": o.number, "field": field, "from": from, "to": to}),
    )?;
    Ok(())
}

/// Moves the main status: checked against the table, applied only if the
/// status is still the one read (so of two concurrent moves one wins), with
/// a history row.
pub fn move_order(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: OrderStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    state::check_order(statuses(o), to, by.mover)
        .map_err(|r| refused(r, &format!("become {to}")))?;
    let row: OrderRow = diesel::update(o::table.find(o.id).filter(o::status.eq(o.status)))
        .set((o::status.eq(to), o::updated_at.eq(crate::db::now())))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(lost_race)?;
    record(
        conn,
        o,
        "status",
        o.status.as_str(),
        to.as_str(),
        by,
        reason,
    )?;
    Ok(row)
}

/// Moves the payment status (see `move_order`).
pub fn move_payment(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: PaymentStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    state::check_payment(statuses(o), to, by.mover)
        .map_err(|r| refused(r, &format!("set the payment to {to}")))?;
    let row: OrderRow = diesel::update(
        o::table
            .find(o.id)
            .filter(o::payment_status.eq(o.payment_status))
            .filter(o::status.eq(o.status)),
    )
    .set((o::payment_status.eq(to), o::updated_at.eq(crate::db::now())))
    .returning(OrderRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or_else(lost_race)?;
    record(
        conn,
        o,
        "payment_status",
        o.payment_status.as_str(),
        to.as_str(),
        by,
        reason,
    )?;
    Ok(row)
}

/// Moves the shipping status (see `move_order`).
pub fn move_shipping(
    conn: &mut PgConnection,
    o: &OrderRow,
    to: ShippingStatus,
    by: By,
    reason: &str,
) -> Result<OrderRow, AppError> {
    state::check_shipping(statuses(o), to, by.mover)
        .map_err(|r| refused(r, &format!("set the shipping to {to}")))?;
    let row: OrderRow = diesel::update(
        o::table
            .find(o.id)
            .filter(o::shipping_status.eq(o.shipping_status))
            .filter(o::status.eq(o.status)),
    )
    .set((
        o::shipping_status.eq(to),
        o::updated_at.eq(crate::db::now()),
    ))
    .returning(OrderRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or_else(lost_race)?;
    record(
        conn,
        o,
        "shipping_status",
        o.shipping_status.as_str(),
        to.as_str(),
        by,
        reason,
    )?;
    Ok(row)
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
        let duplicate_of: Option<Uuid> = p::table
            .filter(p::method.eq(method.as_str()))
            .filter(p::bank.eq(&bank))
            .filter(p::reference.eq(&reference))
            .filter(p::order_id.ne(order.id))
            .select(p::order_id)
            .first(conn)
            .optional()?;
        let by = By {
            user: Some(viewer.user_id),
            mover,
        };
        let updated = move_payment(conn, &order, PaymentStatus::AwaitingVerification, by, "payment reported")?;
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
                p::duplicate_of.eq(duplicate_of),
                p::created_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        Ok(updated)
    })
}

fn last_submission(conn: &mut PgConnection, order_id: Uuid) -> Result<Option<Uuid>, AppError> {
    use crate::db::schema::payment_submissions as p;
    Ok(p::table
        .filter(p::order_id.eq(order_id))
        .filter(p::status.eq("submitted"))
        .order(p::id.desc())
        .select(p::id)
        .first(conn)
        .optional()?)
}

/// The seller or an operator confirms the payment: paid, the held stock is
/// sold, and the order moves to processing.
pub fn verify_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<OrderRow, AppError> {
    use crate::db::schema::payment_submissions as p;
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By {
            user: Some(viewer.user_id),
            mover,
        };
        let paid = move_payment(conn, &order, PaymentStatus::Paid, by, "payment verified")?;
        inventory::end(
            conn,
            &inventory::Actor::of(viewer),
            order.reservation_id,
            inventory::Outcome::Commit,
        )?;
        if let Some(s) = last_submission(conn, id)? {
            diesel::update(p::table.find(s))
                .set(p::status.eq("verified"))
                .execute(conn)?;
        }
        let system = By {
            user: Some(viewer.user_id),
            mover: Mover::System,
        };
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
    use crate::db::schema::payment_submissions as p;
    if reason.trim().is_empty() || reason.len() > 500 {
        return Err(AppError::invalid(
            "reason",
            "explain the rejection (1 to 500 characters)",
        ));
    }
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By {
            user: Some(viewer.user_id),
            mover,
        };
        let failed = move_payment(conn, &order, PaymentStatus::Failed, by, reason.trim())?;
        if let Some(s) = last_submission(conn, id)? {
            diesel::update(p::table.find(s))
                .set((p::status.eq("rejected"), p::reason.eq(reason.trim())))
                .execute(conn)?;
        }
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
        let by = By {
            user: Some(viewer.user_id),
            mover,
        };
        let cancelled = move_order(conn, &order, OrderStatus::Cancelled, by, reason.trim())?;
        let actor = inventory::Actor::of(viewer);
        let (reservation, _) = inventory::get_reservation(conn, order.reservation_id)?;
        match reservation.status {
            crate::inventory::ReservationStatus::Active => {
                inventory::end(conn, &actor, reservation.id, inventory::Outcome::Release)?;
            }
            crate::inventory::ReservationStatus::Committed => {
                let items: Vec<OrderItemRow> = i::table
                    .filter(i::order_id.eq(id))
                    .select(OrderItemRow::as_select())
                    .load(conn)?;
                for item in items {
                    inventory::change_on_hand(
                        conn,
                        &actor,
                        item.product_id,
                        item.quantity,
                        crate::inventory::MovementReason::Return,
                        Some((crate::inventory::OwnerType::Order, id)),
                        Some(order.number.clone()),
                        "order cancelled".into(),
                    )?;
                }
            }
            _ => {}
        }
        Ok(cancelled)
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
