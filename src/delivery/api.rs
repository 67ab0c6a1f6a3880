//! HTTP handlers and DTOs for delivery options
//! (`/api/v1/sellers/{id}/delivery-options`, `/api/v1/delivery-options/{id}`)
//! and the delivery quote of a cart.

use actix_web::{HttpResponse, get, patch, post, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::service::{self, SellerQuote};
use super::{DeliveryKind, DeliveryOptionRow};
use crate::addresses::venezuela;
use crate::carts::service::Caller;
use crate::db::{self, DbPool};
use crate::error::{AppError, ErrorCode, FieldError};
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::money::{self, DualPrice};

/// A delivery option.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOptionResponse {
    /// Option id.
    pub id: Uuid,
    /// The seller offering it.
    pub seller_id: Uuid,
    /// How the goods travel.
    pub kind: DeliveryKind,
    /// Name shown to buyers.
    pub name: String,
    /// Courier name, if any.
    pub carrier: String,
    /// Fixed cost in USD.
    #[schema(value_type = String, example = "3.00")]
    pub base_cost_usd: Decimal,
    /// Cost per kilogram in USD.
    #[schema(value_type = String, example = "0.50")]
    pub per_kg_usd: Decimal,
    /// Free from this seller subtotal (USD).
    #[schema(value_type = Option<String>, example = "40.00")]
    pub free_above_usd: Option<Decimal>,
    /// States served (empty: all).
    pub states: Vec<String>,
    /// Municipalities served (empty: all in the states).
    pub municipalities: Vec<String>,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
    /// Offered now.
    pub active: bool,
}

impl From<DeliveryOptionRow> for DeliveryOptionResponse {
    fn from(r: DeliveryOptionRow) -> Self {
        Self {
            id: r.id,
            seller_id: r.seller_id.uuid(),
            kind: r.kind,
            name: r.name,
            carrier: r.carrier,
            base_cost_usd: r.base_cost_usd,
            per_kg_usd: r.per_kg_usd,
            free_above_usd: r.free_above_usd,
            states: r.states,
            municipalities: r.municipalities,
            min_days: r.min_days,
            max_days: r.max_days,
            active: r.active,
        }
    }
}

/// A seller's active options.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOptionList {
    /// Cheapest base cost first.
    pub items: Vec<DeliveryOptionResponse>,
}

/// Body of `create_delivery_option` (and, all optional, `update_delivery_option`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryOptionRequest {
    /// How the goods travel.
    pub kind: Option<DeliveryKind>,
    /// Name shown to buyers, 1 to 120 characters.
    #[schema(min_length = 1, max_length = 120, example = "Delivery en Caracas")]
    pub name: Option<String>,
    /// Courier name, up to 60 characters.
    #[schema(max_length = 60, example = "MRW")]
    pub carrier: Option<String>,
    /// Fixed cost in USD, a decimal string from 0 to 1000.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>, example = "3.00")]
    pub base_cost_usd: Option<Decimal>,
    /// Cost per kilogram in USD, a decimal string from 0 to 100.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[schema(value_type = Option<String>, example = "0.50")]
    pub per_kg_usd: Option<Decimal>,
    /// Free from this subtotal (USD), or `null` for never.
    #[serde(default, deserialize_with = "crate::http::fields::nullable_decimal")]
    #[schema(value_type = Option<String>, example = "40.00")]
    pub free_above_usd: Option<Option<Decimal>>,
    /// States served (empty: all), any case, accents optional.
    pub states: Option<Vec<String>>,
    /// Municipalities served, for local delivery (empty: all).
    pub municipalities: Option<Vec<String>>,
    /// Fewest days to deliver, 0 to 60.
    #[schema(minimum = 0, maximum = 60)]
    pub min_days: Option<i32>,
    /// Most days to deliver, at least `min_days`, at most 60.
    #[schema(minimum = 0, maximum = 60)]
    pub max_days: Option<i32>,
    /// Offer it or not.
    pub active: Option<bool>,
}

fn money_in(errors: &mut Vec<FieldError>, field: &str, v: Decimal, max: i64) -> Decimal {
    if v < Decimal::ZERO || v > Decimal::from(max) || v.normalize().scale() > 2 {
        errors.push(FieldError::new(
            field,
            format!("must be from 0 to {max} with at most 2 decimals"),
        ));
    }
    money::round_cents(v)
}

/// Applies a request to a row, checking every field; 422 lists all that are wrong.
fn apply(b: DeliveryOptionRequest, row: &mut DeliveryOptionRow) -> Result<(), AppError> {
    let mut errors = vec![];
    if let Some(kind) = b.kind {
        row.kind = kind;
    }
    if let Some(name) = b.name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 120 {
            errors.push(FieldError::new("name", "must have 1 to 120 characters"));
        }
        row.name = name;
    }
    if let Some(carrier) = b.carrier {
        if carrier.chars().count() > 60 {
            errors.push(FieldError::new(
                "carrier",
                "must have at most 60 characters",
            ));
        }
        row.carrier = carrier.trim().to_string();
    }
    if let Some(v) = b.base_cost_usd {
        row.base_cost_usd = money_in(&mut errors, "base_cost_usd", v, 1000);
    }
    if let Some(v) = b.per_kg_usd {
        row.per_kg_usd = money_in(&mut errors, "per_kg_usd", v, 100);
    }
    if let Some(v) = b.free_above_usd {
        row.free_above_usd = v.map(|v| money_in(&mut errors, "free_above_usd", v, 1_000_000));
        if row.free_above_usd.is_some_and(|v| v <= Decimal::ZERO) {
            errors.push(FieldError::new(
                "free_above_usd",
                "must be greater than 0, or null",
            ));
        }
    }
    if let Some(states) = b.states {
        let mut clean = vec![];
        for (i, s) in states.iter().enumerate() {
            match venezuela::state(s) {
                Some(name) if !clean.contains(&name.to_string()) => clean.push(name.to_string()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("states[{i}]"),
                    "is not a Venezuelan state",
                )),
            }
        }
        row.states = clean;
    }
    if let Some(m) = b.municipalities {
        if m.len() > 100
            || m.iter()
                .any(|x| x.trim().is_empty() || x.chars().count() > 80)
        {
            errors.push(FieldError::new(
                "municipalities",
                "at most 100 names of 1 to 80 characters",
            ));
        }
        row.municipalities = m.into_iter().map(|x| x.trim().to_string()).collect();
    }
    if let Some(v) = b.min_days {
        row.min_days = v;
    }
    if let Some(v) = b.max_days {
        row.max_days = v;
    }
    if !(0..=60).contains(&row.min_days) {
        errors.push(FieldError::new("min_days", "must be from 0 to 60"));
    }
    if row.max_days < row.min_days || row.max_days > 60 {
        errors.push(FieldError::new("max_days", "must be from min_days to 60"));
    }
    if let Some(active) = b.active {
        row.active = active;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors,
        })
    }
}

/// Lists a seller's active delivery options.
///
/// Public.
#[utoipa::path(tag = "delivery", operation_id = "list_delivery_options", security(()),
    params(("seller_id" = Uuid, Path, description = "The seller id")),
    responses((status = 200, description = "The options", body = DeliveryOptionList)))]
#[get("/sellers/{seller_id}/delivery-options")]
pub async fn list_delivery_options(
    pool: web::Data<DbPool>,
    path: web::Path<Uuid>,
) -> Result<web::Json<DeliveryOptionList>, AppError> {
    let seller = path.into_inner();
    let rows = db::run(&pool, move |c| service::list_for_seller(c, seller.into())).await?;
    Ok(web::Json(DeliveryOptionList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a delivery option for a seller.
///
/// The seller or an admin. `kind`, `name`, `base_cost_usd`, `min_days` and
/// `max_days` are required.
#[utoipa::path(tag = "delivery", operation_id = "create_delivery_option", request_body = DeliveryOptionRequest,
    params(("seller_id" = Uuid, Path, description = "The seller id")),
    responses(
        (status = 201, description = "The option", body = DeliveryOptionResponse),
        (status = 403, description = "Not this seller or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such seller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many options", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/sellers/{seller_id}/delivery-options")]
pub async fn create_delivery_option(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<DeliveryOptionRequest>,
) -> Result<HttpResponse, AppError> {
    let seller = path.into_inner();
    let b = body.into_inner();
    let mut missing = vec![];
    for (field, present) in [
        ("base_cost_usd", b.base_cost_usd.is_some()),
        ("kind", b.kind.is_some()),
        ("max_days", b.max_days.is_some()),
        ("min_days", b.min_days.is_some()),
        ("name", b.name.is_some()),
    ] {
        if !present {
            missing.push(FieldError::new(field, "is required"));
        }
    }
    if !missing.is_empty() {
        return Err(AppError::Validation {
            code: ErrorCode::ValidationFailed,
            errors: missing,
        });
    }
    let now = crate::db::now();
    let mut row = DeliveryOptionRow {
        id: Uuid::now_v7(),
        seller_id: seller.into(),
        kind: DeliveryKind::Pickup,
        name: String::new(),
        carrier: String::new(),
        base_cost_usd: Decimal::ZERO,
        per_kg_usd: Decimal::new(0, 2),
        free_above_usd: None,
        states: vec![],
        municipalities: vec![],
        min_days: 0,
        max_days: 0,
        active: true,
        created_at: now,
        updated_at: now,
    };
    apply(b, &mut row)?;
    let row = db::run(&pool, move |c| service::create(c, &user, row)).await?;
    Ok(HttpResponse::Created().json(DeliveryOptionResponse::from(row)))
}

/// Changes a delivery option.
///
/// Its seller or an admin; `active: false` stops offering it.
#[utoipa::path(tag = "delivery", operation_id = "update_delivery_option", request_body = DeliveryOptionRequest,
    params(("delivery_option_id" = Uuid, Path, description = "The option id")),
    responses(
        (status = 200, description = "The option", body = DeliveryOptionResponse),
        (status = 403, description = "Not its seller or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such option", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/delivery-options/{delivery_option_id}")]
pub async fn update_delivery_option(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<DeliveryOptionRequest>,
) -> Result<web::Json<DeliveryOptionResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let row = db::run(&pool, move |c| {
        service::update(c, &user, id, |row| apply(b, row))
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Body of `quote_cart_delivery`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// One of the caller's addresses.
    pub address_id: Uuid,
}

/// A priced delivery option.
#[derive(Debug, Serialize, ToSchema)]
pub struct PricedOptionResponse {
    /// The option.
    pub option: DeliveryOptionResponse,
    /// Its cost for this seller's part of the cart.
    pub cost: DualPrice,
}

/// One seller's part of the quote.
#[derive(Debug, Serialize, ToSchema)]
pub struct SellerQuoteResponse {
    /// The seller.
    pub seller_id: Uuid,
    /// Its shop name.
    pub seller_name: String,
    /// Its part of the cart subtotal.
    pub subtotal: DualPrice,
    /// The weight of its lines, kg.
    #[schema(value_type = String, example = "2.500")]
    pub weight_kg: Decimal,
    /// Options that reach the address, cheapest first (empty: none does).
    pub options: Vec<PricedOptionResponse>,
}

impl From<SellerQuote> for SellerQuoteResponse {
    fn from(q: SellerQuote) -> Self {
        Self {
            seller_id: q.seller_id.uuid(),
            seller_name: q.seller_name,
            subtotal: q.subtotal,
            weight_kg: q.weight_kg,
            options: q
                .options
                .into_iter()
                .map(|o| PricedOptionResponse {
                    option: o.option.into(),
                    cost: o.cost,
                })
                .collect(),
        }
    }
}

/// The answer of `quote_cart_delivery`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    /// One entry per seller in the cart.
    pub sellers: Vec<SellerQuoteResponse>,
}

/// Quotes delivery for a cart to one of the caller's addresses.
///
/// For each seller in the cart: the options that reach the address, priced
/// for that seller's lines (weight and subtotal) in USD and VES, with their
/// time estimates.
#[utoipa::path(tag = "delivery", operation_id = "quote_cart_delivery", request_body = QuoteRequest,
    params(("cart_id" = Uuid, Path, description = "The cart id")),
    responses(
        (status = 200, description = "The quote", body = QuoteResponse),
        (status = 404, description = "No such cart or address, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/carts/{cart_id}/delivery-quote")]
pub async fn quote_cart_delivery(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ValidatedJson<QuoteRequest>,
) -> Result<web::Json<QuoteResponse>, AppError> {
    let cart = path.into_inner();
    let address = body.into_inner().address_id;
    let quotes = db::run(&pool, move |c| {
        service::quote_cart(c, &caller, cart.into(), address)
    })
    .await?;
    Ok(web::Json(QuoteResponse {
        sellers: quotes.into_iter().map(Into::into).collect(),
    }))
}
