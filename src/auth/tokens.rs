//! Opaque bearer secrets for guest carts and share links: 256 random bits,
//! URL-safe, stored only as a SHA-256 hash, compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// A new random token.
pub fn new_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token (SHA-256, hex).
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when `token` hashes to `hash`, without an early exit.
pub fn matches(hash: &str, token: &str) -> bool {
    let other = hash_token(token);
    hash.len() == other.len()
        && hash
            .bytes()
            .zip(other.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_match_only_their_hash() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(matches(&hash_token(&a), &a));
        assert!(!matches(&hash_token(&a), &b));
    }
}
