//! HTTP handlers and DTOs for `/api/v1/carts`. Carts are addressed by id;
//! the caller is the signed-in owner (bearer token) or a guest holding the
//! cart token (`X-Cart-Token`). Every answer carries `ETag: "<version>"`;
//! writes accept `If-Match`.
//!
//! This file holds the cart and its lines (create, read, add, change,
//! remove, clear, save for later, batch); each sub-resource has its own file
//! beside it, re-exported so the route table names every handler as
//! `carts::api::x`: `merge.rs`, `shares.rs`, `group.rs`, `wishlist.rs`,
//! `stream.rs`.
mod group;
mod merge;
mod shares;
mod stream;
mod wishlist;

pub use group::*;
pub use merge::*;
pub use shares::*;
pub use stream::*;
pub use wishlist::*;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::pricing::{Notice, Summary};
use super::service::{self, Caller, CartPolicy, CartView, Op};
use super::{CartKind, CartStatus, ItemPriceChangeRow, ParticipantRole};
use crate::db::{self, DbPool};
use crate::error::{AppError, FieldError, Refused};
use crate::http::extract::{AuthUser, IfMatch, MaybeAuthUser, ValidatedJson};
use crate::http::problem::{Problem, with_current};
use crate::money::DualPrice;
use crate::products::api::RateRef;

/// The header that carries a guest cart's token.
pub const CART_TOKEN: &str = "x-cart-token";

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = MaybeAuthUser::from_request(req, payload);
        let hold_seconds = req
            .app_data::<web::Data<CartPolicy>>()
            .and_then(|p| p.hold_seconds);
        let token = req
            .headers()
            .get(CART_TOKEN)
            .and_then(|v| v.to_str().ok())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && t.len() <= 128);
        Box::pin(async move {
            Ok(Caller {
                principal: user.await?.0,
                cart_token: token,
                hold_seconds,
            })
        })
    }
}

/// A change of a line's unit price.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinePriceChange {
    /// Unit price before.
    pub old_price: DualPrice,
    /// Unit price after.
    pub new_price: DualPrice,
    /// When it was noticed.
    pub changed_at: DateTime<Utc>,
}

impl From<ItemPriceChangeRow> for LinePriceChange {
    fn from(c: ItemPriceChangeRow) -> Self {
        Self {
            old_price: DualPrice::new(c.old_price_usd, c.old_price_ves),
            new_price: DualPrice::new(c.new_price_usd, c.new_price_ves),
            changed_at: c.changed_at,
        }
    }
}

/// A cart line with its product snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartItemResponse {
    /// Line id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Its seller.
    pub seller_id: Uuid,
    /// Units.
    pub quantity: i32,
    /// Product name when added.
    pub name: String,
    /// SKU when added.
    pub sku: String,
    /// Picture when added.
    pub image_url: Option<String>,
    /// Category when added.
    pub category: String,
    /// The seller's shop name when added.
    pub seller_name: String,
    /// Unit price now, in both currencies.
    pub unit_price: DualPrice,
    /// Unit price times quantity.
    pub line_total: DualPrice,
    /// Counted in the summary (false when saved, unavailable or out of stock).
    pub counted: bool,
    /// Every change of this line's unit price, oldest first.
    pub price_history: Vec<LinePriceChange>,
    /// Who added it.
    pub added_by: Option<Uuid>,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// A participant of a group cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantResponse {
    /// The participant.
    pub user_id: Uuid,
    /// Owner or member.
    pub role: ParticipantRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// Units on their counted lines.
    pub item_count: i64,
    /// Their part of the subtotal.
    pub subtotal: DualPrice,
}

/// A cart, re-priced at read time.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartResponse {
    /// Cart id.
    pub id: Uuid,
    /// `personal` or `group`.
    pub kind: CartKind,
    /// Active, merged, converted, abandoned or expired.
    pub status: CartStatus,
    /// The version; also the `ETag`.
    pub version: i32,
    /// True for a guest cart.
    pub is_guest: bool,
    /// The guest token: only in the answer that created the guest cart. Keep it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest_token: Option<String>,
    /// Lines in the cart.
    pub items: Vec<CartItemResponse>,
    /// Lines saved for later (not in the totals).
    pub saved_items: Vec<CartItemResponse>,
    /// Price, stock and availability changes to show the shopper.
    pub notices: Vec<Notice>,
    /// Totals per seller and overall, with fees, in USD and VES.
    pub summary: Summary,
    /// The rate the VES amounts use.
    pub exchange_rate: Option<RateRef>,
    /// Group carts: each participant and their subtotal (empty for personal carts).
    pub participants: Vec<ParticipantResponse>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<CartView> for CartResponse {
    fn from(v: CartView) -> Self {
        let (mut items, mut saved_items) = (vec![], vec![]);
        for line in v.lines {
            let r = line.row;
            let unit = DualPrice::new(r.unit_price_usd, r.unit_price_ves);
            let item = CartItemResponse {
                id: r.id,
                product_id: r.product_id.uuid(),
                seller_id: r.seller_id.uuid(),
                quantity: r.quantity.get(),
                name: r.name,
                sku: r.sku,
                image_url: r.image_url,
                category: r.category,
                seller_name: r.seller_name,
                unit_price: unit,
                line_total: unit.times(r.quantity),
                counted: line.counted,
                price_history: line.history.into_iter().map(Into::into).collect(),
                added_by: r.added_by,
                added_at: r.created_at,
            };
            if r.saved_for_later {
                saved_items.push(item);
            } else {
                items.push(item);
            }
        }
        Self {
            id: v.cart.id.uuid(),
            kind: v.cart.kind,
            participants: v
                .participants
                .into_iter()
                .map(|p| ParticipantResponse {
                    user_id: p.row.user_id,
                    role: p.row.role,
                    joined_at: p.row.joined_at,
                    item_count: p.item_count,
                    subtotal: p.subtotal,
                })
                .collect(),
            status: v.cart.status,
            version: v.cart.version,
            is_guest: v.cart.user_id.is_none(),
            guest_token: None,
            items,
            saved_items,
            notices: v.notices,
            summary: v.summary,
            exchange_rate: v.rate.map(|r| RateRef {
                id: r.id,
                rate: r.rate.normalize(),
                effective_at: r.effective_at,
            }),
            created_at: v.cart.created_at,
            updated_at: v.cart.updated_at,
        }
    }
}

fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

fn respond(status: actix_web::http::StatusCode, body: CartResponse) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(body.version))
        .json(body)
}

/// Runs a cart write; a stale `If-Match` answers 412 with the cart as it
/// is now (read by the same transaction) and its `ETag`.
async fn write(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    id: Uuid,
    ops: Vec<(String, Op)>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.expected()?;
    write_with(&pool, move |c| {
        service::update_cart(c, &caller, id.into(), expected, ops)
    })
    .await
}

/// Runs any cart use case that may be refused with the cart as it is now
/// (`Refused::WithCurrent`): 200 with the cart and its `ETag`, or the
/// problem with `current` and the current `ETag`.
pub(super) async fn write_with(
    pool: &DbPool,
    f: impl FnOnce(&mut diesel::PgConnection) -> Result<service::CartView, Refused<service::CartView>>
    + Send
    + 'static,
) -> Result<HttpResponse, AppError> {
    match db::run(pool, move |c| Ok(f(c))).await? {
        Ok(view) => Ok(respond(actix_web::http::StatusCode::OK, view.into())),
        Err(Refused::WithCurrent { error, current }) => {
            let body = CartResponse::from(*current);
            let tag = etag(body.version).1;
            with_current(&error, body, Some(tag))
        }
        Err(Refused::Plain(error)) => Err(error),
    }
}

/// Body of `add_cart_item`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItemRequest {
    /// The product.
    pub product_id: Uuid,
    /// Units to add (added to an existing line), 1 to 10000.
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// Body of `update_cart_item`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateItemRequest {
    /// The new quantity: at least 1, at most the product's maximum per order and what is available.
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// One operation of `batch_update_cart`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum BatchOperation {
    /// Add units of a product.
    Add {
        /// The product.
        product_id: Uuid,
        /// Units to add, 1 to 10000.
        quantity: i32,
    },
    /// Set a line's quantity.
    SetQuantity {
        /// The line.
        item_id: Uuid,
        /// The new quantity, 1 to 10000.
        quantity: i32,
    },
    /// Remove a line.
    Remove {
        /// The line.
        item_id: Uuid,
    },
    /// Move a line to the saved-for-later list.
    SaveForLater {
        /// The line.
        item_id: Uuid,
    },
    /// Move a saved line back into the cart.
    MoveToCart {
        /// The line.
        item_id: Uuid,
    },
    /// Remove every line in the cart.
    Clear,
}

fn check_batch(ops: &[BatchOperation]) -> Result<(), validator::ValidationError> {
    if ops.is_empty() || ops.len() > service::MAX_BATCH {
        let mut e = validator::ValidationError::new("length");
        e.message = Some(format!("must hold 1 to {} operations", service::MAX_BATCH).into());
        return Err(e);
    }
    Ok(())
}

/// Body of `batch_update_cart`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Operations applied in order, all or nothing (1 to 50).
    #[validate(custom(function = "check_batch"))]
    #[schema(min_items = 1, max_items = 50)]
    pub operations: Vec<BatchOperation>,
}

fn qty(prefix: &str, q: i32) -> Result<(), FieldError> {
    if (1..=10000).contains(&q) {
        Ok(())
    } else {
        Err(FieldError::new(
            format!("{prefix}quantity"),
            "must be between 1 and 10000",
        ))
    }
}

fn to_ops(ops: Vec<BatchOperation>) -> Result<Vec<(String, Op)>, AppError> {
    let mut errors = vec![];
    let mut out = vec![];
    for (i, op) in ops.into_iter().enumerate() {
        let prefix = format!("operations[{i}].");
        let op = match op {
            BatchOperation::Add {
                product_id,
                quantity,
            } => {
                errors.extend(qty(&prefix, quantity).err());
                Op::Add {
                    product_id: product_id.into(),
                    quantity,
                }
            }
            BatchOperation::SetQuantity { item_id, quantity } => {
                errors.extend(qty(&prefix, quantity).err());
                Op::SetQuantity { item_id, quantity }
            }
            BatchOperation::Remove { item_id } => Op::Remove { item_id },
            BatchOperation::SaveForLater { item_id } => Op::SaveForLater { item_id },
            BatchOperation::MoveToCart { item_id } => Op::MoveToCart { item_id },
            BatchOperation::Clear => Op::Clear,
        };
        out.push((prefix, op));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation {
            code: crate::error::ErrorCode::ValidationFailed,
            errors,
        })
    }
}

/// Opens a cart.
///
/// With a bearer token: the user's active cart (created if needed; one per
/// user). Without: a new guest cart, whose `guest_token` (in the body and
/// the `X-Cart-Token` header) must be sent as `X-Cart-Token` from now on.
#[utoipa::path(
    tag = "carts",
    operation_id = "create_cart",
    security((), ("bearer_auth" = [])),
    responses(
        (status = 200, description = "The user's cart", body = CartResponse),
        (status = 201, description = "A new guest cart with its token", body = CartResponse,
         headers(("X-Cart-Token" = String, description = "The guest token"))),
        (status = 409, description = "No exchange rate is in effect (`no_exchange_rate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts")]
pub async fn create_cart(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
) -> Result<HttpResponse, AppError> {
    match user.0 {
        Some(principal) => {
            let view = db::run(&pool, move |c| service::my_cart(c, &principal)).await?;
            Ok(respond(actix_web::http::StatusCode::OK, view.into()))
        }
        None => {
            let (view, token) = db::run(&pool, service::create_guest_cart).await?;
            let mut body = CartResponse::from(view);
            body.guest_token = Some(token.clone());
            let mut res = respond(actix_web::http::StatusCode::CREATED, body);
            if let Ok(v) = HeaderValue::from_str(&token) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static(CART_TOKEN), v);
            }
            Ok(res)
        }
    }
}

/// Reads the signed-in user's cart.
///
/// Creates it when the user has none; reactivates an abandoned one.
#[utoipa::path(
    tag = "carts",
    operation_id = "get_my_cart",
    responses(
        (status = 200, description = "The cart, re-priced now", body = CartResponse),
        (status = 409, description = "No exchange rate is in effect (`no_exchange_rate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carts/me")]
pub async fn get_my_cart(
    pool: web::Data<DbPool>,
    user: AuthUser,
) -> Result<HttpResponse, AppError> {
    let view = db::run(&pool, move |c| service::my_cart(c, &user)).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

/// Reads a cart, re-priced against current prices, stock and rate.
///
/// The owner (bearer token), the guest (`X-Cart-Token`), or an operator.
/// Changes since the last read come back as `notices`.
#[utoipa::path(
    tag = "carts",
    operation_id = "get_cart",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No exchange rate is in effect (`no_exchange_rate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carts/{cart_id}")]
pub async fn get_cart(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let view = db::run(&pool, move |c| service::get_cart(c, &caller, id.into())).await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

/// Adds a product to a cart.
///
/// Adding a product already in the cart increases its line. The total must
/// fit the product's maximum per order (422) and what is available (409).
#[utoipa::path(
    tag = "carts",
    operation_id = "add_cart_item",
    security((), ("bearer_auth" = [])),
    request_body = AddItemRequest,
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock (`insufficient_stock`), product unavailable (`product_unavailable`), cart not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/items")]
pub async fn add_cart_item(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ValidatedJson<AddItemRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let op = Op::Add {
        product_id: b.product_id.into(),
        quantity: b.quantity,
    };
    write(
        pool,
        if_match,
        caller,
        path.into_inner(),
        vec![(String::new(), op)],
    )
    .await
}

/// Changes a line's quantity.
///
/// At least 1, at most the product's maximum per order (422) and what is
/// available (409).
#[utoipa::path(
    tag = "carts",
    operation_id = "update_cart_item",
    security((), ("bearer_auth" = [])),
    request_body = UpdateItemRequest,
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("item_id" = Uuid, Path, description = "The line id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/carts/{cart_id}/items/{item_id}")]
pub async fn update_cart_item(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidatedJson<UpdateItemRequest>,
) -> Result<HttpResponse, AppError> {
    let (cart, item) = path.into_inner();
    let op = Op::SetQuantity {
        item_id: item,
        quantity: body.into_inner().quantity,
    };
    write(pool, if_match, caller, cart, vec![(String::new(), op)]).await
}

/// Removes a line from a cart.
///
/// The line and its price history are deleted.
#[utoipa::path(
    tag = "carts",
    operation_id = "remove_cart_item",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("item_id" = Uuid, Path, description = "The line id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/carts/{cart_id}/items/{item_id}")]
pub async fn remove_cart_item(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (cart, item) = path.into_inner();
    write(
        pool,
        if_match,
        caller,
        cart,
        vec![(String::new(), Op::Remove { item_id: item })],
    )
    .await
}

/// Removes every line from a cart.
///
/// Saved-for-later lines stay; the cart itself stays active.
#[utoipa::path(
    tag = "carts",
    operation_id = "clear_cart",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The empty cart", body = CartResponse),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/carts/{cart_id}/items")]
pub async fn clear_cart(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    write(
        pool,
        if_match,
        caller,
        path.into_inner(),
        vec![(String::new(), Op::Clear)],
    )
    .await
}

/// Moves a line to the saved-for-later list.
///
/// Saved lines are part of the cart resource but not of its totals.
#[utoipa::path(
    tag = "carts",
    operation_id = "save_cart_item_for_later",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("item_id" = Uuid, Path, description = "The line id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/items/{item_id}/save-for-later")]
pub async fn save_cart_item_for_later(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (cart, item) = path.into_inner();
    write(
        pool,
        if_match,
        caller,
        cart,
        vec![(String::new(), Op::SaveForLater { item_id: item })],
    )
    .await
}

/// Moves a saved line back into the cart.
///
/// Its quantity must still fit what is available (409 otherwise).
#[utoipa::path(
    tag = "carts",
    operation_id = "move_cart_item_to_cart",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"), ("item_id" = Uuid, Path, description = "The line id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/items/{item_id}/move-to-cart")]
pub async fn move_cart_item_to_cart(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (cart, item) = path.into_inner();
    write(
        pool,
        if_match,
        caller,
        cart,
        vec![(String::new(), Op::MoveToCart { item_id: item })],
    )
    .await
}

/// Applies several line changes at once, all or nothing.
///
/// Operations run in order (`add`, `set_quantity`, `remove`,
/// `save_for_later`, `move_to_cart`, `clear`); if any fails, none applies and
/// the error names the operation (`operations[2].quantity`).
#[utoipa::path(
    tag = "carts",
    operation_id = "batch_update_cart",
    security((), ("bearer_auth" = [])),
    request_body = BatchRequest,
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"),
           ("If-Match" = Option<String>, Header, description = "The ETag last seen; 412 when stale")),
    responses(
        (status = 200, description = "The cart", body = CartResponse),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/batch")]
pub async fn batch_update_cart(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    path: web::Path<Uuid>,
    body: ValidatedJson<BatchRequest>,
) -> Result<HttpResponse, AppError> {
    let ops = to_ops(body.into_inner().operations)?;
    write(pool, if_match, caller, path.into_inner(), ops).await
}
