//! Delivery options: each seller's ways to get an order to the buyer
//! (pickup, local delivery by zone, national courier to an office or to the
//! door), with a cost rule and a time estimate, as data. Quotes price them
//! for a cart and an address.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::schema::delivery_options;
use crate::ids::SellerId;
use crate::money;

crate::text_enum! {
    /// How the goods travel.
    pub enum DeliveryKind {
        /// The buyer collects at the seller.
        Pickup = "pickup",
        /// The seller's own delivery in some municipalities.
        LocalDelivery = "local_delivery",
        /// A national courier, to one of its offices.
        CourierOffice = "courier_office",
        /// A national courier, to the door.
        CourierDoor = "courier_door",
    }
}

/// A delivery option as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = delivery_options, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct DeliveryOptionRow {
    /// Option id.
    pub id: Uuid,
    /// The seller offering it.
    pub seller_id: SellerId,
    /// How the goods travel.
    pub kind: DeliveryKind,
    /// Name shown to buyers.
    pub name: String,
    /// Courier name (MRW, Zoom, Tealca...), if any.
    pub carrier: String,
    /// Fixed cost in USD.
    pub base_cost_usd: Decimal,
    /// Cost per kilogram in USD.
    pub per_kg_usd: Decimal,
    /// Free from this cart subtotal (USD).
    pub free_above_usd: Option<Decimal>,
    /// States served (empty: all).
    pub states: Vec<String>,
    /// Municipalities served, for local delivery (empty: all in the states).
    pub municipalities: Vec<String>,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
    /// Inactive options are not offered.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl DeliveryOptionRow {
    /// Whether the option reaches `state`/`municipality` (pickup reaches everyone).
    pub fn serves(&self, state: &str, municipality: &str) -> bool {
        self.kind == DeliveryKind::Pickup
            || ((self.states.is_empty() || self.states.iter().any(|s| same(s, state)))
                && (self.municipalities.is_empty()
                    || self.municipalities.iter().any(|m| same(m, municipality))))
    }

    /// The cost in USD for a seller's part of a cart: free above the
    /// threshold, else base plus weight times the per-kg rate, in cents.
    pub fn cost_usd(&self, subtotal_usd: Decimal, weight_kg: Decimal) -> Decimal {
        if self.free_above_usd.is_some_and(|free| subtotal_usd >= free) {
            return Decimal::new(0, money::CENTS);
        }
        money::round_cents(self.base_cost_usd + self.per_kg_usd * weight_kg.max(Decimal::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn option(kind: DeliveryKind, states: &[&str], municipalities: &[&str]) -> DeliveryOptionRow {
        DeliveryOptionRow {
            id: Uuid::now_v7(),
            seller_id: SellerId::now_v7(),
            kind,
            name: "x".into(),
            carrier: String::new(),
            base_cost_usd: d("3.00"),
            per_kg_usd: d("0.75"),
            free_above_usd: Some(d("50")),
            states: states.iter().map(|s| s.to_string()).collect(),
            municipalities: municipalities.iter().map(|s| s.to_string()).collect(),
            min_days: 1,
            max_days: 3,
            active: true,
            created_at: crate::db::now(),
            updated_at: crate::db::now(),
        }
    }

    #[test]
    fn coverage_follows_states_and_municipalities() {
        let local = option(
            DeliveryKind::LocalDelivery,
            &["Distrito Capital", "Miranda"],
            &["Libertador", "Chacao"],
        );
        assert!(local.serves("Distrito Capital", "libertador"));
        assert!(!local.serves("Miranda", "Sucre"));
        assert!(!local.serves("Zulia", "Maracaibo"));
        assert!(option(DeliveryKind::CourierDoor, &[], &[]).serves("Zulia", "Maracaibo"));
        assert!(option(DeliveryKind::Pickup, &["Lara"], &[]).serves("Zulia", "Maracaibo"));
    }

    #[test]
    fn cost_is_base_plus_weight_and_free_above_the_threshold() {
        let o = option(DeliveryKind::CourierDoor, &[], &[]);
        // 3.00 + 0.75 * 2.333 = 4.74975 -> 4.75
        assert_eq!(o.cost_usd(d("20"), d("2.333")), d("4.75"));
        assert_eq!(o.cost_usd(d("50"), d("10")).to_string(), "0.00");
    }
}
