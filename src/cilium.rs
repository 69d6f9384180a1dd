//! Which rules Cilium installs on a node, decided on typed data: `build` turns a `NodeSpec` into
//! the `RuleSet` of one address family, chain by chain in the agent's installation order
//! (`Manager.installRules` in pkg/datapath/iptables/iptables.go, reference/cilium-rules.md §2).
//! Release-dependent facts come from `release`; nothing here knows about text layout.

use crate::error::{Error, Problem};
use crate::marks::{EGRESS_PROXY, MULTINODE_NODEPORT, Mark, tproxy_match};
use crate::names::{ChainName, Comment, IfName};
use crate::net::{Cidr, Family, Protocol};
use crate::rules::{Chain, Match, Rule, RuleSet, Table, TableRules, Target};
use crate::spec::{FamilySpec, NodeSpec, RoutingMode};

/// The rule set for `family`, or `FamilyMissing` when the config does not describe it.
pub fn build(spec: &NodeSpec, family: Family) -> Result<RuleSet, Error> {
    let fam = spec.family(family)?;
    let mut chains = Chains::new(spec, fam).map_err(Error::Rule)?;
    let mut tables = Vec::new();
    for table in Table::ALL {
        let defs: Vec<_> = spec
            .release
            .chains
            .iter()
            .filter(|d| d.table == table && d.in_family(family))
            .collect();
        if defs.is_empty() {
            continue;
        }
        let mut out = Vec::new();
        for hook in table.builtins() {
            let mut rules = Vec::new();
            let fed = !spec.datapath.disabled_feeders.contains(hook);
            for def in defs.iter().filter(|d| d.hook == *hook && fed) {
                rules.push(feeder(def.name).map_err(Error::Rule)?);
            }
            out.push(Chain {
                name: ChainName::new(hook).map_err(Error::Rule)?,
                builtin: true,
                rules,
            });
        }
        let mut own = Vec::new();
        for def in &defs {
            own.push(Chain {
                name: ChainName::new(def.name).map_err(Error::Rule)?,
                builtin: false,
                rules: chains.take(def.name),
            });
        }
        own.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(own);
        tables.push(TableRules { table, chains: out });
    }
    Ok(RuleSet {
        family,
        tables,
        prepend_feeders: spec.datapath.prepend_feeders,
    })
}

/// `-m comment --comment "cilium-feeder: CHAIN" -j CHAIN` (feederDescription in iptables.go).
fn feeder(chain: &str) -> Result<Rule, Problem> {
    Ok(Rule::new(Target::Jump(ChainName::new(chain)?))
        .comment(Comment::new(format!("cilium-feeder: {chain}"))?)
        .because(
            format!("sends this hook's packets through {chain} first (the agent prepends it)"),
            &["cilium"],
        ))
}

/// The contents of Cilium's own chains for one family.
struct Chains {
    pre_raw: Vec<Rule>,
    output_raw: Vec<Rule>,
    pre_mangle: Vec<Rule>,
    input: Vec<Rule>,
    output: Vec<Rule>,
    forward: Vec<Rule>,
    post_nat: Vec<Rule>,
    output_nat: Vec<Rule>,
    pre_nat: Vec<Rule>,
}

impl Chains {
    /// Hands over a chain's rules; each of Cilium's chains appears once per family.
    fn take(&mut self, chain: &str) -> Vec<Rule> {
        let rules = match chain {
            "CILIUM_PRE_raw" => &mut self.pre_raw,
            "CILIUM_OUTPUT_raw" => &mut self.output_raw,
            "CILIUM_PRE_mangle" => &mut self.pre_mangle,
            "CILIUM_INPUT" => &mut self.input,
            "CILIUM_OUTPUT" => &mut self.output,
            "CILIUM_FORWARD" => &mut self.forward,
            "CILIUM_POST_nat" => &mut self.post_nat,
            "CILIUM_OUTPUT_nat" => &mut self.output_nat,
            "CILIUM_PRE_nat" => &mut self.pre_nat,
            // CILIUM_POST_mangle is created and fed but stays empty.
            _ => return Vec::new(),
        };
        std::mem::take(rules)
    }

    fn new(spec: &NodeSpec, fam: &FamilySpec) -> Result<Chains, Problem> {
        let m = &spec.marks;
        let dev = &spec.devices;
        let family = fam.family;
        let c = |text: &str| Comment::new(text);

        // Pod-CIDR NOTRACK (addNoTrackPodTrafficRules): IPv4 only, with the native-routing
        // CIDR, inserted at the top of both raw chains; `-d` ends up before `-s`.
        let mut pod_notrack = Vec::new();
        if spec.datapath.no_conntrack_pod_rules
            && spec.datapath.routing == RoutingMode::Native
            && family == Family::Ipv4
            && let Some(nrc) = fam.native_routing_cidr
        {
            let why = c("cilium: NOTRACK for pod traffic")?;
            let because = "pod traffic in the native-routing CIDR skips conntrack";
            let keys = &[
                "ipv4.native_routing_cidr",
                "datapath.install_no_conntrack_rules",
                "datapath.routing_mode",
            ];
            let rule = Rule::new(Target::Notrack);
            pod_notrack.push(
                rule.clone()
                    .dst(nrc)
                    .comment(why.clone())
                    .because(because, keys),
            );
            pod_notrack.push(rule.src(nrc).comment(why).because(because, keys));
        }

        let release = &spec.release;
        let dp = &spec.datapath;
        let v4 = family == Family::Ipv4;
        // installStaticProxyRules: only with the L7 proxy on.
        let l7 = dp.l7_proxy;

        let mut pre_raw = pod_notrack.clone();
        if dp.ipsec {
            // addCiliumNoTrackXfrmRules inserts 0xe00 then 0xd00 at the top, before the pod
            // rules are inserted above them: the chain reads pod rules, 0xd00, 0xe00.
            for mark in [m.decrypt, m.encrypt] {
                pre_raw.push(
                    Rule::new(Target::Notrack)
                        .mark(Mark::new(mark, m.host_mask))
                        .comment(c("cilium-xfrm-notrack:")?)
                        .because(
                            "IPsec packets (decrypted, to be encrypted) skip conntrack",
                            &["datapath.enable_ipsec", "marks.decrypt", "marks.encrypt"],
                        ),
                );
            }
        }
        if l7 {
            pre_raw.push(
                Rule::new(Target::Notrack)
                    .mark(Mark::new(m.to_proxy, m.host_mask))
                    .comment(c("cilium: NOTRACK for proxy traffic")?)
                    .because(
                        "traffic the BPF programs marked for a proxy skips conntrack",
                        &[
                            "marks.to_proxy",
                            "marks.host_mask",
                            "datapath.enable_l7_proxy",
                        ],
                    ),
            );
        }

        // Proxy return traffic; the IPv6 block lists cilium_host before the endpoints.
        let devices: [&IfName; 2] = match family {
            Family::Ipv4 => [&dev.endpoints, &dev.host],
            Family::Ipv6 => [&dev.host, &dev.endpoints],
        };
        let mut output_raw = pod_notrack;
        if l7 {
            for d in devices {
                output_raw.push(
                    Rule::new(Target::Notrack)
                        .out_if(d)
                        .mark(Mark::new(m.is_proxy, m.proxy_noid_mask))
                        .comment(c("cilium: NOTRACK for proxy return traffic")?)
                        .because(
                            format!("proxy replies towards pods via {d} skip conntrack"),
                            &[
                                "devices.endpoints",
                                "devices.host",
                                "marks.is_proxy",
                                "marks.proxy_noid_mask",
                            ],
                        ),
                );
            }
            if v4 && dp.ipsec && release.ipsec_proxy_forward_notrack {
                output_raw.push(
                    Rule::new(Target::Notrack)
                        .out_if(&dev.host)
                        .mark(Mark::new(EGRESS_PROXY, m.host_mask))
                        .comment(c("cilium: NOTRACK for proxy forward traffic")?)
                        .because(
                            "with IPsec, egress-proxy traffic forwarded to cilium_host skips conntrack",
                            &["datapath.enable_ipsec", "devices.host", "cilium"],
                        ),
                );
            }
            if v4 && release.proxy_upstream_rules {
                for d in devices {
                    output_raw.push(
                        Rule::new(Target::Notrack)
                            .out_if(d)
                            .mark(Mark::new(m.proxy_epid, m.proxy_mask))
                            .comment(c("cilium: NOTRACK for L7 proxy upstream traffic")?)
                            .because(
                                format!("the proxy's upstream connections via {d} skip conntrack"),
                                &[
                                    "cilium",
                                    "devices.endpoints",
                                    "devices.host",
                                    "marks.proxy_epid",
                                    "marks.proxy_mask",
                                ],
                            ),
                    );
                }
            }
        }

        let mut pre_mangle = Vec::new();
        if l7 && dp.xt_socket {
            let mut rule =
                Rule::new(Target::SetMark(Mark::exact(m.to_proxy))).with(Match::SocketTransparent);
            if release.socket_mark_exclusions {
                rule = rule
                    .not_mark(Mark::new(m.encrypt, m.host_mask))
                    .not_mark(Mark::new(m.proxy_epid, m.host_mask));
            }
            pre_mangle.push(
                rule.comment(c("cilium: any->pod redirect proxied traffic to host proxy")?)
                    .because(
                        "packets of connections a transparent proxy socket owns get the to-proxy mark, so policy routing delivers them locally",
                        &["marks.to_proxy", "datapath.xt_socket", "datapath.enable_l7_proxy", "cilium"],
                    ),
            );
        }
        let on_ip = if release.tproxy_on_loopback {
            family.loopback()
        } else {
            family.unspecified()
        };
        // addCiliumENIRules (IPv4): connmark multi-node NodePort traffic on the primary ENI and
        // restore it on the endpoints; Cilium writes `lxc+` here whatever the endpoint device.
        if let (true, Some(eni)) = (v4, &dp.eni_primary_interface) {
            let why = c("cilium: primary ENI")?;
            let keys: &[&'static str] = &["datapath.eni_primary_interface"];
            pre_mangle.push(
                Rule::new(Target::ConnmarkSet(Mark::new(
                    MULTINODE_NODEPORT,
                    MULTINODE_NODEPORT,
                )))
                .in_if(eni)
                .comment(why.clone())
                .with(Match::AddrTypeLocalIn)
                .because(
                    "NodePort traffic arriving on the primary ENI gets a connmark",
                    keys,
                ),
            );
            pre_mangle.push(
                Rule::new(Target::ConnmarkRestore(MULTINODE_NODEPORT))
                    .in_if(&IfName::new("lxc+")?)
                    .comment(why)
                    .because("replies from pods get the connmark back, so they leave by the ENI they came in", keys),
            );
        }
        let proxies = if l7 && !dp.bpf_tproxy {
            &spec.proxies[..]
        } else {
            &[]
        };
        // The agent adds TPROXY pairs as listeners register (DNS first in practice); here they
        // follow the config's proxy order, which the operator controls.
        for proxy in proxies {
            let why = Comment::new(format!("cilium: TPROXY to host {} proxy", proxy.name))?;
            for proto in &proxy.protocols {
                pre_mangle.push(
                    Rule::new(Target::Tproxy {
                        port: proxy.port,
                        on_ip,
                        mark: Mark::exact(m.to_proxy),
                    })
                    .proto(*proto)
                    .mark(Mark::exact(tproxy_match(m.to_proxy, proxy.port)))
                    .comment(why.clone())
                    .because(
                        format!(
                            "{proto} packets marked for port {} go to proxy {} (mark = htons(port) << 16 | to_proxy)",
                            proxy.port, proxy.name
                        ),
                        &["proxy.name", "proxy.port", "proxy.protocols", "marks.to_proxy", "cilium", "datapath.enable_bpf_tproxy"],
                    ),
                );
            }
        }

        let mut input = Vec::new();
        let mut output = Vec::new();
        if l7 {
            input.push(
                Rule::new(Target::Accept)
                    .mark(Mark::new(m.to_proxy, m.host_mask))
                    .comment(c("cilium: ACCEPT for proxy traffic")?)
                    .because(
                        "traffic redirected to a proxy is accepted on input",
                        &[
                            "marks.to_proxy",
                            "marks.host_mask",
                            "datapath.enable_l7_proxy",
                        ],
                    ),
            );
            output.push(
                if release.output_accepts_proxy_mask {
                    Rule::new(Target::Accept)
                        .mark(Mark::new(m.is_proxy, m.proxy_mask))
                        .comment(c("cilium: ACCEPT for proxy traffic")?)
                } else {
                    Rule::new(Target::Accept)
                        .mark(Mark::new(m.is_proxy, m.proxy_noid_mask))
                        .comment(c("cilium: ACCEPT for proxy return traffic")?)
                }
                .because(
                    "replies a proxy sends are accepted on output",
                    &[
                        "marks.is_proxy",
                        "marks.proxy_mask",
                        "marks.proxy_noid_mask",
                        "cilium",
                    ],
                ),
            );
            if v4 && release.proxy_upstream_rules {
                output.push(
                    Rule::new(Target::Accept)
                        .mark(Mark::new(m.proxy_epid, m.proxy_mask))
                        .comment(c("cilium: ACCEPT for l7 proxy upstream traffic")?)
                        .because(
                            "the proxy's upstream connections are accepted on output",
                            &["marks.proxy_epid", "marks.proxy_mask", "cilium"],
                        ),
                );
            }
        }
        input.extend(xfrm_accepts(spec, "filter", "CILIUM_INPUT")?);
        output.extend(xfrm_accepts(spec, "filter", "CILIUM_OUTPUT")?);
        // installHostTrafficMarkRule: mark the host's own traffic, except what other parts of
        // the datapath already marked.
        let mut exclusions = vec![
            Mark::new(m.encrypt, m.host_mask),
            Mark::new(m.decrypt, m.host_mask),
        ];
        if release.host_mark_extended {
            exclusions.push(Mark::new(m.overlay, m.host_mask));
        }
        exclusions.push(Mark::new(m.is_proxy, m.proxy_mask));
        if release.host_mark_extended {
            exclusions.push(Mark::new(m.proxy_epid, m.proxy_mask));
            exclusions.push(Mark::new(m.identity, m.host_mask));
        }
        let mut host_mark = Rule::new(Target::SetMark(Mark::new(m.host, m.host_mask)));
        for mark in exclusions {
            host_mark = host_mark.not_mark(mark);
        }
        output.push(
            host_mark
                .comment(c("cilium: host->any mark as from host")?)
                .because(
                    "the host's own traffic is marked from-host, unless another part of the datapath marked it",
                    &["marks.host", "marks.encrypt", "marks.decrypt", "marks.is_proxy", "marks.proxy_mask", "cilium"],
                ),
        );

        // Accept forwarded traffic on Cilium's devices (installForwardChainRules); with
        // endpoint routes the delivery interface gets its own pair.
        let dlv = spec.delivery_interface();
        let mut accepts = vec![
            (true, &dev.host, "any->cluster on {} forward accept"),
            (
                false,
                &dev.host,
                "cluster->any on {} forward accept (nodeport)",
            ),
            (false, &dev.endpoints, "cluster->any on {} forward accept"),
            (
                false,
                &dev.net,
                "cluster->any on {} forward accept (nodeport)",
            ),
        ];
        if dlv != &dev.host {
            accepts.push((true, dlv, "any->cluster on {} forward accept"));
            accepts.push((false, dlv, "cluster->any on {} forward accept (nodeport)"));
        }
        let mut forward = xfrm_accepts(spec, "filter", "CILIUM_FORWARD")?;
        for (outgoing, device, text) in accepts {
            let rule = Rule::new(Target::Accept);
            let rule = if outgoing {
                rule.out_if(device)
            } else {
                rule.in_if(device)
            };
            let why = format!("cilium: {}", text.replace("{}", device.as_str()));
            forward.push(rule.comment(Comment::new(why)?).because(
                format!("forwarded traffic on Cilium's device {device} is accepted, even under a DROP policy"),
                &["devices.host", "devices.net", "devices.endpoints", "datapath.enable_endpoint_routes"],
            ));
        }

        // endpointNoTrackRules, appended after everything else: per pod and protocol (tcp,
        // then udp), to and from the annotated port, skipping conntrack and accepting. Not for
        // IPv4 pods when all IPv4 pod traffic already skips conntrack (skipPodTrafficConntrack).
        for pod in &spec.no_track_pods {
            if Family::of(pod.ip) != family || (v4 && dp.no_conntrack_pod_rules) {
                continue;
            }
            let host = Cidr::host(pod.ip);
            for proto in Protocol::ALL {
                let port = |source| Match::Port {
                    proto,
                    source,
                    port: pod.port,
                };
                let to = |target| Rule::new(target).dst(host).proto(proto).with(port(false));
                let from = |target| Rule::new(target).src(host).proto(proto).with(port(true));
                let keys: &[&'static str] = &["no_track_pod.ip", "no_track_pod.port"];
                let why = |what: &str| {
                    format!(
                        "{what} pod {} port {} ({proto}): policy.cilium.io/no-track-port",
                        pod.ip, pod.port
                    )
                };
                pre_raw.push(to(Target::Notrack).because(why("traffic to"), keys));
                forward.push(to(Target::Accept).because(why("forwarded traffic to"), keys));
                pre_raw.push(from(Target::Notrack).because(why("traffic from"), keys));
                forward.push(from(Target::Accept).because(why("forwarded traffic from"), keys));
                output_raw.push(to(Target::Notrack).because(why("host traffic to"), keys));
                output.push(to(Target::Accept).because(why("host traffic to"), keys));
                input.push(from(Target::Accept).because(why("replies to the host from"), keys));
                output_raw
                    .push(from(Target::Notrack).because(why("host-namespace traffic from"), keys));
                output.push(from(Target::Accept).because(why("host-namespace traffic from"), keys));
                input.push(to(Target::Accept).because(why("host-namespace traffic to"), keys));
            }
        }

        Ok(Chains {
            pre_raw,
            output_raw,
            pre_mangle,
            input,
            output,
            forward,
            post_nat: [
                xfrm_accepts(spec, "nat", "CILIUM_POST_nat")?,
                post_nat(spec, fam)?,
            ]
            .concat(),
            output_nat: xfrm_accepts(spec, "nat", "CILIUM_OUTPUT_nat")?,
            pre_nat: xfrm_accepts(spec, "nat", "CILIUM_PRE_nat")?,
        })
    }
}

/// addCiliumAcceptXfrmRules: with IPsec, every filter and nat chain of Cilium's first accepts
/// IPsec-marked packets, decrypt (0xd00) then encrypt (0xe00), so that no later rule (nor
/// kube-proxy's, whose marks collide with the key ID bits) touches them.
fn xfrm_accepts(spec: &NodeSpec, table: &str, chain: &str) -> Result<Vec<Rule>, Problem> {
    if !spec.datapath.ipsec {
        return Ok(Vec::new());
    }
    let m = &spec.marks;
    let why = Comment::new(format!("exclude xfrm marks from {table} {chain} chain"))?;
    Ok([m.decrypt, m.encrypt]
        .into_iter()
        .map(|mark| {
            Rule::new(Target::Accept)
                .mark(Mark::new(mark, m.host_mask))
                .comment(why.clone())
                .because(
                    "IPsec packets pass Cilium's filter and nat chains untouched",
                    &["datapath.enable_ipsec", "marks.decrypt", "marks.encrypt"],
                )
        })
        .collect())
}

/// enable-masquerade-to-route-source: instead of the catch-all MASQUERADE, SNAT pod traffic to
/// the preferred source of the route it leaves by. Routes to the exclusion CIDR are skipped and
/// default routes come last, matching `! -d <exclusion>` (installMasqueradeRules).
fn route_source_snat(
    spec: &NodeSpec,
    fam: &FamilySpec,
    masq: &crate::spec::Masquerade,
) -> Result<Vec<Rule>, Problem> {
    let exclusion = masq.exclusion(fam);
    let (defaults, specific): (Vec<_>, Vec<_>) = fam
        .source_routes
        .iter()
        .filter(|r| r.dst != exclusion)
        .partition(|r| r.dst.prefix_len() == 0);
    let why = Comment::new("cilium snat non-cluster via source route")?;
    let mut rules = Vec::new();
    for route in specific.into_iter().chain(defaults) {
        let rule = Rule::new(Target::Snat {
            to: route.src,
            random_fully: spec.datapath.random_fully,
        })
        .src(masq.alloc_cidr);
        let rule = if route.dst.prefix_len() == 0 {
            rule.not_dst(exclusion)
        } else {
            rule.dst(route.dst)
        };
        rules.push(rule.out_if(&route.dev).comment(why.clone()).because(
            format!(
                "pod traffic leaving by {} takes that route's source {}",
                route.dev, route.src
            ),
            &[
                "datapath.enable_masquerade_to_route_source",
                "ipvX.source_routes",
                "ipvX.alloc_cidr",
            ],
        ));
    }
    Ok(rules)
}

/// installMasqueradeRules: only with iptables masquerading on for this family.
fn post_nat(spec: &NodeSpec, fam: &FamilySpec) -> Result<Vec<Rule>, Problem> {
    let Some(masq) = fam
        .masquerade
        .as_ref()
        .filter(|_| !spec.datapath.bpf_masquerade)
    else {
        return Ok(Vec::new());
    };
    let dlv = spec.delivery_interface();
    let egress = spec.datapath.masquerade_interface.as_ref();
    let m = &spec.marks;
    let host = &spec.devices.host;
    let family = fam.family;
    let loopback = family.loopback();
    let mut rules = Vec::new();
    // The node ipset is needed only without tunneling (NodeIpsetNeeded).
    if spec.datapath.routing == RoutingMode::Native {
        let rule = Rule::new(Target::Accept);
        // With egress-masquerade-interfaces the output interface selects, not the pod CIDR.
        let rule = match egress {
            Some(iface) => rule.out_if(iface),
            None => rule.src(masq.alloc_cidr),
        };
        rules.push(
            rule.with(Match::SetDst(fam.node_ipset.clone()))
                .comment(Comment::new(
                    "exclude traffic to cluster nodes from masquerade",
                )?)
                .because(
                    "pod traffic to other nodes keeps its pod address (native routing)",
                    &[
                        "ipvX.node_ipset",
                        "ipvX.alloc_cidr",
                        "datapath.routing_mode",
                    ],
                ),
        );
    }
    // "cilium_+" is Cilium's own device prefix, not the configurable host device.
    if spec.datapath.masquerade_route_source {
        rules.extend(route_source_snat(spec, fam, masq)?);
    } else {
        let rule = Rule::new(Target::Masquerade {
            random_fully: spec.datapath.random_fully,
        });
        let rule = match egress {
            Some(iface) => rule.not_dst(masq.exclusion(fam)).out_if(iface),
            None => rule
                .src(masq.alloc_cidr)
                .not_dst(masq.exclusion(fam))
                .not_out_if(&IfName::new("cilium_+")?),
        };
        rules.push(
            rule.comment(Comment::new("cilium masquerade non-cluster")?)
                .because(
                    "pod traffic leaving the cluster is masqueraded to the node's address",
                    &[
                        "ipvX.masquerade",
                        "ipvX.alloc_cidr",
                        "ipvX.native_routing_cidr",
                    ],
                ),
        );
    }
    rules.push(
        Rule::new(Target::Accept)
            .mark(Mark::new(m.is_proxy, m.proxy_mask))
            .comment(Comment::new(
                "exclude proxy return traffic from masquerade",
            )?)
            .because(
                "proxy replies keep their addresses",
                &["marks.is_proxy", "marks.proxy_mask"],
            ),
    );
    if spec.datapath.routing == RoutingMode::Tunnel {
        rules.push(
            Rule::new(Target::snat(masq.host_ip))
                .not_src(masq.alloc_cidr)
                .not_dst(masq.alloc_cidr)
                .out_if(host)
                .comment(Comment::new("cilium host->cluster masquerade")?)
                .because(
                    "in tunnel mode, host traffic into the cluster takes the cilium_host address",
                    &["datapath.routing_mode", "ipvX.host_ip", "ipvX.alloc_cidr"],
                ),
        );
    }
    rules.push(
        Rule::new(Target::snat(masq.host_ip))
            .src(Cidr::host(loopback))
            .out_if(dlv)
            .comment(Comment::new(format!(
                "cilium host->cluster from {loopback} masquerade"
            ))?)
            .because(
                "host traffic from loopback to pods takes the cilium_host address",
                &["ipvX.host_ip", "devices.host"],
            ),
    );
    // Hairpin SNAT only without endpoint routes, where dlv is cilium_host.
    if spec.datapath.endpoint_routes {
        return Ok(rules);
    }
    rules.push(
        Rule::new(Target::snat(masq.host_ip))
            .out_if(dlv)
            .mark(Mark::new(m.identity, m.host_mask))
            .with(Match::CtStateDnat)
            .comment(Comment::new(
                "hairpin traffic that originated from a local pod",
            )?)
            .because(
                "a pod reaching itself through a service address is SNATed so the reply returns",
                &["ipvX.host_ip", "marks.identity", "marks.host_mask"],
            ),
    );
    Ok(rules)
}
