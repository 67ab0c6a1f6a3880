//! The review: what the buyer chose, priced now. Per seller (one future
//! order each) the lines at the current rate, the delivery option that
//! reaches the address, fees and the payment method's surcharge, and the
//! totals to send back as `expected_total` when placing; plus what is
//! still missing.

use std::collections::{BTreeMap, HashMap};

use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::service::hold_active;
use super::{CheckoutLine, CheckoutRow, CheckoutStatus};
use crate::auth::Principal;
use crate::carts::pricing::AppliedFee;
use crate::delivery::DeliveryOptionRow;
use crate::error::{AppError, FieldError};
use crate::ids::{ProductId, SellerId};
use crate::money::DualPrice;
use crate::payments::{MethodCode, PaymentMethodRow};
use crate::rates::RateRow;

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
    pub seller_id: SellerId,
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

pub(super) fn review(
    conn: &mut PgConnection,
    user: &Principal,
    row: CheckoutRow,
) -> Result<Review, AppError> {
    review_with(conn, user, row, true)
}

/// The review; `check_hold` reads whether the stock hold is still on
/// (placement skips it: handing the hold over checks it under a lock).
pub(super) fn review_with(
    conn: &mut PgConnection,
    user: &Principal,
    row: CheckoutRow,
    check_hold: bool,
) -> Result<Review, AppError> {
    let rate = crate::rates::service::require_current_rate(conn)?;
    let lines = row.lines.0.clone();
    let ids: Vec<ProductId> = lines.iter().map(|l| l.product_id).collect();
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
    let chosen = &row.deliveries;
    let mut missing = vec![];
    if address.is_none() {
        missing.push(FieldError::new("address_id", "choose a delivery address"));
    }
    if method.is_none() {
        missing.push(FieldError::new("payment_method", "choose a payment method"));
    }
    let mut by_seller: BTreeMap<SellerId, Vec<CheckoutLine>> = BTreeMap::new();
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
            weight += f.product.weight_kg.unwrap_or_default() * Decimal::from(line.quantity.get());
            let unit = DualPrice::at_rate(f.product.price_usd, rate.rate);
            let total = unit.times(line.quantity);
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
