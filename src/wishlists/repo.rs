//! Wishlist queries. No transactions, no rules.

use diesel::prelude::*;
use uuid::Uuid;

use super::{WishlistItemRow, WishlistRow};
use crate::db::schema::{wishlist_items as items, wishlists as w};
use crate::ids::ProductId;

/// Inserts a list unless the name (or the default) is taken; true when inserted.
pub fn insert_if_free(conn: &mut PgConnection, row: &WishlistRow) -> QueryResult<bool> {
    diesel::insert_into(w::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// The user's lists, default first, then by name.
pub fn of_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<WishlistRow>> {
    w::table
        .filter(w::user_id.eq(user_id))
        .order((w::is_default.desc(), w::name.asc()))
        .select(WishlistRow::as_select())
        .load(conn)
}

/// A list, locked.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<WishlistRow>> {
    w::table
        .find(id)
        .select(WishlistRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The list shared with this token hash.
pub fn by_share_hash(conn: &mut PgConnection, hash: &str) -> QueryResult<Option<WishlistRow>> {
    w::table
        .filter(w::share_token_hash.eq(hash))
        .select(WishlistRow::as_select())
        .first(conn)
        .optional()
}

/// The user's default list.
pub fn default_of(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Option<WishlistRow>> {
    w::table
        .filter(w::user_id.eq(user_id))
        .filter(w::is_default.eq(true))
        .select(WishlistRow::as_select())
        .first(conn)
        .optional()
}

/// Renames a list (a taken name is a unique violation).
pub fn rename(conn: &mut PgConnection, id: Uuid, name: &str) -> QueryResult<()> {
    diesel::update(w::table.find(id))
        .set((w::name.eq(name), w::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .map(|_| ())
}

/// Sets or clears the share token hash.
pub fn set_share(conn: &mut PgConnection, id: Uuid, hash: Option<String>) -> QueryResult<()> {
    diesel::update(w::table.find(id))
        .set(w::share_token_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a list and its items.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(w::table.find(id)).execute(conn).map(|_| ())
}

/// A list's items, newest first.
pub fn items_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<WishlistItemRow>> {
    items::table
        .filter(items::wishlist_id.eq(id))
        .order(items::added_at.desc())
        .select(WishlistItemRow::as_select())
        .load(conn)
}

/// Item counts of several lists.
pub fn counts(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, i64)>> {
    items::table
        .filter(items::wishlist_id.eq_any(ids))
        .group_by(items::wishlist_id)
        .select((items::wishlist_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Adds a product (no-op when present).
pub fn add_item(conn: &mut PgConnection, id: Uuid, product_id: ProductId) -> QueryResult<()> {
    diesel::insert_into(items::table)
        .values(&WishlistItemRow {
            wishlist_id: id,
            product_id,
            added_at: crate::db::now(),
        })
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// Removes a product; how many rows went.
pub fn remove_item(conn: &mut PgConnection, id: Uuid, product_id: ProductId) -> QueryResult<usize> {
    diesel::delete(items::table.find((id, product_id))).execute(conn)
}
