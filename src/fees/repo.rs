//! Fee-rule queries. No transactions, no rules.

use diesel::prelude::*;
use uuid::Uuid;

use super::FeeRuleRow;
use crate::db::schema::fee_rules as f;

/// Active rules, by code.
pub fn active(conn: &mut PgConnection) -> QueryResult<Vec<FeeRuleRow>> {
    f::table
        .filter(f::active.eq(true))
        .order(f::code.asc())
        .select(FeeRuleRow::as_select())
        .load(conn)
}

/// Every rule, by code.
pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<FeeRuleRow>> {
    f::table
        .order(f::code.asc())
        .select(FeeRuleRow::as_select())
        .load(conn)
}

/// Inserts a rule unless the code is taken; true when inserted.
pub fn insert_if_absent(conn: &mut PgConnection, row: &FeeRuleRow) -> QueryResult<bool> {
    diesel::insert_into(f::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// Sets a rule's amount, minimum and active flag.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    amount: Option<rust_decimal::Decimal>,
    min: Option<Option<rust_decimal::Decimal>>,
    active: Option<bool>,
    name: Option<String>,
) -> QueryResult<Option<FeeRuleRow>> {
    #[derive(AsChangeset)]
    #[diesel(table_name = f)]
    struct Changes {
        amount: Option<rust_decimal::Decimal>,
        min_subtotal_usd: Option<Option<rust_decimal::Decimal>>,
        active: Option<bool>,
        name: Option<String>,
        updated_at: chrono::DateTime<chrono::Utc>,
    }
    diesel::update(f::table.find(id))
        .set(&Changes {
            amount,
            min_subtotal_usd: min,
            active,
            name,
            updated_at: crate::db::now(),
        })
        .returning(FeeRuleRow::as_returning())
        .get_result(conn)
        .optional()
}
