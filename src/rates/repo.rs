//! Exchange-rate queries. No transactions, no rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::RateRow;
use crate::db::schema::exchange_rates as r;

/// Inserts a rate unless one has the same effective time; true when inserted.
pub fn insert_if_absent(conn: &mut PgConnection, row: &RateRow) -> QueryResult<bool> {
    diesel::insert_into(r::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// The rate in effect at `at`.
pub fn in_effect_at(conn: &mut PgConnection, at: DateTime<Utc>) -> QueryResult<Option<RateRow>> {
    r::table
        .filter(r::effective_at.le(at))
        .order((r::effective_at.desc(), r::id.desc()))
        .select(RateRow::as_select())
        .first(conn)
        .optional()
}

/// Filters for the history.
#[derive(Debug, Clone, Default)]
pub struct RateFilter {
    /// Effective at or after.
    pub from: Option<DateTime<Utc>>,
    /// Effective before.
    pub to: Option<DateTime<Utc>>,
    /// Continue after this (effective_at, id), newest first.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// Rates newest first.
pub fn list(conn: &mut PgConnection, f: &RateFilter, limit: i64) -> QueryResult<Vec<RateRow>> {
    let mut q = r::table.select(RateRow::as_select()).into_boxed();
    if let Some(from) = f.from {
        q = q.filter(r::effective_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(r::effective_at.lt(to));
    }
    if let Some((at, id)) = f.after {
        q = q.filter(
            r::effective_at
                .lt(at)
                .or(r::effective_at.eq(at).and(r::id.lt(id))),
        );
    }
    q.order((r::effective_at.desc(), r::id.desc()))
        .limit(limit)
        .load(conn)
}

/// Marks up to `batch` rates effective by `now` and not yet announced as
/// announced; returns how many.
pub fn mark_announced(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Timestamptz};
    diesel::sql_query(
        "UPDATE exchange_rates SET announced_at = $1 WHERE id IN (
             SELECT id FROM exchange_rates WHERE announced_at IS NULL AND effective_at <= $1
             ORDER BY effective_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(batch)
    .execute(conn)
}
