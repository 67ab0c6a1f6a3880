//! HTTP DTOs and handlers for orders (`/api/v1/orders/{id}`), and the
//! order summaries the checkout confirmation shows.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::state::{OrderStatus, PaymentStatus, ShippingStatus};
use super::{HistoryRow, OrderItemRow, OrderRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::problem::Problem;
use crate::money::DualPrice;

/// An order's money and statuses.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    /// Order id.
    pub id: Uuid,
    /// Short number for phone and WhatsApp support.
    #[schema(example = "CN-001001")]
    pub number: String,
    /// The checkout it came from.
    pub checkout_id: Uuid,
    /// The seller who fulfils it.
    pub seller_id: Uuid,
    /// Main status.
    pub status: OrderStatus,
    /// Payment status.
    pub payment_status: PaymentStatus,
    /// Shipping status.
    pub shipping_status: ShippingStatus,
    /// The payment method's code.
    pub payment_method: String,
    /// Sum of the lines.
    pub subtotal: DualPrice,
    /// Delivery.
    pub delivery: DualPrice,
    /// Fees.
    pub fees: DualPrice,
    /// Payment surcharge.
    pub surcharge: DualPrice,
    /// Subtotal + delivery + fees + surcharge.
    pub total: DualPrice,
    /// The rate frozen at placement.
    #[schema(value_type = String, example = "36.5")]
    pub rate: Decimal,
    /// Unpaid orders are cancelled after this.
    pub payment_due_at: DateTime<Utc>,
    /// Where to follow the order.
    #[schema(example = "/api/v1/orders/0190f0c8-0000-7000-8000-000000000001")]
    pub tracking_path: String,
    /// When placed.
    pub created_at: DateTime<Utc>,
}

impl From<&OrderRow> for OrderSummary {
    fn from(o: &OrderRow) -> Self {
        let dp = |usd, ves| DualPrice { usd, ves };
        Self {
            id: o.id,
            number: o.number.clone(),
            checkout_id: o.checkout_id,
            seller_id: o.seller_id,
            status: o.status,
            payment_status: o.payment_status,
            shipping_status: o.shipping_status,
            payment_method: o.payment_method.clone(),
            subtotal: dp(o.subtotal_usd, o.subtotal_ves),
            delivery: dp(o.delivery_usd, o.delivery_ves),
            fees: dp(o.fees_usd, o.fees_ves),
            surcharge: dp(o.surcharge_usd, o.surcharge_ves),
            total: o.total(),
            rate: o.rate.normalize(),
            payment_due_at: o.payment_due_at,
            tracking_path: format!("/api/v1/orders/{}", o.id),
            created_at: o.created_at,
        }
    }
}

/// An order line.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderItemResponse {
    /// The product.
    pub product_id: Uuid,
    /// SKU when ordered.
    pub sku: String,
    /// Name when ordered.
    pub name: String,
    /// Picture when ordered.
    pub image_url: Option<String>,
    /// Units.
    pub quantity: i32,
    /// Unit price.
    pub unit_price: DualPrice,
    /// Line total.
    pub line_total: DualPrice,
}

impl From<OrderItemRow> for OrderItemResponse {
    fn from(i: OrderItemRow) -> Self {
        Self {
            product_id: i.product_id,
            sku: i.sku,
            name: i.name,
            image_url: i.image_url,
            quantity: i.quantity,
            unit_price: DualPrice {
                usd: i.unit_usd,
                ves: i.unit_ves,
            },
            line_total: DualPrice {
                usd: i.line_usd,
                ves: i.line_ves,
            },
        }
    }
}

/// One entry of the status timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// `status`, `payment_status` or `shipping_status`.
    pub field: String,
    /// Before (absent at placement).
    pub from: Option<String>,
    /// After.
    pub to: String,
    /// Who (absent for jobs).
    pub actor_id: Option<Uuid>,
    /// In which role.
    pub actor_role: String,
    /// `buyer`, `seller`, `operator`, `system` or `override`.
    pub source: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<HistoryRow> for TimelineEntry {
    fn from(h: HistoryRow) -> Self {
        Self {
            field: h.field,
            from: h.from_value,
            to: h.to_value,
            actor_id: h.actor_id,
            actor_role: h.actor_role,
            source: h.source,
            reason: h.reason,
            at: h.created_at,
        }
    }
}

/// An order with its lines, timeline, address, delivery and extras.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetails {
    /// Money and statuses.
    #[serde(flatten)]
    pub summary: OrderSummary,
    /// The lines.
    pub items: Vec<OrderItemResponse>,
    /// Every status change, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The delivery address as it was at placement.
    #[schema(value_type = Object)]
    pub address: serde_json::Value,
    /// The delivery option as it was at placement.
    #[schema(value_type = Object)]
    pub delivery: serde_json::Value,
    /// Gift options and notes.
    #[schema(value_type = Object)]
    pub customization: serde_json::Value,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    pub tracking_number: Option<String>,
}

/// Reads an order.
///
/// Its buyer, its seller, or an operator (404 for everyone else).
#[utoipa::path(tag = "orders", operation_id = "get_order",
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderDetails),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/orders/{order_id}")]
pub async fn get_order(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<OrderDetails>, AppError> {
    let id = path.into_inner();
    let (order, items, history) = db::run(&pool, move |c| service::get(c, &user, id)).await?;
    Ok(web::Json(OrderDetails {
        summary: (&order).into(),
        items: items.into_iter().map(Into::into).collect(),
        timeline: history.into_iter().map(Into::into).collect(),
        address: order.address,
        delivery: order.delivery,
        customization: order.customization,
        carrier: order.carrier,
        tracking_number: order.tracking_number,
    }))
}
