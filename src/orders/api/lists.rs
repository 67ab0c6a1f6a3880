//! HTTP DTOs and the handler of the order list (`GET /api/v1/orders`).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::Serialize;
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{OrderItemResponse, OrderSummary};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::extract::check_query;
use crate::http::problem::Problem;
use crate::orders::service;
use crate::orders::state::{OrderStatus, PaymentStatus, ShippingStatus};
use crate::pagination::PageRequest;

/// Whose orders `list_orders` shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderView {
    /// Orders the caller placed.
    Buyer,
    /// Orders of the seller the caller acts for.
    Seller,
    /// Every order (operators).
    All,
}

/// Query of `list_orders`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// Whose orders: default `all` for operators, `seller` for sellers, `buyer` otherwise.
    #[param(inline)]
    pub view: Option<OrderView>,
    /// Placed at or after (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// Main status.
    #[param(inline)]
    pub status: Option<OrderStatus>,
    /// Payment status.
    #[param(inline)]
    pub payment_status: Option<PaymentStatus>,
    /// Shipping status.
    #[param(inline)]
    pub shipping_status: Option<ShippingStatus>,
    /// One seller's orders.
    pub seller_id: Option<Uuid>,
    /// An order number (`CN-001042`, or a prefix such as `0010`) or part of a product name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An order in a list: money, statuses and lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderListItem {
    /// Money and statuses.
    #[serde(flatten)]
    pub summary: OrderSummary,
    /// The buyer.
    pub user_id: Uuid,
    /// The lines.
    pub items: Vec<OrderItemResponse>,
}

crate::page_type!(OrderPage, OrderListItem, "A page of orders, newest first.");

/// Lists orders, newest first.
///
/// Buyers see the orders they placed, sellers their shop's orders, operators
/// every order (`view` picks one of these when the caller has several roles).
/// Filters combine; `q` matches an order number prefix or a product name.
#[utoipa::path(tag = "orders", operation_id = "list_orders",
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A view the caller's roles do not allow", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/orders")]
pub async fn list_orders(
    pool: web::Data<DbPool>,
    user: AuthUser,
    query: crate::http::extract::Query<ListOrdersQuery>,
) -> Result<web::Json<OrderPage>, AppError> {
    let q = query.into_inner();
    check_query(&q)?;
    if let (Some(from), Some(to)) = (q.created_from, q.created_to)
        && from >= to
    {
        return Err(AppError::bad_parameter(
            "created_to",
            "must be after created_from",
        ));
    }
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let view = match q.view {
        Some(OrderView::Buyer) => service::View::Buyer,
        Some(OrderView::Seller) => service::View::Seller,
        Some(OrderView::All) => service::View::All,
        None => service::default_view(&user),
    };
    let filter = service::OrderFilter {
        view,
        created_from: q.created_from,
        created_to: q.created_to,
        status: q.status,
        payment_status: q.payment_status,
        shipping_status: q.shipping_status,
        seller_id: q.seller_id.map(Into::into),
        q: q.q,
        page,
    };
    let (rows, next_cursor) = db::run(&pool, move |c| service::list(c, &user, &filter)).await?;
    Ok(web::Json(OrderPage {
        items: rows
            .into_iter()
            .map(|(o, lines)| OrderListItem {
                summary: (&o).into(),
                user_id: o.user_id,
                items: lines.into_iter().map(Into::into).collect(),
            })
            .collect(),
        next_cursor,
    }))
}
