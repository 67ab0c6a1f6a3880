//! Lines between the cart and wishlists: move a line to a list, quick-add a
//! listed product to the cart. Carts use wishlists; wishlists never use
//! carts.

use diesel::prelude::*;
use uuid::Uuid;

use super::repo;
use super::service::{Caller, CartPolicy, CartView, Op, lock_user_cart, update_cart};
use crate::auth::Principal;
use crate::error::{AppError, Refused};
use crate::ids::{CartId, ProductId};

/// Moves a line to one of the user's wishlists (`None`: the default list).
pub fn move_to_wishlist(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: CartId,
    if_match: Option<i32>,
    item_id: Uuid,
    wishlist_id: Option<Uuid>,
) -> Result<CartView, Refused<CartView>> {
    let user = caller
        .principal
        .clone()
        .ok_or_else(|| AppError::Unauthorized("wishlists need a signed-in user".into()))?;
    conn.transaction::<_, AppError, _>(|conn| {
        let product = repo::items_of(conn, cart_id)?
            .into_iter()
            .find(|i| i.id == item_id)
            .map(|i| i.product_id)
            .ok_or(AppError::NotFound("cart item"))?;
        let remove = vec![(String::new(), Op::Remove { item_id })];
        let view = match update_cart(conn, caller, cart_id, if_match, remove) {
            Ok(view) => view,
            // Stale: nothing moved; the cart as read goes back with the
            // refusal, committed as any read is (its version is real).
            Err(stale @ Refused::WithCurrent { .. }) => return Ok(Err(stale)),
            Err(Refused::Plain(e)) => return Err(e),
        };
        crate::wishlists::service::add_item(conn, &user, wishlist_id, product)?;
        Ok(Ok(view))
    })?
}

/// Adds a product from one of the user's wishlists to the user's cart.
pub fn add_from_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    policy: CartPolicy,
    wishlist_id: Uuid,
    product_id: ProductId,
    quantity: i32,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        crate::wishlists::service::require_item(conn, user, wishlist_id, product_id)?;
        let cart = lock_user_cart(conn, user.user_id)?;
        let caller = Caller {
            principal: Some(user.clone()),
            cart_token: None,
            hold_seconds: policy.hold_seconds,
        };
        let add = Op::Add {
            product_id,
            quantity,
        };
        Ok(update_cart(
            conn,
            &caller,
            cart.id,
            None,
            vec![(String::new(), add)],
        )?)
    })
}
