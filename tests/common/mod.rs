//! Shared test inputs: the documents every snapshot and kernel round-trip test covers.

use std::path::PathBuf;

use cilium_ipt::Family;

/// A rendered document under test: a name (the snapshot's), its config files and family.
pub struct Case {
    pub name: &'static str,
    pub configs: Vec<PathBuf>,
    pub family: Family,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

fn case(name: &'static str, configs: &[&str], family: Family) -> Case {
    Case {
        name,
        configs: configs.iter().map(|c| path(c)).collect(),
        family,
    }
}

/// Writes a config with `n` proxies on distinct ports to a temporary file.
pub fn many_proxies_config(n: u16) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut text = String::from(
        "[ipv4]\nnative_routing_cidr = \"10.197.64.0/18\"\nalloc_cidr = \"10.197.65.0/24\"\n\
         host_ip = \"10.197.65.1\"\n[datapath]\nrouting_mode = \"native\"\n",
    );
    for i in 0..n {
        let protocols = match i % 3 {
            0 => "[\"tcp\", \"udp\"]",
            1 => "[\"tcp\"]",
            _ => "[\"udp\"]",
        };
        text.push_str(&format!(
            "[[proxy]]\nname = \"cilium-proxy-{i:03}\"\nport = {}\nprotocols = {protocols}\n",
            10000 + i * 7
        ));
    }
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write config");
    file
}

/// Every document the snapshots pin and the kernel tests load. Config-less `default` is the
/// embedded reference node.
pub fn cases() -> Vec<Case> {
    vec![
        case("default", &[], Family::Ipv4),
        case(
            "reference_node_example",
            &["examples/reference-node.toml"],
            Family::Ipv4,
        ),
        case("ipv6_node", &["examples/ipv6-node.toml"], Family::Ipv6),
        case(
            "dual_stack_v4",
            &["examples/dual-stack-node.toml"],
            Family::Ipv4,
        ),
        case(
            "dual_stack_v6",
            &["examples/dual-stack-node.toml"],
            Family::Ipv6,
        ),
        case(
            "minimal",
            &["tests/fixtures/configs/minimal.toml"],
            Family::Ipv4,
        ),
        case(
            "custom_devices_marks",
            &["tests/fixtures/configs/custom-devices-marks.toml"],
            Family::Ipv4,
        ),
        case(
            "tunnel",
            &["tests/fixtures/configs/tunnel.toml"],
            Family::Ipv4,
        ),
        case(
            "overlay_node_17",
            &[
                "examples/overlay-base.toml",
                "examples/overlay-node-17.toml",
            ],
            Family::Ipv4,
        ),
    ]
}

pub fn render(case: &Case) -> String {
    cilium_ipt::render_configs(&case.configs, case.family)
        .unwrap_or_else(|e| panic!("{} does not render: {e}", case.name))
}

/// The document without comment lines (what iptables-save gives back, less its own comments).
pub fn without_comments(doc: &str) -> String {
    doc.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}
