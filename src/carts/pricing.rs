//! Pure cart rules: re-pricing a line against the current product price and
//! rate, the notices a shopper must see, and the summary (per seller and
//! overall, fees, totals) in both currencies. No I/O; unit-tested.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::fees::FeeRuleRow;
use crate::ids::{ProductId, SellerId};
use crate::money::DualPrice;

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The unit price moved (product price or exchange rate): `old_price` -> `new_price`.
    PriceChanged,
    /// Few units left: `available`.
    LowStock,
    /// No units available: the line is not counted in the totals.
    OutOfStock,
    /// The quantity was lowered to what can be bought: `from_quantity` -> `to_quantity`.
    QuantityReduced,
    /// The product or its seller is no longer active: the line is not counted.
    ProductUnavailable,
}

/// Something the shopper should see about a line. Nothing changes silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// The cart line.
    pub item_id: Uuid,
    /// The product.
    #[schema(value_type = Uuid)]
    pub product_id: ProductId,
    /// The unit price before, for `price_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_price: Option<DualPrice>,
    /// The unit price now, for `price_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_price: Option<DualPrice>,
    /// Units available, for `low_stock` and `quantity_reduced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i32>,
    /// Quantity before, for `quantity_reduced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_quantity: Option<i32>,
    /// Quantity after, for `quantity_reduced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_quantity: Option<i32>,
}

impl Notice {
    fn new(kind: NoticeKind, item_id: Uuid, product_id: ProductId) -> Self {
        Self {
            kind,
            item_id,
            product_id,
            old_price: None,
            new_price: None,
            available: None,
            from_quantity: None,
            to_quantity: None,
        }
    }
}

/// The facts about one line at read time.
#[derive(Debug, Clone, Copy)]
pub struct LineFacts {
    /// The line.
    pub item_id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Saved for later (not being bought now).
    pub saved: bool,
    /// Quantity on the line.
    pub quantity: i32,
    /// Unit price stored on the line (as last shown).
    pub stored: DualPrice,
    /// The price before the last change the shopper has not acted on yet.
    pub pending_old: Option<DualPrice>,
    /// The quantity before a reduction the shopper has not acted on yet.
    pub reduced_from: Option<i32>,
    /// Product and seller active.
    pub sellable: bool,
    /// Current USD price of the product.
    pub price_usd: Decimal,
    /// The product's per-order maximum.
    pub max_per_order: i32,
    /// Units available now.
    pub available: i32,
    /// The product's low-stock threshold.
    pub low_stock_threshold: i32,
}

/// What re-pricing decided for a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOutcome {
    /// The unit price now.
    pub unit: DualPrice,
    /// True when `unit` differs from the stored price (store it, record history).
    pub repriced: bool,
    /// The quantity now (lowered when stock or the maximum fell).
    pub quantity: i32,
    /// Counted in the totals.
    pub counted: bool,
    /// What to tell the shopper.
    pub notices: Vec<Notice>,
}

/// Re-prices a line at `rate` and decides its notices.
pub fn review_line(f: &LineFacts, rate: Decimal) -> LineOutcome {
    let unit = DualPrice::at_rate(f.price_usd, rate);
    let repriced = unit != f.stored;
    let mut notices = vec![];
    let old = if repriced {
        Some(f.stored)
    } else {
        f.pending_old
    };
    if let Some(old) = old.filter(|o| *o != unit) {
        let mut n = Notice::new(NoticeKind::PriceChanged, f.item_id, f.product_id);
        n.old_price = Some(old);
        n.new_price = Some(unit);
        notices.push(n);
    }
    let mut quantity = f.quantity;
    let mut counted = !f.saved;
    if !f.sellable {
        notices.push(Notice::new(
            NoticeKind::ProductUnavailable,
            f.item_id,
            f.product_id,
        ));
        counted = false;
    } else if f.available <= 0 {
        notices.push(Notice::new(NoticeKind::OutOfStock, f.item_id, f.product_id));
        counted = false;
    } else {
        let cap = f.max_per_order.min(f.available);
        if !f.saved && quantity > cap {
            quantity = cap;
        }
        // Reduced now, or earlier and not yet acknowledged by the shopper.
        let from = f.reduced_from.unwrap_or(f.quantity);
        if !f.saved && from > quantity {
            let mut n = Notice::new(NoticeKind::QuantityReduced, f.item_id, f.product_id);
            n.from_quantity = Some(from);
            n.to_quantity = Some(quantity);
            n.available = Some(f.available);
            notices.push(n);
        }
        if f.available <= f.low_stock_threshold {
            let mut n = Notice::new(NoticeKind::LowStock, f.item_id, f.product_id);
            n.available = Some(f.available);
            notices.push(n);
        }
    }
    LineOutcome {
        unit,
        repriced,
        quantity,
        counted,
        notices,
    }
}

/// One seller's part of the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SellerSubtotal {
    /// The seller.
    #[schema(value_type = Uuid)]
    pub seller_id: SellerId,
    /// Its shop name (as snapshotted).
    pub seller_name: String,
    /// Units counted.
    pub item_count: i64,
    /// Sum of the seller's counted line totals.
    pub subtotal: DualPrice,
}

/// A fee applied to the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppliedFee {
    /// The rule's code.
    pub code: String,
    /// The name shown.
    pub name: String,
    /// The amount in both currencies.
    pub amount: DualPrice,
}

/// The cart's money: every total is the sum of the parts shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Summary {
    /// Per seller, in the order their first line was added.
    pub sellers: Vec<SellerSubtotal>,
    /// Units counted.
    pub item_count: i64,
    /// Sum of the sellers' subtotals.
    pub subtotal: DualPrice,
    /// Fees from the active fee rules.
    pub fees: Vec<AppliedFee>,
    /// Subtotal plus fees.
    pub total: DualPrice,
}

/// A counted line for the summary.
#[derive(Debug, Clone)]
pub struct CountedLine {
    /// The seller.
    pub seller_id: SellerId,
    /// Its shop name.
    pub seller_name: String,
    /// Unit price.
    pub unit: DualPrice,
    /// Quantity.
    pub quantity: crate::money::Quantity,
}

/// Sums the counted lines per seller and overall and applies the fee rules.
pub fn summarize(lines: &[CountedLine], rules: &[FeeRuleRow], rate: Decimal) -> Summary {
    let mut sellers: Vec<SellerSubtotal> = vec![];
    for line in lines {
        let total = line.unit.times(line.quantity);
        match sellers.iter_mut().find(|s| s.seller_id == line.seller_id) {
            Some(s) => {
                s.subtotal = s.subtotal + total;
                s.item_count += i64::from(line.quantity.get());
            }
            None => sellers.push(SellerSubtotal {
                seller_id: line.seller_id,
                seller_name: line.seller_name.clone(),
                item_count: i64::from(line.quantity.get()),
                subtotal: DualPrice::zero() + total,
            }),
        }
    }
    let subtotal: DualPrice = sellers.iter().map(|s| s.subtotal).sum();
    let fees: Vec<AppliedFee> = rules
        .iter()
        .filter_map(|r| {
            r.charge(subtotal.usd, rate).map(|amount| AppliedFee {
                code: r.code.clone(),
                name: r.name.clone(),
                amount,
            })
        })
        .collect();
    let total = subtotal + fees.iter().map(|f| f.amount).sum();
    Summary {
        item_count: sellers.iter().map(|s| s.item_count).sum(),
        sellers,
        subtotal,
        fees,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fees::FeeKind;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn facts(stored_usd: &str, price_usd: &str) -> LineFacts {
        LineFacts {
            item_id: Uuid::now_v7(),
            product_id: ProductId::now_v7(),
            saved: false,
            quantity: 3,
            stored: DualPrice::at_rate(d(stored_usd), d("10")),
            pending_old: None,
            reduced_from: None,
            sellable: true,
            price_usd: d(price_usd),
            max_per_order: 10,
            available: 50,
            low_stock_threshold: 5,
        }
    }

    fn kinds(o: &LineOutcome) -> Vec<NoticeKind> {
        o.notices.iter().map(|n| n.kind).collect()
    }

    #[test]
    fn an_unchanged_line_has_no_notice() {
        let o = review_line(&facts("1.00", "1.00"), d("10"));
        assert!(!o.repriced && o.counted && o.notices.is_empty());
    }

    #[test]
    fn a_product_price_change_is_reported_with_old_and_new_prices() {
        let o = review_line(&facts("1.00", "1.20"), d("10"));
        assert!(o.repriced);
        assert_eq!(kinds(&o), [NoticeKind::PriceChanged]);
        assert_eq!(o.notices[0].old_price.unwrap().ves, d("10.00"));
        assert_eq!(o.notices[0].new_price.unwrap().ves, d("12.00"));
    }

    #[test]
    fn a_rate_change_alone_moves_the_ves_price() {
        let o = review_line(&facts("1.00", "1.00"), d("11"));
        assert_eq!(o.unit, DualPrice::new(d("1.00"), d("11.00")));
        assert_eq!(kinds(&o), [NoticeKind::PriceChanged]);
    }

    #[test]
    fn a_change_not_yet_acted_on_keeps_being_reported() {
        let mut f = facts("1.20", "1.20");
        f.pending_old = Some(DualPrice::at_rate(d("1.00"), d("10")));
        assert_eq!(kinds(&review_line(&f, d("10"))), [NoticeKind::PriceChanged]);
    }

    #[test]
    fn quantity_is_reduced_to_stock_or_maximum_with_a_notice() {
        let mut f = facts("1.00", "1.00");
        f.available = 2;
        let o = review_line(&f, d("10"));
        assert_eq!(o.quantity, 2);
        assert_eq!(
            kinds(&o),
            [NoticeKind::QuantityReduced, NoticeKind::LowStock]
        );
        let mut f = facts("1.00", "1.00");
        f.max_per_order = 1;
        assert_eq!(review_line(&f, d("10")).quantity, 1);
    }

    #[test]
    fn unavailable_and_out_of_stock_lines_are_not_counted() {
        let mut f = facts("1.00", "1.00");
        f.available = 0;
        let o = review_line(&f, d("10"));
        assert!(!o.counted);
        assert_eq!(kinds(&o), [NoticeKind::OutOfStock]);
        let mut f = facts("1.00", "1.00");
        f.sellable = false;
        assert_eq!(
            kinds(&review_line(&f, d("10"))),
            [NoticeKind::ProductUnavailable]
        );
    }

    fn rule(kind: FeeKind, amount: &str, min: Option<&str>) -> FeeRuleRow {
        FeeRuleRow {
            id: Uuid::now_v7(),
            code: "service_fee".into(),
            name: "Service fee".into(),
            kind,
            amount: d(amount),
            min_subtotal_usd: min.map(d),
            active: true,
            created_at: crate::db::now(),
            updated_at: crate::db::now(),
        }
    }

    #[test]
    fn the_summary_adds_up_per_seller_and_overall_in_both_currencies() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let rate = d("36.123");
        let line = |seller, usd: &str, q| CountedLine {
            seller_id: seller,
            seller_name: "s".into(),
            unit: DualPrice::at_rate(d(usd), rate),
            quantity: crate::money::Quantity::new(q).unwrap(),
        };
        let lines = [
            line(a.into(), "1.01", 3),
            line(b.into(), "19.99", 1),
            line(a.into(), "0.33", 7),
        ];
        let s = summarize(
            &lines,
            &[
                rule(FeeKind::Percent, "2.5", None),
                rule(FeeKind::Fixed, "1", Some("100")),
            ],
            rate,
        );
        assert_eq!(s.sellers.len(), 2);
        assert_eq!(s.item_count, 11);
        let sum: DualPrice = s.sellers.iter().map(|x| x.subtotal).sum();
        assert_eq!(s.subtotal, sum);
        // 2.5% of 25.33 = 0.63325 -> 0.63; the fixed fee needs a subtotal of 100.
        assert_eq!(s.fees.len(), 1);
        assert_eq!(s.fees[0].amount.usd, d("0.63"));
        assert_eq!(s.total, s.subtotal + s.fees[0].amount);
    }
}
