//! Products: what sellers offer, priced in USD. Sellers manage their own
//! catalog, admins any; shoppers see active products of active sellers.
//! Every price change is kept in the price history.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::schema::{product_price_history, products};
use crate::ids::{ProductId, SellerId};

/// A product as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct ProductRow {
    /// Product id.
    pub id: ProductId,
    /// The owning seller.
    pub seller_id: SellerId,
    /// Seller's stock-keeping unit, unique per seller.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Long description.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Picture.
    pub image_url: Option<String>,
    /// Unit price in USD.
    pub price_usd: Decimal,
    /// Shipping weight in kilograms.
    pub weight_kg: Option<Decimal>,
    /// Most units one order may hold.
    pub max_per_order: i32,
    /// Inactive products are hidden from shoppers.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// Changes to a product; `None` leaves a column as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = products)]
pub struct ProductChanges {
    /// New SKU.
    pub sku: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// New picture, or none.
    pub image_url: Option<Option<String>>,
    /// New price.
    pub price_usd: Option<Decimal>,
    /// New weight, or none.
    pub weight_kg: Option<Option<Decimal>>,
    /// New per-order maximum.
    pub max_per_order: Option<i32>,
    /// New active flag.
    pub active: Option<bool>,
    /// Set on every change.
    pub updated_at: Option<DateTime<Utc>>,
}

/// One change of a product's price.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = product_price_history, check_for_backend(diesel::pg::Pg))]
pub struct PriceChangeRow {
    /// Entry id (time-ordered).
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Price before; none for the first price.
    pub old_price_usd: Option<Decimal>,
    /// Price after.
    pub new_price_usd: Decimal,
    /// Who changed it.
    pub changed_by: Option<Uuid>,
    /// When.
    pub changed_at: DateTime<Utc>,
}
