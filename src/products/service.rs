//! Product use cases: catalog management by sellers and admins, and the
//! public catalog. Prices are checked with the money rules; every price
//! change writes a history row in the same transaction.

use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::repo::{self, After, ProductFilter, Sort};
use super::{PriceChangeRow, ProductChanges, ProductRow};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::ids::{ProductId, SellerId};
use crate::pagination::{Cursor, PageRequest};
use crate::sellers;

/// A product to create. `seller_id` is required from admins and implied for sellers.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// The owning seller (admins must name it).
    pub seller_id: Option<SellerId>,
    /// Unique per seller.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Long description.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Picture.
    pub image_url: Option<String>,
    /// Unit price in USD, already checked.
    pub price_usd: Decimal,
    /// Weight in kg.
    pub weight_kg: Option<Decimal>,
    /// Per-order maximum.
    pub max_per_order: i32,
    /// Starts active.
    pub active: bool,
}

fn owning_seller(actor: &Principal, requested: Option<SellerId>) -> Result<SellerId, AppError> {
    if actor.is_admin() {
        return requested.ok_or_else(|| {
            AppError::invalid("seller_id", "is required when an admin creates a product")
        });
    }
    let own = actor.acting_seller().ok_or_else(|| {
        AppError::forbidden("requires the seller role (with a seller_id claim) or admin")
    })?;
    match requested {
        Some(other) if other != own => Err(AppError::forbidden(
            "sellers can only create products for themselves",
        )),
        _ => Ok(own),
    }
}

fn sku_conflict(sku: &str) -> AppError {
    AppError::conflict(
        ErrorCode::DuplicateSku,
        format!("the seller already has a product with sku {sku:?}"),
    )
}

/// Creates a product for a seller; 409 `duplicate_sku` or `seller_inactive`.
pub fn create_product(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewProduct,
) -> Result<ProductRow, AppError> {
    let seller_id = owning_seller(actor, new.seller_id)?;
    conn.transaction(|conn| {
        let seller = sellers::repo::find_by_id(conn, seller_id)?
            .ok_or_else(|| AppError::invalid("seller_id", "no seller has this id"))?;
        if !seller.active {
            return Err(AppError::conflict(
                ErrorCode::SellerInactive,
                "the seller is inactive",
            ));
        }
        let now = crate::db::now();
        let row = ProductRow {
            id: ProductId::now_v7(),
            seller_id,
            sku: new.sku,
            name: new.name,
            description: new.description,
            category: new.category,
            image_url: new.image_url,
            price_usd: new.price_usd,
            weight_kg: new.weight_kg,
            max_per_order: new.max_per_order,
            active: new.active,
            created_at: now,
            updated_at: now,
        };
        if !repo::insert_if_sku_free(conn, &row)? {
            return Err(sku_conflict(&row.sku));
        }
        record_price(conn, &row, None, actor.user_id)?;
        Ok(row)
    })
}

fn record_price(
    conn: &mut PgConnection,
    row: &ProductRow,
    old: Option<Decimal>,
    by: Uuid,
) -> Result<(), AppError> {
    repo::insert_price_change(
        conn,
        &PriceChangeRow {
            id: Uuid::now_v7(),
            product_id: row.id,
            old_price_usd: old,
            new_price_usd: row.price_usd,
            changed_by: Some(by),
            changed_at: row.updated_at,
        },
    )?;
    Ok(())
}

/// Loads a product for a change by its seller or an admin; 404 when the
/// caller may not even see it, 403 when it may see but not change it.
fn lock_for_change(
    conn: &mut PgConnection,
    actor: &Principal,
    id: ProductId,
) -> Result<ProductRow, AppError> {
    actor.require_any(&[Role::Seller, Role::Admin])?;
    let product = repo::lock_by_id(conn, id)?.ok_or(AppError::NotFound("product"))?;
    if actor.manages_seller(product.seller_id) {
        Ok(product)
    } else if product.active {
        Err(AppError::forbidden("the product belongs to another seller"))
    } else {
        Err(AppError::NotFound("product"))
    }
}

/// Changes a product; a new price is recorded in the history.
pub fn update_product(
    conn: &mut PgConnection,
    actor: &Principal,
    id: ProductId,
    mut changes: ProductChanges,
) -> Result<ProductRow, AppError> {
    conn.transaction(|conn| {
        let before = lock_for_change(conn, actor, id)?;
        if let Some(sku) = &changes.sku
            && repo::sku_taken(conn, before.seller_id, sku, id)?
        {
            return Err(sku_conflict(sku));
        }
        changes.updated_at = Some(crate::db::now());
        let after = repo::update(conn, id, &changes)?;
        if after.price_usd != before.price_usd {
            record_price(conn, &after, Some(before.price_usd), actor.user_id)?;
        }
        if after.price_usd != before.price_usd || after.active != before.active {
            crate::events::notify(conn, &crate::events::Event::Product { id })?;
        }
        Ok(after)
    })
}

/// Deactivates a product (it stays for orders and history); idempotent.
pub fn deactivate_product(
    conn: &mut PgConnection,
    actor: &Principal,
    id: ProductId,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let product = lock_for_change(conn, actor, id)?;
        if product.active {
            let changes = ProductChanges {
                active: Some(false),
                updated_at: Some(crate::db::now()),
                ..Default::default()
            };
            repo::update(conn, id, &changes)?;
            crate::events::notify(conn, &crate::events::Event::Product { id })?;
        }
        Ok(())
    })
}

fn can_see_hidden(viewer: Option<&Principal>, seller_id: SellerId) -> bool {
    viewer.is_some_and(|v| v.is_operator() || v.acting_seller() == Some(seller_id))
}

/// Reads a product: active products of active sellers are public; others
/// only for their seller and operators (404 for everyone else).
pub fn get_product(
    conn: &mut PgConnection,
    viewer: Option<&Principal>,
    id: ProductId,
) -> Result<ProductRow, AppError> {
    let (product, seller_active) =
        repo::find_with_seller(conn, id)?.ok_or(AppError::NotFound("product"))?;
    if (product.active && seller_active) || can_see_hidden(viewer, product.seller_id) {
        Ok(product)
    } else {
        Err(AppError::NotFound("product"))
    }
}

/// What a caller asks of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only this seller.
    pub seller_id: Option<SellerId>,
    /// Substring of name or SKU.
    pub text: Option<String>,
    /// Include hidden products (operators, or a seller for its own catalog).
    pub include_inactive: bool,
    /// Order.
    pub sort: Sort,
}

fn after_of(sort: Sort, cursor: &Cursor) -> Result<After, AppError> {
    let bad = || AppError::bad_parameter("cursor", "does not belong to this sort order");
    Ok(match sort {
        Sort::Newest => After::Id(cursor.id),
        Sort::PriceAsc | Sort::PriceDesc => {
            let key = cursor.key.as_deref().ok_or_else(bad)?;
            After::Price(key.parse().map_err(|_| bad())?, cursor.id)
        }
        Sort::NameAsc => After::Name(cursor.key.clone().ok_or_else(bad)?, cursor.id),
    })
}

/// Lists the catalog in a stable order with keyset pagination.
pub fn list_products(
    conn: &mut PgConnection,
    viewer: Option<&Principal>,
    query: CatalogQuery,
    page: &PageRequest,
) -> Result<(Vec<ProductRow>, Option<String>), AppError> {
    if query.include_inactive {
        let allowed = match (viewer, query.seller_id) {
            (Some(v), _) if v.is_operator() => true,
            (Some(v), Some(seller)) => v.acting_seller() == Some(seller),
            _ => false,
        };
        if !allowed {
            return Err(match viewer {
                None => AppError::Unauthorized("include_inactive requires a bearer token".into()),
                Some(_) => AppError::forbidden(
                    "include_inactive is for operators, or for a seller listing its own seller_id",
                ),
            });
        }
    }
    let sort = query.sort;
    let filter = ProductFilter {
        category: query.category,
        seller_id: query.seller_id,
        text: query.text,
        include_inactive: query.include_inactive,
        sort,
        after: page.after.as_ref().map(|c| after_of(sort, c)).transpose()?,
    };
    let rows = repo::list(conn, &filter, page.fetch())?;
    Ok(page.finish(rows, |p| Cursor {
        key: match sort {
            Sort::Newest => None,
            Sort::PriceAsc | Sort::PriceDesc => Some(p.price_usd.to_string()),
            Sort::NameAsc => Some(p.name.clone()),
        },
        id: p.id.uuid(),
    }))
}

/// A product's price history, newest first (visible to whoever can see the product).
pub fn price_history(
    conn: &mut PgConnection,
    viewer: Option<&Principal>,
    id: ProductId,
    page: &PageRequest,
) -> Result<(Vec<PriceChangeRow>, Option<String>), AppError> {
    get_product(conn, viewer, id)?;
    let rows = repo::price_changes(conn, id, page.after.as_ref().map(|c| c.id), page.fetch())?;
    Ok(page.finish(rows, |r| Cursor {
        key: None,
        id: r.id,
    }))
}

/// What carts and checkout need to know about products right now.
#[derive(Debug, Clone)]
pub struct ProductFacts {
    /// The product.
    pub product: ProductRow,
    /// Its seller's shop name.
    pub seller_name: String,
    /// Product and seller both active.
    pub sellable: bool,
}

/// Facts about several products, keyed by id (unknown ids are absent).
pub fn facts(
    conn: &mut PgConnection,
    ids: &[ProductId],
) -> Result<std::collections::HashMap<ProductId, ProductFacts>, AppError> {
    Ok(repo::with_sellers(conn, ids)?
        .into_iter()
        .map(|(product, seller_name, seller_active)| {
            let sellable = product.active && seller_active;
            (
                product.id,
                ProductFacts {
                    product,
                    seller_name,
                    sellable,
                },
            )
        })
        .collect())
}

/// The seller's product with `sku`, if any.
pub fn find_by_sku(
    conn: &mut PgConnection,
    seller_id: SellerId,
    sku: &str,
) -> Result<Option<ProductRow>, AppError> {
    Ok(repo::find_by_sku(conn, seller_id, sku)?)
}
