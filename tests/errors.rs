//! Bad input: every mistake gets exit 2, nothing on stdout, and a message naming
//! file:line:col of the offending text, what is wrong and, where it can, what would be right.

use std::fs;

/// Line and column (1-based) of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text:?}"));
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

struct Bad {
    /// The config text.
    toml: &'static str,
    /// Where the error must point: the first occurrence of this text.
    at: &'static str,
    /// What the message must say.
    says: &'static str,
    /// What the help line must say, if anything.
    help: Option<&'static str>,
}

/// Renders `toml` from a file and checks the failure; returns stderr.
fn check(case: &Bad) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    fs::write(&file, case.toml).unwrap();
    let out = crate::common::cilium_ipt()
        .arg("render")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}\n{stderr}", case.toml);
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty for {}",
        case.toml
    );
    let (line, col) = position(case.toml, case.at);
    let place = format!("--> {}:{line}:{col}\n", file.display());
    assert!(stderr.contains(&place), "expected {place:?} in:\n{stderr}");
    assert!(
        stderr.contains(case.says),
        "expected {:?} in:\n{stderr}",
        case.says
    );
    if let Some(help) = case.help {
        assert!(
            stderr.contains(&format!("= help: {help}")),
            "expected help {help:?} in:\n{stderr}"
        );
    }
    stderr
}

const NODE: &str = "alloc_cidr = \"10.1.0.0/24\"\nhost_ip = \"10.1.0.1\"\n";

#[test]
fn unknown_key_suggests_the_near_miss() {
    check(&Bad {
        toml: "[ipv4]\nnativ_routing_cidr = \"10.0.0.0/8\"\n",
        at: "nativ_routing_cidr",
        says: "error: unknown key `nativ_routing_cidr`",
        help: Some("did you mean `native_routing_cidr`?"),
    });
    check(&Bad {
        toml: "[devicez]\nhost = \"x\"\n",
        at: "devicez",
        says: "unknown key `devicez`",
        help: Some("did you mean `devices`?"),
    });
    check(&Bad {
        toml: "[ipv4]\ncolour = 1\n",
        at: "colour",
        says: "unknown key `colour`",
        help: Some("expected one of `enabled`,"),
    });
}

#[test]
fn wrong_type() {
    check(&Bad {
        toml: "[ipv4]\nalloc_cidr = 5\n",
        at: "5",
        says: "invalid type: integer `5`, expected a string",
        help: None,
    });
    check(&Bad {
        toml: "[ipv4]\nmasquerade = \"yes\"\n",
        at: "\"yes\"",
        says: "expected a boolean",
        help: None,
    });
}

#[test]
fn malformed_cidr() {
    check(&Bad {
        toml: "[ipv4]\nnative_routing_cidr = \"10.0.0.0\"\nmasquerade = false\n",
        at: "\"10.0.0.0\"",
        says: "`10.0.0.0` is not a CIDR: the prefix length is missing",
        help: None,
    });
    check(&Bad {
        toml: "[ipv4]\nnative_routing_cidr = \"10.0.0.0/33\"\nmasquerade = false\n",
        at: "\"10.0.0.0/33\"",
        says: "`33` is not a prefix length (0 to 32)",
        help: None,
    });
    check(&Bad {
        toml: "[ipv4]\nnative_routing_cidr = \"10.0.0.300/8\"\nmasquerade = false\n",
        at: "\"10.0",
        says: "`10.0.0.300` is not an IPv4 or IPv6 address",
        help: None,
    });
}

#[test]
fn wrong_family_cidr_and_address() {
    check(&Bad {
        toml: "[ipv4]\nalloc_cidr = \"fd00::/64\"\nhost_ip = \"10.1.0.1\"\n",
        at: "\"fd00::/64\"",
        says: "`fd00::/64` is an IPv6 CIDR, but this key takes an IPv4 one",
        help: None,
    });
    check(&Bad {
        toml: "[ipv6]\nalloc_cidr = \"fd00::/64\"\nhost_ip = \"10.1.0.1\"\n",
        at: "\"10.1.0.1\"",
        says: "`10.1.0.1` is not an IPv6 address",
        help: None,
    });
}

#[test]
fn cidr_with_host_bits_suggests_the_network() {
    check(&Bad {
        toml: "[ipv4]\nnative_routing_cidr = \"10.197.64.5/18\"\nmasquerade = false\n",
        at: "\"10.197.64.5/18\"",
        says: "CIDR `10.197.64.5/18` has host bits set",
        help: Some("did you mean `10.197.64.0/18`?"),
    });
}

#[test]
fn cidr_covering_every_address_is_refused() {
    // iptables-save drops `-d 0.0.0.0/0` and the nft backend refuses `! -d 0.0.0.0/0`.
    check(&Bad {
        toml: "[ipv4]\nnative_routing_cidr = \"0.0.0.0/0\"\nmasquerade = false\n",
        at: "\"0.0.0.0/0\"",
        says: "covers every address",
        help: None,
    });
    check(&Bad {
        toml: "[ipv6]\nalloc_cidr = \"::/0\"\nhost_ip = \"fd00::1\"\n",
        at: "\"::/0\"",
        says: "`::/0` covers every address",
        help: None,
    });
}

#[test]
fn ports_out_of_range() {
    for port in ["0", "65536", "-1"] {
        let toml = format!("[ipv4]\n{NODE}[[proxy]]\nname = \"p\"\nport = {port}\n");
        let toml: &'static str = Box::leak(toml.into_boxed_str());
        let at: &'static str = Box::leak(format!("{port}\n").into_boxed_str());
        let stderr = check(&Bad {
            toml,
            // The value sits at the end of the file; search from the `port =` key.
            at: &toml[toml.find("port =").unwrap() + 7..],
            says: "is out of range: a proxy port is 1 to 65535",
            help: None,
        });
        assert!(stderr.contains(&format!("port {}", at.trim())), "{stderr}");
    }
}

#[test]
fn duplicate_proxy_port_and_name_point_at_both() {
    let stderr = check(&Bad {
        toml: "[[proxy]]\nname = \"a\"\nport = 1000\n[[proxy]]\nname = \"b\"\nport = 1000 # again\n",
        at: "1000 # again",
        says: "proxy port `1000` is already used at",
        help: None,
    });
    assert!(
        stderr.contains("node.toml:3:8\n"),
        "names the first place: {stderr}"
    );
    check(&Bad {
        toml: "[[proxy]]\nname = \"a\"\nport = 1000\n[[proxy]]\nname = \"a\" # again\nport = 1001\n",
        at: "\"a\" # again",
        says: "proxy name `a` is already used at",
        help: None,
    });
}

#[test]
fn unknown_protocol() {
    check(&Bad {
        toml: "[[proxy]]\nname = \"a\"\nport = 1000\nprotocols = [\"tpc\"]\n",
        at: "\"tpc\"",
        says: "unknown protocol `tpc`",
        help: Some("did you mean `tcp`?"),
    });
    check(&Bad {
        toml: "[[proxy]]\nname = \"a\"\nport = 1000\nprotocols = [\"sctp\"]\n",
        at: "\"sctp\"",
        says: "unknown protocol `sctp`",
        help: Some("expected one of `tcp` or `udp`"),
    });
}

#[test]
fn marks_that_overlap() {
    check(&Bad {
        toml: "[marks]\nhost = 0xa00\n",
        at: "0xa00",
        says: "host 0xa00 is the same value as is_proxy",
        help: None,
    });
    check(&Bad {
        toml: "[marks]\nto_proxy = 0x4200\n",
        at: "0x4200",
        says: "to_proxy 0x4200 overlaps the reserved bits 0x4000",
        help: None,
    });
    check(&Bad {
        toml: "[marks]\nreserved = [0x100]\nhost_mask = 0xf00\n",
        at: "0xf00",
        says: "host_mask 0xf00 overlaps the reserved bits 0x100",
        help: None,
    });
    check(&Bad {
        toml: "[marks]\nis_proxy = 0xb00\n",
        at: "0xb00",
        says: "is_proxy 0xb00 has bits outside proxy_mask 0xe00",
        help: None,
    });
    check(&Bad {
        toml: "[marks]\nhost_mask = 0xf0000\n",
        at: "0xf0000",
        says: "reaches into bits 16-31, where Cilium puts the proxy port",
        help: None,
    });
    check(&Bad {
        toml: "[marks]\nto_proxy = \"0xzz\"\n",
        at: "\"0xzz\"",
        says: "`0xzz` is not a mark",
        help: None,
    });
}

#[test]
fn bad_device_names() {
    for (name, says) in [
        (
            "cilium_host_dev0",
            "16 bytes long; the kernel allows at most 15",
        ),
        ("eth/0", "it contains `/`"),
        ("eth 0", "it contains a space"),
        ("eth:0", "it contains `:`"),
        ("lx+c", "with `+` only as the last character"),
        ("ethé", "non-ASCII character"),
        ("-j", "starts with `-` or `!`"),
        ("", "it is empty"),
    ] {
        let toml = format!("[devices]\nhost = \"{name}\"\n");
        check(&Bad {
            toml: Box::leak(toml.into_boxed_str()),
            at: Box::leak(format!("\"{name}\"").into_boxed_str()),
            says,
            help: None,
        });
    }
    check(&Bad {
        toml: "[devices]\nnet = \"a\\tb\"\n",
        at: "\"a\\tb\"",
        says: "it contains a tab",
        help: None,
    });
}

#[test]
fn set_and_proxy_names_over_their_limits() {
    check(&Bad {
        toml: "[ipv4]\nmasquerade = false\nnode_ipset = \"cilium_node_set_v4_0123456789abc\"\n",
        at: "\"cilium_node_set_v4_0123456789abc\"",
        says: "32 bytes long; at most 31 are allowed",
        help: None,
    });
    let long = "p".repeat(227);
    let toml = format!("[[proxy]]\nname = \"{long}\"\nport = 1\n");
    check(&Bad {
        toml: Box::leak(toml.into_boxed_str()),
        at: Box::leak(format!("\"{long}\"").into_boxed_str()),
        says: "227 bytes long; at most 226 are allowed",
        help: None,
    });
}

#[test]
fn missing_values_name_the_section() {
    check(&Bad {
        toml: "[ipv4]\nalloc_cidr = \"10.1.0.0/24\"\n",
        at: "[ipv4]",
        says: "[ipv4] needs `host_ip` while masquerade is on",
        help: None,
    });
    check(&Bad {
        toml: "[[proxy]]\nname = \"a\"\n",
        at: "[[proxy]]",
        says: "missing field `port`",
        help: None,
    });
}

#[test]
fn option_conflicts() {
    check(&Bad {
        toml: "[datapath]\nrouting_mode = \"tunnel\"\ninstall_no_conntrack_rules = true\n",
        at: "true",
        says: "install_no_conntrack_rules requires routing_mode = \"native\"",
        help: None,
    });
    check(&Bad {
        toml: "[datapath]\nrouting_mode = \"nativ\"\n",
        at: "\"nativ\"",
        says: "unknown routing mode `nativ`",
        help: Some("did you mean `native`?"),
    });
    check(&Bad {
        toml: "cilium = \"1.12\"\n",
        at: "\"1.12\"",
        says: "unknown Cilium release line `1.12`",
        help: Some("expected one of `1.11`"),
    });
}

#[test]
fn toml_syntax_errors_are_located() {
    check(&Bad {
        toml: "[ipv4\n",
        at: "\n",
        says: "unclosed table",
        help: None,
    });
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let stderr = check(&Bad {
        toml: "[devices]\nhost = \"a b\"\nnet = \"c/d\"\n",
        at: "\"a b\"",
        says: "it contains a space",
        help: None,
    });
    assert!(stderr.contains("it contains `/`"), "{stderr}");
}

#[test]
fn an_error_in_a_later_file_names_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    let node = dir.path().join("node-17.toml");
    fs::write(&base, "[ipv4]\nalloc_cidr = \"10.1.0.0/24\"\n").unwrap();
    fs::write(&node, "# node 17\n[ipv4]\nhost_ip = \"10.1.0.300\"\n").unwrap();
    let out = crate::common::cilium_ipt()
        .arg("render")
        .arg(&base)
        .arg(&node)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("--> {}:3:11", node.display())),
        "{stderr}"
    );
}
