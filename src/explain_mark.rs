//! Decodes a packet mark the way Cilium means it (pkg/datapath/linux/linux_defaults/mark.go,
//! reference/cilium-rules.md §3). Layout of skb->mark: bits 16-31 carry the proxy port
//! (byte-swapped, for to-proxy) or the low 16 bits of a security identity; bits 12-15 are the
//! "k8s" nibble kube-proxy uses; bits 8-11 are Cilium's magic nibble; bits 0-7 carry the high
//! 8 bits of an identity.

use std::fmt::Write as _;

use crate::error::Problem;
use crate::marks::Marks;
use crate::spec::Proxy;

/// A mark with an optional mask, as written on the command line (`0x200/0xf00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkArg {
    pub value: u32,
    pub mask: Option<u32>,
}

fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

impl std::str::FromStr for MarkArg {
    type Err = Problem;

    fn from_str(text: &str) -> Result<MarkArg, Problem> {
        let bad = || Problem::BadMark {
            text: text.to_string(),
        };
        let (value, mask) = match text.split_once('/') {
            Some((v, m)) => (number(v).ok_or_else(bad)?, Some(number(m).ok_or_else(bad)?)),
            None => (number(text).ok_or_else(bad)?, None),
        };
        Ok(MarkArg { value, mask })
    }
}

/// What the magic nibble value means, from the node's marks and Cilium's other constants.
fn magic_name(nibble: u32, marks: &Marks) -> Option<(&'static str, &'static str)> {
    let named = [
        (
            marks.to_proxy,
            "to-proxy",
            "MagicMarkIsToProxy: bound for an L7 proxy, port in bits 16-31",
        ),
        (
            marks.is_proxy,
            "from-ingress-proxy",
            "MagicMarkIsProxy: sent by the ingress proxy, identity in bits 16-31 and 0-7",
        ),
        (
            marks.proxy_epid,
            "from-proxy-epid",
            "MagicMarkIsProxyEPID: sent by a proxy upstream, endpoint ID in bits 16-31",
        ),
        (
            marks.host,
            "from-host",
            "MagicMarkHost: sent by the local host",
        ),
        (
            marks.overlay,
            "overlay",
            "MagicMarkOverlay: set by the to-overlay program",
        ),
        (
            marks.encrypt,
            "ipsec-encrypt",
            "RouteMarkEncrypt: to be IPsec-encrypted",
        ),
        (
            marks.decrypt,
            "ipsec-decrypt",
            "RouteMarkDecrypt: IPsec-decrypted",
        ),
        (
            marks.identity,
            "identity",
            "MagicMarkIdentity: carries a security identity in bits 16-31 and 0-7",
        ),
        (
            0x0B00,
            "from-egress-proxy",
            "MagicMarkEgress: sent by the egress proxy",
        ),
        (
            0x0900,
            "proxy-egress-epid",
            "MagicMarkProxyEgressEPID: egress proxy traffic before policy",
        ),
        (0x0300, "snat-done", "MagicMarkSNATDone: SNAT already done"),
    ];
    named
        .into_iter()
        .find(|(v, _, _)| *v == nibble)
        .map(|(_, short, long)| (short, long))
}

/// Decodes `arg` into a summary line and one line per field.
pub fn explain(arg: MarkArg, marks: &Marks, proxies: &[Proxy]) -> String {
    let mask = arg.mask.unwrap_or(u32::MAX);
    let value = arg.value & mask;
    let mut lines: Vec<String> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    let mut explained = 0u32;

    if arg.mask.is_some() && arg.value & !mask != 0 {
        lines.push(format!(
            "warning: value {:#x} has bits outside mask {mask:#x}; a rule with this match never matches",
            arg.value
        ));
    }
    // Whole-value marks that use the k8s nibble's lowest bit (mark.go).
    let special = match value & 0xff00 {
        0x1D00 => Some((
            "decrypted-overlay",
            "MagicMarkDecryptedOverlay: IPsec-decrypted VXLAN traffic",
        )),
        0x1E00 => Some((
            "wireguard-encrypted",
            "MagicMarkWireGuardEncrypted: already WireGuard-encrypted",
        )),
        _ => None,
    };
    let nibble = value & marks.host_mask;
    let magic = if let Some((short, long)) = special {
        explained |= 0x1f00;
        lines.push(format!("  bits 8-12   {:#06x}  {long}", value & 0x1f00));
        summary.push(short.to_string());
        None
    } else if mask & marks.host_mask == 0 {
        None
    } else {
        explained |= marks.host_mask & mask;
        let meaning = magic_name(nibble, marks);
        let text = match (nibble, meaning) {
            (0, _) => "no Cilium magic value".to_string(),
            (_, Some((short, long))) => {
                summary.push(short.to_string());
                long.to_string()
            }
            (_, None) => {
                summary.push(format!("unknown magic {nibble:#x}"));
                "not a value Cilium defines".to_string()
            }
        };
        lines.push(format!("  bits 8-11   {nibble:#06x}  {text}"));
        if mask & marks.host_mask != marks.host_mask {
            lines.push(format!(
                "              (mask {:#x} ignores part of the nibble: every value equal under it matches)",
                mask & marks.host_mask
            ));
        }
        meaning.map(|m| m.0)
    };

    let upper = value >> 16;
    let low = value & 0xff;
    if mask & 0xffff_0000 != 0 {
        match magic {
            Some("to-proxy") => {
                explained |= 0xffff_0000;
                let port = (upper as u16).swap_bytes();
                let who = proxies
                    .iter()
                    .find(|p| p.port.get() == port)
                    .map(|p| format!(" -> {}", p.name))
                    .unwrap_or_default();
                lines.push(format!(
                    "  bits 16-31  {upper:#06x}  proxy port {port} (stored as htons(port)){who}"
                ));
                summary.push(format!("port {port}"));
            }
            Some("from-ingress-proxy") | Some("identity") => {
                explained |= 0xffff_00ff;
                let identity = upper | (low << 16);
                lines.push(format!(
                    "  bits 16-31  {upper:#06x}  security identity, low 16 bits (bits 0-7: {low:#04x}, the high 8 bits)"
                ));
                summary.push(format!("identity {identity}"));
            }
            Some("from-proxy-epid") | Some("proxy-egress-epid") => {
                explained |= 0xffff_0000;
                lines.push(format!("  bits 16-31  {upper:#06x}  endpoint ID {upper}"));
                summary.push(format!("endpoint {upper}"));
            }
            _ => {}
        }
    }
    for (bit, name) in [
        (0x4000u32, "kube-proxy masquerade bit (KUBE-MARK-MASQ)"),
        (0x8000, "kube-proxy drop bit (KUBE-MARK-DROP)"),
    ] {
        if mask & bit != 0 {
            explained |= bit;
            if value & bit != 0 {
                lines.push(format!(
                    "  bit {:<2}      {bit:#06x}  {name}",
                    bit.trailing_zeros()
                ));
                summary.push(name.split(' ').take(2).collect::<Vec<_>>().join("-"));
            }
        }
    }
    let unknown = value & !explained;
    if unknown != 0 {
        lines.push(format!(
            "  unknown     {unknown:#06x}  bits Cilium and kube-proxy do not define"
        ));
        summary.push(format!("unknown bits {unknown:#x}"));
    }

    let mut out = String::new();
    let shown = match arg.mask {
        Some(m) => format!("{:#x}/{m:#x}", arg.value),
        None => format!("{:#x}", arg.value),
    };
    let summary = if summary.is_empty() {
        "no Cilium meaning".to_string()
    } else {
        summary.join(", ")
    };
    let _ = writeln!(out, "{shown}: {summary}");
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::ProxyName;
    use crate::net::{Port, Protocol};

    fn run(text: &str) -> String {
        let proxies = vec![Proxy {
            name: ProxyName::new("cilium-dns-egress").unwrap(),
            port: Port::new(39799).unwrap(),
            protocols: Protocol::ALL.to_vec(),
        }];
        explain(text.parse().unwrap(), &Marks::default(), &proxies)
    }

    #[test]
    fn to_proxy_with_port() {
        let out = run("0x779b0200");
        assert!(
            out.starts_with("0x779b0200: to-proxy, port 39799\n"),
            "{out}"
        );
        assert!(out.contains("-> cilium-dns-egress"), "{out}");
        assert!(run("0x3920200").starts_with("0x3920200: to-proxy, port 37379\n"));
    }

    #[test]
    fn masks_and_other_meanings() {
        assert!(run("0x200/0xf00").starts_with("0x200/0xf00: to-proxy\n"));
        assert!(run("0xa00/0xe00").contains("ignores part of the nibble"));
        assert!(run("0xc00").starts_with("0xc00: from-host\n"));
        assert!(run("0xe00").starts_with("0xe00: ipsec-encrypt\n"));
        assert!(run("0x1e00").starts_with("0x1e00: wireguard-encrypted\n"));
        assert!(run("0x4000").starts_with("0x4000: kube-proxy-masquerade\n"));
        let out = run("0x12340f05");
        assert!(
            out.starts_with("0x12340f05: identity, identity 332340"),
            "{out}"
        );
        assert!(run("0x500").contains("unknown magic 0x500"));
        assert!(run("0x20001").contains("unknown bits 0x20001"));
        assert!("0xzz".parse::<MarkArg>().is_err());
        assert!("0x200/".parse::<MarkArg>().is_err());
    }
}
