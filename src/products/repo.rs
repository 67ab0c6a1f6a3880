//! Product and price-history queries. No transactions, no rules.

use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{PriceChangeRow, ProductChanges, ProductRow};
use crate::db::schema::{product_price_history as history, products as p, sellers};
use crate::ids::{ProductId, SellerId};

/// How a product list is ordered; every order ends with the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first (by id, which is time-ordered).
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
    /// Alphabetical by name.
    NameAsc,
}

/// Where the previous page ended, in terms of the sort.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// Continue after this id (newest).
    Id(Uuid),
    /// Continue after this price and id.
    Price(Decimal, Uuid),
    /// Continue after this name and id.
    Name(String, Uuid),
}

/// What to list.
#[derive(Debug, Clone)]
pub struct ProductFilter {
    /// Only this category.
    pub category: Option<String>,
    /// Only this seller.
    pub seller_id: Option<SellerId>,
    /// Substring of the name or SKU, case-insensitive.
    pub text: Option<String>,
    /// Include inactive products and products of inactive sellers.
    pub include_inactive: bool,
    /// Order.
    pub sort: Sort,
    /// Continue after.
    pub after: Option<After>,
}

/// Inserts a product unless the seller already has the SKU; true when inserted.
pub fn insert_if_sku_free(conn: &mut PgConnection, row: &ProductRow) -> QueryResult<bool> {
    diesel::insert_into(p::table)
        .values(row)
        .on_conflict((p::seller_id, p::sku))
        .do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// The product with `id`, with its seller's active flag.
pub fn find_with_seller(
    conn: &mut PgConnection,
    id: ProductId,
) -> QueryResult<Option<(ProductRow, bool)>> {
    p::table
        .inner_join(sellers::table)
        .filter(p::id.eq(id))
        .select((ProductRow::as_select(), sellers::active))
        .first(conn)
        .optional()
}

/// The product with `id`, locked for update.
pub fn lock_by_id(conn: &mut PgConnection, id: ProductId) -> QueryResult<Option<ProductRow>> {
    p::table
        .find(id)
        .select(ProductRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// True when the seller has another product with `sku`.
pub fn sku_taken(
    conn: &mut PgConnection,
    seller_id: SellerId,
    sku: &str,
    except: ProductId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        p::table
            .filter(p::seller_id.eq(seller_id))
            .filter(p::sku.eq(sku))
            .filter(p::id.ne(except)),
    ))
    .get_result(conn)
}

/// Applies `changes` to the product with `id`.
pub fn update(
    conn: &mut PgConnection,
    id: ProductId,
    changes: &ProductChanges,
) -> QueryResult<ProductRow> {
    diesel::update(p::table.find(id))
        .set(changes)
        .returning(ProductRow::as_returning())
        .get_result(conn)
}

/// Products matching `f`, in its order, at most `limit`.
pub fn list(
    conn: &mut PgConnection,
    f: &ProductFilter,
    limit: i64,
) -> QueryResult<Vec<ProductRow>> {
    let mut q = p::table
        .inner_join(sellers::table)
        .select(ProductRow::as_select())
        .into_boxed();
    if !f.include_inactive {
        q = q
            .filter(p::active.eq(true))
            .filter(sellers::active.eq(true));
    }
    if let Some(category) = &f.category {
        q = q.filter(p::category.eq(category.clone()));
    }
    if let Some(seller_id) = f.seller_id {
        q = q.filter(p::seller_id.eq(seller_id));
    }
    if let Some(text) = &f.text {
        let pattern = format!("%{}%", crate::db::escape_like(text));
        q = q.filter(p::name.ilike(pattern.clone()).or(p::sku.ilike(pattern)));
    }
    q = match &f.after {
        None => q,
        Some(After::Id(id)) => q.filter(p::id.lt(*id)),
        Some(After::Price(price, id)) if f.sort == Sort::PriceDesc => q.filter(
            p::price_usd
                .lt(*price)
                .or(p::price_usd.eq(*price).and(p::id.lt(*id))),
        ),
        Some(After::Price(price, id)) => q.filter(
            p::price_usd
                .gt(*price)
                .or(p::price_usd.eq(*price).and(p::id.gt(*id))),
        ),
        Some(After::Name(name, id)) => q.filter(
            p::name
                .gt(name.clone())
                .or(p::name.eq(name.clone()).and(p::id.gt(*id))),
        ),
    };
    q = match f.sort {
        Sort::Newest => q.order(p::id.desc()),
        Sort::PriceAsc => q.order((p::price_usd.asc(), p::id.asc())),
        Sort::PriceDesc => q.order((p::price_usd.desc(), p::id.desc())),
        Sort::NameAsc => q.order((p::name.asc(), p::id.asc())),
    };
    q.limit(limit).load(conn)
}

/// Records a price change.
pub fn insert_price_change(conn: &mut PgConnection, row: &PriceChangeRow) -> QueryResult<usize> {
    diesel::insert_into(history::table)
        .values(row)
        .execute(conn)
}

/// A product's price changes, newest first, after `after`.
pub fn price_changes(
    conn: &mut PgConnection,
    product_id: ProductId,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<PriceChangeRow>> {
    let mut q = history::table
        .filter(history::product_id.eq(product_id))
        .select(PriceChangeRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(history::id.lt(after));
    }
    q.order(history::id.desc()).limit(limit).load(conn)
}

/// Products with their seller's name and active flag.
pub fn with_sellers(
    conn: &mut PgConnection,
    ids: &[ProductId],
) -> QueryResult<Vec<(ProductRow, String, bool)>> {
    p::table
        .inner_join(sellers::table)
        .filter(p::id.eq_any(ids))
        .select((
            ProductRow::as_select(),
            sellers::display_name,
            sellers::active,
        ))
        .load(conn)
}

/// The seller's product with `sku`.
pub fn find_by_sku(
    conn: &mut PgConnection,
    seller_id: SellerId,
    sku: &str,
) -> QueryResult<Option<ProductRow>> {
    p::table
        .filter(p::seller_id.eq(seller_id))
        .filter(p::sku.eq(sku))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}
