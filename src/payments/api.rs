//! HTTP handlers and DTOs for `/api/v1/payment-methods`.

use actix_web::{get, patch, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{Currency, MethodCode, PaymentMethodRow, service};
use crate::db::{self, DbPool};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;

/// A payment method.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodResponse {
    /// Which method.
    pub code: MethodCode,
    /// Name shown to buyers.
    pub name: String,
    /// The currency paid in.
    pub currency: Currency,
    /// What the buyer must do.
    pub instructions: String,
    /// Surcharge on the order total, percent (`3` for the IGTF).
    #[schema(value_type = String, example = "3")]
    pub surcharge_percent: Decimal,
    /// Minutes an unpaid order waits before it is cancelled.
    pub payment_window_minutes: i32,
    /// Offered now.
    pub active: bool,
}

impl From<PaymentMethodRow> for PaymentMethodResponse {
    fn from(r: PaymentMethodRow) -> Self {
        Self {
            code: r.code,
            name: r.name,
            currency: r.currency,
            instructions: r.instructions,
            surcharge_percent: r.surcharge_percent.normalize(),
            payment_window_minutes: r.payment_window_minutes,
            active: r.active,
        }
    }
}

/// Payment methods.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodList {
    /// By code.
    pub items: Vec<PaymentMethodResponse>,
}

/// Body of `update_payment_method`; absent fields are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePaymentMethodRequest {
    /// Name shown to buyers, 1 to 80 characters.
    #[validate(length(min = 1, max = 80))]
    #[schema(min_length = 1, max_length = 80)]
    pub name: Option<String>,
    /// Instructions, up to 2000 characters.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub instructions: Option<String>,
    /// Surcharge percent, a decimal string from 0 to 100.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>, example = "3")]
    pub surcharge_percent: Option<Decimal>,
    /// Payment window in minutes, 5 to 20160 (14 days).
    #[validate(range(min = 5, max = 20160))]
    #[schema(minimum = 5, maximum = 20160)]
    pub payment_window_minutes: Option<i32>,
    /// Offer it or not.
    pub active: Option<bool>,
}

/// Lists the payment methods offered now.
///
/// Public: inactive methods (such as card until a provider is configured)
/// are not listed.
#[utoipa::path(tag = "payments", operation_id = "list_payment_methods", security(()),
    responses((status = 200, description = "The methods", body = PaymentMethodList)))]
#[get("/payment-methods")]
pub async fn list_payment_methods(
    pool: web::Data<DbPool>,
) -> Result<web::Json<PaymentMethodList>, AppError> {
    let rows = db::run(&pool, service::active).await?;
    Ok(web::Json(PaymentMethodList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Changes a payment method.
///
/// Admins: name, instructions, surcharge, payment window, active.
#[utoipa::path(tag = "payments", operation_id = "update_payment_method", request_body = UpdatePaymentMethodRequest,
    params(("code" = MethodCode, Path, description = "The method's code")),
    responses(
        (status = 200, description = "The method", body = PaymentMethodResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such method", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/payment-methods/{code}")]
pub async fn update_payment_method(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<MethodCode>,
    body: ValidatedJson<UpdatePaymentMethodRequest>,
) -> Result<web::Json<PaymentMethodResponse>, AppError> {
    let code = path.into_inner();
    let b = body.into_inner();
    if let Some(p) = b.surcharge_percent
        && (p < Decimal::ZERO || p > Decimal::ONE_HUNDRED || p.normalize().scale() > 3)
    {
        return Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors: vec![FieldError::new(
                "surcharge_percent",
                "must be from 0 to 100 with at most 3 decimals",
            )],
        });
    }
    let row = db::run(&pool, move |c| {
        service::update(c, &user, code, |row| {
            if let Some(v) = b.name {
                row.name = v;
            }
            if let Some(v) = b.instructions {
                row.instructions = v;
            }
            if let Some(v) = b.surcharge_percent {
                row.surcharge_percent = v;
            }
            if let Some(v) = b.payment_window_minutes {
                row.payment_window_minutes = v;
            }
            if let Some(v) = b.active {
                row.active = v;
            }
            Ok(())
        })
    })
    .await?;
    Ok(web::Json(row.into()))
}
