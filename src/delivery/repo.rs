//! Delivery's statements: the rows of `delivery_options`.

use diesel::prelude::*;
use uuid::Uuid;

use super::DeliveryOptionRow;
use crate::db::schema::delivery_options as d;
use crate::ids::SellerId;

/// A seller's active options, cheapest base cost first.
pub fn active_of_seller(
    conn: &mut PgConnection,
    seller_id: SellerId,
) -> QueryResult<Vec<DeliveryOptionRow>> {
    d::table
        .filter(d::seller_id.eq(seller_id))
        .filter(d::active.eq(true))
        .order((d::base_cost_usd.asc(), d::id.asc()))
        .select(DeliveryOptionRow::as_select())
        .load(conn)
}

/// Writes a new option.
pub fn insert(conn: &mut PgConnection, row: &DeliveryOptionRow) -> QueryResult<()> {
    diesel::insert_into(d::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// One option, locked.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DeliveryOptionRow>> {
    d::table
        .find(id)
        .select(DeliveryOptionRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Stores an option's fields as they are on `row`.
pub fn save(conn: &mut PgConnection, row: &DeliveryOptionRow) -> QueryResult<()> {
    diesel::update(d::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}
