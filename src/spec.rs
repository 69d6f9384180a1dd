//! The validated node: `validate` turns a merged `RawConfig` into a `NodeSpec` whose fields are
//! checked types (CIDRs without host bits, ports in range, safe names, non-overlapping marks),
//! or into every problem found, each located in its file. Defaults for keys a config leaves out
//! are Cilium's own agent defaults; site values (CIDRs, addresses, proxies) have none.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use crate::config::{Loc, MarkValue, RawConfig, RawFamily, RawMarks, RawProxy};
use crate::error::{ConfigError, Error, Problem};
use crate::marks::Marks;
use crate::names::{IfName, ProxyName, SetName};
use crate::net::{Cidr, Family, Port, Protocol};
use crate::release::{self, Release};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub release: Release,
    pub ipv4: Option<FamilySpec>,
    pub ipv6: Option<FamilySpec>,
    pub devices: Devices,
    pub datapath: Datapath,
    pub marks: Marks,
    pub proxies: Vec<Proxy>,
    pub routing: PolicyRouting,
    /// Pods whose traffic on one port skips conntrack (policy.cilium.io/no-track-port).
    pub no_track_pods: Vec<NoTrackPod>,
    /// aws-cni's container devices (`eni+`), Cilium's own constant.
    pub aws_cni_devices: IfName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoTrackPod {
    pub ip: IpAddr,
    pub port: Port,
}

impl NodeSpec {
    /// The device traffic to local pods leaves through (`getDeliveryInterface`): cilium_host,
    /// or the endpoint devices with endpoint routes or ENI IPAM, or aws-cni's `eni+` with
    /// endpoint routes under aws-cni chaining.
    pub fn delivery_interface(&self) -> &IfName {
        let dp = &self.datapath;
        if dp.endpoint_routes && dp.aws_cni_chaining {
            &self.aws_cni_devices
        } else if dp.endpoint_routes || dp.eni_primary_interface.is_some() {
            &self.devices.endpoints
        } else {
            &self.devices.host
        }
    }

    pub fn family(&self, family: Family) -> Result<&FamilySpec, Error> {
        match family {
            Family::Ipv4 => self.ipv4.as_ref(),
            Family::Ipv6 => self.ipv6.as_ref(),
        }
        .ok_or(Error::FamilyMissing { family })
    }
}

/// One address family of the node (`[ipv4]` / `[ipv6]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySpec {
    pub family: Family,
    /// ipvX-native-routing-cidr: pod traffic inside it is neither tracked nor masqueraded.
    pub native_routing_cidr: Option<Cidr>,
    /// enable-ipvX-masquerade in iptables mode; `None` renders no nat rules.
    pub masquerade: Option<Masquerade>,
    /// The ipset of cluster node addresses the masquerade exclusion matches.
    pub node_ipset: SetName,
    pub node_ips: Vec<IpAddr>,
    /// Routes with a preferred source, for enable-masquerade-to-route-source.
    pub source_routes: Vec<SourceRoute>,
}

/// A route with a preferred source address on a native device (`ip route` `src`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRoute {
    pub dst: Cidr,
    pub dev: IfName,
    pub src: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masquerade {
    /// This node's pod CIDR (IPvXAllocCIDR): the source range that is masqueraded.
    pub alloc_cidr: Cidr,
    /// The cilium_host address (CiliumInternalIP): the SNAT target for host traffic.
    pub host_ip: IpAddr,
}

impl Masquerade {
    /// The range excluded from masquerading: the native-routing CIDR, else the pod CIDR
    /// (`remoteSNATDstAddrExclusionCIDR`).
    pub fn exclusion(&self, family: &FamilySpec) -> Cidr {
        family.native_routing_cidr.unwrap_or(self.alloc_cidr)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices {
    pub host: IfName,
    pub net: IfName,
    pub endpoints: IfName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingMode {
    Native,
    Tunnel,
}

/// The agent options that change the rule set (named after the cilium-agent flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datapath {
    pub routing: RoutingMode,
    /// install-no-conntrack-iptables-rules.
    pub no_conntrack_pod_rules: bool,
    /// enable-l7-proxy: the static proxy rules and TPROXY.
    pub l7_proxy: bool,
    /// enable-bpf-tproxy: BPF assigns sockets, so no TPROXY rules.
    pub bpf_tproxy: bool,
    /// The kernel has xt_socket: the socket rule can be installed.
    pub xt_socket: bool,
    /// enable-bpf-masquerade: no iptables masquerading in any family.
    pub bpf_masquerade: bool,
    /// iptables-random-fully.
    pub random_fully: bool,
    /// egress-masquerade-interfaces (one interface or wildcard).
    pub masquerade_interface: Option<IfName>,
    /// prepend-iptables-chains: feeders are inserted at the top of builtin chains.
    pub prepend_feeders: bool,
    /// disable-iptables-feeder-rules: hooks without a feeder.
    pub disabled_feeders: Vec<&'static str>,
    /// enable-endpoint-routes: traffic reaches pods via the endpoint devices.
    pub endpoint_routes: bool,
    /// enable-ipsec.
    pub ipsec: bool,
    /// ENI IPAM: the device with the default route.
    pub eni_primary_interface: Option<IfName>,
    /// enable-masquerade-to-route-source.
    pub masquerade_route_source: bool,
    /// cni-chaining-mode=aws-cni.
    pub aws_cni_chaining: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub name: ProxyName,
    pub port: Port,
    pub protocols: Vec<Protocol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyRouting {
    pub table: u32,
    pub priority: u32,
}

/// Gathers every problem instead of stopping at the first.
#[derive(Default)]
struct Checker {
    errors: Vec<ConfigError>,
}

impl Checker {
    fn check<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// Checks an optional value, falling back to `default` when the key is absent.
    fn or<T, R>(
        &mut self,
        value: &Option<Loc<R>>,
        default: T,
        parse: impl FnOnce(&R) -> Result<T, Problem>,
    ) -> Option<T> {
        match value {
            None => Some(default),
            Some(loc) => self.check(parse(&loc.value).map_err(|p| loc.error(p))),
        }
    }
}

pub fn validate(raw: &RawConfig) -> Result<NodeSpec, Error> {
    let mut ck = Checker::default();

    let release = ck.or(&raw.cilium, release::V1_11, |name| {
        release::find(name).ok_or_else(|| Problem::UnknownValue {
            what: "Cilium release line",
            text: name.clone(),
            expected: release::RELEASES
                .iter()
                .map(|r| r.name.to_string())
                .collect(),
        })
    });

    let dev = raw.devices.as_ref().map(|d| &d.value);
    let device = |ck: &mut Checker, key: Option<&Option<Loc<String>>>, default: &str| {
        ck.or(key.unwrap_or(&None), IfName::new(default).ok()?, |s| {
            IfName::new(s)
        })
    };
    let host = device(&mut ck, dev.map(|d| &d.host), "cilium_host");
    let net = device(&mut ck, dev.map(|d| &d.net), "cilium_net");
    let endpoints = device(&mut ck, dev.map(|d| &d.endpoints), "lxc+");

    let dp = raw.datapath.as_ref().map(|d| &d.value);
    let routing_mode = ck.or(
        dp.map_or(&None, |d| &d.routing_mode),
        RoutingMode::Tunnel,
        |s| match s.as_str() {
            "native" => Ok(RoutingMode::Native),
            "tunnel" => Ok(RoutingMode::Tunnel),
            _ => Err(Problem::UnknownValue {
                what: "routing mode",
                text: s.clone(),
                expected: vec!["native".into(), "tunnel".into()],
            }),
        },
    );
    let no_conntrack = dp.and_then(|d| d.install_no_conntrack_rules.as_ref());
    if let (Some(RoutingMode::Tunnel), Some(flag)) = (routing_mode, no_conntrack)
        && flag.value
    {
        // The agent refuses to start with this combination (pkg/option/config.go).
        ck.errors.push(flag.error(Problem::Invalid(
            "install_no_conntrack_rules requires routing_mode = \"native\"".into(),
        )));
    }

    let flag = |get: fn(&crate::config::RawDatapath) -> &Option<Loc<bool>>, default: bool| {
        dp.and_then(|d| get(d).as_ref())
            .map_or(default, |f| f.value)
    };
    let masquerade_interface = match dp.and_then(|d| d.egress_masquerade_interfaces.as_ref()) {
        None => Some(None),
        Some(list) => match &list.value[..] {
            [] => Some(None),
            [one] => ck
                .check(IfName::new(&one.value).map_err(|p| one.error(p)))
                .map(Some),
            [_, second, ..] => {
                // Cilium joins several with `,`, which iptables reads as one (absent) name.
                ck.errors.push(second.error(Problem::Invalid(
                    "iptables matches one output interface per rule: use a single name or a wildcard such as `eth+`".into(),
                )));
                None
            }
        },
    };
    let eni_primary_interface = match dp.and_then(|d| d.eni_primary_interface.as_ref()) {
        None => Some(None),
        Some(loc) => ck
            .check(IfName::new(&loc.value).map_err(|p| loc.error(p)))
            .map(Some),
    };
    let mut disabled_feeders = Vec::new();
    for hook in dp
        .and_then(|d| d.disable_iptables_feeder_rules.as_ref())
        .iter()
        .flat_map(|l| &l.value)
    {
        // The agent compares hooks case-insensitively.
        const HOOKS: [&str; 5] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];
        match HOOKS.iter().find(|h| h.eq_ignore_ascii_case(&hook.value)) {
            Some(h) => disabled_feeders.push(*h),
            None => ck.errors.push(hook.error(Problem::UnknownValue {
                what: "builtin chain",
                text: hook.value.clone(),
                expected: HOOKS.iter().map(|h| h.to_string()).collect(),
            })),
        }
    }

    let mut no_track_pods = Vec::new();
    for pod in raw.no_track_pod.iter().flat_map(|l| &l.value) {
        let ip = ck.check(IpAddr::from_str(&pod.ip.value).map_err(|_| {
            pod.ip.error(Problem::Invalid(format!(
                "`{}` is not an IPv4 or IPv6 address",
                pod.ip.value
            )))
        }));
        let port = ck.check(Port::new(pod.port.value).map_err(|e| pod.port.error(e)));
        if let (Some(ip), Some(port)) = (ip, port) {
            no_track_pods.push(NoTrackPod { ip, port });
        }
    }

    let ipv4 = family(&mut ck, raw.ipv4.as_ref(), Family::Ipv4);
    let ipv6 = family(&mut ck, raw.ipv6.as_ref(), Family::Ipv6);
    let marks = marks(&mut ck, raw.marks.as_ref());
    let proxies = proxies(&mut ck, raw.proxy.as_ref());

    let rt = raw.routing.as_ref().map(|r| &r.value);
    // 0 and 253..=255 are the kernel's unspec, default, main and local tables.
    let table = ck.or(rt.map_or(&None, |r| &r.table), 2004, |&t| {
        number("routing table", t, 1, 252)
            .or_else(|_| number("routing table", t, 256, i64::from(u32::MAX)))
            .map_err(|_| Problem::NumberRange {
                what: "routing table (253 to 255 are the kernel's own)",
                value: t,
                min: 1,
                max: i64::from(u32::MAX),
            })
    });
    // 0 is the local table's rule and 32766/32767 are main and default.
    let priority = ck.or(rt.map_or(&None, |r| &r.priority), 9, |&p| {
        number("rule priority", p, 1, 32765)
    });

    if !ck.errors.is_empty() {
        return Err(Error::Config(ck.errors));
    }
    // Every `None` above pushed an error, so all of these are present.
    let missing = || Error::Config(Vec::new());
    Ok(NodeSpec {
        release: release.ok_or_else(missing)?,
        ipv4: ipv4.ok_or_else(missing)?,
        ipv6: ipv6.ok_or_else(missing)?,
        devices: Devices {
            host: host.ok_or_else(missing)?,
            net: net.ok_or_else(missing)?,
            endpoints: endpoints.ok_or_else(missing)?,
        },
        datapath: Datapath {
            routing: routing_mode.ok_or_else(missing)?,
            no_conntrack_pod_rules: no_conntrack.is_some_and(|f| f.value),
            l7_proxy: flag(|d| &d.enable_l7_proxy, true),
            bpf_tproxy: flag(|d| &d.enable_bpf_tproxy, false),
            xt_socket: flag(|d| &d.xt_socket, true),
            bpf_masquerade: flag(|d| &d.enable_bpf_masquerade, false),
            random_fully: flag(|d| &d.iptables_random_fully, false),
            masquerade_interface: masquerade_interface.ok_or_else(missing)?,
            prepend_feeders: flag(|d| &d.prepend_iptables_chains, true),
            disabled_feeders,
            endpoint_routes: flag(|d| &d.enable_endpoint_routes, false),
            ipsec: flag(|d| &d.enable_ipsec, false),
            eni_primary_interface: eni_primary_interface.ok_or_else(missing)?,
            masquerade_route_source: flag(|d| &d.enable_masquerade_to_route_source, false),
            aws_cni_chaining: flag(|d| &d.aws_cni_chaining, false),
        },
        marks: marks.ok_or_else(missing)?,
        proxies: proxies.ok_or_else(missing)?,
        routing: PolicyRouting {
            table: table.ok_or_else(missing)?,
            priority: priority.ok_or_else(missing)?,
        },
        no_track_pods,
        aws_cni_devices: IfName::new("eni+").map_err(|_| missing())?,
    })
}

fn number<T: TryFrom<i64>>(what: &'static str, v: i64, min: i64, max: i64) -> Result<T, Problem> {
    let out_of_range = || Problem::NumberRange {
        what,
        value: v,
        min,
        max,
    };
    if !(min..=max).contains(&v) {
        return Err(out_of_range());
    }
    T::try_from(v).map_err(|_| out_of_range())
}

/// A /0 range as `-s`/`-d`: iptables-save drops `-d 0.0.0.0/0` (the document would not read
/// back the same), the nft backend refuses `! -d 0.0.0.0/0` with EINVAL, and as a pod or
/// native-routing CIDR it would make every address part of the cluster.
fn not_everything(cidr: Cidr) -> Result<Cidr, Problem> {
    if cidr.prefix_len() == 0 {
        return Err(Problem::Invalid(format!(
            "`{cidr}` covers every address; a pod or native-routing CIDR must be narrower (iptables cannot match it as written)"
        )));
    }
    Ok(cidr)
}

fn address(text: &str, family: Family) -> Result<IpAddr, Problem> {
    match IpAddr::from_str(text) {
        Ok(addr) if Family::of(addr) == family => Ok(addr),
        _ => Err(Problem::BadAddress {
            text: text.to_string(),
            family,
        }),
    }
}

/// `Some(None)`: the family is off; `None`: it has errors (already recorded).
fn family(
    ck: &mut Checker,
    raw: Option<&Loc<RawFamily>>,
    family: Family,
) -> Option<Option<FamilySpec>> {
    let Some(section) = raw else {
        return Some(None);
    };
    let f = &section.value;
    if f.enabled.as_ref().is_some_and(|e| !e.value) {
        return Some(None);
    }
    let before = ck.errors.len();
    let cidr = |ck: &mut Checker, v: &Option<Loc<String>>| -> Option<Option<Cidr>> {
        match v {
            None => Some(None),
            Some(loc) => ck
                .check(
                    Cidr::parse_in(&loc.value, family)
                        .and_then(not_everything)
                        .map_err(|p| loc.error(p)),
                )
                .map(Some),
        }
    };
    let native_routing_cidr = cidr(ck, &f.native_routing_cidr)?;
    let alloc_cidr = cidr(ck, &f.alloc_cidr)?;
    let host_ip = match &f.host_ip {
        None => None,
        Some(loc) => Some(ck.check(address(&loc.value, family).map_err(|p| loc.error(p)))?),
    };
    let default_set = match family {
        Family::Ipv4 => "cilium_node_set_v4",
        Family::Ipv6 => "cilium_node_set_v6",
    };
    let node_ipset = ck.or(&f.node_ipset, SetName::new(default_set).ok()?, |s| {
        SetName::new(s)
    });
    let mut source_routes = Vec::new();
    for route in f.source_routes.iter().flat_map(|l| &l.value) {
        let dst =
            ck.check(Cidr::parse_in(&route.dst.value, family).map_err(|p| route.dst.error(p)));
        let dev = ck.check(IfName::new(&route.dev.value).map_err(|p| route.dev.error(p)));
        let src = ck.check(address(&route.src.value, family).map_err(|p| route.src.error(p)));
        if let (Some(dst), Some(dev), Some(src)) = (dst, dev, src) {
            source_routes.push(SourceRoute { dst, dev, src });
        }
    }
    let mut node_ips = Vec::new();
    for ip in f.node_ips.iter().flat_map(|l| &l.value) {
        node_ips.extend(ck.check(address(&ip.value, family).map_err(|p| ip.error(p))));
    }
    // enable-ipvX-masquerade defaults to true in the agent.
    let masquerade_on = f.masquerade.as_ref().is_none_or(|m| m.value);
    let masquerade = if masquerade_on {
        let why = |key: &str| {
            section.error(Problem::Invalid(format!(
                "[{}] needs `{key}` while masquerade is on (set `masquerade = false` to render no nat rules)",
                family.key()
            )))
        };
        match (alloc_cidr, host_ip) {
            (Some(alloc_cidr), Some(host_ip)) => Some(Masquerade {
                alloc_cidr,
                host_ip,
            }),
            (alloc, host) => {
                if alloc.is_none() {
                    ck.errors.push(why("alloc_cidr"));
                }
                if host.is_none() {
                    ck.errors.push(why("host_ip"));
                }
                None
            }
        }
    } else {
        None
    };
    if ck.errors.len() > before {
        return None;
    }
    Some(Some(FamilySpec {
        family,
        native_routing_cidr,
        masquerade,
        node_ipset: node_ipset?,
        node_ips,
        source_routes,
    }))
}

fn marks(ck: &mut Checker, raw: Option<&Loc<RawMarks>>) -> Option<Marks> {
    let defaults = Marks::default();
    let Some(section) = raw else {
        return Some(defaults);
    };
    let m = &section.value;
    let before = ck.errors.len();
    let value = |v: &MarkValue| match v {
        MarkValue::Value(v) => Ok(*v),
        MarkValue::Invalid(text) => Err(Problem::BadMark { text: text.clone() }),
    };
    let mut get = |slot: &Option<Loc<MarkValue>>, default: u32| {
        ck.or(slot, default, value).unwrap_or(default)
    };
    let mut marks = Marks {
        to_proxy: get(&m.to_proxy, defaults.to_proxy),
        is_proxy: get(&m.is_proxy, defaults.is_proxy),
        proxy_epid: get(&m.proxy_epid, defaults.proxy_epid),
        host: get(&m.host, defaults.host),
        overlay: get(&m.overlay, defaults.overlay),
        encrypt: get(&m.encrypt, defaults.encrypt),
        decrypt: get(&m.decrypt, defaults.decrypt),
        identity: get(&m.identity, defaults.identity),
        host_mask: get(&m.host_mask, defaults.host_mask),
        proxy_mask: get(&m.proxy_mask, defaults.proxy_mask),
        proxy_noid_mask: get(&m.proxy_noid_mask, defaults.proxy_noid_mask),
        reserved: defaults.reserved.clone(),
    };
    if let Some(list) = &m.reserved {
        marks.reserved = list
            .value
            .iter()
            .filter_map(|l| ck.check(value(&l.value).map_err(|p| l.error(p))))
            .collect();
    }
    if ck.errors.len() > before {
        return None;
    }
    // Where to point a problem with one mark: its key if written, else the section.
    let at = |slot: &Option<Loc<MarkValue>>, problem: Problem| match slot {
        Some(loc) => loc.error(problem),
        None => section.error(problem),
    };
    let reserved: u32 = marks.reserved.iter().fold(0, |acc, r| acc | r);
    // A mark matched under a mask must lie inside it, or the match can never be true.
    let under = [
        (
            "is_proxy",
            marks.is_proxy,
            &m.is_proxy,
            "proxy_mask",
            marks.proxy_mask,
        ),
        (
            "proxy_epid",
            marks.proxy_epid,
            &m.proxy_epid,
            "proxy_mask",
            marks.proxy_mask,
        ),
        (
            "is_proxy",
            marks.is_proxy,
            &m.is_proxy,
            "proxy_noid_mask",
            marks.proxy_noid_mask,
        ),
    ];
    for (name, v, slot, mask_name, mask) in under {
        if v & !mask != 0 {
            ck.errors.push(at(
                slot,
                Problem::Invalid(format!(
                    "{name} {v:#x} has bits outside {mask_name} {mask:#x}, so rules matching it could never match"
                )),
            ));
        }
    }
    let magic = [
        ("to_proxy", marks.to_proxy, &m.to_proxy),
        ("is_proxy", marks.is_proxy, &m.is_proxy),
        ("proxy_epid", marks.proxy_epid, &m.proxy_epid),
        ("host", marks.host, &m.host),
        ("overlay", marks.overlay, &m.overlay),
        ("encrypt", marks.encrypt, &m.encrypt),
        ("decrypt", marks.decrypt, &m.decrypt),
        ("identity", marks.identity, &m.identity),
    ];
    let masks = [
        ("host_mask", marks.host_mask, &m.host_mask),
        ("proxy_mask", marks.proxy_mask, &m.proxy_mask),
    ];
    // The proxy port rides in bits 16..31 of the to-proxy mark (marks::tproxy_match).
    if marks.host_mask & 0xffff_0000 != 0 {
        ck.errors.push(at(
            &m.host_mask,
            Problem::Invalid(format!(
                "host_mask {:#x} reaches into bits 16-31, where Cilium puts the proxy port",
                marks.host_mask
            )),
        ));
    }
    if marks.proxy_mask & !marks.host_mask != 0 {
        ck.errors.push(at(
            &m.proxy_mask,
            Problem::Invalid(format!(
                "proxy_mask {:#x} has bits outside host_mask {:#x}",
                marks.proxy_mask, marks.host_mask
            )),
        ));
    }
    for (name, v, slot) in masks.iter().chain(magic.iter()) {
        if v & reserved != 0 {
            ck.errors.push(at(
                slot,
                Problem::Invalid(format!(
                    "{name} {v:#x} overlaps the reserved bits {:#x} (marks.reserved: bits other software on the node owns)",
                    v & reserved
                )),
            ));
        }
    }
    let mut seen: HashMap<u32, &str> = HashMap::new();
    for (name, v, slot) in magic {
        if v == 0 || v & !marks.host_mask != 0 {
            ck.errors.push(at(
                slot,
                Problem::Invalid(format!(
                    "{name} {v:#x} must be a non-zero value inside host_mask {:#x}",
                    marks.host_mask
                )),
            ));
        } else if let Some(other) = seen.insert(v, name) {
            ck.errors.push(at(
                slot,
                Problem::Invalid(format!(
                    "{name} {v:#x} is the same value as {other}: Cilium tells these marks apart"
                )),
            ));
        }
    }
    (ck.errors.len() == before).then_some(marks)
}

fn proxies(ck: &mut Checker, raw: Option<&Loc<Vec<RawProxy>>>) -> Option<Vec<Proxy>> {
    let before = ck.errors.len();
    let mut names: HashMap<String, &Loc<String>> = HashMap::new();
    let mut ports: HashMap<i64, &Loc<i64>> = HashMap::new();
    let mut out = Vec::new();
    for p in raw.iter().flat_map(|l| &l.value) {
        let name = ck.check(ProxyName::new(&p.name.value).map_err(|e| p.name.error(e)));
        let port = ck.check(Port::new(p.port.value).map_err(|e| p.port.error(e)));
        if let Some(first) = names.insert(p.name.value.clone(), &p.name) {
            ck.errors.push(p.name.error(Problem::Duplicate {
                what: "proxy name",
                text: p.name.value.clone(),
                first: place(first),
            }));
        }
        if let Some(first) = ports.insert(p.port.value, &p.port) {
            ck.errors.push(p.port.error(Problem::Duplicate {
                what: "proxy port",
                text: p.port.value.to_string(),
                first: place(first),
            }));
        }
        let mut protocols = Vec::new();
        match &p.protocols {
            None => protocols.extend(Protocol::ALL),
            Some(list) => {
                if list.value.is_empty() {
                    ck.errors.push(list.error(Problem::Invalid(
                        "a proxy needs at least one protocol (remove the proxy instead)".into(),
                    )));
                }
                for proto in &list.value {
                    if let Some(parsed) =
                        ck.check(Protocol::parse(&proto.value).map_err(|e| proto.error(e)))
                    {
                        if protocols.contains(&parsed) {
                            ck.errors.push(proto.error(Problem::Invalid(format!(
                                "protocol `{parsed}` is listed twice"
                            ))));
                        }
                        protocols.push(parsed);
                    }
                }
            }
        }
        if let (Some(name), Some(port)) = (name, port) {
            out.push(Proxy {
                name,
                port,
                protocols,
            });
        }
    }
    (ck.errors.len() == before).then_some(out)
}

/// "file:line:col" of a value, for messages that point at a second place.
fn place<T>(loc: &Loc<T>) -> String {
    let (line, col) = loc.error(Problem::Invalid(String::new())).line_col();
    format!("{}:{line}:{col}", loc.source.name)
}
