//! Fee rules: data, not constants in code. A rule is a percentage of the
//! cart subtotal or a fixed USD amount, optionally only from a minimum
//! subtotal. Admins manage them; carts and checkout apply the active ones.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::schema::fee_rules;
use crate::money::{self, DualPrice};

crate::text_enum! {
    /// How a fee is computed.
    pub enum FeeKind {
        /// `amount` percent of the subtotal in USD.
        Percent = "percent",
        /// `amount` USD.
        Fixed = "fixed",
    }
}

/// A fee rule as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fee_rules, check_for_backend(diesel::pg::Pg))]
pub struct FeeRuleRow {
    /// Rule id.
    pub id: Uuid,
    /// Stable code (`service_fee`).
    pub code: String,
    /// Name shown to shoppers.
    pub name: String,
    /// Percent or fixed.
    pub kind: FeeKind,
    /// Percent (2.5 = 2.5%) or USD.
    pub amount: Decimal,
    /// Applies only from this subtotal (USD).
    pub min_subtotal_usd: Option<Decimal>,
    /// Inactive rules are ignored.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl FeeRuleRow {
    /// The fee for a subtotal at `rate`: USD rounded to cents, VES from the
    /// rounded USD. `None` when the rule does not apply.
    pub fn charge(&self, subtotal_usd: Decimal, rate: Decimal) -> Option<DualPrice> {
        if !self.active || subtotal_usd <= Decimal::ZERO {
            return None;
        }
        if self.min_subtotal_usd.is_some_and(|min| subtotal_usd < min) {
            return None;
        }
        let usd = match self.kind {
            FeeKind::Percent => {
                money::round_cents(subtotal_usd * self.amount / Decimal::ONE_HUNDRED)
            }
            FeeKind::Fixed => money::round_cents(self.amount),
        };
        (usd > Decimal::ZERO).then(|| DualPrice::at_rate(usd, rate))
    }
}
