//! HTTP handlers and DTOs for inventory: stock levels and movements
//! (`/inventory/{product_id}`) and availability here; reservations
//! (`api/reservations.rs`) and low-stock alerts (`api/alerts.rs`) beside,
//! re-exported so the route table names every handler as `inventory::api::x`.

mod alerts;
mod reservations;

pub use alerts::*;
pub use reservations::*;

use actix_web::{get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::repo::MovementFilter;
use super::service::{self, SetLevels};
use super::{MovementReason, MovementRow, OwnerType, ReservationStatus, StockRow};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::pagination::PageRequest;

/// A product's stock figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockResponse {
    /// The product.
    pub product_id: Uuid,
    /// Units physically held.
    pub on_hand: i32,
    /// Units held by active reservations.
    pub reserved: i32,
    /// Units never sold.
    pub safety_stock: i32,
    /// `on_hand - reserved - safety_stock`, never negative.
    pub available: i32,
    /// A low-stock alert is raised when `available` drops to or below this.
    pub low_stock_threshold: i32,
    /// When the figures last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<StockRow> for StockResponse {
    fn from(s: StockRow) -> Self {
        Self {
            product_id: s.product_id.uuid(),
            on_hand: s.on_hand,
            reserved: s.reserved,
            safety_stock: s.safety_stock,
            available: s.available(),
            low_stock_threshold: s.low_stock_threshold,
            updated_at: s.updated_at,
        }
    }
}

fn some_level(r: &SetStockRequest) -> Result<(), ValidationError> {
    if r.on_hand.is_none() && r.safety_stock.is_none() && r.low_stock_threshold.is_none() {
        let mut e = ValidationError::new("empty");
        e.message = Some("give on_hand, safety_stock or low_stock_threshold".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// Body of `set_stock`: absolute levels; absent ones are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "some_level", skip_on_field_errors = false))]
pub struct SetStockRequest {
    /// Units counted on hand (recorded as a `correction`); cannot go below the reserved units.
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub on_hand: Option<i32>,
    /// Units never sold.
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub safety_stock: Option<i32>,
    /// Alert threshold on available units.
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub low_stock_threshold: Option<i32>,
    /// Outside reference, such as a stocktake id.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub reference: Option<String>,
    /// Free text for the ledger.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Reasons a seller or admin may give for an adjustment.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// Damage, loss, found units.
    Adjustment,
    /// A miscount fixed.
    Correction,
    /// Sold units came back.
    Return,
}

impl From<AdjustmentReason> for MovementReason {
    fn from(r: AdjustmentReason) -> Self {
        match r {
            AdjustmentReason::Adjustment => Self::Adjustment,
            AdjustmentReason::Correction => Self::Correction,
            AdjustmentReason::Return => Self::Return,
        }
    }
}

fn non_zero(delta: i32) -> Result<(), ValidationError> {
    if delta == 0 {
        let mut e = ValidationError::new("zero");
        e.message = Some("must not be 0".into());
        Err(e)
    } else {
        Ok(())
    }
}

/// Body of `adjust_stock`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStockRequest {
    /// Units to add (positive) or remove (negative); reserved units cannot be removed.
    #[validate(range(min = -100_000_000, max = 100_000_000), custom(function = "non_zero"))]
    #[schema(minimum = -100_000_000, maximum = 100_000_000)]
    pub delta: i32,
    /// Why.
    pub reason: AdjustmentReason,
    /// Outside reference.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub reference: Option<String>,
    /// Free text for the ledger.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Body of `restock`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockRequest {
    /// Units received.
    #[validate(range(min = 1, max = 100_000_000))]
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub quantity: i32,
    /// The supplier invoice or delivery note.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "FAC-000123")]
    pub reference: Option<String>,
    /// Free text for the ledger.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// One entry of the stock ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementResponse {
    /// Entry id (time-ordered).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Change of `on_hand`.
    pub on_hand_delta: i32,
    /// Change of `reserved`.
    pub reserved_delta: i32,
    /// `on_hand` afterwards.
    pub on_hand_after: i32,
    /// `reserved` afterwards.
    pub reserved_after: i32,
    /// Why.
    pub reason: MovementReason,
    /// The reservation involved.
    pub reservation_id: Option<Uuid>,
    /// The owner's kind.
    pub owner_type: Option<OwnerType>,
    /// The owning checkout, cart or order.
    pub owner_id: Option<Uuid>,
    /// Outside reference.
    pub reference: Option<String>,
    /// Who (absent for jobs).
    pub actor_id: Option<Uuid>,
    /// In which role (`seller`, `admin`, `system`).
    pub actor_role: Option<String>,
    /// Free text.
    pub note: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<MovementRow> for MovementResponse {
    fn from(m: MovementRow) -> Self {
        Self {
            id: m.id,
            product_id: m.product_id.uuid(),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            on_hand_after: m.on_hand_after,
            reserved_after: m.reserved_after,
            reason: m.reason,
            reservation_id: m.reservation_id,
            owner_type: m.owner_type,
            owner_id: m.owner_id,
            reference: m.reference,
            actor_id: m.actor_id,
            actor_role: m.actor_role,
            note: m.note,
            created_at: m.created_at,
        }
    }
}

crate::page_type!(
    MovementPage,
    MovementResponse,
    "A page of stock movements, newest first."
);

/// Query of `list_stock_movements`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMovementsQuery {
    /// Only this reason.
    pub reason: Option<MovementReason>,
    /// Only movements at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only movements before this time.
    pub to: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Public availability of a product.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityStatus {
    /// More available than the low-stock threshold.
    InStock,
    /// Available, but at or below the threshold (`available` says how many).
    LowStock,
    /// Nothing available.
    OutOfStock,
    /// No such product, or not visible to the caller.
    Unknown,
}

/// Availability of one product. The product's seller and operators also get
/// the full figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityItem {
    /// The product.
    pub product_id: Uuid,
    /// In stock, low, out, or unknown.
    pub status: AvailabilityStatus,
    /// Units available: shown when low, or to the seller and operators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i32>,
    /// Full figures, for the seller and operators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<StockResponse>,
}

/// The answer of `check_availability`, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityResponse {
    /// One item per requested product id.
    pub items: Vec<AvailabilityItem>,
}

/// Query of `check_availability`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Comma-separated product ids, 1 to 100.
    #[param(example = "0190f0c8-0000-7000-8000-000000000001,0190f0c8-0000-7000-8000-000000000002")]
    pub product_ids: String,
}

/// Reads a product's stock figures.
///
/// The product's seller and operators. Products never stocked show zeros.
#[utoipa::path(
    tag = "inventory",
    operation_id = "get_stock",
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The stock figures", body = StockResponse),
        (status = 403, description = "Not the product's seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/inventory/{product_id}")]
pub async fn get_stock(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<StockResponse>, AppError> {
    let id = path.into_inner();
    let row = db::run(&pool, move |c| service::get_stock(c, &user, id.into())).await?;
    Ok(web::Json(row.into()))
}

/// Sets a product's stock levels.
///
/// The product's seller or an admin. `on_hand` is a counted figure: the
/// difference is recorded as a `correction` movement. Raising the threshold
/// above what is available raises an alert; lowering it below clears one.
#[utoipa::path(
    tag = "inventory",
    operation_id = "set_stock",
    request_body = SetStockRequest,
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The new figures", body = StockResponse),
        (status = 403, description = "Not the product's seller or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`on_hand` below the reserved units (`stock_conflict`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/inventory/{product_id}")]
pub async fn set_stock(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<SetStockRequest>,
) -> Result<web::Json<StockResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let cmd = SetLevels {
        on_hand: b.on_hand,
        safety_stock: b.safety_stock,
        low_stock_threshold: b.low_stock_threshold,
        reference: b.reference,
        note: b.note.unwrap_or_default(),
    };
    let row = db::run(&pool, move |c| {
        service::set_levels(c, &user, id.into(), cmd)
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Adjusts a product's units on hand by a delta.
///
/// The product's seller or an admin, with a reason (`adjustment`,
/// `correction`, `return`). Units held by reservations cannot be removed.
#[utoipa::path(
    tag = "inventory",
    operation_id = "adjust_stock",
    request_body = AdjustStockRequest,
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The new figures", body = StockResponse),
        (status = 403, description = "Not the product's seller or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would remove reserved units or exceed the maximum (`stock_conflict`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/inventory/{product_id}/adjustments")]
pub async fn adjust_stock(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<AdjustStockRequest>,
) -> Result<web::Json<StockResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let row = db::run(&pool, move |c| {
        service::adjust(
            c,
            &user,
            id.into(),
            b.delta,
            b.reason.into(),
            b.reference,
            b.note.unwrap_or_default(),
        )
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Records goods received for a product.
///
/// The product's seller or an admin. A restock that lifts availability above
/// the threshold clears the product's low-stock alert.
#[utoipa::path(
    tag = "inventory",
    operation_id = "restock_product",
    request_body = RestockRequest,
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The new figures", body = StockResponse),
        (status = 403, description = "Not the product's seller or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would exceed the maximum on hand (`stock_conflict`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/inventory/{product_id}/restocks")]
pub async fn restock(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<RestockRequest>,
) -> Result<web::Json<StockResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let row = db::run(&pool, move |c| {
        service::adjust(
            c,
            &user,
            id.into(),
            b.quantity,
            MovementReason::Restock,
            b.reference,
            b.note.unwrap_or_default(),
        )
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Lists a product's stock movements, newest first.
///
/// The product's seller and operators. The ledger replays to the current
/// figures: the sums of the deltas equal `on_hand` and `reserved`.
#[utoipa::path(
    tag = "inventory",
    operation_id = "list_stock_movements",
    params(("product_id" = Uuid, Path, description = "The product id"), ListMovementsQuery),
    responses(
        (status = 200, description = "A page of movements", body = MovementPage),
        (status = 403, description = "Not the product's seller or an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/inventory/{product_id}/movements")]
pub async fn list_stock_movements(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    query: crate::http::extract::Query<ListMovementsQuery>,
) -> Result<web::Json<MovementPage>, AppError> {
    let id = path.into_inner();
    let q = query.into_inner();
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(AppError::bad_parameter("to", "must be after from"));
    }
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let filter = MovementFilter {
        reason: q.reason,
        from: q.from,
        to: q.to,
        before_id: None,
    };
    let (rows, next_cursor) = db::run(&pool, move |c| {
        service::movements(c, &user, id.into(), filter, &page)
    })
    .await?;
    Ok(web::Json(MovementPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

fn parse_ids(raw: &str) -> Result<Vec<crate::ids::ProductId>, AppError> {
    let ids: Vec<crate::ids::ProductId> = raw
        .split(',')
        .map(|s| s.trim().parse::<crate::ids::ProductId>())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::bad_parameter("product_ids", "must be comma-separated UUIDs"))?;
    if ids.is_empty() || ids.len() > 100 {
        return Err(AppError::bad_parameter(
            "product_ids",
            "must list 1 to 100 ids",
        ));
    }
    Ok(ids)
}

/// Checks real-time availability of several products.
///
/// Public: `in_stock`, `low_stock` (with the count) or `out_of_stock`. The
/// product's seller and operators also get the full figures.
#[utoipa::path(
    tag = "inventory",
    operation_id = "check_availability",
    security((), ("bearer_auth" = [])),
    params(AvailabilityQuery),
    responses((status = 200, description = "Availability per product, in the order asked", body = AvailabilityResponse))
)]
#[get("/availability")]
pub async fn check_availability(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    query: crate::http::extract::Query<AvailabilityQuery>,
) -> Result<web::Json<AvailabilityResponse>, AppError> {
    let ids = parse_ids(&query.product_ids)?;
    let items = db::run(&pool, move |c| {
        service::availability(c, user.0.as_ref(), &ids)
    })
    .await?;
    Ok(web::Json(AvailabilityResponse {
        items: items
            .into_iter()
            .map(|a| {
                let Some(stock) = a.stock else {
                    return AvailabilityItem {
                        product_id: a.product_id.uuid(),
                        status: AvailabilityStatus::Unknown,
                        available: None,
                        stock: None,
                    };
                };
                let available = stock.available();
                let status = if available == 0 {
                    AvailabilityStatus::OutOfStock
                } else if available <= stock.low_stock_threshold {
                    AvailabilityStatus::LowStock
                } else {
                    AvailabilityStatus::InStock
                };
                AvailabilityItem {
                    product_id: a.product_id.uuid(),
                    status,
                    available: (a.full || matches!(status, AvailabilityStatus::LowStock))
                        .then_some(available),
                    stock: a.full.then(|| stock.into()),
                }
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_parse_and_are_bounded() {
        assert_eq!(
            parse_ids("0190f0c8-0000-7000-8000-000000000001")
                .unwrap()
                .len(),
            1
        );
        assert!(parse_ids("").is_err());
        assert!(parse_ids("x,y").is_err());
        let many = vec!["0190f0c8-0000-7000-8000-000000000001"; 101].join(",");
        assert!(parse_ids(&many).is_err());
    }
}
