//! HTTP handlers and DTOs for `/api/v1/fee-rules` (admins).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{FeeKind, FeeRuleRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;

/// A fee rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeRuleResponse {
    /// Rule id.
    pub id: Uuid,
    /// Stable code.
    pub code: String,
    /// Name shown to shoppers.
    pub name: String,
    /// `percent` of the subtotal or a `fixed` USD amount.
    pub kind: FeeKind,
    /// Percent (2.5 = 2.5%) or USD.
    #[schema(value_type = String, example = "2.5")]
    pub amount: Decimal,
    /// Applies only from this subtotal (USD).
    #[schema(value_type = Option<String>, example = "10.00")]
    pub min_subtotal_usd: Option<Decimal>,
    /// Inactive rules are ignored.
    pub active: bool,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<FeeRuleRow> for FeeRuleResponse {
    fn from(r: FeeRuleRow) -> Self {
        Self {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            amount: r.amount.normalize(),
            min_subtotal_usd: r.min_subtotal_usd,
            active: r.active,
            updated_at: r.updated_at,
        }
    }
}

/// All fee rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeRuleList {
    /// Rules by code.
    pub items: Vec<FeeRuleResponse>,
}

fn valid_code(code: &str) -> Result<(), validator::ValidationError> {
    let ok = code.split('_').all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    ok.then_some(()).ok_or_else(|| {
        let mut e = validator::ValidationError::new("code");
        e.message = Some("must be lowercase words joined by '_'".into());
        e
    })
}

/// Body of `create_fee_rule`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFeeRuleRequest {
    /// Stable code, lowercase words joined by `_`.
    #[validate(length(min = 1, max = 64), custom(function = "valid_code"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[a-z0-9]+(_[a-z0-9]+)*$",
        example = "service_fee"
    )]
    pub code: String,
    /// Name shown to shoppers.
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120, example = "Tarifa de servicio")]
    pub name: String,
    /// `percent` or `fixed`.
    pub kind: FeeKind,
    /// Percent (0 to 100) or USD (0 to 10000), a decimal string.
    #[serde(deserialize_with = "crate::http::fields::decimal")]
    #[validate(required)]
    #[schema(value_type = String, example = "2.5")]
    pub amount: Option<Decimal>,
    /// Applies only from this subtotal (USD), a decimal string.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>, example = "10.00")]
    pub min_subtotal_usd: Option<Decimal>,
    /// Starts active (default true).
    #[serde(default = "crate::http::fields::yes")]
    #[schema(default = true)]
    pub active: bool,
}

/// Body of `update_fee_rule`; absent fields are kept, `null` clears the minimum.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFeeRuleRequest {
    /// New name.
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    /// New amount, a decimal string.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    /// New minimum subtotal, or `null` for none.
    #[serde(default, deserialize_with = "crate::http::fields::nullable_decimal")]
    #[schema(value_type = Option<String>)]
    pub min_subtotal_usd: Option<Option<Decimal>>,
    /// Turn the rule on or off.
    pub active: Option<bool>,
}

/// Lists fee rules.
///
/// Operators (admin, support).
#[utoipa::path(
    tag = "fee-rules",
    operation_id = "list_fee_rules",
    responses(
        (status = 200, description = "All rules", body = FeeRuleList),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/fee-rules")]
pub async fn list_fee_rules(
    pool: web::Data<DbPool>,
    user: AuthUser,
) -> Result<web::Json<FeeRuleList>, AppError> {
    let rows = db::run(&pool, move |c| service::list_rules(c, &user)).await?;
    Ok(web::Json(FeeRuleList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a fee rule.
///
/// Admins. Active rules apply to every cart's subtotal.
#[utoipa::path(
    tag = "fee-rules",
    operation_id = "create_fee_rule",
    request_body = CreateFeeRuleRequest,
    responses(
        (status = 201, description = "The rule", body = FeeRuleResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/fee-rules")]
pub async fn create_fee_rule(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateFeeRuleRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let new = service::NewRule {
        code: b.code,
        name: b.name,
        kind: b.kind,
        amount: b.amount.unwrap_or_default(),
        min_subtotal_usd: b.min_subtotal_usd,
        active: b.active,
    };
    let row = db::run(&pool, move |c| service::create_rule(c, &user, new)).await?;
    Ok(HttpResponse::Created().json(FeeRuleResponse::from(row)))
}

/// Changes a fee rule.
///
/// Admins. Carts show the new fee on their next read.
#[utoipa::path(
    tag = "fee-rules",
    operation_id = "update_fee_rule",
    request_body = UpdateFeeRuleRequest,
    params(("fee_rule_id" = Uuid, Path, description = "The rule id")),
    responses(
        (status = 200, description = "The rule", body = FeeRuleResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/fee-rules/{fee_rule_id}")]
pub async fn update_fee_rule(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateFeeRuleRequest>,
) -> Result<web::Json<FeeRuleResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let row = db::run(&pool, move |c| {
        service::update_rule(c, &user, id, b.amount, b.min_subtotal_usd, b.active, b.name)
    })
    .await?;
    Ok(web::Json(row.into()))
}
