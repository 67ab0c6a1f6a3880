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
}

impl JobSettings {
    /// The job settings from the service settings.
    pub fn from(settings: &crate::config::Settings) -> Self {
        Self {
            interval: settings.job_interval,
            cart_idle: settings.cart_idle,
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
        actix_web::rt::time::sleep(settings.interval).await;
    }
}

/// Cancels orders unpaid past their method's window, batch by batch.
pub async fn expire_unpaid_orders(pool: &DbPool) -> usize {
    let batch = crate::orders::service::UNPAID_BATCH;
    let mut total = 0;
    loop {
        match db::run(pool, move |c| {
            crate::orders::service::expire_unpaid(c, batch)
        })
        .await
        {
            Ok(n) => {
                total += n;
                if n < batch as usize {
                    break;
                }
            }
            Err(err) => {
                log::warn!("unpaid-order expiry failed, will retry: {err}");
                break;
            }
        }
    }
    if total > 0 {
        log::info!("cancelled {total} orders not paid in time");
    }
    total
}

/// Marks idle carts abandoned (users) or expired (guests), batch by batch.
pub async fn expire_idle_carts(pool: &DbPool, idle: Duration) -> usize {
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::days(3));
    let mut total = 0;
    loop {
        match db::run(pool, move |c| {
            crate::carts::service::expire_idle(c, idle, CART_BATCH)
        })
        .await
        {
            Ok(n) => {
                total += n;
                if n < CART_BATCH as usize {
                    break;
                }
            }
            Err(err) => {
                log::warn!("cart expiry failed, will retry: {err}");
                break;
            }
        }
    }
    if total > 0 {
        log::info!("marked {total} idle carts abandoned or expired");
    }
    total
}

/// Releases every reservation that has expired, batch by batch.
pub async fn expire_reservations(pool: &DbPool) -> usize {
    let mut total = 0;
    loop {
        match db::run(pool, |c| inventory::expire_due(c, EXPIRY_BATCH)).await {
            Ok(n) => {
                total += n;
                if n < EXPIRY_BATCH as usize {
                    break;
                }
            }
            Err(err) => {
                log::warn!("reservation expiry failed, will retry: {err}");
                break;
            }
        }
    }
    if total > 0 {
        log::info!("released {total} expired reservations");
    }
    total
}
