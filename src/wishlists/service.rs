//! Wishlist use cases. Lists belong to one user; nobody else sees them
//! except through a share link, which is read-only and revocable.

use diesel::prelude::*;
use uuid::Uuid;

use super::{WishlistItemRow, WishlistRow, repo};
use crate::auth::{Principal, tokens};
use crate::error::{AppError, ErrorCode};
use crate::ids::ProductId;
use crate::inventory::StockRow;
use crate::products::service::{self as products, ProductFacts};
use crate::rates::{self, RateRow};

/// Most lists one user may keep.
pub const MAX_LISTS: usize = 50;
/// The name of the default list.
pub const DEFAULT_NAME: &str = "Favoritos";

/// A list with its item count.
#[derive(Debug, Clone)]
pub struct ListSummary {
    /// The list.
    pub list: WishlistRow,
    /// Products on it.
    pub items: i64,
}

/// One product on a list, as it is now.
#[derive(Debug, Clone)]
pub struct ItemView {
    /// The row.
    pub item: WishlistItemRow,
    /// The product now (absent if it no longer exists).
    pub product: Option<ProductFacts>,
    /// Its stock now.
    pub stock: Option<StockRow>,
}

/// A list with its products.
#[derive(Debug, Clone)]
pub struct ListView {
    /// The list.
    pub list: WishlistRow,
    /// Its products, newest first.
    pub items: Vec<ItemView>,
    /// The rate for VES prices.
    pub rate: Option<RateRow>,
}

fn ensure_default(conn: &mut PgConnection, user_id: Uuid) -> Result<WishlistRow, AppError> {
    if let Some(list) = repo::default_of(conn, user_id)? {
        return Ok(list);
    }
    let now = crate::db::now();
    repo::insert_if_free(
        conn,
        &WishlistRow {
            id: Uuid::now_v7(),
            user_id,
            name: DEFAULT_NAME.into(),
            is_default: true,
            share_token_hash: None,
            created_at: now,
            updated_at: now,
        },
    )?;
    repo::default_of(conn, user_id)?
        .ok_or_else(|| AppError::internal("the default wishlist vanished"))
}

/// The user's lists (the default one is created on first use).
pub fn list_wishlists(
    conn: &mut PgConnection,
    user: &Principal,
) -> Result<Vec<ListSummary>, AppError> {
    conn.transaction(|conn| {
        ensure_default(conn, user.user_id)?;
        let lists = repo::of_user(conn, user.user_id)?;
        let ids: Vec<Uuid> = lists.iter().map(|l| l.id).collect();
        let counts: std::collections::HashMap<Uuid, i64> =
            repo::counts(conn, &ids)?.into_iter().collect();
        Ok(lists
            .into_iter()
            .map(|list| ListSummary {
                items: counts.get(&list.id).copied().unwrap_or(0),
                list,
            })
            .collect())
    })
}

fn name_taken(name: &str) -> AppError {
    AppError::conflict(
        ErrorCode::Conflict,
        format!("you already have a list named {name:?}"),
    )
}

/// Creates a named list; 409 when the user has one with that name.
pub fn create_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    name: String,
) -> Result<WishlistRow, AppError> {
    conn.transaction(|conn| {
        ensure_default(conn, user.user_id)?;
        if repo::of_user(conn, user.user_id)?.len() >= MAX_LISTS {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                format!("at most {MAX_LISTS} lists"),
            ));
        }
        let now = crate::db::now();
        let row = WishlistRow {
            id: Uuid::now_v7(),
            user_id: user.user_id,
            name,
            is_default: false,
            share_token_hash: None,
            created_at: now,
            updated_at: now,
        };
        if repo::insert_if_free(conn, &row)? {
            Ok(row)
        } else {
            Err(name_taken(&row.name))
        }
    })
}

/// Locks one of the user's lists; 404 for anyone else's.
fn own(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<WishlistRow, AppError> {
    repo::lock(conn, id)?
        .filter(|l| l.user_id == user.user_id)
        .ok_or(AppError::NotFound("wishlist"))
}

fn view(conn: &mut PgConnection, list: WishlistRow) -> Result<ListView, AppError> {
    let items = repo::items_of(conn, list.id)?;
    let ids: Vec<ProductId> = items.iter().map(|i| i.product_id).collect();
    let mut facts = products::facts(conn, &ids)?;
    let mut stock = crate::inventory::service::stock_of(conn, &ids)?;
    Ok(ListView {
        items: items
            .into_iter()
            .map(|item| ItemView {
                product: facts.remove(&item.product_id),
                stock: stock.remove(&item.product_id),
                item,
            })
            .collect(),
        list,
        rate: rates::service::current_rate(conn)?,
    })
}

/// One of the user's lists with its products.
pub fn get_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
) -> Result<ListView, AppError> {
    conn.transaction(|conn| {
        let list = own(conn, user, id)?;
        view(conn, list)
    })
}

/// Renames a list (not the default one).
pub fn rename_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    name: String,
) -> Result<ListView, AppError> {
    conn.transaction(|conn| {
        let list = own(conn, user, id)?;
        if list.is_default {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                "the default list keeps its name",
            ));
        }
        let taken = repo::of_user(conn, user.user_id)?
            .iter()
            .any(|l| l.id != id && l.name.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(name_taken(&name));
        }
        repo::rename(conn, id, &name)?;
        let list = own(conn, user, id)?;
        view(conn, list)
    })
}

/// Deletes a list (not the default one).
pub fn delete_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let list = own(conn, user, id)?;
        if list.is_default {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                "the default list cannot be deleted",
            ));
        }
        Ok(repo::delete(conn, id)?)
    })
}

/// Adds a product to a list (`None`: the default list); harmless when present.
pub fn add_item(
    conn: &mut PgConnection,
    user: &Principal,
    id: Option<Uuid>,
    product_id: ProductId,
) -> Result<ListView, AppError> {
    conn.transaction(|conn| {
        let list = match id {
            Some(id) => own(conn, user, id)?,
            None => ensure_default(conn, user.user_id)?,
        };
        if products::facts(conn, &[product_id])?.is_empty() {
            return Err(AppError::invalid("product_id", "no product has this id"));
        }
        repo::add_item(conn, list.id, product_id)?;
        view(conn, list)
    })
}

/// Removes a product from a list.
pub fn remove_item(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    product_id: ProductId,
) -> Result<ListView, AppError> {
    conn.transaction(|conn| {
        let list = own(conn, user, id)?;
        if repo::remove_item(conn, id, product_id)? == 0 {
            return Err(AppError::NotFound("wishlist item"));
        }
        view(conn, list)
    })
}

/// True when the product is on the user's list (for quick-add).
pub fn require_item(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    product_id: ProductId,
) -> Result<(), AppError> {
    let list = own(conn, user, id)?;
    if repo::items_of(conn, list.id)?
        .iter()
        .any(|i| i.product_id == product_id)
    {
        Ok(())
    } else {
        Err(AppError::NotFound("wishlist item"))
    }
}

/// Shares a list: returns a new read-only link token (an older one stops working).
pub fn share(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<String, AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        own(conn, user, id)?;
        repo::set_share(conn, id, Some(tokens::hash_token(&token)))?;
        Ok(token)
    })
}

/// Stops sharing a list.
pub fn unshare(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<(), AppError> {
    conn.transaction(|conn| {
        own(conn, user, id)?;
        Ok(repo::set_share(conn, id, None)?)
    })
}

/// A shared list, read-only, by its link token.
pub fn shared(conn: &mut PgConnection, token: &str) -> Result<ListView, AppError> {
    let list = repo::by_share_hash(conn, &tokens::hash_token(token))?
        .ok_or(AppError::NotFound("shared wishlist"))?;
    view(conn, list)
}
