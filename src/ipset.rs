//! The node ipsets the masquerade exclusion matches (`-m set --match-set cilium_node_set_v4 dst`),
//! as an `ipset restore` document. Cilium creates them as `iphash` (hash:ip) sets of every
//! cluster node's address (pkg/datapath/iptables/ipset). The update is atomic: members go into a
//! temporary set that is then swapped in, so the live set is never empty half way; every line is
//! safe to repeat, and the swap works while iptables rules reference the set.

use std::net::IpAddr;

use askama::Template;

use crate::error::Error;
use crate::names::SetName;
use crate::net::Family;
use crate::spec::NodeSpec;

pub struct NodeSet {
    pub name: SetName,
    pub temp: String,
    pub inet: &'static str,
    pub members: Vec<IpAddr>,
}

#[derive(Template)]
#[template(path = "ipset.txt", escape = "none")]
struct IpsetDocument<'a> {
    version: &'a str,
    sets: Vec<NodeSet>,
}

/// A temporary set name derived from the real one (FNV-1a), short enough for any valid name:
/// appending a suffix to a 31-byte name would pass the 31-byte limit.
fn temp_name(name: &SetName) -> String {
    let hash = name.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("cilium-ipt-tmp-{hash:08x}")
}

/// Sets for the given families (all configured ones when `families` is empty).
pub fn ipset_document(spec: &NodeSpec, families: &[Family]) -> Result<String, Error> {
    let wanted: Vec<Family> = if families.is_empty() {
        Family::ALL
            .into_iter()
            .filter(|f| spec.family(*f).is_ok())
            .collect()
    } else {
        families.to_vec()
    };
    let mut sets = Vec::new();
    for family in wanted {
        let fam = spec.family(family)?;
        sets.push(NodeSet {
            temp: temp_name(&fam.node_ipset),
            name: fam.node_ipset.clone(),
            inet: match family {
                Family::Ipv4 => "inet",
                Family::Ipv6 => "inet6",
            },
            members: fam.node_ips.clone(),
        });
    }
    let doc = IpsetDocument {
        version: env!("CARGO_PKG_VERSION"),
        sets,
    };
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_name_fits_and_differs_per_set() {
        let a = temp_name(&SetName::new(&"a".repeat(31)).unwrap());
        let b = temp_name(&SetName::new("cilium_node_set_v4").unwrap());
        assert!(a.len() <= 31 && b.len() <= 31);
        assert_ne!(a, b);
        assert!(SetName::new(&a).is_ok());
    }
}
