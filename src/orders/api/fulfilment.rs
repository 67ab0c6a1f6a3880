//! HTTP DTOs and the handler of an order's shipping steps.

use actix_web::{post, web};
use serde::Deserialize;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{OrderSummary, summary_of};
use crate::db::DbPool;
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::ValidatedJson;
use crate::http::problem::Problem;
use crate::orders::state::ShippingStatus;
use crate::orders::{OrderId, service};

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
    let id = OrderId::from(path.into_inner());
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
