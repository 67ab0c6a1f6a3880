//! Sellers: the shops of the marketplace. A seller's id equals the
//! `seller_id` claim of its staff's tokens. Admins manage sellers; a seller
//! reads and edits its own profile; anyone reads an active seller.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sellers;
use crate::ids::SellerId;

/// A seller as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sellers, check_for_backend(diesel::pg::Pg))]
pub struct SellerRow {
    /// Same as the `seller_id` claim.
    pub id: SellerId,
    /// Public shop name.
    pub display_name: String,
    /// Inactive sellers' products are hidden and frozen.
    pub active: bool,
    /// When the seller was created.
    pub created_at: DateTime<Utc>,
    /// When the seller last changed.
    pub updated_at: DateTime<Utc>,
}

/// Changes to a seller; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = sellers)]
pub struct SellerChanges {
    /// New shop name.
    pub display_name: Option<String>,
    /// New active flag.
    pub active: Option<bool>,
    /// Set on every change.
    pub updated_at: Option<DateTime<Utc>>,
}
