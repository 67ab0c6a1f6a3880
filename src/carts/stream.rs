//! What the cart event stream needs from the database: the products and
//! sellers on a cart (to match events), and the single-use tickets browsers
//! open the stream with.

use chrono::Duration;
use diesel::prelude::*;

use super::repo;
use super::service::{Caller, CartView, authorize, view};
use crate::auth::tokens;
use crate::error::AppError;
use crate::ids::{CartId, ProductId, SellerId};

/// The products in a cart (to know which product events concern it).
pub fn product_ids(
    conn: &mut PgConnection,
    id: CartId,
) -> Result<Vec<(ProductId, SellerId)>, AppError> {
    Ok(repo::items_of(conn, id)?
        .into_iter()
        .map(|i| (i.product_id, i.seller_id))
        .collect())
}

/// How long a stream ticket may wait to be used.
pub const STREAM_TICKET_SECONDS: i64 = 60;

/// Issues a single-use ticket for `cart_id`'s event stream, for clients
/// that cannot send headers on it (a browser's `EventSource`): whoever may
/// read the cart now gets one, valid for `STREAM_TICKET_SECONDS`. Only its
/// hash is stored.
pub fn issue_stream_ticket(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: CartId,
) -> Result<(String, chrono::DateTime<chrono::Utc>), AppError> {
    use crate::db::schema::cart_stream_tickets as t;
    let cart = repo::find(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
    authorize(conn, &cart, caller, false)?;
    let ticket = tokens::new_token()?;
    let expires_at = crate::db::now() + Duration::seconds(STREAM_TICKET_SECONDS);
    diesel::insert_into(t::table)
        .values((
            t::ticket_hash.eq(tokens::hash_token(&ticket)),
            t::cart_id.eq(cart_id),
            t::expires_at.eq(expires_at),
            t::created_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok((ticket, expires_at))
}

/// Uses a stream ticket for `cart_id` (once, before it expires) and reads
/// the cart; 404 for a ticket that is unknown, used, expired or for another
/// cart, so nothing is learnt from it.
pub fn redeem_stream_ticket(
    conn: &mut PgConnection,
    cart_id: CartId,
    ticket: &str,
) -> Result<CartView, AppError> {
    use crate::db::schema::cart_stream_tickets as t;
    conn.transaction(|conn| {
        let now = crate::db::now();
        let used = diesel::update(
            t::table
                .find(tokens::hash_token(ticket))
                .filter(t::cart_id.eq(cart_id))
                .filter(t::used_at.is_null())
                .filter(t::expires_at.gt(now)),
        )
        .set(t::used_at.eq(now))
        .execute(conn)?;
        if used != 1 {
            return Err(AppError::NotFound("cart"));
        }
        let cart = repo::lock(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
        view(conn, cart, false)
    })
}

/// Stream tickets deleted per transaction by the job.
pub const TICKET_BATCH: i64 = 500;

/// Deletes up to `batch` stream tickets that expired over an hour ago.
pub fn forget_stream_tickets(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    use diesel::sql_types::{BigInt, Timestamptz};
    Ok(diesel::sql_query(
        "DELETE FROM cart_stream_tickets WHERE ticket_hash IN (
             SELECT ticket_hash FROM cart_stream_tickets WHERE expires_at < $1
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(crate::db::now() - Duration::hours(1))
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}
