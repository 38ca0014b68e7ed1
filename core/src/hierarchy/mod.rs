//! A dimension's tree of codes.
//!
//! The root is the dimension's total; every other code has exactly one parent.
//! Nodes are stored in preorder (a parent before its descendants, children in
//! publication order), which fixes the order of the output rows and lets
//! margins be computed by one pass in reverse order.
//!
//! Four ways to build one (see [`HierarchySpec`], which the policy's `[dimensions]` sections give): an explicit
//! tree, a codes table with a parent column, prefix nesting by code length
//! (DIVIPOLA `05` > `05001`, INEGI), or a flat list under a generated total.

use indexmap::IndexMap;
use rustc_hash::FxHashMap;

use crate::error::Fallible;
use crate::fail;

/// How one dimension's hierarchy is specified, after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum HierarchySpec {
    /// Flat, codes found in the data, under `total`.
    FlatFromData { total: String },
    /// Flat, listed codes, under `total`.
    FlatListed { total: String, codes: Vec<String> },
    /// Explicit parent -> children map.
    Tree { edges: IndexMap<String, Vec<String>> },
    /// (code, parent) pairs read from a codes table. A table with one root row
    /// (empty parent) uses it as the total, unless `total` names another code;
    /// otherwise the roots hang from `total` (default `Total`).
    Table { total: Option<String>, pairs: Vec<(String, Option<String>)>, source: String },
    /// Prefix nesting by code length, codes from the data, under `total`.
    CodeLengths { total: String, lengths: Vec<usize> },
}

impl HierarchySpec {
    /// The specification with every code as the engine compares codes
    /// ([`normalize_code`]).
    pub fn normalized(&self) -> HierarchySpec {
        let n = |c: &String| normalize_code(c).into_owned();
        match self {
            HierarchySpec::FlatFromData { total } => HierarchySpec::FlatFromData { total: n(total) },
            HierarchySpec::FlatListed { total, codes } => HierarchySpec::FlatListed { total: n(total), codes: codes.iter().map(n).collect() },
            HierarchySpec::Tree { edges } => HierarchySpec::Tree { edges: edges.iter().map(|(p, kids)| (n(p), kids.iter().map(n).collect())).collect() },
            HierarchySpec::Table { total, pairs, source } => HierarchySpec::Table {
                total: total.as_ref().map(n),
                pairs: pairs.iter().map(|(c, p)| (n(c), p.as_ref().map(n))).collect(),
                source: source.clone(),
            },
            HierarchySpec::CodeLengths { total, lengths } => HierarchySpec::CodeLengths { total: n(total), lengths: lengths.clone() },
        }
    }
}

/// A code as the engine compares it, everywhere (input, policy, published
/// tables, cells named by a person): without the spaces around it, in
/// Unicode normal form C, so `"a "` and `"a"` are one code, and so are
/// `Panamá` typed with a precomposed `á` and with `a` + a combining accent.
pub fn normalize_code(code: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    let trimmed = code.trim();
    if trimmed.is_ascii() || is_nfc_quick(trimmed.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(trimmed)
    } else {
        std::borrow::Cow::Owned(trimmed.nfc().collect())
    }
}

/// A tree of codes for one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    dimension: String,
    codes: Vec<String>,
    parent: Vec<Option<u32>>,
    children: Vec<Vec<u32>>,
    depth: Vec<u32>,
    index: FxHashMap<String, u32>,
}

/// Where an observed code was first seen, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct CodeOrigin<'a> {
    pub column: &'a str,
    /// 1-based data row.
    pub row: u64,
}

impl Hierarchy {
    /// Build from a validated specification. `observed` are the codes found in
    /// the data with where each was first seen; for specifications with a fixed
    /// list of codes, an observed code outside the list is an error naming it.
    pub fn build(dimension: &str, spec: &HierarchySpec, observed: &[(&str, CodeOrigin<'_>)]) -> Fallible<Hierarchy> {
        let spec = &spec.normalized();
        let h = match spec {
            HierarchySpec::FlatFromData { total } => {
                let mut codes: Vec<&str> = observed.iter().map(|(c, _)| *c).filter(|c| c != total).collect();
                codes.sort_unstable();
                codes.dedup();
                Self::flat(dimension, total, codes.iter().copied())?
            }
            HierarchySpec::FlatListed { total, codes } => Self::flat(dimension, total, codes.iter().map(String::as_str))?,
            HierarchySpec::Tree { edges } => {
                let pairs = edges
                    .iter()
                    .flat_map(|(parent, kids)| kids.iter().map(move |k| (k.as_str(), Some(parent.as_str()))));
                let roots: Vec<&str> = edges.keys().map(String::as_str).collect();
                Self::from_pairs(dimension, None, pairs, &roots, "the policy's tree")?
            }
            HierarchySpec::Table { total, pairs, source } => {
                let roots: Vec<&str> = pairs.iter().filter(|(_, p)| p.is_none()).map(|(c, _)| c.as_str()).collect();
                let generated = match (total.as_deref(), roots.as_slice()) {
                    (None, [_]) => None,
                    (Some(t), [root]) if t == *root => None,
                    (t, _) => Some(t.unwrap_or("Total")),
                };
                let p = pairs.iter().map(|(c, p)| (c.as_str(), p.as_deref()));
                Self::from_pairs(dimension, generated, p, &[], &format!("codes file {source}"))?
            }
            HierarchySpec::CodeLengths { total, lengths } => Self::from_code_lengths(dimension, total, lengths, observed)?,
        };
        for (code, origin) in observed {
            if !h.index.contains_key(*code) {
                let near = crate::suggest::suggest_code(code, h.codes.iter().map(String::as_str));
                fail!(
                    Hierarchy,
                    "code `{code}` in column `{}` (first at row {}) is not in the hierarchy of dimension `{dimension}`{near}; \
                     correct the data or add the code to the hierarchy in the policy",
                    origin.column,
                    origin.row
                );
            }
        }
        Ok(h)
    }

    fn flat<'a>(dimension: &str, total: &str, codes: impl Iterator<Item = &'a str>) -> Fallible<Hierarchy> {
        let pairs: Vec<(&str, Option<&str>)> = codes.map(|c| (c, Some(total))).collect();
        if pairs.iter().any(|(c, _)| *c == total) {
            fail!(Hierarchy, "dimension `{dimension}` lists `{total}` as a code, but that is the name of its generated total; rename the total with `total = \"...\"`");
        }
        Self::from_pairs(dimension, Some(total), pairs.into_iter(), &[], "the policy's codes")
    }

    /// General builder from (code, parent) pairs. Pairs with a `None` parent
    /// hang from `generated_total`. `extra_codes` are codes that exist even if
    /// nobody lists them as a child (the keys of an explicit tree).
    fn from_pairs<'a>(
        dimension: &str,
        generated_total: Option<&'a str>,
        pairs: impl Iterator<Item = (&'a str, Option<&'a str>)>,
        extra_codes: &[&'a str],
        source: &str,
    ) -> Fallible<Hierarchy> {
        let mut order: Vec<&str> = Vec::new();
        let mut id: FxHashMap<&str, usize> = FxHashMap::default();
        let mut parent_of: Vec<Option<usize>> = Vec::new();
        let mut intern = |code: &'a str, order: &mut Vec<&'a str>, parent_of: &mut Vec<Option<usize>>| -> usize {
            *id.entry(code).or_insert_with(|| {
                order.push(code);
                parent_of.push(None);
                order.len() - 1
            })
        };
        let total_id = generated_total.map(|t| intern(t, &mut order, &mut parent_of));
        for code in extra_codes {
            intern(code, &mut order, &mut parent_of);
        }
        for (code, parent) in pairs {
            if code.is_empty() {
                fail!(Hierarchy, "{source} of dimension `{dimension}` has an empty code; every code needs a name");
            }
            let c = intern(code, &mut order, &mut parent_of);
            let p = match (parent, total_id) {
                (Some(p), _) if !p.is_empty() => intern(p, &mut order, &mut parent_of),
                (_, Some(t)) => t,
                (_, None) => continue,
            };
            if p == c {
                fail!(Hierarchy, "{source} of dimension `{dimension}` makes `{code}` its own parent; a code cannot contain itself");
            }
            if Some(c) == total_id {
                fail!(Hierarchy, "{source} of dimension `{dimension}` gives the total `{code}` a parent; the total is the top of the hierarchy: rename the code or the total");
            }
            match parent_of[c] {
                Some(existing) if existing != p => fail!(
                    Hierarchy,
                    "code `{code}` has two parents in {source} of dimension `{dimension}` (`{}` and `{}`); each code must sit in exactly one place",
                    order[existing],
                    order[p]
                ),
                Some(_) => fail!(Hierarchy, "code `{code}` is listed twice under `{}` in {source} of dimension `{dimension}`; list it once", order[p]),
                None => parent_of[c] = Some(p),
            }
        }
        let roots: Vec<usize> = (0..order.len()).filter(|&i| parent_of[i].is_none()).collect();
        let root = match roots.as_slice() {
            [r] => *r,
            [] => {
                // Every code has a parent, so following parents never ends: a cycle.
                fail!(Hierarchy, "{source} of dimension `{dimension}` has a cycle (every code has a parent, so none is the total); make one code the root")
            }
            many => fail!(
                Hierarchy,
                "{source} of dimension `{dimension}` has {} top-level codes ({}); a hierarchy has one root: put them under a common total",
                many.len(),
                many.iter().take(5).map(|&i| format!("`{}`", order[i])).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
        for (c, p) in parent_of.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(c);
            }
        }
        // Preorder walk from the root; codes it never reaches sit on a cycle.
        let mut pre: Vec<usize> = Vec::with_capacity(order.len());
        let mut depth_of = vec![0u32; order.len()];
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            pre.push(n);
            for &k in children[n].iter().rev() {
                depth_of[k] = depth_of[n] + 1;
                stack.push(k);
            }
        }
        if pre.len() != order.len() {
            let mut reached = vec![false; order.len()];
            pre.iter().for_each(|&n| reached[n] = true);
            let stuck = (0..order.len()).find(|&i| !reached[i]).expect("some code was not reached");
            fail!(Hierarchy, "{source} of dimension `{dimension}` has a cycle through `{}`: following its parents never reaches the total `{}`; break the cycle", order[stuck], order[root]);
        }
        let mut new_id = vec![0u32; order.len()];
        for (i, &n) in pre.iter().enumerate() {
            new_id[n] = i as u32;
        }
        let codes: Vec<String> = pre.iter().map(|&n| order[n].to_owned()).collect();
        let parent = pre.iter().map(|&n| parent_of[n].map(|p| new_id[p])).collect();
        let children = pre.iter().map(|&n| children[n].iter().map(|&k| new_id[k]).collect()).collect();
        let depth = pre.iter().map(|&n| depth_of[n]).collect();
        let index = codes.iter().enumerate().map(|(i, c)| (c.clone(), i as u32)).collect();
        Ok(Hierarchy { dimension: dimension.to_owned(), codes, parent, children, depth, index })
    }

    fn from_code_lengths(dimension: &str, total: &str, lengths: &[usize], observed: &[(&str, CodeOrigin<'_>)]) -> Fallible<Hierarchy> {
        let mut codes: Vec<&str> = Vec::with_capacity(observed.len());
        for (code, origin) in observed {
            if *code == total {
                continue;
            }
            let n = code.chars().count();
            if !lengths.contains(&n) {
                fail!(
                    Hierarchy,
                    "code `{code}` in column `{}` (first at row {}) has {n} characters, but dimension `{dimension}` nests codes of lengths {lengths:?}; \
                     correct the code (a lost leading zero?) or change `code_lengths`",
                    origin.column,
                    origin.row
                );
            }
            if !code.is_char_boundary(n.min(code.len())) || !code.is_ascii() {
                fail!(Hierarchy, "code `{code}` in column `{}` is not plain ASCII; codes that nest by length must be ASCII", origin.column);
            }
            codes.push(code);
        }
        // Every prefix at a shorter listed length is an ancestor, present in the data or not.
        let mut all: Vec<&str> = Vec::with_capacity(codes.len() * 2);
        for code in &codes {
            for &l in lengths.iter().filter(|&&l| l <= code.len()) {
                all.push(&code[..l]);
            }
        }
        all.sort_unstable();
        all.dedup();
        let pairs = all.iter().map(|&c| {
            let level = lengths.iter().position(|&l| l == c.len()).expect("every code has a listed length");
            let parent = if level == 0 { None } else { Some(&c[..lengths[level - 1]]) };
            (c, parent)
        });
        Self::from_pairs(dimension, Some(total), pairs, &[], "the code lengths")
    }

    pub fn dimension(&self) -> &str {
        &self.dimension
    }
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
    /// The total (always node 0: preorder starts at the root).
    pub fn root(&self) -> u32 {
        0
    }
    pub fn code(&self, node: u32) -> &str {
        &self.codes[node as usize]
    }
    pub fn codes(&self) -> &[String] {
        &self.codes
    }
    /// The node of a code (compared as [`normalize_code`] says).
    pub fn node(&self, code: &str) -> Option<u32> {
        self.index.get(&*normalize_code(code)).copied()
    }
    pub fn parent(&self, node: u32) -> Option<u32> {
        self.parent[node as usize]
    }
    pub fn children(&self, node: u32) -> &[u32] {
        &self.children[node as usize]
    }
    pub fn depth(&self, node: u32) -> u32 {
        self.depth[node as usize]
    }
    pub fn is_leaf(&self, node: u32) -> bool {
        self.children[node as usize].is_empty()
    }
    pub fn leaves(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.codes.len() as u32).filter(|&n| self.is_leaf(n))
    }
}

#[cfg(test)]
mod tests;
