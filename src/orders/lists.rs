//! Order lists: the buyer's, the seller's or every order, filtered by dates,
//! statuses, seller and a search on the number or product names, newest first
//! with cursor pagination.

use diesel::PgConnection;

use super::state::{OrderStatus, PaymentStatus, ShippingStatus};
use super::{OrderId, OrderItemRow, OrderRow, repo};
use crate::auth::Principal;
use crate::error::AppError;
use crate::ids::SellerId;

/// An order and its lines.
pub type OrderWithItems = (OrderRow, Vec<OrderItemRow>);

/// Whose orders a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Orders the caller placed.
    Buyer,
    /// Orders of the seller the caller acts for.
    Seller,
    /// Every order (operators).
    All,
}

/// Filters of the order list.
#[derive(Debug, Clone)]
pub struct OrderFilter {
    /// Whose orders.
    pub view: View,
    /// Placed at or after.
    pub created_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Placed before.
    pub created_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Main status.
    pub status: Option<OrderStatus>,
    /// Payment status.
    pub payment_status: Option<PaymentStatus>,
    /// Shipping status.
    pub shipping_status: Option<ShippingStatus>,
    /// One seller's orders (buyers and operators).
    pub seller_id: Option<SellerId>,
    /// Order number (prefix, with or without `CN-`) or a product name in it.
    pub q: Option<String>,
    /// The page.
    pub page: crate::pagination::PageRequest,
}

/// The caller's view when the request names none: operators see all,
/// sellers their shop's orders, everybody else their own purchases.
pub fn default_view(viewer: &Principal) -> View {
    if viewer.is_operator() {
        View::All
    } else if viewer.acting_seller().is_some() {
        View::Seller
    } else {
        View::Buyer
    }
}

/// A page of orders, newest first, with their lines, and the next cursor.
pub fn list(
    conn: &mut PgConnection,
    viewer: &Principal,
    f: &OrderFilter,
) -> Result<(Vec<OrderWithItems>, Option<String>), AppError> {
    let mut q = repo::ListQuery {
        seller_id: f.seller_id,
        created_from: f.created_from,
        created_to: f.created_to,
        status: f.status,
        payment_status: f.payment_status,
        shipping_status: f.shipping_status,
        before_id: f.page.after.as_ref().map(|a| OrderId::from(a.id)),
        limit: f.page.fetch(),
        ..repo::ListQuery::default()
    };
    match f.view {
        View::Buyer => q.user_id = Some(viewer.user_id),
        View::Seller => {
            let seller = viewer
                .acting_seller()
                .ok_or_else(|| AppError::forbidden("the seller view needs the seller role"))?;
            if f.seller_id.is_some_and(|s| s != seller) {
                return Err(AppError::forbidden("sellers see only their own orders"));
            }
            q.seller_id = Some(seller);
        }
        View::All => {
            if !viewer.is_operator() {
                return Err(AppError::forbidden("only operators see every order"));
            }
        }
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let upper = text.to_uppercase();
        let number = if upper.starts_with("CN-") {
            upper
        } else {
            format!("CN-{upper}")
        };
        q.number_prefix_or_item = Some((number, text.to_string()));
    }
    let rows = repo::list(conn, &q)?;
    let (rows, next) = f.page.finish(rows, |r| crate::pagination::Cursor {
        key: None,
        id: r.id.uuid(),
    });
    let ids: Vec<OrderId> = rows.iter().map(|r| r.id).collect();
    let mut items: std::collections::HashMap<OrderId, Vec<OrderItemRow>> =
        std::collections::HashMap::new();
    for item in repo::items_of_many(conn, &ids)? {
        items.entry(item.order_id).or_default().push(item);
    }
    Ok((
        rows.into_iter()
            .map(|r| {
                let lines = items.remove(&r.id).unwrap_or_default();
                (r, lines)
            })
            .collect(),
        next,
    ))
}
