//! Names and free text that end up as single tokens in an iptables-restore document: interface
//! names, chain names, ipset names, proxy names and rule comments. Each constructor enforces the
//! kernel's limits and refuses anything that could end a token, a line or a quoted string early,
//! so that a value of these types always renders as exactly one token.

use std::fmt;

use crate::error::Problem;

/// IFNAMSIZ is 16 including the terminating NUL (include/uapi/linux/if.h).
pub const IFNAME_MAX: usize = 15;
/// XT_EXTENSION_MAXNAMELEN is 29 including the NUL (include/uapi/linux/netfilter/x_tables.h).
pub const CHAIN_MAX: usize = 28;
/// IPSET_MAXNAMELEN is 32 including the NUL (include/uapi/linux/netfilter/ipset/ip_set.h).
pub const SET_MAX: usize = 31;
/// XT_MAX_COMMENT_LEN is 256 including the NUL; iptables truncates longer comments silently,
/// even inside a UTF-8 sequence, so a longer one is refused instead.
pub const COMMENT_MAX: usize = 255;

/// A network interface name as iptables matches it with `-i`/`-o`: at most 15 bytes, and a
/// trailing `+` is iptables' wildcard (`lxc+` matches every `lxc…` device).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfName(String);

impl IfName {
    pub fn new(text: &str) -> Result<IfName, Problem> {
        let bad = |why: String| Problem::BadName {
            what: "interface name",
            text: text.to_string(),
            why,
        };
        if text.is_empty() {
            return Err(bad("it is empty".into()));
        }
        if text.len() > IFNAME_MAX {
            return Err(bad(format!(
                "it is {} bytes long; the kernel allows at most {IFNAME_MAX}",
                text.len()
            )));
        }
        if text == "." || text == ".." {
            return Err(bad("the kernel refuses `.` and `..`".into()));
        }
        if text.starts_with(['-', '!']) {
            return Err(bad(
                "it starts with `-` or `!`, which iptables would read as an option".into(),
            ));
        }
        let body = text.strip_suffix('+').unwrap_or(text);
        if let Some(c) = body.chars().find(|c| !is_ifname_char(*c)) {
            return Err(bad(format!(
                "it contains {}; use letters, digits and `_ . - @`, with `+` only as the last character",
                describe_char(c)
            )));
        }
        Ok(IfName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The kernel refuses `/`, `:` and whitespace (dev_valid_name); we also keep out anything
/// iptables-restore would treat as quoting or escaping, so a name is always one bare token.
fn is_ifname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name that is one bare token: letters, digits, `_`, `-`, `.`, within a byte limit.
macro_rules! token_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: &str) -> Result<$name, Problem> {
                check_token($what, text, $max)?;
                Ok($name(text.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_name!(
    /// An iptables chain name (at most 28 bytes).
    ChainName, "chain name", CHAIN_MAX
);
token_name!(
    /// An ipset name (at most 31 bytes).
    SetName, "ipset name", SET_MAX
);
token_name!(
    /// A proxy listener's name as Cilium uses it in the TPROXY comment (`cilium-dns-egress`),
    /// kept to a plain charset so the comment it lands in stays one readable token.
    ProxyName, "proxy name", PROXY_NAME_MAX
);

/// Leaves room for "cilium: TPROXY to host " and " proxy" inside the 255-byte comment.
pub const PROXY_NAME_MAX: usize = COMMENT_MAX - "cilium: TPROXY to host  proxy".len();

/// Letters, digits, `_`, `-`, `.`; not starting with `-`; 1..=max bytes.
fn check_token(what: &'static str, text: &str, max: usize) -> Result<(), Problem> {
    let bad = |why: String| Problem::BadName {
        what,
        text: text.to_string(),
        why,
    };
    if text.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if text.len() > max {
        return Err(bad(format!(
            "it is {} bytes long; at most {max} are allowed",
            text.len()
        )));
    }
    if text.starts_with('-') {
        return Err(bad(
            "it starts with `-`, which iptables would read as an option".into(),
        ));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(bad(format!(
            "it contains {}; use letters, digits, `_`, `-` and `.`",
            describe_char(c)
        )));
    }
    Ok(())
}

/// Names a character so that an invisible one is still visible in an error message.
pub fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\n' => "a newline".to_string(),
        '\r' => "a carriage return".to_string(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c if !c.is_ascii() => format!("the non-ASCII character `{c}` (U+{:04X})", c as u32),
        c => format!("`{c}`"),
    }
}

/// The text of a `-m comment --comment` match: at most 255 bytes, no control characters.
/// Its `Display` is the only place a comment is quoted, exactly as iptables-save quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comment(String);

impl Comment {
    pub fn new(text: impl Into<String>) -> Result<Comment, Problem> {
        let text = text.into();
        if text.len() > COMMENT_MAX {
            return Err(Problem::BadName {
                what: "comment",
                why: format!(
                    "it is {} bytes long; iptables keeps at most {COMMENT_MAX}",
                    text.len()
                ),
                text,
            });
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(Problem::BadName {
                what: "comment",
                why: format!("it contains {}", describe_char(c)),
                text,
            });
        }
        Ok(Comment(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Comment {
    /// Mirrors `xtables_save_string` (libxtables): bare when the text is non-empty and only
    /// `[A-Za-z0-9_-]`, otherwise double-quoted with `"`, `\` and `'` backslash-escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare = !self.0.is_empty()
            && self
                .0
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare {
            return f.write_str(&self.0);
        }
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, '"' | '\\' | '\'') {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_limits() {
        assert!(IfName::new("lxc+").is_ok());
        assert!(IfName::new("cilium_host").is_ok());
        assert!(IfName::new("eth0.100").is_ok());
        assert!(IfName::new("a23456789012345").is_ok());
        assert!(IfName::new("a234567890123456").is_err());
        assert!(IfName::new("lx+c").is_err());
        assert!(IfName::new("eth 0").is_err());
        assert!(IfName::new("eth/0").is_err());
        assert!(IfName::new("eth:0").is_err());
        assert!(IfName::new("-j").is_err());
        assert!(IfName::new("").is_err());
        assert!(IfName::new("..").is_err());
        assert!(IfName::new("ethé").is_err());
    }

    #[test]
    fn chain_and_set_limits() {
        assert!(ChainName::new(&"C".repeat(28)).is_ok());
        assert!(ChainName::new(&"C".repeat(29)).is_err());
        assert!(SetName::new(&"s".repeat(31)).is_ok());
        assert!(SetName::new(&"s".repeat(32)).is_err());
        assert!(SetName::new("set\"x").is_err());
    }

    #[test]
    fn comment_quoting_matches_iptables_save() {
        assert_eq!(
            Comment::new("plain-word_1").unwrap().to_string(),
            "plain-word_1"
        );
        assert_eq!(
            Comment::new("cilium: NOTRACK for pod traffic")
                .unwrap()
                .to_string(),
            "\"cilium: NOTRACK for pod traffic\""
        );
        assert_eq!(
            Comment::new("a\"b\\c'd").unwrap().to_string(),
            r#""a\"b\\c\'d""#
        );
        assert_eq!(Comment::new("").unwrap().to_string(), "\"\"");
    }

    #[test]
    fn comment_refuses_control_characters_and_overlength() {
        assert!(Comment::new("x\n-A INPUT -j ACCEPT").is_err());
        assert!(Comment::new("x\r").is_err());
        assert!(Comment::new("x\0").is_err());
        assert!(Comment::new("é".repeat(128)).is_err()); // 256 bytes
        assert!(Comment::new("a".repeat(255)).is_ok());
    }
}
