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
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How often the jobs wake up.
    pub interval: Duration,
    /// Carts untouched this long become abandoned or expired.
    pub cart_idle: Duration,
    /// How long `Idempotency-Key`s are kept.
    pub idempotency_retention: Duration,
    /// How webhooks are delivered.
    pub webhooks: crate::config::WebhookSettings,
}

impl JobSettings {
    /// The job settings from the service settings.
    pub fn from(settings: &crate::config::Settings) -> Self {
        Self {
            interval: settings.job_interval,
            cart_idle: settings.cart_idle,
            idempotency_retention: settings.idempotency_retention,
            webhooks: settings.webhooks.clone(),
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
        deliver_webhooks(&pool, &settings.webhooks).await;
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

/// Fans the outbox out into deliveries, then sends every due delivery
/// (batch by batch, each batch's sends at once, none inside a database
/// transaction) and records each answer. Returns how many were sent or
/// failed.
pub async fn deliver_webhooks(pool: &DbPool, settings: &crate::config::WebhookSettings) -> usize {
    use crate::webhooks::{sender, service};
    drain(pool, service::FAN_OUT_BATCH, "fanning out events", |c| {
        service::fan_out(c, service::FAN_OUT_BATCH)
    })
    .await;
    let limits = sender::SendLimits {
        connect_timeout: settings.connect_timeout,
        timeout: settings.timeout,
        policy: crate::webhooks::target::TargetPolicy {
            allow_http: settings.allow_http,
            allow_private: settings.allow_private,
        },
    };
    let retry = service::RetryPolicy {
        schedule: settings.retry_schedule.clone(),
        disable_after: chrono::Duration::from_std(settings.disable_after)
            .unwrap_or(chrono::Duration::hours(72)),
    };
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::minutes(1));
    let mut total = 0;
    loop {
        let claimed =
            match db::run(pool, move |c| service::claim(c, service::SEND_BATCH, lease)).await {
                Ok(c) => c,
                Err(err) => {
                    log::warn!("claiming webhook deliveries failed, will retry: {err}");
                    break;
                }
            };
        let n = claimed.len();
        let sends = claimed.into_iter().map(|c| {
            let retry = retry.clone();
            async move {
                let answer = match outgoing(&c) {
                    Ok(out) => sender::send(&out, limits).await,
                    Err(err) => sender::Answer {
                        error: Some(err.to_string()),
                        ..sender::Answer::default()
                    },
                };
                if let Err(err) =
                    db::run(pool, move |conn| service::record(conn, &c, &answer, &retry)).await
                {
                    log::warn!(
                        "recording a webhook delivery failed (it will be sent again): {err}"
                    );
                }
            }
        });
        futures_util::future::join_all(sends).await;
        total += n;
        if n < service::SEND_BATCH as usize {
            break;
        }
    }
    if total > 0 {
        log::info!("webhook deliveries attempted: {total}");
    }
    total
}

/// The signed request for a claimed delivery, signed now.
fn outgoing(
    c: &crate::webhooks::service::Claimed,
) -> Result<crate::webhooks::sender::Outgoing, crate::error::AppError> {
    let now = crate::db::now();
    let body = serde_json::to_vec(&c.delivery.payload).map_err(crate::error::AppError::internal)?;
    let id = format!("msg_{}", c.delivery.event_id.simple());
    let timestamp = now.timestamp();
    let signature = crate::webhooks::signing::signature(
        &c.endpoint.signing_secrets(now),
        &id,
        timestamp,
        &body,
    )?;
    Ok(crate::webhooks::sender::Outgoing {
        url: c.endpoint.url.clone(),
        id,
        timestamp,
        signature,
        body,
    })
}
