//! Webhooks' statements: `webhook_endpoints`, `deliveries`, and the
//! dispatcher's claim of undelivered outbox events.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{DeliveryRow, DeliveryStatus, EndpointRow};
use crate::db::schema::{deliveries as d, outbox, webhook_endpoints as w};
use crate::ids::SellerId;
use crate::outbox::OutboxRow;

/// Writes a new endpoint.
pub fn insert_endpoint(conn: &mut PgConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(w::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// One endpoint.
pub fn find_endpoint(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<EndpointRow>> {
    w::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
}

/// Several endpoints, by id.
pub fn endpoints_by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<EndpointRow>> {
    w::table
        .filter(w::id.eq_any(ids))
        .select(EndpointRow::as_select())
        .load(conn)
}

/// One endpoint, locked.
pub fn lock_endpoint(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<EndpointRow>> {
    w::table
        .find(id)
        .select(EndpointRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Endpoints, oldest first: one seller's (`Some`), or all.
pub fn endpoints(
    conn: &mut PgConnection,
    seller: Option<SellerId>,
) -> QueryResult<Vec<EndpointRow>> {
    let mut q = w::table.select(EndpointRow::as_select()).into_boxed();
    if let Some(s) = seller {
        q = q.filter(w::seller_id.eq(s));
    }
    q.order(w::id.asc()).load(conn)
}

/// The endpoints that receive events now.
pub fn active_endpoints(conn: &mut PgConnection) -> QueryResult<Vec<EndpointRow>> {
    w::table
        .filter(w::active.eq(true))
        .select(EndpointRow::as_select())
        .load(conn)
}

/// Stores an endpoint's fields as they are on `row`.
pub fn save_endpoint(conn: &mut PgConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::update(w::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Deletes an endpoint (its deliveries go with it).
pub fn delete_endpoint(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(w::table.find(id)).execute(conn)
}

/// Claims up to `batch` outbox events not fanned out yet, oldest first,
/// skipping those another dispatcher holds.
pub fn claim_events(conn: &mut PgConnection, batch: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::available_at.le(crate::db::now()))
        .order(outbox::available_at.asc())
        .limit(batch)
        .for_update()
        .skip_locked()
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Marks events fanned out.
pub fn mark_events_delivered(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set(outbox::delivered_at.eq(crate::db::now()))
        .execute(conn)
        .map(|_| ())
}

/// Writes deliveries, skipping any that exists for the same event, channel
/// and recipient; returns how many were new.
pub fn insert_deliveries(conn: &mut PgConnection, rows: &[DeliveryRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(d::table)
        .values(rows)
        .on_conflict((d::event_id, d::channel, d::recipient))
        .do_nothing()
        .execute(conn)
}

/// Claims up to `batch` due deliveries (first attempts, retries, and sends
/// whose lease ran out), marking them `sending` with one attempt more and
/// due again at `lease_until` in case this sender dies.
pub fn claim_due(
    conn: &mut PgConnection,
    batch: i64,
    lease_until: DateTime<Utc>,
) -> QueryResult<Vec<DeliveryRow>> {
    let now = crate::db::now();
    let ids: Vec<Uuid> = d::table
        .filter(d::status.eq_any([
            DeliveryStatus::Pending,
            DeliveryStatus::Failed,
            DeliveryStatus::Sending,
        ]))
        .filter(d::next_attempt_at.le(now))
        .order(d::next_attempt_at.asc())
        .limit(batch)
        .for_update()
        .skip_locked()
        .select(d::id)
        .load(conn)?;
    diesel::update(d::table.filter(d::id.eq_any(&ids)))
        .set((
            d::status.eq(DeliveryStatus::Sending),
            d::attempts.eq(d::attempts + 1),
            d::next_attempt_at.eq(lease_until),
            d::updated_at.eq(now),
        ))
        .returning(DeliveryRow::as_returning())
        .get_results(conn)
}

/// What one attempt ended in.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// The new status.
    pub status: DeliveryStatus,
    /// When due again (retries).
    pub next_attempt_at: DateTime<Utc>,
    /// Why it failed (empty on success).
    pub last_error: String,
    /// The receiver's status.
    pub response_status: Option<i32>,
    /// The start of its answer.
    pub response_excerpt: String,
    /// When delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Records attempt number `attempt` of a delivery, only while it is still
/// that sender's claim (a sender whose lease ran out and whose delivery was
/// claimed again records nothing); returns the row when recorded.
pub fn record_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    a: &Attempted,
) -> QueryResult<Option<DeliveryRow>> {
    diesel::update(
        d::table
            .find(id)
            .filter(d::status.eq(DeliveryStatus::Sending))
            .filter(d::attempts.eq(attempt)),
    )
    .set((
        d::status.eq(a.status),
        d::next_attempt_at.eq(a.next_attempt_at),
        d::last_error.eq(&a.last_error),
        d::response_status.eq(a.response_status),
        d::response_excerpt.eq(&a.response_excerpt),
        d::sent_at.eq(a.sent_at),
        d::updated_at.eq(crate::db::now()),
    ))
    .returning(DeliveryRow::as_returning())
    .get_result(conn)
    .optional()
}

/// An endpoint's deliveries, newest first, below `before` (the cursor).
pub fn deliveries_of(
    conn: &mut PgConnection,
    endpoint: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = d::table
        .filter(d::endpoint_id.eq(endpoint))
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(d::id.lt(b));
    }
    q.order(d::id.desc()).limit(limit).load(conn)
}

/// One delivery of an endpoint, locked.
pub fn lock_delivery(
    conn: &mut PgConnection,
    endpoint: Uuid,
    id: Uuid,
) -> QueryResult<Option<DeliveryRow>> {
    d::table
        .find(id)
        .filter(d::endpoint_id.eq(endpoint))
        .select(DeliveryRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Makes a delivery due now again (a manual redelivery).
pub fn requeue(conn: &mut PgConnection, id: Uuid) -> QueryResult<DeliveryRow> {
    let now = crate::db::now();
    diesel::update(d::table.find(id))
        .set((
            d::status.eq(DeliveryStatus::Pending),
            d::next_attempt_at.eq(now),
            d::updated_at.eq(now),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
}
