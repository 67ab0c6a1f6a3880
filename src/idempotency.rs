//! Idempotency keys (the `Idempotency-Key` header of
//! draft-ietf-httpapi-idempotency-key-header), written once for every
//! operation that takes one: placement today; payments, refunds, order
//! edits and batches next. A key is claimed in the operation's own
//! transaction, so it is kept exactly when the operation commits:
//!
//! - first use: the key is stored with a fingerprint of the request and the
//!   resource it will produce, and the operation runs;
//! - a retry with the same request: `Claim::Repeat`, and the operation
//!   answers from the resource's state (a placed checkout returns its
//!   orders) instead of acting twice; a concurrent first use makes the
//!   retry wait for it to commit, then see it;
//! - the same key with a different request (or operation): 422
//!   `idempotency_key_reused`, nothing written;
//! - keys are forgotten after the retention (`IDEMPOTENCY_RETENTION_HOURS`)
//!   by the `expire` job, in batches.
//!
//! The header itself is read by `crate::http::extract::IdempotencyKey`.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::cached::CachedExt;
use crate::error::{AppError, ErrorCode, FieldError};

/// One use of a key.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Keys are per user.
    pub user_id: Uuid,
    /// The key the client sent.
    pub key: &'a str,
    /// What is asked (`checkout.place`).
    pub operation: &'static str,
    /// What identifies the request's content (see `fingerprint`).
    pub fingerprint: String,
    /// The resource the operation acts on or creates.
    pub resource_id: Uuid,
}

/// Whether the key was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First use: perform the operation.
    First,
    /// The same request again (after the first committed): answer from the
    /// resource's state.
    Repeat {
        /// The resource the first use named.
        resource_id: Uuid,
    },
}

/// A fingerprint of a request's parts (a hash; the parts are not stored).
pub fn fingerprint(parts: &[&dyn std::fmt::Display]) -> String {
    let joined: Vec<String> = parts.iter().map(ToString::to_string).collect();
    crate::auth::tokens::hash_token(&joined.join("|"))
}

/// Claims the key in the caller's transaction: `First`, `Repeat`, or 422
/// `idempotency_key_reused` when the key was used for another request.
pub fn claim(conn: &mut PgConnection, req: &Request<'_>) -> Result<Claim, AppError> {
    use diesel::sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        operation: String,
        #[diesel(sql_type = Text)]
        request_hash: String,
        #[diesel(sql_type = SqlUuid)]
        resource_id: Uuid,
        #[diesel(sql_type = Bool)]
        inserted: bool,
    }
    // On a conflict the no-op update returns the stored row (after any
    // concurrent first use commits), so one statement claims or reads;
    // `xmax = 0` tells a fresh insert from an existing row.
    let stored: Stored = diesel::sql_query(
        "INSERT INTO idempotency_keys (user_id, key, operation, request_hash, resource_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, key) DO UPDATE SET key = EXCLUDED.key
         RETURNING operation, request_hash, resource_id, (xmax = 0) AS inserted",
    )
    .bind::<SqlUuid, _>(req.user_id)
    .bind::<Text, _>(req.key)
    .bind::<Text, _>(req.operation)
    .bind::<Text, _>(&req.fingerprint)
    .bind::<SqlUuid, _>(req.resource_id)
    .bind::<Timestamptz, _>(crate::db::now())
    .cached()
    .get_result(conn)?;
    if stored.inserted {
        Ok(Claim::First)
    } else if stored.operation == req.operation && stored.request_hash == req.fingerprint {
        Ok(Claim::Repeat {
            resource_id: stored.resource_id,
        })
    } else {
        Err(AppError::Validation {
            code: ErrorCode::IdempotencyKeyReused,
            errors: vec![FieldError::new(
                "Idempotency-Key",
                "was already used for a different request",
            )],
        })
    }
}

/// Keys deleted per transaction by the expiry job.
pub const EXPIRY_BATCH: i64 = 500;

/// Forgets up to `batch` keys older than `retention`; returns how many.
pub fn expire(
    conn: &mut PgConnection,
    retention: chrono::Duration,
    batch: i64,
) -> Result<usize, AppError> {
    use diesel::sql_types::{BigInt, Timestamptz};
    Ok(diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (
             SELECT user_id, key FROM idempotency_keys WHERE created_at < $1
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(crate::db::now() - retention)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}
