//! Command-line interface: `serve` (the default), `worker`, `migrate`,
//! `seed`, `install-payment-methods`, `token` and `openapi`. Each subcommand reads only the settings it needs,
//! and every failure is one line on stderr with a non-zero exit.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use diesel::Connection;
use uuid::Uuid;

use crate::auth::{JwtKeys, Role};
use crate::config::{JwtSettings, Settings};
use crate::openapi;
use crate::startup::Application;
use crate::{db, seed};

/// canasta: cart, checkout, order and inventory API.
#[derive(Debug, Parser)]
#[command(name = "canasta", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies migrations first unless RUN_MIGRATIONS=false).
    Serve,
    /// Run only the background jobs (reservation expiry), for scale-out.
    Worker,
    /// Apply pending database migrations, or revert them all with --revert-all.
    Migrate {
        /// Revert every migration instead (destroys data).
        #[arg(long)]
        revert_all: bool,
    },
    /// Load demo sellers, products and an exchange rate, and print demo tokens.
    Seed,
    /// Install the standard Venezuelan payment methods (Pago Móvil, bank
    /// transfer, Zelle, cash in USD; card inactive) where missing. Needs only
    /// DATABASE_URL; safe to run again.
    InstallPaymentMethods,
    /// Print a signed development token.
    Token {
        /// The user id (`sub`); random when absent.
        #[arg(long)]
        sub: Option<Uuid>,
        /// A role to grant; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// The seller the user acts for (with --role seller).
        #[arg(long = "seller")]
        seller: Option<Uuid>,
        /// Lifetime, such as 30m, 1h, 7d (default 1h).
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        /// Write to this file instead of stdout.
        #[arg(long)]
        write: Option<PathBuf>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Parses `90s`, `30m`, `1h`, `7d` (at most 365 days).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30m, 1h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" | "" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    if secs == 0 || secs > 365 * 86_400 {
        return Err("the lifetime must be between 1s and 365d".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Errors of the CLI, printed as one line.
pub type CliError = Box<dyn std::error::Error>;

/// Parses the arguments and runs the subcommand.
pub fn main() -> Result<(), CliError> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Worker => worker(),
        Command::Migrate { revert_all } => migrate(revert_all),
        Command::Seed => {
            let settings = Settings::from_env()?;
            let keys = JwtKeys::from_settings(&settings.jwt)?;
            let mut conn = connect(&settings)?;
            let report = seed::run(&mut conn, &keys)?;
            print!("{report}");
            Ok(())
        }
        Command::InstallPaymentMethods => {
            let mut conn = connect_url(&crate::config::database_url_from_env()?)?;
            let added = crate::payments::service::seed_defaults(&mut conn)?;
            println!("installed {added} payment methods (the others were already there)");
            Ok(())
        }
        Command::Token {
            sub,
            roles,
            seller,
            ttl,
        } => {
            if roles.contains(&Role::Seller) && seller.is_none() {
                return Err("--role seller needs --seller <SELLER_ID>".into());
            }
            let keys = JwtKeys::from_settings(&JwtSettings::from_env()?)?;
            let token = keys.mint(
                sub.unwrap_or_else(Uuid::now_v7),
                &roles,
                seller.map(Into::into),
                ttl,
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Openapi { write } => {
            let json = openapi::spec_json();
            match write {
                Some(path) => std::fs::write(&path, json)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()).into()),
                None => {
                    print!("{json}");
                    Ok(())
                }
            }
        }
    }
}

fn connect(settings: &Settings) -> Result<diesel::PgConnection, CliError> {
    connect_url(&settings.database_url)
}

fn connect_url(url: &crate::config::Secret) -> Result<diesel::PgConnection, CliError> {
    diesel::PgConnection::establish(url.expose())
        .map_err(|e| format!("cannot connect to the database: {e}").into())
}

fn migrate(revert_all: bool) -> Result<(), CliError> {
    use diesel_migrations::MigrationHarness;
    let mut conn = connect_url(&crate::config::database_url_from_env()?)?;
    if revert_all {
        let reverted = conn
            .revert_all_migrations(db::MIGRATIONS)
            .map_err(|e| format!("revert failed: {e}"))?;
        println!("reverted {} migrations", reverted.len());
    } else {
        let applied = db::migrate(&mut conn).map_err(|e| format!("migration failed: {e:?}"))?;
        println!("applied {} migrations", applied.len());
        for name in applied {
            println!("  {name}");
        }
    }
    Ok(())
}

fn worker() -> Result<(), CliError> {
    let settings = Settings::for_jobs()?;
    let pool = db::pool(
        settings.database_url.expose(),
        settings.pool_size,
        settings.pool_timeout,
    );
    log::info!(
        "canasta worker running jobs every {:?}",
        settings.job_interval
    );
    actix_web::rt::System::new().block_on(crate::jobs::run(
        pool,
        crate::jobs::JobSettings::from(&settings),
    ));
    Ok(())
}

fn serve() -> Result<(), CliError> {
    let settings = Settings::from_env()?;
    log::info!("starting with {settings:?}");
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())?;
        log::info!(
            "canasta listening on http://{}:{} (docs at /docs)",
            settings.host,
            app.port()
        );
        app.run_until_stopped().await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_with_units() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("1y").is_err());
        assert!(parse_ttl("abc").is_err());
    }
}
