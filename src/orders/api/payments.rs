//! HTTP DTOs and handlers for an order's payment: report, verify, reject,
//! collect, and the submissions as the order shows them.

use actix_web::{post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{OrderSummary, ReasonRequest, summary_of};
use crate::db::DbPool;
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::ValidatedJson;
use crate::http::problem::Problem;
use crate::orders::{OrderId, PaymentSubmissionRow, service};

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
        let decoded = if details.get("amount").is_some() {
            serde_json::from_value(details).map(Self::Collected)
        } else {
            serde_json::from_value(details).map(Self::Reported)
        };
        decoded.map_err(AppError::internal)
    }
}

impl TryFrom<PaymentSubmissionRow> for PaymentSubmissionResponse {
    type Error = AppError;

    fn try_from(p: PaymentSubmissionRow) -> Result<Self, AppError> {
        Ok(Self {
            id: p.id,
            method: p.method,
            details: PaymentDetails::of(p.details)?,
            duplicate_of: p.duplicate_of.map(Uuid::from),
            status: p.status,
            reason: p.reason,
            created_at: p.created_at,
        })
    }
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
    let id = OrderId::from(path.into_inner());
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
    let id = OrderId::from(path.into_inner());
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
    let id = OrderId::from(path.into_inner());
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
    let id = OrderId::from(path.into_inner());
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
