//! Checkout sessions: a cart's counted lines held by one inventory
//! reservation (`owner_type: checkout`) while the buyer chooses the address,
//! a delivery option per seller, the payment method and extras, and reads a
//! review: per seller and overall, subtotal, delivery, fees, surcharge and
//! total in USD and VES at the rate that placement will freeze, plus the
//! `expected_total` to send when placing.

pub mod api;
mod place;
mod repo;
mod review;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::collections::BTreeMap;

use crate::db::Json;
use crate::db::schema::checkouts;
pub use crate::ids::CheckoutId;
use crate::ids::{CartId, ProductId, SellerId};

/// How long a checkout holds the stock.
pub const CHECKOUT_TTL_SECONDS: i64 = 15 * 60;

crate::text_enum! {
    /// Where a checkout is.
    pub enum CheckoutStatus {
        /// Being filled in; its stock is held until `expires_at`.
        Open = "open",
        /// Became orders.
        Placed = "placed",
        /// Replaced by a newer checkout of the same cart.
        Abandoned = "abandoned",
    }
}

/// A line as the checkout took it from the cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutLine {
    /// The product.
    pub product_id: ProductId,
    /// Its seller.
    pub seller_id: SellerId,
    /// The seller's shop name.
    pub seller_name: String,
    /// Product name.
    pub name: String,
    /// SKU.
    pub sku: String,
    /// Picture.
    pub image_url: Option<String>,
    /// Units held.
    pub quantity: crate::money::Quantity,
}

/// A checkout as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkouts, check_for_backend(diesel::pg::Pg))]
pub struct CheckoutRow {
    /// Checkout id.
    pub id: CheckoutId,
    /// The buyer.
    pub user_id: Uuid,
    /// The cart it came from.
    pub cart_id: CartId,
    /// Where it is.
    pub status: CheckoutStatus,
    /// The lines held.
    pub lines: Json<Vec<CheckoutLine>>,
    /// The chosen address.
    pub address_id: Option<Uuid>,
    /// The chosen delivery option per seller (`{seller_id: option_id}`).
    pub deliveries: Json<BTreeMap<SellerId, Uuid>>,
    /// The chosen payment method code.
    pub payment_method: Option<String>,
    /// Gift wrap.
    pub gift_wrap: bool,
    /// Gift message.
    pub gift_message: String,
    /// Special instructions for the sellers.
    pub special_instructions: String,
    /// Notes for the delivery.
    pub delivery_notes: String,
    /// Packaging preferences.
    pub package_preferences: String,
    /// The stock hold.
    pub reservation_id: Uuid,
    /// When the hold ends.
    pub expires_at: DateTime<Utc>,
    /// When started.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl CheckoutRow {
    /// The gift options and notes, as the orders keep them.
    pub fn customization(&self) -> crate::orders::Customization {
        crate::orders::Customization {
            gift_wrap: self.gift_wrap,
            gift_message: self.gift_message.clone(),
            special_instructions: self.special_instructions.clone(),
            delivery_notes: self.delivery_notes.clone(),
            package_preferences: self.package_preferences.clone(),
        }
    }
}
