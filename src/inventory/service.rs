//! Inventory use cases. Other domains call `reserve`, `release`, `commit`,
//! `extend` and `change_on_hand` inside their own transactions; the HTTP
//! handlers call them for sellers (own products) and admins (all).
//!
//! Rules: demand is summed per product before checking; stock rows are
//! changed in product-id order; each change is a conditional UPDATE; every
//! change writes a movement; a reservation always ends.
//!
//! This file holds stock levels, the ledger and availability; reservations
//! (`reservations.rs`) and low-stock alerts (`alerts.rs`) live beside it,
//! re-exported here.

use std::collections::BTreeMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::repo::{self, MAX_ON_HAND, MovementFilter};
use super::{MovementReason, MovementRow, OwnerType, ReservationRow, StockRow};
use crate::auth::{Actor, Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::ids::{ProductId, SellerId};
use crate::pagination::{Cursor, PageRequest};

use super::alerts::check_alerts;
pub use super::alerts::{acknowledge_alert, list_alerts};
pub use super::reservations::{
    HandedOver, Handover, NewReservation, Outcome, active_for_owner, end, expire_due, extend,
    get_reservation, hand_over, hold_at_least_until, lapsed, reservation, reserve,
};

/// Most lines one reservation may hold.
pub const MAX_LINES: usize = 100;
/// Most units one line (or one stock change) may move.
pub const MAX_QUANTITY: i32 = 100_000_000;
/// Longest reservation lifetime.
pub const MAX_TTL_SECONDS: i64 = 7 * 86_400;

/// Context written into each movement.
pub(super) struct Why<'a> {
    pub(super) reason: MovementReason,
    pub(super) reservation: Option<&'a ReservationRow>,
    pub(super) owner: Option<(OwnerType, Uuid)>,
    pub(super) reference: Option<String>,
    pub(super) note: String,
    pub(super) actor: &'a Actor,
}

/// Applies a change through the conditional UPDATE and, when it went
/// through, writes the movement and keeps the alerts true.
pub(super) fn apply(
    conn: &mut PgConnection,
    product_id: ProductId,
    d_on_hand: i32,
    d_reserved: i32,
    need_available: Option<i32>,
    why: &Why<'_>,
) -> Result<Option<StockRow>, AppError> {
    let Some(row) = repo::apply_delta(conn, product_id, d_on_hand, d_reserved, need_available)?
    else {
        return Ok(None);
    };
    let owner = why
        .owner
        .or_else(|| why.reservation.map(|r| (r.owner_type, r.owner_id)));
    repo::insert_movement(
        conn,
        &MovementRow {
            id: Uuid::now_v7(),
            product_id,
            on_hand_delta: d_on_hand,
            reserved_delta: d_reserved,
            on_hand_after: row.on_hand,
            reserved_after: row.reserved,
            reason: why.reason,
            reservation_id: why.reservation.map(|r| r.id),
            owner_type: owner.map(|o| o.0),
            owner_id: owner.map(|o| o.1),
            reference: why.reference.clone(),
            actor_id: why.actor.user_id,
            actor_role: Some(why.actor.role.to_string()),
            note: why.note.clone(),
            created_at: crate::db::now(),
        },
    )?;
    check_alerts(conn, &row, d_on_hand > 0)?;
    // Tell carts when what shoppers see changes: in or out of stock, or
    // across the low-stock line. Not on every unit, to keep the hot path lean.
    let after = row.on_hand - row.reserved - row.safety_stock;
    let before = after - d_on_hand + d_reserved;
    let t = row.low_stock_threshold;
    if (before > 0) != (after > 0) || (before <= t) != (after <= t) {
        crate::events::notify(conn, &crate::events::Event::Product { id: product_id })?;
    }
    Ok(Some(row))
}

/// The product's seller, checking visibility before ownership: a product
/// the caller may not even see (inactive, or its seller inactive, and not
/// theirs) is 404 exactly as `GET /products/{id}` answers, so its existence
/// does not leak through the inventory endpoints.
pub(super) fn seller_of(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
) -> Result<SellerId, AppError> {
    Ok(crate::products::service::get_product(conn, Some(actor), product_id)?.seller_id)
}

/// 404 when the caller may not see the product, 403 unless the caller is
/// an admin or the product's seller.
pub(super) fn authorize_manage(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
) -> Result<(), AppError> {
    actor.require_any(&[Role::Seller, Role::Admin])?;
    if actor.manages_seller(seller_of(conn, actor, product_id)?) {
        Ok(())
    } else {
        Err(AppError::forbidden("the product belongs to another seller"))
    }
}

/// 404 when the caller may not see the product, 403 unless the caller is
/// an operator or the product's seller.
pub(super) fn authorize_read(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
) -> Result<(), AppError> {
    actor.require_any(&[Role::Seller, Role::Admin, Role::Support])?;
    let seller = seller_of(conn, actor, product_id)?;
    if actor.is_operator() || actor.acting_seller() == Some(seller) {
        Ok(())
    } else {
        Err(AppError::forbidden("the product belongs to another seller"))
    }
}

/// The stock record (zeros when none was set yet).
pub fn get_stock(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
) -> Result<StockRow, AppError> {
    authorize_read(conn, actor, product_id)?;
    Ok(repo::find(conn, product_id)?.unwrap_or_else(|| StockRow::empty(product_id)))
}

/// What `set_levels` changes; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct SetLevels {
    /// Counted units on hand (a stocktake).
    pub on_hand: Option<i32>,
    /// Units never sold.
    pub safety_stock: Option<i32>,
    /// Alert at or below this many available units.
    pub low_stock_threshold: Option<i32>,
    /// Outside reference (stocktake id).
    pub reference: Option<String>,
    /// Free text.
    pub note: String,
}

fn stock_conflict(detail: impl Into<String>) -> AppError {
    AppError::conflict(ErrorCode::StockConflict, detail)
}

/// Sets the count (as a `correction` movement), the safety stock and the
/// threshold. The count cannot drop below the reserved units.
pub fn set_levels(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
    cmd: SetLevels,
) -> Result<StockRow, AppError> {
    conn.transaction(|conn| {
        authorize_manage(conn, actor, product_id)?;
        repo::ensure_record(conn, product_id)?;
        let mut row = repo::lock(conn, product_id)?.ok_or(AppError::NotFound("product"))?;
        let by = Actor::of(actor);
        if let Some(target) = cmd.on_hand
            && target != row.on_hand
        {
            let why = Why {
                reason: MovementReason::Correction,
                reservation: None,
                owner: None,
                reference: cmd.reference.clone(),
                note: cmd.note.clone(),
                actor: &by,
            };
            row =
                apply(conn, product_id, target - row.on_hand, 0, None, &why)?.ok_or_else(|| {
                    stock_conflict(format!(
                        "on_hand cannot be set below the {} reserved units",
                        row.reserved
                    ))
                })?;
        }
        if cmd.safety_stock.is_some() || cmd.low_stock_threshold.is_some() {
            let before = (row.safety_stock, row.low_stock_threshold);
            row = repo::set_thresholds(
                conn,
                product_id,
                cmd.safety_stock.unwrap_or(row.safety_stock),
                cmd.low_stock_threshold.unwrap_or(row.low_stock_threshold),
            )?;
            check_alerts(conn, &row, true)?;
            // Safety stock changes what carts may buy; the threshold, their low-stock notice.
            if before != (row.safety_stock, row.low_stock_threshold) {
                crate::events::notify(conn, &crate::events::Event::Product { id: product_id })?;
            }
        }
        Ok(row)
    })
}

/// Adds (or removes, with a negative delta) units on hand for `reason`
/// (`restock`, `adjustment`, `correction`, `return`), optionally for an owner
/// such as the order a return belongs to. Units held by reservations cannot
/// be removed.
#[expect(
    clippy::too_many_arguments,
    reason = "every field is written to the ledger row"
)]
pub fn change_on_hand(
    conn: &mut PgConnection,
    actor: &Actor,
    product_id: ProductId,
    delta: i32,
    reason: MovementReason,
    owner: Option<(OwnerType, Uuid)>,
    reference: Option<String>,
    note: String,
) -> Result<StockRow, AppError> {
    if delta == 0 || delta.abs() > MAX_QUANTITY {
        return Err(AppError::invalid(
            "delta",
            format!("must be non-zero and at most {MAX_QUANTITY} in size"),
        ));
    }
    repo::ensure_record(conn, product_id)?;
    let why = Why {
        reason,
        reservation: None,
        owner,
        reference,
        note,
        actor,
    };
    match apply(conn, product_id, delta, 0, None, &why)? {
        Some(row) => Ok(row),
        None => {
            let row = repo::find(conn, product_id)?.unwrap_or_else(|| StockRow::empty(product_id));
            Err(stock_conflict(if delta < 0 {
                format!(
                    "only {} of the {} units on hand are not reserved",
                    row.on_hand - row.reserved,
                    row.on_hand
                )
            } else {
                format!("on_hand would exceed {MAX_ON_HAND}")
            }))
        }
    }
}

/// `change_on_hand` for a seller or admin over HTTP.
pub fn adjust(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
    delta: i32,
    reason: MovementReason,
    reference: Option<String>,
    note: String,
) -> Result<StockRow, AppError> {
    if !matches!(
        reason,
        MovementReason::Restock
            | MovementReason::Adjustment
            | MovementReason::Correction
            | MovementReason::Return
    ) {
        return Err(AppError::invalid(
            "reason",
            "must be restock, adjustment, correction or return",
        ));
    }
    if reason == MovementReason::Restock && delta < 0 {
        return Err(AppError::invalid("quantity", "a restock adds units"));
    }
    conn.transaction(|conn| {
        authorize_manage(conn, actor, product_id)?;
        change_on_hand(
            conn,
            &Actor::of(actor),
            product_id,
            delta,
            reason,
            None,
            reference,
            note,
        )
    })
}

/// How a product's availability looks to a caller.
#[derive(Debug, Clone)]
pub struct Availability {
    /// The product.
    pub product_id: ProductId,
    /// Stock figures (zeros when none were set), if the product is visible.
    pub stock: Option<StockRow>,
    /// Whether the caller may see the full figures.
    pub full: bool,
}

/// Real-time availability of several products. Unknown or hidden products
/// come back without figures.
pub fn availability(
    conn: &mut PgConnection,
    viewer: Option<&Principal>,
    ids: &[ProductId],
) -> Result<Vec<Availability>, AppError> {
    let visible = repo::visible_products(conn, ids)?;
    let stock: BTreeMap<ProductId, StockRow> = repo::find_many(conn, ids)?
        .into_iter()
        .map(|s| (s.product_id, s))
        .collect();
    Ok(ids
        .iter()
        .map(|id| {
            let Some((seller, shown)) = visible.get(id).copied() else {
                return Availability {
                    product_id: (*id),
                    stock: None,
                    full: false,
                };
            };
            let full = viewer.is_some_and(|v| v.is_operator() || v.acting_seller() == Some(seller));
            Availability {
                product_id: (*id),
                stock: (shown || full).then(|| {
                    stock
                        .get(id)
                        .copied()
                        .unwrap_or_else(|| StockRow::empty(*id))
                }),
                full,
            }
        })
        .collect())
}

/// A product's ledger, newest first.
pub fn movements(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: ProductId,
    mut filter: MovementFilter,
    page: &PageRequest,
) -> Result<(Vec<MovementRow>, Option<String>), AppError> {
    authorize_read(conn, actor, product_id)?;
    filter.before_id = page.after.as_ref().map(|c| c.id);
    let rows = repo::movements(conn, product_id, &filter, page.fetch())?;
    Ok(page.finish(rows, |m| Cursor {
        key: None,
        id: m.id,
    }))
}

/// Stock figures of several products (zeros for products never stocked).
pub fn stock_of(
    conn: &mut PgConnection,
    ids: &[ProductId],
) -> Result<BTreeMap<ProductId, StockRow>, AppError> {
    let found = repo::find_many(conn, ids)?
        .into_iter()
        .map(|s| (s.product_id, s))
        .collect();
    Ok(with_empty(found, ids))
}

/// `found` with a zero record for each of `ids` that has none.
fn with_empty(
    mut found: BTreeMap<ProductId, StockRow>,
    ids: &[ProductId],
) -> BTreeMap<ProductId, StockRow> {
    for id in ids {
        found.entry(*id).or_insert_with(|| StockRow::empty(*id));
    }
    found
}

/// Stock figures per product, and units an owner's reservation holds of each.
pub type StockAndHeld = (BTreeMap<ProductId, StockRow>, BTreeMap<ProductId, i32>);

/// Stock figures of several products (zeros for products never stocked)
/// and the units the owner's active reservation holds of each (absent when
/// none), read together.
pub fn stock_and_held(
    conn: &mut PgConnection,
    ids: &[ProductId],
    owner_type: OwnerType,
    owner_id: Uuid,
) -> Result<StockAndHeld, AppError> {
    let mut stock = BTreeMap::new();
    let mut held = BTreeMap::new();
    for (row, quantity) in repo::find_many_with_held(conn, ids, owner_type, owner_id)? {
        if let Some(q) = quantity {
            held.insert(row.product_id, q);
        }
        stock.insert(row.product_id, row);
    }
    Ok((with_empty(stock, ids), held))
}
