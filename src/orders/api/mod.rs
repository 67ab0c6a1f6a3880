//! HTTP DTOs and handlers for orders (`/api/v1/orders/{id}`): the order,
//! its timeline, cancel and override, and the order summaries the checkout
//! confirmation shows. Each sub-resource has its own file, re-exported
//! here: `payments.rs`, `fulfilment.rs`, `lists.rs`.

mod fulfilment;
mod lists;
mod payments;

pub use fulfilment::*;
pub use lists::*;
pub use payments::*;

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::ValidatedJson;
use crate::http::problem::Problem;
use crate::money::DualPrice;
use crate::orders::state::{Action, OrderStatus, PaymentStatus, ShippingStatus};
use crate::orders::{HistoryRow, OrderId, OrderItemRow, OrderRow, service};

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
        let dp = DualPrice::new;
        Self {
            id: o.id.uuid(),
            number: o.number.clone(),
            checkout_id: o.checkout_id.uuid(),
            seller_id: o.seller_id.uuid(),
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
    /// Where the line stands (follows the order).
    pub status: super::state::ItemStatus,
}

impl From<OrderItemRow> for OrderItemResponse {
    fn from(i: OrderItemRow) -> Self {
        Self {
            product_id: i.product_id.uuid(),
            sku: i.sku,
            name: i.name,
            image_url: i.image_url,
            quantity: i.quantity.get(),
            unit_price: DualPrice::new(i.unit_usd, i.unit_ves),
            line_total: DualPrice::new(i.line_usd, i.line_ves),
            status: i.status,
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
    pub address: super::AddressSnapshot,
    /// The delivery option as it was at placement (its cost is `delivery`).
    pub delivery_option: super::DeliverySnapshot,
    /// Gift options and notes.
    pub customization: super::Customization,
    /// Carrier, once shipped.
    pub carrier: Option<String>,
    /// Tracking number, once shipped.
    pub tracking_number: Option<String>,
    /// Payments the buyer reported, oldest first.
    pub payments: Vec<PaymentSubmissionResponse>,
    /// What the caller may do to the order now, with the request to make.
    pub allowed_actions: Vec<ActionLink>,
}

/// An action the caller may take now, and the request that takes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionLink {
    /// The action.
    pub action: Action,
    /// HTTP method.
    #[schema(example = "POST")]
    pub method: &'static str,
    /// Path to call.
    #[schema(example = "/api/v1/orders/0190f0c8-0000-7000-8000-000000000001/cancel")]
    pub path: String,
    /// The fixed part of the body to send.
    pub body: ActionBody,
    /// Fields the caller adds to `body` before sending (described in the
    /// operation), e.g. `reason` when a seller cancels; empty when `body` is
    /// the whole request.
    #[schema(example = json!(["reason"]))]
    pub required_fields: Vec<&'static str>,
}

/// The fixed part of an action's request body.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ActionBody {
    /// The shipping status to set (shipping actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ShippingStep>,
}

impl ActionLink {
    /// The request that takes `action` on `order` for `viewer`.
    fn new(
        order: &OrderRow,
        option: &super::DeliverySnapshot,
        viewer: &crate::auth::Principal,
        action: Action,
    ) -> Self {
        use crate::payments::MethodCode;
        let base = format!("/api/v1/orders/{}", order.id);
        let shipping = |step: ShippingStep| ActionBody { status: Some(step) };
        let courier = option.by_courier();
        let has_carrier = option.carrier().is_some();
        let buyer = service::mover_of(viewer, order) == Some(super::state::Mover::Buyer);
        let (path, body, required_fields): (String, ActionBody, Vec<&'static str>) = match action {
            Action::ReportPayment => {
                let fields = match order.payment_method.parse::<MethodCode>() {
                    Ok(MethodCode::PagoMovil) => vec!["bank", "phone", "national_id", "reference"],
                    Ok(MethodCode::BankTransfer) => vec!["bank", "paid_on", "reference"],
                    Ok(MethodCode::Zelle) => vec!["sender", "reference"],
                    _ => vec!["reference"],
                };
                (format!("{base}/payments"), ActionBody::default(), fields)
            }
            Action::VerifyPayment => (
                format!("{base}/payments/verify"),
                ActionBody::default(),
                vec![],
            ),
            Action::RejectPayment => (
                format!("{base}/payments/reject"),
                ActionBody::default(),
                vec!["reason"],
            ),
            Action::CollectPayment => (
                format!("{base}/payments/collect"),
                ActionBody::default(),
                vec!["amount", "collected_by"],
            ),
            Action::Cancel => (
                format!("{base}/cancel"),
                ActionBody::default(),
                if buyer { vec![] } else { vec!["reason"] },
            ),
            Action::MarkPreparing => (
                format!("{base}/shipping"),
                shipping(ShippingStep::Preparing),
                vec![],
            ),
            Action::MarkShipped => (
                format!("{base}/shipping"),
                shipping(ShippingStep::Shipped),
                match (courier, has_carrier) {
                    (true, true) => vec!["tracking_number"],
                    (true, false) => vec!["carrier", "tracking_number"],
                    (false, _) => vec![],
                },
            ),
            Action::MarkInTransit => (
                format!("{base}/shipping"),
                shipping(ShippingStep::InTransit),
                vec![],
            ),
            Action::MarkDelivered => (
                format!("{base}/shipping"),
                shipping(ShippingStep::Delivered),
                vec![],
            ),
            Action::MarkReturned => (
                format!("{base}/shipping"),
                shipping(ShippingStep::Returned),
                vec!["reason"],
            ),
            Action::Override => (
                format!("{base}/override"),
                ActionBody::default(),
                vec!["field", "to", "reason"],
            ),
        };
        Self {
            action,
            method: "POST",
            path,
            body,
            required_fields,
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
    let id = OrderId::from(path.into_inner());
    let viewer = user.0.clone();
    let (order, items, history, payments, actions) = db::run(&pool, move |c| {
        let (order, items, history) = service::get(c, &user, id)?;
        let actions = service::actions_for(&user, &order);
        Ok((order, items, history, service::submissions(c, id)?, actions))
    })
    .await?;
    let delivery_option = order.delivery.0.clone();
    Ok(web::Json(OrderDetails {
        allowed_actions: actions
            .into_iter()
            .map(|a| ActionLink::new(&order, &delivery_option, &viewer, a))
            .collect(),
        summary: (&order).into(),
        items: items.into_iter().map(Into::into).collect(),
        timeline: history.into_iter().map(Into::into).collect(),
        address: order.address.0,
        delivery_option,
        customization: order.customization.0,
        carrier: order.carrier,
        tracking_number: order.tracking_number,
        payments: payments
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?,
    }))
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

pub(super) async fn summary_of(
    pool: &web::Data<DbPool>,
    f: impl FnOnce(&mut diesel::PgConnection) -> Result<OrderRow, AppError> + Send + 'static,
) -> Result<web::Json<OrderSummary>, AppError> {
    let order = db::run(pool, f).await?;
    Ok(web::Json((&order).into()))
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
    let id = OrderId::from(path.into_inner());
    let reason = body.into_inner().reason;
    summary_of(&pool, move |c| service::cancel(c, &user, id, &reason)).await
}

/// The status history of an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// The order.
    pub order_id: Uuid,
    /// Every status change, oldest first.
    pub entries: Vec<TimelineEntry>,
}

/// Reads an order's status timeline.
///
/// Every change of status, payment status and shipping status, with who
/// made it, in which role, from where (`buyer`, `seller`, `operator`,
/// `system`, `override`) and why.
#[utoipa::path(tag = "orders", operation_id = "get_order_timeline",
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/orders/{order_id}/timeline")]
pub async fn get_order_timeline(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<Timeline>, AppError> {
    let id = OrderId::from(path.into_inner());
    let history = db::run(&pool, move |c| service::timeline(c, &user, id)).await?;
    Ok(web::Json(Timeline {
        order_id: id.uuid(),
        entries: history.into_iter().map(Into::into).collect(),
    }))
}

/// Which status an override sets.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverrideField {
    /// The main status.
    Status,
    /// The payment status.
    PaymentStatus,
    /// The shipping status.
    ShippingStatus,
}

/// Body of `override_order`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// Which status.
    pub field: OverrideField,
    /// The value to set: one of that status's values.
    #[schema(example = "paid")]
    pub to: String,
    /// Why; kept in the timeline.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Sets a status outside the usual moves (admins, with a reason).
///
/// For corrections the usual moves cannot make. Recorded in the timeline
/// with source `override`. Overriding to `cancelled` releases or returns the
/// stock; overriding the payment to `paid` sells it. A cancelled order is
/// not reopened.
#[utoipa::path(tag = "orders", operation_id = "override_order", request_body = OverrideRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already that value, cancelled, or changed meanwhile (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/override")]
pub async fn override_order(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<OverrideRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = OrderId::from(path.into_inner());
    let b = body.into_inner();
    fn parse<T: std::str::FromStr>(
        to: &str,
        all: &[T],
        name: fn(&T) -> &str,
    ) -> Result<T, AppError> {
        to.parse().map_err(|_| {
            let values: Vec<&str> = all.iter().map(name).collect();
            AppError::invalid("to", format!("must be one of: {}", values.join(", ")))
        })
    }
    let target = match b.field {
        OverrideField::Status => {
            service::OverrideTarget::Order(parse(&b.to, OrderStatus::ALL, |s| s.as_str())?)
        }
        OverrideField::PaymentStatus => {
            service::OverrideTarget::Payment(parse(&b.to, PaymentStatus::ALL, |s| s.as_str())?)
        }
        OverrideField::ShippingStatus => {
            service::OverrideTarget::Shipping(parse(&b.to, ShippingStatus::ALL, |s| s.as_str())?)
        }
    };
    summary_of(&pool, move |c| {
        service::override_status(c, &user, id, target, &b.reason)
    })
    .await
}
