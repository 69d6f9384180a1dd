//! Compares the rule set the config renders with a live `iptables-save` dump, over what the tool
//! owns only: the `CILIUM_*` chains of every table (and `OLD_CILIUM_*` left by an agent upgrade)
//! and the feeder rules (comment `cilium-feeder: CHAIN`) in builtin chains. Foreign rules and
//! chains (KUBE-*, DOCKER, a user's own) are never drift.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::rules::RuleSet;
use crate::save::{Dump, DumpChain};

/// Whether a chain name is one of Cilium's, now or from before an agent upgrade.
pub fn owned(chain: &str) -> bool {
    chain.starts_with("CILIUM_") || chain.starts_with("OLD_CILIUM_")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub table: String,
    pub chain: String,
    #[serde(flatten)]
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// A chain the config renders is not there.
    MissingChain,
    /// An owned chain the config does not render (including OLD_CILIUM_*).
    StaleChain {
        rules: usize,
    },
    MissingRule {
        rule: String,
    },
    UnexpectedRule {
        rule: String,
    },
    /// The same rules, in another order.
    OutOfOrder,
    MissingFeeder {
        target: String,
    },
    DuplicateFeeder {
        target: String,
        count: usize,
    },
    /// A feeder jumping to a chain the config does not render.
    StaleFeeder {
        target: String,
    },
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::MissingChain => "missing chain".into(),
            Kind::StaleChain { rules } => {
                format!("stale chain ({rules} rules), not rendered by this config")
            }
            Kind::MissingRule { rule } => format!("missing rule: {rule}"),
            Kind::UnexpectedRule { rule } => format!("unexpected rule: {rule}"),
            Kind::OutOfOrder => "rules out of order".into(),
            Kind::MissingFeeder { target } => format!("missing feeder -> {target}"),
            Kind::DuplicateFeeder { target, count } => {
                format!("feeder -> {target} appears {count} times")
            }
            Kind::StaleFeeder { target } => format!("stale feeder -> {target}"),
        }
    }
}

/// One line of a chain's unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Same(String),
    Missing(String),
    Unexpected(String),
}

/// A chain whose rules differ, with its diff for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainDiff {
    pub table: String,
    pub chain: String,
    pub lines: Vec<Line>,
}

/// What `reconcile` must do in one table to remove the drift, computed with the findings so the
/// two can never disagree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TablePlan {
    pub table: String,
    /// Owned chains to (re)create and fill: declaring a chain under `--noflush` flushes it.
    pub rebuild: Vec<(String, Vec<String>)>,
    /// Owned chains to flush and delete.
    pub remove: Vec<String>,
    /// Rules to delete from builtin chains (stale or duplicated feeders), one line each.
    pub delete: Vec<(String, String)>,
    /// Missing feeders, in the order they are to be added.
    pub insert: Vec<(String, String)>,
    /// Insert feeders at the top (`-I CHAIN 1`, prepend-iptables-chains) or append them.
    pub prepend: bool,
}

impl TablePlan {
    fn is_empty(&self) -> bool {
        self.rebuild.is_empty()
            && self.remove.is_empty()
            && self.delete.is_empty()
            && self.insert.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub diffs: Vec<ChainDiff>,
    pub plans: Vec<TablePlan>,
}

impl Report {
    pub fn in_sync(&self) -> bool {
        self.findings.is_empty()
    }

    /// `diff -u`-like text: one `#` line per finding, then each differing chain's diff.
    pub fn human(&self) -> String {
        let mut out = String::new();
        if self.in_sync() {
            out.push_str("in sync: every Cilium chain and feeder matches the config\n");
            return out;
        }
        for f in &self.findings {
            let _ = writeln!(out, "# {} {}: {}", f.table, f.chain, f.kind.describe());
        }
        for d in &self.diffs {
            let _ = writeln!(out, "--- expected {}/{}", d.table, d.chain);
            let _ = writeln!(out, "+++ live {}/{}", d.table, d.chain);
            for line in &d.lines {
                let (mark, rule) = match line {
                    Line::Same(r) => (' ', r),
                    Line::Missing(r) => ('-', r),
                    Line::Unexpected(r) => ('+', r),
                };
                let _ = writeln!(out, "{mark}-A {} {rule}", d.chain);
            }
        }
        let tables: std::collections::BTreeSet<&str> =
            self.findings.iter().map(|f| f.table.as_str()).collect();
        let _ = writeln!(
            out,
            "drift: {} finding{} in {} table{}",
            self.findings.len(),
            if self.findings.len() == 1 { "" } else { "s" },
            tables.len(),
            if tables.len() == 1 { "" } else { "s" },
        );
        out
    }

    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            in_sync: bool,
            findings: &'a [Finding],
        }
        let mut text = serde_json::to_string_pretty(&Json {
            in_sync: self.in_sync(),
            findings: &self.findings,
        })
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}

/// The rules of a rendered chain: `Rule`'s Display is already the canonical spelling (the
/// read-back property test holds it to that).
fn desired_specs(rules: &[crate::rules::Rule]) -> Vec<String> {
    rules.iter().map(|r| r.to_string()).collect()
}

fn live_specs(chain: &DumpChain) -> Vec<String> {
    chain.rules.iter().map(|r| r.spec.clone()).collect()
}

/// Longest-common-subsequence diff; chains are short, so O(n·m) is fine.
fn line_diff(expected: &[String], live: &[String]) -> Vec<Line> {
    let (n, m) = (expected.len(), live.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == live[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == live[j] {
            out.push(Line::Same(expected[i].clone()));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Line::Unexpected(live[j].clone()));
            j += 1;
        } else {
            out.push(Line::Missing(expected[i].clone()));
            i += 1;
        }
    }
    out
}

/// A rule in a builtin chain that belongs to Cilium: a feeder by comment, or any jump into an
/// owned chain (after an agent upgrade, `cilium-feeder: CILIUM_X` jumps to `OLD_CILIUM_X`).
fn owned_feeder(rule: &crate::save::DumpRule) -> Option<String> {
    match rule.jump_target() {
        Some(target) if owned(&target) => Some(target),
        _ => rule.feeder_target(),
    }
}

/// Reports an owned chain the config does not render and plans its removal.
fn stale_chain(
    finding: &mut impl FnMut(&str, &str, Kind),
    plan: &mut TablePlan,
    table: &str,
    chain: &DumpChain,
) {
    let rules = chain.rules.len();
    finding(table, &chain.name, Kind::StaleChain { rules });
    plan.remove.push(chain.name.clone());
}

/// Compares `desired` with the live `dump` of the same family.
pub fn diff(desired: &RuleSet, dump: &Dump) -> Report {
    let mut findings = Vec::new();
    let mut finding = |table: &str, chain: &str, kind: Kind| {
        findings.push(Finding {
            table: table.to_string(),
            chain: chain.to_string(),
            kind,
        })
    };
    let mut diffs = Vec::new();
    let mut plans = Vec::new();

    for t in &desired.tables {
        let name = t.table.name();
        let live = dump.table(name);
        let mut plan = TablePlan {
            table: name.to_string(),
            prepend: desired.prepend_feeders,
            ..TablePlan::default()
        };
        let desired_own: Vec<&str> = t
            .chains
            .iter()
            .filter(|c| !c.builtin)
            .map(|c| c.name.as_str())
            .collect();
        for chain in &t.chains {
            let cname = chain.name.as_str();
            let live_chain = live.and_then(|l| l.chain(cname));
            let expected = desired_specs(&chain.rules);
            if chain.builtin {
                // Every rule we render in a builtin chain is a feeder.
                let mut matched: BTreeMap<&str, usize> = BTreeMap::new();
                for rule in live_chain.iter().flat_map(|c| &c.rules) {
                    let Some(target) = owned_feeder(rule) else {
                        continue;
                    };
                    if let Some(spec) = expected.iter().find(|s| **s == rule.spec) {
                        let seen = matched.entry(spec.as_str()).or_default();
                        *seen += 1;
                        if *seen > 1 {
                            plan.delete.push((cname.to_string(), rule.spec.clone()));
                        }
                    } else {
                        finding(name, cname, Kind::StaleFeeder { target });
                        plan.delete.push((cname.to_string(), rule.spec.clone()));
                    }
                }
                // Inserted at the top one by one, the last one inserted ends up first.
                let mut order: Vec<_> = expected.iter().zip(&chain.rules).collect();
                if desired.prepend_feeders {
                    order.reverse();
                }
                for (spec, rule) in order {
                    let target = match &rule.target {
                        crate::rules::Target::Jump(c) => c.to_string(),
                        other => other.to_string(),
                    };
                    match matched.get(spec.as_str()).copied().unwrap_or(0) {
                        0 => {
                            finding(name, cname, Kind::MissingFeeder { target });
                            plan.insert.push((cname.to_string(), spec.clone()));
                        }
                        1 => {}
                        count => finding(name, cname, Kind::DuplicateFeeder { target, count }),
                    }
                }
                continue;
            }
            let Some(live_chain) = live_chain else {
                finding(name, cname, Kind::MissingChain);
                plan.rebuild.push((cname.to_string(), expected.clone()));
                diffs.push(ChainDiff {
                    table: name.to_string(),
                    chain: cname.to_string(),
                    lines: expected.into_iter().map(Line::Missing).collect(),
                });
                continue;
            };
            let got = live_specs(live_chain);
            if expected == got {
                continue;
            }
            let (mut a, mut b) = (expected.clone(), got.clone());
            a.sort();
            b.sort();
            let lines = line_diff(&expected, &got);
            if a == b {
                finding(name, cname, Kind::OutOfOrder);
            } else {
                for line in &lines {
                    match line {
                        Line::Missing(rule) => {
                            finding(name, cname, Kind::MissingRule { rule: rule.clone() })
                        }
                        Line::Unexpected(rule) => {
                            finding(name, cname, Kind::UnexpectedRule { rule: rule.clone() })
                        }
                        Line::Same(_) => {}
                    }
                }
            }
            plan.rebuild.push((cname.to_string(), expected));
            diffs.push(ChainDiff {
                table: name.to_string(),
                chain: cname.to_string(),
                lines,
            });
        }
        for chain in live.iter().flat_map(|l| &l.chains) {
            if !chain.is_builtin()
                && owned(&chain.name)
                && !desired_own.contains(&chain.name.as_str())
            {
                stale_chain(&mut finding, &mut plan, name, chain);
            }
        }
        if !plan.is_empty() {
            plans.push(plan);
        }
    }
    // Tables the config does not render at all may still hold Cilium's leftovers.
    for live in &dump.tables {
        if desired.tables.iter().any(|t| t.table.name() == live.name) {
            continue;
        }
        let mut plan = TablePlan {
            table: live.name.clone(),
            ..TablePlan::default()
        };
        for chain in &live.chains {
            if chain.is_builtin() {
                for rule in &chain.rules {
                    if let Some(target) = owned_feeder(rule) {
                        finding(&live.name, &chain.name, Kind::StaleFeeder { target });
                        plan.delete.push((chain.name.clone(), rule.spec.clone()));
                    }
                }
            } else if owned(&chain.name) {
                stale_chain(&mut finding, &mut plan, &live.name, chain);
            }
        }
        if !plan.is_empty() {
            plans.push(plan);
        }
    }
    Report {
        findings,
        diffs,
        plans,
    }
}
