//! Serde helpers for request fields, shared by every API module: money and
//! other decimals as strings (never JSON numbers), the absent/`null`/value
//! distinction of PATCH bodies, and defaults.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// What a client is told when a decimal is not a decimal string.
pub const DECIMAL_EXPECTED: &str = "send a decimal string such as \"6.50\"";

struct DecimalString;

impl serde::de::Visitor<'_> for DecimalString {
    type Value = Decimal;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(DECIMAL_EXPECTED)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
        let t = v.trim();
        let parsed = if t.contains(['e', 'E']) {
            Decimal::from_scientific(t)
        } else {
            t.parse()
        };
        parsed.map_err(|_| E::custom(format!("{DECIMAL_EXPECTED}, not \"{v}\"")))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Decimal, E> {
        Err(E::custom(DECIMAL_EXPECTED))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Decimal, E> {
        Err(E::custom(DECIMAL_EXPECTED))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Decimal, E> {
        Err(E::custom(DECIMAL_EXPECTED))
    }
}

/// A decimal that must be a JSON string (`"12.50"`); a JSON number is
/// refused with "send a decimal string such as "6.50"".
pub fn required_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalString)
}

struct Wrapped(Decimal);

impl<'de> Deserialize<'de> for Wrapped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        required_decimal(d).map(Wrapped)
    }
}

/// An optional decimal that must be a JSON string (`"12.50"`).
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

/// Absent -> `None`; `null` -> `Some(None)`; a value -> `Some(Some(v))`.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `nullable` for a decimal string.
pub fn nullable_decimal<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Decimal>>, D::Error> {
    decimal(d).map(Some)
}

/// `true`, for `#[serde(default = ...)]`.
pub fn yes() -> bool {
    true
}

/// `1`, for `#[serde(default = ...)]` on quantities.
pub fn one() -> i32 {
    1
}
