//! `render` output: snapshots pin every document byte for byte; the other tests check what a
//! snapshot review could miss (the reference seed, structure, conditional rules).

use std::collections::BTreeSet;

use cilium_ipt::Family;

use crate::common::{self, cases, check_structure, path, render, without_comments};

#[test]
fn default_matches_reference_seed_byte_for_byte() {
    let seed = std::fs::read_to_string(path("tests/fixtures/seed-node.v4")).unwrap();
    let doc = cilium_ipt::render_configs(&[] as &[&str], Family::Ipv4).unwrap();
    assert_eq!(without_comments(&doc), seed);
    let rules = doc.lines().filter(|l| l.starts_with("-A ")).count();
    assert_eq!(rules, 34, "the reference node has 34 rules");
}

#[test]
fn reference_example_renders_the_embedded_default() {
    let embedded = cilium_ipt::render_configs(&[] as &[&str], Family::Ipv4).unwrap();
    let example =
        cilium_ipt::render_configs(&[path("examples/reference-node.toml")], Family::Ipv4).unwrap();
    assert_eq!(embedded, example);
}

#[test]
fn snapshots_of_every_case() {
    for case in cases() {
        insta::assert_snapshot!(case.name, render(&case));
    }
}

#[test]
fn many_proxies_each_get_a_rule_per_protocol() {
    let config = common::many_proxies_config(60);
    let doc = cilium_ipt::render_configs(&[config.path()], Family::Ipv4).unwrap();
    let tproxy: Vec<&str> = doc.lines().filter(|l| l.contains("-j TPROXY")).collect();
    // Proxies cycle through tcp+udp, tcp, udp: 20 * 2 + 40 * 1.
    assert_eq!(tproxy.len(), 80);
    let ports: BTreeSet<&str> = tproxy
        .iter()
        .filter_map(|l| l.split("--on-port ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(ports.len(), 60);
    insta::assert_snapshot!("many_proxies", doc);
}

#[test]
fn tproxy_marks_match_ciliums_own_examples() {
    // 37379 -> 0x3920200 appears in Cilium's iptables tests; the tunnel fixture uses that port.
    let doc = render(&cases().into_iter().find(|c| c.name == "tunnel").unwrap());
    assert!(
        doc.contains("-p udp -m mark --mark 0x3920200 -m comment --comment \"cilium: TPROXY to host cilium-dns-egress proxy\" -j TPROXY --on-port 37379 --on-ip 0.0.0.0 --tproxy-mark 0x200/0xffffffff\n"),
        "{doc}"
    );
    assert!(!doc.contains("-p tcp -m mark --mark 0x3920200"), "udp only");
}

#[test]
fn every_document_is_well_formed() {
    for case in cases() {
        check_structure(case.name, &render(&case));
    }
    let config = common::many_proxies_config(60);
    check_structure(
        "many_proxies",
        &cilium_ipt::render_configs(&[config.path()], Family::Ipv4).unwrap(),
    );
}

#[test]
fn rules_appear_only_when_the_config_asks() {
    let minimal = render(&cases().into_iter().find(|c| c.name == "minimal").unwrap());
    assert!(!minimal.contains("TPROXY"), "no proxies, no TPROXY rules");
    assert!(
        !minimal.contains("-A CILIUM_POST_nat"),
        "masquerade off, no nat rules"
    );
    assert!(
        !minimal.contains("NOTRACK for pod traffic"),
        "no CIDR, no pod NOTRACK"
    );
    // The chains and feeders stay: Cilium creates them whatever the options.
    assert!(minimal.contains(":CILIUM_POST_nat - [0:0]"));
    assert!(minimal.contains(
        "-A POSTROUTING -m comment --comment \"cilium-feeder: CILIUM_POST_nat\" -j CILIUM_POST_nat"
    ));

    let tunnel = render(&cases().into_iter().find(|c| c.name == "tunnel").unwrap());
    assert!(
        !tunnel.contains("--match-set"),
        "tunnel mode needs no node ipset"
    );
    assert!(tunnel.contains(
        "-A CILIUM_POST_nat ! -s 10.0.3.0/24 ! -d 10.0.3.0/24 -o cilium_host -m comment --comment \"cilium host->cluster masquerade\" -j SNAT --to-source 10.0.3.17\n"
    ));
    assert!(
        tunnel.contains("! -d 10.0.3.0/24 ! -o cilium_+"),
        "excludes the pod CIDR"
    );
}

#[test]
fn custom_devices_and_marks_leave_no_default_behind() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "custom_devices_marks")
        .unwrap();
    let doc = render(&case);
    for default in [
        "cilium_host",
        "cilium_net",
        "lxc+",
        "0x200/",
        "0xa00",
        "0xc00",
        "cilium_node_set_v4",
    ] {
        assert!(!doc.contains(default), "{default} leaked into {doc}");
    }
    // 10080 = 0x2760 -> bytes swapped 0x6027, to_proxy 0x100.
    assert!(doc.contains("--mark 0x60270100 "), "{doc}");
    assert!(doc.contains("-j MARK --set-xmark 0x500/0xf00"));
    assert!(doc.contains("-o veth+ -m mark --mark 0x600/0xffff7eff"));
}

#[test]
fn rendering_is_deterministic_across_runs_and_directories() {
    for case in cases() {
        let first = render(&case);
        assert_eq!(first, render(&case), "{}", case.name);
    }
}

#[test]
fn every_rule_says_why_it_exists_and_names_real_config_keys() {
    let example = std::fs::read_to_string(path("examples/reference-node.toml")).unwrap();
    for case in cases() {
        let spec = cilium_ipt::load_spec(&case.configs).unwrap();
        let rules = cilium_ipt::cilium::build(&spec, case.family).unwrap();
        for table in &rules.tables {
            for chain in &table.chains {
                for rule in &chain.rules {
                    let at = format!("{} {} {rule}", case.name, chain.name);
                    assert!(!rule.origin.why.is_empty(), "no reason: {at}");
                    assert!(!rule.origin.keys.is_empty(), "no keys: {at}");
                    for key in &rule.origin.keys {
                        // Every key is spelled out in the commented reference config.
                        let (section, leaf) = key.rsplit_once('.').unwrap_or(("", key));
                        let section = section.replace("ipvX", "ipv4");
                        let header = match section.as_str() {
                            "" => String::new(),
                            "proxy" => "[[proxy]]".to_string(),
                            s => format!("[{s}]"),
                        };
                        assert!(
                            example.contains(&header),
                            "{key}: no {header} in the example"
                        );
                        // Optional keys without a default are documented commented out.
                        let written = example.contains(&format!("\n{leaf} = "))
                            || example.contains(&format!("\n# {leaf} = "));
                        assert!(written, "{key} ({at}) is not a config key");
                    }
                }
            }
        }
    }
}

#[test]
fn explain_lists_every_rule_with_its_reason() {
    let spec = cilium_ipt::load_spec(&[] as &[&str]).unwrap();
    let rules = cilium_ipt::cilium::build(&spec, Family::Ipv4).unwrap();
    let text = cilium_ipt::render::explain_document(&rules).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("-A ")).count(), 34);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("    why:  ")).count(),
        34
    );
    insta::assert_snapshot!("explain_default", text);
}
