//! Settings read from the environment (and an optional `.env`). Owns parsing
//! and defaults; it never reads the environment anywhere else, and secrets are
//! redacted from `Debug` so settings can be logged.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A string that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The signing algorithm tokens must use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 and a shared secret (the default).
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256 and a public key.
    Rs256,
    /// ECDSA P-256 with SHA-256 and a public key.
    Es256,
}

impl FromStr for JwtAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "HS256" => Ok(Self::Hs256),
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            other => Err(format!(
                "unsupported algorithm {other:?} (use HS256, RS256 or ES256)"
            )),
        }
    }
}

/// How tokens are verified (and, for `canasta token`, signed).
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Algorithm every token must be signed with; others are rejected.
    pub algorithm: JwtAlgorithm,
    /// Shared secret for HS256.
    pub secret: Option<Secret>,
    /// PEM public key for RS256/ES256 verification.
    pub public_key_file: Option<PathBuf>,
    /// PEM private key for RS256/ES256, used only by `canasta token`.
    pub private_key_file: Option<PathBuf>,
    /// Required `iss` claim, when set.
    pub issuer: Option<String>,
    /// Required `aud` claim, when set.
    pub audience: Option<String>,
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL connection URL.
    pub database_url: Secret,
    /// Largest number of pooled connections per process.
    pub pool_size: u32,
    /// Longest wait for a pooled connection before answering 503.
    pub pool_timeout: Duration,
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Apply pending migrations when `serve` starts.
    pub run_migrations: bool,
    /// Origins allowed by CORS; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Run the background jobs inside `serve`.
    pub run_jobs: bool,
    /// How often the jobs wake up.
    pub job_interval: Duration,
    /// Carts untouched this long become abandoned (users) or expired (guests).
    pub cart_idle: Duration,
    /// How long `Idempotency-Key`s are kept (IDEMPOTENCY_RETENTION_HOURS, default 24).
    pub idempotency_retention: Duration,
    /// Soft stock holds for cart lines, with this time-to-live; `None` is off.
    pub cart_hold: Option<Duration>,
    /// Token verification.
    pub jwt: JwtSettings,
    /// Webhook delivery (`WEBHOOK_*`).
    pub webhooks: WebhookSettings,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_HTTP`: plain `http://` endpoints (development and tests only).
    pub allow_http: bool,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS`: endpoints on loopback, private or
    /// link-local addresses (development and tests only).
    pub allow_private: bool,
    /// `WEBHOOK_CONNECT_TIMEOUT_MS` (default 5000).
    pub connect_timeout: Duration,
    /// `WEBHOOK_TIMEOUT_MS`: the whole exchange (default 10000).
    pub timeout: Duration,
    /// `WEBHOOK_RETRY_SCHEDULE`: seconds to wait after each failed attempt,
    /// comma-separated; when it runs out the delivery is dead. Default 5 s,
    /// 5 min, 30 min, 2 h, 5 h, then 10 h six times: about three days.
    pub retry_schedule: Vec<Duration>,
    /// `WEBHOOK_DISABLE_AFTER_HOURS`: an endpoint failing this long is
    /// disabled when one of its deliveries dies (default 72).
    pub disable_after: Duration,
    /// `WEBHOOK_LEASE_SECONDS`: a claimed delivery whose sender died is due
    /// again after this (default 60).
    pub lease: Duration,
}

impl Default for WebhookSettings {
    /// The documented defaults: `https` and public targets only, 5 s to
    /// connect, 10 s in all, about three days of retries, disabled after 72
    /// failing hours, a 60 s lease.
    fn default() -> Self {
        let schedule = [
            5, 300, 1800, 7200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000, 36_000,
        ];
        Self {
            allow_http: false,
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            retry_schedule: schedule.into_iter().map(Duration::from_secs).collect(),
            disable_after: Duration::from_secs(72 * 3600),
            lease: Duration::from_secs(60),
        }
    }
}

impl WebhookSettings {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let retry_schedule = match var("WEBHOOK_RETRY_SCHEDULE") {
            None => d.retry_schedule,
            Some(raw) => raw
                .split(',')
                .map(|s| s.trim().parse::<u64>().map(Duration::from_secs))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ConfigError::new(
                        "WEBHOOK_RETRY_SCHEDULE",
                        format!("invalid value {raw:?}: {e}"),
                    )
                })?,
        };
        Ok(Self {
            allow_http: parse_bool("WEBHOOK_ALLOW_HTTP", d.allow_http)?,
            allow_private: parse_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", d.allow_private)?,
            connect_timeout: Duration::from_millis(
                parse("WEBHOOK_CONNECT_TIMEOUT_MS", millis(d.connect_timeout))?.max(1),
            ),
            timeout: Duration::from_millis(parse("WEBHOOK_TIMEOUT_MS", millis(d.timeout))?.max(1)),
            retry_schedule,
            disable_after: Duration::from_secs(
                parse(
                    "WEBHOOK_DISABLE_AFTER_HOURS",
                    d.disable_after.as_secs() / 3600,
                )? * 3600,
            ),
            lease: Duration::from_secs(parse("WEBHOOK_LEASE_SECONDS", d.lease.as_secs())?.max(1)),
        })
    }
}

/// A setting that is missing or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| ConfigError::new(name, format!("invalid value {raw:?}: {e}"))),
    }
}

/// Two connections per core plus one (the PostgreSQL wiki's starting point,
/// "core count x 2 + effective spindles"): more sessions than the cores can
/// run only queue inside PostgreSQL and stretch the slowest requests.
/// Measured here: 5 on two cores gave the best add-to-cart p99 at 32 users.
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * 2 + 1).unwrap_or(u32::MAX)
}

fn parse_bool(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(ConfigError::new(
            name,
            format!("expected true or false, got {v:?}"),
        )),
    }
}

impl JwtSettings {
    /// Reads the `JWT_*` variables and checks they fit together.
    pub fn from_env() -> Result<Self, ConfigError> {
        let algorithm = parse("JWT_ALGORITHM", JwtAlgorithm::Hs256)?;
        let settings = Self {
            algorithm,
            secret: var("JWT_SECRET").map(Secret::new),
            public_key_file: var("JWT_PUBLIC_KEY_FILE").map(PathBuf::from),
            private_key_file: var("JWT_PRIVATE_KEY_FILE").map(PathBuf::from),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
        };
        match algorithm {
            JwtAlgorithm::Hs256 => match &settings.secret {
                None => Err(ConfigError::new("JWT_SECRET", "is required for HS256")),
                Some(s) if s.expose().len() < 32 => Err(ConfigError::new(
                    "JWT_SECRET",
                    "must be at least 32 characters",
                )),
                Some(_) => Ok(settings),
            },
            JwtAlgorithm::Rs256 | JwtAlgorithm::Es256 if settings.public_key_file.is_none() => Err(
                ConfigError::new("JWT_PUBLIC_KEY_FILE", "is required for RS256 and ES256"),
            ),
            _ => Ok(settings),
        }
    }
}

/// `DATABASE_URL`, the one setting `migrate` and `install-payment-methods` read.
pub fn database_url_from_env() -> Result<Secret, ConfigError> {
    var("DATABASE_URL").map(Secret::new).ok_or_else(|| {
        ConfigError::new(
            "DATABASE_URL",
            "is required (postgres://user:password@host:port/db)",
        )
    })
}

impl Settings {
    /// Reads every setting from the environment, with the documented defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(JwtSettings::from_env()?)
    }

    /// The settings of `worker`, which verifies no tokens: the `JWT_*`
    /// variables are not read (the token settings are left empty).
    pub fn for_jobs() -> Result<Self, ConfigError> {
        Self::read(JwtSettings {
            algorithm: JwtAlgorithm::Hs256,
            secret: None,
            public_key_file: None,
            private_key_file: None,
            issuer: None,
            audience: None,
        })
    }

    fn read(jwt: JwtSettings) -> Result<Self, ConfigError> {
        let database_url = database_url_from_env()?;
        let workers = match parse("WORKERS", 0usize)? {
            0 => None,
            n => Some(n),
        };
        let pool_size = parse("DATABASE_POOL_SIZE", default_pool_size())?;
        if pool_size == 0 {
            return Err(ConfigError::new("DATABASE_POOL_SIZE", "must be at least 1"));
        }
        Ok(Self {
            database_url,
            pool_size,
            pool_timeout: Duration::from_millis(parse("DATABASE_POOL_TIMEOUT_MS", 2000u64)?),
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: parse("PORT", 8080u16)?,
            workers,
            run_migrations: parse_bool("RUN_MIGRATIONS", true)?,
            cors_origins: var("CORS_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            max_body_bytes: parse("MAX_BODY_BYTES", 65_536usize)?,
            run_jobs: parse_bool("RUN_JOBS", true)?,
            job_interval: Duration::from_millis(parse("JOB_INTERVAL_MS", 1000u64)?.max(10)),
            cart_idle: Duration::from_secs(parse("CART_IDLE_HOURS", 72u64)?.max(1) * 3600),
            idempotency_retention: Duration::from_secs(
                parse("IDEMPOTENCY_RETENTION_HOURS", 24u64)?.clamp(1, 24 * 365) * 3600,
            ),
            cart_hold: match parse("CART_HOLD_SECONDS", 0u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs.min(7 * 86_400))),
            },
            jwt,
            webhooks: WebhookSettings::from_env()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Secret::new("postgres://u:hunter2@h/db");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn algorithm_names_parse_case_insensitively() {
        assert_eq!("rs256".parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::Rs256));
        assert!("none".parse::<JwtAlgorithm>().is_err());
    }
}
