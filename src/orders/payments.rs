//! An order's payment: the buyer reports a manual payment (a reused reference
//! is flagged, under a lock), the seller or an operator verifies or rejects
//! it, or records the cash collected at delivery; the submissions as
//! reported.

use diesel::prelude::*;

use super::OrderId;
use super::fulfilment::complete_if_done;
use super::service::{
    By, commit_stock, method_of, move_order, move_payment, refused, statuses, visible,
};
use super::state::{self, Mover, OrderStatus, PaymentStatus};
use super::{OrderRow, PaymentSubmissionRow, repo};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode, FieldError};
use crate::inventory::service as inventory;
use crate::payments::repo as payments;

/// What a buyer sends for a manual payment.
#[derive(Debug, Clone, Default)]
pub struct PaymentReport {
    /// The paying bank (Pago Móvil, transfer).
    pub bank: Option<String>,
    /// The paying phone (Pago Móvil).
    pub phone: Option<String>,
    /// The payer's cédula or RIF (Pago Móvil).
    pub national_id: Option<String>,
    /// The reference or confirmation code.
    pub reference: String,
    /// The sender's name (Zelle).
    pub sender: Option<String>,
    /// The day of the transfer (transfer), `YYYY-MM-DD`.
    pub paid_on: Option<chrono::NaiveDate>,
}

/// The buyer reports a manual payment: the order waits for verification.
/// A reference already used on another order for the same method and bank
/// is accepted but flagged (`duplicate_of`), never silently.
pub fn submit_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
    report: PaymentReport,
) -> Result<OrderRow, AppError> {
    use crate::payments::MethodCode;
    conn.transaction(|conn| {
        let (order, mover) = visible(conn, viewer, id)?;
        if mover != Mover::Buyer {
            return Err(AppError::forbidden("only the buyer reports a payment"));
        }
        let method: MethodCode = order.payment_method.parse().map_err(AppError::internal)?;
        let mut errors = vec![];
        let mut need = |field: &str, present: bool| {
            if !present {
                errors.push(FieldError::new(field, format!("is required for {method}")));
            }
        };
        let reference = report.reference.trim().to_string();
        need("reference", !reference.is_empty() && reference.len() <= 64);
        let mut phone = None;
        let mut national_id = None;
        match method {
            MethodCode::PagoMovil => {
                need(
                    "bank",
                    report.bank.as_deref().is_some_and(|b| !b.trim().is_empty()),
                );
                match report
                    .phone
                    .as_deref()
                    .map(crate::addresses::venezuela::phone_e164)
                {
                    Some(Ok(p)) => phone = Some(p),
                    _ => errors.push(FieldError::new(
                        "phone",
                        "must be the paying Venezuelan phone",
                    )),
                }
                match report
                    .national_id
                    .as_deref()
                    .map(crate::addresses::venezuela::national_id)
                {
                    Some(Ok(n)) => national_id = Some(n),
                    _ => errors.push(FieldError::new(
                        "national_id",
                        "must be the payer's cédula or RIF",
                    )),
                }
            }
            MethodCode::BankTransfer => {
                need(
                    "bank",
                    report.bank.as_deref().is_some_and(|b| !b.trim().is_empty()),
                );
                need("paid_on", report.paid_on.is_some());
            }
            MethodCode::Zelle => need(
                "sender",
                report
                    .sender
                    .as_deref()
                    .is_some_and(|s| !s.trim().is_empty()),
            ),
            MethodCode::CashUsd | MethodCode::Card => {
                return Err(AppError::conflict(
                    ErrorCode::InvalidTransition,
                    format!("{method} payments are not reported by reference"),
                ));
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(AppError::Validation {
                code: ErrorCode::ValidationFailed,
                errors,
            });
        }
        let bank = report
            .bank
            .clone()
            .unwrap_or_default()
            .trim()
            .to_uppercase();
        let key = crate::payments::service::reference_key(&reference);
        // One reference at a time: a second report of the same reference
        // waits for the first to commit and then sees it (read, then insert).
        payments::lock_reference(conn, &format!("{method}|{bank}|{key}"))?;
        let duplicate_of = payments::reference_used_by(conn, method, &bank, &key, order.id)?;
        let by = By::caller(viewer, mover);
        let updated = move_payment(
            conn,
            &order,
            PaymentStatus::AwaitingVerification,
            by,
            "payment reported",
        )?;
        // The units stay held while the seller checks the payment.
        inventory::hold_at_least_until(
            conn,
            order.reservation_id,
            crate::db::now() + chrono::Duration::hours(VERIFICATION_WINDOW_HOURS),
        )?;
        let details = serde_json::json!({
            "bank": bank, "phone": phone, "national_id": national_id, "reference": reference,
            "sender": report.sender, "paid_on": report.paid_on,
        });
        let submitted = PaymentSubmissionRow {
            bank,
            reference,
            reference_key: key,
            duplicate_of,
            ..PaymentSubmissionRow::new(order.id, method, details)
        };
        payments::insert_submission(conn, &submitted)?;
        Ok(updated)
    })
}

/// The order and the caller's part in it, for a caller who may set its
/// payment to `to` (verify, reject, collect): 404 when they may not see the
/// order, 403 when their role never makes that move (before the state is
/// looked at, so a buyer is told "not yours", not "not now").
fn payment_checker(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
    to: PaymentStatus,
) -> Result<(OrderRow, Mover), AppError> {
    let (order, mover) = visible(conn, viewer, id)?;
    if !state::may_set_payment(to, mover) {
        return Err(AppError::forbidden(
            "only the seller or an operator checks or records a payment",
        ));
    }
    Ok((order, mover))
}

/// Marks the order's latest submitted payment `status` (with `reason`) in
/// one statement.
fn settle_submission(
    conn: &mut PgConnection,
    order_id: OrderId,
    status: &str,
    reason: &str,
) -> Result<(), AppError> {
    Ok(payments::settle_latest(conn, order_id, status, reason)?)
}

/// The seller or an operator confirms the payment: paid, the held stock is
/// sold, and the order moves to processing.
pub fn verify_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
) -> Result<OrderRow, AppError> {
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Paid)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By::caller(viewer, mover);
        let paid = move_payment(conn, &order, PaymentStatus::Paid, by, "payment verified")?;
        commit_stock(conn, &crate::auth::Actor::of(viewer), &order)?;
        settle_submission(conn, id, "verified", "")?;
        let system = By::automatic(viewer);
        move_order(
            conn,
            &paid,
            OrderStatus::Processing,
            system,
            "payment verified",
        )
    })
}

/// The seller or an operator rejects the reported payment (the buyer may report again).
pub fn reject_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
    reason: &str,
) -> Result<OrderRow, AppError> {
    if reason.trim().is_empty() || reason.len() > 500 {
        return Err(AppError::invalid(
            "reason",
            "explain the rejection (1 to 500 characters)",
        ));
    }
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Failed)?;
        if order.payment_status != PaymentStatus::AwaitingVerification {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                "no reported payment is waiting for verification",
            ));
        }
        let by = By::caller(viewer, mover);
        let mut failed = move_payment(conn, &order, PaymentStatus::Failed, by, reason.trim())?;
        // The buyer gets time to report again before the unpaid-order job cancels.
        let grace = crate::db::now() + chrono::Duration::hours(RESUBMIT_GRACE_HOURS);
        if failed.payment_due_at < grace {
            failed = repo::set_payment_due(conn, id, grace)?;
        }
        inventory::hold_at_least_until(conn, failed.reservation_id, failed.payment_due_at)?;
        settle_submission(conn, id, "rejected", reason.trim())?;
        Ok(failed)
    })
}

/// How long a reported payment may wait for verification while its stock stays held.
pub const VERIFICATION_WINDOW_HOURS: i64 = 72;

/// After a rejection the buyer has at least this long to report again.
pub const RESUBMIT_GRACE_HOURS: i64 = 24;

/// What the seller or an operator records when cash is collected at
/// delivery or pickup.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The amount collected, in the method's currency.
    pub amount: rust_decimal::Decimal,
    /// Who collected it (the courier or the shop's clerk).
    pub collected_by: String,
    /// Anything worth keeping (change given, receipt number).
    pub note: String,
}

/// The seller or an operator records the cash collected at delivery or
/// pickup: the payment becomes `paid` (a verified submission keeps the
/// amount and who collected it), and a delivered order completes. The
/// amount must be the order's total in the method's currency.
pub fn collect_payment(
    conn: &mut PgConnection,
    viewer: &Principal,
    id: OrderId,
    collection: Collection,
) -> Result<OrderRow, AppError> {
    use crate::payments::Currency;
    let collected_by = collection.collected_by.trim().to_string();
    if collected_by.is_empty() {
        return Err(AppError::invalid(
            "collected_by",
            "say who collected the money",
        ));
    }
    conn.transaction(|conn| {
        let (order, mover) = payment_checker(conn, viewer, id, PaymentStatus::Paid)?;
        let method =
            method_of(&order).ok_or_else(|| AppError::internal("unknown payment method"))?;
        if !method.collected_on_delivery() {
            return Err(AppError::conflict(
                ErrorCode::InvalidTransition,
                format!("{method} is not paid at delivery"),
            ));
        }
        let by = By::caller(viewer, mover);
        state::check_payment(statuses(&order), PaymentStatus::Paid, by.mover)
            .map_err(|r| refused(r, "record a collected payment"))?;
        let currency = crate::payments::service::currency_of(conn, method)?;
        let due = match currency {
            Currency::Usd => order.total_usd,
            Currency::Ves => order.total_ves,
        };
        if collection.amount != due {
            return Err(AppError::invalid(
                "amount",
                format!("must be the order's total, {due} {currency}"),
            ));
        }
        let paid = move_payment(
            conn,
            &order,
            PaymentStatus::Paid,
            by,
            "collected at delivery",
        )?;
        let details = serde_json::json!({
            "amount": collection.amount.to_string(), "currency": currency.as_str(),
            "collected_by": collected_by, "note": collection.note.trim(),
        });
        // Collected in person: recorded as verified at once.
        let collected = PaymentSubmissionRow {
            status: "verified".into(),
            ..PaymentSubmissionRow::new(order.id, method, details)
        };
        payments::insert_submission(conn, &collected)?;
        complete_if_done(conn, viewer, paid)
    })
}

/// The payments reported for an order, oldest first.
pub fn submissions(
    conn: &mut PgConnection,
    order_id: OrderId,
) -> Result<Vec<super::PaymentSubmissionRow>, AppError> {
    Ok(payments::submissions_of(conn, order_id)?)
}
