//! Building and running the HTTP server: `Application::build` binds the
//! listener (port 0 picks a free port, which tests use) and wires the pool,
//! keys, limits, middleware and routes.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{Condition, Logger};
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_scalar::{Scalar, Servable};

use crate::auth::{JwtKeys, KeyError};
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::http::extract::{BodyLimit, path_error};
use crate::openapi;
use crate::routes::{self, RouteTable, SpecJson};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The token keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The database could not be migrated.
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
}

impl Application {
    /// Loads keys, builds the pool, applies migrations when configured, binds
    /// the listener, and starts the background jobs when configured. Must be
    /// called inside an actix runtime.
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        db::metrics::install();
        let keys = JwtKeys::from_settings(&settings.jwt)?;
        let pool = db::pool(
            settings.database_url.expose(),
            settings.pool_size,
            settings.pool_timeout,
        );
        if settings.run_migrations {
            let mut conn = pool
                .get()
                .map_err(|e| StartupError::Migrate(format!("database unreachable: {e}")))?;
            let applied =
                db::migrate(&mut conn).map_err(|e| StartupError::Migrate(format!("{e:?}")))?;
            for name in applied {
                log::info!("applied migration {name}");
            }
        }
        let addr = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?
            .port();
        let server = serve(listener, pool.clone(), keys, &settings).map_err(|source| {
            StartupError::Bind {
                addr: format!("{}:{port}", settings.host),
                source,
            }
        })?;
        if settings.run_jobs {
            actix_web::rt::spawn(crate::jobs::run(
                pool.clone(),
                crate::jobs::JobSettings::from(&settings),
            ));
        }
        Ok(Self { port, server, pool })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool the server uses (for jobs started beside it).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Runs until the server is stopped (SIGINT/SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The request path for the access log, with share-link tokens hidden (they
/// grant read access, so they must not end up in log files). The query
/// string is left out for the same reason.
pub fn redact_path(path: &str) -> String {
    for prefix in ["/api/v1/shared/carts/", "/api/v1/shared/wishlists/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}[token]{tail}");
        }
    }
    path.to_string()
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| match origin.as_str() {
            "*" => cors.allow_any_origin(),
            o => cors.allowed_origin(o),
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
        ])
        .expose_headers(["etag", "location", "retry-after"])
        .max_age(3600)
}

fn serve(
    listener: TcpListener,
    pool: DbPool,
    keys: JwtKeys,
    settings: &Settings,
) -> std::io::Result<Server> {
    let spec = openapi::spec();
    let table = web::Data::new(RouteTable::from_spec(&spec));
    let spec_json = web::Data::new(SpecJson(serde_json::to_string(&spec).unwrap_or_default()));
    let hub = web::Data::from(crate::events::Hub::new(
        settings.database_url.expose().to_string(),
        std::time::Duration::from_millis(100),
    ));
    let cart_policy = web::Data::new(crate::carts::service::CartPolicy {
        hold_seconds: settings
            .cart_hold
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    });
    let webhook_policy = web::Data::new(crate::webhooks::target::TargetPolicy {
        allow_http: settings.webhooks.allow_http,
        allow_private: settings.webhooks.allow_private,
    });
    let metrics_extras = web::Data::new(crate::http::health::MetricsExtras(vec![
        std::sync::Arc::new(crate::webhooks::service::metrics),
    ]));
    let pool = web::Data::new(pool);
    let keys = web::Data::new(keys);
    let limit = settings.max_body_bytes;
    let origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                crate::http::extract::refuse_nul,
            ))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(
                Logger::new(r#"%a "%{method}xi %{path}xi" %s %b %Dms"#)
                    .custom_request_replace("method", |req| req.method().to_string())
                    .custom_request_replace("path", |req| redact_path(req.path())),
            )
            .app_data(pool.clone())
            .app_data(keys.clone())
            .app_data(hub.clone())
            .app_data(cart_policy.clone())
            .app_data(webhook_policy.clone())
            .app_data(metrics_extras.clone())
            .app_data(table.clone())
            .app_data(spec_json.clone())
            .app_data(BodyLimit(limit))
            .app_data(web::PayloadConfig::new(limit))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            .service(Scalar::with_url("/docs", spec.clone()).title("canasta API"))
            .default_service(web::to(routes::fallback))
    })
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn share_tokens_are_hidden_from_the_access_log() {
        assert_eq!(
            redact_path("/api/v1/shared/carts/abc123/copy"),
            "/api/v1/shared/carts/[token]/copy"
        );
        assert_eq!(
            redact_path("/api/v1/shared/wishlists/abc123"),
            "/api/v1/shared/wishlists/[token]"
        );
        assert_eq!(redact_path("/api/v1/products"), "/api/v1/products");
    }
}
