//! Order reads and writes shared by checkout and the order endpoints.

use diesel::prelude::*;
use uuid::Uuid;

use super::{HistoryRow, OrderItemRow, OrderRow};
use crate::auth::Principal;
use crate::db::schema::{order_history as h, order_items as i, orders as o};
use crate::error::AppError;

/// The next short order number (`CN-001001`).
pub fn next_number(conn: &mut PgConnection) -> Result<String, AppError> {
    #[derive(QueryableByName)]
    struct Next {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let next: Next =
        diesel::sql_query("SELECT nextval('order_number_seq') AS n").get_result(conn)?;
    Ok(format!("CN-{:06}", next.n))
}

/// Writes an order with its lines and its opening history rows.
pub fn insert(
    conn: &mut PgConnection,
    order: &OrderRow,
    items: &[OrderItemRow],
    history: &[HistoryRow],
) -> Result<(), AppError> {
    diesel::insert_into(o::table).values(order).execute(conn)?;
    diesel::insert_into(i::table).values(items).execute(conn)?;
    diesel::insert_into(h::table)
        .values(history)
        .execute(conn)?;
    Ok(())
}

/// The orders of a checkout, by seller.
pub fn of_checkout(conn: &mut PgConnection, checkout_id: Uuid) -> Result<Vec<OrderRow>, AppError> {
    Ok(o::table
        .filter(o::checkout_id.eq(checkout_id))
        .order(o::seller_id.asc())
        .select(OrderRow::as_select())
        .load(conn)?)
}

/// An order with its lines and history, for its buyer, its seller or an
/// operator (404 for everyone else).
pub fn get(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<(OrderRow, Vec<OrderItemRow>, Vec<HistoryRow>), AppError> {
    let order: OrderRow = o::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("order"))?;
    let visible = viewer.is_operator()
        || order.user_id == viewer.user_id
        || viewer.acting_seller() == Some(order.seller_id);
    if !visible {
        return Err(AppError::NotFound("order"));
    }
    let items = i::table
        .filter(i::order_id.eq(id))
        .order(i::id.asc())
        .select(OrderItemRow::as_select())
        .load(conn)?;
    let history = h::table
        .filter(h::order_id.eq(id))
        .order(h::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)?;
    Ok((order, items, history))
}
