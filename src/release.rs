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
}

const fn chain(name: &'static str, table: Table, hook: &'static str, ipv6: bool) -> ChainDef {
    ChainDef {
        name,
        table,
        hook,
        ipv6,
    }
}

/// The reference node's era (v1.11). CILIUM_FORWARD is IPv4-only in this era. The catalogue
/// lists CILIUM_POST_nat as IPv4-only too, but v1.11 already created the IPv6 node set
/// (`cilium_node_set_v6`, PR #16603) for IPv6 iptables masquerading, which lives in that chain;
/// we follow the masquerade code and give ip6tables the chain.
pub const V1_11: Release = Release {
    name: "1.11",
    chains: &[
        chain("CILIUM_INPUT", Table::Filter, "INPUT", true),
        chain("CILIUM_OUTPUT", Table::Filter, "OUTPUT", true),
        chain("CILIUM_OUTPUT_raw", Table::Raw, "OUTPUT", true),
        chain("CILIUM_POST_nat", Table::Nat, "POSTROUTING", true),
        chain("CILIUM_OUTPUT_nat", Table::Nat, "OUTPUT", false),
        chain("CILIUM_PRE_nat", Table::Nat, "PREROUTING", false),
        chain("CILIUM_POST_mangle", Table::Mangle, "POSTROUTING", false),
        chain("CILIUM_PRE_mangle", Table::Mangle, "PREROUTING", true),
        chain("CILIUM_PRE_raw", Table::Raw, "PREROUTING", true),
        chain("CILIUM_FORWARD", Table::Filter, "FORWARD", false),
    ],
    tproxy_on_loopback: false,
};

/// Every release line the tool can render, oldest first.
pub const RELEASES: &[Release] = &[V1_11];

pub fn find(name: &str) -> Option<Release> {
    RELEASES.iter().copied().find(|r| r.name == name)
}
