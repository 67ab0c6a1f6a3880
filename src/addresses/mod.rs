//! Address books: each user keeps several delivery addresses, one default.
//! Venezuelan rules (phone in E.164, cédula or RIF, the federal entities)
//! live in `venezuela`; checkout copies an address into the order.

pub mod api;
pub mod repo;
pub mod service;
pub mod venezuela;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::addresses;

/// An address as stored (already normalised).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = addresses, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct AddressRow {
    /// Address id.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// A name for it (`Casa`, `Oficina`).
    pub label: String,
    /// Who receives.
    pub recipient: String,
    /// Phone, E.164.
    pub phone: String,
    /// Cédula or RIF, normalised.
    pub national_id: String,
    /// Federal entity (canonical name).
    pub state: String,
    /// Municipality.
    pub municipality: String,
    /// City or town.
    pub city: String,
    /// Street, building, house.
    pub line1: String,
    /// Floor, apartment.
    pub line2: String,
    /// Punto de referencia.
    pub reference_point: String,
    /// For maps.
    pub latitude: Option<f64>,
    /// For maps.
    pub longitude: Option<f64>,
    /// The user's default address.
    pub is_default: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}
