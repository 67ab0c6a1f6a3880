//! Read-only share links of a cart (`/carts/{id}/shares`,
//! `/shared/carts/{token}`) and copying a shared cart.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{CartResponse, respond};
use crate::carts::CartId;
use crate::carts::service::{self, Caller};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::ValidatedJson;
use crate::http::problem::Problem;

/// A new share link of a cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartShareResponse {
    /// The share id (to revoke it).
    pub id: Uuid,
    /// The token: anyone holding it can read the snapshot and copy it.
    pub token: String,
    /// The read-only path to give out.
    pub path: String,
    /// What the link shows.
    pub snapshot: crate::carts::SharedCart,
}

/// Body of `copy_shared_cart`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopySharedCartRequest {
    /// The cart to copy into (a guest sends its cart id with `X-Cart-Token`);
    /// default: the signed-in user's cart.
    pub cart_id: Option<Uuid>,
}

/// Shares a cart by a read-only link.
///
/// The owner or guest. The link shows the cart's lines and total as they are
/// now (a snapshot); the recipient can copy them into their own cart.
#[utoipa::path(
    tag = "carts",
    operation_id = "share_cart",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token")),
    responses(
        (status = 201, description = "The link", body = CartShareResponse),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/shares")]
pub async fn share_cart(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (share, token, snapshot) =
        db::run(&pool, move |c| service::share_cart(c, &caller, id.into())).await?;
    Ok(HttpResponse::Created().json(CartShareResponse {
        id: share,
        path: format!("/api/v1/shared/carts/{token}"),
        token,
        snapshot,
    }))
}

/// Revokes a cart's share link.
///
/// The link stops working at once.
#[utoipa::path(
    tag = "carts",
    operation_id = "revoke_cart_share",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("share_id" = Uuid, Path, description = "The share id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such cart or live share", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/carts/{cart_id}/shares/{share_id}")]
pub async fn revoke_cart_share(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (cart, share) = path.into_inner();
    db::run(&pool, move |c| {
        service::revoke_cart_share(c, &caller, cart.into(), share)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads a shared cart by its link token.
///
/// Public and read-only: the snapshot taken when the link was made.
#[utoipa::path(
    tag = "carts",
    operation_id = "get_shared_cart",
    security(()),
    params(("token" = String, Path, description = "The share token")),
    responses(
        (status = 200, description = "The snapshot", body = crate::carts::SharedCart),
        (status = 404, description = "No live share with this token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/shared/carts/{token}")]
pub async fn get_shared_cart(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> Result<web::Json<crate::carts::SharedCart>, AppError> {
    let token = path.into_inner();
    Ok(web::Json(
        db::run(&pool, move |c| service::shared_cart(c, &token)).await?,
    ))
}

/// Copies a shared cart into your own cart.
///
/// All lines or none, at today's prices and subject to the usual checks.
#[utoipa::path(
    tag = "carts",
    operation_id = "copy_shared_cart",
    security((), ("bearer_auth" = [])),
    request_body = CopySharedCartRequest,
    params(("token" = String, Path, description = "The share token"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token, with `cart_id`")),
    responses(
        (status = 200, description = "Your cart", body = CartResponse),
        (status = 404, description = "No live share, or the target cart is not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock or product unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/shared/carts/{token}/copy")]
pub async fn copy_shared_cart(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<String>,
    body: ValidatedJson<CopySharedCartRequest>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let target = body.into_inner().cart_id.map(CartId::from);
    let view = db::run(&pool, move |c| {
        service::copy_shared_cart(c, &caller, &token, target)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}
