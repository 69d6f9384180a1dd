//! The config as written: TOML files deserialized into plain structs whose every value keeps the
//! file and byte span it came from (`Loc`). Several files merge in order, later keys winning
//! (tables merge key by key, arrays are replaced whole). Nothing here judges values; `spec`
//! validates the merged result into a `NodeSpec`.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;
use std::path::Path;

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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub cilium: Option<Loc<String>>,
    pub ipv4: Option<Loc<RawFamily>>,
    pub ipv6: Option<Loc<RawFamily>>,
    pub devices: Option<Loc<RawDevices>>,
    pub datapath: Option<Loc<RawDatapath>>,
    pub marks: Option<Loc<RawMarks>>,
    pub proxy: Option<Loc<Vec<RawProxy>>>,
    pub routing: Option<Loc<RawRouting>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFamily {
    pub enabled: Option<Loc<bool>>,
    pub native_routing_cidr: Option<Loc<String>>,
    pub alloc_cidr: Option<Loc<String>>,
    pub host_ip: Option<Loc<String>>,
    pub masquerade: Option<Loc<bool>>,
    pub node_ipset: Option<Loc<String>>,
    pub node_ips: Option<Loc<Vec<Loc<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevices {
    pub host: Option<Loc<String>>,
    pub net: Option<Loc<String>>,
    pub endpoints: Option<Loc<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatapath {
    pub routing_mode: Option<Loc<String>>,
    pub install_no_conntrack_rules: Option<Loc<bool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    pub name: Loc<String>,
    pub port: Loc<i64>,
    pub protocols: Option<Loc<Vec<Loc<String>>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    pub table: Option<Loc<i64>>,
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
    node_ips
});
merge_leaves!(RawDevices {
    host,
    net,
    endpoints
});
merge_leaves!(RawDatapath {
    routing_mode,
    install_no_conntrack_rules
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
