//! The rule set as data: tables of chains of rules, in the order iptables-save prints them, and
//! the one canonical spelling of a rule. `Rule`'s `Display` writes options in iptables-save's
//! order (`-s`, `-d`, `-i`, `-o`, `-p`, the `-m` matches as given, `-j`), so a rendered rule and
//! the same rule read back from iptables-save are the same text.

use std::fmt;
use std::net::IpAddr;

use crate::marks::Mark;
use crate::names::{ChainName, Comment, IfName, SetName};
use crate::net::{Cidr, Family, Port, Protocol};

/// The tables Cilium uses, in the order the document lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Raw,
    Mangle,
    Filter,
    Nat,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Raw, Table::Mangle, Table::Filter, Table::Nat];

    pub fn name(self) -> &'static str {
        match self {
            Table::Raw => "raw",
            Table::Mangle => "mangle",
            Table::Filter => "filter",
            Table::Nat => "nat",
        }
    }

    /// The builtin chains in kernel hook order, as iptables-save declares them. The same for
    /// iptables and ip6tables.
    pub fn builtins(self) -> &'static [&'static str] {
        match self {
            Table::Raw => &["PREROUTING", "OUTPUT"],
            Table::Mangle => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
            Table::Filter => &["INPUT", "FORWARD", "OUTPUT"],
            Table::Nat => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A whole document: one block per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub family: Family,
    pub tables: Vec<TableRules>,
    /// Whether Cilium inserts its feeders at the top of the builtin chains (`-I`) or appends
    /// them (`-A`); a full document looks the same either way, a `--noflush` repair does not.
    pub prepend_feeders: bool,
}

/// One table: builtin chains first (hook order), then user chains sorted by name, which is
/// how iptables-save lists them on both backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRules {
    pub table: Table,
    pub chains: Vec<Chain>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub name: ChainName,
    pub builtin: bool,
    pub rules: Vec<Rule>,
}

impl Chain {
    /// The policy column of the chain declaration: builtins get ACCEPT, user chains `-`.
    pub fn policy(&self) -> &'static str {
        if self.builtin { "ACCEPT" } else { "-" }
    }
}

/// An option that may be negated (`! -d 10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neg<T> {
    pub negated: bool,
    pub value: T,
}

impl<T: fmt::Display> Neg<T> {
    fn spell(&self, option: &str) -> String {
        let bang = if self.negated { "! " } else { "" };
        format!("{bang}{option} {}", self.value)
    }
}

/// A `-m` match module with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Mark {
        mark: Mark,
        negated: bool,
    },
    Comment(Comment),
    SocketTransparent,
    SetDst(SetName),
    CtStateDnat,
    /// `-m addrtype --dst-type LOCAL --limit-iface-in`.
    AddrTypeLocalIn,
    /// `-m tcp --dport P` / `-m udp --sport P` (iptables-save names the protocol module).
    Port {
        proto: Protocol,
        source: bool,
        port: Port,
    },
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Mark {
                mark,
                negated: false,
            } => write!(f, "-m mark --mark {}", mark.as_match()),
            Match::Mark {
                mark,
                negated: true,
            } => write!(f, "-m mark ! --mark {}", mark.as_match()),
            Match::Comment(c) => write!(f, "-m comment --comment {c}"),
            Match::SocketTransparent => f.write_str("-m socket --transparent"),
            Match::SetDst(set) => write!(f, "-m set --match-set {set} dst"),
            Match::CtStateDnat => f.write_str("-m conntrack --ctstate DNAT"),
            Match::AddrTypeLocalIn => f.write_str("-m addrtype --dst-type LOCAL --limit-iface-in"),
            Match::Port {
                proto,
                source,
                port,
            } => {
                let dir = if *source { "--sport" } else { "--dport" };
                write!(f, "-m {proto} {dir} {port}")
            }
        }
    }
}

/// What a rule does, spelled as iptables-save prints the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Accept,
    Jump(ChainName),
    /// `-j NOTRACK` and `-j CT --notrack` both save as `CT --notrack`.
    Notrack,
    /// `-j MARK --set-mark M` saves as `--set-xmark M/0xffffffff`.
    SetMark(Mark),
    Tproxy {
        port: Port,
        on_ip: IpAddr,
        mark: Mark,
    },
    Masquerade {
        random_fully: bool,
    },
    /// `-j SNAT --to-source A`, with `--random-fully` where Cilium adds it.
    Snat {
        to: IpAddr,
        random_fully: bool,
    },
    /// `-j CONNMARK --set-xmark V/M`.
    ConnmarkSet(Mark),
    /// `-j CONNMARK --restore-mark --nfmask M --ctmask M`.
    ConnmarkRestore(u32),
}

impl Target {
    /// Plain SNAT, as the host->cluster and hairpin rules use it.
    pub fn snat(to: IpAddr) -> Target {
        Target::Snat {
            to,
            random_fully: false,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Accept => f.write_str("-j ACCEPT"),
            Target::Jump(chain) => write!(f, "-j {chain}"),
            Target::Notrack => f.write_str("-j CT --notrack"),
            Target::SetMark(mark) => write!(f, "-j MARK --set-xmark {}", mark.as_xmark()),
            Target::Tproxy { port, on_ip, mark } => write!(
                f,
                "-j TPROXY --on-port {port} --on-ip {on_ip} --tproxy-mark {}",
                mark.as_xmark()
            ),
            Target::Masquerade {
                random_fully: false,
            } => f.write_str("-j MASQUERADE"),
            Target::Masquerade { random_fully: true } => {
                f.write_str("-j MASQUERADE --random-fully")
            }
            Target::Snat {
                to,
                random_fully: false,
            } => write!(f, "-j SNAT --to-source {to}"),
            Target::Snat {
                to,
                random_fully: true,
            } => write!(f, "-j SNAT --to-source {to} --random-fully"),
            Target::ConnmarkSet(mark) => write!(f, "-j CONNMARK --set-xmark {}", mark.as_xmark()),
            Target::ConnmarkRestore(mask) => {
                write!(
                    f,
                    "-j CONNMARK --restore-mark --nfmask {mask:#x} --ctmask {mask:#x}"
                )
            }
        }
    }
}

/// Why a rule exists and which config keys decided it (for `explain`; not part of the text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub why: String,
    pub keys: Vec<&'static str>,
}

/// One rule, without the chain it is appended to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub src: Option<Neg<Cidr>>,
    pub dst: Option<Neg<Cidr>>,
    pub in_if: Option<Neg<IfName>>,
    pub out_if: Option<Neg<IfName>>,
    pub proto: Option<Protocol>,
    pub matches: Vec<Match>,
    pub target: Target,
    pub origin: Origin,
}

/// Builder methods: each sets one option, so a rule reads like its saved line.
impl Rule {
    pub fn new(target: Target) -> Rule {
        Rule {
            src: None,
            dst: None,
            in_if: None,
            out_if: None,
            proto: None,
            matches: Vec::new(),
            target,
            origin: Origin::default(),
        }
    }

    /// Records why the rule exists and the config keys that put it there.
    pub fn because(mut self, why: impl Into<String>, keys: &[&'static str]) -> Rule {
        self.origin = Origin {
            why: why.into(),
            keys: keys.to_vec(),
        };
        self
    }

    pub fn src(mut self, cidr: Cidr) -> Rule {
        self.src = Some(Neg {
            negated: false,
            value: cidr,
        });
        self
    }

    pub fn not_src(mut self, cidr: Cidr) -> Rule {
        self.src = Some(Neg {
            negated: true,
            value: cidr,
        });
        self
    }

    pub fn dst(mut self, cidr: Cidr) -> Rule {
        self.dst = Some(Neg {
            negated: false,
            value: cidr,
        });
        self
    }

    pub fn not_dst(mut self, cidr: Cidr) -> Rule {
        self.dst = Some(Neg {
            negated: true,
            value: cidr,
        });
        self
    }

    pub fn in_if(mut self, name: &IfName) -> Rule {
        self.in_if = Some(Neg {
            negated: false,
            value: name.clone(),
        });
        self
    }

    pub fn out_if(mut self, name: &IfName) -> Rule {
        self.out_if = Some(Neg {
            negated: false,
            value: name.clone(),
        });
        self
    }

    pub fn not_out_if(mut self, name: &IfName) -> Rule {
        self.out_if = Some(Neg {
            negated: true,
            value: name.clone(),
        });
        self
    }

    pub fn proto(mut self, proto: Protocol) -> Rule {
        self.proto = Some(proto);
        self
    }

    pub fn with(mut self, m: Match) -> Rule {
        self.matches.push(m);
        self
    }

    pub fn mark(self, mark: Mark) -> Rule {
        self.with(Match::Mark {
            mark,
            negated: false,
        })
    }

    pub fn not_mark(self, mark: Mark) -> Rule {
        self.with(Match::Mark {
            mark,
            negated: true,
        })
    }

    pub fn comment(self, comment: Comment) -> Rule {
        self.with(Match::Comment(comment))
    }
}

impl fmt::Display for Rule {
    /// The rule's options as iptables-save prints them after `-A CHAIN `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let addresses = [(&self.src, "-s"), (&self.dst, "-d")];
        parts.extend(
            addresses
                .iter()
                .filter_map(|(v, o)| v.as_ref().map(|v| v.spell(o))),
        );
        let devices = [(&self.in_if, "-i"), (&self.out_if, "-o")];
        parts.extend(
            devices
                .iter()
                .filter_map(|(v, o)| v.as_ref().map(|v| v.spell(o))),
        );
        parts.extend(self.proto.map(|p| format!("-p {p}")));
        parts.extend(self.matches.iter().map(Match::to_string));
        parts.push(self.target.to_string());
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_out_in_iptables_save_order() {
        let rule = Rule::new(Target::Masquerade {
            random_fully: false,
        })
        .not_out_if(&IfName::new("cilium_+").unwrap())
        .not_dst(Cidr::parse("10.197.64.0/18").unwrap())
        .src(Cidr::parse("10.197.65.0/24").unwrap())
        .comment(Comment::new("cilium masquerade non-cluster").unwrap());
        assert_eq!(
            rule.to_string(),
            "-s 10.197.65.0/24 ! -d 10.197.64.0/18 ! -o cilium_+ -m comment --comment \"cilium masquerade non-cluster\" -j MASQUERADE"
        );
    }

    #[test]
    fn tproxy_target_spelling() {
        let rule = Rule::new(Target::Tproxy {
            port: Port::new(39799).unwrap(),
            on_ip: Family::Ipv6.unspecified(),
            mark: Mark::exact(0x200),
        })
        .proto(Protocol::Udp)
        .mark(Mark::exact(0x779b0200));
        assert_eq!(
            rule.to_string(),
            "-p udp -m mark --mark 0x779b0200 -j TPROXY --on-port 39799 --on-ip :: --tproxy-mark 0x200/0xffffffff"
        );
    }
}
