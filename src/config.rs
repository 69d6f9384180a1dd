//! The config as written: TOML files deserialized into plain structs whose every value keeps the
//! file and byte span it came from (`Loc`). Several files merge in order, later keys winning
//! (tables merge key by key, arrays are replaced whole). Nothing here judges values; `spec`
//! validates the merged result into a `NodeSpec`.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::error::{ConfigError, Error, Problem, Source};

/// The embedded default config: the reference node, spelled out in full with comments.
pub const DEFAULT_CONFIG: &str = include_str!("../examples/reference-node.toml");
pub const DEFAULT_CONFIG_NAME: &str = "<embedded default: examples/reference-node.toml>";

thread_local! {
    /// The source being deserialized, so every `Loc` can record which file it came from
    /// (serde gives a deserializer no way to carry that context itself).
    static CURRENT_SOURCE: RefCell<Option<Source>> = const { RefCell::new(None) };
}

/// A value with the place it was written.
#[derive(Debug, Clone)]
pub struct Loc<T> {
    pub value: T,
    pub span: Range<usize>,
    pub source: Source,
}

impl<T> Loc<T> {
    /// This value's place with a problem attached.
    pub fn error(&self, problem: Problem) -> ConfigError {
        ConfigError {
            source: self.source.clone(),
            span: self.span.clone(),
            problem,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loc<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<T>::deserialize(deserializer)?;
        let source = CURRENT_SOURCE
            .with(|s| s.borrow().clone())
            .ok_or_else(|| de::Error::custom("config value read outside config::parse"))?;
        let span = spanned.span();
        Ok(Loc {
            value: spanned.into_inner(),
            span,
            source,
        })
    }
}

/// In the JSON Schema a located value is just its value.
impl<T: JsonSchema> JsonSchema for Loc<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl JsonSchema for MarkValue {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Mark".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A 32-bit packet mark: an integer (0x200) or a string (\"0x200\", \"512\")",
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 4294967295u64},
                {"type": "string", "pattern": "^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$"}
            ]
        })
    }
}

/// A mark as written: a TOML integer (`0x200`) or a string (`"0x200"`, `"512"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkValue {
    Value(u32),
    /// The text as written, kept so `spec` can report it with its location.
    Invalid(String),
}

impl<'de> Deserialize<'de> for MarkValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MarkVisitor;
        impl Visitor<'_> for MarkVisitor {
            type Value = MarkValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mark: an integer such as 0x200, or a string such as \"0x200\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MarkValue, E> {
                Ok(u32::try_from(v)
                    .map_or_else(|_| MarkValue::Invalid(v.to_string()), MarkValue::Value))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MarkValue, E> {
                Ok(u32::try_from(v)
                    .map_or_else(|_| MarkValue::Invalid(v.to_string()), MarkValue::Value))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MarkValue, E> {
                let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => v.parse::<u32>(),
                };
                Ok(parsed.map_or_else(|_| MarkValue::Invalid(v.to_string()), MarkValue::Value))
            }
        }
        deserializer.deserialize_any(MarkVisitor)
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The Cilium release line whose rule set is rendered ("1.11").
    pub cilium: Option<Loc<String>>,
    /// IPv4: rendered only when this section is present.
    pub ipv4: Option<Loc<RawFamily>>,
    /// IPv6: rendered only when this section is present.
    pub ipv6: Option<Loc<RawFamily>>,
    /// Cilium's network devices.
    pub devices: Option<Loc<RawDevices>>,
    /// Agent options that change the rules.
    pub datapath: Option<Loc<RawDatapath>>,
    /// Cilium's magic packet marks (linux_defaults/mark.go).
    pub marks: Option<Loc<RawMarks>>,
    /// L7 proxy listeners, one TPROXY rule per protocol each.
    pub proxy: Option<Loc<Vec<RawProxy>>>,
    /// TPROXY policy routing.
    pub routing: Option<Loc<RawRouting>>,
    /// Pods with the `policy.cilium.io/no-track-port` annotation (node-local-dns).
    pub no_track_pod: Option<Loc<Vec<RawNoTrackPod>>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNoTrackPod {
    /// The pod's IPv4 or IPv6 address.
    pub ip: Loc<String>,
    /// The annotated port; TCP and UDP both skip conntrack.
    pub port: Loc<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFamily {
    /// Set to false to turn the family off.
    pub enabled: Option<Loc<bool>>,
    /// ipvX-native-routing-cidr: never masqueraded; pod NOTRACK scope (IPv4).
    pub native_routing_cidr: Option<Loc<String>>,
    /// This node's pod CIDR: the masqueraded sources.
    pub alloc_cidr: Option<Loc<String>>,
    /// The cilium_host address: the SNAT target.
    pub host_ip: Option<Loc<String>>,
    /// enable-ipvX-masquerade in iptables mode (default true).
    pub masquerade: Option<Loc<bool>>,
    /// The ipset of cluster node addresses.
    pub node_ipset: Option<Loc<String>>,
    /// Members of the node ipset.
    pub node_ips: Option<Loc<Vec<Loc<String>>>>,
    /// With enable_masquerade_to_route_source: the node's routes that have a preferred source
    /// on a native device, as `ip route` shows them.
    pub source_routes: Option<Loc<Vec<RawSourceRoute>>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSourceRoute {
    /// The route's destination (`0.0.0.0/0` for the default route).
    pub dst: Loc<String>,
    /// The device it leaves through.
    pub dev: Loc<String>,
    /// Its preferred source address (`src` in `ip route`): the SNAT address.
    pub src: Loc<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDevices {
    pub host: Option<Loc<String>>,
    pub net: Option<Loc<String>>,
    pub endpoints: Option<Loc<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatapath {
    /// routing-mode: "native" or "tunnel" (default).
    pub routing_mode: Option<Loc<String>>,
    /// install-no-conntrack-iptables-rules (needs native routing).
    pub install_no_conntrack_rules: Option<Loc<bool>>,
    /// enable-l7-proxy (default true): false renders no proxy rules and no TPROXY.
    pub enable_l7_proxy: Option<Loc<bool>>,
    /// enable-bpf-tproxy (default false): BPF assigns sockets, so no TPROXY rules.
    pub enable_bpf_tproxy: Option<Loc<bool>>,
    /// Whether the kernel has xt_socket (default true); without it there is no socket rule.
    pub xt_socket: Option<Loc<bool>>,
    /// enable-bpf-masquerade (default false): BPF masquerades, so no nat rules.
    pub enable_bpf_masquerade: Option<Loc<bool>>,
    /// iptables-random-fully (default false): MASQUERADE --random-fully.
    pub iptables_random_fully: Option<Loc<bool>>,
    /// egress-masquerade-interfaces: masquerade by output interface instead of pod CIDR.
    pub egress_masquerade_interfaces: Option<Loc<Vec<Loc<String>>>>,
    /// prepend-iptables-chains (default true): feeders go to the top of builtin chains.
    pub prepend_iptables_chains: Option<Loc<bool>>,
    /// disable-iptables-feeder-rules: builtin chains (hooks) that get no feeder.
    pub disable_iptables_feeder_rules: Option<Loc<Vec<Loc<String>>>>,
    /// enable-endpoint-routes (default false): packets reach pods via their own devices, so
    /// the delivery interface is the endpoint device instead of cilium_host.
    pub enable_endpoint_routes: Option<Loc<bool>>,
    /// enable-ipsec (default false): xfrm NOTRACK and ACCEPT rules.
    pub enable_ipsec: Option<Loc<bool>>,
    /// enable-masquerade-to-route-source: SNAT to each route's preferred source instead of the
    /// catch-all MASQUERADE (list the routes in `[ipvX] source_routes`).
    pub enable_masquerade_to_route_source: Option<Loc<bool>>,
    /// cni-chaining-mode=aws-cni: with endpoint routes, pods sit behind aws-cni's `eni…` devices.
    pub aws_cni_chaining: Option<Loc<bool>>,
    /// ENI (or AlibabaCloud) IPAM: the device with the default route, which gets the
    /// "primary ENI" CONNMARK rules (IPv4).
    pub eni_primary_interface: Option<Loc<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMarks {
    pub to_proxy: Option<Loc<MarkValue>>,
    pub is_proxy: Option<Loc<MarkValue>>,
    pub proxy_epid: Option<Loc<MarkValue>>,
    pub host: Option<Loc<MarkValue>>,
    pub overlay: Option<Loc<MarkValue>>,
    pub encrypt: Option<Loc<MarkValue>>,
    pub decrypt: Option<Loc<MarkValue>>,
    pub identity: Option<Loc<MarkValue>>,
    pub host_mask: Option<Loc<MarkValue>>,
    pub proxy_mask: Option<Loc<MarkValue>>,
    pub proxy_noid_mask: Option<Loc<MarkValue>>,
    pub reserved: Option<Loc<Vec<Loc<MarkValue>>>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    /// The listener name Cilium uses (cilium-dns-egress, cilium-http-ingress, ...).
    pub name: Loc<String>,
    /// The listener port, 1 to 65535.
    pub port: Loc<i64>,
    /// "tcp" and/or "udp" (default both).
    pub protocols: Option<Loc<Vec<Loc<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// RouteTableToProxy (default 2004).
    pub table: Option<Loc<i64>>,
    /// RulePriorityToProxyIngress (default 9).
    pub priority: Option<Loc<i64>>,
}

/// Later layers win key by key.
trait Merge {
    fn merge(&mut self, later: Self);
}

fn leaf<T>(slot: &mut Option<T>, later: Option<T>) {
    if later.is_some() {
        *slot = later;
    }
}

fn section<T: Merge>(slot: &mut Option<Loc<T>>, later: Option<Loc<T>>) {
    match (slot.as_mut(), later) {
        (Some(current), Some(later)) => {
            current.value.merge(later.value);
            current.span = later.span;
            current.source = later.source;
        }
        (None, Some(later)) => *slot = Some(later),
        (_, None) => {}
    }
}

macro_rules! merge_leaves {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl Merge for $ty {
            fn merge(&mut self, later: Self) {
                $(leaf(&mut self.$field, later.$field);)*
            }
        }
    };
}

merge_leaves!(RawFamily {
    enabled,
    native_routing_cidr,
    alloc_cidr,
    host_ip,
    masquerade,
    node_ipset,
    node_ips,
    source_routes,
});
merge_leaves!(RawDevices {
    host,
    net,
    endpoints
});
merge_leaves!(RawDatapath {
    routing_mode,
    install_no_conntrack_rules,
    enable_l7_proxy,
    enable_bpf_tproxy,
    xt_socket,
    enable_bpf_masquerade,
    iptables_random_fully,
    egress_masquerade_interfaces,
    prepend_iptables_chains,
    disable_iptables_feeder_rules,
    enable_endpoint_routes,
    enable_ipsec,
    eni_primary_interface,
    enable_masquerade_to_route_source,
    aws_cni_chaining,
});
merge_leaves!(RawMarks {
    to_proxy,
    is_proxy,
    proxy_epid,
    host,
    overlay,
    encrypt,
    decrypt,
    identity,
    host_mask,
    proxy_mask,
    proxy_noid_mask,
    reserved,
});
merge_leaves!(RawRouting { table, priority });

impl RawConfig {
    /// Layers `later` over `self`.
    pub fn merge(&mut self, later: RawConfig) {
        leaf(&mut self.cilium, later.cilium);
        section(&mut self.ipv4, later.ipv4);
        section(&mut self.ipv6, later.ipv6);
        section(&mut self.devices, later.devices);
        section(&mut self.datapath, later.datapath);
        section(&mut self.marks, later.marks);
        // A proxy list is replaced whole, so a later file can also remove proxies.
        leaf(&mut self.proxy, later.proxy);
        section(&mut self.routing, later.routing);
        leaf(&mut self.no_track_pod, later.no_track_pod);
    }
}

/// Parses one source. Deserializes straight from the text: going through `toml::Table` or
/// `#[serde(flatten)]` would lose the spans.
pub fn parse(source: &Source) -> Result<RawConfig, ConfigError> {
    CURRENT_SOURCE.with(|s| *s.borrow_mut() = Some(source.clone()));
    let parsed = toml::from_str::<RawConfig>(&source.text);
    CURRENT_SOURCE.with(|s| *s.borrow_mut() = None);
    parsed.map_err(|e| ConfigError {
        source: source.clone(),
        span: e.span().unwrap_or(0..0),
        problem: toml_problem(e.message()),
    })
}

/// serde words an unknown key as "unknown field `x`, expected one of `a`, `b`"; turn that
/// into a problem that can suggest the near miss.
fn toml_problem(message: &str) -> Problem {
    let message = message.trim_end();
    if message.starts_with("unknown field `") {
        // Backquoted words: the key first, then the expected names.
        let mut quoted = message.split('`').skip(1).step_by(2).map(str::to_string);
        if let Some(key) = quoted.next() {
            return Problem::UnknownKey {
                key,
                expected: quoted.collect(),
            };
        }
    }
    Problem::Toml(message.to_string())
}

/// Changes to one proxy, addressed by name: `--set proxy.cilium-dns-egress.port=40123`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProxyPatch {
    port: Option<Loc<i64>>,
    protocols: Option<Loc<Vec<Loc<String>>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProxyPatches {
    proxy: std::collections::BTreeMap<String, Loc<ProxyPatch>>,
}

/// One `--set KEY=VALUE` as a TOML source: the argument itself is a dotted-key TOML line. A
/// value that is not TOML is taken as a string, since the shell has usually eaten its quotes
/// (`--set ipv4.alloc_cidr="10.0.0.0/24"` arrives as `ipv4.alloc_cidr=10.0.0.0/24`).
fn set_source(index: usize, arg: &str) -> Result<Source, ConfigError> {
    let name: std::sync::Arc<str> = format!("--set #{}", index + 1).into();
    let Some((key, value)) = arg.split_once('=') else {
        return Err(ConfigError {
            source: Source {
                name,
                text: arg.into(),
            },
            span: 0..arg.len(),
            problem: Problem::Invalid(
                "expected KEY=VALUE, e.g. ipv4.masquerade=false or proxy.cilium-dns-egress.port=40123".into(),
            ),
        });
    };
    let as_is = format!("{} = {}", key.trim(), value.trim());
    let text = if toml::from_str::<toml::Table>(&as_is).is_ok() {
        as_is
    } else {
        format!(
            "{} = {}",
            key.trim(),
            toml::Value::String(value.to_string())
        )
    };
    Ok(Source {
        name,
        text: text.into(),
    })
}

/// Applies `--set` overrides, in order, after all files are merged.
pub fn apply_sets(merged: &mut RawConfig, sets: &[String]) -> Result<(), Error> {
    for (index, arg) in sets.iter().enumerate() {
        let source = set_source(index, arg).map_err(|e| Error::Config(vec![e]))?;
        let is_proxy =
            source.text.split('=').next().is_some_and(|k| {
                k.trim_start().starts_with("proxy.") && k.matches('.').count() >= 2
            });
        if !is_proxy {
            merged.merge(parse(&source).map_err(|e| Error::Config(vec![e]))?);
            continue;
        }
        CURRENT_SOURCE.with(|s| *s.borrow_mut() = Some(source.clone()));
        let parsed = toml::from_str::<ProxyPatches>(&source.text);
        CURRENT_SOURCE.with(|s| *s.borrow_mut() = None);
        let patches = parsed.map_err(|e| {
            Error::Config(vec![ConfigError {
                source: source.clone(),
                span: e.span().unwrap_or(0..0),
                problem: toml_problem(e.message()),
            }])
        })?;
        for (name, patch) in patches.proxy {
            let list = merged.proxy.get_or_insert_with(|| Loc {
                value: Vec::new(),
                span: patch.span.clone(),
                source: source.clone(),
            });
            if let Some(proxy) = list.value.iter_mut().find(|p| p.name.value == name) {
                leaf(&mut proxy.protocols, patch.value.protocols);
                if let Some(port) = patch.value.port {
                    proxy.port = port;
                }
            } else if let Some(port) = patch.value.port {
                // A new proxy: its name points at the `--set` that added it.
                list.value.push(RawProxy {
                    name: Loc {
                        value: name,
                        span: 0..source.text.find('=').unwrap_or(0),
                        source: source.clone(),
                    },
                    port,
                    protocols: patch.value.protocols,
                });
            } else {
                return Err(Error::Config(vec![patch.error(Problem::Invalid(format!(
                    "no proxy named `{name}` to change; give its port to add it"
                )))]));
            }
        }
    }
    Ok(())
}

/// Reads the given files in order; with none, the embedded default config.
pub fn read(paths: &[impl AsRef<Path>]) -> Result<Vec<Source>, Error> {
    if paths.is_empty() {
        return Ok(vec![Source {
            name: DEFAULT_CONFIG_NAME.into(),
            text: DEFAULT_CONFIG.into(),
        }]);
    }
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(Source {
                name: path.display().to_string().into(),
                text: text.into(),
            })
        })
        .collect()
}

/// Parses and merges sources in order, later keys winning.
pub fn merge(sources: &[Source]) -> Result<RawConfig, Error> {
    let mut merged = RawConfig::default();
    for source in sources {
        merged.merge(parse(source).map_err(|e| Error::Config(vec![e]))?);
    }
    Ok(merged)
}

/// The JSON Schema of a config file, for editors (taplo, Even Better TOML).
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(RawConfig);
    schema.insert("title".into(), "cilium-ipt node config".into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    #[test]
    fn unknown_key_is_located_and_suggests() {
        let e = parse(&src(
            "a.toml",
            "[ipv4]\nnativ_routing_cidr = \"10.0.0.0/8\"\n",
        ))
        .unwrap_err();
        assert_eq!(e.line_col(), (2, 1));
        let Problem::UnknownKey { key, expected } = &e.problem else {
            panic!("{:?}", e.problem)
        };
        assert_eq!(key, "nativ_routing_cidr");
        assert!(
            expected.contains(&"native_routing_cidr".to_string()),
            "{expected:?}"
        );
        assert_eq!(
            e.problem.help().unwrap(),
            "did you mean `native_routing_cidr`?"
        );
    }

    #[test]
    fn later_layer_wins_key_by_key_and_remembers_its_file() {
        let mut base = parse(&src(
            "base.toml",
            "[ipv4]\nalloc_cidr = \"10.0.1.0/24\"\nmasquerade = false\n",
        ))
        .unwrap();
        let node = parse(&src("node.toml", "[ipv4]\nalloc_cidr = \"10.0.2.0/24\"\n")).unwrap();
        base.merge(node);
        let ipv4 = base.ipv4.unwrap().value;
        let alloc = ipv4.alloc_cidr.unwrap();
        assert_eq!(alloc.value, "10.0.2.0/24");
        assert_eq!(&*alloc.source.name, "node.toml");
        let masq = ipv4.masquerade.unwrap();
        assert!(!masq.value);
        assert_eq!(&*masq.source.name, "base.toml");
    }

    #[test]
    fn marks_accept_integers_and_strings() {
        let c = parse(&src(
            "m.toml",
            "[marks]\nto_proxy = 0x200\nis_proxy = \"0xa00\"\nhost = \"3072\"\nidentity = \"zz\"\n",
        ))
        .unwrap();
        let m = c.marks.unwrap().value;
        assert_eq!(m.to_proxy.unwrap().value, MarkValue::Value(0x200));
        assert_eq!(m.is_proxy.unwrap().value, MarkValue::Value(0xa00));
        assert_eq!(m.host.unwrap().value, MarkValue::Value(0xc00));
        assert_eq!(m.identity.unwrap().value, MarkValue::Invalid("zz".into()));
    }
}
