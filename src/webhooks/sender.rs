//! Sends one webhook: POST with the Standard Webhooks headers, to the
//! addresses `target::resolve` checked, no redirects followed, bounded
//! connect and total time, at most 1 KiB of the answer read. Nothing here
//! touches the database (no send happens inside a transaction).

use std::time::Duration;

use super::target::{self, TargetPolicy};

/// How much of an answer is kept.
pub const EXCERPT_BYTES: usize = 1024;

/// Limits of one send.
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    /// Connecting.
    pub connect_timeout: Duration,
    /// The whole exchange.
    pub timeout: Duration,
    /// Which targets may be reached.
    pub policy: TargetPolicy,
}

/// One request, ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The endpoint's URL.
    pub url: String,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (seconds).
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// The start of its body.
    pub excerpt: String,
    /// Why it failed before an answer (refused target, DNS, connect, timeout).
    pub error: Option<String>,
}

impl Answer {
    fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }

    /// The receiver took it.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends `out`; never panics, never retries (the engine does).
pub async fn send(out: &Outgoing, limits: SendLimits) -> Answer {
    let target = match target::parse(&out.url, limits.policy) {
        Ok(t) => t,
        Err(why) => return Answer::failed(format!("the URL {why}")),
    };
    let addrs = match target::resolve(&target, limits.policy).await {
        Ok(a) => a,
        Err(why) => return Answer::failed(why),
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        .resolve_to_addrs(&target.host, &addrs)
        .user_agent(concat!("canasta-webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => return Answer::failed(format!("cannot build the HTTP client: {e}")),
    };
    let sent = client
        .post(&out.url)
        .header("content-type", "application/json")
        .header("webhook-id", &out.id)
        .header("webhook-timestamp", out.timestamp.to_string())
        .header("webhook-signature", &out.signature)
        .body(out.body.clone())
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Answer::failed("timed out".into()),
        Err(e) if e.is_connect() => return Answer::failed(format!("cannot connect: {e}")),
        Err(e) => return Answer::failed(format!("request failed: {e}")),
    };
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            // The status is what counts; a body cut short is only an excerpt.
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    Answer {
        status: Some(status),
        excerpt: String::from_utf8_lossy(&bytes).into_owned(),
        error: None,
    }
}
