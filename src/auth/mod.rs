//! Identity: verifying bearer tokens issued by the marketplace's identity
//! service, the roles they carry, and minting development tokens for
//! `canasta token` and `canasta seed`. Knows nothing of HTTP.

pub mod tokens;

use std::collections::HashSet;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{JwtAlgorithm, JwtSettings};
use crate::error::AppError;
use crate::ids::SellerId;

/// What a caller may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A shopper.
    Customer,
    /// Staff of one seller (the token carries `seller_id`).
    Seller,
    /// A marketplace operator with full access.
    Admin,
    /// A support agent: reads everything, acts on orders.
    Support,
}

impl Role {
    /// The role as written in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Seller => "seller",
            Self::Admin => "admin",
            Self::Support => "support",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "customer" => Ok(Self::Customer),
            "seller" => Ok(Self::Seller),
            "admin" => Ok(Self::Admin),
            "support" => Ok(Self::Support),
            other => Err(format!(
                "unknown role {other:?} (customer, seller, admin, support)"
            )),
        }
    }
}

/// The claims canasta reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// Roles; unknown role names are ignored.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The seller the user works for, with the `seller` role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<SellerId>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// The authenticated caller, as services see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user id (`sub`).
    pub user_id: Uuid,
    /// Known roles the token grants.
    pub roles: HashSet<Role>,
    /// The seller this user acts for, when it has the seller role.
    pub seller_id: Option<SellerId>,
}

impl Principal {
    /// True when the caller has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Admins manage everything.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Operators (admin or support) may read everything.
    pub fn is_operator(&self) -> bool {
        self.is_admin() || self.has(Role::Support)
    }

    /// The seller id when the caller acts for a seller.
    pub fn acting_seller(&self) -> Option<SellerId> {
        self.seller_id.filter(|_| self.has(Role::Seller))
    }

    /// True when the caller is an admin or acts for `seller_id`.
    pub fn manages_seller(&self, seller_id: SellerId) -> bool {
        self.is_admin() || self.acting_seller() == Some(seller_id)
    }

    /// Fails with 403 unless the caller has one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::forbidden(format!(
                "requires one of the roles: {}",
                names.join(", ")
            )))
        }
    }
}

/// Who is acting, as ledgers and histories record it: a user in their
/// strongest role, a guest (a cart token, no account) or a background job.
/// The one "who" type: services derive it from the `Principal` that
/// authorised the call and never spell a role themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user, none for guests and jobs.
    pub user_id: Option<Uuid>,
    /// `admin`, `seller`, `support`, `customer`, `guest` or `system`.
    pub role: &'static str,
}

impl Actor {
    /// The actor behind an authenticated caller (its strongest role).
    pub fn of(p: &Principal) -> Self {
        let role = [Role::Admin, Role::Seller, Role::Support, Role::Customer]
            .into_iter()
            .find(|r| p.has(*r))
            .map_or("customer", Role::as_str);
        Self {
            user_id: Some(p.user_id),
            role,
        }
    }

    /// A shopper with a guest cart token and no account.
    pub fn guest() -> Self {
        Self {
            user_id: None,
            role: "guest",
        }
    }

    /// A background job.
    pub fn system() -> Self {
        Self {
            user_id: None,
            role: "system",
        }
    }
}

/// Keys and rules for verifying (and optionally signing) tokens.
#[derive(Clone)]
pub struct JwtKeys {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    algorithm: Algorithm,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key did not parse.
    #[error("invalid key in {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The parse error.
        source: jsonwebtoken::errors::Error,
    },
    /// No key is available to sign with.
    #[error("no signing key: set JWT_SECRET (HS256) or JWT_PRIVATE_KEY_FILE (RS256/ES256)")]
    NoSigningKey,
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl JwtKeys {
    /// Loads the keys named by the settings.
    pub fn from_settings(s: &JwtSettings) -> Result<Self, KeyError> {
        let parse_err = |path: &std::path::Path| {
            let path = path.display().to_string();
            move |source| KeyError::Parse { path, source }
        };
        let (algorithm, decoding, encoding) = match s.algorithm {
            JwtAlgorithm::Hs256 => {
                let secret = s.secret.as_ref().ok_or(KeyError::NoSigningKey)?;
                let bytes = secret.expose().as_bytes();
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(bytes),
                    Some(EncodingKey::from_secret(bytes)),
                )
            }
            alg @ (JwtAlgorithm::Rs256 | JwtAlgorithm::Es256) => {
                let public = s.public_key_file.as_deref().ok_or(KeyError::NoSigningKey)?;
                let pem = read_pem(public)?;
                let rsa = alg == JwtAlgorithm::Rs256;
                let decoding = if rsa {
                    DecodingKey::from_rsa_pem(&pem)
                } else {
                    DecodingKey::from_ec_pem(&pem)
                }
                .map_err(parse_err(public))?;
                let encoding = match s.private_key_file.as_deref() {
                    None => None,
                    Some(private) => {
                        let pem = read_pem(private)?;
                        let key = if rsa {
                            EncodingKey::from_rsa_pem(&pem)
                        } else {
                            EncodingKey::from_ec_pem(&pem)
                        };
                        Some(key.map_err(parse_err(private))?)
                    }
                };
                let algorithm = if rsa {
                    Algorithm::RS256
                } else {
                    Algorithm::ES256
                };
                (algorithm, decoding, encoding)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        let mut required = vec!["exp", "sub"];
        required.extend(s.issuer.as_ref().map(|_| "iss"));
        required.extend(s.audience.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match &s.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &s.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(Self {
            decoding,
            encoding,
            validation,
            algorithm,
            issuer: s.issuer.clone(),
            audience: s.audience.clone(),
        })
    }

    /// Verifies a token and returns the caller it names.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            AppError::InvalidCredentials {
                error: "invalid_token",
                detail: match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidSignature => "the token signature is invalid",
                    ErrorKind::InvalidAlgorithm => "the token uses a disallowed algorithm",
                    ErrorKind::InvalidIssuer => "the token issuer is not accepted",
                    ErrorKind::InvalidAudience => "the token audience is not accepted",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                }
                .to_string(),
            }
        })?;
        let claims = data.claims;
        Ok(Principal {
            user_id: claims.sub,
            roles: claims.roles.iter().filter_map(|r| r.parse().ok()).collect(),
            seller_id: claims.seller_id,
        })
    }

    /// Signs a development token for `sub` with `roles`, valid for `ttl`.
    pub fn mint(
        &self,
        sub: Uuid,
        roles: &[Role],
        seller_id: Option<SellerId>,
        ttl: Duration,
    ) -> Result<String, KeyError> {
        let key = self.encoding.as_ref().ok_or(KeyError::NoSigningKey)?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            seller_id,
            exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        encode(&Header::new(self.algorithm), &claims, key).map_err(|source| KeyError::Parse {
            path: "signing key".into(),
            source,
        })
    }
}
