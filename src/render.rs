//! Lays a `RuleSet` out as an iptables-restore document through the Askama template
//! `templates/restore.txt`, which holds layout only: table headers, chain declarations, one
//! `-A` line per rule (the rule's canonical spelling from `rules`), one COMMIT per table.

use askama::Template;

use crate::error::Error;
use crate::net::Family;
use crate::rules::{RuleSet, TableRules};

#[derive(Template)]
#[template(path = "restore.txt", escape = "none")]
struct RestoreDocument<'a> {
    version: &'a str,
    family: Family,
    loader: &'a str,
    tables: &'a [TableRules],
}

/// The whole document, ending in a newline like iptables-save's output.
pub fn restore_document(rules: &RuleSet) -> Result<String, Error> {
    let doc = RestoreDocument {
        version: env!("CARGO_PKG_VERSION"),
        family: rules.family,
        loader: match rules.family {
            Family::Ipv4 => "iptables-restore",
            Family::Ipv6 => "ip6tables-restore",
        },
        tables: &rules.tables,
    };
    // Askama drops the template file's final newline; the document must end with one.
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}
