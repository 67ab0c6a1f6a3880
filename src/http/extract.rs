//! Extractors that turn a request into typed, checked inputs: the caller
//! (`AuthUser`, `MaybeAuthUser`), a validated JSON body (`ValidatedJson`),
//! the protocol headers (`IfMatch`, `IdempotencyKey`),
//! and the error handlers that make actix's own path and query failures
//! problem+json.

use std::borrow::Cow;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::error::{PathError, PayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::auth::{JwtKeys, Principal};
use crate::error::{AppError, ErrorCode, FieldError};

fn bearer(req: &HttpRequest) -> Result<Option<&str>, AppError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AppError::InvalidCredentials {
        error: "invalid_request",
        detail: "the Authorization header is not text".into(),
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(AppError::InvalidCredentials {
            error: "invalid_request",
            detail: "use the Authorization: Bearer <token> scheme".into(),
        }),
    }
}

fn authenticate(req: &HttpRequest) -> Result<Option<Principal>, AppError> {
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| AppError::internal("JwtKeys missing from app data"))?;
    keys.verify(token).map(Some)
}

/// The authenticated caller; 401 when the token is missing or invalid.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Principal);

impl Deref for AuthUser {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|p| {
            p.map(AuthUser)
                .ok_or_else(|| AppError::Unauthorized("a bearer token is required".into()))
        }))
    }
}

/// The caller when a token is sent; an invalid token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<Principal>);

impl FromRequest for MaybeAuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(MaybeAuthUser))
    }
}

/// The largest accepted JSON body, set once in app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body that parsed, had no unknown fields, and passed validation.
/// 415 for another content type, 413 when too large, 400 for broken JSON,
/// 422 naming every bad field otherwise.
#[derive(Debug)]
pub struct ValidatedJson<T>(pub T);

impl<T> ValidatedJson<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON),
        _ => false,
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(65_536, |l| l.0);
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(AppError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(AppError::PayloadTooLarge { limit });
            }
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => AppError::PayloadTooLarge { limit },
                _ => AppError::BadRequest {
                    code: ErrorCode::MalformedJson,
                    detail: "the request body could not be read".into(),
                    errors: vec![],
                },
            })?;
            if bytes.len() > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            let value = parse_json::<T>(&bytes)?;
            value.validate().map_err(validation_problem)?;
            Ok(ValidatedJson(value))
        })
    }
}

/// What a client is told about a NUL character (PostgreSQL cannot store it).
const NUL_REFUSED: &str = "must not contain the NUL character (\\u0000)";

/// The JSON path (`line2`, `lines[0].note`) of the first string or key that
/// holds a NUL character, if any.
fn nul_path(v: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() {
            "body".into()
        } else {
            at.into()
        }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
            nul_path(
                x,
                &format!("{}[{i}]", if at.is_empty() { "body" } else { at }),
            )
        }),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "\\u0000")))
            } else {
                nul_path(x, &join(k))
            }
        }),
        _ => None,
    }
}

/// Refuses, before any field is read, a body that is not a JSON object
/// (every request body here is one: serde would map an array onto a
/// struct's fields by position) and any string holding a NUL character.
fn check_body_shape(bytes: &[u8]) -> Result<(), AppError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        let kind = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Err(_) => return Ok(()), // malformed: the parser says so (400)
            Ok(serde_json::Value::Array(_)) => "an array",
            Ok(serde_json::Value::String(_)) => "a string",
            Ok(serde_json::Value::Number(_)) => "a number",
            Ok(serde_json::Value::Bool(_)) => "a boolean",
            Ok(_) => "null",
        };
        return Err(AppError::invalid(
            "body",
            format!("must be a JSON object, not {kind}"),
        ));
    }
    // JSON spells NUL only as the escape \u0000 (raw control characters are
    // malformed), so only a body holding that text is parsed to find it.
    if bytes.windows(6).any(|w| w == br"\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = nul_path(&value, "")
    {
        return Err(AppError::invalid(field, NUL_REFUSED));
    }
    Ok(())
}

/// A NUL character in the path or query string (`%00`): 400 naming the
/// parameter. Checked once for every request, before routing.
pub fn nul_in_uri(req: &HttpRequest) -> Option<AppError> {
    let has = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if has(req.path()) {
        return Some(AppError::bad_parameter("path", NUL_REFUSED));
    }
    if has(req.query_string()) {
        let name = form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
            .map_or_else(|| "query".to_string(), |(k, _)| k.replace('\0', "%00"));
        return Some(AppError::bad_parameter(name, NUL_REFUSED));
    }
    None
}

/// Middleware: refuses a NUL character in the path or query string.
pub async fn refuse_nul(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if let Some(err) = nul_in_uri(req.request()) {
        return Err(err.into());
    }
    next.call(req).await
}

/// Parses JSON, naming the field on type errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    use serde_json::error::Category;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest {
            code: ErrorCode::MalformedJson,
            detail: "the request body is empty".into(),
            errors: vec![],
        });
    }
    check_body_shape(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            Category::Data => {
                let message = strip_position(&inner.to_string());
                let field = match (missing_field(&message), path.as_str()) {
                    (Some(name), ".") => name,
                    (Some(name), parent) => format!("{parent}.{name}"),
                    (None, ".") => "body".to_string(),
                    (None, _) => path,
                };
                AppError::Validation {
                    code: ErrorCode::ValidationFailed,
                    errors: vec![FieldError::new(field, message)],
                }
            }
            _ => AppError::BadRequest {
                code: ErrorCode::MalformedJson,
                detail: format!("the body is not valid JSON: {inner}"),
                errors: vec![],
            },
        }
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn message_of(err: &validator::ValidationError) -> String {
    if let Some(m) = &err.message {
        return m.to_string();
    }
    let param = |k: &str| err.params.get(k).map(|v| v.to_string());
    match err.code.as_ref() {
        "length" => match (param("min"), param("max"), param("equal")) {
            (_, _, Some(eq)) => format!("must have length {eq}"),
            (Some(min), Some(max), _) => format!("length must be between {min} and {max}"),
            (Some(min), None, _) => format!("length must be at least {min}"),
            (None, Some(max), _) => format!("length must be at most {max}"),
            _ => "has an invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "url" => "must be a valid URL".into(),
        "email" => "must be a valid email address".into(),
        "regex" => "has an invalid format".into(),
        code => format!("is invalid ({code})"),
    }
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                out.extend(
                    list.iter()
                        .map(|e| FieldError::new(path.clone(), message_of(e))),
                );
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

/// A 422 listing every field `validator` rejected, sorted by field.
pub fn validation_problem(errors: ValidationErrors) -> AppError {
    let mut out = Vec::new();
    flatten("", &errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    AppError::Validation {
        code: ErrorCode::ValidationFailed,
        errors: out,
    }
}

/// Turns a `validator` failure on query parameters into a 400.
pub fn parameter_problem(errors: ValidationErrors) -> AppError {
    match validation_problem(errors) {
        AppError::Validation { errors, .. } => AppError::BadRequest {
            code: ErrorCode::InvalidParameter,
            detail: errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            errors,
        },
        other => other,
    }
}

/// Error handler for `web::Path`: 400 problem+json.
pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    let message: Cow<'static, str> = match &err {
        PathError::Deserialize(e) => Cow::Owned(e.to_string()),
        _ => Cow::Borrowed("invalid path parameter"),
    };
    AppError::bad_parameter("path", message).into()
}

/// serde reports a missing field at its parent ("missing field `x`"); this
/// finds the field's own name so the error can name it.
fn missing_field(message: &str) -> Option<String> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_string())
}

/// A query string parsed into `T`; a bad parameter is a 400 problem+json
/// whose error names the parameter (`status`, not "query").
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parsed query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses a query string into `T`, naming the offending parameter.
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = match (missing_field(&message), path.as_str()) {
            (Some(name), _) => name,
            (None, "." | "") => "query".to_string(),
            (None, _) => path,
        };
        AppError::bad_parameter(field, message)
    })
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// Validates an already-parsed query struct, answering 400 on failure.
pub fn check_query<T: Validate>(query: &T) -> Result<(), AppError> {
    query.validate().map_err(parameter_problem)
}

/// Validator: rejects text that is only white space (empty text is left to
/// the length rule, so a field is not reported twice).
pub fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        let mut err = validator::ValidationError::new("blank");
        err.message = Some("must not be blank".into());
        Err(err)
    } else {
        Ok(())
    }
}

/// The `If-Match` header of a versioned write, as sent. Extraction never
/// fails (a bad body is reported first, as for every write); `expected()`
/// reads the version it names (`"3"`, `W/"3"`): `None` when absent or `*`
/// (apply to the latest version), 400 naming the header for a value this
/// API did not issue. A stale version is the service's 412.
#[derive(Debug, Clone)]
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// The version named, if any.
    pub fn expected(&self) -> Result<Option<i32>, AppError> {
        let Some(text) = self.0.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if text == "*" {
            return Ok(None);
        }
        let bare = text.trim_start_matches("W/").trim_matches('"');
        bare.parse::<i32>().map(Some).map_err(|_| {
            AppError::bad_parameter("If-Match", "must be an ETag this API issued, such as \"3\"")
        })
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(
            req.headers()
                .get(header::IF_MATCH)
                .map(|v| v.to_str().unwrap_or_default().to_string()),
        )))
    }
}

/// The `Idempotency-Key` of a money-moving POST, as sent (1 to 200
/// characters once trimmed). Extraction never fails, so a bad body is still
/// reported before a missing key (actix resolves header extractors before
/// the body); the handler calls `required()`: 428 `precondition_required`
/// when missing. What the key protects (claim, replay, conflict, retention)
/// is the service's.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(Option<String>);

impl IdempotencyKey {
    /// The key, or 428 when the request has none.
    pub fn required(self) -> Result<String, AppError> {
        self.0.ok_or_else(|| {
            AppError::PreconditionRequired(
                "send an Idempotency-Key header (1 to 200 characters)".into(),
            )
        })
    }
}

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IdempotencyKey(
            req.headers()
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty() && k.len() <= 200),
        )))
    }
}
