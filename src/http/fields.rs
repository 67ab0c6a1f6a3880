//! Serde helpers for request fields, shared by every API module: money and
//! other decimals as strings (never JSON numbers), the absent/`null`/value
//! distinction of PATCH bodies, and defaults.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// An optional decimal that must be a JSON string (`"12.50"`).
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    rust_decimal::serde::str_option::deserialize(d)
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
    rust_decimal::serde::str_option::deserialize(d).map(Some)
}

/// `true`, for `#[serde(default = ...)]`.
pub fn yes() -> bool {
    true
}
