//! Lines between the cart and wishlists: move a cart line to a list, quick-
//! add a listed product to the cart.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{CartResponse, write_with};
use crate::carts::service::{self, Caller, CartPolicy};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, IfMatch, ValidatedJson};
use crate::http::problem::Problem;

/// Body of `move_cart_item_to_wishlist`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveToWishlistRequest {
    /// The list (default: the user's default list).
    pub wishlist_id: Option<Uuid>,
}

/// Moves a cart line to one of the user's wishlists.
///
/// Signed-in users only. The line leaves the cart; the product goes on the
/// list (the default list unless `wishlist_id` names another).
#[utoipa::path(
    tag = "carts",
    operation_id = "move_cart_item_to_wishlist",
    request_body = MoveToWishlistRequest,
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("item_id" = Uuid, Path, description = "The line id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart, line or list", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/items/{item_id}/move-to-wishlist")]
pub async fn move_cart_item_to_wishlist(
    pool: web::Data<DbPool>,
    policy: web::Data<CartPolicy>,
    if_match: IfMatch,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidatedJson<MoveToWishlistRequest>,
) -> Result<HttpResponse, AppError> {
    let (cart, item) = path.into_inner();
    let expected = if_match.expected()?;
    let list = body.into_inner().wishlist_id;
    let caller = Caller {
        principal: Some(user.0),
        cart_token: None,
        hold_seconds: policy.hold_seconds,
    };
    write_with(&pool, move |c| {
        service::move_to_wishlist(c, &caller, cart.into(), expected, item, list)
    })
    .await
}

/// Body of `add_wishlist_item_to_cart`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickAddRequest {
    /// Units to add to the cart (default 1).
    #[serde(default = "crate::http::fields::one")]
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000, default = 1)]
    pub quantity: i32,
}

/// Quick-adds a product from a wishlist to the user's cart.
///
/// The product stays on the list. The cart's usual checks apply (maximum
/// per order, stock, availability).
#[utoipa::path(tag = "wishlists", operation_id = "add_wishlist_item_to_cart", request_body = QuickAddRequest,
    params(("wishlist_id" = Uuid, Path, description = "The list id"), ("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The user's cart", body = CartResponse),
        (status = 404, description = "No such list or product on it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock or product unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/wishlists/{wishlist_id}/items/{product_id}/add-to-cart")]
pub async fn add_wishlist_item_to_cart(
    pool: web::Data<DbPool>,
    policy: web::Data<service::CartPolicy>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidatedJson<QuickAddRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, product) = path.into_inner();
    let quantity = body.into_inner().quantity;
    let view = db::run(&pool, move |c| {
        service::add_from_wishlist(c, &user, **policy, id, product.into(), quantity)
    })
    .await?;
    let cart = CartResponse::from(view);
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", cart.version)))
        .json(cart))
}
