//! The TPROXY policy routing Cilium installs beside its iptables rules, as an `ip -batch`
//! document (pkg/proxy/routes.go; reference/cilium-rules.md §5): packets carrying the to-proxy
//! mark are looked up in Cilium's proxy table, whose only route delivers everything locally, so
//! a TPROXY'd packet reaches the proxy's transparent socket instead of being forwarded.
//! Re-applying the document is harmless: the rule is flushed by its priority and table before it
//! is added (`ip rule` has no `replace`), and the route is replaced.

use askama::Template;

use crate::error::Error;
use crate::marks::Mark;
use crate::net::Family;
use crate::spec::NodeSpec;

pub struct PolicyRule {
    pub fwmark: String,
    pub table: u32,
    pub priority: u32,
    /// `0.0.0.0` or `::`: the local route covers every address.
    pub any: std::net::IpAddr,
    /// With the L7 proxy off the agent deletes the rule and route; so does this document.
    pub install: bool,
}

#[derive(Template)]
#[template(path = "routes.txt", escape = "none")]
struct RoutesDocument<'a> {
    version: &'a str,
    family: Family,
    loader: &'a str,
    rules: Vec<PolicyRule>,
}

/// The `ip -batch` document for `family` (IPv6: load with `ip -6 -batch -`).
pub fn routes_document(spec: &NodeSpec, family: Family) -> Result<String, Error> {
    spec.family(family)?;
    let m = &spec.marks;
    let table = spec.routing.table;
    let rules = vec![PolicyRule {
        fwmark: Mark::new(m.to_proxy, m.host_mask).as_match().to_string(),
        table,
        priority: spec.routing.priority,
        any: family.unspecified(),
        install: spec.datapath.l7_proxy,
    }];
    let doc = RoutesDocument {
        version: env!("CARGO_PKG_VERSION"),
        family,
        loader: match family {
            Family::Ipv4 => "ip -batch -",
            Family::Ipv6 => "ip -6 -batch -",
        },
        rules,
    };
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}
