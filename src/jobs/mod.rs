//! Background jobs: loops that wake on a timer and call domain services.
//! They run inside `serve` (unless RUN_JOBS=false) and alone in `worker`.
//! Work is claimed with `FOR UPDATE SKIP LOCKED`, so any number of processes
//! can run them at once.

use std::time::Duration;

use crate::db::{self, DbPool};
use crate::inventory::service as inventory;

/// Reservations released per transaction by the expiry job.
pub const EXPIRY_BATCH: i64 = 200;

/// Runs every job until the process stops.
pub async fn run(pool: DbPool, interval: Duration) {
    loop {
        expire_reservations(&pool).await;
        actix_web::rt::time::sleep(interval).await;
    }
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
