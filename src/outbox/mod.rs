//! The outbox: events written in the same transaction as the change they
//! describe, delivered at least once by a job (notifications come later).
//! Domains call `enqueue`; nothing here sends anything.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::outbox;

/// An event waiting for delivery.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    /// Event id.
    pub id: Uuid,
    /// What happened (`inventory.low_stock`).
    pub topic: String,
    /// The entity it is about.
    pub aggregate_id: Uuid,
    /// The event body.
    pub payload: serde_json::Value,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// Not before this time (retries back off).
    pub available_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last delivery error.
    pub last_error: Option<String>,
}

/// Writes an event in the caller's transaction.
pub fn enqueue(
    conn: &mut PgConnection,
    topic: &str,
    aggregate_id: Uuid,
    payload: serde_json::Value,
) -> QueryResult<()> {
    let now = crate::db::now();
    diesel::insert_into(outbox::table)
        .values(&OutboxRow {
            id: Uuid::now_v7(),
            topic: topic.into(),
            aggregate_id,
            payload,
            created_at: now,
            available_at: now,
            attempts: 0,
            delivered_at: None,
            last_error: None,
        })
        .execute(conn)
        .map(|_| ())
}
