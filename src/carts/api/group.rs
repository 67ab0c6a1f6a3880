//! Group carts (`/group-carts`): create one, join by invite code, leave,
//! remove a participant, rotate the invite.

use actix_web::{HttpResponse, delete, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{CartResponse, etag, respond};
use crate::carts::service::{self};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;

/// A group cart with its invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupCartResponse {
    /// The cart.
    pub cart: CartResponse,
    /// Give this to participants; they send it to `join_group_cart`.
    pub invite_token: String,
}

/// A new invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteResponse {
    /// The new token; the previous one no longer works.
    pub invite_token: String,
}

/// Body of `join_group_cart`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinGroupCartRequest {
    /// The invitation token.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub invite_token: String,
}

/// Opens a group cart.
///
/// The caller owns it; participants join with the invitation token, add and
/// change their own lines, and see everyone's subtotals. Only the owner
/// checks out. The owner's personal cart is separate.
#[utoipa::path(tag = "group-carts", operation_id = "create_group_cart",
    responses((status = 201, description = "The group cart and its invitation", body = GroupCartResponse)))]
#[post("/group-carts")]
pub async fn create_group_cart(
    pool: web::Data<DbPool>,
    user: AuthUser,
) -> Result<HttpResponse, AppError> {
    let (view, token) = db::run(&pool, move |c| service::create_group_cart(c, &user)).await?;
    let cart = CartResponse::from(view);
    Ok(HttpResponse::Created()
        .insert_header(etag(cart.version))
        .json(GroupCartResponse {
            cart,
            invite_token: token,
        }))
}

/// Joins a group cart with its invitation token.
///
/// Joining again changes nothing. The cart's lines are then edited through
/// the usual cart endpoints.
#[utoipa::path(tag = "group-carts", operation_id = "join_group_cart", request_body = JoinGroupCartRequest,
    params(("cart_id" = Uuid, Path, description = "The group cart id")),
    responses(
        (status = 200, description = "The group cart", body = CartResponse),
        (status = 404, description = "No such group cart, a wrong token, or no longer active", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/group-carts/{cart_id}/join")]
pub async fn join_group_cart(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<JoinGroupCartRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let token = body.into_inner().invite_token;
    let view = db::run(&pool, move |c| {
        service::join_group_cart(c, &user, id.into(), &token)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

/// Leaves a group cart.
///
/// The member's lines leave with them. The owner cannot leave (409).
#[utoipa::path(tag = "group-carts", operation_id = "leave_group_cart",
    params(("cart_id" = Uuid, Path, description = "The group cart id")),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "No such group cart, or not a participant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner cannot leave", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/group-carts/{cart_id}/leave")]
pub async fn leave_group_cart(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| {
        service::leave_group_cart(c, &user, id.into())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a participant from a group cart.
///
/// The owner only; the participant's lines are removed too.
#[utoipa::path(tag = "group-carts", operation_id = "remove_group_cart_participant",
    params(("cart_id" = Uuid, Path, description = "The group cart id"), ("user_id" = Uuid, Path, description = "The participant")),
    responses(
        (status = 200, description = "The group cart", body = CartResponse),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group cart or participant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner cannot remove themselves", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/group-carts/{cart_id}/participants/{user_id}")]
pub async fn remove_group_cart_participant(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, member) = path.into_inner();
    let view = db::run(&pool, move |c| {
        service::remove_participant(c, &user, id.into(), member)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

/// Issues a new invitation token for a group cart.
///
/// The owner only; the previous token stops working.
#[utoipa::path(tag = "group-carts", operation_id = "rotate_group_cart_invite",
    params(("cart_id" = Uuid, Path, description = "The group cart id")),
    responses(
        (status = 200, description = "The new invitation", body = InviteResponse),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group cart, or not a participant", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/group-carts/{cart_id}/invite")]
pub async fn rotate_group_cart_invite(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<InviteResponse>, AppError> {
    let id = path.into_inner();
    let token = db::run(&pool, move |c| service::rotate_invite(c, &user, id.into())).await?;
    Ok(web::Json(InviteResponse {
        invite_token: token,
    }))
}
