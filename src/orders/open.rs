//! Opening orders: what a placement hands over (one order per seller, its
//! priced lines, the frozen address, delivery and rate) becomes the order
//! rows, their lines, the opening history and the `order.placed` events,
//! written in one statement. Checkout decides what to sell; this file
//! decides what an order is made of.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::state::{ItemStatus, OrderStatus, PaymentStatus, ShippingStatus};
use super::{
    AddressSnapshot, Customization, DeliverySnapshot, HistoryRow, OrderId, OrderItemRow, OrderRow,
    repo,
};
use crate::auth::{Actor, Principal};
use crate::db::Json;
use crate::error::AppError;
use crate::ids::{ProductId, SellerId};
use crate::money::DualPrice;
use crate::outbox::{self, Message};

/// One priced line of a new order.
#[derive(Debug, Clone)]
pub struct NewOrderLine {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU then.
    pub sku: String,
    /// Its name then.
    pub name: String,
    /// Its picture then.
    pub image_url: Option<String>,
    /// Units.
    pub quantity: crate::money::Quantity,
    /// Unit price.
    pub unit: DualPrice,
    /// Unit times quantity.
    pub total: DualPrice,
}

/// One seller's order of a placement.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Its id, chosen before the stock hold is handed to it.
    pub id: OrderId,
    /// The seller who fulfils it.
    pub seller_id: SellerId,
    /// Its lines.
    pub lines: Vec<NewOrderLine>,
    /// Sum of the lines.
    pub subtotal: DualPrice,
    /// Delivery.
    pub delivery: DualPrice,
    /// Fees.
    pub fees: DualPrice,
    /// The payment method's surcharge.
    pub surcharge: DualPrice,
    /// Subtotal + delivery + fees + surcharge.
    pub total: DualPrice,
    /// The delivery option as chosen.
    pub delivery_option: DeliverySnapshot,
    /// The stock hold handed to it.
    pub reservation_id: Uuid,
}

/// What the orders of one placement share.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    /// The checkout placed.
    pub checkout_id: crate::ids::CheckoutId,
    /// The buyer.
    pub buyer: &'a Principal,
    /// The payment method.
    pub method: crate::payments::MethodCode,
    /// Unpaid orders are cancelled after this.
    pub payment_due_at: DateTime<Utc>,
    /// The rate frozen for them.
    pub rate: &'a crate::rates::RateRow,
    /// The delivery address as it is now.
    pub address: AddressSnapshot,
    /// Gift options and notes.
    pub customization: Customization,
}

/// Opens the placement's orders: pending payment, not shipped, their lines
/// reserved, one opening history row per status (source `buyer`, reason
/// `placed`) and an `order.placed` event each, in one statement.
pub fn open(
    conn: &mut PgConnection,
    opening: &Opening<'_>,
    orders: Vec<NewOrder>,
) -> Result<Vec<OrderRow>, AppError> {
    let actor = Actor::of(opening.buyer);
    let now = crate::db::now();
    let mut rows = Vec::with_capacity(orders.len());
    let mut items = vec![];
    let mut history = vec![];
    let mut events = Vec::with_capacity(orders.len());
    for new in orders {
        let order = OrderRow {
            id: new.id,
            // Drawn by the insert below.
            number: String::new(),
            checkout_id: opening.checkout_id,
            user_id: opening.buyer.user_id,
            seller_id: new.seller_id,
            status: OrderStatus::PendingPayment,
            payment_status: PaymentStatus::Pending,
            shipping_status: ShippingStatus::NotShipped,
            payment_method: opening.method.as_str().to_string(),
            subtotal_usd: new.subtotal.usd,
            subtotal_ves: new.subtotal.ves,
            delivery_usd: new.delivery.usd,
            delivery_ves: new.delivery.ves,
            fees_usd: new.fees.usd,
            fees_ves: new.fees.ves,
            surcharge_usd: new.surcharge.usd,
            surcharge_ves: new.surcharge.ves,
            total_usd: new.total.usd,
            total_ves: new.total.ves,
            rate_id: opening.rate.id,
            rate: opening.rate.rate,
            address: Json(opening.address.clone()),
            delivery: Json(new.delivery_option),
            customization: Json(opening.customization.clone()),
            reservation_id: new.reservation_id,
            payment_due_at: opening.payment_due_at,
            carrier: None,
            tracking_number: None,
            created_at: now,
            updated_at: now,
        };
        items.extend(new.lines.into_iter().map(|l| OrderItemRow {
            id: Uuid::now_v7(),
            order_id: order.id,
            product_id: l.product_id,
            sku: l.sku,
            name: l.name,
            image_url: l.image_url,
            quantity: l.quantity,
            unit_usd: l.unit.usd,
            unit_ves: l.unit.ves,
            line_usd: l.total.usd,
            line_ves: l.total.ves,
            status: ItemStatus::Reserved,
        }));
        let statuses = [
            ("status", order.status.as_str()),
            ("payment_status", order.payment_status.as_str()),
            ("shipping_status", order.shipping_status.as_str()),
        ];
        history.extend(statuses.into_iter().map(|(field, to)| HistoryRow {
            id: Uuid::now_v7(),
            order_id: order.id,
            field: field.into(),
            from_value: None,
            to_value: to.into(),
            actor_id: actor.user_id,
            actor_role: actor.role.into(),
            source: "buyer".into(),
            reason: "placed".into(),
            created_at: now,
        }));
        let placed = Message::OrderPlaced(outbox::OrderPlaced {
            order_id: order.id,
            number: String::new(),
            user_id: order.user_id,
            seller_id: order.seller_id,
            total_usd: order.total_usd,
            total_ves: order.total_ves,
        });
        events.push(placed.row().map_err(AppError::internal)?);
        rows.push(order);
    }
    let numbers = repo::insert_opened(conn, &rows, &items, &history, &events)?;
    for row in &mut rows {
        row.number = numbers
            .get(&row.id)
            .cloned()
            .ok_or_else(|| AppError::internal("an opened order has no number"))?;
    }
    Ok(rows)
}
