//! The outbox: events written in the same transaction as the change they
//! describe, delivered at least once by a job (notifications come later).
//! This module owns every outbox row: the topics, each message's payload,
//! and the insert. Domains build a `Message` and either `enqueue` it or,
//! inside one of their combined statements, insert the `OutboxRow` that
//! `Message::row` makes (`INSERT INTO outbox SELECT * FROM
//! jsonb_populate_record(NULL::outbox, $n)`), so no domain spells the
//! outbox's columns or a payload.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::outbox;
use crate::ids::{OrderId, ProductId, SellerId};

crate::text_enum! {
    /// What happened, as the outbox's `topic` column stores it.
    pub enum Topic {
        /// A checkout placed an order (one per seller).
        OrderPlaced = "order.placed",
        /// One of an order's three statuses moved.
        OrderStatusChanged = "order.status_changed",
        /// A product's available stock fell to its threshold.
        LowStock = "inventory.low_stock",
        /// A webhook endpoint was disabled after failing persistently.
        EndpointDisabled = "webhook.endpoint_disabled",
    }
}

/// An event waiting for delivery.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    /// Event id.
    pub id: Uuid,
    /// What happened (`inventory.low_stock`).
    pub topic: String,
    /// The entity it is about.
    pub aggregate_id: Uuid,
    /// The event body.
    pub payload: serde_json::Value,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// Not before this time (retries back off).
    pub available_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last delivery error.
    pub last_error: Option<String>,
}

/// `order.placed`: one seller's order of a checkout.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderPlaced {
    /// The order.
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    /// Its number (`CN-001001`).
    // Drawn by the statement that writes the order and this event
    // (`orders::repo::insert_opened`), which adds it: empty until then.
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = true, example = "CN-001001")]
    pub number: String,
    /// The buyer.
    pub user_id: Uuid,
    /// The seller.
    #[schema(value_type = Uuid)]
    pub seller_id: SellerId,
    /// The total in USD.
    pub total_usd: Decimal,
    /// The total in bolívares at the order's frozen rate.
    pub total_ves: Decimal,
}

/// `order.status_changed`: one of the order's statuses moved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusChanged {
    /// The order.
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    /// Its seller.
    #[schema(value_type = Uuid)]
    pub seller_id: SellerId,
    /// Its number.
    pub number: String,
    /// `status`, `payment_status` or `shipping_status`.
    pub field: String,
    /// The value before.
    pub from: String,
    /// The value now.
    pub to: String,
}

/// `inventory.low_stock`: an alert was raised.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LowStock {
    /// The alert.
    pub alert_id: Uuid,
    /// The product.
    #[schema(value_type = Uuid)]
    pub product_id: ProductId,
    /// Its seller.
    #[schema(value_type = Uuid)]
    pub seller_id: SellerId,
    /// Units available when raised.
    pub available: i32,
    /// The product's threshold.
    pub threshold: i32,
}

/// `webhook.endpoint_disabled`: an endpoint stopped receiving.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointDisabled {
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// Its seller, for a seller's endpoint.
    #[schema(value_type = Option<Uuid>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<SellerId>,
    /// Its URL.
    pub url: String,
    /// Why.
    pub reason: String,
}

/// An event, with the payload its topic carries.
#[derive(Debug, Clone)]
pub enum Message {
    /// `order.placed`.
    OrderPlaced(OrderPlaced),
    /// `order.status_changed`.
    OrderStatusChanged(StatusChanged),
    /// `inventory.low_stock`.
    LowStock(LowStock),
    /// `webhook.endpoint_disabled`.
    EndpointDisabled(EndpointDisabled),
}

impl Message {
    /// Its topic.
    pub fn topic(&self) -> Topic {
        match self {
            Self::OrderPlaced(_) => Topic::OrderPlaced,
            Self::OrderStatusChanged(_) => Topic::OrderStatusChanged,
            Self::LowStock(_) => Topic::LowStock,
            Self::EndpointDisabled(_) => Topic::EndpointDisabled,
        }
    }

    /// The entity it is about (the order, the product).
    pub fn aggregate_id(&self) -> Uuid {
        match self {
            Self::OrderPlaced(m) => m.order_id.uuid(),
            Self::OrderStatusChanged(m) => m.order_id.uuid(),
            Self::LowStock(m) => m.product_id.uuid(),
            Self::EndpointDisabled(m) => m.endpoint_id,
        }
    }

    /// The payload as stored.
    pub fn payload(&self) -> serde_json::Result<serde_json::Value> {
        match self {
            Self::OrderPlaced(m) => serde_json::to_value(m),
            Self::OrderStatusChanged(m) => serde_json::to_value(m),
            Self::LowStock(m) => serde_json::to_value(m),
            Self::EndpointDisabled(m) => serde_json::to_value(m),
        }
    }

    /// The outbox row that carries it, due now.
    pub fn row(&self) -> serde_json::Result<OutboxRow> {
        let now = crate::db::now();
        Ok(OutboxRow {
            id: Uuid::now_v7(),
            topic: self.topic().as_str().into(),
            aggregate_id: self.aggregate_id(),
            payload: self.payload()?,
            created_at: now,
            available_at: now,
            attempts: 0,
            delivered_at: None,
            last_error: None,
        })
    }
}

/// Writes an event in the caller's transaction.
pub fn enqueue(conn: &mut PgConnection, message: &Message) -> Result<(), crate::error::AppError> {
    let row = message.row().map_err(crate::error::AppError::internal)?;
    diesel::insert_into(outbox::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}
