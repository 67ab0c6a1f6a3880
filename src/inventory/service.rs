//! Inventory use cases. Other domains call `reserve`, `release`, `commit`,
//! `extend` and `change_on_hand` inside their own transactions; the HTTP
//! handlers call them for sellers (own products) and admins (all).
//!
//! Rules: demand is summed per product before checking; stock rows are
//! changed in product-id order; each change is a conditional UPDATE; every
//! change writes a movement; a reservation always ends.

use std::collections::BTreeMap;

use chrono::Duration;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::repo::{self, AlertFilter, MAX_ON_HAND, MovementFilter};
use super::{
    AlertRow, AlertStatus, MovementReason, MovementRow, OwnerType, ReservationLineRow,
    ReservationRow, ReservationStatus, StockRow,
};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode, FieldError, Shortage};
use crate::outbox;
use crate::pagination::{Cursor, PageRequest};

/// Most lines one reservation may hold.
pub const MAX_LINES: usize = 100;
/// Most units one line (or one stock change) may move.
pub const MAX_QUANTITY: i32 = 100_000_000;
/// Longest reservation lifetime.
pub const MAX_TTL_SECONDS: i64 = 7 * 86_400;

/// Who changes stock, as the ledger records it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user, none for jobs.
    pub user_id: Option<Uuid>,
    /// `admin`, `seller`, `support`, `customer` or `system`.
    pub role: &'static str,
}

impl Actor {
    /// The actor behind an authenticated caller.
    pub fn of(p: &Principal) -> Self {
        let role = [Role::Admin, Role::Seller, Role::Support, Role::Customer]
            .into_iter()
            .find(|r| p.has(*r))
            .map_or("customer", Role::as_str);
        Self {
            user_id: Some(p.user_id),
            role,
        }
    }

    /// A background job.
    pub fn system() -> Self {
        Self {
            user_id: None,
            role: "system",
        }
    }
}

/// Context written into each movement.
struct Why<'a> {
    reason: MovementReason,
    reservation: Option<&'a ReservationRow>,
    owner: Option<(OwnerType, Uuid)>,
    reference: Option<String>,
    note: String,
    actor: &'a Actor,
}

/// Applies a change through the conditional UPDATE and, when it went
/// through, writes the movement and keeps the alerts true.
fn apply(
    conn: &mut PgConnection,
    product_id: Uuid,
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

/// Raises one alert when available is at or below the threshold and none is
/// live; clears the live one when more units on hand lift it above.
fn check_alerts(conn: &mut PgConnection, row: &StockRow, may_clear: bool) -> Result<(), AppError> {
    let available = row.on_hand - row.reserved - row.safety_stock;
    if available <= row.low_stock_threshold {
        // The stock row is locked by this transaction, so no one else can
        // raise an alert for this product between the check and the insert.
        if repo::live_alert(conn, row.product_id)?.is_none() {
            let seller_id = repo::product_sellers(conn, &[row.product_id])?
                .first()
                .map(|(_, s)| *s)
                .ok_or(AppError::NotFound("product"))?;
            let alert = AlertRow {
                id: Uuid::now_v7(),
                product_id: row.product_id,
                seller_id,
                available: available.max(0),
                threshold: row.low_stock_threshold,
                status: AlertStatus::Open,
                raised_at: crate::db::now(),
                acknowledged_at: None,
                acknowledged_by: None,
                cleared_at: None,
            };
            repo::insert_alert(conn, &alert)?;
            outbox::enqueue(
                conn,
                "inventory.low_stock",
                row.product_id,
                json!({
                    "alert_id": alert.id,
                    "product_id": alert.product_id,
                    "seller_id": alert.seller_id,
                    "available": alert.available,
                    "threshold": alert.threshold,
                }),
            )?;
        }
    } else if may_clear {
        repo::clear_alerts(conn, row.product_id)?;
    }
    Ok(())
}

/// The product's seller, checking visibility before ownership: a product
/// the caller may not even see (inactive, or its seller inactive, and not
/// theirs) is 404 exactly as `GET /products/{id}` answers, so its existence
/// does not leak through the inventory endpoints.
fn seller_of(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: Uuid,
) -> Result<Uuid, AppError> {
    Ok(crate::products::service::get_product(conn, Some(actor), product_id)?.seller_id)
}

/// 404 when the caller may not see the product, 403 unless the caller is
/// an admin or the product's seller.
fn authorize_manage(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: Uuid,
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
fn authorize_read(
    conn: &mut PgConnection,
    actor: &Principal,
    product_id: Uuid,
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
    product_id: Uuid,
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
    product_id: Uuid,
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
    product_id: Uuid,
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
    product_id: Uuid,
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

/// A reservation to make.
#[derive(Debug, Clone)]
pub struct NewReservation {
    /// Kind of owner.
    pub owner_type: OwnerType,
    /// The owning checkout, cart or order.
    pub owner_id: Uuid,
    /// Lifetime in seconds (1 to 7 days).
    pub ttl_seconds: i64,
    /// (product, quantity) pairs; a product may repeat.
    pub lines: Vec<(Uuid, i32)>,
}

fn check_new(new: &NewReservation, known: &BTreeMap<Uuid, Uuid>) -> Result<(), AppError> {
    let mut errors = vec![];
    if new.lines.is_empty() || new.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("must hold 1 to {MAX_LINES} lines"),
        ));
    }
    if !(1..=MAX_TTL_SECONDS).contains(&new.ttl_seconds) {
        errors.push(FieldError::new(
            "ttl_seconds",
            format!("must be between 1 and {MAX_TTL_SECONDS}"),
        ));
    }
    for (i, (product, quantity)) in new.lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(quantity) {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        if !known.contains_key(product) {
            errors.push(FieldError::new(
                format!("lines[{i}].product_id"),
                "no product has this id",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors,
        })
    }
}

/// Holds stock for an owner, all or nothing. Demand is summed per product;
/// products are reserved in id order; a shortfall answers 409
/// `insufficient_stock` listing every short product, and writes nothing.
pub fn reserve(
    conn: &mut PgConnection,
    actor: &Actor,
    new: NewReservation,
) -> Result<(ReservationRow, Vec<ReservationLineRow>), AppError> {
    conn.transaction(|conn| {
        let ids: Vec<Uuid> = new.lines.iter().map(|l| l.0).collect();
        let known: BTreeMap<Uuid, Uuid> = repo::product_sellers(conn, &ids)?.into_iter().collect();
        check_new(&new, &known)?;
        let mut demand: BTreeMap<Uuid, i64> = BTreeMap::new();
        for (product, quantity) in &new.lines {
            *demand.entry(*product).or_default() += i64::from(*quantity);
        }
        let now = crate::db::now();
        let reservation = ReservationRow {
            id: Uuid::now_v7(),
            owner_type: new.owner_type,
            owner_id: new.owner_id,
            status: ReservationStatus::Active,
            expires_at: now + Duration::seconds(new.ttl_seconds),
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            ended_at: None,
        };
        let lines: Vec<ReservationLineRow> = demand
            .iter()
            .map(|(product, q)| ReservationLineRow {
                reservation_id: reservation.id,
                product_id: *product,
                quantity: i32::try_from(*q).unwrap_or(i32::MAX),
            })
            .collect();
        repo::insert_reservation(conn, &reservation, &lines)?;
        let why = Why {
            reason: MovementReason::Reservation,
            reservation: Some(&reservation),
            owner: None,
            reference: None,
            note: String::new(),
            actor,
        };
        let mut shortages = vec![];
        for (product, requested) in &demand {
            let fits = i32::try_from(*requested).ok().filter(|q| *q <= MAX_ON_HAND);
            let reserved = match (fits, shortages.is_empty()) {
                (Some(q), true) => apply(conn, *product, 0, q, Some(q), &why)?.is_some(),
                _ => false,
            };
            if !reserved {
                let available = repo::find(conn, *product)?.map_or(0, |s| s.available());
                if i64::from(available) < *requested {
                    shortages.push(Shortage {
                        product_id: *product,
                        requested: *requested,
                        available: i64::from(available),
                    });
                }
            }
        }
        if shortages.is_empty() {
            Ok((reservation, lines))
        } else {
            Err(AppError::InsufficientStock(shortages))
        }
    })
}

/// How a reservation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Released on purpose: units return to available.
    Release,
    /// Released by the expiry job.
    Expire,
    /// Sold: units leave on hand too.
    Commit,
}

fn not_active(r: &ReservationRow) -> AppError {
    AppError::conflict(
        ErrorCode::ReservationNotActive,
        format!("the reservation is already {}", r.status),
    )
}

/// A reservation past its `expires_at` is expired everywhere, whether or
/// not the expiry job has reached it yet.
pub fn lapsed(r: &ReservationRow) -> bool {
    r.status == ReservationStatus::Active && r.expires_at <= crate::db::now()
}

fn expired(r: &ReservationRow) -> AppError {
    AppError::conflict(
        ErrorCode::ReservationNotActive,
        format!("the reservation expired at {}", r.expires_at.to_rfc3339()),
    )
}

/// Ends an active reservation; 409 `reservation_not_active` when it ended already.
pub fn end(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    outcome: Outcome,
) -> Result<ReservationRow, AppError> {
    conn.transaction(|conn| {
        let reservation =
            repo::lock_reservation(conn, id)?.ok_or(AppError::NotFound("reservation"))?;
        if reservation.status != ReservationStatus::Active {
            return Err(not_active(&reservation));
        }
        // Past its expiry a hold cannot be sold; releasing it is its expiry.
        let outcome = match outcome {
            Outcome::Commit if lapsed(&reservation) => return Err(expired(&reservation)),
            Outcome::Release if lapsed(&reservation) => Outcome::Expire,
            other => other,
        };
        let (reason, status) = match outcome {
            Outcome::Release => (MovementReason::Release, ReservationStatus::Released),
            Outcome::Expire => (MovementReason::Expiry, ReservationStatus::Expired),
            Outcome::Commit => (MovementReason::Sale, ReservationStatus::Committed),
        };
        let why = Why {
            reason,
            reservation: Some(&reservation),
            owner: None,
            reference: None,
            note: String::new(),
            actor,
        };
        for line in repo::reservation_lines(conn, id)? {
            let d_on_hand = if outcome == Outcome::Commit {
                -line.quantity
            } else {
                0
            };
            apply(conn, line.product_id, d_on_hand, -line.quantity, None, &why)?.ok_or_else(
                || {
                    AppError::internal(format!(
                        "stock of {} rejected ending reservation {id}: reserved units are missing",
                        line.product_id
                    ))
                },
            )?;
        }
        repo::end_reservation(conn, id, status)?;
        Ok(ReservationRow {
            status,
            ended_at: Some(crate::db::now()),
            ..reservation
        })
    })
}

/// One new owner of part of a held reservation: the products (with the
/// quantities) it takes.
#[derive(Debug, Clone)]
pub struct Handover {
    /// Kind of the new owner.
    pub owner_type: OwnerType,
    /// The new owner.
    pub owner_id: Uuid,
    /// The products and quantities it takes.
    pub lines: Vec<(Uuid, i32)>,
}

/// What a hand-over did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandedOver {
    /// Done: the reservation id of each part, in order.
    Done(Vec<Uuid>),
    /// The parts do not split the reservation's lines exactly; nothing changed.
    Mismatch,
    /// The reservation ended or its time ran out; nothing changed.
    Ended,
}

/// Hands an active reservation's units to new owners without touching the
/// stock: the units stay held throughout, so nobody can take them in
/// between, and the ledger has nothing to record (`reserved` does not
/// change). The first owner takes the reservation itself; each other owner
/// gets a new reservation with its products' lines moved over. All expire
/// `ttl_seconds` from now. Runs in the caller's transaction.
pub fn hand_over(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    parts: &[Handover],
    ttl_seconds: i64,
) -> Result<HandedOver, AppError> {
    let rows = repo::lock_reservation_with_lines(conn, id)?;
    let Some((reservation, _)) = rows.first() else {
        return Ok(HandedOver::Ended);
    };
    let now = crate::db::now();
    if reservation.status != ReservationStatus::Active || reservation.expires_at <= now {
        return Ok(HandedOver::Ended);
    }
    let held: BTreeMap<Uuid, i32> = rows
        .iter()
        .map(|(_, l)| (l.product_id, l.quantity))
        .collect();
    let mut wanted: BTreeMap<Uuid, i32> = BTreeMap::new();
    for part in parts {
        for (product, quantity) in &part.lines {
            *wanted.entry(*product).or_default() += quantity;
        }
    }
    if parts.is_empty() || held != wanted {
        return Ok(HandedOver::Mismatch);
    }
    let expires_at = now + Duration::seconds(ttl_seconds);
    let mut ids = vec![id];
    repo::reown(conn, id, parts[0].owner_type, parts[0].owner_id, expires_at)?;
    for part in &parts[1..] {
        let row = ReservationRow {
            id: Uuid::now_v7(),
            owner_type: part.owner_type,
            owner_id: part.owner_id,
            status: ReservationStatus::Active,
            expires_at,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            ended_at: None,
        };
        repo::insert_reservation_row(conn, &row)?;
        let products: Vec<Uuid> = part.lines.iter().map(|l| l.0).collect();
        repo::move_lines(conn, id, row.id, &products)?;
        ids.push(row.id);
    }
    Ok(HandedOver::Done(ids))
}

/// Moves an active reservation's expiry to `ttl_seconds` from now.
pub fn extend(
    conn: &mut PgConnection,
    id: Uuid,
    ttl_seconds: i64,
) -> Result<ReservationRow, AppError> {
    if !(1..=MAX_TTL_SECONDS).contains(&ttl_seconds) {
        return Err(AppError::invalid(
            "ttl_seconds",
            format!("must be between 1 and {MAX_TTL_SECONDS}"),
        ));
    }
    conn.transaction(|conn| {
        let reservation =
            repo::lock_reservation(conn, id)?.ok_or(AppError::NotFound("reservation"))?;
        if reservation.status != ReservationStatus::Active {
            return Err(not_active(&reservation));
        }
        if lapsed(&reservation) {
            return Err(expired(&reservation));
        }
        Ok(repo::set_expiry(
            conn,
            id,
            crate::db::now() + Duration::seconds(ttl_seconds),
        )?)
    })
}

/// Keeps an active reservation at least until `until`, capped at the
/// longest lifetime (nothing when it ended or already lasts longer).
pub fn hold_at_least_until(
    conn: &mut PgConnection,
    id: Uuid,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let until = until.min(crate::db::now() + Duration::seconds(MAX_TTL_SECONDS));
    repo::expire_no_sooner_than(conn, id, until)?;
    Ok(())
}

/// A reservation without its lines.
pub fn reservation(conn: &mut PgConnection, id: Uuid) -> Result<ReservationRow, AppError> {
    repo::find_reservation(conn, id)?.ok_or(AppError::NotFound("reservation"))
}

/// A reservation with its lines.
pub fn get_reservation(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(ReservationRow, Vec<ReservationLineRow>), AppError> {
    let reservation = repo::find_reservation(conn, id)?.ok_or(AppError::NotFound("reservation"))?;
    Ok((reservation, repo::reservation_lines(conn, id)?))
}

/// Releases up to `batch` expired reservations in one transaction, skipping
/// those another worker is handling; returns how many it released.
pub fn expire_due(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let ids = repo::claim_expired(conn, crate::db::now(), batch)?;
        let system = Actor::system();
        for id in &ids {
            end(conn, &system, *id, Outcome::Expire)?;
        }
        Ok(ids.len())
    })
}

/// How a product's availability looks to a caller.
#[derive(Debug, Clone)]
pub struct Availability {
    /// The product.
    pub product_id: Uuid,
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
    ids: &[Uuid],
) -> Result<Vec<Availability>, AppError> {
    let visible = repo::visible_products(conn, ids)?;
    let stock: BTreeMap<Uuid, StockRow> = repo::find_many(conn, ids)?
        .into_iter()
        .map(|s| (s.product_id, s))
        .collect();
    Ok(ids
        .iter()
        .map(|id| {
            let Some((seller, shown)) = visible.get(id).copied() else {
                return Availability {
                    product_id: *id,
                    stock: None,
                    full: false,
                };
            };
            let full = viewer.is_some_and(|v| v.is_operator() || v.acting_seller() == Some(seller));
            Availability {
                product_id: *id,
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
    product_id: Uuid,
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

/// Alerts a seller (its own) or an operator (any, or one seller's) may see.
pub fn list_alerts(
    conn: &mut PgConnection,
    actor: &Principal,
    seller_id: Option<Uuid>,
    statuses: Vec<AlertStatus>,
    page: &PageRequest,
) -> Result<(Vec<AlertRow>, Option<String>), AppError> {
    actor.require_any(&[Role::Seller, Role::Admin, Role::Support])?;
    let seller_id = if actor.is_operator() {
        seller_id
    } else {
        let own = actor
            .acting_seller()
            .ok_or_else(|| AppError::forbidden("the seller role needs a seller_id claim"))?;
        if seller_id.is_some_and(|s| s != own) {
            return Err(AppError::forbidden("sellers see only their own alerts"));
        }
        Some(own)
    };
    let filter = AlertFilter {
        seller_id,
        statuses,
        before_id: page.after.as_ref().map(|c| c.id),
    };
    let rows = repo::list_alerts(conn, &filter, page.fetch())?;
    Ok(page.finish(rows, |a| Cursor {
        key: None,
        id: a.id,
    }))
}

/// Acknowledges an open alert (its seller or an admin).
pub fn acknowledge_alert(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<AlertRow, AppError> {
    actor.require_any(&[Role::Seller, Role::Admin])?;
    conn.transaction(|conn| {
        let alert = repo::lock_alert(conn, id)?.ok_or(AppError::NotFound("alert"))?;
        if !actor.manages_seller(alert.seller_id) {
            return Err(AppError::NotFound("alert"));
        }
        if alert.status != AlertStatus::Open {
            return Err(AppError::conflict(
                ErrorCode::AlertNotOpen,
                format!("the alert is {}", alert.status),
            ));
        }
        Ok(repo::acknowledge_alert(conn, id, actor.user_id)?)
    })
}

/// Stock figures of several products (zeros for products never stocked).
pub fn stock_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, StockRow>, AppError> {
    let found = repo::find_many(conn, ids)?
        .into_iter()
        .map(|s| (s.product_id, s))
        .collect();
    Ok(with_empty(found, ids))
}

/// `found` with a zero record for each of `ids` that has none.
fn with_empty(mut found: BTreeMap<Uuid, StockRow>, ids: &[Uuid]) -> BTreeMap<Uuid, StockRow> {
    for id in ids {
        found.entry(*id).or_insert_with(|| StockRow::empty(*id));
    }
    found
}

/// Stock figures per product, and units an owner's reservation holds of each.
pub type StockAndHeld = (BTreeMap<Uuid, StockRow>, BTreeMap<Uuid, i32>);

/// Stock figures of several products (zeros for products never stocked)
/// and the units the owner's active reservation holds of each (absent when
/// none), read together.
pub fn stock_and_held(
    conn: &mut PgConnection,
    ids: &[Uuid],
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

/// The owner's active reservation and its lines, locked, if any.
pub fn active_for_owner(
    conn: &mut PgConnection,
    owner_type: OwnerType,
    owner_id: Uuid,
) -> Result<Option<(ReservationRow, Vec<ReservationLineRow>)>, AppError> {
    match repo::lock_active_by_owner(conn, owner_type, owner_id)? {
        None => Ok(None),
        Some(r) => {
            let lines = repo::reservation_lines(conn, r.id)?;
            Ok(Some((r, lines)))
        }
    }
}
