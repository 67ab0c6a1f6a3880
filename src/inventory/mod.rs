//! Inventory: stock per product, reservations with expiry, the movement
//! ledger, restocks, safety stock and low-stock alerts. The correctness core:
//! every change is one conditional UPDATE on the stock row (so concurrent
//! requests on any number of instances cannot oversell), rows are touched in
//! product-id order (so multi-product reservations cannot deadlock), and
//! every change writes a movement row in the same transaction.

mod alerts;
pub mod api;
pub mod repo;
mod reservations;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{reservation_lines, stock_alerts, stock_levels, stock_movements};
use crate::ids::{ProductId, SellerId};

crate::text_enum! {
    /// Why stock changed.
    pub enum MovementReason {
        /// Goods received.
        Restock = "restock",
        /// A manual change (damage, loss, found units).
        Adjustment = "adjustment",
        /// Units held for a checkout, cart or order.
        Reservation = "reservation",
        /// A hold released on purpose.
        Release = "release",
        /// A hold released by the expiry job.
        Expiry = "expiry",
        /// Held units sold: they leave the stock.
        Sale = "sale",
        /// Sold units came back.
        Return = "return",
        /// A stocktake set the count.
        Correction = "correction",
    }
}

crate::text_enum! {
    /// Who a reservation belongs to.
    pub enum OwnerType {
        /// A checkout session.
        Checkout = "checkout",
        /// A cart's soft hold.
        Cart = "cart",
        /// A placed order.
        Order = "order",
    }
}

crate::text_enum! {
    /// Where a reservation is in its life. Every reservation ends.
    pub enum ReservationStatus {
        /// Holding stock until it expires.
        Active = "active",
        /// The units were sold.
        Committed = "committed",
        /// Released on purpose.
        Released = "released",
        /// Released by the expiry job.
        Expired = "expired",
    }
}

crate::text_enum! {
    /// Where a low-stock alert is.
    pub enum AlertStatus {
        /// Raised, nobody has looked.
        Open = "open",
        /// Someone has seen it; it stays until a restock clears it.
        Acknowledged = "acknowledged",
        /// Stock went back above the threshold.
        Cleared = "cleared",
    }
}

/// A product's stock record.
#[derive(Debug, Clone, Copy, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_levels, check_for_backend(diesel::pg::Pg))]
pub struct StockRow {
    /// The product.
    pub product_id: ProductId,
    /// Units physically held.
    pub on_hand: i32,
    /// Units held by active reservations.
    pub reserved: i32,
    /// Units never sold (a buffer against miscounts).
    pub safety_stock: i32,
    /// Alert when available drops to or below this.
    pub low_stock_threshold: i32,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl StockRow {
    /// `on_hand - reserved - safety_stock`, never below zero.
    pub fn available(&self) -> i32 {
        (self.on_hand - self.reserved - self.safety_stock).max(0)
    }

    /// Zero stock for a product that has no record yet.
    pub fn empty(product_id: ProductId) -> Self {
        let now = Utc::now();
        Self {
            product_id,
            on_hand: 0,
            reserved: 0,
            safety_stock: 0,
            low_stock_threshold: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A reservation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::reservations, check_for_backend(diesel::pg::Pg))]
pub struct ReservationRow {
    /// Reservation id.
    pub id: Uuid,
    /// Kind of owner.
    pub owner_type: OwnerType,
    /// The owning checkout, cart or order.
    pub owner_id: Uuid,
    /// Where it is.
    pub status: ReservationStatus,
    /// When the expiry job releases it.
    pub expires_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: Option<Uuid>,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// One product held by a reservation.
#[derive(Debug, Clone, Copy, Queryable, Selectable, Insertable)]
#[diesel(table_name = reservation_lines, check_for_backend(diesel::pg::Pg))]
pub struct ReservationLineRow {
    /// The reservation.
    pub reservation_id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Units held.
    pub quantity: crate::money::Quantity,
}

/// One entry of the ledger.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_movements, check_for_backend(diesel::pg::Pg))]
pub struct MovementRow {
    /// Entry id (time-ordered).
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Change of `on_hand`.
    pub on_hand_delta: i32,
    /// Change of `reserved`.
    pub reserved_delta: i32,
    /// `on_hand` afterwards.
    pub on_hand_after: i32,
    /// `reserved` afterwards.
    pub reserved_after: i32,
    /// Why.
    pub reason: MovementReason,
    /// The reservation involved.
    pub reservation_id: Option<Uuid>,
    /// The owner's kind (checkout, cart, order).
    pub owner_type: Option<OwnerType>,
    /// The owner.
    pub owner_id: Option<Uuid>,
    /// An outside reference (supplier invoice, stocktake id).
    pub reference: Option<String>,
    /// Who did it (none for jobs).
    pub actor_id: Option<Uuid>,
    /// In which role (`seller`, `admin`, `system`).
    pub actor_role: Option<String>,
    /// Free text.
    pub note: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A low-stock alert.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_alerts, check_for_backend(diesel::pg::Pg))]
pub struct AlertRow {
    /// Alert id.
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Its seller.
    pub seller_id: SellerId,
    /// Available units when raised.
    pub available: i32,
    /// The threshold crossed.
    pub threshold: i32,
    /// Where it is.
    pub status: AlertStatus,
    /// When raised.
    pub raised_at: DateTime<Utc>,
    /// When acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// By whom.
    pub acknowledged_by: Option<Uuid>,
    /// When cleared.
    pub cleared_at: Option<DateTime<Utc>>,
}
