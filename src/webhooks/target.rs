//! Where a webhook may be sent. A URL must be `https` (plain `http` only
//! when configuration allows it: tests and local development), carry no
//! credentials, and resolve only to public addresses: loopback, private,
//! link-local, unique-local, multicast, documentation and unspecified
//! addresses are refused unless configuration allows private targets. The
//! check runs at registration and again at every send, and the send
//! connects to the very addresses checked (no second DNS answer).

use std::net::{IpAddr, SocketAddr};

/// How long a name may take to resolve.
pub const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// What configuration allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Plain `http://` URLs.
    pub allow_http: bool,
    /// Loopback, private and link-local addresses.
    pub allow_private: bool,
}

/// A URL that passed the static checks: its host and port to resolve.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// Its host (without brackets for IPv6).
    pub host: String,
    /// Its port.
    pub port: u16,
}

/// Checks a URL's form; `Err` says what is wrong, for a 422.
pub fn parse(url: &str, policy: TargetPolicy) -> Result<Target, String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "must be an absolute https URL".to_string())?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        "http" if policy.allow_http => 80,
        "http" => return Err("must use https".into()),
        _ => return Err("must be an absolute https URL".into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| "has an invalid IPv6 host".to_string())?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| "has an invalid port".to_string())?,
            None if after.is_empty() => default_port,
            None => return Err("has an invalid host".into()),
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| "has an invalid port".to_string())?,
            ),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() || port == 0 {
        return Err("has no host".into());
    }
    Ok(Target {
        url: url.to_string(),
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                // Carrier-grade NAT 100.64.0.0/10 and benchmarking 198.18.0.0/15.
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves the target and checks every address; `Err` says why it may not
/// be reached.
pub async fn resolve(target: &Target, policy: TargetPolicy) -> Result<Vec<SocketAddr>, String> {
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    let addrs: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .map_err(|_| format!("cannot resolve {}: no answer in time", target.host))?
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{} has no address", target.host));
    }
    if !policy.allow_private
        && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
    {
        return Err(format!(
            "{} resolves to {}, which is not a public address",
            target.host,
            bad.ip()
        ));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_without_credentials_pass() {
        let strict = TargetPolicy::default();
        assert!(parse("https://hooks.example.com/x", strict).is_ok());
        assert_eq!(
            parse("http://hooks.example.com", strict).unwrap_err(),
            "must use https"
        );
        assert!(parse("ftp://x", strict).is_err());
        assert!(parse("https://user:pw@x.com", strict).is_err());
        assert!(parse("hooks.example.com", strict).is_err());
        let t = parse("https://[::1]:8443/h", strict).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8443));
        let dev = TargetPolicy {
            allow_http: true,
            allow_private: true,
        };
        assert_eq!(parse("http://127.0.0.1:9000/h", dev).unwrap().port, 9000);
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
