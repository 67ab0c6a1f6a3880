//! HTTP handlers and DTOs for `/api/v1/carts`. Carts are addressed by id;
//! the caller is the signed-in owner (bearer token) or a guest holding the
//! cart token (`X-Cart-Token`). Every answer carries `ETag: "<version>"`;
//! writes accept `If-Match`.

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
use super::service::{self, Adjustment, Caller, CartPolicy, CartView, Op};
use super::{CartKind, CartStatus, ItemPriceChangeRow, ParticipantRole};
use crate::db::{self, DbPool};
use crate::error::{AppError, FieldError};
use crate::http::extract::{AuthUser, IfMatch, MaybeAuthUser, ValidatedJson};
use crate::http::problem::{PROBLEM_JSON, Problem};
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
                product_id: r.product_id,
                seller_id: r.seller_id,
                quantity: r.quantity,
                name: r.name,
                sku: r.sku,
                image_url: r.image_url,
                category: r.category,
                seller_name: r.seller_name,
                unit_price: unit,
                line_total: unit.times(u32::try_from(r.quantity).unwrap_or(0)),
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
            id: v.cart.id,
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

/// Runs a cart write; a stale `If-Match` answers 412 with the current cart.
async fn write(
    pool: web::Data<DbPool>,
    if_match: IfMatch,
    caller: Caller,
    id: Uuid,
    ops: Vec<(String, Op)>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.expected()?;
    let reader = caller.clone();
    match db::run(&pool, move |c| {
        service::update_cart(c, &caller, id, expected, ops)
    })
    .await
    {
        Ok(view) => Ok(respond(actix_web::http::StatusCode::OK, view.into())),
        Err(err @ AppError::PreconditionFailed { .. }) => {
            let current = db::run(&pool, move |c| service::get_cart(c, &reader, id)).await?;
            let body = CartResponse::from(current);
            let version = body.version;
            let mut problem = Problem::from_error(&err);
            problem.current = serde_json::to_value(&body).ok();
            Ok(HttpResponse::PreconditionFailed()
                .content_type(PROBLEM_JSON)
                .insert_header(etag(version))
                .json(problem))
        }
        Err(err) => Err(err),
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
            product_id: a.product_id,
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
                    product_id,
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
        (status = 200, description = "The user's cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 201, description = "A new guest cart with its token", body = CartResponse,
         headers(("ETag" = String, description = "The cart version"), ("X-Cart-Token" = String, description = "The guest token"))),
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
        (status = 200, description = "The cart, re-priced now", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
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
    let view = db::run(&pool, move |c| service::get_cart(c, &caller, id)).await?;
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock (`insufficient_stock`), product unavailable (`product_unavailable`), cart not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`); `current` holds the cart", body = Problem, content_type = "application/problem+json"),
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
        product_id: b.product_id,
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`); `current` holds the cart", body = Problem, content_type = "application/problem+json"),
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
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
        (status = 200, description = "The empty cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is not active (`cart_not_active`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart or line", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, product unavailable, or cart not active", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`); `current` holds the cart", body = Problem, content_type = "application/problem+json"),
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
        service::merge(c, &user, **policy, b.guest_cart_id, &b.guest_token)
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

struct Watch {
    rx: tokio::sync::broadcast::Receiver<crate::events::Event>,
    pool: web::Data<DbPool>,
    cart_id: Uuid,
    products: std::collections::HashSet<Uuid>,
    sellers: std::collections::HashSet<Uuid>,
    first: Option<String>,
}

fn sse(event: &str, data: serde_json::Value) -> web::Bytes {
    web::Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// How long a quiet stream waits before sending a keep-alive comment.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

async fn next_event(mut w: Watch) -> Option<(Result<web::Bytes, actix_web::Error>, Watch)> {
    use crate::events::Event;
    use tokio::sync::broadcast::error::RecvError;
    if let Some(first) = w.first.take() {
        return Some((Ok(web::Bytes::from(first)), w));
    }
    loop {
        let id = w.cart_id;
        let stale = |reason: &str, product: Option<Uuid>| {
            sse(
                "cart_stale",
                serde_json::json!({"cart_id": id, "reason": reason, "product_id": product}),
            )
        };
        match tokio::time::timeout(KEEP_ALIVE, w.rx.recv()).await {
            Err(_) => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), w)),
            Ok(Err(RecvError::Closed)) => return None,
            Ok(Err(RecvError::Lagged(_))) => return Some((Ok(stale("missed_events", None)), w)),
            Ok(Ok(Event::Cart {
                id: changed,
                version,
            })) if changed == id => {
                if let Ok(ids) = db::run(&w.pool, move |c| service::product_ids(c, id)).await {
                    w.products = ids.iter().map(|(p, _)| *p).collect();
                    w.sellers = ids.iter().map(|(_, s)| *s).collect();
                }
                let data = serde_json::json!({"cart_id": id, "version": version});
                return Some((Ok(sse("cart_changed", data)), w));
            }
            Ok(Ok(Event::Product { id: product })) if w.products.contains(&product) => {
                return Some((Ok(stale("product", Some(product))), w));
            }
            Ok(Ok(Event::Seller { id: seller })) if w.sellers.contains(&seller) => {
                return Some((Ok(stale("seller", None)), w));
            }
            Ok(Ok(Event::Rate)) => return Some((Ok(stale("exchange_rate", None)), w)),
            Ok(Ok(_)) => {}
        }
    }
}

/// Query of `stream_cart_events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A stream ticket from `create_cart_stream_ticket`, for browsers'
    /// `EventSource` (which cannot send headers): single use, 60 seconds.
    pub ticket: Option<String>,
}

/// A stream ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamTicket {
    /// Pass it as `?ticket=` to the cart's event stream; it works once.
    pub ticket: String,
    /// It must be used before this.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The stream URL with the ticket, ready for `new EventSource(url)`.
    #[schema(example = "/api/v1/carts/0190f0c8-0000-7000-8000-000000000001/events?ticket=...")]
    pub url: String,
}

/// Issues a single-use ticket to open the cart's event stream from a browser.
///
/// `EventSource` cannot send an `Authorization` or `X-Cart-Token` header;
/// whoever may read the cart (its owner, its guest token, an operator) asks
/// for a ticket here with those headers, then opens
/// `GET /api/v1/carts/{cart_id}/events?ticket=...`. A ticket works once,
/// for this cart only, within 60 seconds; only its hash is stored, and query
/// strings are not written to the access log. Reconnecting needs a new ticket.
#[utoipa::path(
    tag = "carts",
    operation_id = "create_cart_stream_ticket",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = String, Header, description = "The guest cart token (guests)")),
    responses(
        (status = 201, description = "A ticket", body = StreamTicket),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/events/tickets")]
pub async fn create_cart_stream_ticket(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (ticket, expires_at) =
        db::run(&pool, move |c| service::issue_stream_ticket(c, &caller, id)).await?;
    Ok(HttpResponse::Created().json(StreamTicket {
        url: format!("/api/v1/carts/{id}/events?ticket={ticket}"),
        ticket,
        expires_at,
    }))
}

/// Streams a cart's changes as server-sent events.
///
/// The owner, the guest (`X-Cart-Token`) or an operator. Events:
/// `cart` (first, with the current version), `cart_changed` (another device
/// changed the cart: `version`), `cart_stale` (something the cart shows
/// moved: `reason` is `product` with `product_id` for a price, availability
/// or safety-stock change, `seller` when a seller on the cart is activated or
/// deactivated, `exchange_rate` when a rate takes effect, including a
/// scheduled one at its `effective_at`, or `missed_events`; read the cart for
/// notices).
/// Works across any number of API instances (PostgreSQL LISTEN/NOTIFY); a
/// comment line every 15 s keeps proxies from closing it.
#[utoipa::path(
    tag = "carts",
    operation_id = "stream_cart_events",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"), StreamQuery),
    responses(
        (status = 200, description = "An event stream", body = String, content_type = "text/event-stream"),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carts/{cart_id}/events")]
pub async fn stream_cart_events(
    pool: web::Data<DbPool>,
    hub: web::Data<crate::events::Hub>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: crate::http::extract::Query<StreamQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let hub = hub.into_inner();
    let ticket = query.into_inner().ticket;
    let (rx, view) = db::run(&pool, move |c| {
        // Subscribe before reading, so no change between the two is missed.
        let rx = hub.subscribe();
        let view = match ticket {
            Some(t) => service::redeem_stream_ticket(c, id, &t)?,
            None => service::get_cart(c, &caller, id)?,
        };
        Ok((rx, view))
    })
    .await?;
    let first = format!(
        "retry: 3000\nevent: cart\ndata: {}\n\n",
        serde_json::json!({"cart_id": id, "version": view.cart.version})
    );
    let watch = Watch {
        rx,
        pool,
        cart_id: id,
        products: view.lines.iter().map(|l| l.row.product_id).collect(),
        sellers: view.lines.iter().map(|l| l.row.seller_id).collect(),
        first: Some(first),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(watch, next_event)))
}

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
        (status = 200, description = "The cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
        (status = 403, description = "A group cart's line that another participant added", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart, line or list", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
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
    let view = db::run(&pool, move |c| {
        service::move_to_wishlist(c, &caller, cart, expected, item, list)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

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
    pub snapshot: super::SharedCart,
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
        db::run(&pool, move |c| service::share_cart(c, &caller, id)).await?;
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
        service::revoke_cart_share(c, &caller, cart, share)
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
        (status = 200, description = "The snapshot", body = super::SharedCart),
        (status = 404, description = "No live share with this token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/shared/carts/{token}")]
pub async fn get_shared_cart(
    pool: web::Data<DbPool>,
    path: web::Path<String>,
) -> Result<web::Json<super::SharedCart>, AppError> {
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
        (status = 200, description = "Your cart", body = CartResponse, headers(("ETag" = String, description = "The cart version"))),
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
    let target = body.into_inner().cart_id;
    let view = db::run(&pool, move |c| {
        service::copy_shared_cart(c, &caller, &token, target)
    })
    .await?;
    Ok(respond(actix_web::http::StatusCode::OK, view.into()))
}

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
        service::join_group_cart(c, &user, id, &token)
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
    db::run(&pool, move |c| service::leave_group_cart(c, &user, id)).await?;
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
        service::remove_participant(c, &user, id, member)
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
    let token = db::run(&pool, move |c| service::rotate_invite(c, &user, id)).await?;
    Ok(web::Json(InviteResponse {
        invite_token: token,
    }))
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
        service::add_from_wishlist(c, &user, **policy, id, product, quantity)
    })
    .await?;
    let cart = CartResponse::from(view);
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{}\"", cart.version)))
        .json(cart))
}
