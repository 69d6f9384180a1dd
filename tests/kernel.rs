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
    let saved = in_namespace(&script, doc);
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
