//! HTTP handlers and DTOs for `/api/v1/sellers`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::{SellerRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::pagination::PageRequest;

/// A seller as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SellerResponse {
    /// The seller id (the `seller_id` claim of its staff).
    pub id: Uuid,
    /// Public shop name.
    pub display_name: String,
    /// Inactive sellers' products are hidden from shoppers.
    pub active: bool,
    /// When the seller was created.
    pub created_at: DateTime<Utc>,
    /// When the seller last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<SellerRow> for SellerResponse {
    fn from(r: SellerRow) -> Self {
        Self {
            id: r.id.uuid(),
            display_name: r.display_name,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

crate::page_type!(SellerPage, SellerResponse, "A page of sellers.");

/// Body of `create_seller`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSellerRequest {
    /// The seller id issued by the identity service (the `seller_id` claim).
    pub id: Uuid,
    /// Public shop name, 1 to 120 characters.
    #[validate(
        length(min = 1, max = 120),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 120, example = "Bodegón La Esquina")]
    pub display_name: String,
    /// Whether the seller starts active (default true).
    #[serde(default = "crate::http::fields::yes")]
    #[schema(default = true)]
    pub active: bool,
}

/// Body of `update_seller`; absent fields are left unchanged.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSellerRequest {
    /// New public shop name, 1 to 120 characters.
    #[validate(
        length(min = 1, max = 120),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: Option<String>,
    /// Activate or deactivate the seller (admins only).
    pub active: Option<bool>,
}

/// Query of `list_sellers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSellersQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Creates a seller.
///
/// Admins only. The id must be the `seller_id` the identity service puts in
/// the seller staff's tokens.
#[utoipa::path(
    tag = "sellers",
    operation_id = "create_seller",
    request_body = CreateSellerRequest,
    responses(
        (status = 201, description = "The seller was created", body = SellerResponse),
        (status = 403, description = "The caller is not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A seller with this id exists (`duplicate_seller`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sellers")]
pub async fn create_seller(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateSellerRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = service::NewSeller {
        id: body.id.into(),
        display_name: body.display_name.trim().to_string(),
        active: body.active,
    };
    let seller = db::run(&pool, move |c| service::create_seller(c, &user, new)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/sellers/{}", seller.id)))
        .json(SellerResponse::from(seller)))
}

/// Lists all sellers, active or not, ordered by id.
///
/// Operators (admin, support) only.
#[utoipa::path(
    tag = "sellers",
    operation_id = "list_sellers",
    params(ListSellersQuery),
    responses(
        (status = 200, description = "A page of sellers", body = SellerPage),
        (status = 403, description = "The caller is not an operator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sellers")]
pub async fn list_sellers(
    pool: web::Data<DbPool>,
    user: AuthUser,
    query: crate::http::extract::Query<ListSellersQuery>,
) -> Result<web::Json<SellerPage>, AppError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let (rows, next_cursor) =
        db::run(&pool, move |c| service::list_sellers(c, &user, &page)).await?;
    Ok(web::Json(SellerPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Reads a seller.
///
/// Active sellers are public; an inactive seller is visible only to
/// operators and to the seller itself (404 for everyone else).
#[utoipa::path(
    tag = "sellers",
    operation_id = "get_seller",
    security((), ("bearer_auth" = [])),
    params(("seller_id" = Uuid, Path, description = "The seller id")),
    responses(
        (status = 200, description = "The seller", body = SellerResponse),
        (status = 404, description = "No such seller, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sellers/{seller_id}")]
pub async fn get_seller(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<SellerResponse>, AppError> {
    let id = path.into_inner();
    let seller = db::run(&pool, move |c| {
        service::get_seller(c, user.0.as_ref(), id.into())
    })
    .await?;
    Ok(web::Json(seller.into()))
}

/// Changes a seller's profile.
///
/// Admins change any seller; a seller may rename itself but only an admin
/// may change `active`.
#[utoipa::path(
    tag = "sellers",
    operation_id = "update_seller",
    request_body = UpdateSellerRequest,
    params(("seller_id" = Uuid, Path, description = "The seller id")),
    responses(
        (status = 200, description = "The updated seller", body = SellerResponse),
        (status = 403, description = "Not an admin and not this seller, or a seller changing `active`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such seller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/sellers/{seller_id}")]
pub async fn update_seller(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateSellerRequest>,
) -> Result<web::Json<SellerResponse>, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let name = body.display_name.map(|n| n.trim().to_string());
    let seller = db::run(&pool, move |c| {
        service::update_seller(c, &user, id.into(), name, body.active)
    })
    .await?;
    Ok(web::Json(seller.into()))
}
