//! Sends one webhook: POST with the Standard Webhooks headers, no
//! redirects followed, bounded connect and total time, at most 1 KiB of the
//! answer read. One HTTP client per process and limits, so connections to a
//! receiver are kept alive; its DNS resolver refuses non-public addresses
//! (unless allowed), so what it connects to is exactly what was checked.
//! Nothing here touches the database (no send happens inside a transaction).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::target::{self, TargetPolicy};

/// How much of an answer is kept.
pub const EXCERPT_BYTES: usize = 1024;

/// Limits of one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Resolves names for the client, refusing any answer with an address
/// the policy does not allow (the connection then fails with the reason).
#[derive(Debug)]
struct SafeResolver {
    policy: TargetPolicy,
}

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let target = target::Target {
                url: String::new(),
                host,
                port: 0,
            };
            let addrs: Vec<SocketAddr> = target::resolve(&target, policy).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The process's clients, one per set of limits.
static CLIENTS: Mutex<Vec<(SendLimits, reqwest::Client)>> = Mutex::new(Vec::new());

fn client(limits: SendLimits) -> Result<reqwest::Client, String> {
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, c)) = clients.iter().find(|(l, _)| *l == limits) {
        return Ok(c.clone());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        .dns_resolver(Arc::new(SafeResolver {
            policy: limits.policy,
        }))
        .user_agent(concat!("canasta-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    clients.push((limits, client.clone()));
    Ok(client)
}

/// Sends `out`; never panics, never retries (the engine does).
pub async fn send(out: &Outgoing, limits: SendLimits) -> Answer {
    let target = match target::parse(&out.url, limits.policy) {
        Ok(t) => t,
        Err(why) => return Answer::failed(format!("the URL {why}")),
    };
    // An address literal is not resolved by the client: check it here
    // (names are checked by the client's resolver at every connection).
    if target.host.parse::<std::net::IpAddr>().is_ok()
        && let Err(why) = target::resolve(&target, limits.policy).await
    {
        return Answer::failed(why);
    }
    let client = match client(limits) {
        Ok(c) => c,
        Err(why) => return Answer::failed(why),
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
        Err(e) if e.is_connect() => return Answer::failed(connect_error(&e)),
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

/// A connection failure with its cause (a refused address says why).
fn connect_error(e: &reqwest::Error) -> String {
    let mut why = format!("cannot connect: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    why
}
