//! Webhook use cases: endpoints (register with a secret shown once, read,
//! change, delete, rotate the secret with an overlap, send a test ping,
//! read the delivery log, redeliver) and the delivery engine's database
//! steps (fan the outbox out, claim due deliveries, record an attempt).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::target::{self, TargetPolicy};
use super::{Channel, DeliveryRow, DeliveryStatus, EndpointRow, repo};
use crate::auth::Principal;
use crate::error::{AppError, FieldError};
use crate::ids::SellerId;
use crate::outbox::{self, Message, OutboxRow, Topic};
use crate::pagination::{Cursor, PageRequest};

/// The event type of a test ping.
pub const TEST_EVENT: &str = "webhook.test";

/// Events fanned out per transaction.
pub const FAN_OUT_BATCH: i64 = 200;

/// Deliveries claimed per round.
pub const SEND_BATCH: i64 = 50;

/// The event types an endpoint may subscribe to.
pub fn event_types() -> Vec<&'static str> {
    Topic::ALL.iter().map(|t| t.as_str()).collect()
}

/// What a caller sends to register an endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// For a seller (admins may name one; a seller's own is implied).
    pub seller_id: Option<SellerId>,
    /// Where to POST.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types.
    pub event_types: Vec<String>,
}

/// Changes to an endpoint; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    /// Where to POST.
    pub url: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The event types.
    pub event_types: Option<Vec<String>>,
    /// Receive deliveries (re-enabling clears the failure state).
    pub active: Option<bool>,
}

fn check_url(url: &str, policy: TargetPolicy, errors: &mut Vec<FieldError>) {
    if let Err(why) = target::parse(url, policy) {
        errors.push(FieldError::new("url", why));
    }
}

fn check_types(types: &[String], errors: &mut Vec<FieldError>) {
    let known = event_types();
    if types.is_empty() || types.len() > 20 {
        errors.push(FieldError::new("event_types", "list 1 to 20 event types"));
    }
    for (i, t) in types.iter().enumerate() {
        if !known.contains(&t.as_str()) {
            errors.push(FieldError::new(
                format!("event_types[{i}]"),
                format!("is not an event type (one of: {})", known.join(", ")),
            ));
        }
    }
}

fn check_description(d: &str, errors: &mut Vec<FieldError>) {
    if d.chars().count() > 200 {
        errors.push(FieldError::new(
            "description",
            "must have at most 200 characters",
        ));
    }
}

fn invalid(errors: Vec<FieldError>) -> Result<(), AppError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation {
            code: crate::error::ErrorCode::ValidationFailed,
            errors,
        })
    }
}

/// Whose endpoints the caller manages: all (admins) or one seller's.
fn owner_for(actor: &Principal, requested: Option<SellerId>) -> Result<Option<SellerId>, AppError> {
    if actor.is_admin() {
        return Ok(requested);
    }
    let own = actor
        .acting_seller()
        .ok_or_else(|| AppError::forbidden("webhooks are managed by admins and sellers"))?;
    if requested.is_some_and(|s| s != own) {
        return Err(AppError::forbidden(
            "sellers manage only their own webhooks",
        ));
    }
    Ok(Some(own))
}

/// The endpoint, for an admin or its seller (404 for anyone else).
fn own_endpoint(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<EndpointRow, AppError> {
    if !actor.is_admin() && actor.acting_seller().is_none() {
        return Err(AppError::forbidden(
            "webhooks are managed by admins and sellers",
        ));
    }
    let row = if lock {
        repo::lock_endpoint(conn, id)?
    } else {
        repo::find_endpoint(conn, id)?
    };
    row.filter(|e| {
        actor.is_admin() || (e.seller_id.is_some() && e.seller_id == actor.acting_seller())
    })
    .ok_or(AppError::NotFound("webhook endpoint"))
}

/// Registers an endpoint; the answer is the only time its secret is shown.
pub fn create(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewEndpoint,
    policy: TargetPolicy,
) -> Result<EndpointRow, AppError> {
    let seller_id = owner_for(actor, new.seller_id)?;
    let mut errors = vec![];
    check_url(&new.url, policy, &mut errors);
    check_description(&new.description, &mut errors);
    check_types(&new.event_types, &mut errors);
    invalid(errors)?;
    conn.transaction(|conn| {
        if let Some(s) = seller_id {
            crate::sellers::service::get_seller(conn, Some(actor), s)?;
        }
        let now = crate::db::now();
        let row = EndpointRow {
            id: Uuid::now_v7(),
            seller_id,
            url: new.url.trim().to_string(),
            description: new.description.trim().to_string(),
            event_types: dedup(new.event_types),
            secret: super::signing::new_secret()?,
            previous_secret: None,
            previous_secret_until: None,
            active: true,
            disabled_reason: String::new(),
            failing_since: None,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        repo::insert_endpoint(conn, &row)?;
        Ok(row)
    })
}

fn dedup(mut types: Vec<String>) -> Vec<String> {
    types.sort();
    types.dedup();
    types
}

/// The caller's endpoints (admins: all, or one seller's).
pub fn list(
    conn: &mut PgConnection,
    actor: &Principal,
    seller_id: Option<SellerId>,
) -> Result<Vec<EndpointRow>, AppError> {
    let owner = owner_for(actor, seller_id)?;
    Ok(repo::endpoints(conn, owner)?)
}

/// One endpoint.
pub fn get(conn: &mut PgConnection, actor: &Principal, id: Uuid) -> Result<EndpointRow, AppError> {
    own_endpoint(conn, actor, id, false)
}

/// Changes an endpoint.
pub fn update(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    changes: EndpointChanges,
    policy: TargetPolicy,
) -> Result<EndpointRow, AppError> {
    let mut errors = vec![];
    if let Some(url) = &changes.url {
        check_url(url, policy, &mut errors);
    }
    if let Some(d) = &changes.description {
        check_description(d, &mut errors);
    }
    if let Some(t) = &changes.event_types {
        check_types(t, &mut errors);
    }
    invalid(errors)?;
    conn.transaction(|conn| {
        let mut row = own_endpoint(conn, actor, id, true)?;
        if let Some(url) = changes.url {
            row.url = url.trim().to_string();
        }
        if let Some(d) = changes.description {
            row.description = d.trim().to_string();
        }
        if let Some(t) = changes.event_types {
            row.event_types = dedup(t);
        }
        if let Some(active) = changes.active {
            row.active = active;
            if active {
                row.disabled_reason.clear();
                row.failing_since = None;
            }
        }
        row.updated_at = crate::db::now();
        repo::save_endpoint(conn, &row)?;
        Ok(row)
    })
}

/// Deletes an endpoint and its delivery log.
pub fn delete(conn: &mut PgConnection, actor: &Principal, id: Uuid) -> Result<(), AppError> {
    conn.transaction(|conn| {
        own_endpoint(conn, actor, id, true)?;
        repo::delete_endpoint(conn, id)?;
        Ok(())
    })
}

/// Most hours the old secret may keep signing after a rotation.
pub const MAX_OVERLAP_HOURS: i64 = 168;

/// Replaces the secret; the old one keeps signing (a second signature) for
/// `overlap_hours` so receivers can switch without losing a delivery.
pub fn rotate_secret(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    overlap_hours: i64,
) -> Result<EndpointRow, AppError> {
    if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
        return Err(AppError::invalid(
            "overlap_hours",
            format!("must be 0 to {MAX_OVERLAP_HOURS}"),
        ));
    }
    conn.transaction(|conn| {
        let mut row = own_endpoint(conn, actor, id, true)?;
        let now = crate::db::now();
        let old = std::mem::replace(&mut row.secret, super::signing::new_secret()?);
        (row.previous_secret, row.previous_secret_until) = if overlap_hours > 0 {
            (Some(old), Some(now + Duration::hours(overlap_hours)))
        } else {
            (None, None)
        };
        row.updated_at = now;
        repo::save_endpoint(conn, &row)?;
        Ok(row)
    })
}

/// The body every webhook carries: the event type, when it happened, and
/// its data (Standard Webhooks' recommended envelope).
pub fn envelope(topic: &str, at: DateTime<Utc>, data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"type": topic, "timestamp": at, "data": data})
}

fn delivery_for(
    endpoint: &EndpointRow,
    event_id: Uuid,
    topic: &str,
    payload: serde_json::Value,
) -> DeliveryRow {
    let now = crate::db::now();
    DeliveryRow {
        id: Uuid::now_v7(),
        event_id,
        topic: topic.to_string(),
        channel: Channel::Webhook,
        recipient: endpoint.id.to_string(),
        endpoint_id: Some(endpoint.id),
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: String::new(),
        response_status: None,
        response_excerpt: String::new(),
        sent_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Queues a `webhook.test` ping to the endpoint (even a disabled one, to
/// check it before enabling it again).
pub fn send_test(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<DeliveryRow, AppError> {
    conn.transaction(|conn| {
        let endpoint = own_endpoint(conn, actor, id, false)?;
        let event_id = Uuid::now_v7();
        let data = serde_json::json!({"endpoint_id": endpoint.id, "message": "canasta test ping"});
        let row = delivery_for(
            &endpoint,
            event_id,
            TEST_EVENT,
            envelope(TEST_EVENT, crate::db::now(), data),
        );
        repo::insert_deliveries(conn, std::slice::from_ref(&row))?;
        Ok(row)
    })
}

/// Most deliveries per page of the log.
pub const MAX_PAGE: i64 = 100;

/// An endpoint's deliveries, newest first, and the next cursor.
pub fn deliveries(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    page: &PageRequest,
) -> Result<(Vec<DeliveryRow>, Option<String>), AppError> {
    own_endpoint(conn, actor, id, false)?;
    let rows = repo::deliveries_of(conn, id, page.after.as_ref().map(|c| c.id), page.fetch())?;
    Ok(page.finish(rows, |r| Cursor {
        key: None,
        id: r.id,
    }))
}

/// Sends a delivery again now (any status; its attempts keep counting).
pub fn redeliver(
    conn: &mut PgConnection,
    actor: &Principal,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> Result<DeliveryRow, AppError> {
    conn.transaction(|conn| {
        own_endpoint(conn, actor, endpoint_id, false)?;
        repo::lock_delivery(conn, endpoint_id, delivery_id)?
            .ok_or(AppError::NotFound("delivery"))?;
        Ok(repo::requeue(conn, delivery_id)?)
    })
}

/// Whether `endpoint` receives `event`: subscribed to its type, and (for a
/// seller's endpoint) the event is about that seller.
fn receives(endpoint: &EndpointRow, event: &OutboxRow) -> bool {
    endpoint.event_types.contains(&event.topic)
        && endpoint.seller_id.is_none_or(|s| {
            event.payload.get("seller_id").and_then(|v| v.as_str()) == Some(s.to_string().as_str())
        })
}

/// Fans up to `batch` outbox events out into deliveries (one per event and
/// receiving endpoint; an existing one is kept) and marks them fanned out;
/// returns how many events.
pub fn fan_out(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let events = repo::claim_events(conn, batch)?;
        if events.is_empty() {
            return Ok(0);
        }
        let endpoints = repo::active_endpoints(conn)?;
        let mut rows = vec![];
        for event in &events {
            for endpoint in endpoints.iter().filter(|e| receives(e, event)) {
                let body = envelope(&event.topic, event.created_at, event.payload.clone());
                rows.push(delivery_for(endpoint, event.id, &event.topic, body));
            }
        }
        repo::insert_deliveries(conn, &rows)?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        repo::mark_events_delivered(conn, &ids)?;
        Ok(events.len())
    })
}

/// A claimed delivery and where it goes.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery (its `attempts` is this attempt's number).
    pub delivery: DeliveryRow,
    /// Its endpoint as it is now.
    pub endpoint: EndpointRow,
}

/// Claims up to `batch` due deliveries for sending; deliveries of disabled
/// endpoints die instead (with the reason).
pub fn claim(
    conn: &mut PgConnection,
    batch: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, AppError> {
    conn.transaction(|conn| {
        let claimed = repo::claim_due(conn, batch, crate::db::now() + lease)?;
        // The batch's endpoints in one read, not one per delivery.
        let ids: Vec<Uuid> = claimed.iter().filter_map(|d| d.endpoint_id).collect();
        let endpoints = repo::endpoints_by_ids(conn, &ids)?;
        let mut out = vec![];
        for delivery in claimed {
            let endpoint = endpoints
                .iter()
                .find(|e| Some(e.id) == delivery.endpoint_id)
                .cloned();
            match endpoint {
                Some(e) if e.active || delivery.topic == TEST_EVENT => out.push(Claimed {
                    delivery,
                    endpoint: e,
                }),
                _ => {
                    let dead = repo::Attempted {
                        status: DeliveryStatus::Dead,
                        next_attempt_at: crate::db::now(),
                        last_error: "the endpoint is disabled".into(),
                        response_status: None,
                        response_excerpt: String::new(),
                        sent_at: None,
                    };
                    repo::record_attempt(conn, delivery.id, delivery.attempts, &dead)?;
                }
            }
        }
        Ok(out)
    })
}

/// The retry policy.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Wait after each failed attempt; when it runs out, the delivery dies.
    pub schedule: Vec<std::time::Duration>,
    /// An endpoint failing this long is disabled when a delivery dies.
    pub disable_after: Duration,
}

/// Records one attempt's answer: sent; failed with its next attempt on the
/// schedule (with up to 10% jitter); or dead when the schedule ran out or
/// the receiver answered 410 Gone (which also disables the endpoint). An
/// endpoint failing for longer than `disable_after` is disabled when one of
/// its deliveries dies, and a `webhook.endpoint_disabled` event tells its
/// owner.
pub fn record(
    conn: &mut PgConnection,
    claimed: &Claimed,
    answer: &super::sender::Answer,
    policy: &RetryPolicy,
) -> Result<Option<DeliveryRow>, AppError> {
    let now = crate::db::now();
    let d = &claimed.delivery;
    let gone = answer.status == Some(410);
    let waited = usize::try_from(d.attempts.max(1) - 1)
        .ok()
        .and_then(|i| policy.schedule.get(i));
    let (status, next) = if answer.delivered() {
        (DeliveryStatus::Sent, now)
    } else if gone {
        (DeliveryStatus::Dead, now)
    } else if let Some(wait) = waited {
        let wait = Duration::from_std(*wait).unwrap_or(Duration::hours(1));
        (DeliveryStatus::Failed, now + wait + jitter(wait))
    } else {
        (DeliveryStatus::Dead, now)
    };
    let error = match (&answer.error, answer.status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) if !answer.delivered() => format!("the receiver answered {s}"),
        _ => String::new(),
    };
    let attempted = repo::Attempted {
        status,
        next_attempt_at: next,
        last_error: error.clone(),
        response_status: answer.status.map(i32::from),
        response_excerpt: answer.excerpt.clone(),
        sent_at: answer.delivered().then_some(now),
    };
    if answer.delivered() && claimed.endpoint.failing_since.is_none() {
        // The common case, one statement: the endpoint has nothing to clear.
        let row = repo::record_attempt(conn, d.id, d.attempts, &attempted)?;
        if row.is_some() {
            ATTEMPTS.count(status);
        }
        return Ok(row);
    }
    conn.transaction(|conn| {
        let Some(row) = repo::record_attempt(conn, d.id, d.attempts, &attempted)? else {
            // Another sender took it over after this one's lease ran out.
            return Ok(None);
        };
        ATTEMPTS.count(status);
        let Some(mut endpoint) = repo::lock_endpoint(conn, claimed.endpoint.id)? else {
            return Ok(Some(row));
        };
        if answer.delivered() {
            endpoint.failing_since = None;
        } else {
            let since = *endpoint.failing_since.get_or_insert(now);
            let persistent = status == DeliveryStatus::Dead && since <= now - policy.disable_after;
            if endpoint.active && (gone || persistent) && d.topic != TEST_EVENT {
                endpoint.active = false;
                endpoint.disabled_reason = if gone {
                    "the receiver answered 410 Gone".into()
                } else {
                    format!("every delivery failed since {since}; the last: {error}")
                };
                outbox::enqueue(
                    conn,
                    &Message::EndpointDisabled(outbox::EndpointDisabled {
                        endpoint_id: endpoint.id,
                        seller_id: endpoint.seller_id,
                        url: endpoint.url.clone(),
                        reason: endpoint.disabled_reason.clone(),
                    }),
                )?;
            }
        }
        endpoint.updated_at = now;
        repo::save_endpoint(conn, &endpoint)?;
        Ok(Some(row))
    })
}

/// Up to a tenth of `wait`, so retries of many deliveries spread out.
fn jitter(wait: Duration) -> Duration {
    let mut byte = [0u8; 2];
    if getrandom::fill(&mut byte).is_err() {
        return Duration::zero();
    }
    let fraction = f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX) / 10.0;
    Duration::milliseconds((wait.num_milliseconds() as f64 * fraction) as i64)
}

/// Attempts recorded by this process, per outcome (`/metrics`).
pub static ATTEMPTS: AttemptCounters = AttemptCounters::new();

/// Process-wide counters of delivery attempts.
#[derive(Debug)]
pub struct AttemptCounters {
    sent: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
    dead: std::sync::atomic::AtomicU64,
}

impl AttemptCounters {
    const fn new() -> Self {
        use std::sync::atomic::AtomicU64;
        Self {
            sent: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dead: AtomicU64::new(0),
        }
    }

    /// Counts one recorded attempt.
    pub fn count(&self, status: DeliveryStatus) {
        use std::sync::atomic::Ordering::Relaxed;
        match status {
            DeliveryStatus::Sent => self.sent.fetch_add(1, Relaxed),
            DeliveryStatus::Dead => self.dead.fetch_add(1, Relaxed),
            _ => self.failed.fetch_add(1, Relaxed),
        };
    }
}

/// The delivery queue in the Prometheus text format: events not fanned out
/// and the oldest one's age, deliveries due or in flight per channel and
/// status and the oldest due one's age, and this process's attempts per
/// channel and outcome.
pub fn metrics(conn: &mut PgConnection) -> Result<String, AppError> {
    use diesel::sql_types::{BigInt, Double, Text};
    #[derive(QueryableByName)]
    struct Depth {
        #[diesel(sql_type = BigInt)]
        outbox_pending: i64,
        #[diesel(sql_type = Double)]
        outbox_oldest: f64,
        #[diesel(sql_type = Double)]
        due_oldest: f64,
    }
    #[derive(QueryableByName)]
    struct ByStatus {
        #[diesel(sql_type = Text)]
        channel: String,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let depth: Depth = diesel::sql_query(
        "SELECT (SELECT count(*) FROM outbox WHERE delivered_at IS NULL) AS outbox_pending,
                coalesce(extract(epoch FROM now() - (SELECT min(available_at) FROM outbox
                                                     WHERE delivered_at IS NULL)), 0)::float8 AS outbox_oldest,
                coalesce(extract(epoch FROM now() - (SELECT min(next_attempt_at) FROM deliveries
                                                     WHERE status IN ('pending', 'sending', 'failed')
                                                       AND next_attempt_at <= now())), 0)::float8 AS due_oldest",
    )
    .get_result(conn)?;
    let rows: Vec<ByStatus> = diesel::sql_query(
        "SELECT channel, status, count(*) AS n FROM deliveries
         WHERE status IN ('pending', 'sending', 'failed') GROUP BY channel, status ORDER BY 1, 2",
    )
    .load(conn)?;
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = String::new();
    let _ = write!(
        out,
        "# HELP canasta_outbox_pending Events not fanned out into deliveries yet.\n\
         # TYPE canasta_outbox_pending gauge\n\
         canasta_outbox_pending {}\n\
         # HELP canasta_outbox_oldest_pending_seconds Age of the oldest event not fanned out.\n\
         # TYPE canasta_outbox_oldest_pending_seconds gauge\n\
         canasta_outbox_oldest_pending_seconds {:.3}\n\
         # HELP canasta_deliveries Deliveries waiting or in flight, by channel and status.\n\
         # TYPE canasta_deliveries gauge\n",
        depth.outbox_pending, depth.outbox_oldest
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "canasta_deliveries{{channel=\"{}\",status=\"{}\"}} {}",
            r.channel, r.status, r.n
        );
    }
    let _ = write!(
        out,
        "# HELP canasta_deliveries_oldest_due_seconds How long the oldest due delivery has waited.\n\
         # TYPE canasta_deliveries_oldest_due_seconds gauge\n\
         canasta_deliveries_oldest_due_seconds {:.3}\n\
         # HELP canasta_delivery_attempts_total Delivery attempts recorded by this process, by channel and outcome.\n\
         # TYPE canasta_delivery_attempts_total counter\n\
         canasta_delivery_attempts_total{{channel=\"webhook\",outcome=\"sent\"}} {}\n\
         canasta_delivery_attempts_total{{channel=\"webhook\",outcome=\"failed\"}} {}\n\
         canasta_delivery_attempts_total{{channel=\"webhook\",outcome=\"dead\"}} {}\n",
        depth.due_oldest,
        ATTEMPTS.sent.load(Relaxed),
        ATTEMPTS.failed.load(Relaxed),
        ATTEMPTS.dead.load(Relaxed),
    );
    Ok(out)
}
