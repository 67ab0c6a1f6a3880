//! Inventory queries. Every stock change is one conditional UPDATE that
//! returns the new row, or nothing when the condition fails; no
//! read-then-write. No transactions, no rules beyond the WHERE clauses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{
    AlertRow, AlertStatus, MovementReason, MovementRow, OwnerType, ReservationLineRow,
    ReservationRow, ReservationStatus, StockRow,
};
use crate::db::cached::CachedExt;
use crate::db::schema::{
    products, reservation_lines as lines, reservations as res, stock_alerts as alerts,
    stock_levels as s, stock_movements as mv,
};
use crate::ids::{ProductId, SellerId};

/// The most units a product may have on hand.
pub const MAX_ON_HAND: i32 = 1_000_000_000;

/// Creates the product's stock record if it has none.
pub fn ensure_record(conn: &mut PgConnection, product_id: ProductId) -> QueryResult<()> {
    diesel::insert_into(s::table)
        .values(&StockRow::empty(product_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// The stock record, if any.
pub fn find(conn: &mut PgConnection, product_id: ProductId) -> QueryResult<Option<StockRow>> {
    s::table
        .find(product_id)
        .select(StockRow::as_select())
        .first(conn)
        .optional()
}

/// The stock record, locked until the transaction ends.
pub fn lock(conn: &mut PgConnection, product_id: ProductId) -> QueryResult<Option<StockRow>> {
    s::table
        .find(product_id)
        .select(StockRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Stock records of several products (missing ones are absent).
pub fn find_many(conn: &mut PgConnection, ids: &[ProductId]) -> QueryResult<Vec<StockRow>> {
    s::table
        .filter(s::product_id.eq_any(ids))
        .select(StockRow::as_select())
        .load(conn)
}

/// Stock records of several products, each with the units the owner's
/// active reservation holds of it (`None` when it holds none), in one read.
pub fn find_many_with_held(
    conn: &mut PgConnection,
    ids: &[ProductId],
    owner_type: OwnerType,
    owner_id: Uuid,
) -> QueryResult<Vec<(StockRow, Option<i32>)>> {
    let owners_active = res::table
        .filter(res::owner_type.eq(owner_type))
        .filter(res::owner_id.eq(owner_id))
        .filter(res::status.eq(ReservationStatus::Active))
        .select(res::id);
    s::table
        .left_join(
            lines::table.on(lines::product_id
                .eq(s::product_id)
                .and(lines::reservation_id.eq_any(owners_active))),
        )
        .filter(s::product_id.eq_any(ids))
        .select((StockRow::as_select(), lines::quantity.nullable()))
        .load(conn)
}

/// Adds `d_on_hand` and `d_reserved` when the result keeps every invariant
/// (`0 <= reserved <= on_hand <= MAX_ON_HAND`); with `need_available`, only
/// when that many units are available (`on_hand - reserved - safety_stock`).
/// Returns the new row, or `None` when the condition (or the row) is missing.
pub fn apply_delta(
    conn: &mut PgConnection,
    product_id: ProductId,
    d_on_hand: i32,
    d_reserved: i32,
    need_available: Option<i32>,
) -> QueryResult<Option<StockRow>> {
    let mut q = diesel::update(s::table)
        .filter(s::product_id.eq(product_id))
        .filter((s::on_hand + d_on_hand).ge(0))
        .filter((s::on_hand + d_on_hand).le(MAX_ON_HAND))
        .filter((s::reserved + d_reserved).ge(0))
        .filter((s::reserved + d_reserved).le(s::on_hand + d_on_hand))
        .into_boxed();
    if let Some(units) = need_available {
        q = q.filter((s::on_hand - s::reserved - s::safety_stock).ge(units));
    }
    q.set((
        s::on_hand.eq(s::on_hand + d_on_hand),
        s::reserved.eq(s::reserved + d_reserved),
        s::updated_at.eq(diesel::dsl::now),
    ))
    .returning(StockRow::as_returning())
    .cached()
    .get_result(conn)
    .optional()
}

/// Sets the buffer and the alert threshold.
pub fn set_thresholds(
    conn: &mut PgConnection,
    product_id: ProductId,
    safety: i32,
    threshold: i32,
) -> QueryResult<StockRow> {
    diesel::update(s::table.find(product_id))
        .set((
            s::safety_stock.eq(safety),
            s::low_stock_threshold.eq(threshold),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .returning(StockRow::as_returning())
        .get_result(conn)
}

/// Appends to the ledger.
pub fn insert_movement(conn: &mut PgConnection, row: &MovementRow) -> QueryResult<()> {
    diesel::insert_into(mv::table)
        .values(row)
        .returning(mv::id)
        .cached()
        .get_result::<Uuid>(conn)
        .map(|_| ())
}

/// Ledger filters.
#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    /// Only this reason.
    pub reason: Option<MovementReason>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Continue after this id (newest first).
    pub before_id: Option<Uuid>,
}

/// A product's movements, newest first.
pub fn movements(
    conn: &mut PgConnection,
    product_id: ProductId,
    f: &MovementFilter,
    limit: i64,
) -> QueryResult<Vec<MovementRow>> {
    let mut q = mv::table
        .filter(mv::product_id.eq(product_id))
        .select(MovementRow::as_select())
        .into_boxed();
    if let Some(reason) = f.reason {
        q = q.filter(mv::reason.eq(reason));
    }
    if let Some(from) = f.from {
        q = q.filter(mv::created_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(mv::created_at.lt(to));
    }
    if let Some(id) = f.before_id {
        q = q.filter(mv::id.lt(id));
    }
    q.order(mv::id.desc()).limit(limit).load(conn)
}

/// Inserts a reservation and its lines.
pub fn insert_reservation(
    conn: &mut PgConnection,
    row: &ReservationRow,
    l: &[ReservationLineRow],
) -> QueryResult<()> {
    insert_reservation_row(conn, row)?;
    diesel::insert_into(lines::table)
        .values(l)
        .execute(conn)
        .map(|_| ())
}

/// Inserts a reservation without lines (lines are moved to it).
pub fn insert_reservation_row(conn: &mut PgConnection, row: &ReservationRow) -> QueryResult<()> {
    diesel::insert_into(res::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A reservation with its lines, all locked until the transaction ends (one
/// statement; empty when it has no lines or is gone).
pub fn lock_reservation_with_lines(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Vec<(ReservationRow, ReservationLineRow)>> {
    res::table
        .inner_join(lines::table)
        .filter(res::id.eq(id))
        .order(lines::product_id.asc())
        .select((ReservationRow::as_select(), ReservationLineRow::as_select()))
        .for_update()
        .load(conn)
}

/// A reservation, locked until the transaction ends.
pub fn lock_reservation(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ReservationRow>> {
    res::table
        .find(id)
        .select(ReservationRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// A reservation.
pub fn find_reservation(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ReservationRow>> {
    res::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(conn)
        .optional()
}

/// A reservation's lines in product-id order (the lock order).
pub fn reservation_lines(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Vec<ReservationLineRow>> {
    lines::table
        .filter(lines::reservation_id.eq(id))
        .order(lines::product_id.asc())
        .select(ReservationLineRow::as_select())
        .load(conn)
}

/// Ends an active reservation with `status`.
pub fn end_reservation(
    conn: &mut PgConnection,
    id: Uuid,
    status: ReservationStatus,
) -> QueryResult<usize> {
    diesel::update(
        res::table
            .find(id)
            .filter(res::status.eq(ReservationStatus::Active)),
    )
    .set((
        res::status.eq(status),
        res::ended_at.eq(diesel::dsl::now),
        res::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Gives an active reservation a new owner and expiry.
pub fn reown(
    conn: &mut PgConnection,
    id: Uuid,
    owner_type: OwnerType,
    owner_id: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        res::table
            .find(id)
            .filter(res::status.eq(ReservationStatus::Active)),
    )
    .set((
        res::owner_type.eq(owner_type),
        res::owner_id.eq(owner_id),
        res::expires_at.eq(expires_at),
        res::updated_at.eq(diesel::dsl::now),
    ))
    .returning(res::id)
    .cached()
    .load::<Uuid>(conn)
    .map(|ids| ids.len())
}

/// Moves the lines of `products` from one reservation to another.
pub fn move_lines(
    conn: &mut PgConnection,
    from: Uuid,
    to: Uuid,
    products: &[ProductId],
) -> QueryResult<usize> {
    diesel::update(
        lines::table
            .filter(lines::reservation_id.eq(from))
            .filter(lines::product_id.eq_any(products)),
    )
    .set(lines::reservation_id.eq(to))
    .execute(conn)
}

/// Pushes an active reservation's expiry out to `at` if it ends sooner
/// (one conditional update); returns whether it changed.
pub fn expire_no_sooner_than(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        res::table
            .find(id)
            .filter(res::status.eq(ReservationStatus::Active))
            .filter(res::expires_at.lt(at))
            // A hold past its expiry is expired, job or not: never revived.
            .filter(res::expires_at.gt(diesel::dsl::now)),
    )
    .set((res::expires_at.eq(at), res::updated_at.eq(diesel::dsl::now)))
    .returning(res::id)
    .cached()
    .load::<Uuid>(conn)
    .map(|ids| ids.len() == 1)
}

/// Moves an active reservation's expiry.
pub fn set_expiry(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<ReservationRow> {
    diesel::update(res::table.find(id))
        .set((res::expires_at.eq(at), res::updated_at.eq(diesel::dsl::now)))
        .returning(ReservationRow::as_returning())
        .get_result(conn)
}

/// Claims up to `limit` expired active reservations, skipping ones another
/// worker holds (`FOR UPDATE SKIP LOCKED`).
pub fn claim_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    res::table
        .filter(res::status.eq(ReservationStatus::Active))
        .filter(res::expires_at.le(now))
        .order(res::expires_at.asc())
        .limit(limit)
        .select(res::id)
        .for_update()
        .skip_locked()
        .load(conn)
}

/// The owning seller of each product that exists.
pub fn product_sellers(
    conn: &mut PgConnection,
    ids: &[ProductId],
) -> QueryResult<Vec<(ProductId, SellerId)>> {
    products::table
        .filter(products::id.eq_any(ids))
        .select((products::id, products::seller_id))
        .load(conn)
}

/// The product's live (not cleared) alert, if any.
pub fn live_alert(conn: &mut PgConnection, product_id: ProductId) -> QueryResult<Option<AlertRow>> {
    alerts::table
        .filter(alerts::product_id.eq(product_id))
        .filter(alerts::status.ne(AlertStatus::Cleared))
        .select(AlertRow::as_select())
        .first(conn)
        .optional()
}

/// Raises an alert.
pub fn insert_alert(conn: &mut PgConnection, row: &AlertRow) -> QueryResult<()> {
    diesel::insert_into(alerts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Clears the product's live alert; the number cleared.
pub fn clear_alerts(conn: &mut PgConnection, product_id: ProductId) -> QueryResult<usize> {
    diesel::update(
        alerts::table
            .filter(alerts::product_id.eq(product_id))
            .filter(alerts::status.ne(AlertStatus::Cleared)),
    )
    .set((
        alerts::status.eq(AlertStatus::Cleared),
        alerts::cleared_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// An alert, locked.
pub fn lock_alert(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AlertRow>> {
    alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Marks an open alert acknowledged.
pub fn acknowledge_alert(conn: &mut PgConnection, id: Uuid, by: Uuid) -> QueryResult<AlertRow> {
    diesel::update(alerts::table.find(id))
        .set((
            alerts::status.eq(AlertStatus::Acknowledged),
            alerts::acknowledged_at.eq(diesel::dsl::now),
            alerts::acknowledged_by.eq(by),
        ))
        .returning(AlertRow::as_returning())
        .get_result(conn)
}

/// Alert filters.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this seller.
    pub seller_id: Option<SellerId>,
    /// Only these statuses.
    pub statuses: Vec<AlertStatus>,
    /// Continue after this id (newest first).
    pub before_id: Option<Uuid>,
}

/// Alerts, newest first.
pub fn list_alerts(
    conn: &mut PgConnection,
    f: &AlertFilter,
    limit: i64,
) -> QueryResult<Vec<AlertRow>> {
    let mut q = alerts::table.select(AlertRow::as_select()).into_boxed();
    if let Some(seller) = f.seller_id {
        q = q.filter(alerts::seller_id.eq(seller));
    }
    if !f.statuses.is_empty() {
        q = q.filter(alerts::status.eq_any(f.statuses.clone()));
    }
    if let Some(id) = f.before_id {
        q = q.filter(alerts::id.lt(id));
    }
    q.order(alerts::id.desc()).limit(limit).load(conn)
}

/// For each existing product: its seller, and whether shoppers see it
/// (product and seller active).
pub fn visible_products(
    conn: &mut PgConnection,
    ids: &[ProductId],
) -> QueryResult<BTreeMap<ProductId, (SellerId, bool)>> {
    use crate::db::schema::sellers;
    let rows: Vec<(ProductId, SellerId, bool, bool)> = products::table
        .inner_join(sellers::table)
        .filter(products::id.eq_any(ids))
        .select((
            products::id,
            products::seller_id,
            products::active,
            sellers::active,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, seller, a, sa)| (id, (seller, a && sa)))
        .collect())
}

/// The owner's active reservation, locked.
pub fn lock_active_by_owner(
    conn: &mut PgConnection,
    owner_type: super::OwnerType,
    owner_id: Uuid,
) -> QueryResult<Option<ReservationRow>> {
    res::table
        .filter(res::owner_type.eq(owner_type))
        .filter(res::owner_id.eq(owner_id))
        .filter(res::status.eq(ReservationStatus::Active))
        .select(ReservationRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}
