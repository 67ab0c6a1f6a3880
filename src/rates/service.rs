//! Exchange-rate use cases: posting a rate, reading the current one and the
//! history.

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::RateRow;
use super::repo::{self, RateFilter};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::money;
use crate::pagination::{Cursor, PageRequest};

/// How far ahead a rate may be scheduled.
pub const MAX_SCHEDULE_AHEAD_DAYS: i64 = 31;

/// A rate to record.
#[derive(Debug, Clone)]
pub struct NewRate {
    /// Bolívares per dollar.
    pub rate: Decimal,
    /// From when it applies; now when absent.
    pub effective_at: Option<DateTime<Utc>>,
    /// Who published it.
    pub source: String,
}

/// Records a rate (admins only). Rates are never overwritten: a second rate
/// with the same effective time is 409.
pub fn post_rate(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewRate,
) -> Result<RateRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    let rate = money::check_rate(new.rate).map_err(|m| AppError::invalid("rate", m))?;
    let now = crate::db::now();
    let effective_at = new.effective_at.map_or(now, |at| at.trunc_subsecs(6));
    if effective_at > now + Duration::days(MAX_SCHEDULE_AHEAD_DAYS) {
        return Err(AppError::invalid(
            "effective_at",
            format!("must be at most {MAX_SCHEDULE_AHEAD_DAYS} days ahead"),
        ));
    }
    let row = RateRow {
        id: Uuid::now_v7(),
        base_currency: "USD".into(),
        quote_currency: "VES".into(),
        rate,
        effective_at,
        source: new.source,
        created_by: Some(actor.user_id),
        created_at: now,
        // A scheduled rate is announced by the job when it takes effect.
        announced_at: (effective_at <= now).then_some(now),
    };
    if repo::insert_if_absent(conn, &row)? {
        if row.announced_at.is_some() {
            crate::events::notify(conn, &crate::events::Event::Rate)?;
        }
        Ok(row)
    } else {
        Err(AppError::conflict(
            ErrorCode::DuplicateRate,
            format!(
                "a rate effective at {} already exists; rates are never overwritten",
                effective_at.to_rfc3339_opts(SecondsFormat::Micros, true)
            ),
        ))
    }
}

/// The rate in effect now, if any has been posted.
pub fn current_rate(conn: &mut PgConnection) -> Result<Option<RateRow>, AppError> {
    Ok(repo::in_effect_at(conn, crate::db::now())?)
}

/// The rate in effect now; 404 `no_exchange_rate` when none was posted.
pub fn require_current_rate(conn: &mut PgConnection) -> Result<RateRow, AppError> {
    current_rate(conn)?.ok_or_else(|| AppError::Conflict {
        code: ErrorCode::NoExchangeRate,
        detail: "no USD->VES exchange rate is in effect yet".into(),
    })
}

/// The history, newest first, optionally within `[from, to)`.
pub fn list_rates(
    conn: &mut PgConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: &PageRequest,
) -> Result<(Vec<RateRow>, Option<String>), AppError> {
    let after = match &page.after {
        None => None,
        Some(c) => {
            let key = c.key.as_deref().unwrap_or_default();
            let at = DateTime::parse_from_rfc3339(key)
                .map_err(|_| AppError::bad_parameter("cursor", "is not a valid cursor"))?;
            Some((at.with_timezone(&Utc), c.id))
        }
    };
    let filter = RateFilter { from, to, after };
    let rows = repo::list(conn, &filter, page.fetch())?;
    Ok(page.finish(rows, |r| Cursor {
        key: Some(r.effective_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        id: r.id,
    }))
}

/// Rates announced per transaction by the job.
pub const ANNOUNCE_BATCH: i64 = 100;

/// Announces scheduled rates that have taken effect: each is marked and
/// one `Rate` event tells every cart stream, on every instance, that prices
/// in VES moved. Claimed with `SKIP LOCKED`, so each is announced once.
pub fn announce_effective(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let n = repo::mark_announced(conn, crate::db::now(), batch)?;
        if n > 0 {
            crate::events::notify(conn, &crate::events::Event::Rate)?;
        }
        Ok(n)
    })
}
