//! Guest merge: a guest cart joins the signed-in user's cart after login,
//! same products adding up within the per-order maximum, what is available
//! (both carts' own holds count) and the line limit; every cap is reported.

use diesel::prelude::*;
use uuid::Uuid;

use super::service::{
    CartPolicy, CartView, MAX_LINES, lock_user_cart, place_hold, release_hold, view,
};
use super::{CartStatus, ItemRow, repo};
use crate::auth::{Principal, tokens};
use crate::error::AppError;
use crate::ids::{CartId, ProductId};
use crate::inventory;
use crate::money::Quantity;
use crate::products::service::{self as products};

/// What merging did to one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// The product.
    pub product_id: ProductId,
    /// Units the two carts held together.
    pub requested: i32,
    /// Units in the merged cart.
    pub merged_quantity: i32,
    /// `max_per_order`, `stock`, `unavailable` or `line_limit` (the cart holds its maximum of lines).
    pub reason: &'static str,
}

/// Merges a guest cart into the signed-in user's cart. Same products add up,
/// capped by the per-order maximum and what is available (units either
/// cart's own soft hold keeps count as available), and new lines by the
/// cart's line limit; every cap is reported. The guest cart becomes
/// `merged` and its token stops working. Merging the same guest cart again
/// changes nothing.
pub fn merge(
    conn: &mut PgConnection,
    user: &Principal,
    policy: CartPolicy,
    guest_cart_id: CartId,
    token: &str,
) -> Result<(CartView, Vec<Adjustment>, bool), AppError> {
    conn.transaction(|conn| {
        let target = lock_user_cart(conn, user.user_id)?;
        let guest = repo::lock(conn, guest_cart_id)?.ok_or(AppError::NotFound("cart"))?;
        let token_ok = guest
            .guest_token_hash
            .as_deref()
            .is_some_and(|h| tokens::matches(h, token));
        if !token_ok {
            return Err(AppError::NotFound("cart"));
        }
        if guest.status == CartStatus::Merged && guest.merged_into == Some(target.id) {
            return Ok((view(conn, target, false)?, vec![], true));
        }
        if guest.status != CartStatus::Active {
            return Err(AppError::NotFound("cart"));
        }
        let from = repo::items_of(conn, guest.id)?;
        let into = repo::items_of(conn, target.id)?;
        let ids: Vec<ProductId> = from.iter().map(|i| i.product_id).collect();
        let facts = products::facts(conn, &ids)?;
        // Both carts' own soft holds are released below and the merged lines
        // held again, so units either cart holds are available to the merge.
        let (stock, held_by_target) = inventory::service::stock_and_held(
            conn,
            &ids,
            inventory::OwnerType::Cart,
            target.id.uuid(),
        )?;
        let (_, held_by_guest) = inventory::service::stock_and_held(
            conn,
            &ids,
            inventory::OwnerType::Cart,
            guest.id.uuid(),
        )?;
        let own = |p: &ProductId| {
            held_by_target.get(p).copied().unwrap_or(0) + held_by_guest.get(p).copied().unwrap_or(0)
        };
        let mut lines = into.len();
        let mut adjustments = vec![];
        for item in from {
            let existing = into.iter().find(|i| i.product_id == item.product_id);
            let requested = existing
                .filter(|e| !e.saved_for_later)
                .map_or(0, |e| e.quantity.get())
                + item.quantity.get();
            // A new line needs room under the cart's line limit.
            let fits = existing.is_some() || lines < MAX_LINES;
            let (cap, reason) = match facts.get(&item.product_id).filter(|f| f.sellable) {
                _ if !fits => (0, "line_limit"),
                None => (0, "unavailable"),
                Some(f) => {
                    let available = stock[&item.product_id].available() + own(&item.product_id);
                    if f.product.max_per_order <= available {
                        (f.product.max_per_order, "max_per_order")
                    } else {
                        (available, "stock")
                    }
                }
            };
            let merged = match item.saved_for_later {
                _ if !fits => 0,
                true => item.quantity.get().min(cap.max(1)),
                false => requested.min(cap),
            };
            if !item.saved_for_later && merged < requested {
                adjustments.push(Adjustment {
                    product_id: item.product_id,
                    requested,
                    merged_quantity: if merged > 0 {
                        merged
                    } else {
                        existing
                            .filter(|e| !e.saved_for_later)
                            .map_or(0, |e| e.quantity.get())
                    },
                    reason,
                });
            }
            match existing {
                Some(e) if !item.saved_for_later && merged > 0 => {
                    repo::set_item(conn, e.id, merged, false)?;
                }
                Some(_) => {}
                None if merged > 0 => {
                    lines += 1;
                    repo::insert_item(
                        conn,
                        &ItemRow {
                            id: Uuid::now_v7(),
                            cart_id: target.id,
                            quantity: Quantity::try_from(merged).map_err(AppError::internal)?,
                            added_by: Some(user.user_id),
                            // The guest line's price history stays with it.
                            price_changes: 0,
                            quantity_reduced_from: None,
                            ..item
                        },
                    )?
                }
                None => {}
            }
        }
        repo::set_status(conn, guest.id, CartStatus::Merged, Some(target.id))?;
        let actor = crate::auth::Actor::of(user);
        release_hold(conn, guest.id, &actor)?;
        if let Some(ttl) = policy.hold_seconds {
            // Merged quantities were capped by what is available, so this holds.
            release_hold(conn, target.id, &actor)?;
            let items = repo::items_of(conn, target.id)?;
            place_hold(conn, target.id, &items, ttl, &actor)?;
        }
        Ok((view(conn, target, true)?, adjustments, false))
    })
}
