//! Orders: one per seller per checkout, with the prices, rate, address and
//! delivery frozen at placement. Statuses move only along `state`'s table,
//! each move with a history row in the same transaction.

pub mod api;
mod fulfilment;
mod lists;
mod open;
mod payments;
pub mod repo;
pub mod service;
pub mod state;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Json;
use crate::db::schema::{order_history, order_items, orders};
pub use crate::ids::OrderId;
use crate::ids::{ProductId, SellerId};
use crate::money::DualPrice;
use state::{ItemStatus, OrderStatus, PaymentStatus, ShippingStatus};

/// Gift options and notes captured at checkout (and frozen on its orders).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Customization {
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
}

/// The delivery address as it was at placement.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AddressSnapshot {
    /// Who receives.
    pub recipient: String,
    /// Phone, E.164.
    #[schema(example = "+584141234567")]
    pub phone: String,
    /// Cédula or RIF, normalised.
    #[schema(example = "V-12345678")]
    pub national_id: String,
    /// Federal entity.
    #[schema(example = "Miranda")]
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
}

/// The delivery option as it was at placement (its cost is the order's `delivery`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DeliverySnapshot {
    /// The option chosen.
    pub option_id: Uuid,
    /// How the goods travel.
    pub kind: crate::delivery::DeliveryKind,
    /// Its name.
    pub name: String,
    /// The carrier (empty for pickup and the seller's own delivery).
    pub carrier: String,
    /// Fewest days to arrive.
    pub min_days: i32,
    /// Most days to arrive.
    pub max_days: i32,
}

impl AddressSnapshot {
    /// The buyer's address as it is now.
    pub fn of(a: &crate::addresses::AddressRow) -> Self {
        Self {
            recipient: a.recipient.clone(),
            phone: a.phone.clone(),
            national_id: a.national_id.clone(),
            state: a.state.clone(),
            municipality: a.municipality.clone(),
            city: a.city.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            reference_point: a.reference_point.clone(),
            latitude: a.latitude,
            longitude: a.longitude,
        }
    }
}

impl DeliverySnapshot {
    /// The seller's option as it is now.
    pub fn of(o: &crate::delivery::DeliveryOptionRow) -> Self {
        Self {
            option_id: o.id,
            kind: o.kind,
            name: o.name.clone(),
            carrier: o.carrier.clone(),
            min_days: o.min_days,
            max_days: o.max_days,
        }
    }

    /// A national courier (to an office or the door): shipping needs a
    /// carrier and a tracking number.
    pub fn by_courier(&self) -> bool {
        matches!(
            self.kind,
            crate::delivery::DeliveryKind::CourierOffice
                | crate::delivery::DeliveryKind::CourierDoor
        )
    }

    /// The option's carrier, when it names one.
    pub fn carrier(&self) -> Option<&str> {
        Some(self.carrier.as_str()).filter(|c| !c.is_empty())
    }
}

/// An order as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct OrderRow {
    /// Order id.
    pub id: OrderId,
    /// Short human number for phone and WhatsApp support (`CN-001001`),
    /// drawn from the database's sequence by the statement that opens it.
    pub number: String,
    /// The checkout it came from (orders of one checkout share it).
    pub checkout_id: crate::ids::CheckoutId,
    /// The buyer.
    pub user_id: Uuid,
    /// The seller who fulfils it.
    pub seller_id: SellerId,
    /// Main status.
    pub status: OrderStatus,
    /// Payment status.
    pub payment_status: PaymentStatus,
    /// Shipping status.
    pub shipping_status: ShippingStatus,
    /// The payment method's code.
    pub payment_method: String,
    /// Sum of the lines, USD.
    pub subtotal_usd: Decimal,
    /// Sum of the lines, VES.
    pub subtotal_ves: Decimal,
    /// Delivery, USD.
    pub delivery_usd: Decimal,
    /// Delivery, VES.
    pub delivery_ves: Decimal,
    /// Fees, USD.
    pub fees_usd: Decimal,
    /// Fees, VES.
    pub fees_ves: Decimal,
    /// Payment surcharge, USD.
    pub surcharge_usd: Decimal,
    /// Payment surcharge, VES.
    pub surcharge_ves: Decimal,
    /// Total, USD.
    pub total_usd: Decimal,
    /// Total, VES.
    pub total_ves: Decimal,
    /// The rate frozen at placement.
    pub rate_id: Uuid,
    /// Its value.
    pub rate: Decimal,
    /// The delivery address as it was.
    pub address: Json<AddressSnapshot>,
    /// The delivery option as it was.
    pub delivery: Json<DeliverySnapshot>,
    /// Gift options and notes.
    pub customization: Json<Customization>,
    /// The stock held for it.
    pub reservation_id: Uuid,
    /// Unpaid orders are cancelled after this.
    pub payment_due_at: DateTime<Utc>,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    pub tracking_number: Option<String>,
    /// When placed.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl OrderRow {
    /// The total in both currencies.
    pub fn total(&self) -> DualPrice {
        DualPrice::new(self.total_usd, self.total_ves)
    }
}

/// An order line as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = order_items, check_for_backend(diesel::pg::Pg))]
pub struct OrderItemRow {
    /// Line id.
    pub id: Uuid,
    /// The order.
    pub order_id: OrderId,
    /// The product.
    pub product_id: ProductId,
    /// SKU then.
    pub sku: String,
    /// Name then.
    pub name: String,
    /// Picture then.
    pub image_url: Option<String>,
    /// Units.
    pub quantity: crate::money::Quantity,
    /// Unit price, USD.
    pub unit_usd: Decimal,
    /// Unit price, VES.
    pub unit_ves: Decimal,
    /// Line total, USD.
    pub line_usd: Decimal,
    /// Line total, VES.
    pub line_ves: Decimal,
    /// Where the line stands.
    pub status: ItemStatus,
}

/// One status change.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = order_history, check_for_backend(diesel::pg::Pg))]
pub struct HistoryRow {
    /// Entry id.
    pub id: Uuid,
    /// The order.
    pub order_id: OrderId,
    /// `status`, `payment_status` or `shipping_status`.
    pub field: String,
    /// Before (none at placement).
    pub from_value: Option<String>,
    /// After.
    pub to_value: String,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// In which role.
    pub actor_role: String,
    /// `buyer`, `seller`, `operator`, `system` or `override`.
    pub source: String,
    /// Why (required for cancellations by sellers and operators, and overrides).
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

pub use crate::payments::PaymentSubmissionRow;
