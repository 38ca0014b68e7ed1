//! `amparo audit --format html`: one self-contained page (no scripts, no
//! files beside it, nothing fetched) for reviewers who would rather look
//! than read: the verdict, the checks, a heat map of every table's cells
//! coloured by status, and the findings.
//!
//! The map lays a table out as a grid: one dimension across (the one with
//! the most codes that still fit a screen, at most [`MAX_COLUMNS`]), every
//! combination of the others down, codes in hierarchy order and indented by
//! level. A table larger than [`MAX_MAP_CELLS`] shows the rows with
//! findings first, then the others in order, up to that size.

use std::collections::HashMap;
use std::fmt::Write;

use super::published::{Check, PublishedTable};
use super::report::AuditReport;
use crate::i18n::Lang;

/// Widest dimension laid across the map.
const MAX_COLUMNS: usize = 40;
/// Cells drawn per table; a larger table shows a selection of its rows.
const MAX_MAP_CELLS: usize = 20_000;
/// Findings listed on the page (the JSON report lists them all).
const MAX_FINDINGS: usize = 1_000;

/// A cell's colour on the map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shade {
    Published,
    Hidden,
    PublishedFinding,
    HiddenFinding,
    Unlisted,
}

impl Shade {
    const ALL: [Shade; 5] = [Shade::Published, Shade::Hidden, Shade::PublishedFinding, Shade::HiddenFinding, Shade::Unlisted];

    fn class(self) -> &'static str {
        match self {
            Shade::Published => "p",
            Shade::Hidden => "h",
            Shade::PublishedFinding => "pf",
            Shade::HiddenFinding => "hf",
            Shade::Unlisted => "u",
        }
    }

    fn label(self, lang: Lang) -> String {
        lang.text(&format!("html.legend_{}", self.class()), &[])
    }
}

/// The heat map of one published table, as an HTML fragment. `ids` numbers
/// its cells as the findings do (linked tables), `findings` gives the first
/// finding per numbered cell.
pub(super) fn heat_map(name: &str, table: &PublishedTable, ids: Option<&[usize]>, findings: &HashMap<usize, (Check, String)>, lang: Lang) -> String {
    let cube = &table.cube;
    let dims = cube.dims();
    let across = (0..dims.len())
        .filter(|&d| dims[d].hierarchy.len() <= MAX_COLUMNS)
        .max_by_key(|&d| (dims[d].hierarchy.len(), d))
        .unwrap_or_else(|| (0..dims.len()).min_by_key(|&d| dims[d].hierarchy.len()).unwrap_or(0));
    let down: Vec<usize> = (0..dims.len()).filter(|&d| d != across).collect();
    let width = dims[across].hierarchy.len();
    let rows = cube.len() / width.max(1);
    let stride = cube.strides()[across];
    // Row r's first cell: the coordinates of `down` in row-major order, `across` at 0.
    let first_cell = |r: usize| {
        let mut rest = r;
        let mut cell = 0;
        for &d in down.iter().rev() {
            let n = dims[d].hierarchy.len();
            cell += (rest % n) * cube.strides()[d];
            rest /= n;
        }
        cell
    };
    let number = |cell: usize| ids.map_or(cell, |ids| ids[cell]);
    let shade = |cell: usize| match (table.listed[cell], table.published[cell], findings.contains_key(&number(cell))) {
        (false, _, _) => Shade::Unlisted,
        (true, Some(_), false) => Shade::Published,
        (true, None, false) => Shade::Hidden,
        (true, Some(_), true) => Shade::PublishedFinding,
        (true, None, true) => Shade::HiddenFinding,
    };
    let flagged = |r: usize| (0..width).any(|k| findings.contains_key(&number(first_cell(r) + k * stride)));
    let shown_rows = (MAX_MAP_CELLS / width.max(1)).max(1);
    let mut chosen: Vec<usize> = if rows <= shown_rows {
        (0..rows).collect()
    } else {
        let mut chosen: Vec<usize> = (0..rows).filter(|&r| flagged(r)).take(shown_rows).collect();
        chosen.extend((0..rows).filter(|&r| !flagged(r)).take(shown_rows - chosen.len()));
        chosen
    };
    chosen.sort_unstable();

    let mut out = String::new();
    let _ = write!(out, "<section class=\"map\"><h2>{}</h2>", escape(&lang.text("html.map_title", &[("table", name.into())])));
    let _ = write!(
        out,
        "<p>{}</p>",
        escape(&lang.text("html.map_layout", &[("across", dims[across].name.as_str().into()), ("down", down.iter().map(|&d| dims[d].name.as_str()).collect::<Vec<_>>().join(" × ").into())]))
    );
    if chosen.len() < rows {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(&lang.text("html.rows_cut", &[("shown", chosen.len().into()), ("rows", rows.into())])));
    }
    out.push_str("<div class=\"scroll\"><table class=\"grid\"><thead><tr>");
    for &d in &down {
        let _ = write!(out, "<th>{}</th>", escape(&dims[d].name));
    }
    let h = &dims[across].hierarchy;
    for node in 0..h.len() as u32 {
        let _ = write!(out, "<th class=\"c\" title=\"{}\">{}</th>", escape(h.code(node)), escape(h.code(node)));
    }
    out.push_str("</tr></thead><tbody>");
    for &r in &chosen {
        let cell0 = first_cell(r);
        out.push_str("<tr>");
        for &d in &down {
            let node = cube.coord(cell0, d);
            let hd = &dims[d].hierarchy;
            let _ = write!(out, "<th style=\"padding-left:{}em\">{}</th>", 0.3 + hd.depth(node) as f32 * 0.8, escape(hd.code(node)));
        }
        for k in 0..width {
            let cell = cell0 + k * stride;
            let s = shade(cell);
            let text = match table.published[cell] {
                Some(v) if table.listed[cell] => lang.count(v),
                _ if table.listed[cell] => "x".to_owned(),
                _ => String::new(),
            };
            let mut title = format!("{} — {}", cube.describe(cell), s.label(lang));
            if let Some((_, message)) = findings.get(&number(cell)) {
                let _ = write!(title, ": {message}");
            }
            let _ = write!(out, "<td class=\"{}\" title=\"{}\">{}</td>", s.class(), escape(&title), escape(&text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

/// The whole page.
pub(super) fn page(report: &AuditReport) -> String {
    let lang = report.lang();
    let title = report.title();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        lang.code(),
        escape(&title)
    );
    let _ = writeln!(out, "<h1 class=\"{}\">{}</h1>", if report.passed { "passed" } else { "failed" }, escape(&title));
    let _ = writeln!(out, "<p>{}</p>", escape(&report.summary_line().replace('`', "")));
    for line in report.produced_by_lines() {
        let _ = writeln!(out, "<p class=\"made\">{}</p>", escape(&line.replace('`', "")));
    }
    let column = |k: &str| escape(&lang.text(&format!("report.column_{k}"), &[]));
    let _ = write!(out, "<table class=\"list\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>", column("check"), column("result"), column("findings"));
    for c in &report.checks {
        let result = lang.text(if c.passed { "report.ok" } else { "report.failed" }, &[]);
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            if c.passed { "passed" } else { "failed" },
            escape(&report.check_name(c.check)),
            escape(&result),
            lang.count(c.findings as i64)
        );
    }
    out.push_str("</tbody></table>\n");
    if !report.maps.is_empty() {
        out.push_str("<p class=\"legend\">");
        for s in Shade::ALL {
            let _ = write!(out, "<span><i class=\"{}\"></i>{}</span>", s.class(), escape(&s.label(lang)));
        }
        out.push_str("</p>\n");
        for map in &report.maps {
            out.push_str(map);
        }
    }
    if !report.findings.is_empty() {
        let _ = write!(out, "<h2>{}</h2>", escape(&lang.text("html.findings_title", &[("findings", report.findings.len().into())])));
        let _ = write!(out, "<table class=\"list\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>", column("check"), column("cell"), column("finding"));
        for f in report.findings.iter().take(MAX_FINDINGS) {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&report.check_name(f.check)), escape(&f.cell), escape(&f.message));
        }
        out.push_str("</tbody></table>\n");
        if report.findings.len() > MAX_FINDINGS {
            let _ = write!(out, "<p class=\"note\">{}</p>", escape(&lang.text("report.more", &[("more", (report.findings.len() - MAX_FINDINGS).into())])));
        }
    }
    let _ = write!(
        out,
        "<footer>{}</footer>\n</body></html>\n",
        escape(&lang.text(
            "html.footer",
            &[("version", report.engine_version.as_str().into()), ("policy", report.policy_sha256.as_str().into()), ("report", report.version.to_string().into())]
        ))
    );
    out
}

/// Text for HTML content and attribute values.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Colours that stay apart for the common colour-vision deficiencies
/// (Okabe & Ito), with the status also in each cell's tooltip and text.
const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
h1.passed{color:#0a6e31}h1.failed{color:#b00020}\
table{border-collapse:collapse}\
.list td,.list th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
.list tr.failed td{background:#fde0e0}td.n{text-align:right}\
.scroll{overflow:auto;max-height:80vh;border:1px solid #ccc;margin-bottom:1.5em}\
.grid th,.grid td{font:11px/1.3 ui-monospace,monospace;padding:1px 4px;border:1px solid #fff;white-space:nowrap}\
.grid thead th{position:sticky;top:0;background:#eee}\
.grid tbody th{text-align:left;background:#f6f6f6;font-weight:normal}\
.grid td{text-align:right;min-width:2.5em}\
.p{background:#e8f1fa}.h{background:#56b4e9;color:#fff}.pf{background:#e69f00;color:#000}\
.hf{background:#d55e00;color:#fff;font-weight:bold}.u{background:repeating-linear-gradient(45deg,#eee,#eee 3px,#fff 3px,#fff 6px)}\
.legend span{margin-right:1.2em;white-space:nowrap}.legend i{display:inline-block;width:1em;height:1em;margin-right:.3em;vertical-align:middle;border:1px solid #999}\
.note{color:#555;font-style:italic}footer{margin-top:2em;color:#666;font-size:12px}";
