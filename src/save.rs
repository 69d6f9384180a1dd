//! Reads what `iptables-save` / `ip6tables-save` print, on the nft and the legacy backend:
//! header, footer and warning comments, `*table` blocks, chain declarations with any policy and
//! counters, rules with or without `-c` style `[pkts:bytes]` prefixes, and `COMMIT`. Every rule
//! is brought to the canonical spelling `rules` renders (`canonical`), so a rendered rule and
//! the same rule read back compare equal as plain strings.

use std::collections::HashMap;
use std::fmt;

use crate::names::Comment;

/// A parse failure, with the 1-based line it happened on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SaveError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dump {
    pub tables: Vec<DumpTable>,
}

impl Dump {
    pub fn table(&self, name: &str) -> Option<&DumpTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpTable {
    pub name: String,
    /// In declaration order, as iptables-save printed them.
    pub chains: Vec<DumpChain>,
}

impl DumpTable {
    pub fn chain(&self, name: &str) -> Option<&DumpChain> {
        self.chains.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpChain {
    pub name: String,
    /// `ACCEPT`/`DROP` for builtin chains, `-` for user chains.
    pub policy: String,
    pub rules: Vec<DumpRule>,
}

impl DumpChain {
    pub fn is_builtin(&self) -> bool {
        self.policy != "-"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpRule {
    /// The rule after `-A CHAIN `: in canonical spelling in builtin chains and Cilium's own
    /// chains; as printed elsewhere (nothing compares foreign chains, and a kube-proxy node has
    /// a hundred thousand of their rules).
    pub spec: String,
    /// Where it was read.
    pub line: usize,
}

impl DumpRule {
    /// The comment of a rule, if it has one (`-m comment --comment X`).
    pub fn comment(&self) -> Option<String> {
        let tokens = tokenize(&self.spec).ok()?;
        let at = tokens.iter().position(|t| t == "--comment")?;
        tokens.get(at + 1).cloned()
    }

    /// The chain a Cilium feeder rule names in its comment (`cilium-feeder: CHAIN`).
    pub fn feeder_target(&self) -> Option<String> {
        self.comment()?
            .strip_prefix("cilium-feeder: ")
            .map(str::to_string)
    }

    /// The target after `-j`.
    pub fn jump_target(&self) -> Option<String> {
        let tokens = tokenize(&self.spec).ok()?;
        let at = tokens.iter().position(|t| t == "-j")?;
        tokens.get(at + 1).cloned()
    }
}

/// Parses a whole iptables-save output.
pub fn parse(text: &str) -> Result<Dump, SaveError> {
    let mut dump = Dump::default();
    let mut open: Option<(DumpTable, usize)> = None;
    // Chain name -> index in the open table: a kube-proxy nat table has thousands of chains.
    let mut chains_at: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let err = |message: String| SaveError {
            line: line_no,
            message,
        };
        let line = raw.trim_end_matches('\r').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('*') {
            if let Some((t, _)) = &open {
                return Err(err(format!(
                    "table `{name}` starts before table `{}` has its COMMIT",
                    t.name
                )));
            }
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(err(format!("`{line}` is not a table header")));
            }
            if dump.table(name).is_some() {
                return Err(err(format!(
                    "table `{name}` appears twice (two saves concatenated?)"
                )));
            }
            chains_at.clear();
            open = Some((
                DumpTable {
                    name: name.to_string(),
                    chains: Vec::new(),
                },
                line_no,
            ));
            continue;
        }
        let Some((table, _)) = open.as_mut() else {
            return Err(err(format!(
                "`{}` outside a table (no `*table` line before it)",
                shorten(line)
            )));
        };
        if line == "COMMIT" {
            if let Some((t, _)) = open.take() {
                dump.tables.push(t);
            }
        } else if let Some(decl) = line.strip_prefix(':') {
            let mut parts = decl.split_whitespace();
            let (Some(name), Some(policy)) = (parts.next(), parts.next()) else {
                return Err(err(format!(
                    "`{line}` is not a chain declaration (`:NAME POLICY [p:b]`)"
                )));
            };
            if let Some(counters) = parts.next() {
                parse_counters(counters)
                    .ok_or_else(|| err(format!("bad counters `{counters}`")))?;
            }
            if chains_at
                .insert(name.to_string(), table.chains.len())
                .is_some()
            {
                return Err(err(format!(
                    "chain `{name}` is declared twice in table `{}`",
                    table.name
                )));
            }
            table.chains.push(DumpChain {
                name: name.to_string(),
                policy: policy.to_string(),
                rules: Vec::new(),
            });
        } else {
            // `-c` puts the counters first: `[12:3456] -A CHAIN ...`.
            let rest = match line.strip_prefix('[') {
                Some(_) => {
                    let (counters, rest) = line.split_once(' ').unwrap_or((line, ""));
                    parse_counters(counters)
                        .ok_or_else(|| err(format!("bad counters `{counters}`")))?;
                    rest.trim_start()
                }
                None => line,
            };
            let Some(rule) = rest.strip_prefix("-A ") else {
                return Err(err(format!(
                    "`{}` is neither a rule, a chain nor COMMIT",
                    shorten(line)
                )));
            };
            let (chain, spec) = rule.split_once(' ').unwrap_or((rule, ""));
            let Some(&at) = chains_at.get(chain) else {
                return Err(err(format!(
                    "rule for chain `{chain}`, which table `{}` does not declare",
                    table.name
                )));
            };
            let chain = &mut table.chains[at];
            let spec = if chain.is_builtin() || crate::diff::owned(&chain.name) {
                canonical(spec).map_err(&err)?
            } else {
                check_quotes(spec).map_err(&err)?;
                spec.to_string()
            };
            chain.rules.push(DumpRule {
                spec,
                line: line_no,
            });
        }
    }
    if let Some((t, line)) = open {
        return Err(SaveError {
            line,
            message: format!("table `{}` has no COMMIT line (truncated input?)", t.name),
        });
    }
    Ok(dump)
}

/// The one syntax check a foreign rule gets: its quotes are closed.
fn check_quotes(spec: &str) -> Result<(), String> {
    let mut quoted = false;
    let mut escaped = false;
    for c in spec.chars() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, _, '"') => quoted = !quoted,
            _ => {}
        }
    }
    if quoted {
        return Err("unterminated quoted string".to_string());
    }
    Ok(())
}

fn parse_counters(text: &str) -> Option<(u64, u64)> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    Some((p.parse().ok()?, b.parse().ok()?))
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// Splits a rule the way iptables-restore does (`add_param_to_argv`): on blanks, with
/// double-quoted parameters inside which a backslash escapes the next character.
pub fn tokenize(spec: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_token = false;
    let mut quoted = false;
    let mut escaped = false;
    for c in spec.chars() {
        if quoted {
            if escaped {
                current.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            } else {
                current.push(c);
            }
        } else if c == '"' {
            quoted = true;
            in_token = true;
        } else if c == ' ' || c == '\t' {
            if in_token {
                tokens.push(std::mem::take(&mut current));
                in_token = false;
            }
        } else {
            current.push(c);
            in_token = true;
        }
    }
    if quoted {
        return Err("unterminated quoted string".to_string());
    }
    if in_token {
        tokens.push(current);
    }
    Ok(tokens)
}

/// One token as iptables-save would print it.
struct Token<'a> {
    text: &'a str,
    after_comment: bool,
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.text.is_empty()
            && !self
                .text
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '\''));
        if self.after_comment || !plain {
            // Comments (and any other token that needs it) take xtables_save_string's quoting;
            // `Comment` is the one place that spelling lives. Text it refuses (over 255 bytes,
            // control characters) cannot come from iptables-save; keep it quoted verbatim.
            match Comment::new(self.text) {
                Ok(c) => write!(f, "{c}"),
                Err(_) => write!(
                    f,
                    "\"{}\"",
                    self.text.replace('\\', "\\\\").replace('"', "\\\"")
                ),
            }
        } else {
            f.write_str(self.text)
        }
    }
}

/// The canonical spelling of a rule spec: tokens re-joined by single spaces, each quoted the
/// way iptables-save quotes it. For a rule that iptables-save printed, this is the identity.
pub fn canonical(spec: &str) -> Result<String, String> {
    let tokens = tokenize(spec)?;
    let mut out = Vec::with_capacity(tokens.len());
    for (i, text) in tokens.iter().enumerate() {
        let after_comment = i > 0 && tokens[i - 1] == "--comment";
        out.push(
            Token {
                text,
                after_comment,
            }
            .to_string(),
        );
    }
    Ok(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFT: &str = "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them
# Generated by iptables-nft-save v1.8.9 (nf_tables) on Wed Nov 25 14:24:48 2026
*raw
:PREROUTING ACCEPT [1234:567890]
:OUTPUT DROP [0:0]
:CILIUM_PRE_raw - [0:0]
[12:3456] -A PREROUTING -m comment --comment \"cilium-feeder: CILIUM_PRE_raw\" -j CILIUM_PRE_raw
-A CILIUM_PRE_raw -m mark --mark 0x200/0xf00 -m comment --comment \"cilium: NOTRACK for proxy traffic\" -j CT --notrack
-A CILIUM_PRE_raw -m comment --comment bare -j CT --notrack
COMMIT
# Completed on Wed Nov 25 14:24:48 2026
";

    #[test]
    fn reads_counters_warnings_and_policies() {
        let dump = parse(NFT).unwrap();
        let raw = dump.table("raw").unwrap();
        assert_eq!(raw.chains.len(), 3);
        assert_eq!(raw.chain("OUTPUT").unwrap().policy, "DROP");
        assert!(!raw.chain("CILIUM_PRE_raw").unwrap().is_builtin());
        let pre = raw.chain("PREROUTING").unwrap();
        assert_eq!(
            pre.rules[0].feeder_target().as_deref(),
            Some("CILIUM_PRE_raw")
        );
        assert_eq!(pre.rules[0].line, 7);
        let own = &raw.chain("CILIUM_PRE_raw").unwrap().rules;
        assert_eq!(own[1].comment().as_deref(), Some("bare"));
    }

    #[test]
    fn canonical_spelling_is_stable_and_normalizes_quoting() {
        let saved = "-m comment --comment \"cilium: NOTRACK for pod traffic\" -j CT --notrack";
        assert_eq!(canonical(saved).unwrap(), saved);
        assert_eq!(
            canonical("-m  comment --comment \"plain\"   -j ACCEPT").unwrap(),
            "-m comment --comment plain -j ACCEPT"
        );
        let escaped = r#"-m comment --comment "a\"b\\c\'d e" -j ACCEPT"#;
        assert_eq!(canonical(escaped).unwrap(), escaped);
        assert_eq!(tokenize(escaped).unwrap()[3], "a\"b\\c'd e");
    }

    #[test]
    fn malformed_input_names_the_line() {
        let e = parse("*raw\n:PREROUTING ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("does not declare"), "{e}");
        let e = parse("*raw\n:PREROUTING ACCEPT [0:0]\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("no COMMIT"), "{e}");
        let e = parse("-A INPUT -j ACCEPT\n").unwrap_err();
        assert!(e.message.contains("outside a table"), "{e}");
        let e = parse("*raw\n:PREROUTING ACCEPT [x:0]\nCOMMIT\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m comment --comment \"open\nCOMMIT\n",
        )
        .unwrap_err();
        assert!(e.message.contains("unterminated"), "{e}");
        let e = parse("*raw\nCOMMIT\n*raw\nCOMMIT\n").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
