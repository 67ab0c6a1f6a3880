//! USD->VES exchange rates: a history that is only ever appended to. The
//! current rate is the one with the latest effective time not in the
//! future. Carts and orders snapshot the rate they used.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::schema::exchange_rates;

/// A rate as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = exchange_rates, check_for_backend(diesel::pg::Pg))]
pub struct RateRow {
    /// Rate id.
    pub id: Uuid,
    /// Always `USD`.
    pub base_currency: String,
    /// Always `VES`.
    pub quote_currency: String,
    /// Bolívares per dollar.
    pub rate: Decimal,
    /// From when the rate applies.
    pub effective_at: DateTime<Utc>,
    /// Who published it (`bcv`, `operator`, an integration name).
    pub source: String,
    /// The user who posted it.
    pub created_by: Option<Uuid>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When carts were told it took effect (none while it is scheduled).
    pub announced_at: Option<DateTime<Utc>>,
}
