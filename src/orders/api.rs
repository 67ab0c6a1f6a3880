//! HTTP DTOs and handlers for orders (`/api/v1/orders/{id}`), and the
//! order summaries the checkout confirmation shows.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::state::{OrderStatus, PaymentStatus, ShippingStatus};
use super::{HistoryRow, OrderItemRow, OrderRow, PaymentSubmissionRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::ValidatedJson;
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
    /// Payments the buyer reported, oldest first.
    pub payments: Vec<PaymentSubmissionResponse>,
}

/// A payment the buyer reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSubmissionResponse {
    /// Submission id.
    pub id: Uuid,
    /// The method's code.
    pub method: String,
    /// What the buyer sent.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Another order that already used this reference (method and bank): check before verifying.
    pub duplicate_of: Option<Uuid>,
    /// `submitted`, `verified` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: String,
    /// When reported.
    pub created_at: DateTime<Utc>,
}

impl From<PaymentSubmissionRow> for PaymentSubmissionResponse {
    fn from(p: PaymentSubmissionRow) -> Self {
        Self {
            id: p.id,
            method: p.method,
            details: p.details,
            duplicate_of: p.duplicate_of,
            status: p.status,
            reason: p.reason,
            created_at: p.created_at,
        }
    }
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
    let (order, items, history, payments) = db::run(&pool, move |c| {
        let (order, items, history) = service::get(c, &user, id)?;
        Ok((order, items, history, service::submissions(c, id)?))
    })
    .await?;
    Ok(web::Json(OrderDetails {
        summary: (&order).into(),
        items: items.into_iter().map(Into::into).collect(),
        timeline: history.into_iter().map(Into::into).collect(),
        address: order.address,
        delivery: order.delivery,
        customization: order.customization,
        carrier: order.carrier,
        tracking_number: order.tracking_number,
        payments: payments.into_iter().map(Into::into).collect(),
    }))
}

/// Body of `report_payment`: the fields the order's method needs.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportPaymentRequest {
    /// The paying bank (Pago Móvil, transfer).
    #[validate(length(max = 60))]
    #[schema(max_length = 60, example = "Banesco")]
    pub bank: Option<String>,
    /// The paying phone (Pago Móvil).
    #[schema(example = "0414-1234567")]
    pub phone: Option<String>,
    /// The payer's cédula or RIF (Pago Móvil).
    #[schema(example = "V-12345678")]
    pub national_id: Option<String>,
    /// The reference or Zelle confirmation code, 1 to 64 characters.
    #[schema(max_length = 64, example = "00123456789")]
    pub reference: String,
    /// The sender's name (Zelle).
    #[validate(length(max = 120))]
    #[schema(max_length = 120)]
    pub sender: Option<String>,
    /// The day of the transfer (transfer).
    pub paid_on: Option<chrono::NaiveDate>,
}

/// Body of `reject_payment` and `cancel_order`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why (required for rejections, and for cancellations by sellers and operators).
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub reason: String,
}

async fn summary_of(
    pool: &web::Data<DbPool>,
    f: impl FnOnce(&mut diesel::PgConnection) -> Result<OrderRow, AppError> + Send + 'static,
) -> Result<web::Json<OrderSummary>, AppError> {
    let order = db::run(pool, f).await?;
    Ok(web::Json((&order).into()))
}

/// Reports a payment for the order (the buyer).
///
/// Pago Móvil needs bank, phone, national id and reference; transfer, bank,
/// reference and date; Zelle, sender and confirmation code. The order then
/// awaits verification. A reference already used on another order with the
/// same method and bank is accepted but flagged (`duplicate_of`).
#[utoipa::path(tag = "orders", operation_id = "report_payment", request_body = ReportPaymentRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not the buyer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not payable now, or a method paid otherwise (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/payments")]
pub async fn report_payment(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<ReportPaymentRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let report = service::PaymentReport {
        bank: b.bank,
        phone: b.phone,
        national_id: b.national_id,
        reference: b.reference,
        sender: b.sender,
        paid_on: b.paid_on,
    };
    summary_of(&pool, move |c| {
        service::submit_payment(c, &user, id, report)
    })
    .await
}

/// Confirms the reported payment (the seller or an operator).
///
/// The payment becomes `paid`, the held stock is sold, and the order moves
/// to `processing`.
#[utoipa::path(tag = "orders", operation_id = "verify_payment",
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not the seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to verify, or the order changed (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/payments/verify")]
pub async fn verify_payment(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    summary_of(&pool, move |c| service::verify_payment(c, &user, id)).await
}

/// Rejects the reported payment with a reason (the seller or an operator).
///
/// The buyer may report the payment again.
#[utoipa::path(tag = "orders", operation_id = "reject_payment", request_body = ReasonRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not the seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to reject (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/payments/reject")]
pub async fn reject_payment(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<ReasonRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    let reason = body.into_inner().reason;
    summary_of(&pool, move |c| {
        service::reject_payment(c, &user, id, &reason)
    })
    .await
}

/// Cancels an order.
///
/// The buyer while it awaits payment; the seller or an operator, with a
/// reason, until it ships. Held stock is released; sold stock returns on hand.
#[utoipa::path(tag = "orders", operation_id = "cancel_order", request_body = ReasonRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The cancelled order", body = OrderSummary),
        (status = 403, description = "Not allowed for this caller now (e.g. a buyer after payment)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already shipped, completed or cancelled (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/cancel")]
pub async fn cancel_order(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<ReasonRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    let reason = body.into_inner().reason;
    summary_of(&pool, move |c| service::cancel(c, &user, id, &reason)).await
}
