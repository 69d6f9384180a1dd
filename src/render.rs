//! Lays documents out through Askama templates, which hold layout only: `restore.txt` for a full
//! `RuleSet` (table headers, chain declarations, one `-A` line per rule in the canonical spelling
//! from `rules`, one COMMIT per table) and `noflush.txt` for a drift repair plan from `diff`.

use askama::Template;

use crate::diff::TablePlan;
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
        loader: loader(rules.family),
        tables: &rules.tables,
    };
    // Askama drops the template file's final newline; the document must end with one.
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}

fn loader(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "iptables-restore",
        Family::Ipv6 => "ip6tables-restore",
    }
}

#[derive(Template)]
#[template(path = "noflush.txt", escape = "none")]
struct NoflushDocument<'a> {
    version: &'a str,
    family: Family,
    loader: &'a str,
    plans: &'a [TablePlan],
}

/// The `--noflush` repair document: only owned chains and feeders, never a builtin policy.
/// With nothing to repair it is a single comment line.
pub fn noflush_document(family: Family, plans: &[TablePlan]) -> Result<String, Error> {
    if plans.is_empty() {
        return Ok("# cilium-ipt: in sync, nothing to repair\n".to_string());
    }
    let doc = NoflushDocument {
        version: env!("CARGO_PKG_VERSION"),
        family,
        loader: loader(family),
        plans,
    };
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}

#[derive(Template)]
#[template(path = "explain.txt", escape = "none")]
struct ExplainDocument<'a> {
    version: &'a str,
    family: Family,
    tables: &'a [TableRules],
}

/// Every rule of the document with the reason it exists and the config keys behind it.
pub fn explain_document(rules: &RuleSet) -> Result<String, Error> {
    let doc = ExplainDocument {
        version: env!("CARGO_PKG_VERSION"),
        family: rules.family,
        tables: &rules.tables,
    };
    let mut text = doc.render()?;
    text.push('\n');
    Ok(text)
}
