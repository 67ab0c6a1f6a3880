//! Fulfilment: the seller or an operator moves the shipment (preparing,
//! shipped with carrier and tracking, in transit, delivered, returned);
//! dispatching a cash order confirms it and sells its units; delivery and
//! payment complete the order.

use diesel::prelude::*;

use super::OrderId;
use super::service::{By, commit_stock, move_order, move_shipping, refused, statuses, visible};
use super::state::{self, OrderStatus, PaymentStatus, ShippingStatus};
use super::{OrderRow, repo};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode, FieldError};

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
    id: OrderId,
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
        let option = &order.delivery;
        let courier = option.by_courier();
        let carrier = carrier.or_else(|| option.carrier().map(str::to_string));
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
            row = repo::set_tracking(
                conn,
                id,
                carrier.clone().or(row.carrier.clone()),
                tracking.clone().or(row.tracking_number.clone()),
            )?;
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
            commit_stock(conn, &crate::auth::Actor::of(viewer), &row)?;
        }
        row = complete_if_done(conn, viewer, row)?;
        Ok(row)
    })
}

/// Completes a delivered and paid order in processing (recorded as `system`).
pub(super) fn complete_if_done(
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
