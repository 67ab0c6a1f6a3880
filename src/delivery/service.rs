//! Delivery-option use cases: sellers (and admins) manage their options;
//! anyone lists a seller's active options; a quote prices them for a cart's
//! sellers and an address.

use std::collections::HashMap;

use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DeliveryOptionRow, repo};
use crate::auth::{Principal, Role};
use crate::carts::service::{self as carts, Caller};
use crate::error::AppError;
use crate::ids::{CartId, ProductId, SellerId};
use crate::money::DualPrice;

/// Most options one seller may keep.
pub const MAX_OPTIONS: usize = 30;

/// A seller's active options, cheapest base cost first.
pub fn list_for_seller(
    conn: &mut PgConnection,
    seller_id: SellerId,
) -> Result<Vec<DeliveryOptionRow>, AppError> {
    Ok(repo::active_of_seller(conn, seller_id)?)
}

fn authorize(actor: &Principal, seller_id: SellerId) -> Result<(), AppError> {
    actor.require_any(&[Role::Seller, Role::Admin])?;
    if actor.manages_seller(seller_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "sellers manage only their own delivery options",
        ))
    }
}

/// Creates an option for a seller.
pub fn create(
    conn: &mut PgConnection,
    actor: &Principal,
    row: DeliveryOptionRow,
) -> Result<DeliveryOptionRow, AppError> {
    authorize(actor, row.seller_id)?;
    conn.transaction(|conn| {
        crate::sellers::service::get_seller(conn, Some(actor), row.seller_id)?;
        if list_for_seller(conn, row.seller_id)?.len() >= MAX_OPTIONS {
            return Err(AppError::conflict(
                crate::error::ErrorCode::Conflict,
                format!("at most {MAX_OPTIONS} options"),
            ));
        }
        repo::insert(conn, &row)?;
        Ok(row)
    })
}

/// Replaces an option's fields (its seller or an admin); `change` edits the current row.
pub fn update(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    change: impl FnOnce(&mut DeliveryOptionRow) -> Result<(), AppError>,
) -> Result<DeliveryOptionRow, AppError> {
    conn.transaction(|conn| {
        let mut row = repo::lock(conn, id)?.ok_or(AppError::NotFound("delivery option"))?;
        authorize(actor, row.seller_id)?;
        change(&mut row)?;
        row.updated_at = crate::db::now();
        repo::save(conn, &row)?;
        Ok(row)
    })
}

/// One priced option.
#[derive(Debug, Clone)]
pub struct PricedOption {
    /// The option.
    pub option: DeliveryOptionRow,
    /// Its cost for this seller's part of the cart.
    pub cost: DualPrice,
}

/// The options of one seller in the cart.
#[derive(Debug, Clone)]
pub struct SellerQuote {
    /// The seller.
    pub seller_id: SellerId,
    /// Its shop name.
    pub seller_name: String,
    /// Its part of the subtotal.
    pub subtotal: DualPrice,
    /// The weight of its lines, kg.
    pub weight_kg: Decimal,
    /// Options that reach the address, cheapest first.
    pub options: Vec<PricedOption>,
}

/// Prices every seller's options for the cart's counted lines and the
/// caller's address.
pub fn quote_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: CartId,
    address_id: Uuid,
) -> Result<Vec<SellerQuote>, AppError> {
    let user = caller.principal.as_ref().ok_or_else(|| {
        AppError::Unauthorized("a delivery quote needs a signed-in user (for the address)".into())
    })?;
    conn.transaction(|conn| {
        let address = crate::addresses::service::get(conn, user, address_id)?;
        let view = carts::get_cart(conn, caller, cart_id)?;
        let rate = view.rate.as_ref().map_or(Decimal::ZERO, |r| r.rate);
        let ids: Vec<ProductId> = view.lines.iter().map(|l| l.row.product_id).collect();
        let facts = crate::products::service::facts(conn, &ids)?;
        let mut weight: HashMap<SellerId, Decimal> = HashMap::new();
        for line in view.lines.iter().filter(|l| l.counted) {
            let per_unit = facts
                .get(&line.row.product_id)
                .and_then(|f| f.product.weight_kg)
                .unwrap_or_default();
            *weight.entry(line.row.seller_id).or_default() +=
                per_unit * Decimal::from(line.row.quantity.get());
        }
        let mut quotes = vec![];
        for seller in &view.summary.sellers {
            let weight_kg = weight.get(&seller.seller_id).copied().unwrap_or_default();
            let mut options: Vec<PricedOption> = list_for_seller(conn, seller.seller_id)?
                .into_iter()
                .filter(|o| o.serves(&address.state, &address.municipality))
                .map(|option| {
                    let usd = option.cost_usd(seller.subtotal.usd, weight_kg);
                    PricedOption {
                        cost: DualPrice::at_rate(usd, rate),
                        option,
                    }
                })
                .collect();
            options.sort_by(|a, b| {
                a.cost
                    .usd
                    .cmp(&b.cost.usd)
                    .then(a.option.max_days.cmp(&b.option.max_days))
            });
            quotes.push(SellerQuote {
                seller_id: seller.seller_id,
                seller_name: seller.seller_name.clone(),
                subtotal: seller.subtotal,
                weight_kg,
                options,
            });
        }
        Ok(quotes)
    })
}
