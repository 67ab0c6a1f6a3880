//! Low-stock alerts: raised once when available falls to the threshold,
//! cleared when a restock lifts it, listed and acknowledged by the seller or
//! an operator; each raise also goes to the outbox.

use diesel::prelude::*;
use uuid::Uuid;

use super::repo::{self, AlertFilter};
use super::{AlertRow, AlertStatus, StockRow};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode};
use crate::ids::SellerId;
use crate::outbox;
use crate::pagination::{Cursor, PageRequest};

/// Raises one alert when available is at or below the threshold and none is
/// live; clears the live one when more units on hand lift it above.
pub(super) fn check_alerts(
    conn: &mut PgConnection,
    row: &StockRow,
    may_clear: bool,
) -> Result<(), AppError> {
    let available = row.on_hand - row.reserved - row.safety_stock;
    if available <= row.low_stock_threshold {
        // The stock row is locked by this transaction, so no one else can
        // raise an alert for this product between the check and the insert.
        if repo::live_alert(conn, row.product_id)?.is_none() {
            let seller_id = repo::product_sellers(conn, &[row.product_id])?
                .first()
                .map(|(_, s)| *s)
                .ok_or(AppError::NotFound("product"))?;
            let alert = AlertRow {
                id: Uuid::now_v7(),
                product_id: row.product_id,
                seller_id,
                available: available.max(0),
                threshold: row.low_stock_threshold,
                status: AlertStatus::Open,
                raised_at: crate::db::now(),
                acknowledged_at: None,
                acknowledged_by: None,
                cleared_at: None,
            };
            repo::insert_alert(conn, &alert)?;
            outbox::enqueue(
                conn,
                &outbox::Message::LowStock(outbox::LowStock {
                    alert_id: alert.id,
                    product_id: alert.product_id,
                    seller_id: alert.seller_id,
                    available: alert.available,
                    threshold: alert.threshold,
                }),
            )?;
        }
    } else if may_clear {
        repo::clear_alerts(conn, row.product_id)?;
    }
    Ok(())
}

/// Alerts a seller (its own) or an operator (any, or one seller's) may see.
pub fn list_alerts(
    conn: &mut PgConnection,
    actor: &Principal,
    seller_id: Option<SellerId>,
    statuses: Vec<AlertStatus>,
    page: &PageRequest,
) -> Result<(Vec<AlertRow>, Option<String>), AppError> {
    actor.require_any(&[Role::Seller, Role::Admin, Role::Support])?;
    let seller_id = if actor.is_operator() {
        seller_id
    } else {
        let own = actor
            .acting_seller()
            .ok_or_else(|| AppError::forbidden("the seller role needs a seller_id claim"))?;
        if seller_id.is_some_and(|s| s != own) {
            return Err(AppError::forbidden("sellers see only their own alerts"));
        }
        Some(own)
    };
    let filter = AlertFilter {
        seller_id,
        statuses,
        before_id: page.after.as_ref().map(|c| c.id),
    };
    let rows = repo::list_alerts(conn, &filter, page.fetch())?;
    Ok(page.finish(rows, |a| Cursor {
        key: None,
        id: a.id,
    }))
}

/// Acknowledges an open alert (its seller or an admin).
pub fn acknowledge_alert(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<AlertRow, AppError> {
    actor.require_any(&[Role::Seller, Role::Admin])?;
    conn.transaction(|conn| {
        let alert = repo::lock_alert(conn, id)?.ok_or(AppError::NotFound("alert"))?;
        if !actor.manages_seller(alert.seller_id) {
            return Err(AppError::NotFound("alert"));
        }
        if alert.status != AlertStatus::Open {
            return Err(AppError::conflict(
                ErrorCode::AlertNotOpen,
                format!("the alert is {}", alert.status),
            ));
        }
        Ok(repo::acknowledge_alert(conn, id, actor.user_id)?)
    })
}
