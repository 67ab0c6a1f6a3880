//! `src/db/schema.rs` is written by hand; this holds it to the migrated
//! database: the same tables, and in each the same columns, in the same
//! order, with the same types and nullability (what `diesel print-schema`
//! would check, without installing it).

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::TestDb;

/// (table, column, type as schema.rs spells it)
fn declared() -> Vec<(String, String, String)> {
    let text = include_str!("../../src/db/schema.rs");
    let mut out = vec![];
    let mut table: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_suffix('{')
            && let Some((name, _)) = rest.trim().split_once(" (")
            && !name.contains(' ')
        {
            table = Some(name.to_string());
            continue;
        }
        if line.starts_with('}') {
            table = None;
            continue;
        }
        if let (Some(t), Some((column, ty))) = (&table, line.split_once(" -> ")) {
            out.push((
                t.clone(),
                column.trim().to_string(),
                ty.trim_end_matches(',').trim().to_string(),
            ));
        }
    }
    out
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

fn diesel_type(data_type: &str, udt_name: &str, nullable: bool) -> String {
    if data_type == "ARRAY" {
        let element = match udt_name.trim_start_matches('_') {
            "text" => "text",
            "uuid" => "uuid",
            "int4" => "integer",
            other => other,
        };
        return diesel_type(&format!("{element}[]"), "", nullable);
    }
    if let Some(element) = data_type.strip_suffix("[]") {
        let inner = diesel_type(element, "", false);
        let array = format!("Array<{inner}>");
        return if nullable {
            format!("Nullable<{array}>")
        } else {
            array
        };
    }
    let base = match data_type {
        "uuid" => "Uuid",
        "text" => "Text",
        "integer" => "Int4",
        "bigint" => "Int8",
        "smallint" => "Int2",
        "numeric" => "Numeric",
        "boolean" => "Bool",
        "timestamp with time zone" => "Timestamptz",
        "jsonb" => "Jsonb",
        "date" => "Date",
        "double precision" => "Float8",
        other => other,
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base.to_string()
    }
}

#[test]
fn schema_rs_matches_the_migrated_database() {
    let db = TestDb::create();
    let mut conn = PgConnection::establish(&db.url()).unwrap();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, udt_name::text, is_nullable::text
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
         ORDER BY table_name, ordinal_position",
    )
    .load(&mut conn)
    .unwrap();
    let mut actual: Vec<(String, String, String)> = columns
        .into_iter()
        .map(|c| {
            let ty = diesel_type(&c.data_type, &c.udt_name, c.is_nullable == "YES");
            (c.table_name, c.column_name, ty)
        })
        .collect();
    let mut declared = declared();
    assert!(declared.len() > 100, "schema.rs was not parsed");
    // Column order within a table matters (Queryable tuples); tables in any order.
    declared.sort_by(|a, b| a.0.cmp(&b.0));
    actual.sort_by(|a, b| a.0.cmp(&b.0));
    let missing: Vec<_> = actual.iter().filter(|c| !declared.contains(c)).collect();
    let extra: Vec<_> = declared.iter().filter(|c| !actual.contains(c)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "src/db/schema.rs differs from the migrated database:\n  in the database, not in schema.rs: {missing:?}\n  in schema.rs, not in the database: {extra:?}"
    );
    assert_eq!(declared, actual, "same columns, different order");
}
