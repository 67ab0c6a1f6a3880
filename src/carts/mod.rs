//! Carts: persistent, dual-currency carts for signed-in users (one active
//! each) and guests (addressed by an opaque token stored hashed). Lines keep
//! a product snapshot and their price history; every read re-prices against
//! the current price and rate and reports notices. Writes are versioned
//! (`ETag`/`If-Match`) so several devices cannot lose each other's updates.

pub mod api;
mod group;
mod merge;
pub mod pricing;
pub mod repo;
pub mod service;
mod shares;
mod stream;
mod wishlist_moves;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{
    cart_item_price_changes, cart_items, cart_participants, cart_shares, carts,
};
pub use crate::ids::CartId;
use crate::ids::{ProductId, SellerId};
use crate::money::DualPrice;

crate::text_enum! {
    /// Where a cart is in its life.
    pub enum CartStatus {
        /// In use.
        Active = "active",
        /// A guest cart merged into a user's cart.
        Merged = "merged",
        /// Became orders at checkout.
        Converted = "converted",
        /// A user's cart left idle (kept for analytics; reactivated on return).
        Abandoned = "abandoned",
        /// A guest cart left idle.
        Expired = "expired",
    }
}

crate::text_enum! {
    /// What kind of cart.
    pub enum CartKind {
        /// One shopper's cart (one active per user), or a guest's.
        Personal = "personal",
        /// A cart an owner shares with invited participants.
        Group = "group",
    }
}

crate::text_enum! {
    /// A participant's place in a group cart.
    pub enum ParticipantRole {
        /// Opened the cart; the only one who checks out.
        Owner = "owner",
        /// Joined by invitation.
        Member = "member",
    }
}

/// The `line_owner` of lines in personal carts (group lines carry the participant).
pub const NO_LINE_OWNER: Uuid = Uuid::nil();

/// A participant of a group cart.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cart_participants, check_for_backend(diesel::pg::Pg))]
pub struct ParticipantRow {
    /// The cart.
    pub cart_id: CartId,
    /// The participant.
    pub user_id: Uuid,
    /// Owner or member.
    pub role: ParticipantRole,
    /// When they (last) joined.
    pub joined_at: DateTime<Utc>,
    /// When they left or were removed.
    pub left_at: Option<DateTime<Utc>>,
}

/// A cart as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub struct CartRow {
    /// Cart id.
    pub id: CartId,
    /// The owner, for a user's cart.
    pub user_id: Option<Uuid>,
    /// SHA-256 of the guest token, for a guest cart.
    pub guest_token_hash: Option<String>,
    /// Where it is.
    pub status: CartStatus,
    /// Bumped by every change; the `ETag`.
    pub version: i32,
    /// The cart a guest cart was merged into.
    pub merged_into: Option<CartId>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// When the shopper last touched it.
    pub last_activity_at: DateTime<Utc>,
    /// Personal or group.
    pub kind: CartKind,
    /// SHA-256 of a group cart's invitation token.
    pub invite_token_hash: Option<String>,
}

/// A cart line as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cart_items, check_for_backend(diesel::pg::Pg))]
pub struct ItemRow {
    /// Line id.
    pub id: Uuid,
    /// The cart.
    pub cart_id: CartId,
    /// The product.
    pub product_id: ProductId,
    /// Its seller.
    pub seller_id: SellerId,
    /// Units.
    pub quantity: crate::money::Quantity,
    /// On the saved-for-later list instead of in the cart.
    pub saved_for_later: bool,
    /// Snapshot: product name.
    pub name: String,
    /// Snapshot: SKU.
    pub sku: String,
    /// Snapshot: picture.
    pub image_url: Option<String>,
    /// Snapshot: category.
    pub category: String,
    /// Snapshot: seller's shop name.
    pub seller_name: String,
    /// Unit price in USD as last shown.
    pub unit_price_usd: Decimal,
    /// Unit price in VES as last shown.
    pub unit_price_ves: Decimal,
    /// The rate used.
    pub rate_id: Uuid,
    /// Its value.
    pub rate: Decimal,
    /// USD price before the last change the shopper has not acted on.
    pub prev_unit_price_usd: Option<Decimal>,
    /// VES price before that change.
    pub prev_unit_price_ves: Option<Decimal>,
    /// Who added it (group carts).
    pub added_by: Option<Uuid>,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// The participant whose line it is (group carts), else `NO_LINE_OWNER`.
    pub line_owner: Uuid,
    /// Price changes recorded for this line (`cart_item_price_changes`).
    pub price_changes: i32,
    /// The quantity before a read lowered it, until the shopper's next write
    /// acknowledges the `quantity_reduced` notice.
    pub quantity_reduced_from: Option<i32>,
}

/// One change of a line's unit price.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cart_item_price_changes, check_for_backend(diesel::pg::Pg))]
pub struct ItemPriceChangeRow {
    /// Entry id.
    pub id: Uuid,
    /// The line.
    pub item_id: Uuid,
    /// USD before.
    pub old_price_usd: Decimal,
    /// USD after.
    pub new_price_usd: Decimal,
    /// VES before.
    pub old_price_ves: Decimal,
    /// VES after.
    pub new_price_ves: Decimal,
    /// Rate before.
    pub old_rate: Decimal,
    /// Rate after.
    pub new_rate: Decimal,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// A read-only share link of a cart.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cart_shares, check_for_backend(diesel::pg::Pg))]
pub struct CartShareRow {
    /// Share id.
    pub id: Uuid,
    /// The cart shared.
    pub cart_id: CartId,
    /// SHA-256 of the link token.
    pub token_hash: String,
    /// What the cart held when shared.
    pub snapshot: serde_json::Value,
    /// When shared.
    pub created_at: DateTime<Utc>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One line of a shared cart, frozen when the link was made.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SharedLine {
    /// The product.
    #[schema(value_type = Uuid)]
    pub product_id: ProductId,
    /// Its name then.
    pub name: String,
    /// Its SKU then.
    pub sku: String,
    /// Its picture then.
    pub image_url: Option<String>,
    /// The seller's shop name then.
    pub seller_name: String,
    /// Units.
    pub quantity: i32,
    /// Unit price then.
    pub unit_price: DualPrice,
    /// Line total then.
    pub line_total: DualPrice,
}

/// A cart as it was when shared.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SharedCart {
    /// The lines in the cart (saved-for-later lines are not shared).
    pub lines: Vec<SharedLine>,
    /// The cart's total then (with fees).
    pub total: DualPrice,
    /// When it was shared.
    pub shared_at: DateTime<Utc>,
}
