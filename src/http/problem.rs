//! RFC 9457 problem+json: how every `AppError` (and every actix extractor
//! failure) reaches the client. 5xx answers say nothing internal; their cause
//! chain goes to the log.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode, FieldError, Shortage};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:canasta:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:canasta:problem:validation_failed")]
    pub type_uri: String,
    /// A short summary of the problem type.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// An explanation of this occurrence.
    #[schema(example = "1 field is invalid")]
    pub detail: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Every invalid field or parameter, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Every product short of stock, for `insufficient_stock`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shortages: Vec<Shortage>,
    /// The resource as it is now, for `version_conflict` (a cart, for carts).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

/// The problem response for `error` with the resource as it is now in
/// `current` (see `crate::error::Refused`), and its `ETag` when it is
/// versioned.
pub fn with_current(
    error: &AppError,
    current: impl Serialize,
    etag: Option<String>,
) -> Result<HttpResponse, AppError> {
    let mut problem = Problem::from_error(error);
    problem.current = Some(serde_json::to_value(current).map_err(AppError::internal)?);
    let mut res = HttpResponse::build(status_of(error));
    res.content_type(PROBLEM_JSON);
    if let Some(tag) = etag {
        res.insert_header((header::ETAG, tag));
    }
    Ok(res.json(problem))
}

fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthorized(_) | AppError::InvalidCredentials { .. } => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) | AppError::RouteNotFound => StatusCode::NOT_FOUND,
        AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        AppError::Conflict { .. } | AppError::InsufficientStock(_) => StatusCode::CONFLICT,
        AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
        AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn log_chain(err: &AppError) {
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    match err {
        AppError::Internal(_) => log::error!("{chain}"),
        _ => log::warn!("{chain}"),
    }
}

impl Problem {
    /// The problem document for an error.
    pub fn from_error(err: &AppError) -> Self {
        let status = status_of(err);
        let code = err.code();
        let (detail, errors) = match err {
            AppError::BadRequest { detail, errors, .. } => (detail.clone(), errors.clone()),
            AppError::Validation { errors, .. } => {
                let n = errors.len();
                let noun = if n == 1 { "field is" } else { "fields are" };
                (format!("{n} {noun} invalid"), errors.clone())
            }
            AppError::InvalidCredentials { detail, .. } => (detail.clone(), vec![]),
            AppError::Unauthorized(d)
            | AppError::Forbidden(d)
            | AppError::PreconditionRequired(d) => (d.clone(), vec![]),
            AppError::NotFound(what) => (format!("{what} not found"), vec![]),
            AppError::RouteNotFound => ("no route matches this path".into(), vec![]),
            AppError::MethodNotAllowed { allow } => {
                (format!("this path accepts {}", allow.join(", ")), vec![])
            }
            AppError::Conflict { detail, .. } => (detail.clone(), vec![]),
            AppError::InsufficientStock(s) => (
                format!("not enough stock for {} product(s)", s.len()),
                vec![],
            ),
            AppError::PreconditionFailed { current_version } => (
                format!("the resource is now at version {current_version}; re-read it and retry"),
                vec![],
            ),
            AppError::PayloadTooLarge { limit } => {
                (format!("the body exceeds {limit} bytes"), vec![])
            }
            AppError::UnsupportedMediaType => ("send the body as application/json".into(), vec![]),
            AppError::Unavailable(_) => {
                ("the database is unavailable; retry shortly".into(), vec![])
            }
            AppError::Internal(_) => ("internal error".into(), vec![]),
        };
        Self {
            type_uri: format!("urn:canasta:problem:{}", code.name()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code,
            errors,
            shortages: match err {
                AppError::InsufficientStock(s) => s.clone(),
                _ => vec![],
            },
            current: None,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status_of(self)
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self, AppError::Internal(_) | AppError::Unavailable(_)) {
            log_chain(self);
        }
        let problem = Problem::from_error(self);
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON);
        match self {
            AppError::Unauthorized(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="canasta""#),
                ));
            }
            AppError::InvalidCredentials { error, .. } => {
                if let Ok(v) =
                    HeaderValue::from_str(&format!(r#"Bearer realm="canasta", error="{error}""#))
                {
                    res.insert_header((header::WWW_AUTHENTICATE, v));
                }
            }
            AppError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            AppError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        res.json(problem)
    }
}
