//! Checkouts' statements: the rows of `checkouts`.

use diesel::prelude::*;
use uuid::Uuid;

use super::{CheckoutRow, CheckoutStatus};
use crate::db::schema::checkouts as c;
use crate::ids::{CartId, CheckoutId};

/// Writes a new checkout.
pub fn insert(conn: &mut PgConnection, row: &CheckoutRow) -> QueryResult<()> {
    diesel::insert_into(c::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The cart's open checkout, locked.
pub fn lock_open_of_cart(
    conn: &mut PgConnection,
    cart_id: CartId,
) -> QueryResult<Option<CheckoutRow>> {
    c::table
        .filter(c::cart_id.eq(cart_id))
        .filter(c::status.eq(CheckoutStatus::Open))
        .select(CheckoutRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// One of the user's checkouts, locked.
pub fn lock_own(
    conn: &mut PgConnection,
    id: CheckoutId,
    user_id: Uuid,
) -> QueryResult<Option<CheckoutRow>> {
    c::table
        .find(id)
        .filter(c::user_id.eq(user_id))
        .select(CheckoutRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Moves a checkout to `status`.
pub fn set_status(
    conn: &mut PgConnection,
    id: CheckoutId,
    status: CheckoutStatus,
) -> QueryResult<()> {
    diesel::update(c::table.find(id))
        .set((c::status.eq(status), c::updated_at.eq(crate::db::now())))
        .execute(conn)
        .map(|_| ())
}

/// Stores the buyer's choices as they are on `row`.
pub fn save_choices(conn: &mut PgConnection, row: &CheckoutRow) -> QueryResult<()> {
    diesel::update(c::table.find(row.id))
        .set((
            c::address_id.eq(row.address_id),
            c::deliveries.eq(&row.deliveries),
            c::payment_method.eq(&row.payment_method),
            c::gift_wrap.eq(row.gift_wrap),
            c::gift_message.eq(&row.gift_message),
            c::special_instructions.eq(&row.special_instructions),
            c::delivery_notes.eq(&row.delivery_notes),
            c::package_preferences.eq(&row.package_preferences),
            c::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map(|_| ())
}
