//! Checkout use cases: start (hold the cart's counted lines), choose, and
//! review. Placing the order (with `expected_total` and an idempotency key)
//! builds on `review`.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{CHECKOUT_TTL_SECONDS, CheckoutLine, CheckoutRow, CheckoutStatus};
use crate::auth::Principal;
use crate::carts::pricing::AppliedFee;
use crate::db::cached::CachedExt;
use crate::db::schema::checkouts as c;
use crate::delivery::DeliveryOptionRow;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::inventory::service::{self as inventory, Actor, NewReservation};
use crate::inventory::{OwnerType, ReservationStatus};
use crate::money::DualPrice;
use crate::payments::{MethodCode, PaymentMethodRow};
use crate::rates::RateRow;

/// Starts a checkout of the caller's cart: its counted lines are held for
/// 15 minutes (all or nothing, 409 `insufficient_stock`). A checkout already
/// open for the cart is replaced and its hold released.
pub fn start(conn: &mut PgConnection, user: &Principal, cart_id: Uuid) -> Result<Review, AppError> {
    conn.transaction::<_, AppError, _>(|conn| {
        let view = crate::carts::service::checkout_view(conn, user, cart_id)?;
        let reduced: Vec<String> = view
            .notices
            .iter()
            .filter(|n| n.kind == crate::carts::pricing::NoticeKind::QuantityReduced)
            .map(|n| {
                let name = view
                    .lines
                    .iter()
                    .find(|l| l.row.id == n.item_id)
                    .map_or("a product", |l| l.row.name.as_str());
                format!(
                    "{name}: {} -> {}",
                    n.from_quantity.unwrap_or(0),
                    n.to_quantity.unwrap_or(0)
                )
            })
            .collect();
        if !reduced.is_empty() {
            // The lowered quantities are stored on the cart, so this
            // transaction commits them and the refusal says what changed;
            // having told the shopper, it acknowledges those notices.
            crate::carts::service::acknowledge_reductions(conn, cart_id)?;
            return Ok(Err(AppError::conflict(
                ErrorCode::CartChanged,
                format!(
                    "the cart changed to what is available ({}); review it and start again",
                    reduced.join("; ")
                ),
            )));
        }
        let lines: Vec<CheckoutLine> = view
            .lines
            .iter()
            .filter(|l| l.counted)
            .map(|l| CheckoutLine {
                product_id: l.row.product_id,
                seller_id: l.row.seller_id,
                seller_name: l.row.seller_name.clone(),
                name: l.row.name.clone(),
                sku: l.row.sku.clone(),
                image_url: l.row.image_url.clone(),
                quantity: l.row.quantity,
            })
            .collect();
        if view.lines.is_empty() {
            return Err(AppError::invalid("cart_id", "the cart is empty"));
        }
        if lines.is_empty() {
            // Lines exist but none can be bought (sold out or withdrawn
            // since they were added): a conflict with the stock, not bad input.
            return Err(AppError::conflict(
                ErrorCode::ProductUnavailable,
                "nothing in the cart is available now; the cart shows what is out of stock",
            ));
        }
        let actor = Actor::of(user);
        let open: Option<CheckoutRow> = c::table
            .filter(c::cart_id.eq(cart_id))
            .filter(c::status.eq(CheckoutStatus::Open))
            .select(CheckoutRow::as_select())
            .for_update()
            .first(conn)
            .optional()?;
        if let Some(old) = open {
            end_hold(conn, &actor, old.reservation_id)?;
            diesel::update(c::table.find(old.id))
                .set((
                    c::status.eq(CheckoutStatus::Abandoned),
                    c::updated_at.eq(crate::db::now()),
                ))
                .execute(conn)?;
        }
        crate::carts::service::release_cart_hold(conn, cart_id, user)?;
        let id = Uuid::now_v7();
        let (reservation, _) = inventory::reserve(
            conn,
            &actor,
            NewReservation {
                owner_type: OwnerType::Checkout,
                owner_id: id,
                ttl_seconds: CHECKOUT_TTL_SECONDS,
                lines: lines.iter().map(|l| (l.product_id, l.quantity)).collect(),
            },
        )?;
        let now = crate::db::now();
        let row = CheckoutRow {
            id,
            user_id: user.user_id,
            cart_id,
            status: CheckoutStatus::Open,
            lines: serde_json::to_value(&lines).map_err(AppError::internal)?,
            address_id: None,
            deliveries: serde_json::json!({}),
            payment_method: None,
            gift_wrap: false,
            gift_message: String::new(),
            special_instructions: String::new(),
            delivery_notes: String::new(),
            package_preferences: String::new(),
            reservation_id: reservation.id,
            expires_at: now + Duration::seconds(CHECKOUT_TTL_SECONDS),
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(c::table).values(&row).execute(conn)?;
        Ok(review(conn, user, row))
    })?
}

fn end_hold(conn: &mut PgConnection, actor: &Actor, reservation_id: Uuid) -> Result<(), AppError> {
    match inventory::end(conn, actor, reservation_id, inventory::Outcome::Release) {
        Ok(_) => Ok(()),
        // Already expired or released: nothing to give back.
        Err(AppError::Conflict {
            code: ErrorCode::ReservationNotActive,
            ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn own(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<CheckoutRow, AppError> {
    c::table
        .find(id)
        .filter(c::user_id.eq(user.user_id))
        .select(CheckoutRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("checkout"))
}

/// Reads one of the caller's checkouts with its review.
pub fn get(conn: &mut PgConnection, user: &Principal, id: Uuid) -> Result<Review, AppError> {
    conn.transaction(|conn| {
        let row = own(conn, user, id)?;
        review(conn, user, row)
    })
}

/// The buyer's choices; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// One of the buyer's addresses.
    pub address_id: Option<Uuid>,
    /// A delivery option per seller.
    pub deliveries: Option<Vec<(Uuid, Uuid)>>,
    /// The payment method.
    pub payment_method: Option<MethodCode>,
    /// Gift wrap.
    pub gift_wrap: Option<bool>,
    /// Gift message.
    pub gift_message: Option<String>,
    /// Special instructions.
    pub special_instructions: Option<String>,
    /// Delivery notes.
    pub delivery_notes: Option<String>,
    /// Packaging preferences.
    pub package_preferences: Option<String>,
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<String>,
    max: usize,
    into: &mut String,
) {
    if let Some(v) = value {
        let v = v.trim().to_string();
        if v.chars().count() > max {
            errors.push(FieldError::new(
                field,
                format!("must have at most {max} characters"),
            ));
        }
        *into = v;
    }
}

/// Records the buyer's choices, checking each (every invalid one is listed).
pub fn choose(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    ch: Choices,
) -> Result<Review, AppError> {
    conn.transaction(|conn| {
        let mut row = own(conn, user, id)?;
        ensure_open(conn, &row)?;
        let mut errors = vec![];
        if let Some(address) = ch.address_id {
            match crate::addresses::service::get(conn, user, address) {
                Ok(_) => row.address_id = Some(address),
                Err(AppError::NotFound(_)) => errors.push(FieldError::new(
                    "address_id",
                    "is not one of your addresses",
                )),
                Err(e) => return Err(e),
            }
        }
        if let Some(method) = ch.payment_method {
            match crate::payments::service::offered(conn, method) {
                Ok(_) => row.payment_method = Some(method.as_str().to_string()),
                Err(_) => errors.push(FieldError::new("payment_method", "is not offered now")),
            }
        }
        if let Some(choices) = ch.deliveries {
            let sellers: Vec<Uuid> = row.lines().iter().map(|l| l.seller_id).collect();
            let mut map = row.deliveries();
            for (i, (seller, option)) in choices.into_iter().enumerate() {
                let offered = crate::delivery::service::list_for_seller(conn, seller)?;
                if !sellers.contains(&seller) {
                    errors.push(FieldError::new(
                        format!("deliveries[{i}].seller_id"),
                        "has no lines in this checkout",
                    ));
                } else if !offered.iter().any(|o| o.id == option) {
                    errors.push(FieldError::new(
                        format!("deliveries[{i}].option_id"),
                        "is not an active option of this seller",
                    ));
                } else {
                    map.insert(seller, option);
                }
            }
            row.deliveries = serde_json::to_value(map).map_err(AppError::internal)?;
        }
        if let Some(wrap) = ch.gift_wrap {
            row.gift_wrap = wrap;
        }
        text(
            &mut errors,
            "gift_message",
            ch.gift_message,
            300,
            &mut row.gift_message,
        );
        text(
            &mut errors,
            "special_instructions",
            ch.special_instructions,
            500,
            &mut row.special_instructions,
        );
        text(
            &mut errors,
            "delivery_notes",
            ch.delivery_notes,
            500,
            &mut row.delivery_notes,
        );
        text(
            &mut errors,
            "package_preferences",
            ch.package_preferences,
            300,
            &mut row.package_preferences,
        );
        if !errors.is_empty() {
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors,
            });
        }
        row.updated_at = crate::db::now();
        diesel::update(c::table.find(id))
            .set((
                c::address_id.eq(row.address_id),
                c::deliveries.eq(&row.deliveries),
                c::payment_method.eq(&row.payment_method),
                c::gift_wrap.eq(row.gift_wrap),
                c::gift_message.eq(&row.gift_message),
                c::special_instructions.eq(&row.special_instructions),
                c::delivery_notes.eq(&row.delivery_notes),
                c::package_preferences.eq(&row.package_preferences),
                c::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        review(conn, user, row)
    })
}

/// 409 `checkout_expired` when the hold has ended; 409 when placed or replaced.
fn require_open(row: &CheckoutRow) -> Result<(), AppError> {
    if row.status != CheckoutStatus::Open {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            format!("the checkout is {}", row.status),
        ));
    }
    Ok(())
}

fn ensure_open(conn: &mut PgConnection, row: &CheckoutRow) -> Result<(), AppError> {
    require_open(row)?;
    if !hold_active(conn, row)? {
        return Err(AppError::conflict(
            ErrorCode::CheckoutExpired,
            "the stock hold has ended; start the checkout again",
        ));
    }
    Ok(())
}

fn hold_active(conn: &mut PgConnection, row: &CheckoutRow) -> Result<bool, AppError> {
    let reservation = inventory::reservation(conn, row.reservation_id)?;
    Ok(
        reservation.status == ReservationStatus::Active
            && reservation.expires_at > crate::db::now(),
    )
}

/// One priced line.
#[derive(Debug, Clone)]
pub struct ReviewLine {
    /// The line held.
    pub line: CheckoutLine,
    /// Unit price now.
    pub unit: DualPrice,
    /// Unit times quantity.
    pub total: DualPrice,
}

/// One seller's future order.
#[derive(Debug, Clone)]
pub struct SellerReview {
    /// The seller.
    pub seller_id: Uuid,
    /// Its shop name.
    pub seller_name: String,
    /// Its lines.
    pub lines: Vec<ReviewLine>,
    /// Sum of the lines.
    pub subtotal: DualPrice,
    /// The chosen delivery option, if chosen and it reaches the address.
    pub delivery_option: Option<DeliveryOptionRow>,
    /// Its cost.
    pub delivery: DualPrice,
    /// Fees from the fee rules, on this order's subtotal.
    pub fees: Vec<AppliedFee>,
    /// The payment method's surcharge on subtotal + delivery + fees.
    pub surcharge: DualPrice,
    /// Subtotal + delivery + fees + surcharge.
    pub total: DualPrice,
}

/// A checkout with everything the buyer must see before placing.
#[derive(Debug, Clone)]
pub struct Review {
    /// The checkout.
    pub checkout: CheckoutRow,
    /// One future order per seller.
    pub sellers: Vec<SellerReview>,
    /// Sums over the sellers.
    pub subtotal: DualPrice,
    /// Sum of deliveries.
    pub delivery: DualPrice,
    /// Sum of fees.
    pub fees: DualPrice,
    /// Sum of surcharges.
    pub surcharge: DualPrice,
    /// The amount to pay; send it as `expected_total` when placing.
    pub total: DualPrice,
    /// The rate the VES amounts use (frozen at placement).
    pub rate: RateRow,
    /// The payment method chosen.
    pub method: Option<PaymentMethodRow>,
    /// The delivery address chosen.
    pub address: Option<crate::addresses::AddressRow>,
    /// What is still missing or wrong before placing.
    pub missing: Vec<FieldError>,
    /// The stock hold has ended.
    pub expired: bool,
}

fn review(conn: &mut PgConnection, user: &Principal, row: CheckoutRow) -> Result<Review, AppError> {
    review_with(conn, user, row, true)
}

/// The review; `check_hold` reads whether the stock hold is still on
/// (placement skips it: handing the hold over checks it under a lock).
fn review_with(
    conn: &mut PgConnection,
    user: &Principal,
    row: CheckoutRow,
    check_hold: bool,
) -> Result<Review, AppError> {
    let rate = crate::rates::service::require_current_rate(conn)?;
    let lines = row.lines();
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let facts = crate::products::service::facts(conn, &ids)?;
    let rules = crate::fees::service::active_rules(conn)?;
    let address = match row.address_id {
        Some(id) => crate::addresses::service::get(conn, user, id).ok(),
        None => None,
    };
    let method = match row.payment_method.as_deref().map(str::parse::<MethodCode>) {
        Some(Ok(code)) => crate::payments::service::offered(conn, code).ok(),
        _ => None,
    };
    let chosen = row.deliveries();
    let mut missing = vec![];
    if address.is_none() {
        missing.push(FieldError::new("address_id", "choose a delivery address"));
    }
    if method.is_none() {
        missing.push(FieldError::new("payment_method", "choose a payment method"));
    }
    let mut by_seller: BTreeMap<Uuid, Vec<CheckoutLine>> = BTreeMap::new();
    for line in lines {
        by_seller.entry(line.seller_id).or_default().push(line);
    }
    let mut sellers = vec![];
    for (seller_id, lines) in by_seller {
        let seller_name = lines[0].seller_name.clone();
        let mut weight = Decimal::ZERO;
        let mut priced = vec![];
        for line in lines {
            let Some(f) = facts.get(&line.product_id).filter(|f| f.sellable) else {
                missing.push(FieldError::new(
                    format!("lines.{}", line.product_id),
                    "is no longer available; start the checkout again",
                ));
                continue;
            };
            weight += f.product.weight_kg.unwrap_or_default() * Decimal::from(line.quantity);
            let unit = DualPrice::at_rate(f.product.price_usd, rate.rate);
            let total = unit.times(u32::try_from(line.quantity).unwrap_or(0));
            priced.push(ReviewLine { line, unit, total });
        }
        let subtotal: DualPrice = priced.iter().map(|l| l.total).sum();
        let options: HashMap<Uuid, DeliveryOptionRow> =
            crate::delivery::service::list_for_seller(conn, seller_id)?
                .into_iter()
                .map(|o| (o.id, o))
                .collect();
        let delivery_option = chosen
            .get(&seller_id)
            .and_then(|id| options.get(id))
            .cloned()
            .filter(|o| {
                address
                    .as_ref()
                    .is_none_or(|a| o.serves(&a.state, &a.municipality))
            });
        if delivery_option.is_none() {
            missing.push(FieldError::new(
                format!("deliveries.{seller_id}"),
                format!("choose a delivery option of {seller_name} that reaches the address"),
            ));
        }
        let delivery = delivery_option.as_ref().map_or(DualPrice::zero(), |o| {
            DualPrice::at_rate(o.cost_usd(subtotal.usd, weight), rate.rate)
        });
        let fees: Vec<AppliedFee> = rules
            .iter()
            .filter_map(|r| {
                r.charge(subtotal.usd, rate.rate).map(|amount| AppliedFee {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    amount,
                })
            })
            .collect();
        let fee_sum: DualPrice = fees.iter().map(|f| f.amount).sum();
        let base = subtotal + delivery + fee_sum;
        let surcharge = method.as_ref().map_or(DualPrice::zero(), |m| {
            DualPrice::at_rate(m.surcharge_usd(base.usd), rate.rate)
        });
        sellers.push(SellerReview {
            seller_id,
            seller_name,
            lines: priced,
            subtotal,
            delivery_option,
            delivery,
            total: base + surcharge,
            fees,
            surcharge,
        });
    }
    let sum = |f: &dyn Fn(&SellerReview) -> DualPrice| sellers.iter().map(f).sum::<DualPrice>();
    let expired = check_hold && row.status == CheckoutStatus::Open && !hold_active(conn, &row)?;
    Ok(Review {
        subtotal: sum(&|s| s.subtotal),
        delivery: sum(&|s| s.delivery),
        fees: sum(&|s| s.fees.iter().map(|f| f.amount).sum()),
        surcharge: sum(&|s| s.surcharge),
        total: sum(&|s| s.total),
        sellers,
        checkout: row,
        rate,
        method,
        address,
        missing,
        expired,
    })
}

/// Marks the checkout placed and its cart converted (a new cart version),
/// and tells the cart's watchers, in one statement. It spans two domains on
/// purpose: it is the last step of every placement, on the hot path.
fn close_and_convert(
    conn: &mut PgConnection,
    checkout_id: Uuid,
    cart_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
    let notified = diesel::sql_query(
        "WITH placed AS (
             UPDATE checkouts SET status = 'placed', updated_at = $1 WHERE id = $2
         ), cart AS (
             UPDATE carts SET status = 'converted', merged_into = NULL, version = version + 1,
                              updated_at = $1, last_activity_at = $1
             WHERE id = $3 RETURNING id, version
         )
         SELECT pg_notify($4, json_build_object('type', 'cart', 'id', cart.id, 'version', cart.version)::text)
         FROM cart",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<SqlUuid, _>(checkout_id)
    .bind::<SqlUuid, _>(cart_id)
    .bind::<Text, _>(crate::events::CHANNEL)
    .cached()
    .load::<crate::db::Done>(conn)?
    .len();
    if notified != 1 {
        return Err(AppError::internal(format!(
            "the cart {cart_id} of a placed checkout is gone"
        )));
    }
    Ok(())
}

/// The result of placing: the orders, and whether this call created them.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The checkout.
    pub checkout: CheckoutRow,
    /// One order per seller.
    pub orders: Vec<crate::orders::OrderRow>,
    /// The payment method (for instructions).
    pub method: Option<PaymentMethodRow>,
    /// False when an earlier call (same key, or another key) placed them.
    pub created: bool,
}

fn request_hash(checkout_id: Uuid, expected: DualPrice) -> String {
    crate::auth::tokens::hash_token(&format!(
        "{checkout_id}|{}|{}",
        expected.usd.normalize(),
        expected.ves.normalize()
    ))
}

/// Idempotency keys deleted per transaction by the expiry job.
pub const KEY_EXPIRY_BATCH: i64 = 500;

/// Forgets up to `batch` idempotency keys older than `retention`; returns how many.
pub fn expire_idempotency_keys(
    conn: &mut PgConnection,
    retention: chrono::Duration,
    batch: i64,
) -> Result<usize, AppError> {
    use diesel::sql_types::{BigInt, Timestamptz};
    Ok(diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (
             SELECT user_id, key FROM idempotency_keys WHERE created_at < $1
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(crate::db::now() - retention)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// Remembers `key` for this request; 422 when it was used for another one.
fn claim_key(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    hash: &str,
    checkout_id: Uuid,
) -> Result<(), AppError> {
    use crate::db::schema::idempotency_keys as k;
    let stored: String = diesel::insert_into(k::table)
        .values((
            k::user_id.eq(user),
            k::key.eq(key),
            k::request_hash.eq(hash),
            k::checkout_id.eq(checkout_id),
            k::created_at.eq(crate::db::now()),
        ))
        // On a conflict the no-op update returns the stored row (after any
        // concurrent first use commits), so one statement claims or reads.
        .on_conflict((k::user_id, k::key))
        .do_update()
        .set(k::key.eq(diesel::upsert::excluded(k::key)))
        .returning(k::request_hash)
        .get_result(conn)?;
    if stored == hash {
        Ok(())
    } else {
        Err(AppError::Validation {
            code: ErrorCode::IdempotencyKeyReused,
            errors: vec![FieldError::new(
                "Idempotency-Key",
                "was already used for a different request",
            )],
        })
    }
}

/// Places the checkout: one order per seller, the rate frozen, the stock
/// hold handed from the checkout to the orders, the cart converted.
/// Idempotent: a retry with the same key returns the same orders; a second
/// key for the same checkout also gets them (never a second set). A changed
/// total is 409 `total_changed` (nothing placed); missing choices are 422.
pub fn place(
    conn: &mut PgConnection,
    user: &Principal,
    id: Uuid,
    key: &str,
    expected: DualPrice,
) -> Result<Placed, AppError> {
    conn.transaction(|conn| {
        claim_key(conn, user.user_id, key, &request_hash(id, expected), id)?;
        let row = own(conn, user, id)?;
        if row.status == CheckoutStatus::Placed {
            let method = row
                .payment_method
                .as_deref()
                .and_then(|m| m.parse::<MethodCode>().ok())
                .and_then(|m| crate::payments::service::offered(conn, m).ok());
            return Ok(Placed {
                orders: crate::orders::service::of_checkout(conn, id)?,
                checkout: row,
                method,
                created: false,
            });
        }
        require_open(&row)?;
        let review = review_with(conn, user, row.clone(), false)?;
        if !review.missing.is_empty() {
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors: review.missing,
            });
        }
        if review.total != expected {
            return Err(AppError::conflict(
                ErrorCode::TotalChanged,
                format!(
                    "the total is now {} USD / {} VES; review it and place again",
                    review.total.usd, review.total.ves
                ),
            ));
        }
        let method = review.method.clone().ok_or_else(|| AppError::internal("a ready review has a method"))?;
        let address = review.address.clone().ok_or_else(|| AppError::internal("a ready review has an address"))?;
        let snapshot = |v: serde_json::Result<serde_json::Value>| v.map_err(AppError::internal);
        let address_json = snapshot(serde_json::to_value(crate::orders::AddressSnapshot {
            recipient: address.recipient.clone(), phone: address.phone.clone(), national_id: address.national_id.clone(),
            state: address.state.clone(), municipality: address.municipality.clone(), city: address.city.clone(),
            line1: address.line1.clone(), line2: address.line2.clone(), reference_point: address.reference_point.clone(),
            latitude: address.latitude, longitude: address.longitude,
        }))?;
        let customization = snapshot(serde_json::to_value(crate::orders::Customization {
            gift_wrap: row.gift_wrap, gift_message: row.gift_message.clone(),
            special_instructions: row.special_instructions.clone(), delivery_notes: row.delivery_notes.clone(),
            package_preferences: row.package_preferences.clone(),
        }))?;
        let actor = Actor::of(user);
        // The checkout's hold passes to the orders, one part per seller, in
        // this transaction and without the units ever being free: nobody can
        // take them in between, and the stock rows are not even touched.
        let now = crate::db::now();
        let window = i64::from(method.payment_window_minutes) * 60;
        let order_ids: Vec<Uuid> = review.sellers.iter().map(|_| Uuid::now_v7()).collect();
        let parts: Vec<inventory::Handover> = review
            .sellers
            .iter()
            .zip(&order_ids)
            .map(|(seller, order_id)| inventory::Handover {
                owner_type: OwnerType::Order,
                owner_id: *order_id,
                lines: seller.lines.iter().map(|l| (l.line.product_id, l.line.quantity)).collect(),
            })
            .collect();
        let holds = match inventory::hand_over(conn, &actor, row.reservation_id, &parts, window)? {
            inventory::HandedOver::Done(holds) => holds,
            inventory::HandedOver::Ended => {
                return Err(AppError::conflict(
                    ErrorCode::CheckoutExpired,
                    "the stock hold has ended; start the checkout again",
                ));
            }
            // The hold was made from these very lines when the checkout
            // started, and a withdrawn line stops the review above: a
            // mismatch means the data broke, not that the client erred.
            inventory::HandedOver::Mismatch => {
                return Err(AppError::internal(format!(
                    "the hold of checkout {id} does not match its lines"
                )));
            }
        };
        let mut orders = vec![];
        for ((seller, order_id), reservation_id) in review.sellers.iter().zip(order_ids).zip(holds) {
            let option = seller.delivery_option.as_ref().ok_or_else(|| AppError::internal("a ready review has delivery"))?;
            let fees: DualPrice = seller.fees.iter().map(|f| f.amount).sum();
            let order = crate::orders::OrderRow {
                id: order_id,
                number: String::new(),
                checkout_id: id,
                user_id: user.user_id,
                seller_id: seller.seller_id,
                status: crate::orders::state::OrderStatus::PendingPayment,
                payment_status: crate::orders::state::PaymentStatus::Pending,
                shipping_status: crate::orders::state::ShippingStatus::NotShipped,
                payment_method: method.code.as_str().to_string(),
                subtotal_usd: seller.subtotal.usd,
                subtotal_ves: seller.subtotal.ves,
                delivery_usd: seller.delivery.usd,
                delivery_ves: seller.delivery.ves,
                fees_usd: fees.usd,
                fees_ves: fees.ves,
                surcharge_usd: seller.surcharge.usd,
                surcharge_ves: seller.surcharge.ves,
                total_usd: seller.total.usd,
                total_ves: seller.total.ves,
                rate_id: review.rate.id,
                rate: review.rate.rate,
                address: address_json.clone(),
                delivery: snapshot(serde_json::to_value(crate::orders::DeliverySnapshot {
                    option_id: option.id, kind: option.kind, name: option.name.clone(), carrier: option.carrier.clone(),
                    min_days: option.min_days, max_days: option.max_days,
                }))?,
                customization: customization.clone(),
                reservation_id,
                payment_due_at: now + Duration::seconds(window),
                carrier: None,
                tracking_number: None,
                created_at: now,
                updated_at: now,
            };
            let items: Vec<crate::orders::OrderItemRow> = seller
                .lines
                .iter()
                .map(|l| crate::orders::OrderItemRow {
                    id: Uuid::now_v7(),
                    order_id,
                    product_id: l.line.product_id,
                    sku: l.line.sku.clone(),
                    name: l.line.name.clone(),
                    image_url: l.line.image_url.clone(),
                    quantity: l.line.quantity,
                    unit_usd: l.unit.usd,
                    unit_ves: l.unit.ves,
                    line_usd: l.total.usd,
                    line_ves: l.total.ves,
                    status: crate::orders::state::ItemStatus::Reserved,
                })
                .collect();
            let opening = |field: &str, to: &str| crate::orders::HistoryRow {
                id: Uuid::now_v7(),
                order_id,
                field: field.into(),
                from_value: None,
                to_value: to.into(),
                actor_id: Some(user.user_id),
                actor_role: actor.role.into(),
                source: "buyer".into(),
                reason: "placed".into(),
                created_at: now,
            };
            let history = [
                opening("status", order.status.as_str()),
                opening("payment_status", order.payment_status.as_str()),
                opening("shipping_status", order.shipping_status.as_str()),
            ];
            let event = serde_json::json!({"order_id": order_id, "user_id": user.user_id, "seller_id": order.seller_id,
                                           "total_usd": order.total_usd, "total_ves": order.total_ves});
            let mut order = order;
            order.number = crate::orders::service::insert(conn, &order, &items, &history, event)?;
            orders.push(order);
        }
        close_and_convert(conn, id, row.cart_id, now)?;
        Ok(Placed {
            checkout: CheckoutRow {
                status: CheckoutStatus::Placed,
                ..row
            },
            orders,
            method: Some(method),
            created: true,
        })
    })
}
