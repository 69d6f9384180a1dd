//! Network values with their rules built in: an address family, a CIDR without host bits, a
//! port in 1..=65535 and the L4 protocols a proxy listens on. Each is checked once when it is
//! made; after that the type is the proof. Errors are `Problem`s, located by the caller.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

use crate::error::Problem;

/// The address family a document is rendered for (`iptables` or `ip6tables`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Ipv4, Family::Ipv6];

    /// The config section and `--family` spelling.
    pub fn key(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }

    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// What iptables-save prints for a TPROXY rule without `--on-ip`.
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }

    pub fn loopback(self) -> IpAddr {
        match self {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A network prefix with no host bits set. Displays the way iptables-save prints `-s`/`-d`:
/// always with an explicit prefix length (`/32` and `/128` for single hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr(IpNet);

impl Cidr {
    /// Parses `text` as a CIDR of any family. A bare address is refused: in a config a
    /// forgotten prefix length is far more often a mistake than a /32.
    pub fn parse(text: &str) -> Result<Cidr, Problem> {
        let net = IpNet::from_str(text).map_err(|_| Problem::BadCidr {
            text: text.to_string(),
            reason: cidr_syntax_reason(text),
        })?;
        if net.addr() != net.network() {
            return Err(Problem::HostBits {
                text: text.to_string(),
                network: net.trunc().to_string(),
            });
        }
        Ok(Cidr(net))
    }

    /// Parses `text` and checks it belongs to `family`.
    pub fn parse_in(text: &str, family: Family) -> Result<Cidr, Problem> {
        let cidr = Cidr::parse(text)?;
        if cidr.family() != family {
            return Err(Problem::WrongFamily {
                text: text.to_string(),
                found: cidr.family(),
                expected: family,
            });
        }
        Ok(cidr)
    }

    /// A single host as a prefix: `127.0.0.1/32`, `::1/128`.
    pub fn host(addr: IpAddr) -> Cidr {
        Cidr(IpNet::from(addr))
    }

    pub fn family(self) -> Family {
        Family::of(self.0.addr())
    }

    pub fn prefix_len(self) -> u8 {
        self.0.prefix_len()
    }
}

/// Says why a string is not a CIDR, since ipnet only ever says "invalid IP address syntax".
fn cidr_syntax_reason(text: &str) -> String {
    match text.split_once('/') {
        None if IpAddr::from_str(text).is_ok() => {
            "the prefix length is missing (write it as ADDRESS/LENGTH, e.g. `/32` for one host)"
                .to_string()
        }
        None => "expected ADDRESS/LENGTH, e.g. `10.0.0.0/8` or `fd00::/64`".to_string(),
        Some((addr, len)) => match IpAddr::from_str(addr) {
            Err(_) => format!("`{addr}` is not an IPv4 or IPv6 address"),
            Ok(ip) => {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                format!("`{len}` is not a prefix length (0 to {max})")
            }
        },
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.addr(), self.0.prefix_len())
    }
}

/// A TCP/UDP port in 1..=65535 (port 0 cannot be listened on by a proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(u16);

impl Port {
    pub fn new(value: i64) -> Result<Port, Problem> {
        match u16::try_from(value) {
            Ok(p) if p != 0 => Ok(Port(p)),
            _ => Err(Problem::PortRange(value)),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The L4 protocols Cilium installs TPROXY rules for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::Tcp, Protocol::Udp];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    pub fn parse(text: &str) -> Result<Protocol, Problem> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == text)
            .ok_or_else(|| Problem::UnknownValue {
                what: "protocol",
                text: text.to_string(),
                expected: Protocol::ALL.iter().map(|p| p.name().to_string()).collect(),
            })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_cidr_with_host_bits_and_names_the_network() {
        let err = Cidr::parse("10.197.64.5/18").unwrap_err();
        assert_eq!(
            err,
            Problem::HostBits {
                text: "10.197.64.5/18".into(),
                network: "10.197.64.0/18".into()
            }
        );
    }

    #[test]
    fn cidr_displays_with_explicit_prefix() {
        assert_eq!(
            Cidr::parse("fd00:10:197::/64").unwrap().to_string(),
            "fd00:10:197::/64"
        );
        assert_eq!(
            Cidr::host(Family::Ipv4.loopback()).to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(Cidr::host(Family::Ipv6.loopback()).to_string(), "::1/128");
    }

    #[test]
    fn rejects_wrong_family() {
        let err = Cidr::parse_in("fd00::/64", Family::Ipv4).unwrap_err();
        assert!(matches!(
            err,
            Problem::WrongFamily {
                found: Family::Ipv6,
                ..
            }
        ));
    }

    #[test]
    fn explains_bare_address_and_bad_prefix() {
        let Problem::BadCidr { reason, .. } = Cidr::parse("10.0.0.1").unwrap_err() else {
            panic!("expected BadCidr")
        };
        assert!(reason.contains("prefix length is missing"), "{reason}");
        let Problem::BadCidr { reason, .. } = Cidr::parse("10.0.0.0/33").unwrap_err() else {
            panic!("expected BadCidr")
        };
        assert!(reason.contains("0 to 32"), "{reason}");
    }

    #[test]
    fn port_bounds() {
        assert!(Port::new(0).is_err());
        assert!(Port::new(65536).is_err());
        assert!(Port::new(-1).is_err());
        assert_eq!(Port::new(65535).unwrap().get(), 65535);
        assert_eq!(Port::new(1).unwrap().get(), 1);
    }
}
