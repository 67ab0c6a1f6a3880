//! HTTP DTOs and handlers for orders (`/api/v1/orders/{id}`), and the
//! order summaries the checkout confirmation shows.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::Serialize;
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::state::{Action, OrderStatus, PaymentStatus, ShippingStatus};
use super::{HistoryRow, OrderItemRow, OrderRow, PaymentSubmissionRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::{ValidatedJson, check_query};
use crate::http::problem::Problem;
use crate::money::DualPrice;
use crate::pagination::PageRequest;

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
    /// Where the line stands (follows the order).
    pub status: super::state::ItemStatus,
}

impl From<OrderItemRow> for OrderItemResponse {
    fn from(i: OrderItemRow) -> Self {
        Self {
            product_id: i.product_id,
            sku: i.sku,
            name: i.name,
            image_url: i.image_url,
            quantity: i.quantity,
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

/// A payment the buyer reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSubmissionResponse {
    /// Submission id.
    pub id: Uuid,
    /// The method's code.
    pub method: String,
    /// What the buyer reported, or the cash the seller collected.
    pub details: PaymentDetails,
    /// Another order that already used this reference (method and bank): check before verifying.
    pub duplicate_of: Option<Uuid>,
    /// `submitted`, `verified` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: String,
    /// When reported.
    pub created_at: DateTime<Utc>,
}

/// What a buyer reported for a manual payment (the fields its method needs).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportedPayment {
    /// The paying bank, upper case (empty for Zelle).
    pub bank: String,
    /// The paying phone, E.164 (Pago Móvil).
    pub phone: Option<String>,
    /// The payer's cédula or RIF (Pago Móvil).
    pub national_id: Option<String>,
    /// The reference or confirmation code, as typed.
    pub reference: String,
    /// The sender's name (Zelle).
    pub sender: Option<String>,
    /// The day of the transfer (transfer).
    pub paid_on: Option<chrono::NaiveDate>,
}

/// Cash a seller or operator collected at delivery or pickup.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CollectedPayment {
    /// The amount, a decimal string.
    #[schema(example = "25.75")]
    pub amount: String,
    /// Its currency.
    pub currency: crate::payments::Currency,
    /// Who collected it.
    pub collected_by: String,
    /// Anything they noted.
    pub note: String,
}

/// A payment's details; `kind` tells which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentDetails {
    /// Reported by the buyer, checked by the seller or an operator.
    Reported(ReportedPayment),
    /// Collected at delivery or pickup.
    Collected(CollectedPayment),
}

impl PaymentDetails {
    fn of(details: serde_json::Value) -> Result<Self, AppError> {
        if details.get("amount").is_some() {
            snapshot(details).map(Self::Collected)
        } else {
            snapshot(details).map(Self::Reported)
        }
    }
}

impl TryFrom<PaymentSubmissionRow> for PaymentSubmissionResponse {
    type Error = AppError;

    fn try_from(p: PaymentSubmissionRow) -> Result<Self, AppError> {
        Ok(Self {
            id: p.id,
            method: p.method,
            details: PaymentDetails::of(p.details)?,
            duplicate_of: p.duplicate_of,
            status: p.status,
            reason: p.reason,
            created_at: p.created_at,
        })
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
    let viewer = user.0.clone();
    let (order, items, history, payments, actions) = db::run(&pool, move |c| {
        let (order, items, history) = service::get(c, &user, id)?;
        let actions = service::actions_for(&user, &order);
        Ok((order, items, history, service::submissions(c, id)?, actions))
    })
    .await?;
    let delivery_option = order.delivery_option()?;
    Ok(web::Json(OrderDetails {
        allowed_actions: actions
            .into_iter()
            .map(|a| ActionLink::new(&order, &delivery_option, &viewer, a))
            .collect(),
        summary: (&order).into(),
        items: items.into_iter().map(Into::into).collect(),
        timeline: history.into_iter().map(Into::into).collect(),
        address: snapshot(order.address)?,
        delivery_option,
        customization: snapshot(order.customization)?,
        carrier: order.carrier,
        tracking_number: order.tracking_number,
        payments: payments
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_, _>>()?,
    }))
}

/// A JSON snapshot frozen on the order, read back as its type.
fn snapshot<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(v).map_err(AppError::internal)
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

/// Body of `collect_payment`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectPaymentRequest {
    /// The amount collected, in the method's currency: the order's total (a decimal string such as "12.50").
    #[serde(deserialize_with = "crate::http::fields::required_decimal")]
    #[schema(value_type = String, example = "25.75")]
    pub amount: Decimal,
    /// Who collected it (the courier, the shop's clerk), 1 to 120 characters.
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120, example = "José (motorizado)")]
    pub collected_by: String,
    /// Anything worth keeping (change given, receipt number), up to 500 characters.
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Records the cash collected at delivery or pickup (the seller or an operator).
///
/// For methods paid at delivery (cash in USD): once the order is dispatched
/// (shipped, in transit or delivered), the seller records the amount, which
/// must be the order's total in the method's currency, and who collected it.
/// The payment becomes `paid`; a delivered order completes.
#[utoipa::path(tag = "orders", operation_id = "collect_payment", request_body = CollectPaymentRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not the seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not paid at delivery, not dispatched yet, or already paid (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/payments/collect")]
pub async fn collect_payment(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<CollectPaymentRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let collection = service::Collection {
        amount: b.amount,
        collected_by: b.collected_by,
        note: b.note,
    };
    summary_of(&pool, move |c| {
        service::collect_payment(c, &user, id, collection)
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

/// Whose orders `list_orders` shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderView {
    /// Orders the caller placed.
    Buyer,
    /// Orders of the seller the caller acts for.
    Seller,
    /// Every order (operators).
    All,
}

/// Query of `list_orders`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// Whose orders: default `all` for operators, `seller` for sellers, `buyer` otherwise.
    #[param(inline)]
    pub view: Option<OrderView>,
    /// Placed at or after (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// Main status.
    #[param(inline)]
    pub status: Option<OrderStatus>,
    /// Payment status.
    #[param(inline)]
    pub payment_status: Option<PaymentStatus>,
    /// Shipping status.
    #[param(inline)]
    pub shipping_status: Option<ShippingStatus>,
    /// One seller's orders.
    pub seller_id: Option<Uuid>,
    /// An order number (`CN-001042`, or a prefix such as `0010`) or part of a product name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An order in a list: money, statuses and lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderListItem {
    /// Money and statuses.
    #[serde(flatten)]
    pub summary: OrderSummary,
    /// The buyer.
    pub user_id: Uuid,
    /// The lines.
    pub items: Vec<OrderItemResponse>,
}

crate::page_type!(OrderPage, OrderListItem, "A page of orders, newest first.");

/// Lists orders, newest first.
///
/// Buyers see the orders they placed, sellers their shop's orders, operators
/// every order (`view` picks one of these when the caller has several roles).
/// Filters combine; `q` matches an order number prefix or a product name.
#[utoipa::path(tag = "orders", operation_id = "list_orders",
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A view the caller's roles do not allow", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/orders")]
pub async fn list_orders(
    pool: web::Data<DbPool>,
    user: AuthUser,
    query: crate::http::extract::Query<ListOrdersQuery>,
) -> Result<web::Json<OrderPage>, AppError> {
    let q = query.into_inner();
    check_query(&q)?;
    if let (Some(from), Some(to)) = (q.created_from, q.created_to)
        && from >= to
    {
        return Err(AppError::bad_parameter(
            "created_to",
            "must be after created_from",
        ));
    }
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let view = match q.view {
        Some(OrderView::Buyer) => service::View::Buyer,
        Some(OrderView::Seller) => service::View::Seller,
        Some(OrderView::All) => service::View::All,
        None => service::default_view(&user),
    };
    let filter = service::OrderFilter {
        view,
        created_from: q.created_from,
        created_to: q.created_to,
        status: q.status,
        payment_status: q.payment_status,
        shipping_status: q.shipping_status,
        seller_id: q.seller_id,
        q: q.q,
        page,
    };
    let (rows, next_cursor) = db::run(&pool, move |c| service::list(c, &user, &filter)).await?;
    Ok(web::Json(OrderPage {
        items: rows
            .into_iter()
            .map(|(o, lines)| OrderListItem {
                summary: (&o).into(),
                user_id: o.user_id,
                items: lines.into_iter().map(Into::into).collect(),
            })
            .collect(),
        next_cursor,
    }))
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
    let id = path.into_inner();
    let history = db::run(&pool, move |c| service::timeline(c, &user, id)).await?;
    Ok(web::Json(Timeline {
        order_id: id,
        entries: history.into_iter().map(Into::into).collect(),
    }))
}

/// Shipping statuses a seller or operator sets.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShippingStep {
    /// Packing.
    Preparing,
    /// Handed to the carrier (or ready for pickup).
    Shipped,
    /// On its way.
    InTransit,
    /// Received by the buyer: the order completes.
    Delivered,
    /// Came back (needs a reason).
    Returned,
}

impl From<ShippingStep> for ShippingStatus {
    fn from(s: ShippingStep) -> Self {
        match s {
            ShippingStep::Preparing => Self::Preparing,
            ShippingStep::Shipped => Self::Shipped,
            ShippingStep::InTransit => Self::InTransit,
            ShippingStep::Delivered => Self::Delivered,
            ShippingStep::Returned => Self::Returned,
        }
    }
}

/// Body of `update_shipping`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingRequest {
    /// The next shipping status.
    pub status: ShippingStep,
    /// The carrier (defaults to the delivery option's; required for couriers when shipped).
    #[validate(length(min = 1, max = 80))]
    #[schema(min_length = 1, max_length = 80, example = "MRW")]
    pub carrier: Option<String>,
    /// The carrier's tracking number (required for couriers when shipped).
    #[validate(length(min = 1, max = 80))]
    #[schema(min_length = 1, max_length = 80, example = "MRW-558812")]
    pub tracking_number: Option<String>,
    /// Why (required for `returned`).
    #[serde(default)]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Moves the shipment (the seller or an operator).
///
/// `preparing` -> `shipped` (courier deliveries need `carrier` and
/// `tracking_number`) -> `in_transit` -> `delivered`, which completes the
/// order; `returned` with a reason after transit or delivery. Only paid
/// orders in processing ship.
#[utoipa::path(tag = "orders", operation_id = "update_shipping", request_body = ShippingRequest,
    params(("order_id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order", body = OrderSummary),
        (status = 403, description = "Not the seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a next step from here, or not paid (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/orders/{order_id}/shipping")]
pub async fn update_shipping(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<ShippingRequest>,
) -> Result<web::Json<OrderSummary>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let update = service::ShippingUpdate {
        to: b.status.into(),
        carrier: b.carrier,
        tracking_number: b.tracking_number,
        reason: b.reason,
    };
    summary_of(&pool, move |c| {
        service::update_shipping(c, &user, id, update)
    })
    .await
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
    let id = path.into_inner();
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
