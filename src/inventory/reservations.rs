//! Reservations: stock held for an owner (a checkout, an order, a cart), all
//! or nothing and in product-id order; each one ends once (released,
//! committed or expired, and expired everywhere once past its time); a hold
//! handed from a checkout to its orders without the units ever being free.

use std::collections::BTreeMap;

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use super::repo::{self, MAX_ON_HAND};
use super::service::{MAX_LINES, MAX_QUANTITY, MAX_TTL_SECONDS, Why, apply};
use super::{MovementReason, OwnerType, ReservationLineRow, ReservationRow, ReservationStatus};
use crate::auth::Actor;
use crate::error::{AppError, ErrorCode, FieldError, Shortage};
use crate::ids::{ProductId, SellerId};
use crate::money::Quantity;

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
    pub lines: Vec<(ProductId, i32)>,
}

fn check_new(new: &NewReservation, known: &BTreeMap<ProductId, SellerId>) -> Result<(), AppError> {
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
        let ids: Vec<ProductId> = new.lines.iter().map(|l| l.0).collect();
        let known: BTreeMap<ProductId, SellerId> =
            repo::product_sellers(conn, &ids)?.into_iter().collect();
        check_new(&new, &known)?;
        let mut demand: BTreeMap<ProductId, i64> = BTreeMap::new();
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
        // Each line's demand was checked above (1 to MAX_QUANTITY per line).
        let lines: Vec<ReservationLineRow> = demand
            .iter()
            .map(|(product, q)| {
                let units = i32::try_from(*q).ok().and_then(Quantity::new);
                Ok(ReservationLineRow {
                    reservation_id: reservation.id,
                    product_id: *product,
                    quantity: units.ok_or_else(|| AppError::internal("a held line's units"))?,
                })
            })
            .collect::<Result<_, AppError>>()?;
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
                        product_id: (*product).uuid(),
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
                -line.quantity.get()
            } else {
                0
            };
            apply(
                conn,
                line.product_id,
                d_on_hand,
                -line.quantity.get(),
                None,
                &why,
            )?
            .ok_or_else(|| {
                AppError::internal(format!(
                    "stock of {} rejected ending reservation {id}: reserved units are missing",
                    line.product_id
                ))
            })?;
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
    pub lines: Vec<(ProductId, i32)>,
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
    let held: BTreeMap<ProductId, i32> = rows
        .iter()
        .map(|(_, l)| (l.product_id, l.quantity.get()))
        .collect();
    let mut wanted: BTreeMap<ProductId, i32> = BTreeMap::new();
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
        let products: Vec<ProductId> = part.lines.iter().map(|l| l.0).collect();
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
