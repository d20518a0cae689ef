//! The names this server answers to: the defence against DNS rebinding.
//!
//! A page on another site can make its own name resolve to `127.0.0.1` for a moment (DNS
//! rebinding). The browser then takes this server for that site: `Origin` and `Sec-Fetch-Site`
//! say "same origin", and the page can read every answer. What such a request cannot hide is the
//! name it was sent to, which the browser puts in `Host`. So every request, `GET` included (logs
//! and run config are data too), must name this server, or it is refused with 403:
//!
//! - the loopback names `localhost`, `127.0.0.1` and `[::1]`;
//! - the address the server was told to bind (`--host`), a name or an IP address;
//! - when that address is unspecified (`0.0.0.0`, `::`): any IP address, since an address cannot
//!   be rebound and any of the machine's addresses reaches the server; names (`mybox.lan`) must
//!   still be added with `--allowed-host`;
//! - each `--allowed-host` (`NAME` or `NAME:PORT`).
//!
//! Ports are compared only for an `--allowed-host` that names one: an ssh tunnel or a container's
//! port mapping reaches the server through another port, and the port adds nothing against
//! rebinding (the attacker's page is reached through the server's own port). A request without
//! `Host` passes: every browser sends one, so it is not a rebinding request.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// One allowed name, as given to `--allowed-host`: a host name or IP address, with an optional
/// port. Names are compared without case and without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    name: String,
    port: Option<u16>,
}

/// A value of `--allowed-host` that is not `NAME` or `NAME:PORT`.
#[derive(Debug, thiserror::Error)]
#[error("`{value}` is not a host name, `NAME:PORT` or IP address (like `dg.example`, `dg.example:8080` or `192.168.1.5`)")]
pub struct InvalidHost {
    /// The value given.
    pub value: String,
}

impl FromStr for AllowedHost {
    type Err = InvalidHost;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        parse_host(value).ok_or_else(|| InvalidHost {
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Splits a `Host` value into its lower-case name (IPv6 in brackets, canonical) and port; `None`
/// when it is not a host name, an IP address or one of them with a port.
fn parse_host(value: &str) -> Option<AllowedHost> {
    let value = value.trim();
    let (name, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = inside.parse().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (format!("[{ip}]"), port)
    } else {
        let (name, port) = match value.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse().ok()?)),
            None => (value, None),
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .split('.')
                .all(|label| !label.is_empty() && label.bytes().all(is_name_byte));
        if !valid {
            return None;
        }
        (name, port)
    };
    Some(AllowedHost { name, port })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether `name` (as [`parse_host`] gives it) is an IP address literal.
fn is_ip_literal(name: &str) -> bool {
    name.starts_with('[') || name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// The names one server answers to (see the module header).
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    names: Vec<AllowedHost>,
    any_ip: bool,
}

impl Default for AllowedHosts {
    /// The loopback names only: a server bound to `127.0.0.1`.
    fn default() -> Self {
        Self::for_bind("127.0.0.1", Vec::new())
    }
}

impl AllowedHosts {
    /// The names of a server bound to `bind` (the `--host` value: a name or an IP address, IPv6
    /// with or without brackets), plus `extra` (`--allowed-host`).
    pub fn for_bind(bind: &str, extra: Vec<AllowedHost>) -> Self {
        let mut names: Vec<AllowedHost> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(|name| AllowedHost {
                name: name.to_owned(),
                port: None,
            })
            .collect();
        let bare = bind.trim().trim_start_matches('[').trim_end_matches(']');
        let mut any_ip = false;
        let bound = match bare.parse::<IpAddr>() {
            Ok(ip) if ip.is_unspecified() => {
                any_ip = true;
                None
            }
            Ok(IpAddr::V6(ip)) => Some(AllowedHost {
                name: format!("[{ip}]"),
                port: None,
            }),
            Ok(IpAddr::V4(ip)) => Some(AllowedHost {
                name: ip.to_string(),
                port: None,
            }),
            // A name to bind: the server answers to it (a bad one fails to bind anyway).
            Err(_) => parse_host(bare).filter(|h| h.port.is_none()),
        };
        for host in bound.into_iter().chain(extra) {
            if !names.contains(&host) {
                names.push(host);
            }
        }
        Self { names, any_ip }
    }

    /// Whether a request whose `Host` header is `host` is for this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some(asked) = parse_host(host) else {
            return false;
        };
        if self.any_ip && is_ip_literal(&asked.name) {
            return true;
        }
        self.names.iter().any(|allowed| {
            allowed.name == asked.name && allowed.port.is_none_or(|port| asked.port == Some(port))
        })
    }

    /// The allowed names for messages: `` `localhost`, `127.0.0.1`, `[::1]` ``, then the others.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.names.iter().map(|h| format!("`{h}`")).collect();
        if self.any_ip {
            parts.push("any IP address".to_owned());
        }
        parts.join(", ")
    }

    /// The name of `host` without its port, for a hint (`evil.example` of `evil.example:3000`).
    pub fn name_of(host: &str) -> Option<String> {
        parse_host(host).map(|h| h.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(bind: &str, extra: &[&str]) -> AllowedHosts {
        AllowedHosts::for_bind(bind, extra.iter().map(|e| e.parse().unwrap()).collect())
    }

    #[test]
    fn loopback_names_with_any_port_and_the_bind_address() {
        let h = hosts("127.0.0.1", &[]);
        for ok in [
            "localhost:3000",
            "LOCALHOST:3000",
            "localhost.:3000",
            "localhost",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[0:0:0:0:0:0:0:1]:8080",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:3000",
            "evil.example",
            "localhost.evil.example:3000",
            "127.0.0.1.nip.io:3000",
            "192.168.1.5:3000",
            "",
            "localhost:notaport",
            "local host:3000",
            "user@localhost:3000",
            "[::1",
        ] {
            assert!(!h.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_named_bind_and_a_specific_address_are_allowed() {
        assert!(hosts("mybox.lan", &[]).allows("MyBox.lan:3000"));
        assert!(hosts("192.168.1.5", &[]).allows("192.168.1.5:3000"));
        assert!(!hosts("192.168.1.5", &[]).allows("192.168.1.6:3000"));
        assert!(hosts("::1", &[]).allows("[::1]:3000"));
        assert!(hosts("fe80::1", &[]).allows("[fe80::1]:3000"));
    }

    #[test]
    fn an_unspecified_bind_allows_addresses_but_not_names() {
        for bind in ["0.0.0.0", "::", "[::]"] {
            let h = hosts(bind, &[]);
            assert!(h.allows("192.168.1.5:3000"), "{bind}");
            assert!(h.allows("[fe80::1]:3000"), "{bind}");
            assert!(h.allows("localhost:3000"), "{bind}");
            assert!(!h.allows("mybox.lan:3000"), "{bind}");
            assert!(!h.allows("evil.example:3000"), "{bind}");
        }
        assert!(hosts("0.0.0.0", &["mybox.lan"]).allows("mybox.lan:3000"));
    }

    #[test]
    fn allowed_hosts_with_a_port_match_only_that_port() {
        let h = hosts("127.0.0.1", &["dg.example", "proxy.example:8443"]);
        assert!(h.allows("dg.example:3000"));
        assert!(h.allows("dg.example"));
        assert!(h.allows("proxy.example:8443"));
        assert!(!h.allows("proxy.example:3000"));
        assert!(!h.allows("evil.example:3000"));
        assert_eq!(
            h.describe(),
            "`localhost`, `127.0.0.1`, `[::1]`, `dg.example`, `proxy.example:8443`"
        );
    }

    #[test]
    fn bad_allowed_host_values_are_refused() {
        for bad in [
            "",
            "http://dg.example",
            "dg.example/",
            "dg example",
            "a:b:c",
        ] {
            assert!(bad.parse::<AllowedHost>().is_err(), "{bad}");
        }
        assert_eq!(
            "DG.Example.:8080"
                .parse::<AllowedHost>()
                .unwrap()
                .to_string(),
            "dg.example:8080"
        );
    }
}
