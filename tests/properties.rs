//! Property tests. (1) Random valid configs render into well-formed documents, and in the kernel
//! test a sample of them round-trips through iptables on both backends. (2) Hostile strings in
//! every string field are either refused or change no line and no rule of the document.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cilium_ipt::error::{Problem, Source};
use cilium_ipt::{Error, Family};
use ipnet::IpNet;
use proptest::prelude::*;

use crate::common::check_structure;
use crate::kernel::{assert_round_trip, kernel_tests_enabled};

/// A TOML string literal for any text (toml escapes quotes, backslashes, controls).
fn lit(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn source(text: String) -> Source {
    Source {
        name: "prop.toml".into(),
        text: text.into(),
    }
}

#[derive(Debug, Clone)]
struct NodeConfig {
    family: Family,
    alloc: IpNet,
    native: Option<IpNet>,
    masquerade: bool,
    native_routing: bool,
    no_conntrack: bool,
    devices: [String; 3],
    set: String,
    proxies: Vec<(String, u16, Vec<&'static str>)>,
}

impl NodeConfig {
    fn toml(&self) -> String {
        let key = self.family.to_string();
        let host_ip = match self.alloc.network() {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) + 1)),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) + 1)),
        };
        let mut t = format!(
            "[{key}]\nalloc_cidr = {}\nhost_ip = {}\nmasquerade = {}\nnode_ipset = {}\n",
            lit(&self.alloc.to_string()),
            lit(&host_ip.to_string()),
            self.masquerade,
            lit(&self.set)
        );
        if let Some(n) = self.native {
            t.push_str(&format!("native_routing_cidr = {}\n", lit(&n.to_string())));
        }
        t.push_str(&format!(
            "[devices]\nhost = {}\nnet = {}\nendpoints = {}\n",
            lit(&self.devices[0]),
            lit(&self.devices[1]),
            lit(&self.devices[2])
        ));
        t.push_str(&format!(
            "[datapath]\nrouting_mode = {}\ninstall_no_conntrack_rules = {}\n",
            lit(if self.native_routing {
                "native"
            } else {
                "tunnel"
            }),
            self.no_conntrack
        ));
        for (name, port, protocols) in &self.proxies {
            let protos: Vec<String> = protocols.iter().map(|p| lit(p)).collect();
            t.push_str(&format!(
                "[[proxy]]\nname = {}\nport = {port}\nprotocols = [{}]\n",
                lit(name),
                protos.join(", ")
            ));
        }
        t
    }

    /// Rules the document must hold, counted from the config independently of the renderer.
    fn expected_tproxy_rules(&self) -> usize {
        self.proxies.iter().map(|p| p.2.len()).sum()
    }
}

fn network() -> impl Strategy<Value = (Family, IpNet, Option<IpNet>)> {
    // The native-routing CIDR widens the pod CIDR, but never to /0 (refused by validation).
    let v4 =
        (any::<u32>(), 8u8..=28, any::<bool>(), 0u8..=7).prop_map(|(a, len, native, wider)| {
            let alloc = IpNet::new(IpAddr::V4(a.into()), len).unwrap().trunc();
            let native = native.then(|| IpNet::new(alloc.addr(), len - wider).unwrap().trunc());
            (Family::Ipv4, alloc, native)
        });
    let v6 =
        (any::<u128>(), 48u8..=120, any::<bool>(), 0u8..=16).prop_map(|(a, len, native, wider)| {
            let alloc = IpNet::new(IpAddr::V6(a.into()), len).unwrap().trunc();
            let native = native.then(|| IpNet::new(alloc.addr(), len - wider).unwrap().trunc());
            (Family::Ipv6, alloc, native)
        });
    prop_oneof![v4, v6]
}

fn node_config() -> impl Strategy<Value = NodeConfig> {
    let protocols = prop_oneof![
        Just(vec!["tcp", "udp"]),
        Just(vec!["udp", "tcp"]),
        Just(vec!["tcp"]),
        Just(vec!["udp"]),
    ];
    let proxies =
        prop::collection::btree_map("[a-z][a-z0-9.-]{0,30}", (1u16..=65535, protocols), 0..12)
            .prop_map(|m| {
                let mut seen = std::collections::BTreeSet::new();
                m.into_iter()
                    .filter(|(_, (port, _))| seen.insert(*port))
                    .map(|(name, (port, protos))| (name, port, protos))
                    .collect::<Vec<_>>()
            });
    (
        network(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        [
            "[a-z][a-z0-9_]{0,12}",
            "[a-z][a-z0-9_]{0,12}",
            "[a-z][a-z0-9_]{0,13}\\+?",
        ],
        "[a-z][a-z0-9_]{0,30}",
        proxies,
    )
        .prop_map(
            |((family, alloc, native), masquerade, native_routing, nc, devices, set, proxies)| {
                NodeConfig {
                    family,
                    alloc,
                    native,
                    masquerade,
                    native_routing,
                    no_conntrack: nc && native_routing,
                    devices,
                    set,
                    proxies,
                }
            },
        )
}

fn render(config: &NodeConfig) -> String {
    cilium_ipt::render_sources(&[source(config.toml())], config.family)
        .unwrap_or_else(|e| panic!("valid config refused:\n{}\n{e}", config.toml()))
}

proptest! {
    #[test]
    fn random_valid_configs_render_well_formed(config in node_config()) {
        let doc = render(&config);
        check_structure("random", &doc);
        let tproxy = doc.lines().filter(|l| l.contains(" -j TPROXY ")).count();
        prop_assert_eq!(tproxy, config.expected_tproxy_rules());
        let nat_rules = doc.lines().filter(|l| l.starts_with("-A CILIUM_POST_nat ")).count();
        prop_assert_eq!(nat_rules > 0, config.masquerade);
        // Same input, same bytes.
        prop_assert_eq!(&doc, &render(&config));
    }
}

#[test]
fn a_sample_of_random_configs_round_trips_in_the_kernel() {
    if !kernel_tests_enabled("a_sample_of_random_configs_round_trips_in_the_kernel") {
        return;
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(12));
    runner
        .run(&node_config(), |config| {
            let doc = render(&config);
            for backend in ["nft", "legacy"] {
                assert_round_trip("random", &doc, config.family, backend);
            }
            Ok(())
        })
        .unwrap();
}

/// Text crafted to break out of a token, a quoted string or a line.
fn hostile() -> impl Strategy<Value = String> {
    let fixed = prop_oneof![
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("'".to_string()),
        Just("x\n-A INPUT -j ACCEPT".to_string()),
        Just("x\r\n-A CILIUM_INPUT -j DROP".to_string()),
        Just("x\0y".to_string()),
        Just("COMMIT".to_string()),
        Just("*filter".to_string()),
        Just("-A".to_string()),
        Just("lxc+ -j DROP".to_string()),
        Just("a\" -j DROP -m comment --comment \"b".to_string()),
        Just("#".to_string()),
        Just("é".repeat(128)),
        Just(format!("{}é", "a".repeat(254))),
        Just("a".repeat(10_000)),
        Just("cilium-dns-egress\u{2028}".to_string()),
        Just("10.0.0.0/8 -j DROP".to_string()),
        Just("\u{7f}".to_string()),
    ];
    prop_oneof![
        fixed.clone(),
        "\\PC{0,300}",
        "[ -~\t\n\r\0]{0,40}",
        ("[a-z]{1,8}", fixed).prop_map(|(a, b)| format!("{a}{b}")),
    ]
}

/// The reference node as a template: each `{field}` is one string field of the config.
const TEMPLATE: &str = r#"cilium = {cilium}
[ipv4]
native_routing_cidr = {native}
alloc_cidr = {alloc}
host_ip = {host_ip}
node_ipset = {set}
node_ips = [{node_ip}]
[devices]
host = {host}
net = {net}
endpoints = {endpoints}
[datapath]
routing_mode = {routing}
install_no_conntrack_rules = true
[marks]
to_proxy = {to_proxy}
[[proxy]]
name = {proxy}
port = 39799
protocols = [{protocol}, {second_protocol}]
[[proxy]]
name = "cilium-http-ingress"
port = 15503
"#;

const FIELDS: [(&str, &str); 14] = [
    ("cilium", "1.11"),
    ("native", "10.197.64.0/18"),
    ("alloc", "10.197.65.0/24"),
    ("host_ip", "10.197.65.1"),
    ("set", "cilium_node_set_v4"),
    ("node_ip", "192.0.2.10"),
    ("host", "cilium_host"),
    ("net", "cilium_net"),
    ("endpoints", "lxc+"),
    ("routing", "native"),
    ("to_proxy", "0x200"),
    ("proxy", "cilium-dns-egress"),
    ("protocol", "tcp"),
    ("second_protocol", "udp"),
];

fn config_with(field: &str, value: &str) -> String {
    let mut text = TEMPLATE.to_string();
    for (name, default) in FIELDS {
        let v = if name == field { value } else { default };
        text = text.replace(&format!("{{{name}}}"), &lit(v));
    }
    text
}

fn shape(doc: &str) -> (usize, usize, usize) {
    (
        doc.lines().count(),
        doc.lines().filter(|l| l.starts_with("-A ")).count(),
        doc.lines().filter(|l| *l == "COMMIT").count(),
    )
}

proptest! {
    #[test]
    fn hostile_strings_are_refused_or_change_no_line(
        field in prop::sample::select(FIELDS.iter().map(|f| f.0).collect::<Vec<_>>()),
        value in hostile(),
    ) {
        let baseline = cilium_ipt::render_sources(&[source(config_with("", ""))], Family::Ipv4).unwrap();
        match cilium_ipt::render_sources(&[source(config_with(field, &value))], Family::Ipv4) {
            Err(Error::Config(errors)) => {
                prop_assert!(!errors.is_empty());
                // The value reached validation: the TOML literal itself always parses.
                for e in &errors {
                    prop_assert!(!matches!(e.problem, Problem::Toml(_)), "{}", e);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error kind for {field}={value:?}: {other}"),
            Ok(doc) => {
                prop_assert_eq!(shape(&doc), shape(&baseline), "{}={:?}", field, value);
                check_structure("hostile", &doc);
                for line in doc.lines() {
                    prop_assert!(line.len() < 4096 && !line.contains('\r') && !line.contains('\0'));
                }
            }
        }
    }
}

#[test]
fn the_template_renders_the_reference_node() {
    // The baseline the hostile-string property compares against is itself the reference node.
    let doc = cilium_ipt::render_sources(&[source(config_with("", ""))], Family::Ipv4).unwrap();
    let seed = std::fs::read_to_string(crate::common::path("tests/fixtures/seed-node.v4")).unwrap();
    assert_eq!(crate::common::without_comments(&doc), seed);
}

proptest! {
    /// One canonical spelling: what `render` writes, `save` reads back as the same rules, so a
    /// freshly rendered node is in sync and needs no repair.
    #[test]
    fn a_rendered_document_read_back_is_in_sync(config in node_config()) {
        let sources = [source(config.toml())];
        let doc = cilium_ipt::render_sources(&sources, config.family).unwrap();
        let spec = cilium_ipt::spec::validate(&cilium_ipt::config::merge(&sources).unwrap()).unwrap();
        let report = cilium_ipt::diff_spec(&spec, config.family, "rendered", &doc).unwrap();
        prop_assert!(report.in_sync(), "{}", report.human());
        prop_assert!(report.plans.is_empty());
    }

    /// The iptables-save parser takes anything without panicking: it reads it or names a line.
    #[test]
    fn the_save_parser_never_panics(text in "(\\*[a-z]{1,6}\n|:[A-Z_]{1,8} [A-Z-]{1,6} \\[[0-9:]{0,5}\\]\n|(\\[[0-9]:[0-9]\\] )?-A [A-Z_]{1,8}[ -~]{0,40}\n|COMMIT\n|#[ -~]{0,10}\n|[ -~\"\\\\]{0,30}\n){0,30}") {
        match cilium_ipt::save::parse(&text) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1)),
        }
    }
}
