//! Money rules, implemented once (design §3). Prices are set in USD; VES
//! amounts come from a USD->VES rate. Unit prices are rounded to cents in each
//! currency (half away from zero), line totals are unit x quantity, and totals
//! are sums of the displayed lines, so a total always equals the sum of its
//! parts in both currencies. No I/O here.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Decimal places of USD and VES amounts.
pub const CENTS: u32 = 2;
/// Decimal places kept for exchange rates.
pub const RATE_SCALE: u32 = 8;
/// The largest unit price a product may have, in USD.
pub const MAX_PRICE_USD: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 2);
/// The largest USD->VES rate accepted (guards against typos by orders of magnitude).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Rounds an amount to cents, half away from zero, always with two
/// decimals (`0` is `0.00`, `1.5` is `1.50`), as money is shown.
pub fn round_cents(amount: Decimal) -> Decimal {
    let mut cents = amount.round_dp_with_strategy(CENTS, RoundingStrategy::MidpointAwayFromZero);
    cents.rescale(CENTS);
    cents
}

/// Checks a USD unit price: positive, at most two decimals, within bounds.
pub fn check_price_usd(price: Decimal) -> Result<Decimal, &'static str> {
    if price <= Decimal::ZERO {
        Err("must be greater than 0")
    } else if price.normalize().scale() > CENTS {
        Err("must have at most 2 decimal places")
    } else if price > MAX_PRICE_USD {
        Err("must be at most 1000000.00")
    } else {
        Ok(price.round_dp(CENTS))
    }
}

/// Checks a USD->VES rate: positive, at most eight decimals, within bounds.
pub fn check_rate(rate: Decimal) -> Result<Decimal, &'static str> {
    if rate <= Decimal::ZERO {
        Err("must be greater than 0")
    } else if rate.normalize().scale() > RATE_SCALE {
        Err("must have at most 8 decimal places")
    } else if rate > MAX_RATE {
        Err("must be at most 1000000000")
    } else {
        Ok(rate.normalize())
    }
}

/// A unit price in both currencies, at a given rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DualPrice {
    /// Amount in US dollars.
    #[schema(value_type = String, example = "12.50")]
    pub usd: Decimal,
    /// Amount in bolívares at the rate used.
    #[schema(value_type = String, example = "456.25")]
    pub ves: Decimal,
}

impl DualPrice {
    /// An amount already in both currencies (as stored: each already rounded).
    pub const fn new(usd: Decimal, ves: Decimal) -> Self {
        Self { usd, ves }
    }

    /// The unit price of `usd` at `rate`, each currency rounded to cents.
    pub fn at_rate(usd: Decimal, rate: Decimal) -> Self {
        Self {
            usd: round_cents(usd),
            ves: round_cents(usd * rate),
        }
    }

    /// This unit price times a quantity: exact, because both parts are cents.
    pub fn times(self, quantity: Quantity) -> Self {
        let q = Decimal::from(quantity.get());
        Self {
            usd: self.usd * q,
            ves: self.ves * q,
        }
    }

    /// Zero in both currencies.
    pub fn zero() -> Self {
        Self {
            usd: Decimal::new(0, CENTS),
            ves: Decimal::new(0, CENTS),
        }
    }
}

impl std::ops::Add for DualPrice {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            usd: self.usd + other.usd,
            ves: self.ves + other.ves,
        }
    }
}

impl std::iter::Sum for DualPrice {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}

/// Units of one product on a line (a cart line, a checkout line, an order
/// line, a stock hold's line): at least one, as every such table CHECKs.
/// Stored as `INTEGER`; a stored value below one fails the read (a broken
/// invariant) instead of being read as zero. Sent as a plain integer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    diesel::AsExpression,
    diesel::FromSqlRow,
    Serialize,
    Deserialize,
)]
#[diesel(sql_type = diesel::sql_types::Integer)]
#[serde(try_from = "i32", into = "i32")]
pub struct Quantity(i32);

impl Quantity {
    /// One unit.
    pub const ONE: Self = Self(1);

    /// `n` units; `None` below one.
    pub fn new(n: i32) -> Option<Self> {
        (n >= 1).then_some(Self(n))
    }

    /// The number of units.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for Quantity {
    type Error = String;
    fn try_from(n: i32) -> Result<Self, String> {
        Self::new(n).ok_or_else(|| format!("a quantity is at least 1, not {n}"))
    }
}

impl From<Quantity> for i32 {
    fn from(q: Quantity) -> Self {
        q.0
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Integer, diesel::pg::Pg> for Quantity {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        <i32 as diesel::serialize::ToSql<diesel::sql_types::Integer, diesel::pg::Pg>>::to_sql(
            &self.0, out,
        )
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Integer, diesel::pg::Pg> for Quantity {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let n = <i32 as diesel::deserialize::FromSql<
            diesel::sql_types::Integer,
            diesel::pg::Pg,
        >>::from_sql(bytes)?;
        Ok(Self::try_from(n)?)
    }
}

/// A line of a cart or order: a unit price and a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Unit price in both currencies.
    pub unit: DualPrice,
    /// How many units.
    pub quantity: Quantity,
}

impl Line {
    /// The line total in both currencies.
    pub fn total(&self) -> DualPrice {
        self.unit.times(self.quantity)
    }
}

/// The total of several lines: the sum of their displayed totals.
pub fn total_of(lines: &[Line]) -> DualPrice {
    lines.iter().map(Line::total).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn ves_unit_prices_round_half_away_from_zero() {
        // 1.01 * 36.125 = 36.48625 -> 36.49
        assert_eq!(DualPrice::at_rate(d("1.01"), d("36.125")).ves, d("36.49"));
        // 0.10 * 36.125 = 3.6125 -> 3.61
        assert_eq!(DualPrice::at_rate(d("0.10"), d("36.125")).ves, d("3.61"));
        // exactly half a cent goes up
        assert_eq!(round_cents(d("2.005")), d("2.01"));
    }

    #[test]
    fn money_is_always_shown_with_cents() {
        assert_eq!(DualPrice::zero().usd.to_string(), "0.00");
        assert_eq!(round_cents(d("0")).to_string(), "0.00");
        assert_eq!(round_cents(d("1.5")).to_string(), "1.50");
        assert_eq!(DualPrice::at_rate(d("2"), d("10")).ves.to_string(), "20.00");
    }

    #[test]
    fn line_totals_multiply_the_rounded_unit_price() {
        let unit = DualPrice::at_rate(d("0.99"), d("45.678"));
        // 0.99 * 45.678 = 45.22122 -> 45.22 per unit, so 3 units show 135.66
        assert_eq!(
            unit.times(Quantity::new(3).unwrap()),
            DualPrice {
                usd: d("2.97"),
                ves: d("135.66")
            }
        );
    }

    #[test]
    fn price_checks_reject_bad_amounts() {
        assert!(check_price_usd(d("0")).is_err());
        assert!(check_price_usd(d("-1")).is_err());
        assert!(check_price_usd(d("1.001")).is_err());
        assert!(check_price_usd(d("1000000.01")).is_err());
        assert_eq!(check_price_usd(d("1.50")), Ok(d("1.50")));
        assert_eq!(check_price_usd(d("1.500")), Ok(d("1.50")));
    }

    #[test]
    fn rate_checks_reject_bad_rates() {
        assert!(check_rate(d("0")).is_err());
        assert!(check_rate(d("36.123456789")).is_err());
        assert!(check_rate(d("1000000001")).is_err());
        assert_eq!(check_rate(d("36.50000000")), Ok(d("36.5")));
    }

    proptest! {
        #[test]
        fn totals_equal_the_sum_of_displayed_parts_in_both_currencies(
            rate_units in 1u64..100_000_000_000u64,
            lines in proptest::collection::vec((1u64..100_000_000u64, 1i32..1000i32), 0..30),
        ) {
            let rate = Decimal::new(rate_units as i64, 6);
            let lines: Vec<Line> = lines
                .into_iter()
                .map(|(cents, quantity)| Line {
                    unit: DualPrice::at_rate(Decimal::new(cents as i64, 2), rate),
                    quantity: Quantity::new(quantity).unwrap(),
                })
                .collect();
            let total = total_of(&lines);
            let shown: Vec<DualPrice> = lines.iter().map(Line::total).collect();
            prop_assert_eq!(total.usd, shown.iter().map(|p| p.usd).sum::<Decimal>());
            prop_assert_eq!(total.ves, shown.iter().map(|p| p.ves).sum::<Decimal>());
            for line in &shown {
                prop_assert!(line.usd.scale() <= CENTS && line.ves.scale() <= CENTS);
            }
            prop_assert!(total.usd.scale() <= CENTS && total.ves.scale() <= CENTS);
        }
    }
}
