//! The binary's command line: clear one-line errors for bad configuration,
//! and working `token` and `openapi` subcommands. Needs no database.

#![expect(
    clippy::unwrap_used,
    reason = "tests and benchmarks fail loudly on a broken setup"
)]

use std::process::{Command, Output};

fn canasta(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canasta"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    // Run where no .env file can leak settings in.
    cmd.current_dir(std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const SECRET: (&str, &str) = ("JWT_SECRET", "cli-test-secret-that-is-long-enough-000");

#[test]
fn serve_without_a_database_url_fails_with_one_clear_line() {
    let out = canasta(&["serve"], &[SECRET]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: DATABASE_URL"), "{err}");
}

#[test]
fn a_short_or_missing_jwt_secret_is_refused() {
    let db = ("DATABASE_URL", "postgres://x:y@127.0.0.1:1/z");
    let out = canasta(&["serve"], &[db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("JWT_SECRET"));
    let out = canasta(&["serve"], &[db, ("JWT_SECRET", "short")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("at least 32"));
}

#[test]
fn invalid_numbers_in_settings_are_named() {
    let out = canasta(
        &["serve"],
        &[
            ("DATABASE_URL", "postgres://x:y@127.0.0.1:1/z"),
            SECRET,
            ("PORT", "eighty"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("PORT"), "{}", stderr(&out));
}

#[test]
fn bad_flags_fail_without_a_panic() {
    for args in [
        &["--bogus"][..],
        &["token", "--role", "emperor"],
        &["token", "--role", "admin", "--ttl", "forever"],
    ] {
        let out = canasta(args, &[SECRET]);
        assert!(!out.status.success(), "{args:?}");
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    let out = canasta(&["token", "--role", "seller"], &[SECRET]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--seller"));
}

#[test]
fn token_prints_a_token_the_server_accepts() {
    use canasta::auth::{JwtKeys, Role};
    use canasta::config::{JwtAlgorithm, JwtSettings, Secret};
    let seller = "0190f0c8-0000-7000-8000-000000000009";
    let out = canasta(
        &[
            "token", "--role", "seller", "--seller", seller, "--ttl", "30m",
        ],
        &[SECRET],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    let keys = JwtKeys::from_settings(&JwtSettings {
        algorithm: JwtAlgorithm::Hs256,
        secret: Some(Secret::new(SECRET.1)),
        public_key_file: None,
        private_key_file: None,
        issuer: None,
        audience: None,
    })
    .unwrap();
    let principal = keys.verify(token.trim()).unwrap();
    assert!(principal.has(Role::Seller));
    assert_eq!(principal.seller_id.unwrap().to_string(), seller);
}

#[test]
fn openapi_prints_the_committed_document() {
    let out = canasta(&["openapi"], &[]);
    assert!(out.status.success());
    let committed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert_eq!(out.stdout, committed);
}

#[test]
fn worker_without_a_database_url_fails_with_one_clear_line() {
    let out = canasta(&["worker"], &[SECRET]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: DATABASE_URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn subcommands_that_verify_no_tokens_do_not_ask_for_jwt_settings() {
    // An unreachable database: each gets as far as connecting, never to JWT_SECRET.
    let db = ("DATABASE_URL", "postgres://x:y@127.0.0.1:1/z");
    for args in [&["migrate"][..], &["install-payment-methods"]] {
        let out = canasta(args, &[db]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(!err.contains("JWT"), "{args:?}: {err}");
        assert!(
            err.contains("cannot connect to the database"),
            "{args:?}: {err}"
        );
    }
    // serve and seed do verify or mint tokens, so they still require it.
    let out = canasta(&["seed"], &[db]);
    assert!(stderr(&out).contains("JWT_SECRET"), "{}", stderr(&out));
}
