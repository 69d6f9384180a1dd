//! `diff` and `reconcile` against the iptables-save fixtures in tests/fixtures/live/ (a
//! kube-proxy + Docker node, saved by both backends; see generate-live-dumps.py).

use std::fs;

use serde_json::Value;

use crate::common::path;

const BACKENDS: [&str; 2] = ["nft", "legacy"];

fn fixture(backend: &str, name: &str) -> String {
    path(&format!("tests/fixtures/live/{backend}/{name}"))
        .display()
        .to_string()
}

fn ipv6_config() -> String {
    path("examples/ipv6-node.toml").display().to_string()
}

/// Runs `cilium-ipt diff --format json` on a fixture; returns the exit code and the findings.
fn diff_json(backend: &str, name: &str) -> (i32, Vec<Value>) {
    let mut cmd = crate::common::cilium_ipt();
    cmd.arg("diff")
        .args(["--format", "json", "--live"])
        .arg(fixture(backend, name));
    if name.ends_with(".v6") {
        cmd.arg(ipv6_config()).args(["--family", "ipv6"]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = out.status.code().unwrap();
    assert_eq!(json["in_sync"], Value::Bool(code == 0));
    (code, json["findings"].as_array().unwrap().clone())
}

/// (table, chain, kind) of each finding.
fn kinds(findings: &[Value]) -> Vec<(String, String, String)> {
    findings
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("table"), s("chain"), s("kind"))
        })
        .collect()
}

type Expected = (String, String, String);

fn k(table: &str, chain: &str, kind: &str) -> Expected {
    (table.into(), chain.into(), kind.into())
}

#[test]
fn intact_dumps_are_in_sync() {
    for backend in BACKENDS {
        for name in ["intact.v4", "intact.v6"] {
            let (code, findings) = diff_json(backend, name);
            assert_eq!(
                (code, findings.len()),
                (0, 0),
                "{backend}/{name}: {findings:?}"
            );
        }
    }
}

#[test]
fn each_breakage_is_reported_as_what_it_is() {
    let cases: Vec<(&str, Vec<Expected>)> = vec![
        (
            "missing-rule.v4",
            vec![k("raw", "CILIUM_PRE_raw", "missing_rule")],
        ),
        (
            "flushed-chain.v4",
            vec![k("mangle", "CILIUM_PRE_mangle", "missing_rule"); 5],
        ),
        (
            "missing-chain.v4",
            vec![
                k("filter", "FORWARD", "missing_feeder"),
                k("filter", "CILIUM_FORWARD", "missing_chain"),
            ],
        ),
        (
            "unexpected-rule.v4",
            vec![k("filter", "CILIUM_INPUT", "unexpected_rule")],
        ),
        (
            "out-of-order.v4",
            vec![k("nat", "CILIUM_POST_nat", "out_of_order")],
        ),
        (
            "duplicate-feeder.v4",
            vec![k("filter", "INPUT", "duplicate_feeder")],
        ),
        (
            "missing-feeder.v4",
            vec![k("nat", "PREROUTING", "missing_feeder")],
        ),
        (
            "stale-old-chains.v4",
            vec![
                k("raw", "PREROUTING", "stale_feeder"),
                k("raw", "PREROUTING", "missing_feeder"),
                k("raw", "CILIUM_PRE_raw", "missing_chain"),
                k("raw", "OLD_CILIUM_PRE_raw", "stale_chain"),
                k("filter", "INPUT", "stale_feeder"),
                k("filter", "INPUT", "missing_feeder"),
                k("filter", "CILIUM_INPUT", "missing_chain"),
                k("filter", "OLD_CILIUM_INPUT", "stale_chain"),
            ],
        ),
        (
            "missing-rule.v6",
            vec![k("mangle", "CILIUM_PRE_mangle", "missing_rule")],
        ),
    ];
    for backend in BACKENDS {
        for (name, expected) in &cases {
            let (code, findings) = diff_json(backend, name);
            assert_eq!(code, 1, "{backend}/{name}");
            assert_eq!(&kinds(&findings), expected, "{backend}/{name}");
        }
    }
}

#[test]
fn findings_carry_the_rule_and_the_count() {
    let (_, findings) = diff_json("nft", "missing-rule.v4");
    assert_eq!(
        findings[0]["rule"],
        "-m mark --mark 0x200/0xf00 -m comment --comment \"cilium: NOTRACK for proxy traffic\" -j CT --notrack"
    );
    let (_, findings) = diff_json("legacy", "duplicate-feeder.v4");
    assert_eq!(findings[0]["target"], "CILIUM_INPUT");
    assert_eq!(findings[0]["count"], 2);
}

#[test]
fn foreign_rules_are_never_drift() {
    for backend in BACKENDS {
        for entry in fs::read_dir(path(&format!("tests/fixtures/live/{backend}"))).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let (_, findings) = diff_json(backend, &name);
            for f in &findings {
                let text = f.to_string();
                assert!(
                    !text.contains("KUBE")
                        && !text.contains("DOCKER")
                        && !text.contains("dport 22"),
                    "{backend}/{name}: {text}"
                );
            }
        }
    }
}

fn reconcile(backend: &str, name: &str) -> String {
    let mut cmd = crate::common::cilium_ipt();
    cmd.args(["reconcile", "--live"])
        .arg(fixture(backend, name));
    if name.ends_with(".v6") {
        cmd.arg(ipv6_config()).args(["--family", "ipv6"]);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn reconcile_documents_touch_only_owned_chains_and_never_a_policy() {
    for backend in BACKENDS {
        for name in [
            "missing-rule.v4",
            "flushed-chain.v4",
            "missing-chain.v4",
            "unexpected-rule.v4",
            "out-of-order.v4",
            "duplicate-feeder.v4",
            "missing-feeder.v4",
            "stale-old-chains.v4",
            "missing-rule.v6",
        ] {
            let doc = reconcile(backend, name);
            for line in doc.lines() {
                if let Some(decl) = line.strip_prefix(':') {
                    assert!(
                        decl.contains("CILIUM_") && decl.ends_with(" - [0:0]"),
                        "{name}: {line}"
                    );
                }
                assert!(
                    !line.contains("KUBE") && !line.contains("DOCKER"),
                    "{name}: {line}"
                );
            }
            // Both backends give the same repair for the same breakage.
            if backend == "nft" {
                let label = format!("reconcile_{}", name.replace(['-', '.'], "_"));
                insta::assert_snapshot!(label, doc);
            }
        }
    }
}

#[test]
fn reconcile_of_an_intact_node_is_a_comment() {
    for backend in BACKENDS {
        assert_eq!(
            reconcile(backend, "intact.v4"),
            "# cilium-ipt: in sync, nothing to repair\n"
        );
    }
}

#[test]
fn diff_from_stdin_and_human_output() {
    let live = fs::read_to_string(fixture("nft", "missing-feeder.v4")).unwrap();
    let text = crate::common::stdout_text(
        crate::common::cilium_ipt()
            .arg("diff")
            .write_stdin(live)
            .assert()
            .code(1),
    );
    assert_eq!(
        text,
        "# nat PREROUTING: missing feeder -> CILIUM_PRE_nat\ndrift: 1 finding in 1 table\n"
    );
}

#[test]
fn human_output_is_a_unified_diff_per_chain() {
    let text = crate::common::stdout_text(
        crate::common::cilium_ipt()
            .args(["diff", "--live"])
            .arg(fixture("legacy", "unexpected-rule.v4"))
            .assert()
            .code(1),
    );
    assert!(text.contains(
        "--- expected filter/CILIUM_INPUT\n+++ live filter/CILIUM_INPUT\n+-A CILIUM_INPUT -s 203.0.113.7/32 -j ACCEPT\n -A CILIUM_INPUT -m mark --mark 0x200/0xf00"
    ), "{text}");
}

#[test]
fn malformed_live_input_is_exit_2_with_a_line_number() {
    let live = fs::read_to_string(fixture("nft", "intact.v4")).unwrap();
    // Cut inside the last table: no COMMIT.
    let truncated = &live[..live.rfind("COMMIT").unwrap()];
    crate::common::cilium_ipt()
        .arg("diff")
        .write_stdin(truncated.to_string())
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "cannot parse iptables-save output from <stdin>: line 74: table `nat` has no COMMIT",
        ));
    crate::common::cilium_ipt()
        .arg("reconcile")
        .write_stdin("*filter\n:INPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("line 3: rule for chain `OUTPUT`"));
}
