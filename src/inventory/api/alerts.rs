//! Low-stock alert endpoints (`/inventory-alerts`): list the open alerts (a
//! seller its own), acknowledge one.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::problem::Problem;
use crate::inventory::service::{self};
use crate::inventory::{AlertRow, AlertStatus};
use crate::pagination::PageRequest;

/// A low-stock alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertResponse {
    /// Alert id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Its seller.
    pub seller_id: Uuid,
    /// Units available when raised.
    pub available: i32,
    /// The threshold crossed.
    pub threshold: i32,
    /// Open, acknowledged or cleared.
    pub status: AlertStatus,
    /// When raised.
    pub raised_at: DateTime<Utc>,
    /// When acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When a restock cleared it.
    pub cleared_at: Option<DateTime<Utc>>,
}

impl From<AlertRow> for AlertResponse {
    fn from(a: AlertRow) -> Self {
        Self {
            id: a.id,
            product_id: a.product_id.uuid(),
            seller_id: a.seller_id.uuid(),
            available: a.available,
            threshold: a.threshold,
            status: a.status,
            raised_at: a.raised_at,
            acknowledged_at: a.acknowledged_at,
            cleared_at: a.cleared_at,
        }
    }
}

crate::page_type!(
    AlertPage,
    AlertResponse,
    "A page of low-stock alerts, newest first."
);

/// Query of `list_stock_alerts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAlertsQuery {
    /// Only this status (default: open and acknowledged).
    pub status: Option<AlertStatus>,
    /// Only this seller (operators); sellers always see their own.
    pub seller_id: Option<Uuid>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists low-stock alerts, newest first.
///
/// Sellers see their own; operators see all (or one seller's with
/// `seller_id`). By default only live alerts (open and acknowledged).
#[utoipa::path(
    tag = "inventory",
    operation_id = "list_stock_alerts",
    params(ListAlertsQuery),
    responses(
        (status = 200, description = "A page of alerts", body = AlertPage),
        (status = 403, description = "A customer, or a seller asking for another seller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/inventory-alerts")]
pub async fn list_stock_alerts(
    pool: web::Data<DbPool>,
    user: AuthUser,
    query: crate::http::extract::Query<ListAlertsQuery>,
) -> Result<web::Json<AlertPage>, AppError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let statuses = match q.status {
        Some(s) => vec![s],
        None => vec![AlertStatus::Open, AlertStatus::Acknowledged],
    };
    let (rows, next_cursor) = db::run(&pool, move |c| {
        service::list_alerts(c, &user, q.seller_id.map(Into::into), statuses, &page)
    })
    .await?;
    Ok(web::Json(AlertPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Acknowledges an open low-stock alert.
///
/// The product's seller or an admin. The alert stays live until a restock
/// clears it.
#[utoipa::path(
    tag = "inventory",
    operation_id = "acknowledge_stock_alert",
    params(("alert_id" = Uuid, Path, description = "The alert id")),
    responses(
        (status = 200, description = "The acknowledged alert", body = AlertResponse),
        (status = 403, description = "Not a seller or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert, or another seller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not open (`alert_not_open`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/inventory-alerts/{alert_id}/acknowledge")]
pub async fn acknowledge_stock_alert(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<AlertResponse>, AppError> {
    let id = path.into_inner();
    let row = db::run(&pool, move |c| service::acknowledge_alert(c, &user, id)).await?;
    Ok(web::Json(row.into()))
}
