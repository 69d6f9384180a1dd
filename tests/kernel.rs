//! Kernel round trips: each rendered document is loaded with iptables-restore in a fresh
//! network namespace, on the nft and the legacy backend, and iptables-save must give every
//! table back byte for byte. Needs root, `unshare`, iptables and ipset; without them the tests
//! skip loudly, and with CILIUM_IPT_KERNEL_TESTS=1 (as in CI) they fail instead.

use std::io::Write;
use std::process::{Command, Stdio};

use cilium_ipt::Family;

use crate::common::{self, cases, render, without_comments};

const BACKENDS: [&str; 2] = ["nft", "legacy"];

/// Whether the kernel tests can run here; panics when they must but cannot.
pub fn kernel_tests_enabled(test: &str) -> bool {
    let required = std::env::var("CILIUM_IPT_KERNEL_TESTS").as_deref() == Ok("1");
    match missing_prerequisite() {
        None => true,
        Some(why) if required => {
            panic!("{test}: CILIUM_IPT_KERNEL_TESTS=1 but the kernel tests cannot run: {why}")
        }
        Some(why) => {
            eprintln!(
                "\n*** SKIPPED kernel test {test}: {why}.\n*** Run as root with iptables, ipset and \
                 unshare installed; set CILIUM_IPT_KERNEL_TESTS=1 to make this a failure. ***\n"
            );
            false
        }
    }
}

fn missing_prerequisite() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not running as root".into());
    }
    for tool in [
        "unshare",
        "ip",
        "python3",
        "ipset",
        "iptables-nft-restore",
        "iptables-legacy-restore",
        "ip6tables-nft-restore",
        "ip6tables-legacy-restore",
    ] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    let ns = Command::new("unshare").args(["-n", "true"]).status();
    if !ns.map(|s| s.success()).unwrap_or(false) {
        return Some("cannot create a network namespace (unshare -n)".into());
    }
    None
}

/// The ipsets a document matches on, created first so iptables-restore can resolve them.
fn ipset_commands(doc: &str, family: Family) -> String {
    let inet = match family {
        Family::Ipv4 => "inet",
        Family::Ipv6 => "inet6",
    };
    let mut sets: Vec<&str> = doc
        .split("--match-set ")
        .skip(1)
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    sets.sort();
    sets.dedup();
    sets.iter()
        .map(|s| format!("ipset create {s} hash:ip family {inet}\n"))
        .collect()
}

/// Runs `script` in a new network namespace with `stdin`, returning stdout; panics on failure.
pub fn in_namespace(script: &str, stdin: &str) -> String {
    let mut child = Command::new("unshare")
        .args(["-n", "bash", "-euo", "pipefail", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "namespace script failed ({}):\n{script}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Like `in_namespace`, but a restore failure also shows the document lines around the line
/// iptables-restore names (`line N: ...`), so the rule at fault is in the message.
fn in_namespace_showing(script: &str, doc: &str) -> String {
    let result = std::panic::catch_unwind(|| in_namespace(script, doc));
    match result {
        Ok(out) => out,
        Err(panic) => {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            let line = message
                .split("line ")
                .nth(1)
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.trim().parse::<usize>().ok());
            let context = match line {
                Some(n) => doc
                    .lines()
                    .enumerate()
                    .skip(n.saturating_sub(4))
                    .take(7)
                    .map(|(i, l)| {
                        format!("{:>5}{} {l}\n", i + 1, if i + 1 == n { ">" } else { " " })
                    })
                    .collect::<String>(),
                None => String::new(),
            };
            panic!("{message}\ndocument around the failing line:\n{context}")
        }
    }
}

/// Splits a document into its table blocks (`*table` … `COMMIT`), comments dropped.
fn tables(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in without_comments(doc).lines() {
        if let Some(name) = line.strip_prefix('*') {
            current = Some((name.to_string(), String::new()));
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
        if line == "COMMIT" {
            out.extend(current.take());
        }
    }
    out
}

/// Loads `doc` on `backend` and asserts each table comes back from iptables-save unchanged.
pub fn assert_round_trip(name: &str, doc: &str, family: Family, backend: &str) {
    let tool = match family {
        Family::Ipv4 => "iptables",
        Family::Ipv6 => "ip6tables",
    };
    let expected = tables(doc);
    assert!(!expected.is_empty(), "{name}: no tables");
    let mut script = ipset_commands(doc, family);
    script.push_str(&format!("{tool}-{backend}-restore\n"));
    for (table, _) in &expected {
        script.push_str(&format!(
            "echo '### {table}'; {tool}-{backend}-save -t {table}\n"
        ));
    }
    let saved = in_namespace_showing(&script, doc);
    for (table, body) in &expected {
        let got = saved
            .split(&format!("### {table}\n"))
            .nth(1)
            .and_then(|rest| rest.split("### ").next())
            .unwrap_or_default();
        assert_eq!(
            without_comments(got),
            *body,
            "{name}: table {table} differs after {tool}-{backend}-restore / -save"
        );
    }
}

#[test]
fn every_snapshot_round_trips_on_both_backends() {
    if !kernel_tests_enabled("every_snapshot_round_trips_on_both_backends") {
        return;
    }
    for case in cases() {
        let doc = render(&case);
        for backend in BACKENDS {
            assert_round_trip(case.name, &doc, case.family, backend);
        }
    }
}

#[test]
fn many_proxies_round_trip_on_both_backends() {
    if !kernel_tests_enabled("many_proxies_round_trip_on_both_backends") {
        return;
    }
    let config = common::many_proxies_config(60);
    let doc = cilium_ipt::render_configs(&[config.path()], Family::Ipv4).unwrap();
    for backend in BACKENDS {
        assert_round_trip("many_proxies", &doc, Family::Ipv4, backend);
    }
}

/// Ways to break Cilium's rules with ordinary iptables commands (`$IPT` is the backend's tool).
const BREAKAGES: &[(&str, &str)] = &[
    (
        "delete a rule",
        "$IPT -t raw -D CILIUM_PRE_raw -m mark --mark 0x200/0xf00 -m comment --comment 'cilium: NOTRACK for proxy traffic' -j CT --notrack",
    ),
    ("flush a chain", "$IPT -t mangle -F CILIUM_PRE_mangle"),
    (
        "remove a chain and its feeder",
        "$IPT -D FORWARD -m comment --comment 'cilium-feeder: CILIUM_FORWARD' -j CILIUM_FORWARD; $IPT -F CILIUM_FORWARD; $IPT -X CILIUM_FORWARD",
    ),
    (
        "add a rule",
        "$IPT -I CILIUM_INPUT 1 -s 203.0.113.7/32 -j ACCEPT",
    ),
    (
        "reorder rules",
        "$IPT -t raw -A CILIUM_OUTPUT_raw -d 10.197.64.0/18 -m comment --comment 'cilium: NOTRACK for pod traffic' -j CT --notrack; $IPT -t raw -D CILIUM_OUTPUT_raw 1",
    ),
    (
        "duplicate a feeder",
        "$IPT -A INPUT -m comment --comment 'cilium-feeder: CILIUM_INPUT' -j CILIUM_INPUT",
    ),
    (
        "delete a feeder",
        "$IPT -t nat -D POSTROUTING -m comment --comment 'cilium-feeder: CILIUM_POST_nat' -j CILIUM_POST_nat",
    ),
    (
        "half-done agent upgrade",
        "$IPT -E CILIUM_INPUT OLD_CILIUM_INPUT; $IPT -t raw -E CILIUM_PRE_raw OLD_CILIUM_PRE_raw",
    ),
    (
        "everything at once",
        "$IPT -t mangle -F CILIUM_PRE_mangle; $IPT -A INPUT -m comment --comment 'cilium-feeder: CILIUM_INPUT' -j CILIUM_INPUT; $IPT -E CILIUM_OUTPUT OLD_CILIUM_OUTPUT; $IPT -t nat -I CILIUM_POST_nat 2 -j RETURN",
    ),
];

const IPV6_BREAKAGES: &[(&str, &str)] = &[
    ("flush a chain", "$IPT -t mangle -F CILIUM_PRE_mangle"),
    (
        "duplicate a feeder",
        "$IPT -t nat -A POSTROUTING -m comment --comment 'cilium-feeder: CILIUM_POST_nat' -j CILIUM_POST_nat",
    ),
];

/// Loads a kube-proxy node with Cilium's rules, breaks them, repairs them with
/// `iptables-save | cilium-ipt reconcile | iptables-restore --noflush`, and checks the result.
fn repair(backend: &str, family: Family, breakage: &str, commands: &str) {
    let (tool, set, inet, fixture, config) = match family {
        Family::Ipv4 => (
            "iptables",
            "cilium_node_set_v4",
            "inet",
            "intact.v4",
            String::new(),
        ),
        Family::Ipv6 => (
            "ip6tables",
            "cilium_node_set_v6",
            "inet6",
            "intact.v6",
            format!(
                "{} --family ipv6",
                common::path("examples/ipv6-node.toml").display()
            ),
        ),
    };
    let ipt = format!("{tool}-{backend}");
    let bin = assert_cmd::cargo::cargo_bin("cilium-ipt");
    let bin = bin.display();
    let live = common::path(&format!("tests/fixtures/live/nft/{fixture}"));
    let foreign = format!("{ipt}-save | grep -v -e CILIUM -e '^#'");
    let script = format!(
        "IPT={ipt}
ipset create {set} hash:ip family {inet}
{ipt}-restore < {live}
echo '### foreign before'; {foreign}
{commands}
{ipt}-save | {bin} diff {config} > /dev/null && {{ echo 'breakage made no drift'; exit 1; }}
{ipt}-save | {bin} reconcile {config} | {ipt}-restore --noflush
echo '### diff after'; {ipt}-save | {bin} diff {config}
echo '### reconcile after'; {ipt}-save | {bin} reconcile {config}
echo '### foreign after'; {foreign}
",
        live = live.display()
    );
    let out = in_namespace(&script, "");
    let section = |name: &str| {
        out.split(&format!("### {name}\n"))
            .nth(1)
            .and_then(|s| s.split("### ").next())
            .unwrap_or_default()
            .to_string()
    };
    let what = format!("{backend} {family} {breakage}");
    assert!(
        section("diff after").starts_with("in sync"),
        "{what}: {out}"
    );
    assert_eq!(
        section("reconcile after"),
        "# cilium-ipt: in sync, nothing to repair\n",
        "{what}: a second reconcile must change nothing"
    );
    let before = section("foreign before");
    assert!(
        before.lines().filter(|l| l.starts_with("-A KUBE")).count() > 1000,
        "{what}"
    );
    assert_eq!(
        section("foreign after"),
        before,
        "{what}: foreign rules changed"
    );
}

#[test]
fn reconcile_repairs_every_breakage_and_leaves_foreign_rules_alone() {
    if !kernel_tests_enabled("reconcile_repairs_every_breakage_and_leaves_foreign_rules_alone") {
        return;
    }
    for backend in BACKENDS {
        for (breakage, commands) in BREAKAGES {
            repair(backend, Family::Ipv4, breakage, commands);
        }
        for (breakage, commands) in IPV6_BREAKAGES {
            repair(backend, Family::Ipv6, breakage, commands);
        }
    }
}

#[test]
fn random_combinations_of_breakages_are_repaired_in_one_pass() {
    use proptest::prelude::*;
    if !kernel_tests_enabled("random_combinations_of_breakages_are_repaired_in_one_pass") {
        return;
    }
    // Every single breakage except the combined one, in a random non-empty subset and order;
    // a command whose target an earlier one already removed may fail (`|| true`).
    let singles: Vec<&str> = BREAKAGES
        .iter()
        .filter(|(name, _)| *name != "everything at once")
        .map(|(_, commands)| *commands)
        .collect();
    let strategy = (
        prop::sample::subsequence(singles.clone(), 2..=singles.len()).prop_shuffle(),
        prop::sample::select(BACKENDS.to_vec()),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(6));
    runner
        .run(&strategy, |(picked, backend)| {
            let commands: Vec<String> = picked
                .iter()
                .flat_map(|c| c.split("; "))
                .map(|c| format!("{{ {c}; }} 2>/dev/null || true"))
                .collect();
            repair(
                backend,
                Family::Ipv4,
                "random combination",
                &commands.join("\n"),
            );
            Ok(())
        })
        .unwrap();
}
