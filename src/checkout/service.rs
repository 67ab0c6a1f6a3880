//! Checkout use cases: start (hold the cart's counted lines), read and
//! choose. Beside it: `review.rs` prices what the buyer chose, `place.rs`
//! turns it into orders (with `expected_total` and an idempotency key),
//! both re-exported here.

use std::collections::BTreeMap;

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use super::review::review;
use super::{CHECKOUT_TTL_SECONDS, CheckoutLine, CheckoutRow, CheckoutStatus, repo};
use crate::auth::{Actor, Principal};
use crate::db::Json;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::ids::{CartId, CheckoutId, SellerId};
use crate::inventory::service::{self as inventory, NewReservation};
use crate::inventory::{OwnerType, ReservationStatus};
use crate::payments::MethodCode;

pub use super::place::{OPERATION, Placed, place};
pub use super::review::{Review, ReviewLine, SellerReview};

/// Starts a checkout of the caller's cart: its counted lines are held for
/// 15 minutes (all or nothing, 409 `insufficient_stock`). A checkout already
/// open for the cart is replaced and its hold released.
pub fn start(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
) -> Result<Review, AppError> {
    conn.transaction::<_, AppError, _>(|conn| {
        let view = crate::carts::service::checkout_view(conn, user, cart_id)?;
        let reduced: Vec<String> = view
            .notices
            .iter()
            .filter(|n| n.kind == crate::carts::pricing::NoticeKind::QuantityReduced)
            .map(|n| {
                let name = view
                    .lines
                    .iter()
                    .find(|l| l.row.id == n.item_id)
                    .map_or("a product", |l| l.row.name.as_str());
                format!(
                    "{name}: {} -> {}",
                    n.from_quantity.unwrap_or(0),
                    n.to_quantity.unwrap_or(0)
                )
            })
            .collect();
        if !reduced.is_empty() {
            // The lowered quantities are stored on the cart, so this
            // transaction commits them and the refusal says what changed;
            // having told the shopper, it acknowledges those notices.
            crate::carts::service::acknowledge_reductions(conn, cart_id)?;
            return Ok(Err(AppError::conflict(
                ErrorCode::CartChanged,
                format!(
                    "the cart changed to what is available ({}); review it and start again",
                    reduced.join("; ")
                ),
            )));
        }
        let lines: Vec<CheckoutLine> = view
            .lines
            .iter()
            .filter(|l| l.counted)
            .map(|l| CheckoutLine {
                product_id: l.row.product_id,
                seller_id: l.row.seller_id,
                seller_name: l.row.seller_name.clone(),
                name: l.row.name.clone(),
                sku: l.row.sku.clone(),
                image_url: l.row.image_url.clone(),
                quantity: l.row.quantity,
            })
            .collect();
        if view.lines.is_empty() {
            return Err(AppError::invalid("cart_id", "the cart is empty"));
        }
        if lines.is_empty() {
            // Lines exist but none can be bought (sold out or withdrawn
            // since they were added): a conflict with the stock, not bad input.
            return Err(AppError::conflict(
                ErrorCode::ProductUnavailable,
                "nothing in the cart is available now; the cart shows what is out of stock",
            ));
        }
        let actor = Actor::of(user);
        if let Some(old) = repo::lock_open_of_cart(conn, cart_id)? {
            end_hold(conn, &actor, old.reservation_id)?;
            repo::set_status(conn, old.id, CheckoutStatus::Abandoned)?;
        }
        crate::carts::service::release_cart_hold(conn, cart_id, user)?;
        let id = CheckoutId::now_v7();
        let (reservation, _) = inventory::reserve(
            conn,
            &actor,
            NewReservation {
                owner_type: OwnerType::Checkout,
                owner_id: id.uuid(),
                ttl_seconds: CHECKOUT_TTL_SECONDS,
                lines: lines
                    .iter()
                    .map(|l| (l.product_id, l.quantity.get()))
                    .collect(),
            },
        )?;
        let now = crate::db::now();
        let row = CheckoutRow {
            id,
            user_id: user.user_id,
            cart_id,
            status: CheckoutStatus::Open,
            lines: Json(lines),
            address_id: None,
            deliveries: Json(BTreeMap::new()),
            payment_method: None,
            gift_wrap: false,
            gift_message: String::new(),
            special_instructions: String::new(),
            delivery_notes: String::new(),
            package_preferences: String::new(),
            reservation_id: reservation.id,
            expires_at: now + Duration::seconds(CHECKOUT_TTL_SECONDS),
            created_at: now,
            updated_at: now,
        };
        repo::insert(conn, &row)?;
        Ok(review(conn, user, row))
    })?
}

fn end_hold(conn: &mut PgConnection, actor: &Actor, reservation_id: Uuid) -> Result<(), AppError> {
    match inventory::end(conn, actor, reservation_id, inventory::Outcome::Release) {
        Ok(_) => Ok(()),
        // Already expired or released: nothing to give back.
        Err(AppError::Conflict {
            code: ErrorCode::ReservationNotActive,
            ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// One of the caller's checkouts, locked (404 for anyone else's).
pub(super) fn own(
    conn: &mut PgConnection,
    user: &Principal,
    id: CheckoutId,
) -> Result<CheckoutRow, AppError> {
    repo::lock_own(conn, id, user.user_id)?.ok_or(AppError::NotFound("checkout"))
}

/// Reads one of the caller's checkouts with its review.
pub fn get(conn: &mut PgConnection, user: &Principal, id: CheckoutId) -> Result<Review, AppError> {
    conn.transaction(|conn| {
        let row = own(conn, user, id)?;
        review(conn, user, row)
    })
}

/// The buyer's choices; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// One of the buyer's addresses.
    pub address_id: Option<Uuid>,
    /// A delivery option per seller.
    pub deliveries: Option<Vec<(SellerId, Uuid)>>,
    /// The payment method.
    pub payment_method: Option<MethodCode>,
    /// Gift wrap.
    pub gift_wrap: Option<bool>,
    /// Gift message.
    pub gift_message: Option<String>,
    /// Special instructions.
    pub special_instructions: Option<String>,
    /// Delivery notes.
    pub delivery_notes: Option<String>,
    /// Packaging preferences.
    pub package_preferences: Option<String>,
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<String>,
    max: usize,
    into: &mut String,
) {
    if let Some(v) = value {
        let v = v.trim().to_string();
        if v.chars().count() > max {
            errors.push(FieldError::new(
                field,
                format!("must have at most {max} characters"),
            ));
        }
        *into = v;
    }
}

/// Records the buyer's choices, checking each (every invalid one is listed).
pub fn choose(
    conn: &mut PgConnection,
    user: &Principal,
    id: CheckoutId,
    ch: Choices,
) -> Result<Review, AppError> {
    conn.transaction(|conn| {
        let mut row = own(conn, user, id)?;
        ensure_open(conn, &row)?;
        let mut errors = vec![];
        if let Some(address) = ch.address_id {
            match crate::addresses::service::get(conn, user, address) {
                Ok(_) => row.address_id = Some(address),
                Err(AppError::NotFound(_)) => errors.push(FieldError::new(
                    "address_id",
                    "is not one of your addresses",
                )),
                Err(e) => return Err(e),
            }
        }
        if let Some(method) = ch.payment_method {
            match crate::payments::service::offered(conn, method) {
                Ok(_) => row.payment_method = Some(method.as_str().to_string()),
                Err(_) => errors.push(FieldError::new("payment_method", "is not offered now")),
            }
        }
        if let Some(choices) = ch.deliveries {
            let sellers: Vec<SellerId> = row.lines.iter().map(|l| l.seller_id).collect();
            for (i, (seller, option)) in choices.into_iter().enumerate() {
                let offered = crate::delivery::service::list_for_seller(conn, seller)?;
                if !sellers.contains(&seller) {
                    errors.push(FieldError::new(
                        format!("deliveries[{i}].seller_id"),
                        "has no lines in this checkout",
                    ));
                } else if !offered.iter().any(|o| o.id == option) {
                    errors.push(FieldError::new(
                        format!("deliveries[{i}].option_id"),
                        "is not an active option of this seller",
                    ));
                } else {
                    row.deliveries.insert(seller, option);
                }
            }
        }
        if let Some(wrap) = ch.gift_wrap {
            row.gift_wrap = wrap;
        }
        text(
            &mut errors,
            "gift_message",
            ch.gift_message,
            300,
            &mut row.gift_message,
        );
        text(
            &mut errors,
            "special_instructions",
            ch.special_instructions,
            500,
            &mut row.special_instructions,
        );
        text(
            &mut errors,
            "delivery_notes",
            ch.delivery_notes,
            500,
            &mut row.delivery_notes,
        );
        text(
            &mut errors,
            "package_preferences",
            ch.package_preferences,
            300,
            &mut row.package_preferences,
        );
        if !errors.is_empty() {
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors,
            });
        }
        row.updated_at = crate::db::now();
        repo::save_choices(conn, &row)?;
        review(conn, user, row)
    })
}

/// 409 `checkout_expired` when the hold has ended; 409 when placed or replaced.
pub(super) fn require_open(row: &CheckoutRow) -> Result<(), AppError> {
    if row.status != CheckoutStatus::Open {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            format!("the checkout is {}", row.status),
        ));
    }
    Ok(())
}

fn ensure_open(conn: &mut PgConnection, row: &CheckoutRow) -> Result<(), AppError> {
    require_open(row)?;
    if !hold_active(conn, row)? {
        return Err(AppError::conflict(
            ErrorCode::CheckoutExpired,
            "the stock hold has ended; start the checkout again",
        ));
    }
    Ok(())
}

pub(super) fn hold_active(conn: &mut PgConnection, row: &CheckoutRow) -> Result<bool, AppError> {
    let reservation = inventory::reservation(conn, row.reservation_id)?;
    Ok(
        reservation.status == ReservationStatus::Active
            && reservation.expires_at > crate::db::now(),
    )
}
