//! Wishlists: each signed-in user has a default list and may keep named
//! lists. Lines move between a cart and a list; a list can be shared by a
//! revocable read-only link.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{wishlist_items, wishlists};
use crate::ids::ProductId;

/// A wishlist as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wishlists, check_for_backend(diesel::pg::Pg))]
pub struct WishlistRow {
    /// List id.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// Its name.
    pub name: String,
    /// The user's default list.
    pub is_default: bool,
    /// SHA-256 of the share token, while shared.
    pub share_token_hash: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// A product on a list.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wishlist_items, check_for_backend(diesel::pg::Pg))]
pub struct WishlistItemRow {
    /// The list.
    pub wishlist_id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// When added.
    pub added_at: DateTime<Utc>,
}
