//! Cilium's "magic" packet marks and how they are spelled in a rule. Values and names follow
//! pkg/datapath/linux/linux_defaults/mark.go; the defaults here are Cilium's own, and a config's
//! `[marks]` section may override them (validated in `spec`).

use std::fmt;

use crate::net::Port;

/// A mark match or target: `value/mask`. A mask of all ones is an exact match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    pub value: u32,
    pub mask: u32,
}

impl Mark {
    pub const ALL_BITS: u32 = 0xffff_ffff;

    pub fn new(value: u32, mask: u32) -> Mark {
        Mark { value, mask }
    }

    pub fn exact(value: u32) -> Mark {
        Mark::new(value, Mark::ALL_BITS)
    }

    /// The spelling `-m mark --mark` gets back from iptables-save: the mask is left out when
    /// it is all ones.
    pub fn as_match(self) -> MarkText {
        MarkText {
            mark: self,
            always_mask: false,
        }
    }

    /// The spelling of `--set-xmark` and `--tproxy-mark`, which always carry the mask.
    pub fn as_xmark(self) -> MarkText {
        MarkText {
            mark: self,
            always_mask: true,
        }
    }
}

/// A mark in one of its two saved spellings; lower-case hex without padding, like `%#x`.
#[derive(Debug, Clone, Copy)]
pub struct MarkText {
    mark: Mark,
    always_mask: bool,
}

impl fmt::Display for MarkText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mark { value, mask } = self.mark;
        if mask == Mark::ALL_BITS && !self.always_mask {
            write!(f, "{value:#x}")
        } else {
            write!(f, "{value:#x}/{mask:#x}")
        }
    }
}

/// The magic marks the rules match on or set. Field names follow Cilium's constants
/// (`MagicMarkIsToProxy` → `to_proxy`, ...), so an operator can look each one up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marks {
    /// MagicMarkIsToProxy: destined to a proxy; the proxy port sits in the upper 16 bits.
    pub to_proxy: u32,
    /// MagicMarkIsProxy (= MagicMarkIngress): from the (ingress) proxy.
    pub is_proxy: u32,
    /// MagicMarkIsProxyEPID: from the proxy, carrying an endpoint ID (L7 upstream).
    pub proxy_epid: u32,
    /// MagicMarkHost: from the local host.
    pub host: u32,
    /// MagicMarkOverlay: set by the to-overlay program.
    pub overlay: u32,
    /// RouteMarkEncrypt (MagicMarkEncrypt): IPsec encryption.
    pub encrypt: u32,
    /// RouteMarkDecrypt (MagicMarkDecrypt): IPsec decryption.
    pub decrypt: u32,
    /// MagicMarkIdentity: the mark carries a security identity.
    pub identity: u32,
    /// MagicMarkHostMask: the magic nibble.
    pub host_mask: u32,
    /// MagicMarkProxyMask: the proxy bits (ignores the nibble's lowest bit).
    pub proxy_mask: u32,
    /// MagicMarkProxyNoIDMask: proxy reply with a zero identity.
    pub proxy_noid_mask: u32,
    /// Bits other software owns on the node (kube-proxy's MagicMarkK8sMasq and
    /// MagicMarkK8sDrop by default); no magic mark may touch them.
    pub reserved: Vec<u32>,
}

impl Default for Marks {
    fn default() -> Marks {
        Marks {
            to_proxy: 0x0200,
            is_proxy: 0x0A00,
            proxy_epid: 0x0800,
            host: 0x0C00,
            overlay: 0x0400,
            encrypt: 0x0E00,
            decrypt: 0x0D00,
            identity: 0x0F00,
            host_mask: 0x0F00,
            proxy_mask: 0x0E00,
            proxy_noid_mask: 0xFFFF_FEFF,
            reserved: vec![0x4000, 0x8000],
        }
    }
}

/// MagicMarkEgress: from the egress proxy. Not configurable: only the IPsec proxy-forward
/// NOTRACK rule matches it, with the magic nibble mask.
pub const EGRESS_PROXY: u32 = 0x0B00;

/// MarkMultinodeNodeport / MaskMultinodeNodeport: the ENI connmark bit.
pub const MULTINODE_NODEPORT: u32 = 0x80;

/// The mark Cilium's BPF programs stamp on a packet bound for the proxy on `port`, as
/// `iptProxyRule` computes it (pkg/datapath/iptables/iptables.go):
/// `uint32(byteorder.HostToNetwork16(port)) << 16 | MagicMarkIsToProxy`.
/// Cilium nodes are little-endian (amd64, arm64), where HostToNetwork16 swaps the bytes; doing
/// the swap explicitly keeps the rendered document the same on any build host.
pub fn tproxy_match(to_proxy: u32, port: Port) -> u32 {
    (u32::from(port.get().swap_bytes()) << 16) | to_proxy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(p: i64) -> Port {
        Port::new(p).unwrap()
    }

    #[test]
    fn tproxy_mark_matches_cilium_examples() {
        // Values from the reference node and from Cilium's own iptables tests.
        assert_eq!(
            format!("{:#x}", tproxy_match(0x200, port(39799))),
            "0x779b0200"
        );
        assert_eq!(
            format!("{:#x}", tproxy_match(0x200, port(15503))),
            "0x8f3c0200"
        );
        assert_eq!(
            format!("{:#x}", tproxy_match(0x200, port(43477))),
            "0xd5a90200"
        );
        assert_eq!(
            format!("{:#x}", tproxy_match(0x200, port(37379))),
            "0x3920200"
        );
    }

    #[test]
    fn mark_spellings() {
        assert_eq!(Mark::exact(0x779b0200).as_match().to_string(), "0x779b0200");
        assert_eq!(
            Mark::exact(0x200).as_xmark().to_string(),
            "0x200/0xffffffff"
        );
        assert_eq!(
            Mark::new(0xa00, 0xfffffeff).as_match().to_string(),
            "0xa00/0xfffffeff"
        );
    }
}
