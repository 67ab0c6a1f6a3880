//! Webhooks for integrators, and the delivery engine they travel on: the
//! outbox's events are fanned out into `deliveries` (one per event and
//! endpoint, unique, so racing or restarted dispatchers never make two),
//! then sent at least once with retries on a schedule, signed per the
//! Standard Webhooks specification (`signing.rs`), to URLs that are checked
//! against SSRF at registration and again at every send (`target.rs`).
//! Admins manage the marketplace's endpoints; a seller manages its own and
//! receives only events about its own orders and stock.

pub mod api;
pub mod repo;
pub mod sender;
pub mod service;
pub mod signing;
pub mod target;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{deliveries, webhook_endpoints};
use crate::ids::SellerId;

crate::text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its first attempt.
        Pending = "pending",
        /// Claimed by a sender; due again if that sender dies (lease).
        Sending = "sending",
        /// The receiver answered 2xx.
        Sent = "sent",
        /// The last attempt failed; retried at `next_attempt_at`.
        Failed = "failed",
        /// Given up: the retry schedule ran out, or the endpoint is gone (410) or disabled.
        Dead = "dead",
    }
}

crate::text_enum! {
    /// How a message travels.
    pub enum Channel {
        /// An integrator's HTTPS endpoint.
        Webhook = "webhook",
    }
}

/// A registered endpoint.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct EndpointRow {
    /// Endpoint id.
    pub id: Uuid,
    /// The seller it belongs to; none for the marketplace's own.
    pub seller_id: Option<SellerId>,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
    /// The signing secret (`whsec_...`).
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Deliveries are made only while active.
    pub active: bool,
    /// Why it was disabled (empty while active or disabled by its owner).
    pub disabled_reason: String,
    /// Since when every attempt has failed (none after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// Who registered it.
    pub created_by: Uuid,
    /// When registered.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl EndpointRow {
    /// The secrets that sign a delivery made at `now`: the current one, and
    /// the previous one during a rotation's overlap.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// One message to one recipient.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries, check_for_backend(diesel::pg::Pg))]
pub struct DeliveryRow {
    /// Delivery id.
    pub id: Uuid,
    /// The event (outbox id, or a test ping's own id); `webhook-id` on the wire.
    pub event_id: Uuid,
    /// The event type.
    pub topic: String,
    /// The channel.
    pub channel: Channel,
    /// Who receives it (for webhooks, the endpoint id).
    pub recipient: String,
    /// The endpoint, for webhooks.
    pub endpoint_id: Option<Uuid>,
    /// The body sent.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is due (its lease's end while `sending`).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: String,
    /// The receiver's last HTTP status.
    pub response_status: Option<i32>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub response_excerpt: String,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// When fanned out.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}
