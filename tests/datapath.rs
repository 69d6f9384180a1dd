//! End to end through a real (namespaced) datapath: a "pod" namespace behind a veth named like
//! Cilium's endpoints, a "node" namespace loaded with `cilium-ipt ipset`, `render` and `routes`,
//! and a raw-table MARK rule standing in for Cilium's BPF programs, which stamp the to-proxy
//! mark. A transparent listener (IP_TRANSPARENT) on the proxy's port in the node must get the
//! pod's connection with its original destination, and must not without the routes or with
//! another proxy's mark. Traffic goes only to addresses inside the namespaces.

use std::process::Command;

use crate::common::path;
use crate::kernel::kernel_tests_enabled;

/// Where the pod sends: an address no namespace owns, so only TPROXY can deliver it.
const ORIGINAL: &str = "198.51.100.7";
/// The reference node's DNS proxy: port 39799, to-proxy mark 0x779b0200.
const DNS_PORT: u16 = 39799;
const DNS_MARK: &str = "0x779b0200";
/// The reference node's HTTP ingress proxy mark (port 15503).
const HTTP_MARK: &str = "0x8f3c0200";

struct Setup {
    /// The mark the BPF stand-in stamps on the pod's traffic.
    mark: &'static str,
    routes: bool,
    udp: bool,
    /// Seconds the listener waits.
    wait: u32,
}

/// Builds the node and pod, sends one connection or datagram, returns everything printed.
fn run(setup: &Setup) -> String {
    let bin = assert_cmd::cargo::cargo_bin("cilium-ipt");
    let peer = path("tests/e2e/tproxy_peer.py");
    let (listen, send, dport) = if setup.udp {
        ("listen-udp", "send-udp", 53)
    } else {
        ("listen-tcp", "connect-tcp", 8080)
    };
    let routes = if setup.routes {
        // Twice: re-applying must neither fail nor duplicate the rule.
        format!(
            "{b} routes | ip -batch -\n{b} routes | ip -batch -\n",
            b = bin.display()
        )
    } else {
        String::new()
    };
    let script = format!(
        r#"set -euo pipefail
B={bin}
PEER={peer}
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
ip netns add pod
ip link set lo up
ip link add lxc1a2b3c type veth peer name eth0 netns pod
ip addr add 10.197.65.1/24 dev lxc1a2b3c
ip link set lxc1a2b3c up
ip -n pod link set lo up
ip -n pod addr add 10.197.65.10/24 dev eth0
ip -n pod link set eth0 up
ip -n pod route add default via 10.197.65.1
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lxc1a2b3c.rp_filter=0 net.ipv4.ip_forward=1
$B ipset | ipset restore
$B ipset | ipset restore
$B render | iptables-restore
{routes}echo "rules to table 2004: $(ip rule | grep -c 'lookup 2004' || true)"
iptables -t raw -I PREROUTING 1 -i lxc+ -d {ORIGINAL}/32 -j MARK --set-mark {mark}
out=$(mktemp)
python3 $PEER {listen} {DNS_PORT} {wait} > "$out" &
sleep 0.5
ip netns exec pod python3 $PEER {send} {ORIGINAL} {dport}
wait
cat "$out"
"#,
        bin = bin.display(),
        peer = peer.display(),
        mark = setup.mark,
        wait = setup.wait,
    );
    let out = Command::new("unshare")
        .args(["-m", "-n", "bash", "-c", &script])
        .output()
        .expect("run unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "datapath script failed:\n{text}");
    text
}

fn enabled(test: &str) -> bool {
    kernel_tests_enabled(test)
}

#[test]
fn tcp_to_a_proxy_port_reaches_the_transparent_listener() {
    if !enabled("tcp_to_a_proxy_port_reaches_the_transparent_listener") {
        return;
    }
    let out = run(&Setup {
        mark: DNS_MARK,
        routes: true,
        udp: false,
        wait: 5,
    });
    assert!(
        out.contains("rules to table 2004: 1\n"),
        "one rule after two applies:\n{out}"
    );
    assert!(out.contains("connected\n"), "{out}");
    assert!(
        out.contains(&format!("tcp accepted original={ORIGINAL}:8080\n")),
        "{out}"
    );
}

#[test]
fn udp_to_the_dns_proxy_reaches_the_transparent_listener() {
    if !enabled("udp_to_the_dns_proxy_reaches_the_transparent_listener") {
        return;
    }
    let out = run(&Setup {
        mark: DNS_MARK,
        routes: true,
        udp: true,
        wait: 5,
    });
    assert!(
        out.contains(&format!(
            "udp received original={ORIGINAL}:53 payload=ping\n"
        )),
        "{out}"
    );
}

#[test]
fn without_the_routes_the_listener_gets_nothing() {
    if !enabled("without_the_routes_the_listener_gets_nothing") {
        return;
    }
    let out = run(&Setup {
        mark: DNS_MARK,
        routes: false,
        udp: false,
        wait: 3,
    });
    assert!(out.contains("rules to table 2004: 0\n"), "{out}");
    assert!(out.contains("tcp nothing\n"), "{out}");
    assert!(out.contains("failed: "), "{out}");
}

#[test]
fn another_proxys_mark_does_not_reach_this_listener() {
    if !enabled("another_proxys_mark_does_not_reach_this_listener") {
        return;
    }
    let out = run(&Setup {
        mark: HTTP_MARK,
        routes: true,
        udp: false,
        wait: 3,
    });
    assert!(out.contains("tcp nothing\n"), "{out}");
    assert!(!out.contains("tcp accepted"), "{out}");
}
