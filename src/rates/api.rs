//! HTTP handlers and DTOs for `/api/v1/exchange-rates`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::{RateRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::pagination::PageRequest;

/// A USD->VES exchange rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateResponse {
    /// Rate id.
    pub id: Uuid,
    /// Always `USD`.
    #[schema(example = "USD")]
    pub base_currency: String,
    /// Always `VES`.
    #[schema(example = "VES")]
    pub quote_currency: String,
    /// Bolívares per US dollar, as a decimal string.
    #[schema(value_type = String, example = "36.50")]
    pub rate: Decimal,
    /// From when the rate applies (RFC 3339, UTC).
    pub effective_at: DateTime<Utc>,
    /// Who published it.
    #[schema(example = "bcv")]
    pub source: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<RateRow> for RateResponse {
    fn from(r: RateRow) -> Self {
        Self {
            id: r.id,
            base_currency: r.base_currency,
            quote_currency: r.quote_currency,
            rate: r.rate.normalize(),
            effective_at: r.effective_at,
            source: r.source,
            created_at: r.created_at,
        }
    }
}

crate::page_type!(
    RatePage,
    RateResponse,
    "A page of exchange rates, newest first."
);

/// Body of `create_exchange_rate`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRateRequest {
    /// Bolívares per US dollar: a decimal string, positive, at most 8 decimals.
    #[serde(deserialize_with = "crate::http::fields::required_decimal")]
    #[schema(value_type = String, example = "36.50", pattern = r"^\d{1,10}(\.\d{1,8})?$")]
    pub rate: Decimal,
    /// From when it applies (default: now). At most 31 days ahead.
    pub effective_at: Option<DateTime<Utc>>,
    /// Who published it, 1 to 64 characters (`bcv`, `operator`).
    #[validate(
        length(min = 1, max = 64),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 64, example = "bcv")]
    pub source: String,
}

/// Query of `list_exchange_rates`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListRatesQuery {
    /// Only rates effective at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only rates effective before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Records a USD->VES exchange rate.
///
/// Admins only. Rates are history: they are never changed or deleted, and a
/// second rate with the same `effective_at` is refused.
#[utoipa::path(
    tag = "exchange-rates",
    operation_id = "create_exchange_rate",
    request_body = CreateRateRequest,
    responses(
        (status = 201, description = "The rate was recorded", body = RateResponse),
        (status = 403, description = "The caller is not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rate with this effective time exists (`duplicate_rate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/exchange-rates")]
pub async fn create_exchange_rate(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateRateRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = service::NewRate {
        rate: body.rate,
        effective_at: body.effective_at,
        source: body.source.trim().to_string(),
    };
    let row = db::run(&pool, move |c| service::post_rate(c, &user, new)).await?;
    Ok(HttpResponse::Created().json(RateResponse::from(row)))
}

/// Reads the exchange rate in effect now.
///
/// Public. The rate with the latest `effective_at` that is not in the
/// future; VES prices everywhere are computed with it.
#[utoipa::path(
    tag = "exchange-rates",
    operation_id = "get_current_exchange_rate",
    security(()),
    responses(
        (status = 200, description = "The rate in effect", body = RateResponse),
        (status = 404, description = "No rate has been posted yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/exchange-rates/current")]
pub async fn get_current_exchange_rate(
    pool: web::Data<DbPool>,
) -> Result<web::Json<RateResponse>, AppError> {
    let row = db::run(&pool, service::current_rate).await?;
    row.map(|r| web::Json(r.into()))
        .ok_or(AppError::NotFound("exchange rate"))
}

/// Lists the exchange-rate history, newest first.
///
/// Public. Filter by effective time with `from` (inclusive) and `to`
/// (exclusive); rates scheduled for the future are included.
#[utoipa::path(
    tag = "exchange-rates",
    operation_id = "list_exchange_rates",
    security(()),
    params(ListRatesQuery),
    responses((status = 200, description = "A page of rates", body = RatePage))
)]
#[get("/exchange-rates")]
pub async fn list_exchange_rates(
    pool: web::Data<DbPool>,
    query: crate::http::extract::Query<ListRatesQuery>,
) -> Result<web::Json<RatePage>, AppError> {
    let query = query.into_inner();
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from >= to
    {
        return Err(AppError::bad_parameter("to", "must be after from"));
    }
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let (rows, next_cursor) = db::run(&pool, move |c| {
        service::list_rates(c, query.from, query.to, &page)
    })
    .await?;
    Ok(web::Json(RatePage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
