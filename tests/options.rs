//! Agent options beyond what a snapshot shows: their validation, and how they change `diff`,
//! `reconcile` and `routes`.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::path;

fn cmd() -> Command {
    crate::common::cilium_ipt()
}

fn with_option(option: &str) -> Vec<String> {
    vec![
        path("examples/reference-node.toml").display().to_string(),
        path(&format!("tests/fixtures/configs/options/{option}.toml"))
            .display()
            .to_string(),
    ]
}

#[test]
fn option_values_are_validated_where_they_are_written() {
    for (set, says) in [
        (
            "datapath.egress_masquerade_interfaces=[\"eth0\", \"eth1\"]",
            "one output interface per rule",
        ),
        (
            "datapath.egress_masquerade_interfaces=[\"eth/0\"]",
            "it contains `/`",
        ),
        (
            "datapath.disable_iptables_feeder_rules=[\"PREROUTNG\"]",
            "did you mean `PREROUTING`?",
        ),
        ("cilium=\"1.17\"", "expected one of `1.11` or `1.16`"),
        ("datapath.enable_l7_proxy=\"no\"", "expected a boolean"),
    ] {
        cmd()
            .args(["render", "--set", set])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("--> --set #1:1:"))
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn reconcile_appends_missing_feeders_without_prepend() {
    let live = fs::read_to_string(path("tests/fixtures/live/nft/missing-feeder.v4")).unwrap();
    let out = cmd()
        .arg("reconcile")
        .args(["--set", "datapath.prepend_iptables_chains=false"])
        .write_stdin(live.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().contains(
        "\n-A PREROUTING -m comment --comment \"cilium-feeder: CILIUM_PRE_nat\" -j CILIUM_PRE_nat\n"
    ));
    let out = cmd()
        .arg("reconcile")
        .write_stdin(live)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("\n-I PREROUTING 1 -m comment")
    );
}

#[test]
fn disabled_feeders_are_not_drift_and_existing_ones_are_removed() {
    // The live node has every feeder; with PREROUTING/POSTROUTING feeders disabled those are
    // stale and reconcile deletes them, leaving the chains.
    let live = fs::read_to_string(path("tests/fixtures/live/legacy/intact.v4")).unwrap();
    let configs = with_option("feeders-disabled");
    let out = cmd()
        .arg("diff")
        .args(&configs)
        .args(["--format", "json"])
        .write_stdin(live.clone())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let kinds: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["chain"].as_str().unwrap().into(),
                f["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert!(
        kinds.iter().all(|(chain, kind)| kind == "stale_feeder"
            && (chain == "PREROUTING" || chain == "POSTROUTING"))
    );
    let doc = crate::common::stdout_text(
        cmd()
            .arg("reconcile")
            .args(&configs)
            .write_stdin(live)
            .assert()
            .success(),
    );
    assert_eq!(
        doc.lines().filter(|l| l.starts_with("-D ")).count(),
        5,
        "{doc}"
    );
    assert!(!doc.contains("-X "), "chains stay: {doc}");
}

#[test]
fn routes_remove_the_proxy_routing_when_the_l7_proxy_is_off() {
    cmd()
        .arg("routes")
        .args(with_option("l7-proxy-off"))
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "rule flush pref 9 table 2004\nroute flush table 2004\n",
        ));
}
