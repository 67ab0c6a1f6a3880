//! The cart event stream (`GET /carts/{id}/events`, server-sent events across
//! instances) and the single-use tickets browsers open it with.

use actix_web::http::header::{self};
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::carts::service::{self, Caller};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::problem::Problem;

struct Watch {
    rx: tokio::sync::broadcast::Receiver<crate::events::Event>,
    pool: web::Data<DbPool>,
    cart_id: crate::ids::CartId,
    products: std::collections::HashSet<crate::ids::ProductId>,
    sellers: std::collections::HashSet<crate::ids::SellerId>,
    first: Option<String>,
}

fn sse(event: &str, data: serde_json::Value) -> web::Bytes {
    web::Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// How long a quiet stream waits before sending a keep-alive comment.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

async fn next_event(mut w: Watch) -> Option<(Result<web::Bytes, actix_web::Error>, Watch)> {
    use crate::events::Event;
    use tokio::sync::broadcast::error::RecvError;
    if let Some(first) = w.first.take() {
        return Some((Ok(web::Bytes::from(first)), w));
    }
    loop {
        let id = w.cart_id;
        let stale = |reason: &str, product: Option<Uuid>| {
            sse(
                "cart_stale",
                serde_json::json!({"cart_id": id, "reason": reason, "product_id": product}),
            )
        };
        match tokio::time::timeout(KEEP_ALIVE, w.rx.recv()).await {
            Err(_) => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), w)),
            Ok(Err(RecvError::Closed)) => return None,
            Ok(Err(RecvError::Lagged(_))) => return Some((Ok(stale("missed_events", None)), w)),
            Ok(Ok(Event::Cart {
                id: changed,
                version,
            })) if changed == id => {
                if let Ok(ids) = db::run(&w.pool, move |c| service::product_ids(c, id)).await {
                    w.products = ids.iter().map(|(p, _)| *p).collect();
                    w.sellers = ids.iter().map(|(_, s)| *s).collect();
                }
                let data = serde_json::json!({"cart_id": id, "version": version});
                return Some((Ok(sse("cart_changed", data)), w));
            }
            Ok(Ok(Event::Product { id: product })) if w.products.contains(&product) => {
                return Some((Ok(stale("product", Some(product.uuid()))), w));
            }
            Ok(Ok(Event::Seller { id: seller })) if w.sellers.contains(&seller) => {
                return Some((Ok(stale("seller", None)), w));
            }
            Ok(Ok(Event::Rate)) => return Some((Ok(stale("exchange_rate", None)), w)),
            Ok(Ok(_)) => {}
        }
    }
}

/// Query of `stream_cart_events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A stream ticket from `create_cart_stream_ticket`, for browsers'
    /// `EventSource` (which cannot send headers): single use, 60 seconds.
    pub ticket: Option<String>,
}

/// A stream ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamTicket {
    /// Pass it as `?ticket=` to the cart's event stream; it works once.
    pub ticket: String,
    /// It must be used before this.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The stream URL with the ticket, ready for `new EventSource(url)`.
    #[schema(example = "/api/v1/carts/0190f0c8-0000-7000-8000-000000000001/events?ticket=...")]
    pub url: String,
}

/// Issues a single-use ticket to open the cart's event stream from a browser.
///
/// `EventSource` cannot send an `Authorization` or `X-Cart-Token` header;
/// whoever may read the cart (its owner, its guest token, an operator) asks
/// for a ticket here with those headers, then opens
/// `GET /api/v1/carts/{cart_id}/events?ticket=...`. A ticket works once,
/// for this cart only, within 60 seconds; only its hash is stored, and query
/// strings are not written to the access log. Reconnecting needs a new ticket.
#[utoipa::path(
    tag = "carts",
    operation_id = "create_cart_stream_ticket",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = String, Header, description = "The guest cart token (guests)")),
    responses(
        (status = 201, description = "A ticket", body = StreamTicket),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/carts/{cart_id}/events/tickets")]
pub async fn create_cart_stream_ticket(
    pool: web::Data<DbPool>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (ticket, expires_at) = db::run(&pool, move |c| {
        service::issue_stream_ticket(c, &caller, id.into())
    })
    .await?;
    Ok(HttpResponse::Created().json(StreamTicket {
        url: format!("/api/v1/carts/{id}/events?ticket={ticket}"),
        ticket,
        expires_at,
    }))
}

/// Streams a cart's changes as server-sent events.
///
/// The owner, the guest (`X-Cart-Token`) or an operator. Events:
/// `cart` (first, with the current version), `cart_changed` (another device
/// changed the cart: `version`), `cart_stale` (something the cart shows
/// moved: `reason` is `product` with `product_id` for a price, availability
/// or safety-stock change, `seller` when a seller on the cart is activated or
/// deactivated, `exchange_rate` when a rate takes effect, including a
/// scheduled one at its `effective_at`, or `missed_events`; read the cart for
/// notices).
/// Works across any number of API instances (PostgreSQL LISTEN/NOTIFY); a
/// comment line every 15 s keeps proxies from closing it.
#[utoipa::path(
    tag = "carts",
    operation_id = "stream_cart_events",
    security((), ("bearer_auth" = [])),
    params(("cart_id" = Uuid, Path, description = "The cart id"),
           ("X-Cart-Token" = Option<String>, Header, description = "The guest cart token"), StreamQuery),
    responses(
        (status = 200, description = "An event stream", body = String, content_type = "text/event-stream"),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/carts/{cart_id}/events")]
pub async fn stream_cart_events(
    pool: web::Data<DbPool>,
    hub: web::Data<crate::events::Hub>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: crate::http::extract::Query<StreamQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let hub = hub.into_inner();
    let ticket = query.into_inner().ticket;
    let (rx, view) = db::run(&pool, move |c| {
        // Subscribe before reading, so no change between the two is missed.
        let rx = hub.subscribe();
        let view = match ticket {
            Some(t) => service::redeem_stream_ticket(c, id.into(), &t)?,
            None => service::get_cart(c, &caller, id.into())?,
        };
        Ok((rx, view))
    })
    .await?;
    let first = format!(
        "retry: 3000\nevent: cart\ndata: {}\n\n",
        serde_json::json!({"cart_id": id, "version": view.cart.version})
    );
    let watch = Watch {
        rx,
        pool,
        cart_id: id.into(),
        products: view.lines.iter().map(|l| l.row.product_id).collect(),
        sellers: view.lines.iter().map(|l| l.row.seller_id).collect(),
        first: Some(first),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(watch, next_event)))
}
