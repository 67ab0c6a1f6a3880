//! HTTP handlers and DTOs for `/api/v1/checkouts`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::CheckoutStatus;
use super::service::{self, Choices, Review};
use crate::carts::pricing::AppliedFee;
use crate::db::{self, DbPool};
use crate::delivery::api::DeliveryOptionResponse;
use crate::error::{AppError, FieldError, Refused};
use crate::http::extract::{AuthUser, IdempotencyKey, ValidatedJson};
use crate::http::problem::{Problem, with_current};
use crate::money::DualPrice;
use crate::payments::MethodCode;
use crate::payments::api::PaymentMethodResponse;
use crate::products::api::RateRef;

/// A line of a future order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutLineResponse {
    /// The product.
    pub product_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its SKU.
    pub sku: String,
    /// Its picture.
    pub image_url: Option<String>,
    /// Units held.
    pub quantity: i32,
    /// Unit price now.
    pub unit_price: DualPrice,
    /// Unit price times quantity.
    pub line_total: DualPrice,
}

/// One seller's future order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SellerReviewResponse {
    /// The seller.
    pub seller_id: Uuid,
    /// Its shop name.
    pub seller_name: String,
    /// Its lines.
    pub lines: Vec<CheckoutLineResponse>,
    /// Sum of the lines.
    pub subtotal: DualPrice,
    /// The chosen delivery option (absent until chosen, or if it does not reach the address).
    pub delivery_option: Option<DeliveryOptionResponse>,
    /// The delivery cost.
    pub delivery: DualPrice,
    /// Fees on this order's subtotal.
    pub fees: Vec<AppliedFee>,
    /// The payment method's surcharge (such as the 3% IGTF) on subtotal, delivery and fees.
    pub surcharge: DualPrice,
    /// The order's total: subtotal + delivery + fees + surcharge.
    pub total: DualPrice,
}

pub use crate::orders::Customization;

/// A checkout and its review.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    /// Checkout id.
    pub id: Uuid,
    /// The cart it came from.
    pub cart_id: Uuid,
    /// Open, placed or abandoned.
    pub status: CheckoutStatus,
    /// When the stock hold ends.
    pub expires_at: DateTime<Utc>,
    /// The hold has ended: start the checkout again.
    pub expired: bool,
    /// The chosen address.
    pub address_id: Option<Uuid>,
    /// The chosen payment method.
    pub payment_method: Option<PaymentMethodResponse>,
    /// Gift options and notes.
    pub customization: Customization,
    /// One future order per seller.
    pub sellers: Vec<SellerReviewResponse>,
    /// Sum of the sellers' subtotals.
    pub subtotal: DualPrice,
    /// Sum of deliveries.
    pub delivery: DualPrice,
    /// Sum of fees.
    pub fees: DualPrice,
    /// Sum of surcharges.
    pub surcharge: DualPrice,
    /// The amount to pay, in both currencies.
    pub total: DualPrice,
    /// Send this as `expected_total` when placing: a different total (prices or the rate moved) is refused.
    pub expected_total: DualPrice,
    /// The rate the VES amounts use; placement freezes it.
    pub exchange_rate: RateRef,
    /// What is still needed before placing (empty when ready).
    pub missing: Vec<FieldError>,
    /// Everything is chosen and the hold is active.
    pub ready: bool,
}

impl From<Review> for CheckoutResponse {
    fn from(r: Review) -> Self {
        let c = r.checkout;
        let ready = r.missing.is_empty() && !r.expired && c.status == CheckoutStatus::Open;
        Self {
            id: c.id.uuid(),
            cart_id: c.cart_id.uuid(),
            status: c.status,
            expires_at: c.expires_at,
            expired: r.expired,
            address_id: c.address_id,
            payment_method: r.method.map(Into::into),
            customization: Customization {
                gift_wrap: c.gift_wrap,
                gift_message: c.gift_message,
                special_instructions: c.special_instructions,
                delivery_notes: c.delivery_notes,
                package_preferences: c.package_preferences,
            },
            sellers: r
                .sellers
                .into_iter()
                .map(|s| SellerReviewResponse {
                    seller_id: s.seller_id.uuid(),
                    seller_name: s.seller_name,
                    lines: s
                        .lines
                        .into_iter()
                        .map(|l| CheckoutLineResponse {
                            product_id: l.line.product_id.uuid(),
                            name: l.line.name,
                            sku: l.line.sku,
                            image_url: l.line.image_url,
                            quantity: l.line.quantity.get(),
                            unit_price: l.unit,
                            line_total: l.total,
                        })
                        .collect(),
                    subtotal: s.subtotal,
                    delivery_option: s.delivery_option.map(Into::into),
                    delivery: s.delivery,
                    fees: s.fees,
                    surcharge: s.surcharge,
                    total: s.total,
                })
                .collect(),
            subtotal: r.subtotal,
            delivery: r.delivery,
            fees: r.fees,
            surcharge: r.surcharge,
            total: r.total,
            expected_total: r.total,
            exchange_rate: RateRef {
                id: r.rate.id,
                rate: r.rate.rate.normalize(),
                effective_at: r.rate.effective_at,
            },
            missing: r.missing,
            ready,
        }
    }
}

/// Body of `start_checkout`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCheckoutRequest {
    /// The cart to check out (yours, or a group cart you own).
    pub cart_id: Uuid,
}

/// A delivery choice.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryChoice {
    /// The seller.
    pub seller_id: Uuid,
    /// One of its active delivery options.
    pub option_id: Uuid,
}

/// Body of `update_checkout`; absent fields are kept.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCheckoutRequest {
    /// One of your addresses.
    pub address_id: Option<Uuid>,
    /// A delivery option per seller.
    #[validate(length(max = 100))]
    pub deliveries: Option<Vec<DeliveryChoice>>,
    /// The payment method.
    pub payment_method: Option<MethodCode>,
    /// Gift wrap.
    pub gift_wrap: Option<bool>,
    /// Gift message, up to 300 characters.
    #[schema(max_length = 300)]
    pub gift_message: Option<String>,
    /// Special instructions for the sellers, up to 500 characters.
    #[schema(max_length = 500)]
    pub special_instructions: Option<String>,
    /// Notes for the delivery, up to 500 characters.
    #[schema(max_length = 500)]
    pub delivery_notes: Option<String>,
    /// Packaging preferences, up to 300 characters.
    #[schema(max_length = 300)]
    pub package_preferences: Option<String>,
}

/// Starts a checkout of a cart.
///
/// Holds the cart's counted lines for 15 minutes (409 `insufficient_stock`
/// when they are no longer all available). Starting again replaces the
/// cart's open checkout. The answer lists what is still `missing`.
#[utoipa::path(tag = "checkout", operation_id = "start_checkout", request_body = StartCheckoutRequest,
    responses(
        (status = 201, description = "The checkout and its review", body = CheckoutResponse),
        (status = 403, description = "A group cart's member (only the owner checks out)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock, cart not active, or no exchange rate", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/checkouts")]
pub async fn start_checkout(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<StartCheckoutRequest>,
) -> Result<HttpResponse, AppError> {
    let cart = body.into_inner().cart_id;
    let review = db::run(&pool, move |c| service::start(c, &user, cart.into())).await?;
    Ok(HttpResponse::Created().json(CheckoutResponse::from(review)))
}

/// Reads a checkout with its review.
///
/// Amounts are recomputed now: current prices and the current rate.
#[utoipa::path(tag = "checkout", operation_id = "get_checkout",
    params(("checkout_id" = Uuid, Path, description = "The checkout id")),
    responses(
        (status = 200, description = "The checkout and its review", body = CheckoutResponse),
        (status = 404, description = "No such checkout, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/checkouts/{checkout_id}")]
pub async fn get_checkout(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<CheckoutResponse>, AppError> {
    let id = path.into_inner();
    Ok(web::Json(
        db::run(&pool, move |c| service::get(c, &user, id.into()))
            .await?
            .into(),
    ))
}

/// Chooses the address, delivery options, payment method and extras.
///
/// Every invalid choice is listed (422); nothing is saved then.
#[utoipa::path(tag = "checkout", operation_id = "update_checkout", request_body = UpdateCheckoutRequest,
    params(("checkout_id" = Uuid, Path, description = "The checkout id")),
    responses(
        (status = 200, description = "The checkout and its review", body = CheckoutResponse),
        (status = 404, description = "No such checkout, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hold ended (`checkout_expired`), or the checkout is placed or replaced", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/checkouts/{checkout_id}")]
pub async fn update_checkout(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateCheckoutRequest>,
) -> Result<web::Json<CheckoutResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let choices = Choices {
        address_id: b.address_id,
        deliveries: b.deliveries.map(|d| {
            d.into_iter()
                .map(|c| (c.seller_id.into(), c.option_id))
                .collect()
        }),
        payment_method: b.payment_method,
        gift_wrap: b.gift_wrap,
        gift_message: b.gift_message,
        special_instructions: b.special_instructions,
        delivery_notes: b.delivery_notes,
        package_preferences: b.package_preferences,
    };
    Ok(web::Json(
        db::run(&pool, move |c| {
            service::choose(c, &user, id.into(), choices)
        })
        .await?
        .into(),
    ))
}

/// Body of `place_order`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// The `expected_total` of the review the buyer accepted.
    pub expected_total: ExpectedTotal,
}

/// A total as decimal strings.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTotal {
    /// USD, a decimal string.
    #[serde(deserialize_with = "crate::http::fields::required_decimal")]
    #[schema(value_type = String, example = "8.39")]
    pub usd: rust_decimal::Decimal,
    /// VES, a decimal string.
    #[serde(deserialize_with = "crate::http::fields::required_decimal")]
    #[schema(value_type = String, example = "306.24")]
    pub ves: rust_decimal::Decimal,
}

/// How to pay, for the confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentInstructions {
    /// The method.
    pub method: PaymentMethodResponse,
    /// The amount to pay in the method's currency.
    #[schema(value_type = String, example = "8.39")]
    pub amount_due: rust_decimal::Decimal,
}

/// The confirmation of a placed checkout.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmation {
    /// The checkout.
    pub checkout_id: Uuid,
    /// One order per seller.
    pub orders: Vec<crate::orders::api::OrderSummary>,
    /// Sum of the orders' totals.
    pub total: DualPrice,
    /// How to pay.
    pub payment: Option<PaymentInstructions>,
    /// What happens next.
    pub next_steps: Vec<String>,
}

fn confirmation(p: service::Placed) -> Confirmation {
    let total: DualPrice = p.orders.iter().map(crate::orders::OrderRow::total).sum();
    let payment = p.method.map(|m| {
        let amount_due = match m.currency {
            crate::payments::Currency::Usd => total.usd,
            crate::payments::Currency::Ves => total.ves,
        };
        PaymentInstructions {
            method: m.into(),
            amount_due,
        }
    });
    Confirmation {
        checkout_id: p.checkout.id.uuid(),
        orders: p.orders.iter().map(Into::into).collect(),
        total,
        payment,
        next_steps: vec![
            "Pay each order with the chosen method and send the payment reference from the order page.".into(),
            "The seller verifies the payment, prepares the order and ships it.".into(),
            "Unpaid orders are cancelled when their payment time runs out.".into(),
        ],
    }
}

/// Places the checkout: one order per seller.
///
/// Requires an `Idempotency-Key` header (428 without): a retry with the same
/// key returns the same orders (200), and another key for the same checkout
/// also returns them, never a second set. `expected_total` must match the
/// review: if prices or the rate moved, 409 `total_changed` with the new
/// review in `current`, and nothing is placed.
#[utoipa::path(tag = "checkout", operation_id = "place_order", request_body = PlaceOrderRequest,
    params(("checkout_id" = Uuid, Path, description = "The checkout id"),
           ("Idempotency-Key" = String, Header, description = "A unique key per placement attempt, such as a UUID")),
    responses(
        (status = 201, description = "Placed now", body = Confirmation),
        (status = 200, description = "Placed before (a retry)", body = Confirmation),
        (status = 404, description = "No such checkout, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The total changed (`total_changed`, with `current`), the hold ended (`checkout_expired`), or the checkout was replaced", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/checkouts/{checkout_id}/place")]
pub async fn place_order(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<PlaceOrderRequest>,
    key: IdempotencyKey,
) -> Result<HttpResponse, AppError> {
    let key = key.required()?;
    let id = path.into_inner();
    let e = body.into_inner().expected_total;
    let expected = DualPrice::new(e.usd, e.ves);
    let placed = db::run(&pool, move |c| {
        Ok(service::place(c, &user, id.into(), &key, expected))
    })
    .await?;
    match placed {
        Ok(placed) => {
            let status = if placed.created {
                actix_web::http::StatusCode::CREATED
            } else {
                actix_web::http::StatusCode::OK
            };
            Ok(HttpResponse::build(status).json(confirmation(placed)))
        }
        Err(Refused::WithCurrent { error, current }) => {
            with_current(&error, CheckoutResponse::from(*current), None)
        }
        Err(Refused::Plain(error)) => Err(error),
    }
}
