//! Cart queries. No transactions, no rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::cached::CachedExt;
use crate::events::Publish;
use crate::ids::CartId;

use super::{
    CartKind, CartRow, CartShareRow, CartStatus, ItemPriceChangeRow, ItemRow, ParticipantRow,
};
use crate::db::schema::{
    cart_item_price_changes as changes, cart_items as items, cart_participants as members,
    cart_shares as shares, carts,
};

/// Inserts a cart.
pub fn insert(conn: &mut PgConnection, row: &CartRow) -> QueryResult<()> {
    diesel::insert_into(carts::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts a user's cart unless the user has an active one; true when inserted.
pub fn insert_if_no_active(conn: &mut PgConnection, row: &CartRow) -> QueryResult<bool> {
    diesel::insert_into(carts::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// A cart by id (not locked).
pub fn find(conn: &mut PgConnection, id: CartId) -> QueryResult<Option<CartRow>> {
    carts::table
        .find(id)
        .select(CartRow::as_select())
        .first(conn)
        .optional()
}

/// A cart, locked until the transaction ends.
pub fn lock(conn: &mut PgConnection, id: CartId) -> QueryResult<Option<CartRow>> {
    carts::table
        .find(id)
        .select(CartRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The user's active cart, locked.
pub fn lock_active_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> QueryResult<Option<CartRow>> {
    carts::table
        .filter(carts::user_id.eq(user_id))
        .filter(carts::kind.eq(CartKind::Personal))
        .filter(carts::status.eq(CartStatus::Active))
        .select(CartRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The user's most recently used abandoned cart, locked.
pub fn lock_latest_abandoned(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> QueryResult<Option<CartRow>> {
    carts::table
        .filter(carts::user_id.eq(user_id))
        .filter(carts::kind.eq(CartKind::Personal))
        .filter(carts::status.eq(CartStatus::Abandoned))
        .order(carts::last_activity_at.desc())
        .select(CartRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Sets a cart's status (and the cart it merged into).
pub fn set_status(
    conn: &mut PgConnection,
    id: CartId,
    status: CartStatus,
    merged_into: Option<CartId>,
) -> QueryResult<()> {
    diesel::update(carts::table.find(id))
        .set((
            carts::status.eq(status),
            carts::merged_into.eq(merged_into),
            carts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Bumps the version from `from` after a change and publishes `publish`
/// in the same statement; `touched` also marks shopper activity. `None`
/// when the cart is not at version `from` (the caller must hold its lock).
pub fn bump(
    conn: &mut PgConnection,
    id: CartId,
    from: i32,
    touched: bool,
    publish: Publish,
) -> QueryResult<Option<CartRow>> {
    let now = crate::db::now();
    let q = diesel::update(carts::table.find(id).filter(carts::version.eq(from)));
    let bumped = if touched {
        q.set((
            carts::version.eq(carts::version + 1),
            carts::updated_at.eq(now),
            carts::last_activity_at.eq(now),
        ))
        .returning((CartRow::as_returning(), publish))
        .cached()
        .get_result::<(CartRow, bool)>(conn)
    } else {
        q.set((
            carts::version.eq(carts::version + 1),
            carts::updated_at.eq(now),
        ))
        .returning((CartRow::as_returning(), publish))
        .cached()
        .get_result::<(CartRow, bool)>(conn)
    };
    bumped.optional().map(|row| row.map(|(cart, _)| cart))
}

/// Marks a cart converted by a placed checkout (a new version, activity
/// now) and tells its watchers in the same statement; false when the cart
/// is gone.
pub fn convert(conn: &mut PgConnection, id: CartId) -> QueryResult<bool> {
    let now = crate::db::now();
    diesel::update(carts::table.find(id))
        .set((
            carts::status.eq(CartStatus::Converted),
            carts::merged_into.eq(None::<CartId>),
            carts::version.eq(carts::version + 1),
            carts::updated_at.eq(now),
            carts::last_activity_at.eq(now),
        ))
        .returning(crate::events::PublishCartRow)
        .cached()
        .get_result::<bool>(conn)
        .optional()
        .map(|r| r.is_some())
}

/// A cart's lines, oldest first.
pub fn items_of(conn: &mut PgConnection, cart_id: CartId) -> QueryResult<Vec<ItemRow>> {
    items::table
        .filter(items::cart_id.eq(cart_id))
        .order((items::created_at.asc(), items::id.asc()))
        .select(ItemRow::as_select())
        .load(conn)
}

/// Inserts a line.
pub fn insert_item(conn: &mut PgConnection, row: &ItemRow) -> QueryResult<()> {
    diesel::insert_into(items::table)
        .values(row)
        .returning(items::id)
        .cached()
        .get_result::<Uuid>(conn)
        .map(|_| ())
}

/// Sets a line's quantity and list; the line as stored.
pub fn set_item(
    conn: &mut PgConnection,
    id: Uuid,
    quantity: i32,
    saved: bool,
) -> QueryResult<ItemRow> {
    diesel::update(items::table.find(id))
        .set((
            items::quantity.eq(quantity),
            items::saved_for_later.eq(saved),
            items::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ItemRow::as_returning())
        .cached()
        .get_result(conn)
}

/// Stores a new unit price, keeping the old one as pending for the notice,
/// and counts the change (record it with `insert_price_change`).
pub fn reprice_item(conn: &mut PgConnection, old: &ItemRow, new: &ItemRow) -> QueryResult<()> {
    diesel::update(items::table.find(old.id))
        .set((
            items::unit_price_usd.eq(new.unit_price_usd),
            items::unit_price_ves.eq(new.unit_price_ves),
            items::rate_id.eq(new.rate_id),
            items::rate.eq(new.rate),
            items::prev_unit_price_usd.eq(old.prev_unit_price_usd.or(Some(old.unit_price_usd))),
            items::prev_unit_price_ves.eq(old.prev_unit_price_ves.or(Some(old.unit_price_ves))),
            items::price_changes.eq(items::price_changes + 1),
            items::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Forgets pending price and quantity notices (the shopper acted on the cart).
pub fn acknowledge_notices(conn: &mut PgConnection, cart_id: CartId) -> QueryResult<()> {
    diesel::update(
        items::table.filter(items::cart_id.eq(cart_id)).filter(
            items::prev_unit_price_usd
                .is_not_null()
                .or(items::quantity_reduced_from.is_not_null()),
        ),
    )
    .set((
        items::prev_unit_price_usd.eq(None::<rust_decimal::Decimal>),
        items::prev_unit_price_ves.eq(None::<rust_decimal::Decimal>),
        items::quantity_reduced_from.eq(None::<i32>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Forgets pending quantity notices only.
pub fn acknowledge_reductions(conn: &mut PgConnection, cart_id: CartId) -> QueryResult<()> {
    diesel::update(
        items::table
            .filter(items::cart_id.eq(cart_id))
            .filter(items::quantity_reduced_from.is_not_null()),
    )
    .set(items::quantity_reduced_from.eq(None::<i32>))
    .execute(conn)
    .map(|_| ())
}

/// Lowers a line's quantity on a read, remembering the quantity the shopper
/// chose (the first one, if lowered twice before they acted).
pub fn reduce_item(
    conn: &mut PgConnection,
    id: Uuid,
    quantity: i32,
    from: i32,
) -> QueryResult<ItemRow> {
    diesel::update(items::table.find(id))
        .set((
            items::quantity.eq(quantity),
            items::quantity_reduced_from.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Integer>,
            >("COALESCE(quantity_reduced_from, ")
            .bind::<diesel::sql_types::Integer, _>(from)
            .sql(")")),
            items::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ItemRow::as_returning())
        .get_result(conn)
}

/// Deletes a line.
pub fn delete_item(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(items::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// Deletes the lines in the cart (not the saved ones); how many.
pub fn clear(conn: &mut PgConnection, cart_id: CartId) -> QueryResult<usize> {
    diesel::delete(
        items::table
            .filter(items::cart_id.eq(cart_id))
            .filter(items::saved_for_later.eq(false)),
    )
    .execute(conn)
}

/// Records a price change of a line.
pub fn insert_price_change(conn: &mut PgConnection, row: &ItemPriceChangeRow) -> QueryResult<()> {
    diesel::insert_into(changes::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The price changes of several lines, oldest first.
pub fn price_changes(
    conn: &mut PgConnection,
    item_ids: &[Uuid],
) -> QueryResult<Vec<ItemPriceChangeRow>> {
    changes::table
        .filter(changes::item_id.eq_any(item_ids))
        .order(changes::id.asc())
        .select(ItemPriceChangeRow::as_select())
        .load(conn)
}

/// Claims active carts idle since before `cutoff`, skipping locked ones.
pub fn claim_idle(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<CartRow>> {
    carts::table
        .filter(carts::status.eq(CartStatus::Active))
        .filter(carts::last_activity_at.lt(cutoff))
        .order(carts::last_activity_at.asc())
        .limit(limit)
        .select(CartRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
}

/// Records a share link.
pub fn insert_share(conn: &mut PgConnection, row: &CartShareRow) -> QueryResult<()> {
    diesel::insert_into(shares::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A live share by its token hash.
pub fn live_share(conn: &mut PgConnection, hash: &str) -> QueryResult<Option<CartShareRow>> {
    shares::table
        .filter(shares::token_hash.eq(hash))
        .filter(shares::revoked_at.is_null())
        .select(CartShareRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes a cart's share; how many rows changed.
pub fn revoke_share(
    conn: &mut PgConnection,
    cart_id: CartId,
    share_id: Uuid,
) -> QueryResult<usize> {
    diesel::update(
        shares::table
            .filter(shares::id.eq(share_id))
            .filter(shares::cart_id.eq(cart_id))
            .filter(shares::revoked_at.is_null()),
    )
    .set(shares::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// Adds (or brings back) a participant.
pub fn upsert_participant(conn: &mut PgConnection, row: &ParticipantRow) -> QueryResult<()> {
    diesel::insert_into(members::table)
        .values(row)
        .on_conflict((members::cart_id, members::user_id))
        .do_update()
        .set((
            members::left_at.eq(None::<chrono::DateTime<Utc>>),
            members::joined_at.eq(row.joined_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The active participants of a cart, by join time.
pub fn participants(conn: &mut PgConnection, cart_id: CartId) -> QueryResult<Vec<ParticipantRow>> {
    members::table
        .filter(members::cart_id.eq(cart_id))
        .filter(members::left_at.is_null())
        .order(members::joined_at.asc())
        .select(ParticipantRow::as_select())
        .load(conn)
}

/// Marks a participant gone; how many rows changed.
pub fn leave(conn: &mut PgConnection, cart_id: CartId, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        members::table
            .filter(members::cart_id.eq(cart_id))
            .filter(members::user_id.eq(user_id))
            .filter(members::left_at.is_null()),
    )
    .set(members::left_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// Deletes a participant's lines in a cart.
pub fn delete_lines_of(
    conn: &mut PgConnection,
    cart_id: CartId,
    owner: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        items::table
            .filter(items::cart_id.eq(cart_id))
            .filter(items::line_owner.eq(owner)),
    )
    .execute(conn)
}

/// Deletes the lines of one participant still in the cart (not saved).
pub fn clear_lines_of(conn: &mut PgConnection, cart_id: CartId, owner: Uuid) -> QueryResult<usize> {
    diesel::delete(
        items::table
            .filter(items::cart_id.eq(cart_id))
            .filter(items::line_owner.eq(owner))
            .filter(items::saved_for_later.eq(false)),
    )
    .execute(conn)
}

/// Sets a group cart's invitation hash.
pub fn set_invite(conn: &mut PgConnection, cart_id: CartId, hash: &str) -> QueryResult<()> {
    diesel::update(carts::table.find(cart_id))
        .set(carts::invite_token_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}
