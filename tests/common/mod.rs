//! Shared test inputs: the documents every snapshot and kernel round-trip test covers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cilium_ipt::Family;

/// The built binary, with a clean environment: what a user runs.
pub fn cilium_ipt() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cilium-ipt").expect("binary is built");
    cmd.env_clear();
    cmd
}

/// The stdout of a finished run, as text.
pub fn stdout_text(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).expect("stdout is UTF-8")
}

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
        // The agent-option matrix: each option alone over the reference node, then
        // realistic combinations.
        option("l7-proxy-off"),
        option("bpf-tproxy"),
        option("no-xt-socket"),
        option("bpf-masquerade"),
        option("random-fully"),
        option("egress-masquerade-interface"),
        option("feeders-disabled"),
        option("endpoint-routes"),
        option("current-release"),
        option("ipsec"),
        option("no-track-pods"),
        option("route-source"),
        option("aws-cni-chaining"),
        case(
            "option_no_track_pods_v6",
            &[
                "examples/ipv6-node.toml",
                "tests/fixtures/configs/options/no-track-pods-v6.toml",
            ],
            Family::Ipv6,
        ),
        case(
            "option_ipsec_current",
            &["tests/fixtures/configs/options/ipsec-current.toml"],
            Family::Ipv4,
        ),
        case(
            "option_aws_eni",
            &["tests/fixtures/configs/options/aws-eni.toml"],
            Family::Ipv4,
        ),
        case(
            "option_current_defaults",
            &["tests/fixtures/configs/options/current-defaults.toml"],
            Family::Ipv4,
        ),
        case(
            "option_kind_tunnel",
            &["tests/fixtures/configs/options/kind-tunnel.toml"],
            Family::Ipv4,
        ),
        case(
            "option_current_dual_stack_native_v4",
            &["tests/fixtures/configs/options/current-dual-stack-native.toml"],
            Family::Ipv4,
        ),
        case(
            "option_current_dual_stack_native_v6",
            &["tests/fixtures/configs/options/current-dual-stack-native.toml"],
            Family::Ipv6,
        ),
    ]
}

/// One agent option layered over the reference node.
fn option(name: &'static str) -> Case {
    let label: &'static str =
        Box::leak(format!("option_{}", name.replace('-', "_")).into_boxed_str());
    Case {
        name: label,
        configs: vec![
            path("examples/reference-node.toml"),
            path(&format!("tests/fixtures/configs/options/{name}.toml")),
        ],
        family: Family::Ipv4,
    }
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

/// Checks the structure of a document: one header and COMMIT per table, every chain declared
/// once before its rules, every jump to a declared chain, every feeder pointing at its chain.
pub fn check_structure(name: &str, doc: &str) {
    let mut table: Option<String> = None;
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut jumps: Vec<String> = Vec::new();
    let mut tables = BTreeSet::new();
    for line in doc.lines().filter(|l| !l.starts_with('#')) {
        if let Some(t) = line.strip_prefix('*') {
            assert!(table.is_none(), "{name}: table {t} opened inside another");
            assert!(tables.insert(t.to_string()), "{name}: table {t} twice");
            table = Some(t.to_string());
            declared.clear();
            jumps.clear();
        } else if line == "COMMIT" {
            for j in &jumps {
                assert!(declared.contains(j), "{name}: jump to undeclared chain {j}");
            }
            table = None;
        } else if let Some(decl) = line.strip_prefix(':') {
            let chain = decl.split(' ').next().unwrap();
            assert!(
                declared.insert(chain.to_string()),
                "{name}: {chain} declared twice"
            );
        } else if let Some(rule) = line.strip_prefix("-A ") {
            assert!(table.is_some(), "{name}: rule outside a table: {line}");
            let chain = rule.split(' ').next().unwrap();
            assert!(
                declared.contains(chain),
                "{name}: rule in undeclared chain: {line}"
            );
            let target = rule
                .split(" -j ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            if target.starts_with("CILIUM_") {
                jumps.push(target.to_string());
                assert!(
                    rule.contains(&format!("--comment \"cilium-feeder: {target}\"")),
                    "{name}: feeder without its comment: {line}"
                );
            }
        } else {
            panic!("{name}: unexpected line {line:?}");
        }
    }
    assert!(table.is_none(), "{name}: last table has no COMMIT");
}
