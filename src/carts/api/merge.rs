//! Guest merge (`POST /carts/merge`): after login, a guest cart joins the
//! user’s cart; every cap is reported.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{CartResponse, etag};
use crate::carts::service::{self, Adjustment, CartPolicy};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;

/// Body of `merge_cart`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The guest cart to merge.
    pub guest_cart_id: Uuid,
    /// Its token.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub guest_token: String,
}

/// A cap applied while merging.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeAdjustment {
    /// The product.
    pub product_id: Uuid,
    /// Units the two carts held together.
    pub requested: i32,
    /// Units in the merged cart.
    pub merged_quantity: i32,
    /// `max_per_order`, `stock`, `unavailable` or `line_limit` (the cart already holds its maximum of lines).
    pub reason: String,
}

impl From<Adjustment> for MergeAdjustment {
    fn from(a: Adjustment) -> Self {
        Self {
            product_id: a.product_id.uuid(),
            requested: a.requested,
            merged_quantity: a.merged_quantity,
            reason: a.reason.into(),
        }
    }
}

/// The answer of `merge_cart`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeResponse {
    /// The user's cart after the merge.
    pub cart: CartResponse,
    /// Every quantity that was capped.
    pub adjustments: Vec<MergeAdjustment>,
    /// True when this guest cart had been merged already (nothing changed).
    pub already_merged: bool,
}

/// Merges a guest cart into the signed-in user's cart.
///
/// Call it after login with the guest cart's id and token. Same products add
/// up, capped by the per-order maximum and what is available; `adjustments`
/// reports every cap. The guest token stops working. Repeating the call
/// changes nothing (`already_merged`).
#[utoipa::path(
    tag = "carts",
    operation_id = "merge_cart",
    request_body = MergeRequest,
    responses(
        (status = 200, description = "The user's cart after the merge", body = MergeResponse),
        (status = 404, description = "No such guest cart, wrong token, or no longer active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/merge")]
pub async fn merge_cart(
    pool: web::Data<DbPool>,
    policy: web::Data<CartPolicy>,
    user: AuthUser,
    body: ValidatedJson<MergeRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let (view, adjustments, already) = db::run(&pool, move |c| {
        service::merge(c, &user, **policy, b.guest_cart_id.into(), &b.guest_token)
    })
    .await?;
    let cart = CartResponse::from(view);
    Ok(HttpResponse::Ok()
        .insert_header(etag(cart.version))
        .json(MergeResponse {
            cart,
            adjustments: adjustments.into_iter().map(Into::into).collect(),
            already_merged: already,
        }))
}
