//! HTTP handlers and DTOs for `/api/v1/wishlists` (signed-in users) and the
//! public read-only `/api/v1/shared/wishlists/{token}`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::service::{self, ItemView, ListSummary, ListView};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::inventory::api::AvailabilityStatus;
use crate::money::DualPrice;

/// A list in the user's overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistSummary {
    /// List id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The user's default list.
    pub is_default: bool,
    /// Shared by a link right now.
    pub shared: bool,
    /// Products on it.
    pub item_count: i64,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ListSummary> for WishlistSummary {
    fn from(s: ListSummary) -> Self {
        Self {
            id: s.list.id,
            name: s.list.name,
            is_default: s.list.is_default,
            shared: s.list.share_token_hash.is_some(),
            item_count: s.items,
            updated_at: s.list.updated_at,
        }
    }
}

/// The user's lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistList {
    /// Default first, then by name.
    pub items: Vec<WishlistSummary>,
}

/// A product on a list, as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistItemResponse {
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub name: Option<String>,
    /// Its picture.
    pub image_url: Option<String>,
    /// Its seller's shop name.
    pub seller_name: Option<String>,
    /// Its price now (VES absent until a rate exists).
    pub price: Option<DualPrice>,
    /// Whether it can be bought now.
    pub availability: AvailabilityStatus,
    /// When it was added to the list.
    pub added_at: DateTime<Utc>,
}

/// A list with its products.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistResponse {
    /// List id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The user's default list.
    pub is_default: bool,
    /// Products, newest first.
    pub items: Vec<WishlistItemResponse>,
}

fn item_response(i: ItemView, rate: Option<rust_decimal::Decimal>) -> WishlistItemResponse {
    let availability = match (&i.product, &i.stock) {
        (Some(p), Some(s)) if p.sellable => {
            let a = s.available();
            if a == 0 {
                AvailabilityStatus::OutOfStock
            } else if a <= s.low_stock_threshold {
                AvailabilityStatus::LowStock
            } else {
                AvailabilityStatus::InStock
            }
        }
        _ => AvailabilityStatus::Unknown,
    };
    let visible = i.product.filter(|p| p.sellable);
    WishlistItemResponse {
        product_id: i.item.product_id.uuid(),
        name: visible.as_ref().map(|p| p.product.name.clone()),
        image_url: visible.as_ref().and_then(|p| p.product.image_url.clone()),
        seller_name: visible.as_ref().map(|p| p.seller_name.clone()),
        price: visible
            .as_ref()
            .zip(rate)
            .map(|(p, r)| DualPrice::at_rate(p.product.price_usd, r)),
        availability,
        added_at: i.item.added_at,
    }
}

impl From<ListView> for WishlistResponse {
    fn from(v: ListView) -> Self {
        let rate = v.rate.map(|r| r.rate);
        Self {
            id: v.list.id,
            name: v.list.name,
            is_default: v.list.is_default,
            items: v
                .items
                .into_iter()
                .map(|i| item_response(i, rate))
                .collect(),
        }
    }
}

/// Body of `create_wishlist` and `rename_wishlist`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WishlistNameRequest {
    /// The list's name, 1 to 80 characters, unique per user.
    #[validate(
        length(min = 1, max = 80),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 80, example = "Para la casa")]
    pub name: String,
}

/// Body of `add_wishlist_item`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWishlistItemRequest {
    /// The product.
    pub product_id: Uuid,
}

/// A list's share link.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareLinkResponse {
    /// The token: anyone holding it can read (never change) the list.
    pub token: String,
    /// The read-only path to give out.
    pub path: String,
}

/// Lists the user's wishlists.
///
/// The default list is created on first use.
#[utoipa::path(tag = "wishlists", operation_id = "list_wishlists",
    responses((status = 200, description = "The user's lists", body = WishlistList)))]
#[get("/wishlists")]
pub async fn list_wishlists(
    pool: web::Data<DbPool>,
    user: AuthUser,
) -> Result<web::Json<WishlistList>, AppError> {
    let lists = db::run(&pool, move |c| service::list_wishlists(c, &user)).await?;
    Ok(web::Json(WishlistList {
        items: lists.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a named wishlist.
///
/// Names are unique per user, ignoring case; at most 50 lists.
#[utoipa::path(tag = "wishlists", operation_id = "create_wishlist", request_body = WishlistNameRequest,
    responses(
        (status = 201, description = "The new list", body = WishlistResponse),
        (status = 409, description = "The name is taken, or too many lists", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/wishlists")]
pub async fn create_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<WishlistNameRequest>,
) -> Result<HttpResponse, AppError> {
    let name = body.into_inner().name.trim().to_string();
    let list = db::run(&pool, move |c| {
        let row = service::create_wishlist(c, &user, name)?;
        service::get_wishlist(c, &user, row.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(WishlistResponse::from(list)))
}

/// Reads one of the user's wishlists with its products as they are now.
///
/// Prices in USD and VES at the current rate, and availability.
#[utoipa::path(tag = "wishlists", operation_id = "get_wishlist",
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 200, description = "The list", body = WishlistResponse),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/wishlists/{wishlist_id}")]
pub async fn get_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<WishlistResponse>, AppError> {
    let id = path.into_inner();
    let list = db::run(&pool, move |c| service::get_wishlist(c, &user, id)).await?;
    Ok(web::Json(list.into()))
}

/// Renames a wishlist.
///
/// The default list keeps its name (409).
#[utoipa::path(tag = "wishlists", operation_id = "rename_wishlist", request_body = WishlistNameRequest,
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 200, description = "The list", body = WishlistResponse),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken, or the default list", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/wishlists/{wishlist_id}")]
pub async fn rename_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<WishlistNameRequest>,
) -> Result<web::Json<WishlistResponse>, AppError> {
    let id = path.into_inner();
    let name = body.into_inner().name.trim().to_string();
    let list = db::run(&pool, move |c| service::rename_wishlist(c, &user, id, name)).await?;
    Ok(web::Json(list.into()))
}

/// Deletes a wishlist.
///
/// The default list cannot be deleted (409).
#[utoipa::path(tag = "wishlists", operation_id = "delete_wishlist",
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The default list", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/wishlists/{wishlist_id}")]
pub async fn delete_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| service::delete_wishlist(c, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a product to a wishlist.
///
/// Adding a product already on the list changes nothing.
#[utoipa::path(tag = "wishlists", operation_id = "add_wishlist_item", request_body = AddWishlistItemRequest,
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 200, description = "The list", body = WishlistResponse),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/wishlists/{wishlist_id}/items")]
pub async fn add_wishlist_item(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<AddWishlistItemRequest>,
) -> Result<web::Json<WishlistResponse>, AppError> {
    let id = path.into_inner();
    let product = body.into_inner().product_id;
    let list = db::run(&pool, move |c| {
        service::add_item(c, &user, Some(id), product.into())
    })
    .await?;
    Ok(web::Json(list.into()))
}

/// Removes a product from a wishlist.
///
/// 404 when the product is not on the list.
#[utoipa::path(tag = "wishlists", operation_id = "remove_wishlist_item",
    params(("wishlist_id" = Uuid, Path, description = "The list id"), ("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The list", body = WishlistResponse),
        (status = 404, description = "No such list or product on it", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/wishlists/{wishlist_id}/items/{product_id}")]
pub async fn remove_wishlist_item(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<WishlistResponse>, AppError> {
    let (id, product) = path.into_inner();
    let list = db::run(&pool, move |c| {
        service::remove_item(c, &user, id, product.into())
    })
    .await?;
    Ok(web::Json(list.into()))
}

/// Shares a wishlist by a read-only link.
///
/// Returns a new token; a previous link stops working.
#[utoipa::path(tag = "wishlists", operation_id = "share_wishlist",
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 200, description = "The link", body = ShareLinkResponse),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/wishlists/{wishlist_id}/share")]
pub async fn share_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<ShareLinkResponse>, AppError> {
    let id = path.into_inner();
    let token = db::run(&pool, move |c| service::share(c, &user, id)).await?;
    Ok(web::Json(ShareLinkResponse {
        path: format!("/api/v1/shared/wishlists/{token}"),
        token,
    }))
}

/// Stops sharing a wishlist.
///
/// The link stops working at once.
#[utoipa::path(tag = "wishlists", operation_id = "unshare_wishlist",
    params(("wishlist_id" = Uuid, Path, description = "The list id")),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 404, description = "No such list, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/wishlists/{wishlist_id}/share")]
pub async fn unshare_wishlist(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| service::unshare(c, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads a shared wishlist by its link token.
///
/// Public and read-only.
#[utoipa::path(tag = "wishlists", operation_id = "get_shared_wishlist", security(()),
    params(("token" = String, Path, description = "The share token")),
    responses(
        (status = 200, description = "The list", body = WishlistResponse),
        (status = 404, description = "No list is shared with this token", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/shared/wishlists/{token}")]
pub async fn get_shared_wishlist(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> Result<web::Json<WishlistResponse>, AppError> {
    let token = path.into_inner();
    let list = db::run(&pool, move |c| service::shared(c, &token)).await?;
    Ok(web::Json(list.into()))
}
