//! Errors as values. A `Problem` says what is wrong with one value and, where it can, what would
//! be right; a `ConfigError` pins a problem to a file, line and column and prints the offending
//! line with carets under it; `Error` is what the commands return, and every variant means exit 2.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crate::net::Family;

/// What is wrong with one value, independent of where it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Syntax and type errors, worded by the TOML parser.
    #[error("{0}")]
    Toml(String),
    #[error("unknown key `{key}`")]
    UnknownKey { key: String, expected: Vec<String> },
    #[error("`{text}` is not a CIDR: {reason}")]
    BadCidr { text: String, reason: String },
    #[error("CIDR `{text}` has host bits set")]
    HostBits { text: String, network: String },
    #[error("`{text}` is an {} CIDR, but this key takes an {} one", found.label(), expected.label())]
    WrongFamily {
        text: String,
        found: Family,
        expected: Family,
    },
    #[error("`{text}` is not an {} address", family.label())]
    BadAddress { text: String, family: Family },
    #[error("port {0} is out of range: a proxy port is 1 to 65535")]
    PortRange(i64),
    #[error("{what} {value} is out of range: allowed are {min} to {max}")]
    NumberRange {
        what: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("unknown {what} `{text}`")]
    UnknownValue {
        what: &'static str,
        text: String,
        expected: Vec<String>,
    },
    #[error("invalid {what} `{text}`: {why}")]
    BadName {
        what: &'static str,
        text: String,
        why: String,
    },
    #[error("`{text}` is not a mark: write a number such as 0x200 or 512")]
    BadMark { text: String },
    #[error("{what} `{text}` is already used at {first}")]
    Duplicate {
        what: &'static str,
        text: String,
        first: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Problem {
    /// A hint on what would be right, printed under the snippet.
    pub fn help(&self) -> Option<String> {
        match self {
            Problem::UnknownKey { key, expected } => Some(match suggest(key, expected) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("expected one of {}", list(expected)),
            }),
            Problem::HostBits { network, .. } => Some(format!("did you mean `{network}`?")),
            Problem::UnknownValue { text, expected, .. } => Some(match suggest(text, expected) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("expected one of {}", list(expected)),
            }),
            _ => None,
        }
    }
}

/// The closest candidate by edit distance, if it is close enough to be a typo. Version-like
/// words (`1.12`) get none: a near version number is a different release, not a typo.
pub fn suggest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    if word.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    candidates
        .iter()
        // Short words are only typos of words as long: `tpc` is `tcp`, `sctp` is not.
        .filter(|c| word.len() >= 5 || word.len() == c.len())
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// "`a`, `b` or `c`"
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => {
            let head: Vec<String> = init.iter().map(|i| format!("`{i}`")).collect();
            format!("{} or `{last}`", head.join(", "))
        }
    }
}

/// One source text a config was read from, shared by every error that points into it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
}

/// A problem at a place in a config file.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub source: Source,
    pub span: Range<usize>,
    pub problem: Problem,
}

impl ConfigError {
    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        let text = &self.source.text;
        let start = floor_char_boundary(text, self.span.start.min(text.len()));
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = text[line_start..start].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl fmt::Display for ConfigError {
    /// rustc-style: the message, `--> file:line:col`, the line, carets under the span, help.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line_no, col) = self.line_col();
        let text = &self.source.text;
        let start = floor_char_boundary(text, self.span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(text, self.span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        // Tabs would misalign the carets; show them as single spaces in the snippet.
        let shown: String = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(f, "error: {}", self.problem)?;
        writeln!(f, "{gutter}--> {}:{line_no}:{col}", self.source.name)?;
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{line_no} | {shown}")?;
        write!(f, "{gutter} | {}{}", " ".repeat(col - 1), "^".repeat(width))?;
        if let Some(help) = self.problem.help() {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

/// Everything a command can fail with; all of it exits 2 and writes nothing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", join_errors(.0))]
    Config(Vec<ConfigError>),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the config does not describe {}: add an [{}] section to render --family {}",
        family.label(), family.key(), family.key()
    )]
    FamilyMissing { family: Family },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command-line value that is not what the command takes.
    #[error("{0}")]
    Argument(Problem),
    #[error("cannot parse iptables-save output from {name}: {source}")]
    Save {
        name: String,
        source: crate::save::SaveError,
    },
    #[error("cannot render the document: {0}")]
    Template(#[from] askama::Error),
    /// A value passed validation but still could not become a rule: a bug, reported as such.
    #[error("internal error: a rule could not be built: {0}")]
    Rule(Problem),
}

fn join_errors(errors: &[ConfigError]) -> String {
    let parts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, span: Range<usize>, problem: Problem) -> ConfigError {
        ConfigError {
            source: Source {
                name: "node.toml".into(),
                text: text.into(),
            },
            span,
            problem,
        }
    }

    #[test]
    fn snippet_points_at_the_span() {
        let text = "[ipv4]\nnative_routing_cidr = \"10.197.64.5/18\"\n";
        let start = text.find('"').unwrap();
        let e = err(
            text,
            start..start + 16,
            Problem::HostBits {
                text: "10.197.64.5/18".into(),
                network: "10.197.64.0/18".into(),
            },
        );
        assert_eq!(e.line_col(), (2, 23));
        assert_eq!(
            e.to_string(),
            "error: CIDR `10.197.64.5/18` has host bits set\n \
             --> node.toml:2:23\n  |\n\
             2 | native_routing_cidr = \"10.197.64.5/18\"\n  \
             |                       ^^^^^^^^^^^^^^^^\n  \
             = help: did you mean `10.197.64.0/18`?"
        );
    }

    #[test]
    fn suggestions_for_near_misses_only() {
        let keys: Vec<String> = ["native_routing_cidr", "alloc_cidr", "host_ip"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            suggest("nativ_routing_cidr", &keys),
            Some("native_routing_cidr")
        );
        assert_eq!(suggest("alloc_cdir", &keys), Some("alloc_cidr"));
        assert_eq!(suggest("zebra", &keys), None);
        assert_eq!(suggest("1.12", &["1.11".to_string()]), None);
        let protocols = ["tcp".to_string(), "udp".to_string()];
        assert_eq!(suggest("tpc", &protocols), Some("tcp"));
        assert_eq!(suggest("sctp", &protocols), None);
    }
}
