//! Payment-method use cases: anyone lists the active methods; admins manage
//! them; `seed_defaults` installs the usual Venezuelan set once.

use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Currency, MethodCode, PaymentMethodRow, repo};
use crate::auth::{Principal, Role};
use crate::error::AppError;

/// Active methods, by code.
pub fn active(conn: &mut PgConnection) -> Result<Vec<PaymentMethodRow>, AppError> {
    Ok(repo::active(conn)?)
}

/// An active method by code; 422 when it is not offered.
pub fn offered(conn: &mut PgConnection, code: MethodCode) -> Result<PaymentMethodRow, AppError> {
    repo::find_active(conn, code)?
        .ok_or_else(|| AppError::invalid("payment_method", "is not offered now"))
}

/// Changes a method (admins); `change` edits the current row.
pub fn update(
    conn: &mut PgConnection,
    actor: &Principal,
    code: MethodCode,
    change: impl FnOnce(&mut PaymentMethodRow) -> Result<(), AppError>,
) -> Result<PaymentMethodRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    conn.transaction(|conn| {
        let mut row = repo::lock(conn, code)?.ok_or(AppError::NotFound("payment method"))?;
        change(&mut row)?;
        row.updated_at = crate::db::now();
        repo::save(conn, &row)?;
        Ok(row)
    })
}

/// Every method, offered or retired, by code (admins).
pub fn all(conn: &mut PgConnection, actor: &Principal) -> Result<Vec<PaymentMethodRow>, AppError> {
    actor.require_any(&[Role::Admin])?;
    Ok(repo::all(conn)?)
}

/// What an admin sends to add a method.
#[derive(Debug, Clone)]
pub struct NewMethod {
    /// Which kind (decides what a buyer reports and how it settles).
    pub code: MethodCode,
    /// Name shown to buyers.
    pub name: String,
    /// The currency paid in.
    pub currency: Currency,
    /// What the buyer must do.
    pub instructions: String,
    /// Surcharge percent.
    pub surcharge_percent: Decimal,
    /// Minutes an unpaid order waits (a dispatch window for methods paid at delivery).
    pub payment_window_minutes: i32,
    /// Offered at once.
    pub active: bool,
}

/// Adds a method (admins); 409 `already_exists` when its code is there
/// (change it or offer it again with PATCH instead).
pub fn create(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewMethod,
) -> Result<PaymentMethodRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    let now = crate::db::now();
    let row = PaymentMethodRow {
        id: Uuid::now_v7(),
        code: new.code,
        name: new.name,
        currency: new.currency,
        instructions: new.instructions,
        surcharge_percent: new.surcharge_percent,
        payment_window_minutes: new.payment_window_minutes,
        active: new.active,
        created_at: now,
        updated_at: now,
    };
    let added = repo::insert_missing(conn, std::slice::from_ref(&row))?;
    if added == 0 {
        return Err(AppError::conflict(
            crate::error::ErrorCode::DuplicatePaymentMethod,
            format!("the method {} exists; change it with PATCH", new.code),
        ));
    }
    Ok(row)
}

/// Installs the usual methods unless present; returns how many were added.
pub fn seed_defaults(conn: &mut PgConnection) -> Result<usize, AppError> {
    let now = crate::db::now();
    let igtf = Decimal::new(3, 0);
    let defaults = [
        (
            MethodCode::PagoMovil,
            "Pago Móvil",
            Currency::Ves,
            "Paga con Pago Móvil al banco, teléfono y cédula del vendedor; luego envía la referencia.",
            Decimal::ZERO,
            120,
        ),
        (
            MethodCode::BankTransfer,
            "Transferencia bancaria",
            Currency::Ves,
            "Transfiere a la cuenta del vendedor y envía el número de referencia y la fecha.",
            Decimal::ZERO,
            1440,
        ),
        (
            MethodCode::Zelle,
            "Zelle",
            Currency::Usd,
            "Envía el pago por Zelle y luego el nombre del remitente y el código de confirmación. Incluye IGTF 3%.",
            igtf,
            1440,
        ),
        (
            MethodCode::CashUsd,
            "Efectivo en dólares",
            Currency::Usd,
            "Paga en efectivo al recibir o retirar. Incluye IGTF 3%.",
            igtf,
            4320,
        ),
        (
            MethodCode::Card,
            "Tarjeta",
            Currency::Ves,
            "Paga con tarjeta a través del proveedor de pagos.",
            Decimal::ZERO,
            60,
        ),
    ];
    let rows: Vec<PaymentMethodRow> = defaults
        .into_iter()
        .map(
            |(code, name, currency, instructions, surcharge, window)| PaymentMethodRow {
                id: Uuid::now_v7(),
                code,
                name: name.into(),
                currency,
                instructions: instructions.into(),
                surcharge_percent: surcharge,
                payment_window_minutes: window,
                // Card payments need a provider integration that is not configured yet.
                active: code != MethodCode::Card,
                created_at: now,
                updated_at: now,
            },
        )
        .collect();
    Ok(repo::insert_missing(conn, &rows)?)
}

/// The currency `code` is paid in (whether or not it is offered now).
pub fn currency_of(conn: &mut PgConnection, code: MethodCode) -> Result<Currency, AppError> {
    Ok(repo::currency_of(conn, code)?)
}

/// A payment reference as compared for reuse: letters and digits only, upper
/// case, so `0045-1234`, `0045 1234` and `00451234` are one reference.
pub fn reference_key(reference: &str) -> String {
    reference
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
