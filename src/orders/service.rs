//! Order reads and writes shared by checkout and the order endpoints: the
//! order itself (placement's insert, reads, visibility) and its moves (the
//! conditional updates, history and outbox, stock that follows, cancel,
//! override, the unpaid-order job, allowed actions). Each sub-resource has
//! its own file beside it, re-exported here: `payments.rs`, `fulfilment.rs`,
//! `lists.rs`.

use diesel::prelude::*;
use uuid::Uuid;

use super::OrderId;
use super::state::{self, Mover, OrderStatus, PaymentStatus, Refusal, ShippingStatus, Statuses};
use super::{HistoryRow, OrderItemRow, OrderRow, repo};
use crate::auth::{Actor, Principal};
use crate::error::{AppError, ErrorCode};
use crate::ids::ProductId;
use crate::inventory::service as inventory;
use crate::outbox::{self, Message};

pub use super::fulfilment::{ShippingUpdate, update_shipping};
pub use super::lists::{OrderFilter, OrderWithItems, View, default_view, list};
pub use super::open::{NewOrder, NewOrderLine, Opening, open};
pub use super::payments::{
    Collection, PaymentReport, RESUBMIT_GRACE_HOURS, VERIFICATION_WINDOW_HOURS, collect_payment,
    reject_payment, submissions, submit_payment, verify_payment,
};

/// The orders of a checkout, by seller.
pub fn of_checkout(
    conn: &mut PgConnection,
    checkout_id: crate::ids::CheckoutId,
) -> Result<Vec<OrderRow>, AppError> {
    Ok(repo::of_checkout(conn, checkout_id)?)
}

/// An order with its lines and history, for its buyer, its seller or an
/// operator (404 for everyone else).
pub fn get(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
) -> Result<(OrderRow, Vec<OrderItemRow>, Vec<HistoryRow>), AppError> {
    let (order, _) = visible(conn, viewer, id)?;
    let items = repo::items_of(conn, id)?;
    Ok((order, items, repo::history_of(conn, id)?))
}

/// An order's status history, oldest first, for whoever may see the order.
pub fn timeline(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
) -> Result<Vec<HistoryRow>, AppError> {
    visible(conn, viewer, id)?;
    Ok(repo::history_of(conn, id)?)
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

pub(super) fn source(m: Mover) -> &'static str {
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

fn lost_race() -> AppError {
    AppError::conflict(
        ErrorCode::InvalidTransition,
        "the order changed meanwhile; read it again",
    )
}

/// Who makes a move and in which part: the acting user (the one `Actor`
/// type), how they relate to the order, and whether an admin sets the
/// status outside the table (history source `override`).
#[derive(Debug, Clone, Copy)]
pub struct By {
    /// Who acts.
    pub actor: Actor,
    /// How they relate to the order.
    pub mover: Mover,
    /// An admin setting a status outside the table.
    pub overriding: bool,
}

impl By {
    /// A caller acting in `mover`'s place.
    pub fn caller(viewer: &Principal, mover: Mover) -> Self {
        Self {
            actor: Actor::of(viewer),
            mover,
            overriding: false,
        }
    }

    /// A move that follows from the caller's (completion on delivery,
    /// processing on verification): recorded as `system`, with the caller.
    pub fn automatic(viewer: &Principal) -> Self {
        Self::caller(viewer, Mover::System)
    }

    /// A background job.
    pub fn system() -> Self {
        Self {
            actor: Actor::system(),
            mover: Mover::System,
            overriding: false,
        }
    }

    /// An admin setting a status outside the table.
    pub fn overriding(viewer: &Principal) -> Self {
        Self {
            actor: Actor::of(viewer),
            mover: Mover::Operator,
            overriding: true,
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
    let row = HistoryRow {
        id: Uuid::now_v7(),
        order_id: o.id,
        field: field.into(),
        from_value: Some(from.into()),
        to_value: to.into(),
        actor_id: by.actor.user_id,
        actor_role: by.actor.role.into(),
        source: if by.overriding {
            "override".into()
        } else {
            source(by.mover).into()
        },
        reason: reason.into(),
        created_at: crate::db::now(),
    };
    let event = Message::OrderStatusChanged(outbox::StatusChanged {
        order_id: o.id,
        seller_id: o.seller_id,
        number: o.number.clone(),
        field: field.into(),
        from: from.into(),
        to: to.into(),
    });
    let event = event.row().map_err(AppError::internal)?;
    Ok(repo::record(conn, &row, &event)?)
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
    let want = state::item_status(statuses(&row));
    if want != state::item_status(statuses(o)) {
        repo::set_items_status(conn, row.id, want)?;
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
    let updated = repo::set_status(conn, o, to);
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
    let updated = repo::set_payment_status(conn, o, to);
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
    let updated = repo::set_shipping_status(conn, o, to);
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
    id: OrderId,
) -> Result<(OrderRow, Mover), AppError> {
    let order = repo::find(conn, id)?.ok_or(AppError::NotFound("order"))?;
    let mover = mover_of(viewer, &order).ok_or(AppError::NotFound("order"))?;
    Ok((order, mover))
}

/// Cancels an order: the buyer before payment; the seller or an operator
/// (with a reason) until it ships. Held stock is released; sold stock goes
/// back on hand.
pub fn cancel(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
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
        unwind_stock(conn, &crate::auth::Actor::of(viewer), &order)?;
        Ok(cancelled)
    })
}

/// Gives a cancelled order's stock back: a hold is released, sold units
/// return on hand (a `return` movement per line). Ended holds need nothing.
fn unwind_stock(
    conn: &mut PgConnection,
    actor: &crate::auth::Actor,
    order: &OrderRow,
) -> Result<(), AppError> {
    use crate::inventory::{MovementReason, OwnerType, ReservationStatus};
    let reservation = inventory::reservation(conn, order.reservation_id)?;
    match reservation.status {
        ReservationStatus::Active => {
            inventory::end(conn, actor, reservation.id, inventory::Outcome::Release)?;
        }
        ReservationStatus::Committed => {
            for item in repo::items_of(conn, order.id)? {
                inventory::change_on_hand(
                    conn,
                    actor,
                    item.product_id,
                    item.quantity.get(),
                    MovementReason::Return,
                    Some((OwnerType::Order, order.id.uuid())),
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
    actor: &crate::auth::Actor,
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
            let lines: Vec<(ProductId, i32)> = repo::items_of(conn, order.id)?
                .iter()
                .map(|i| (i.product_id, i.quantity.get()))
                .collect();
            let (again, _) = inventory::reserve(
                conn,
                actor,
                inventory::NewReservation {
                    owner_type: OwnerType::Order,
                    owner_id: order.id.uuid(),
                    ttl_seconds: 60,
                    lines,
                },
            )?;
            inventory::end(conn, actor, again.id, inventory::Outcome::Commit)?;
            repo::set_reservation(conn, order.id, again.id)?;
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
    id: OrderId,
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
        let by = By::overriding(viewer);
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
        let actor = crate::auth::Actor::of(viewer);
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
        let due = repo::claim_unpaid(conn, batch)?;
        let system = crate::auth::Actor::system();
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
