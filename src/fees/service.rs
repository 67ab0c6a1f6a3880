//! Fee-rule use cases: admins manage rules; carts read the active ones.

use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{FeeKind, FeeRuleRow, repo};
use crate::auth::{Principal, Role};
use crate::error::{AppError, ErrorCode};

/// The rules carts apply now.
pub fn active_rules(conn: &mut PgConnection) -> Result<Vec<FeeRuleRow>, AppError> {
    Ok(repo::active(conn)?)
}

/// Every rule (operators).
pub fn list_rules(conn: &mut PgConnection, actor: &Principal) -> Result<Vec<FeeRuleRow>, AppError> {
    actor.require_any(&[Role::Admin, Role::Support])?;
    Ok(repo::all(conn)?)
}

fn check_amount(kind: FeeKind, amount: Decimal) -> Result<(), AppError> {
    let max = match kind {
        FeeKind::Percent => Decimal::ONE_HUNDRED,
        FeeKind::Fixed => Decimal::from(10_000),
    };
    if amount < Decimal::ZERO || amount > max || amount.normalize().scale() > 4 {
        return Err(AppError::invalid(
            "amount",
            format!("must be between 0 and {max} with at most 4 decimals"),
        ));
    }
    Ok(())
}

/// A rule to create.
#[derive(Debug, Clone)]
pub struct NewRule {
    /// Stable code.
    pub code: String,
    /// Name shown.
    pub name: String,
    /// Percent or fixed.
    pub kind: FeeKind,
    /// Percent or USD.
    pub amount: Decimal,
    /// Minimum subtotal.
    pub min_subtotal_usd: Option<Decimal>,
    /// Starts active.
    pub active: bool,
}

/// Creates a rule (admins); 409 when the code is taken.
pub fn create_rule(
    conn: &mut PgConnection,
    actor: &Principal,
    new: NewRule,
) -> Result<FeeRuleRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    check_amount(new.kind, new.amount)?;
    let now = crate::db::now();
    let row = FeeRuleRow {
        id: Uuid::now_v7(),
        code: new.code,
        name: new.name,
        kind: new.kind,
        amount: new.amount,
        min_subtotal_usd: new.min_subtotal_usd,
        active: new.active,
        created_at: now,
        updated_at: now,
    };
    if repo::insert_if_absent(conn, &row)? {
        Ok(row)
    } else {
        Err(AppError::conflict(
            ErrorCode::Conflict,
            format!("a fee rule with code {:?} exists", row.code),
        ))
    }
}

/// Changes a rule (admins).
pub fn update_rule(
    conn: &mut PgConnection,
    actor: &Principal,
    id: Uuid,
    amount: Option<Decimal>,
    min: Option<Option<Decimal>>,
    active: Option<bool>,
    name: Option<String>,
) -> Result<FeeRuleRow, AppError> {
    actor.require_any(&[Role::Admin])?;
    conn.transaction(|conn| {
        let current = repo::all(conn)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound("fee rule"))?;
        if let Some(a) = amount {
            check_amount(current.kind, a)?;
        }
        repo::update(conn, id, amount, min, active, name)?.ok_or(AppError::NotFound("fee rule"))
    })
}
