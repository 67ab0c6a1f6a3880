//! Read-only share links of a cart: create, revoke, read by token, and copy a
//! shared cart into one's own.

use diesel::prelude::*;
use uuid::Uuid;

use super::service::{
    Caller, CartView, Op, authorize, lock_for_write, lock_user_cart, update_cart, view,
};
use super::{CartShareRow, SharedCart, SharedLine, repo};
use crate::auth::tokens;
use crate::error::AppError;
use crate::ids::CartId;
use crate::money::DualPrice;

/// Shares a cart by a read-only link: a snapshot of its lines now. Returns
/// the share id and the token (shown once).
pub fn share_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: CartId,
) -> Result<(Uuid, String, SharedCart), AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        let (cart, _) = lock_for_write(conn, caller, cart_id)?;
        let view = view(conn, cart, false)?;
        let snapshot = SharedCart {
            lines: view
                .lines
                .iter()
                .filter(|l| !l.row.saved_for_later)
                .map(|l| {
                    let unit = DualPrice::new(l.row.unit_price_usd, l.row.unit_price_ves);
                    SharedLine {
                        product_id: l.row.product_id,
                        name: l.row.name.clone(),
                        sku: l.row.sku.clone(),
                        image_url: l.row.image_url.clone(),
                        seller_name: l.row.seller_name.clone(),
                        quantity: l.row.quantity.get(),
                        unit_price: unit,
                        line_total: unit.times(l.row.quantity),
                    }
                })
                .collect(),
            total: view.summary.total,
            shared_at: crate::db::now(),
        };
        let row = CartShareRow {
            id: Uuid::now_v7(),
            cart_id,
            token_hash: tokens::hash_token(&token),
            snapshot: serde_json::to_value(&snapshot).map_err(AppError::internal)?,
            created_at: snapshot.shared_at,
            revoked_at: None,
        };
        repo::insert_share(conn, &row)?;
        Ok((row.id, token.clone(), snapshot))
    })
}

/// Revokes a share link of the caller's cart.
pub fn revoke_cart_share(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: CartId,
    share_id: Uuid,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let cart = repo::lock(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
        authorize(conn, &cart, caller, true)?;
        match repo::revoke_share(conn, cart_id, share_id)? {
            0 => Err(AppError::NotFound("cart share")),
            _ => Ok(()),
        }
    })
}

/// A shared cart by its link token (404 once revoked).
pub fn shared_cart(conn: &mut PgConnection, token: &str) -> Result<SharedCart, AppError> {
    let share = repo::live_share(conn, &tokens::hash_token(token))?
        .ok_or(AppError::NotFound("shared cart"))?;
    serde_json::from_value(share.snapshot).map_err(AppError::internal)
}

/// Copies a shared cart's lines into the caller's cart (`target`, or the
/// signed-in user's cart), all or nothing, at today's prices.
pub fn copy_shared_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    token: &str,
    target: Option<CartId>,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let shared = shared_cart(conn, token)?;
        let target = match (target, &caller.principal) {
            (Some(id), _) => id,
            (None, Some(user)) => lock_user_cart(conn, user.user_id)?.id,
            (None, None) => {
                return Err(AppError::invalid(
                    "cart_id",
                    "name the cart to copy into, or sign in",
                ));
            }
        };
        let ops = shared
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    format!("lines[{i}]."),
                    Op::Add {
                        product_id: l.product_id,
                        quantity: l.quantity,
                    },
                )
            })
            .collect();
        Ok(update_cart(conn, caller, target, None, ops)?)
    })
}
