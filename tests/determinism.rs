//! The same inputs give the same bytes whatever the environment: variables, locale, time zone,
//! current directory, and the per-process hash seeds of separate runs.

use std::process::Command;

use crate::common::path;

fn run(dir: &std::path::Path, config: &std::path::Path, env: &[(&str, &str)]) -> Vec<u8> {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("cilium-ipt"));
    cmd.current_dir(dir).env_clear().arg("render").arg(config);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn output_does_not_depend_on_environment_or_directory() {
    let config = path("examples/dual-stack-node.toml");
    let root = path("");
    let reference = run(&root, &config, &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let variants: [(&std::path::Path, Vec<(&str, &str)>); 4] = [
        (elsewhere.path(), vec![]),
        (
            &root,
            vec![
                ("LC_ALL", "de_DE.UTF-8"),
                ("LANG", "tr_TR.UTF-8"),
                ("TZ", "Pacific/Chatham"),
            ],
        ),
        (
            &root,
            vec![
                ("CILIUM_IPT_CONFIG", "/nonexistent"),
                ("NO_COLOR", "1"),
                ("HOME", "/"),
            ],
        ),
        (
            &root,
            vec![
                ("RUST_BACKTRACE", "1"),
                ("RUST_LOG", "trace"),
                ("COLUMNS", "20"),
            ],
        ),
    ];
    for (dir, env) in &variants {
        assert_eq!(
            run(dir, &config, env),
            reference,
            "differs in {dir:?} with {env:?}"
        );
    }
    // Separate processes get separate hash seeds.
    for _ in 0..5 {
        assert_eq!(run(&root, &config, &[]), reference);
    }
}

#[test]
fn a_relative_config_path_renders_the_same_as_an_absolute_one() {
    let relative = Command::new(assert_cmd::cargo::cargo_bin("cilium-ipt"))
        .current_dir(path("examples"))
        .args(["render", "ipv6-node.toml", "--family", "ipv6"])
        .output()
        .unwrap();
    let absolute = Command::new(assert_cmd::cargo::cargo_bin("cilium-ipt"))
        .args(["render", "--family", "ipv6"])
        .arg(path("examples/ipv6-node.toml"))
        .output()
        .unwrap();
    assert!(relative.status.success());
    assert_eq!(relative.stdout, absolute.stdout);
}
