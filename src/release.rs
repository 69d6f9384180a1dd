//! What differs between Cilium release lines, as data. The builder in `cilium` reads these
//! facts instead of testing release numbers, so a release line is added here in one place.
//! Sources: pkg/datapath/iptables/iptables.go and custom_chain.go of each release line, as
//! summarised in reference/cilium-rules.md §1, §2 and §8.

use crate::net::Family;
use crate::rules::Table;

/// One of Cilium's chains: where it lives, which builtin chain feeds it, which families have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainDef {
    pub name: &'static str,
    pub table: Table,
    pub hook: &'static str,
    pub ipv6: bool,
}

impl ChainDef {
    pub fn in_family(&self, family: Family) -> bool {
        family == Family::Ipv4 || self.ipv6
    }
}

/// The rule-set facts of one Cilium release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The config spelling (`cilium = "1.11"`).
    pub name: &'static str,
    /// `ciliumChains` in creation order (custom_chain.go); feeders are installed in this order.
    pub chains: &'static [ChainDef],
    /// TPROXY `--on-ip`: v1.11-era code passed none, which saves as 0.0.0.0 / `::`; later
    /// releases pass the loopback address.
    pub tproxy_on_loopback: bool,
    /// The socket rule skips IPsec-encrypted and proxy-upstream packets
    /// (`! --mark encrypt/host_mask`, `! --mark proxy_epid/host_mask`).
    pub socket_mark_exclusions: bool,
    /// CILIUM_OUTPUT accepts `is_proxy/proxy_mask` ("ACCEPT for proxy traffic") instead of
    /// `is_proxy/proxy_noid_mask` ("ACCEPT for proxy return traffic").
    pub output_accepts_proxy_mask: bool,
    /// L7 proxy upstream rules (IPv4): CILIUM_OUTPUT accepts `proxy_epid/proxy_mask`, and
    /// CILIUM_OUTPUT_raw skips conntrack for it on the endpoint and host devices.
    pub proxy_upstream_rules: bool,
    /// The host-mark rule also skips overlay, proxy-upstream and identity marks.
    pub host_mark_extended: bool,
    /// With IPsec, CILIUM_OUTPUT_raw skips conntrack for egress-proxy traffic to cilium_host.
    pub ipsec_proxy_forward_notrack: bool,
}

const fn chain(name: &'static str, table: Table, hook: &'static str, ipv6: bool) -> ChainDef {
    ChainDef {
        name,
        table,
        hook,
        ipv6,
    }
}

/// `ciliumChains` in creation order. The lines differ only in whether CILIUM_FORWARD exists in
/// ip6tables. The catalogue lists CILIUM_POST_nat as IPv4-only in the v1.11 era too, but v1.11
/// already created the IPv6 node set (`cilium_node_set_v6`, PR #16603) for IPv6 iptables
/// masquerading, which lives in that chain; we follow the masquerade code and give ip6tables the
/// chain in both lines.
const fn cilium_chains(forward_ipv6: bool) -> [ChainDef; 10] {
    [
        chain("CILIUM_INPUT", Table::Filter, "INPUT", true),
        chain("CILIUM_OUTPUT", Table::Filter, "OUTPUT", true),
        chain("CILIUM_OUTPUT_raw", Table::Raw, "OUTPUT", true),
        chain("CILIUM_POST_nat", Table::Nat, "POSTROUTING", true),
        chain("CILIUM_OUTPUT_nat", Table::Nat, "OUTPUT", false),
        chain("CILIUM_PRE_nat", Table::Nat, "PREROUTING", false),
        chain("CILIUM_POST_mangle", Table::Mangle, "POSTROUTING", false),
        chain("CILIUM_PRE_mangle", Table::Mangle, "PREROUTING", true),
        chain("CILIUM_PRE_raw", Table::Raw, "PREROUTING", true),
        chain("CILIUM_FORWARD", Table::Filter, "FORWARD", forward_ipv6),
    ]
}

const CHAINS_V1_11: [ChainDef; 10] = cilium_chains(false);
const CHAINS_V1_16: [ChainDef; 10] = cilium_chains(true);

/// The reference node's era (v1.11): CILIUM_FORWARD is IPv4-only.
pub const V1_11: Release = Release {
    name: "1.11",
    chains: &CHAINS_V1_11,
    tproxy_on_loopback: false,
    socket_mark_exclusions: false,
    output_accepts_proxy_mask: false,
    proxy_upstream_rules: false,
    host_mark_extended: false,
    ipsec_proxy_forward_notrack: false,
};

/// The current line (the hive/reconciler-era `Manager`, v1.16 and v1.17): every difference
/// reference/cilium-rules.md §8 lists, and CILIUM_FORWARD in ip6tables.
pub const V1_16: Release = Release {
    name: "1.16",
    chains: &CHAINS_V1_16,
    tproxy_on_loopback: true,
    socket_mark_exclusions: true,
    output_accepts_proxy_mask: true,
    proxy_upstream_rules: true,
    host_mark_extended: true,
    ipsec_proxy_forward_notrack: true,
};

/// Every release line the tool can render, oldest first.
pub const RELEASES: &[Release] = &[V1_11, V1_16];

pub fn find(name: &str) -> Option<Release> {
    RELEASES.iter().copied().find(|r| r.name == name)
}
