//! `amparo explain`: why one cell of a published table is hidden or
//! flagged, and which published cells would reveal it if they were shown.
//!
//! Everything is computed from the published tables alone, as the audit
//! does: the cell's findings, the attacker's interval for it, the totals it
//! takes part in with the other hidden cells there, and for each of those
//! hidden cells (its protectors) what the attacker could tell about the
//! cell if that one were published. A protector's true value is unknown
//! here, so it is placed in the middle of its own attacker interval (any
//! value in it fits the published cells); what it reveals is the attacker
//! interval of the cell with the protector so published.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::published::{self, PublishedTable};
use crate::attacker::{Attacker, Interval};
use crate::error::Fallible;
use crate::i18n::{Lang, Message};
use crate::io;
use crate::policy::CheckedPolicy;
use crate::rules::OutsiderPromise;
use crate::table::Additive;
use crate::fail;

/// Protectors tried per cell (each costs one attacker model).
const MAX_PROTECTORS: usize = 16;
/// Hidden cells named per total.
const MAX_NAMED: usize = 8;

/// Explain `cell` ("district=D01, sex=F"; a dimension left out is its
/// total) of the published files `paths` (one, or one per linked table).
pub fn explain_files(
    policy: &CheckedPolicy,
    paths: &[PathBuf],
    cell: &str,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
    lang: Lang,
) -> Fallible<String> {
    let readers = paths.iter().map(|p| io::read_table(p)).collect::<Fallible<Vec<_>>>()?;
    let names = paths.iter().map(|p| p.display().to_string()).collect();
    explain_streams(policy, readers, names, &Cell::Text(cell), value_column, hidden_symbols, lang)
}

/// The cell to explain, as a person names it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// "district=D01, sex=F" (commas or semicolons between pairs).
    Text(&'a str),
    /// Dimension and code pairs (a Python dict, an R named vector or list).
    Pairs(&'a [(String, String)]),
    /// One row of a table (a one-row data.frame): its columns that are not
    /// dimensions of the policy (published, status, ...) are left aside.
    Row(&'a [(String, String)]),
}

impl Cell<'_> {
    /// Codes by dimension, and the cell as messages name it.
    fn codes(&self, policy: &CheckedPolicy) -> Fallible<(IndexMap<String, String>, String)> {
        let pairs = match self {
            Cell::Text(text) => return Ok((parse_cell(text)?, text.trim().to_owned())),
            Cell::Pairs(pairs) => pairs.to_vec(),
            Cell::Row(row) => row.iter().filter(|(name, _)| policy.dimensions.iter().any(|d| &d.name == name)).cloned().collect(),
        };
        let named = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        let mut codes = IndexMap::new();
        for (name, code) in pairs {
            if codes.insert(name.trim().to_owned(), code.trim().to_owned()).is_some() {
                fail!(Policy, "cell `{named}` names dimension `{}` twice; name each dimension once", name.trim());
            }
        }
        Ok((codes, named))
    }
}

/// [`explain_files`] over streams named `names` (the frontends' data frames).
pub fn explain_streams(
    policy: &CheckedPolicy,
    readers: Vec<io::BatchReader>,
    names: Vec<String>,
    cell: &Cell<'_>,
    value_column: Option<&str>,
    hidden_symbols: Option<&[String]>,
    lang: Lang,
) -> Fallible<String> {
    let (codes, cell) = cell.codes(policy)?;
    let names = super::report::named_in(names, lang);
    let tables = super::read_published_tables(policy, readers, value_column, hidden_symbols)?;
    let promise = OutsiderPromise::of_policy(policy);
    let promise = promise.as_ref();
    if policy.linked_tables().is_empty() {
        let table = &tables[0];
        let target = table.cube.find_cell(&codes, "the cell to explain")?;
        let audit = published::audit_published(policy, table)?;
        let view = View { table: &table.cube, published: &table.published, listed: &table.listed };
        explain(&view, target, &audit, table.stated.get(&target), &names[0], promise, lang)
    } else {
        let joined = published::link_published(&tables)?;
        let Some(t) = tables.iter().position(|t| codes.keys().all(|name| t.cube.dims().iter().any(|d| &d.name == name))) else {
            fail!(Policy, "no linked table has every dimension the cell names ({}); name the cell by the dimensions of one table", cell);
        };
        let local = tables[t].cube.find_cell(&codes, "the cell to explain")?;
        let target = joined.linked.linked[t][local];
        let audit = published::audit_linked(policy, &joined)?;
        let stated = stated_anywhere(&tables, &joined.linked.linked, target);
        let view = View { table: &joined.linked, published: &joined.published, listed: &joined.listed };
        explain(&view, target, &audit, stated, &names[t], promise, lang)
    }
}

/// A statement of a hidden cell's status in whichever linked table has one.
fn stated_anywhere<'a>(tables: &'a [PublishedTable], ids: &[Vec<usize>], target: usize) -> Option<&'a (String, String)> {
    tables.iter().zip(ids).find_map(|(t, ids)| ids.iter().position(|&g| g == target).and_then(|c| t.stated.get(&c)))
}

/// "district=D01, sex=F" (commas or semicolons between pairs) as codes by dimension.
fn parse_cell(cell: &str) -> Fallible<IndexMap<String, String>> {
    let mut codes = IndexMap::new();
    for part in cell.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, code)) = part.split_once('=') else {
            fail!(
                Policy,
                "cell `{}`: `{part}` is not dimension=code; write the cell as pairs such as district=D01,sex=F (a dimension left out is its total)",
                cell.trim()
            );
        };
        if codes.insert(name.trim().to_owned(), code.trim().to_owned()).is_some() {
            fail!(Policy, "cell `{}` names dimension `{}` twice; name each dimension once", cell.trim(), name.trim());
        }
    }
    Ok(codes)
}

/// The published tables as one: cells, published values (`None` hidden) and listed cells.
struct View<'a> {
    table: &'a dyn Additive,
    published: &'a [Option<i64>],
    listed: &'a [bool],
}

fn explain(
    view: &View<'_>,
    target: usize,
    audit: &published::PublishedAudit,
    stated: Option<&(String, String)>,
    table_name: &str,
    promise: Option<&OutsiderPromise>,
    lang: Lang,
) -> Fallible<String> {
    let place = view.table.describe(target);
    let mut lines = vec![lang.text("explain.cell", &[("cell", place.as_str().into()), ("table", table_name.into())])];
    match view.published[target] {
        Some(v) => lines.push(lang.text("explain.published", &[("value", v.into())])),
        None if view.listed[target] => lines.push(lang.text("explain.hidden", &[])),
        None => lines.push(lang.text("explain.not_listed", &[])),
    }
    if let Some((status, reason)) = stated {
        let status = lang.status(status);
        let stated = if reason.is_empty() { status } else { format!("{status}: {}", lang.reason(reason)) };
        lines.push(lang.text("explain.stated", &[("stated", stated.into())]));
    }
    let findings: Vec<&published::PublishedFinding> = audit.findings.iter().filter(|f| f.cell == target && !f.place.is_empty()).collect();
    for f in &findings {
        lines.push(lang.text("explain.finding", &[("check", lang.text(&format!("check.{}", f.check.as_str()), &[]).into()), ("message", f.text.render(lang).into())]));
    }
    if findings.is_empty() {
        lines.push(lang.text("explain.no_finding", &[]));
    }
    if view.published[target].is_some() {
        return Ok(lines.join("\n") + "\n");
    }

    let mut attacker = Attacker::new(view.table, view.published)?;
    let interval = attacker.interval(target)?;
    lines.push(describe_interval("explain.interval", &interval, lang));
    // Judged as `amparo audit` judges it: the outsider's promise.
    let threshold = promise.map(OutsiderPromise::threshold);
    if let Some(p) = promise {
        let n = p.threshold();
        let line = match p.required(interval.lower, interval.upper) {
            None => lang.text("explain.not_small", &[("lower", interval.lower.into()), ("threshold", n.into())]),
            Some(_) if interval.upper.is_some_and(|u| u < n) => lang.text("explain.threshold_not_reached", &[("threshold", n.into())]),
            Some((low, high)) => lang.text(
                if p.holds(interval.lower, interval.upper) { "explain.promise_kept" } else { "explain.promise_broken" },
                &[("need_lower", low.into()), ("need_upper", lang.count(high).into())],
            ),
        };
        lines.push(line);
    }

    // The totals the cell takes part in, and the other hidden cells there.
    let constraints: Vec<crate::table::Constraint> =
        view.table.constraints().into_iter().filter(|c| c.total == target || c.parts.contains(&target)).collect();
    let mut protectors: Vec<usize> = Vec::new();
    let mut totals = Vec::new();
    for con in &constraints {
        let hidden_here: Vec<usize> = std::iter::once(con.total).chain(con.parts.iter().copied()).filter(|&c| c != target && view.published[c].is_none()).collect();
        for &c in &hidden_here {
            if !protectors.contains(&c) {
                protectors.push(c);
            }
        }
        let total = match view.published[con.total] {
            Some(v) => lang.count(v),
            None => "x".to_owned(),
        };
        let mut named: Vec<String> = hidden_here.iter().take(MAX_NAMED).map(|&c| format!("({})", view.table.describe(c))).collect();
        if hidden_here.len() > MAX_NAMED {
            named.push(lang.text("explain.more", &[("more", (hidden_here.len() - MAX_NAMED).into())]));
        }
        let hidden_text = if named.is_empty() { lang.text("explain.none", &[]) } else { named.join(", ") };
        totals.push(lang.text(
            "explain.total",
            &[("total", view.table.describe(con.total).into()), ("value", total.into()), ("parts", con.parts.len().into()), ("hidden", hidden_text.into())],
        ));
    }
    if !totals.is_empty() {
        lines.push(lang.text("explain.totals_title", &[]));
        lines.extend(totals.into_iter().map(|t| format!("  {t}")));
    }
    if protectors.is_empty() {
        lines.push(lang.text("explain.no_protectors", &[]));
        return Ok(lines.join("\n") + "\n");
    }
    lines.push(lang.text("explain.protectors_title", &[]));
    for &p in protectors.iter().take(MAX_PROTECTORS) {
        let own = attacker.interval(p)?;
        let value = own.upper.map_or(own.lower, |u| own.lower + (u - own.lower) / 2);
        let mut shown = view.published.to_vec();
        shown[p] = Some(value);
        let after = Attacker::new(view.table, &shown)?.interval(target)?;
        let args = |key: &'static str| {
            Message::new(
                key,
                vec![
                    ("cell", view.table.describe(p).into()),
                    ("value", value.into()),
                    ("lower", after.lower.into()),
                    ("upper", after.upper.map_or_else(|| "∞".to_owned(), |u| lang.count(u)).into()),
                    ("threshold", threshold.unwrap_or(0).into()),
                ],
            )
        };
        let message = match (after.upper, threshold) {
            (Some(u), _) if u == after.lower => args("explain.reveal_exact"),
            (Some(u), Some(n)) if u < n => args("explain.reveal_below"),
            _ if promise.is_some_and(|p| !p.holds(after.lower, after.upper)) => args("explain.reveal_promise"),
            _ if after != interval => args("explain.reveal_narrower"),
            _ => args("explain.reveal_nothing"),
        };
        lines.push(format!("  {}", message.render(lang)));
    }
    if protectors.len() > MAX_PROTECTORS {
        lines.push(format!("  {}", lang.text("explain.more", &[("more", (protectors.len() - MAX_PROTECTORS).into())])));
    }
    Ok(lines.join("\n") + "\n")
}

fn describe_interval(key: &'static str, interval: &Interval, lang: Lang) -> String {
    match interval.upper {
        Some(u) => lang.text(key, &[("lower", interval.lower.into()), ("upper", lang.count(u).into())]),
        None => lang.text(&format!("{key}_unbounded"), &[("lower", interval.lower.into())]),
    }
}
