//! HTTP handlers and DTOs for `/api/v1/payment-methods`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{Currency, MethodCode, PaymentMethodRow, service};
use crate::db::{self, DbPool};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::http::extract::{AuthUser, MaybeAuthUser, ValidatedJson};
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

/// Query of `list_payment_methods`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPaymentMethodsQuery {
    /// `true` lists retired methods too (admins only).
    pub include_inactive: Option<bool>,
}

/// Lists the payment methods offered now.
///
/// Public: inactive methods (such as card until a provider is configured)
/// are not listed unless an admin asks with `include_inactive=true`.
#[utoipa::path(tag = "payments", operation_id = "list_payment_methods", security((), ("bearer_auth" = [])),
    params(ListPaymentMethodsQuery),
    responses(
        (status = 200, description = "The methods", body = PaymentMethodList),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`include_inactive` without a token, or a bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_inactive` by someone not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/payment-methods")]
pub async fn list_payment_methods(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    query: crate::http::extract::Query<ListPaymentMethodsQuery>,
) -> Result<web::Json<PaymentMethodList>, AppError> {
    let rows = if query.include_inactive == Some(true) {
        let admin = user.0.ok_or_else(|| {
            AppError::Unauthorized("include_inactive needs an admin's bearer token".into())
        })?;
        db::run(&pool, move |c| service::all(c, &admin)).await?
    } else {
        db::run(&pool, service::active).await?
    };
    Ok(web::Json(PaymentMethodList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Body of `create_payment_method`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentMethodRequest {
    /// Which kind of method: it decides what a buyer reports (Pago Móvil,
    /// transfer, Zelle) or that it is paid at delivery (cash).
    pub code: MethodCode,
    /// Name shown to buyers, 1 to 80 characters.
    #[validate(length(min = 1, max = 80))]
    #[schema(min_length = 1, max_length = 80, example = "Pago Móvil")]
    pub name: String,
    /// The currency paid in.
    pub currency: Currency,
    /// What the buyer must do, up to 2000 characters.
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub instructions: String,
    /// Surcharge percent, a decimal string from 0 to 100 (default 0).
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>, example = "3")]
    pub surcharge_percent: Option<Decimal>,
    /// Payment window in minutes, 5 to 20160 (for cash: the dispatch window).
    #[validate(range(min = 5, max = 20160))]
    #[schema(minimum = 5, maximum = 20160)]
    pub payment_window_minutes: i32,
    /// Offer it at once (default true).
    #[serde(default = "crate::http::fields::yes")]
    pub active: bool,
}

fn check_surcharge(p: Option<Decimal>) -> Result<(), AppError> {
    match p {
        Some(p) if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED || p.normalize().scale() > 3 => {
            Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors: vec![FieldError::new(
                    "surcharge_percent",
                    "must be from 0 to 100 with at most 3 decimals",
                )],
            })
        }
        _ => Ok(()),
    }
}

/// Adds a payment method (admins).
///
/// For a fresh marketplace: `canasta install-payment-methods` installs the
/// standard Venezuelan set; this adds one at a time. A code that exists is
/// 409 (change it with PATCH).
#[utoipa::path(tag = "payments", operation_id = "create_payment_method", request_body = CreatePaymentMethodRequest,
    responses(
        (status = 201, description = "The method", body = PaymentMethodResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code exists (`duplicate_payment_method`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/payment-methods")]
pub async fn create_payment_method(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreatePaymentMethodRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    check_surcharge(b.surcharge_percent)?;
    let new = service::NewMethod {
        code: b.code,
        name: b.name,
        currency: b.currency,
        instructions: b.instructions,
        surcharge_percent: b.surcharge_percent.unwrap_or_default(),
        payment_window_minutes: b.payment_window_minutes,
        active: b.active,
    };
    let row = db::run(&pool, move |c| service::create(c, &user, new)).await?;
    Ok(HttpResponse::Created().json(PaymentMethodResponse::from(row)))
}

/// Retires a payment method (admins).
///
/// It is no longer offered at checkout; orders already placed with it keep
/// it and go on as before. Offer it again with PATCH `{"active": true}`.
#[utoipa::path(tag = "payments", operation_id = "retire_payment_method",
    params(("code" = MethodCode, Path, description = "The method's code")),
    responses(
        (status = 200, description = "The retired method", body = PaymentMethodResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such method", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/payment-methods/{code}")]
pub async fn retire_payment_method(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<MethodCode>,
) -> Result<web::Json<PaymentMethodResponse>, AppError> {
    let code = path.into_inner();
    let row = db::run(&pool, move |c| {
        service::update(c, &user, code, |row| {
            row.active = false;
            Ok(())
        })
    })
    .await?;
    Ok(web::Json(row.into()))
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
    check_surcharge(b.surcharge_percent)?;
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
