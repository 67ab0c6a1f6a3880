//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): the
//! secret is `whsec_` + base64 of random bytes; the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is
//! `v1,` + base64(HMAC-SHA256(secret bytes, content)), one per secret,
//! separated by spaces while a rotation's old secret still signs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AppError;

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: 32 random bytes.
pub fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The `webhook-signature` value for `body` sent as message `id` at
/// `timestamp` (seconds), signed with every secret in `secrets`.
pub fn signature(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, AppError> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let key = STANDARD.decode(encoded).map_err(|e| {
            AppError::internal(format!("a stored webhook secret is not base64: {e}"))
        })?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(AppError::internal)?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        signatures.push(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ));
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference libraries.
    #[test]
    fn signs_like_the_reference_implementation() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_sends_both_signatures() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        let both = signature(&[&a, &b], "msg_1", 1, b"{}").unwrap();
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&[&a], "msg_1", 1, b"{}").unwrap());
        assert_eq!(parts[1], signature(&[&b], "msg_1", 1, b"{}").unwrap());
    }
}
