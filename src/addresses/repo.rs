//! Address queries. No transactions, no rules.

use diesel::prelude::*;
use uuid::Uuid;

use super::AddressRow;
use crate::db::schema::addresses as a;

/// The user's addresses, default first, then newest.
pub fn of_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<AddressRow>> {
    a::table
        .filter(a::user_id.eq(user_id))
        .order((a::is_default.desc(), a::created_at.desc()))
        .select(AddressRow::as_select())
        .load(conn)
}

/// One of the user's addresses, locked.
pub fn lock_own(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<AddressRow>> {
    a::table
        .filter(a::id.eq(id))
        .filter(a::user_id.eq(user_id))
        .select(AddressRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Inserts an address.
pub fn insert(conn: &mut PgConnection, row: &AddressRow) -> QueryResult<()> {
    diesel::insert_into(a::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Replaces an address's fields.
pub fn save(conn: &mut PgConnection, row: &AddressRow) -> QueryResult<()> {
    diesel::update(a::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Clears the user's default flag.
pub fn clear_default(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    diesel::update(
        a::table
            .filter(a::user_id.eq(user_id))
            .filter(a::is_default.eq(true)),
    )
    .set(a::is_default.eq(false))
    .execute(conn)
    .map(|_| ())
}

/// Marks one address as the default.
pub fn set_default(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(a::table.find(id))
        .set(a::is_default.eq(true))
        .execute(conn)
        .map(|_| ())
}

/// Deletes an address.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(a::table.find(id)).execute(conn).map(|_| ())
}
