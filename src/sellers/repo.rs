//! Seller queries. No transactions, no rules.

use diesel::prelude::*;
use uuid::Uuid;

use super::{SellerChanges, SellerRow};
use crate::db::schema::sellers;
use crate::ids::SellerId;

/// Inserts a seller; a duplicate id is a unique violation.
pub fn insert(conn: &mut PgConnection, row: &SellerRow) -> QueryResult<SellerRow> {
    diesel::insert_into(sellers::table)
        .values(row)
        .returning(SellerRow::as_returning())
        .get_result(conn)
}

/// Inserts a seller unless one with the same id exists; true when inserted.
pub fn insert_if_absent(conn: &mut PgConnection, row: &SellerRow) -> QueryResult<bool> {
    diesel::insert_into(sellers::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// The seller with `id`, if any.
pub fn find_by_id(conn: &mut PgConnection, id: SellerId) -> QueryResult<Option<SellerRow>> {
    sellers::table
        .find(id)
        .select(SellerRow::as_select())
        .first(conn)
        .optional()
}

/// The seller with `id`, locked for update.
pub fn lock_by_id(conn: &mut PgConnection, id: SellerId) -> QueryResult<Option<SellerRow>> {
    sellers::table
        .find(id)
        .select(SellerRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Sellers ordered by id, after `after`, at most `limit`.
pub fn list(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<SellerRow>> {
    let mut query = sellers::table.select(SellerRow::as_select()).into_boxed();
    if let Some(after) = after {
        query = query.filter(sellers::id.gt(after));
    }
    query.order(sellers::id.asc()).limit(limit).load(conn)
}

/// Applies `changes` to the seller with `id`.
pub fn update(
    conn: &mut PgConnection,
    id: SellerId,
    changes: &SellerChanges,
) -> QueryResult<SellerRow> {
    diesel::update(sellers::table.find(id))
        .set(changes)
        .returning(SellerRow::as_returning())
        .get_result(conn)
}
