//! Background jobs: loops that wake on a timer and call domain services.
//! They run inside `serve` (unless RUN_JOBS=false) and alone in `worker`.
//! Work is claimed with `FOR UPDATE SKIP LOCKED`, so any number of processes
//! can run them at once.

use std::time::Duration;

use crate::db::{self, DbPool};
use crate::inventory::service as inventory;

/// Reservations released per transaction by the expiry job.
pub const EXPIRY_BATCH: i64 = 200;

/// Carts marked idle per transaction by the cart job.
pub const CART_BATCH: i64 = 200;

/// When the jobs run and what they consider idle.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    /// How often the jobs wake up.
    pub interval: Duration,
    /// Carts untouched this long become abandoned or expired.
    pub cart_idle: Duration,
    /// How long `Idempotency-Key`s are kept.
    pub idempotency_retention: Duration,
}

impl JobSettings {
    /// The job settings from the service settings.
    pub fn from(settings: &crate::config::Settings) -> Self {
        Self {
            interval: settings.job_interval,
            cart_idle: settings.cart_idle,
            idempotency_retention: settings.idempotency_retention,
        }
    }
}

/// Runs every job until the process stops.
pub async fn run(pool: DbPool, settings: JobSettings) {
    loop {
        // Orders first, so an unpaid order's stock is released by its
        // cancellation (with history) rather than by its hold's expiry.
        expire_unpaid_orders(&pool).await;
        expire_reservations(&pool).await;
        expire_idle_carts(&pool, settings.cart_idle).await;
        expire_idempotency_keys(&pool, settings.idempotency_retention).await;
        announce_rates(&pool).await;
        forget_stream_tickets(&pool).await;
        actix_web::rt::time::sleep(settings.interval).await;
    }
}

/// Runs `step` (one batch in one transaction, returning how many rows it
/// handled) until a batch comes back short; logs the total under `what`.
async fn drain<F>(pool: &DbPool, batch: i64, what: &str, step: F) -> usize
where
    F: Fn(&mut diesel::PgConnection) -> Result<usize, crate::error::AppError>
        + Clone
        + Send
        + 'static,
{
    let mut total = 0;
    loop {
        match db::run(pool, step.clone()).await {
            Ok(n) => {
                total += n;
                if n < batch as usize {
                    break;
                }
            }
            Err(err) => {
                log::warn!("{what} failed, will retry: {err}");
                break;
            }
        }
    }
    if total > 0 {
        log::info!("{what}: {total}");
    }
    total
}

/// Cancels orders unpaid past their method's window, batch by batch.
pub async fn expire_unpaid_orders(pool: &DbPool) -> usize {
    let batch = crate::orders::service::UNPAID_BATCH;
    drain(
        pool,
        batch,
        "cancelling orders not paid in time",
        move |c| crate::orders::service::expire_unpaid(c, batch),
    )
    .await
}

/// Marks idle carts abandoned (users) or expired (guests), batch by batch.
pub async fn expire_idle_carts(pool: &DbPool, idle: Duration) -> usize {
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::days(3));
    drain(
        pool,
        CART_BATCH,
        "marking idle carts abandoned or expired",
        move |c| crate::carts::service::expire_idle(c, idle, CART_BATCH),
    )
    .await
}

/// Releases every reservation that has expired, batch by batch.
pub async fn expire_reservations(pool: &DbPool) -> usize {
    drain(pool, EXPIRY_BATCH, "releasing expired reservations", |c| {
        inventory::expire_due(c, EXPIRY_BATCH)
    })
    .await
}

/// Forgets idempotency keys older than `retention`, batch by batch.
pub async fn expire_idempotency_keys(pool: &DbPool, retention: Duration) -> usize {
    use crate::idempotency::{EXPIRY_BATCH, expire};
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::hours(24));
    drain(
        pool,
        EXPIRY_BATCH,
        "forgetting expired idempotency keys",
        move |c| expire(c, retention, EXPIRY_BATCH),
    )
    .await
}

/// Announces scheduled exchange rates that have taken effect.
pub async fn announce_rates(pool: &DbPool) -> usize {
    use crate::rates::service::{ANNOUNCE_BATCH, announce_effective};
    drain(
        pool,
        ANNOUNCE_BATCH,
        "announcing exchange rates that took effect",
        |c| announce_effective(c, ANNOUNCE_BATCH),
    )
    .await
}

/// Deletes cart stream tickets that expired over an hour ago.
pub async fn forget_stream_tickets(pool: &DbPool) -> usize {
    use crate::carts::service::{TICKET_BATCH, forget_stream_tickets as forget};
    drain(
        pool,
        TICKET_BATCH,
        "forgetting expired stream tickets",
        |c| forget(c, TICKET_BATCH),
    )
    .await
}
