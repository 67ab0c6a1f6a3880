//! HTTP handlers and DTOs for `/api/v1/products`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::repo::Sort;
use super::{PriceChangeRow, ProductChanges, ProductRow, service};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, ValidatedJson, check_query};
use crate::http::problem::Problem;
use crate::money::{self, DualPrice};
use crate::pagination::PageRequest;
use crate::rates::{self, RateRow};

/// The rate a VES amount was computed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateRef {
    /// Rate id.
    pub id: Uuid,
    /// Bolívares per US dollar.
    #[schema(value_type = String, example = "36.50")]
    pub rate: Decimal,
    /// From when the rate applies.
    pub effective_at: DateTime<Utc>,
}

/// A product with its price in both currencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    /// Product id.
    pub id: Uuid,
    /// The owning seller.
    pub seller_id: Uuid,
    /// Seller's SKU, unique per seller.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Long description (may be empty).
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Picture URL.
    pub image_url: Option<String>,
    /// Unit price in USD.
    #[schema(value_type = String, example = "12.50")]
    pub price_usd: Decimal,
    /// Unit price in VES at the current rate; absent until a rate is posted.
    #[schema(value_type = Option<String>, example = "456.25")]
    pub price_ves: Option<Decimal>,
    /// The rate `price_ves` used.
    pub exchange_rate: Option<RateRef>,
    /// Shipping weight in kilograms.
    #[schema(value_type = Option<String>, example = "0.500")]
    pub weight_kg: Option<Decimal>,
    /// Most units one order may hold.
    pub max_per_order: i32,
    /// Inactive products are hidden from shoppers.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl ProductResponse {
    /// The product priced at `rate`.
    pub fn priced(p: ProductRow, rate: Option<&RateRow>) -> Self {
        let price_ves = rate.map(|r| DualPrice::at_rate(p.price_usd, r.rate).ves);
        Self {
            id: p.id.uuid(),
            seller_id: p.seller_id.uuid(),
            sku: p.sku,
            name: p.name,
            description: p.description,
            category: p.category,
            image_url: p.image_url,
            price_usd: p.price_usd,
            price_ves,
            exchange_rate: rate.map(|r| RateRef {
                id: r.id,
                rate: r.rate.normalize(),
                effective_at: r.effective_at,
            }),
            weight_kg: p.weight_kg,
            max_per_order: p.max_per_order,
            active: p.active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

crate::page_type!(ProductPage, ProductResponse, "A page of products.");

/// One change of a product's price.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceChangeResponse {
    /// Entry id.
    pub id: Uuid,
    /// Price before, in USD; absent for the first price.
    #[schema(value_type = Option<String>, example = "11.00")]
    pub old_price_usd: Option<Decimal>,
    /// Price after, in USD.
    #[schema(value_type = String, example = "12.50")]
    pub new_price_usd: Decimal,
    /// When the price changed.
    pub changed_at: DateTime<Utc>,
}

impl From<PriceChangeRow> for PriceChangeResponse {
    fn from(r: PriceChangeRow) -> Self {
        Self {
            id: r.id,
            old_price_usd: r.old_price_usd,
            new_price_usd: r.new_price_usd,
            changed_at: r.changed_at,
        }
    }
}

crate::page_type!(
    PriceChangePage,
    PriceChangeResponse,
    "A page of price changes, newest first."
);

fn rule(code: &'static str, message: &'static str) -> ValidationError {
    let mut err = ValidationError::new(code);
    err.message = Some(message.into());
    err
}

fn valid_sku(sku: &str) -> Result<(), ValidationError> {
    let ok = sku
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then_some(()).ok_or_else(|| {
        rule(
            "sku",
            "must start with a letter or digit and use only letters, digits, '.', '_' and '-'",
        )
    })
}

fn valid_category(category: &str) -> Result<(), ValidationError> {
    let ok = !category.is_empty()
        && category.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    ok.then_some(()).ok_or_else(|| {
        rule(
            "category",
            "must be a lowercase slug such as 'home-appliances'",
        )
    })
}

fn valid_image_url(url: &str) -> Result<(), ValidationError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(char::is_whitespace);
    ok.then_some(())
        .ok_or_else(|| rule("url", "must be an http or https URL"))
}

fn valid_price(price: &Decimal) -> Result<(), ValidationError> {
    money::check_price_usd(*price)
        .map(|_| ())
        .map_err(|m| rule("price", m))
}

fn valid_weight(weight: &Decimal) -> Result<(), ValidationError> {
    if weight.is_sign_negative() {
        Err(rule("weight", "must not be negative"))
    } else if weight.normalize().scale() > 3 {
        Err(rule("weight", "must have at most 3 decimal places"))
    } else if *weight > Decimal::from(99_999) {
        Err(rule("weight", "must be at most 99999"))
    } else {
        Ok(())
    }
}

fn default_max() -> i32 {
    100
}

/// Body of `create_product`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    /// The owning seller: required for admins; sellers may omit it (their own).
    pub seller_id: Option<Uuid>,
    /// Stock-keeping unit, unique per seller: letters, digits, `.`, `_`, `-`.
    #[validate(length(min = 1, max = 64), custom(function = "valid_sku"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        example = "HARINA-PAN-1KG"
    )]
    pub sku: String,
    /// Display name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, example = "Harina P.A.N. 1 kg")]
    pub name: String,
    /// Long description.
    #[serde(default)]
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: String,
    /// Category slug (lowercase letters, digits and dashes).
    #[validate(length(min = 1, max = 64), custom(function = "valid_category"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        example = "groceries"
    )]
    pub category: String,
    /// Picture URL (http or https).
    #[validate(length(max = 2048), custom(function = "valid_image_url"))]
    #[schema(max_length = 2048)]
    pub image_url: Option<String>,
    /// Unit price in USD: a decimal string, positive, at most 2 decimals, at most 1000000.
    #[serde(deserialize_with = "crate::http::fields::decimal")]
    #[validate(required, custom(function = "valid_price"))]
    #[schema(value_type = String, example = "1.25", pattern = r"^\d{1,7}(\.\d{1,2})?$")]
    pub price_usd: Option<Decimal>,
    /// Shipping weight in kg: a decimal string, at most 3 decimals.
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[validate(custom(function = "valid_weight"))]
    #[schema(value_type = Option<String>, example = "1.000", pattern = r"^\d{1,5}(\.\d{1,3})?$")]
    pub weight_kg: Option<Decimal>,
    /// Most units one order may hold, 1 to 10000 (default 100).
    #[serde(default = "default_max")]
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000, default = 100)]
    pub max_per_order: i32,
    /// Whether shoppers see it (default true).
    #[serde(default = "crate::http::fields::yes")]
    #[schema(default = true)]
    pub active: bool,
}

/// Body of `update_product`; absent fields are left unchanged, `null` clears
/// `image_url` and `weight_kg`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    /// New SKU, unique per seller.
    #[validate(length(min = 1, max = 64), custom(function = "valid_sku"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub sku: Option<String>,
    /// New display name.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::http::extract::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New description.
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// New category slug.
    #[validate(length(min = 1, max = 64), custom(function = "valid_category"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub category: Option<String>,
    /// New picture URL, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::fields::nullable")]
    #[validate(length(max = 2048), custom(function = "valid_image_url"))]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub image_url: Option<Option<String>>,
    /// New unit price in USD (recorded in the price history).
    #[serde(default, deserialize_with = "crate::http::fields::decimal")]
    #[validate(custom(function = "valid_price"))]
    #[schema(value_type = Option<String>, example = "1.30", pattern = r"^\d{1,7}(\.\d{1,2})?$")]
    pub price_usd: Option<Decimal>,
    /// New weight in kg, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::fields::nullable_decimal")]
    #[validate(custom(function = "valid_weight"))]
    #[schema(value_type = Option<String>, pattern = r"^\d{1,5}(\.\d{1,3})?$")]
    pub weight_kg: Option<Option<Decimal>>,
    /// New per-order maximum, 1 to 10000.
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_per_order: Option<i32>,
    /// Show or hide the product.
    pub active: Option<bool>,
}

/// Sort orders of `list_products`.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Newest first (default).
    #[default]
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Alphabetical by name.
    NameAsc,
}

impl From<ProductSort> for Sort {
    fn from(s: ProductSort) -> Self {
        match s {
            ProductSort::Newest => Sort::Newest,
            ProductSort::PriceAsc => Sort::PriceAsc,
            ProductSort::PriceDesc => Sort::PriceDesc,
            ProductSort::NameAsc => Sort::NameAsc,
        }
    }
}

/// Query of `list_products`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProductsQuery {
    /// Only this category slug.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub category: Option<String>,
    /// Only this seller's products.
    pub seller_id: Option<Uuid>,
    /// Case-insensitive substring of the name or SKU.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Order of the list (default `newest`).
    #[param(inline)]
    pub sort: Option<ProductSort>,
    /// Include inactive products: operators, or a seller for its own `seller_id`.
    pub include_inactive: Option<bool>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query of `list_product_price_history`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Creates a product.
///
/// Sellers create products for themselves; admins for any seller (naming
/// `seller_id`). The first price opens the product's price history.
#[utoipa::path(
    tag = "products",
    operation_id = "create_product",
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "The product was created", body = ProductResponse),
        (status = 403, description = "Not a seller or admin, or another seller's id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Duplicate SKU (`duplicate_sku`) or inactive seller (`seller_inactive`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products")]
pub async fn create_product(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateProductRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let new = service::NewProduct {
        seller_id: b.seller_id.map(Into::into),
        sku: b.sku,
        name: b.name.trim().to_string(),
        description: b.description,
        category: b.category,
        image_url: b.image_url,
        // `validate(required)` has rejected a missing price already.
        price_usd: b.price_usd.unwrap_or_default().round_dp(money::CENTS),
        weight_kg: b.weight_kg,
        max_per_order: b.max_per_order,
        active: b.active,
    };
    let (product, rate) = db::run(&pool, move |c| {
        let product = service::create_product(c, &user, new)?;
        Ok((product, rates::service::current_rate(c)?))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/products/{}", product.id)))
        .json(ProductResponse::priced(product, rate.as_ref())))
}

/// Lists products.
///
/// Public: active products of active sellers, with filters and a stable
/// sort. Operators, and sellers for their own `seller_id`, may add
/// `include_inactive=true`.
#[utoipa::path(
    tag = "products",
    operation_id = "list_products",
    security((), ("bearer_auth" = [])),
    params(ListProductsQuery),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 401, description = "`include_inactive` without a token, or an invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_inactive` for someone else's catalog", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products")]
pub async fn list_products(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    query: crate::http::extract::Query<ListProductsQuery>,
) -> Result<web::Json<ProductPage>, AppError> {
    let q = query.into_inner();
    check_query(&q)?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let catalog = service::CatalogQuery {
        category: q.category,
        seller_id: q.seller_id.map(Into::into),
        text: q.q,
        include_inactive: q.include_inactive.unwrap_or(false),
        sort: q.sort.unwrap_or_default().into(),
    };
    let (rows, next_cursor, rate) = db::run(&pool, move |c| {
        let (rows, next) = service::list_products(c, user.0.as_ref(), catalog, &page)?;
        Ok((rows, next, rates::service::current_rate(c)?))
    })
    .await?;
    Ok(web::Json(ProductPage {
        items: rows
            .into_iter()
            .map(|p| ProductResponse::priced(p, rate.as_ref()))
            .collect(),
        next_cursor,
    }))
}

/// Reads a product with its price in USD and VES.
///
/// Inactive products (or products of inactive sellers) are visible only to
/// their seller and operators.
#[utoipa::path(
    tag = "products",
    operation_id = "get_product",
    security((), ("bearer_auth" = [])),
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The product", body = ProductResponse),
        (status = 404, description = "No such product, or hidden from the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products/{product_id}")]
pub async fn get_product(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<ProductResponse>, AppError> {
    let id = path.into_inner();
    let (product, rate) = db::run(&pool, move |c| {
        let product = service::get_product(c, user.0.as_ref(), id.into())?;
        Ok((product, rates::service::current_rate(c)?))
    })
    .await?;
    Ok(web::Json(ProductResponse::priced(product, rate.as_ref())))
}

/// Changes a product.
///
/// Its seller or an admin. A new `price_usd` is recorded in the price history.
#[utoipa::path(
    tag = "products",
    operation_id = "update_product",
    request_body = UpdateProductRequest,
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The updated product", body = ProductResponse),
        (status = 403, description = "Not a seller or admin, or another seller's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new SKU is taken (`duplicate_sku`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/products/{product_id}")]
pub async fn update_product(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateProductRequest>,
) -> Result<web::Json<ProductResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let changes = ProductChanges {
        sku: b.sku,
        name: b.name.map(|n| n.trim().to_string()),
        description: b.description,
        category: b.category,
        image_url: b.image_url,
        price_usd: b.price_usd.map(|p| p.round_dp(money::CENTS)),
        weight_kg: b.weight_kg,
        max_per_order: b.max_per_order,
        active: b.active,
        updated_at: None,
    };
    let (product, rate) = db::run(&pool, move |c| {
        let product = service::update_product(c, &user, id.into(), changes)?;
        Ok((product, rates::service::current_rate(c)?))
    })
    .await?;
    Ok(web::Json(ProductResponse::priced(product, rate.as_ref())))
}

/// Deactivates a product.
///
/// Its seller or an admin. The product is kept (orders and history refer to
/// it) but hidden from shoppers; repeating the call is harmless.
#[utoipa::path(
    tag = "products",
    operation_id = "deactivate_product",
    params(("product_id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 204, description = "The product is inactive"),
        (status = 403, description = "Not a seller or admin, or another seller's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/products/{product_id}")]
pub async fn deactivate_product(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| {
        service::deactivate_product(c, &user, id.into())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists a product's price changes, newest first.
///
/// Visible to whoever may see the product. The first entry has no
/// `old_price_usd`: it is the price the product was created with.
#[utoipa::path(
    tag = "products",
    operation_id = "list_product_price_history",
    security((), ("bearer_auth" = [])),
    params(("product_id" = Uuid, Path, description = "The product id"), PageQuery),
    responses(
        (status = 200, description = "A page of price changes", body = PriceChangePage),
        (status = 404, description = "No such product, or hidden from the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products/{product_id}/price-history")]
pub async fn list_product_price_history(
    pool: web::Data<DbPool>,
    user: MaybeAuthUser,
    path: web::Path<Uuid>,
    query: crate::http::extract::Query<PageQuery>,
) -> Result<web::Json<PriceChangePage>, AppError> {
    let id = path.into_inner();
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let (rows, next_cursor) = db::run(&pool, move |c| {
        service::price_history(c, user.0.as_ref(), id.into(), &page)
    })
    .await?;
    Ok(web::Json(PriceChangePage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
