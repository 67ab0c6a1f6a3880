//! Placing a checkout: one order per seller, the rate frozen, the stock
//! hold handed from the checkout to the orders without the units ever being
//! free, the cart converted; idempotent through `crate::idempotency`.

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use super::review::{Review, SellerReview, review as review_now, review_with};
use super::service::{own, require_open};
use super::{CheckoutRow, CheckoutStatus, repo};
use crate::auth::{Actor, Principal};
use crate::error::{AppError, ErrorCode, Refused};
use crate::idempotency::{self, Claim};
use crate::ids::CheckoutId;
use crate::inventory::OwnerType;
use crate::inventory::service as inventory;
use crate::money::DualPrice;
use crate::orders::service::{NewOrder, NewOrderLine, Opening};
use crate::orders::{AddressSnapshot, DeliverySnapshot, OrderId, OrderRow};
use crate::payments::{MethodCode, PaymentMethodRow};

/// The idempotency operation of placement.
pub const OPERATION: &str = "checkout.place";

/// The result of placing: the orders, and whether this call created them.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The checkout.
    pub checkout: CheckoutRow,
    /// One order per seller.
    pub orders: Vec<OrderRow>,
    /// The payment method (for instructions).
    pub method: Option<PaymentMethodRow>,
    /// False when an earlier call (same key, or another key) placed them.
    pub created: bool,
}

/// Places the checkout: one order per seller, the rate frozen, the stock
/// hold handed from the checkout to the orders, the cart converted.
/// Idempotent: a retry with the same key returns the same orders; a second
/// key for the same checkout also gets them (never a second set). A changed
/// total is 409 `total_changed` (nothing placed); missing choices are 422.
pub fn place(
    conn: &mut PgConnection,
    user: &Principal,
    id: CheckoutId,
    key: &str,
    expected: DualPrice,
) -> Result<Placed, Refused<Review>> {
    conn.transaction::<_, Refused<Review>, _>(|conn| {
        let request = idempotency::Request {
            user_id: user.user_id,
            key,
            operation: OPERATION,
            fingerprint: idempotency::fingerprint(&[
                &id,
                &expected.usd.normalize(),
                &expected.ves.normalize(),
            ]),
            resource_id: id.uuid(),
        };
        // A repeat answers from the checkout's state below, like a second
        // key for a placed checkout does.
        let _: Claim = idempotency::claim(conn, &request)?;
        let row = own(conn, user, id)?;
        if row.status == CheckoutStatus::Placed {
            return Ok(already_placed(conn, row)?);
        }
        require_open(&row)?;
        let review = review_with(conn, user, row.clone(), false)?;
        if !review.missing.is_empty() {
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors: review.missing,
            }
            .into());
        }
        if review.total != expected {
            let error = AppError::conflict(
                ErrorCode::TotalChanged,
                format!(
                    "the total is now {} USD / {} VES; review it and place again",
                    review.total.usd, review.total.ves
                ),
            );
            // Nothing is placed and the key is not kept (the transaction
            // rolls back); the buyer gets the review as it is now.
            return Err(Refused::with_current(error, review_now(conn, user, row)?));
        }
        let ready = |what: &str| AppError::internal(format!("a ready review has {what}"));
        let method = review.method.clone().ok_or_else(|| ready("a method"))?;
        let address = review.address.as_ref().ok_or_else(|| ready("an address"))?;
        let window = i64::from(method.payment_window_minutes) * 60;
        let ids: Vec<OrderId> = review.sellers.iter().map(|_| OrderId::now_v7()).collect();
        let holds = hand_over(conn, user, &row, &review.sellers, &ids, window)?;
        let mut orders = Vec::with_capacity(ids.len());
        for ((seller, id), reservation_id) in review.sellers.iter().zip(ids).zip(holds) {
            let option = seller
                .delivery_option
                .as_ref()
                .ok_or_else(|| ready("delivery"))?;
            orders.push(new_order(seller, id, reservation_id, option));
        }
        let opening = Opening {
            checkout_id: id,
            buyer: user,
            method: method.code,
            payment_due_at: crate::db::now() + Duration::seconds(window),
            rate: &review.rate,
            address: AddressSnapshot::of(address),
            customization: row.customization(),
        };
        let orders = crate::orders::service::open(conn, &opening, orders)?;
        repo::set_status(conn, id, CheckoutStatus::Placed)?;
        crate::carts::service::convert(conn, row.cart_id)?;
        Ok(Placed {
            checkout: CheckoutRow {
                status: CheckoutStatus::Placed,
                ..row
            },
            orders,
            method: Some(method),
            created: true,
        })
    })
}

/// A checkout placed earlier (by this key or another): its orders.
fn already_placed(conn: &mut PgConnection, row: CheckoutRow) -> Result<Placed, AppError> {
    let method = row
        .payment_method
        .as_deref()
        .and_then(|m| m.parse::<MethodCode>().ok())
        .and_then(|m| crate::payments::service::offered(conn, m).ok());
    Ok(Placed {
        orders: crate::orders::service::of_checkout(conn, row.id)?,
        checkout: row,
        method,
        created: false,
    })
}

/// Hands the checkout's hold to the orders, one part per seller, in this
/// transaction and without the units ever being free: nobody can take them
/// in between, and the stock rows are not even touched. Returns each
/// order's hold.
fn hand_over(
    conn: &mut PgConnection,
    user: &Principal,
    row: &CheckoutRow,
    sellers: &[SellerReview],
    order_ids: &[OrderId],
    window_seconds: i64,
) -> Result<Vec<Uuid>, AppError> {
    let parts: Vec<inventory::Handover> = sellers
        .iter()
        .zip(order_ids)
        .map(|(seller, order_id)| inventory::Handover {
            owner_type: OwnerType::Order,
            owner_id: order_id.uuid(),
            lines: seller
                .lines
                .iter()
                .map(|l| (l.line.product_id, l.line.quantity.get()))
                .collect(),
        })
        .collect();
    let actor = Actor::of(user);
    match inventory::hand_over(conn, &actor, row.reservation_id, &parts, window_seconds)? {
        inventory::HandedOver::Done(holds) => Ok(holds),
        inventory::HandedOver::Ended => Err(AppError::conflict(
            ErrorCode::CheckoutExpired,
            "the stock hold has ended; start the checkout again",
        )),
        // The hold was made from these very lines when the checkout
        // started, and a withdrawn line stops the review: a mismatch means
        // the data broke, not that the client erred.
        inventory::HandedOver::Mismatch => Err(AppError::internal(format!(
            "the hold of checkout {} does not match its lines",
            row.id
        ))),
    }
}

/// One seller's part of the review as the order it becomes.
fn new_order(
    seller: &SellerReview,
    id: OrderId,
    reservation_id: Uuid,
    option: &crate::delivery::DeliveryOptionRow,
) -> NewOrder {
    NewOrder {
        id,
        seller_id: seller.seller_id,
        lines: seller
            .lines
            .iter()
            .map(|l| NewOrderLine {
                product_id: l.line.product_id,
                sku: l.line.sku.clone(),
                name: l.line.name.clone(),
                image_url: l.line.image_url.clone(),
                quantity: l.line.quantity,
                unit: l.unit,
                total: l.total,
            })
            .collect(),
        subtotal: seller.subtotal,
        delivery: seller.delivery,
        fees: seller.fees.iter().map(|f| f.amount).sum(),
        surcharge: seller.surcharge,
        total: seller.total,
        delivery_option: DeliverySnapshot::of(option),
        reservation_id,
    }
}
