//! The sender's HTTP client. Outbound requests are an SSRF surface, so it connects only to
//! public addresses: a host name is resolved by this client's own resolver, which drops every
//! address that is not public, and the connection goes to the addresses it kept (no second
//! lookup, so no rebinding window); an address written in the URL is checked the same way. It
//! follows no redirect, gives up after 10 seconds, and reads at most 4 KiB of an answer.
//! The local run (a helpdesk served over plain HTTP) may also reach 127.0.0.1.

use helpdesk::domain::webhooks::deliveries::{Post, Posted};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);
const READ_CAP: usize = 4096;

/// Whether an address is on the public internet: not loopback, private, link-local (the
/// instance metadata service is 169.254.169.254 and fd00:ec2::254), shared, reserved,
/// documentation, benchmarking, multicast or unspecified; IPv4 inside IPv6 is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fd00:ec2::254 among them
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (::/96, deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Resolves names to their public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

pub struct HttpPoster {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl HttpPoster {
    /// `allow_loopback`: the local run, where tests receive on 127.0.0.1.
    pub fn new(allow_loopback: bool) -> HttpPoster {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        HttpPoster { client, allow_loopback }
    }

    /// Why `url` may not be reached, before any connection: its scheme, or an address in it.
    fn refused(&self, url: &reqwest::Url) -> Option<String> {
        let loopback_ok = |ip: IpAddr| self.allow_loopback && ip.is_loopback();
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback && url.host_str() == Some("127.0.0.1") => {}
            other => return Some(format!("{other}:// is not allowed: https only")),
        }
        let ip = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        (!is_public(ip) && !loopback_ok(ip)).then(|| format!("{ip} is not a public address"))
    }
}

#[async_trait::async_trait]
impl Post for HttpPoster {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &str) -> Posted {
        let started = Instant::now();
        let ms = |started: Instant| started.elapsed().as_millis().min(u32::MAX as u128) as u32;
        let failed = |error: String| Posted { status: None, error: Some(error), ms: ms(started) };
        let url = match reqwest::Url::parse(url) {
            Ok(url) => url,
            Err(e) => return failed(format!("not a URL: {e}")),
        };
        if let Some(why) = self.refused(&url) {
            return failed(why);
        }
        let mut request = self.client.post(url).body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status().as_u16();
        let mut read = 0;
        while read < READ_CAP {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        let error = response.status().is_redirection().then(|| "a redirect, not followed".to_string());
        Posted { status: Some(status), error, ms: ms(started) }
    }
}

/// What went wrong, in the words of its root cause (the resolver's refusal reads best so).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in 10 seconds".into();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn refused_before_any_connection() {
        let deployed = HttpPoster::new(false);
        for (url, says) in [
            ("http://169.254.169.254/latest/meta-data/", "https only"),
            ("https://10.0.0.1/hook", "10.0.0.1 is not a public address"),
            ("https://[::1]/hook", "::1 is not a public address"),
            ("http://127.0.0.1:9/hook", "https only"),
            ("https://localhost:9/hook", "resolves to no public address"),
        ] {
            let posted = deployed.post(url, &[], "{}").await;
            assert_eq!(posted.status, None, "{url}");
            assert!(posted.error.as_deref().unwrap_or_default().contains(says), "{url}: {posted:?}");
        }
        let local = HttpPoster::new(true);
        assert!(local.refused(&reqwest::Url::parse("http://127.0.0.1:9/hook").unwrap()).is_none());
        assert!(local.refused(&reqwest::Url::parse("https://10.0.0.1/").unwrap()).is_some());
    }
}
