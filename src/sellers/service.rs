//! Seller use cases: who may create, read and change a seller.

use diesel::prelude::*;

use super::{SellerChanges, SellerRow, repo};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::ids::SellerId;
use crate::pagination::{Cursor, PageRequest};

/// What an admin supplies to create a seller.
#[derive(Debug, Clone)]
pub struct NewSeller {
    /// The seller id used in staff tokens.
    pub id: SellerId,
    /// Public shop name.
    pub display_name: String,
    /// Whether it starts active.
    pub active: bool,
}

/// Creates a seller (admins only); 409 when the id is taken.
pub fn create_seller(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewSeller,
) -> Result<SellerRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    let now = crate::db::now();
    let row = SellerRow {
        id: new.id,
        display_name: new.display_name,
        active: new.active,
        created_at: now,
        updated_at: now,
    };
    conn.transaction(|conn| match repo::insert_if_absent(conn, &row)? {
        true => Ok(row),
        false => Err(AppError::conflict(
            ErrorCode::DuplicateSeller,
            format!("a seller with id {} already exists", row.id),
        )),
    })
}

/// Reads a seller: active ones are public; inactive ones only for
/// operators and the seller itself (404 for others, so existence does not leak).
pub fn get_seller(
    conn: &mut PgConnection,
    viewer: Option<&Principal>,
    id: SellerId,
) -> Result<SellerRow, AppError> {
    let seller = repo::find_by_id(conn, id)?.ok_or(AppError::NotFound("seller"))?;
    let privileged = viewer.is_some_and(|v| v.is_operator() || v.acting_seller() == Some(id));
    if seller.active || privileged {
        Ok(seller)
    } else {
        Err(AppError::NotFound("seller"))
    }
}

/// Lists every seller by id (operators only).
pub fn list_sellers(
    conn: &mut PgConnection,
    actor: &Principal,
    page: &PageRequest,
) -> Result<(Vec<SellerRow>, Option<String>), AppError> {
    actor.require_any(&[Role::Admin, Role::Support])?;
    let rows = repo::list(conn, page.after.as_ref().map(|c| c.id), page.fetch())?;
    Ok(page.finish(rows, |s| Cursor {
        key: None,
        id: s.id.uuid(),
    }))
}

/// Changes a seller. Admins change anything; a seller may rename itself but
/// not change its own active flag.
pub fn update_seller(
    conn: &mut PgConnection,
    actor: &Principal,
    id: SellerId,
    display_name: Option<String>,
    active: Option<bool>,
) -> Result<SellerRow, AppError> {
    if !actor.manages_seller(id) {
        return Err(if actor.is_operator() || actor.has(Role::Seller) {
            AppError::forbidden("you may only change your own seller profile")
        } else {
            AppError::forbidden("requires the admin or seller role")
        });
    }
    if active.is_some() && !actor.is_admin() {
        return Err(AppError::forbidden(
            "only an admin can activate or deactivate a seller",
        ));
    }
    conn.transaction(|conn| {
        let before = repo::lock_by_id(conn, id)?.ok_or(AppError::NotFound("seller"))?;
        let changes = SellerChanges {
            display_name,
            active,
            updated_at: Some(crate::db::now()),
        };
        let row = repo::update(conn, id, &changes)?;
        // Its products become (un)available in every cart that holds them.
        if row.active != before.active {
            crate::events::notify(conn, &crate::events::Event::Seller { id })?;
        }
        Ok(row)
    })
}
