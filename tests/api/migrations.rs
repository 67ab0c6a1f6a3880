//! Every migration has a working down.sql: all up, all down, all up again.

use canasta::db::MIGRATIONS;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::helpers::{TestDb, url_with_db};

#[test]
fn all_migrations_go_up_down_and_up_again() {
    let name = format!("canasta_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::establish(&url_with_db("postgres")).unwrap();
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .unwrap();
    let db = TestDb { name };
    {
        let mut conn = PgConnection::establish(&db.url()).unwrap();
        let up = conn.run_pending_migrations(MIGRATIONS).unwrap().len();
        assert!(up > 0);
        let down = conn.revert_all_migrations(MIGRATIONS).unwrap().len();
        assert_eq!(up, down);
        let again = conn.run_pending_migrations(MIGRATIONS).unwrap().len();
        assert_eq!(up, again);
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    }
}
