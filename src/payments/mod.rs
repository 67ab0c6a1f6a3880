//! Payment methods as data: Pago Móvil, bank transfer, Zelle, cash in USD
//! and card (through a provider). Each has its currency, instructions shown
//! to the buyer, a surcharge (e.g. the 3% IGTF on foreign-currency payments)
//! and how long an unpaid order waits before it is cancelled.

pub mod api;
pub mod repo;
pub mod service;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::schema::payment_methods;
use crate::money;

crate::text_enum! {
    /// The payment methods canasta knows.
    pub enum MethodCode {
        /// Pago Móvil (bank, phone, national id, reference), in VES.
        PagoMovil = "pago_movil",
        /// Bank transfer (bank, reference, date), in VES.
        BankTransfer = "bank_transfer",
        /// Zelle (sender, confirmation code), in USD.
        Zelle = "zelle",
        /// Cash in USD on delivery or pickup.
        CashUsd = "cash_usd",
        /// Card through a payment provider.
        Card = "card",
    }
}

impl MethodCode {
    /// Paid at delivery or pickup: the seller dispatches first and records
    /// the money collected (cash); the payment window is a dispatch window.
    pub fn collected_on_delivery(self) -> bool {
        matches!(self, Self::CashUsd)
    }

    /// The buyer reports a reference that the seller or an operator checks.
    pub fn reported_by_reference(self) -> bool {
        matches!(self, Self::PagoMovil | Self::BankTransfer | Self::Zelle)
    }
}

crate::text_enum! {
    /// The currency a method pays in.
    pub enum Currency {
        /// US dollars.
        Usd = "USD",
        /// Bolívares.
        Ves = "VES",
    }
}

/// A payment method as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = payment_methods, check_for_backend(diesel::pg::Pg))]
pub struct PaymentMethodRow {
    /// Method id.
    pub id: Uuid,
    /// Which method.
    pub code: MethodCode,
    /// Name shown to buyers.
    pub name: String,
    /// The currency paid in.
    pub currency: Currency,
    /// What the buyer must do.
    pub instructions: String,
    /// Surcharge on the order total, percent.
    pub surcharge_percent: Decimal,
    /// Minutes an unpaid order waits before it is cancelled.
    pub payment_window_minutes: i32,
    /// Offered now.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl PaymentMethodRow {
    /// The surcharge on `total_usd`, in USD cents.
    pub fn surcharge_usd(&self, total_usd: Decimal) -> Decimal {
        money::round_cents(total_usd * self.surcharge_percent / Decimal::ONE_HUNDRED)
    }
}

/// A payment the buyer reported.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::payment_submissions, check_for_backend(diesel::pg::Pg))]
pub struct PaymentSubmissionRow {
    /// Submission id.
    pub id: Uuid,
    /// The order.
    pub order_id: crate::ids::OrderId,
    /// The method's code.
    pub method: String,
    /// What the buyer sent (bank, phone, national id, reference, sender, date).
    pub details: serde_json::Value,
    /// The paying bank, normalised.
    pub bank: String,
    /// The reference or confirmation code.
    pub reference: String,
    /// The reference as compared for reuse (`service::reference_key`).
    pub reference_key: String,
    /// Another order that already used this reference with the same method and bank.
    pub duplicate_of: Option<crate::ids::OrderId>,
    /// `submitted`, `verified` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: String,
    /// When reported.
    pub created_at: DateTime<Utc>,
}

impl PaymentSubmissionRow {
    /// A new submission of `order_id` by `method`, with what was sent,
    /// waiting for verification (`submitted`) and with no reference yet.
    pub fn new(
        order_id: crate::ids::OrderId,
        method: MethodCode,
        details: serde_json::Value,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            order_id,
            method: method.as_str().into(),
            details,
            bank: String::new(),
            reference: String::new(),
            reference_key: String::new(),
            duplicate_of: None,
            status: "submitted".into(),
            reason: String::new(),
            created_at: crate::db::now(),
        }
    }
}
