//! Group carts: an owner invites participants by a code; each adds and
//! changes their own lines; the owner checks out.

use diesel::prelude::*;
use uuid::Uuid;

use super::service::{CartView, empty_cart, view};
use super::{CartKind, CartRow, CartStatus, ParticipantRole, ParticipantRow, repo};
use crate::auth::{Principal, tokens};
use crate::error::{AppError, ErrorCode};
use crate::ids::CartId;

/// Opens a group cart owned by `user`; returns it and the invitation token.
pub fn create_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
) -> Result<(CartView, String), AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        let cart = CartRow {
            kind: CartKind::Group,
            invite_token_hash: Some(tokens::hash_token(&token)),
            ..empty_cart(Some(user.user_id), None)
        };
        repo::insert(conn, &cart)?;
        repo::upsert_participant(
            conn,
            &ParticipantRow {
                cart_id: cart.id,
                user_id: user.user_id,
                role: ParticipantRole::Owner,
                joined_at: cart.created_at,
                left_at: None,
            },
        )?;
        Ok((view(conn, cart, false)?, token.clone()))
    })
}

fn lock_group(conn: &mut PgConnection, cart_id: CartId) -> Result<CartRow, AppError> {
    repo::lock(conn, cart_id)?
        .filter(|c| c.kind == CartKind::Group)
        .ok_or(AppError::NotFound("group cart"))
}

fn role_of(
    conn: &mut PgConnection,
    cart_id: CartId,
    user: Uuid,
) -> Result<Option<ParticipantRole>, AppError> {
    Ok(repo::participants(conn, cart_id)?
        .into_iter()
        .find(|p| p.user_id == user)
        .map(|p| p.role))
}

/// Joins a group cart with its invitation token (harmless when already in).
pub fn join_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
    token: &str,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        let invited = cart
            .invite_token_hash
            .as_deref()
            .is_some_and(|h| tokens::matches(h, token));
        if !invited || cart.status != CartStatus::Active {
            return Err(AppError::NotFound("group cart"));
        }
        if role_of(conn, cart_id, user.user_id)?.is_some() {
            return view(conn, cart, false);
        }
        repo::upsert_participant(
            conn,
            &ParticipantRow {
                cart_id,
                user_id: user.user_id,
                role: ParticipantRole::Member,
                joined_at: crate::db::now(),
                left_at: None,
            },
        )?;
        view(conn, cart, true)
    })
}

/// Leaves a group cart; the member's lines go with them. The owner cannot leave.
pub fn leave_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            None => Err(AppError::NotFound("group cart")),
            Some(ParticipantRole::Owner) => Err(AppError::conflict(
                ErrorCode::Conflict,
                "the owner cannot leave a group cart; remove the others or let it expire",
            )),
            Some(ParticipantRole::Member) => {
                repo::delete_lines_of(conn, cart_id, user.user_id)?;
                repo::leave(conn, cart_id, user.user_id)?;
                view(conn, cart, true).map(|_| ())
            }
        }
    })
}

/// The owner removes a participant and their lines.
pub fn remove_participant(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
    member: Uuid,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            None => return Err(AppError::NotFound("group cart")),
            Some(ParticipantRole::Member) => {
                return Err(AppError::forbidden("only the owner removes participants"));
            }
            Some(ParticipantRole::Owner) if member == user.user_id => {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "the owner cannot remove themselves",
                ));
            }
            Some(ParticipantRole::Owner) => {}
        }
        repo::delete_lines_of(conn, cart_id, member)?;
        if repo::leave(conn, cart_id, member)? == 0 {
            return Err(AppError::NotFound("participant"));
        }
        view(conn, cart, true)
    })
}

/// The owner issues a new invitation token (the old one stops working).
pub fn rotate_invite(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
) -> Result<String, AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            Some(ParticipantRole::Owner) => {
                repo::set_invite(conn, cart_id, &tokens::hash_token(&token))?;
                Ok(token.clone())
            }
            Some(ParticipantRole::Member) => Err(AppError::forbidden("only the owner invites")),
            None => Err(AppError::NotFound("group cart")),
        }
    })
}

/// Whether `user` may check out the cart: a personal cart's owner, or a
/// group cart's owner only.
pub fn may_check_out(
    conn: &mut PgConnection,
    cart: &CartRow,
    user: &Principal,
) -> Result<bool, AppError> {
    Ok(match cart.kind {
        CartKind::Personal => cart.user_id == Some(user.user_id),
        CartKind::Group => role_of(conn, cart.id, user.user_id)? == Some(ParticipantRole::Owner),
    })
}
