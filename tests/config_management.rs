//! Config management and shell fit: `--set`, `--family all --output-dir`, `init`,
//! completions, the man page, the JSON Schema, help examples and the Ansible example.

use std::fs;
use std::process::Command as Process;

use assert_cmd::Command;
use clap::CommandFactory;
use predicates::prelude::*;

use crate::common::path;

fn cmd() -> Command {
    crate::common::cilium_ipt()
}

fn stdout_of(args: &[&str]) -> String {
    let out = cmd()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn set_gives_the_same_bytes_as_an_overlay_file() {
    let base = path("examples/overlay-base.toml");
    let node = path("examples/overlay-node-17.toml");
    let base = base.to_str().unwrap();
    let with_file = stdout_of(&["render", base, node.to_str().unwrap()]);
    // The shell eats the quotes: unquoted non-TOML values are taken as strings.
    let with_set = stdout_of(&[
        "render",
        base,
        "--set",
        "ipv4.alloc_cidr=10.197.81.0/24",
        "--set",
        "ipv4.host_ip=\"10.197.81.1\"",
        "--set",
        "proxy.cilium-dns-egress.port=40123",
    ]);
    assert_eq!(with_set, with_file);
}

#[test]
fn set_changes_and_adds_proxies_by_name() {
    let doc = stdout_of(&[
        "render",
        "--set",
        "proxy.cilium-dns-egress.port=40123",
        "--set",
        "proxy.cilium-http-ingress.protocols=[\"tcp\"]",
        "--set",
        "proxy.envoy.port=10080",
    ]);
    assert!(doc.contains("--on-port 40123 "), "{doc}");
    assert!(!doc.contains("--on-port 39799 "));
    assert_eq!(
        doc.matches("--on-port 15503 ").count(),
        1,
        "http-ingress is tcp only now"
    );
    assert_eq!(doc.matches("TPROXY to host envoy proxy").count(), 2);
}

#[test]
fn set_errors_point_into_the_argument() {
    for (arg, place, says) in [
        (
            "ipv4.alloc_cidr=10.197.65.7/24",
            "--set #1:1:19",
            "has host bits set",
        ),
        (
            "ipv4.masquerad=false",
            "--set #1:1:6",
            "did you mean `masquerade`?",
        ),
        (
            "proxy.nope.protocols=[\"udp\"]",
            "--set #1:1:7",
            "no proxy named `nope` to change",
        ),
        (
            "proxy.cilium-dns-egress.port=0",
            "--set #1:1:32",
            "port 0 is out of range",
        ),
        ("no-equals-sign", "--set #1:1:1", "expected KEY=VALUE"),
    ] {
        cmd()
            .args(["render", "--set", arg])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!("--> {place}\n")))
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn family_all_writes_every_document_into_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = path("examples/dual-stack-node.toml");
    cmd()
        .arg("render")
        .arg(&config)
        .args(["--family", "all", "--output-dir"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout("");
    let config = config.to_str().unwrap();
    for (file, args) in [
        ("rules.v4", vec!["render", config, "-f", "ipv4"]),
        ("rules.v6", vec!["render", config, "-f", "ipv6"]),
        ("routes.v4", vec!["routes", config, "-f", "ipv4"]),
        ("routes.v6", vec!["routes", config, "-f", "ipv6"]),
        ("ipset.restore", vec!["ipset", config]),
    ] {
        assert_eq!(
            fs::read_to_string(dir.path().join(file)).unwrap(),
            stdout_of(&args),
            "{file}"
        );
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 5);
}

#[test]
fn family_all_writes_nothing_when_anything_fails() {
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .arg("render")
        .arg(path("examples/dual-stack-node.toml"))
        .args([
            "--family",
            "all",
            "--set",
            "ipv6.host_ip=10.0.0.1",
            "--output-dir",
        ])
        .arg(dir.path())
        .assert()
        .code(2);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    cmd()
        .args(["render", "--family", "all"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("give --output-dir DIR"));
}

#[test]
fn init_writes_a_starter_that_renders_and_never_overwrites_by_accident() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    for (family, example, render_family) in [
        ("ipv4", "examples/reference-node.toml", "ipv4"),
        ("ipv6", "examples/ipv6-node.toml", "ipv6"),
        ("all", "examples/dual-stack-node.toml", "ipv6"),
    ] {
        let _ = fs::remove_file(&file);
        cmd()
            .arg("init")
            .arg(&file)
            .args(["--family", family])
            .assert()
            .success()
            .stdout("");
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            fs::read_to_string(path(example)).unwrap()
        );
        cmd()
            .arg("render")
            .arg(&file)
            .args(["-f", render_family])
            .assert()
            .success();
    }
    fs::write(&file, "# mine\n").unwrap();
    cmd()
        .arg("init")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists; use --force"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "# mine\n");
    cmd()
        .arg("init")
        .arg(&file)
        .arg("--force")
        .assert()
        .success();
    assert_ne!(fs::read_to_string(&file).unwrap(), "# mine\n");
    cmd()
        .args(["init", "-"])
        .assert()
        .success()
        .stdout(fs::read_to_string(path("examples/reference-node.toml")).unwrap());
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let text = stdout_of(&["completions", shell]);
        for sub in [
            "render",
            "diff",
            "reconcile",
            "routes",
            "ipset",
            "explain-mark",
        ] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let man = stdout_of(&["man"]);
    assert!(man.contains(".TH cilium-ipt 1"), "{man}");
    assert!(man.contains("reconcile"));
}

#[test]
fn schema_describes_every_key_and_refuses_unknown_ones() {
    let schema: serde_json::Value = serde_json::from_str(&stdout_of(&["schema"])).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let top: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        top,
        [
            "cilium",
            "datapath",
            "devices",
            "ipv4",
            "ipv6",
            "marks",
            "no_track_pod",
            "proxy",
            "routing"
        ]
    );
    let family = &schema["$defs"]["RawFamily"];
    assert_eq!(family["additionalProperties"], false);
    for key in [
        "native_routing_cidr",
        "alloc_cidr",
        "host_ip",
        "masquerade",
        "node_ipset",
        "node_ips",
    ] {
        assert!(
            family["properties"][key]["description"].is_string(),
            "{key}"
        );
    }
    let proxy = &schema["$defs"]["RawProxy"];
    assert_eq!(proxy["required"], serde_json::json!(["name", "port"]));
}

#[test]
fn every_subcommand_help_has_an_example() {
    let mut cli = cilium_ipt::cli::Cli::command();
    cli.build();
    // `help` is clap's own subcommand.
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            help.contains("Example") && help.contains("cilium-ipt "),
            "`cilium-ipt {} --help` has no example line",
            sub.get_name()
        );
    }
}

#[test]
fn ansible_playbook_passes_syntax_check() {
    let required = std::env::var("CILIUM_IPT_REQUIRE_ANSIBLE").as_deref() == Ok("1");
    let available = Process::new("ansible-playbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !required,
            "CILIUM_IPT_REQUIRE_ANSIBLE=1 but ansible-playbook is not installed"
        );
        eprintln!(
            "\n*** SKIPPED ansible syntax check: ansible-playbook is not installed (pip install ansible-core) ***\n"
        );
        return;
    }
    let out = Process::new("ansible-playbook")
        .arg("--syntax-check")
        .arg("-i")
        .arg(path("examples/ansible/inventory.ini"))
        .arg(path("examples/ansible/playbook.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
