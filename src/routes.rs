//! Every route of the service, in one place, and the fallback that answers
//! 404 or 405 (with `Allow`) as problem+json for paths no route takes.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::AppError;
use crate::http::health;
use crate::{
    addresses, carts, checkout, delivery, fees, inventory, orders, payments, products, rates,
    sellers, webhooks, wishlists,
};

/// The served OpenAPI document (`crate::openapi::spec`), computed once at startup.
#[derive(Debug, Clone)]
pub struct SpecJson(pub String);

/// Serves the OpenAPI document at `/api/v1/openapi.json`.
pub async fn serve_spec(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0.clone())
}

/// Registers the health probes and the `/api/v1` API. Handlers registered
/// with `.service` appear in the OpenAPI document; `.route` ones do not.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::liveness)
        .service(health::readiness)
        .service(health::metrics)
        .service(
            scope("/api/v1")
                .route("/openapi.json", web::get().to(serve_spec))
                .service(sellers::api::create_seller)
                .service(sellers::api::list_sellers)
                .service(sellers::api::get_seller)
                .service(sellers::api::update_seller)
                .service(products::api::create_product)
                .service(products::api::list_products)
                .service(products::api::get_product)
                .service(products::api::update_product)
                .service(products::api::deactivate_product)
                .service(products::api::list_product_price_history)
                .service(rates::api::create_exchange_rate)
                .service(rates::api::get_current_exchange_rate)
                .service(rates::api::list_exchange_rates)
                .service(inventory::api::get_stock)
                .service(inventory::api::set_stock)
                .service(inventory::api::adjust_stock)
                .service(inventory::api::restock)
                .service(inventory::api::list_stock_movements)
                .service(inventory::api::check_availability)
                .service(inventory::api::create_reservation)
                .service(inventory::api::get_reservation)
                .service(inventory::api::release_reservation)
                .service(inventory::api::commit_reservation)
                .service(inventory::api::extend_reservation)
                .service(inventory::api::list_stock_alerts)
                .service(inventory::api::acknowledge_stock_alert)
                .service(fees::api::list_fee_rules)
                .service(fees::api::create_fee_rule)
                .service(fees::api::update_fee_rule)
                // Literal segments first, so `me` and `merge` are not taken for a cart id.
                .service(carts::api::get_my_cart)
                .service(carts::api::merge_cart)
                .service(carts::api::create_cart)
                .service(carts::api::get_cart)
                .service(carts::api::add_cart_item)
                .service(carts::api::update_cart_item)
                .service(carts::api::remove_cart_item)
                .service(carts::api::clear_cart)
                .service(carts::api::save_cart_item_for_later)
                .service(carts::api::move_cart_item_to_cart)
                .service(carts::api::batch_update_cart)
                .service(carts::api::stream_cart_events)
                .service(carts::api::create_cart_stream_ticket)
                .service(carts::api::move_cart_item_to_wishlist)
                .service(carts::api::share_cart)
                .service(carts::api::revoke_cart_share)
                .service(carts::api::get_shared_cart)
                .service(carts::api::copy_shared_cart)
                .service(carts::api::create_group_cart)
                .service(carts::api::join_group_cart)
                .service(carts::api::leave_group_cart)
                .service(carts::api::remove_group_cart_participant)
                .service(carts::api::rotate_group_cart_invite)
                .service(wishlists::api::list_wishlists)
                .service(wishlists::api::create_wishlist)
                .service(wishlists::api::get_wishlist)
                .service(wishlists::api::rename_wishlist)
                .service(wishlists::api::delete_wishlist)
                .service(wishlists::api::add_wishlist_item)
                .service(wishlists::api::remove_wishlist_item)
                .service(carts::api::add_wishlist_item_to_cart)
                .service(wishlists::api::share_wishlist)
                .service(wishlists::api::unshare_wishlist)
                .service(wishlists::api::get_shared_wishlist)
                .service(addresses::api::list_addresses)
                .service(addresses::api::create_address)
                .service(addresses::api::get_address)
                .service(addresses::api::update_address)
                .service(addresses::api::set_default_address)
                .service(addresses::api::delete_address)
                .service(delivery::api::list_delivery_options)
                .service(delivery::api::create_delivery_option)
                .service(delivery::api::update_delivery_option)
                .service(delivery::api::quote_cart_delivery)
                .service(payments::api::list_payment_methods)
                .service(payments::api::update_payment_method)
                .service(payments::api::create_payment_method)
                .service(payments::api::retire_payment_method)
                .service(checkout::api::start_checkout)
                .service(checkout::api::get_checkout)
                .service(checkout::api::update_checkout)
                .service(checkout::api::place_order)
                .service(orders::api::list_orders)
                .service(orders::api::get_order)
                .service(orders::api::get_order_timeline)
                .service(orders::api::update_shipping)
                .service(orders::api::override_order)
                .service(orders::api::report_payment)
                .service(orders::api::verify_payment)
                .service(orders::api::reject_payment)
                .service(orders::api::collect_payment)
                .service(orders::api::cancel_order)
                .service(webhooks::api::create_webhook_endpoint)
                .service(webhooks::api::list_webhook_endpoints)
                .service(webhooks::api::get_webhook_endpoint)
                .service(webhooks::api::update_webhook_endpoint)
                .service(webhooks::api::delete_webhook_endpoint)
                .service(webhooks::api::rotate_webhook_secret)
                .service(webhooks::api::test_webhook_endpoint)
                .service(webhooks::api::list_webhook_deliveries)
                .service(webhooks::api::redeliver_webhook),
        );
}

/// The paths the service answers and the methods each accepts.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    /// Builds the table from the OpenAPI document plus the undocumented routes.
    pub fn from_spec(spec: &serde_json::Value) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_ascii_uppercase())
                    .filter(|m| Method::from_bytes(m.as_bytes()).is_ok())
                    .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        for extra in ["/api/v1/openapi.json", "/docs"] {
            routes.push((ResourceDef::new(extra), vec!["GET".into()]));
        }
        Self { routes }
    }

    /// The methods accepted at `path`, if any route matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allow: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        if allow.is_empty() {
            return None;
        }
        allow.sort();
        allow.dedup();
        Some(allow)
    }
}

/// Default service: 405 with `Allow` when the path exists, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, AppError> {
    Err(match table.allowed(req.path()) {
        Some(allow) => AppError::MethodNotAllowed { allow },
        None => AppError::RouteNotFound,
    })
}
