//! Messages of reports and findings in several languages, from one
//! catalogue per language (`en.toml`, `es.toml`): translators add a
//! language by adding a file and a line in [`CATALOGUES`], without touching
//! the code that writes messages. Counts are formatted for the language
//! (1,234 in English, 1.234 in Spanish).

use std::collections::HashMap;
use std::sync::OnceLock;

/// Every catalogue: (language code, TOML text). English is the fallback.
const CATALOGUES: &[(&str, &str)] = &[("en", include_str!("en.toml")), ("es", include_str!("es.toml"))];

/// A language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(usize);

impl Lang {
    pub const EN: Lang = Lang(0);

    /// The language with this code (`en`, `es`, or a locale such as `es_CO.UTF-8`).
    pub fn from_code(code: &str) -> Option<Lang> {
        let code = code.split(['_', '-', '.']).next().unwrap_or("").to_ascii_lowercase();
        CATALOGUES.iter().position(|(c, _)| *c == code).map(Lang)
    }

    /// From the environment's locale (LC_ALL, LC_MESSAGES, LANG), else English.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .next()
            .and_then(|l| Lang::from_code(&l))
            .unwrap_or(Lang::EN)
    }

    /// The language a caller asked for (`None`: from the environment), or
    /// an error naming the languages there are.
    pub fn resolve(code: Option<&str>) -> crate::error::Fallible<Lang> {
        match code {
            None => Ok(Lang::from_env()),
            Some(code) => Lang::from_code(code).ok_or_else(|| {
                crate::err!(Policy, "language `{code}`: there are no messages in it; use one of {}", Lang::codes().join(", "))
            }),
        }
    }

    pub fn code(self) -> &'static str {
        CATALOGUES[self.0].0
    }

    /// The codes of every language there is a catalogue for.
    pub fn codes() -> Vec<&'static str> {
        CATALOGUES.iter().map(|(c, _)| *c).collect()
    }

    /// A whole number with this language's thousands separator.
    pub fn count(self, n: i64) -> String {
        let separator = if self.code() == "en" { ',' } else { '.' };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(separator);
            }
            out.push(ch);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// `x` with `places` decimals, the language's decimal mark (51.1 in
    /// English, 51,1 in Spanish).
    pub fn decimal(self, x: f64, places: usize) -> String {
        let text = format!("{x:.places$}");
        if self.code() == "en" { text } else { text.replace('.', ",") }
    }

    /// The message `key` with its `{name}`s filled in.
    pub fn text(self, key: &str, args: &[(&str, Arg)]) -> String {
        let template = catalogue(self.0).get(key).or_else(|| catalogue(0).get(key)).map(String::as_str).unwrap_or(key);
        let mut out = template.to_owned();
        for (name, value) in args {
            let value = match value {
                Arg::Count(n) => self.count(*n),
                Arg::Text(t) => t.clone(),
            };
            out = out.replace(&format!("{{{name}}}"), &value);
        }
        out
    }
}

impl Lang {
    /// A cell's status as people read it (`primary`: "primaria" in Spanish);
    /// the status itself where the catalogue has no label.
    pub fn status(self, status: &str) -> String {
        self.label(&format!("status.{status}")).unwrap_or_else(|| status.to_owned())
    }

    /// A cell's reason as people read it, its numbers kept (`threshold<5`:
    /// "umbral<5"). The catalogue keys reasons by their text with each
    /// number as `{0}`, `{1}`, ...; a reason it lacks stays as written.
    pub fn reason(self, reason: &str) -> String {
        if let Some(rest) = reason.strip_prefix(crate::marks::HEADLINE_REASON) {
            return match rest.strip_prefix(" of ") {
                Some(cell) => self.text("reason.headline_of", &[("cell", cell.into())]),
                None => self.text("reason.headline", &[]),
            };
        }
        let (template, numbers) = numbers_out(reason);
        match self.label(&format!("reason.{template}")) {
            Some(mut text) => {
                for (i, n) in numbers.iter().enumerate() {
                    text = text.replace(&format!("{{{i}}}"), n);
                }
                text
            }
            None => reason.to_owned(),
        }
    }

    /// The catalogue's text for `key`, in this language or English.
    fn label(self, key: &str) -> Option<String> {
        catalogue(self.0).get(key).or_else(|| catalogue(0).get(key)).cloned()
    }
}

/// `reason` with each number (digits, and a decimal part) as `{0}`, `{1}`,
/// ..., and the numbers.
fn numbers_out(reason: &str) -> (String, Vec<String>) {
    let (mut template, mut numbers) = (String::new(), Vec::new());
    let mut chars = reason.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_ascii_digit() {
            template.push(c);
            continue;
        }
        let mut end = start + 1;
        while let Some(&(i, d)) = chars.peek() {
            let decimal = d == '.' && reason[i + 1..].starts_with(|n: char| n.is_ascii_digit());
            if !(d.is_ascii_digit() || decimal) {
                break;
            }
            end = i + d.len_utf8();
            chars.next();
        }
        template.push_str(&format!("{{{}}}", numbers.len()));
        numbers.push(reason[start..end].to_owned());
    }
    (template, numbers)
}

/// A value in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Count(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Count(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Count(n as i64)
    }
}

impl From<String> for Arg {
    fn from(t: String) -> Arg {
        Arg::Text(t)
    }
}

impl From<&str> for Arg {
    fn from(t: &str) -> Arg {
        Arg::Text(t.to_owned())
    }
}

/// A message to be written in any language: its key and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub fn new(key: &'static str, args: Vec<(&'static str, Arg)>) -> Message {
        Message { key, args }
    }

    pub fn render(&self, lang: Lang) -> String {
        lang.text(self.key, &self.args)
    }
}

fn catalogue(index: usize) -> &'static HashMap<String, String> {
    static PARSED: OnceLock<Vec<HashMap<String, String>>> = OnceLock::new();
    &PARSED.get_or_init(|| {
        CATALOGUES.iter().map(|(code, text)| toml::from_str(text).unwrap_or_else(|e| panic!("the {code} message catalogue is not valid TOML: {e}"))).collect()
    })[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_key_with_the_same_placeholders() {
        let placeholders = |t: &str| {
            let mut names: Vec<String> = t.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned())).collect();
            names.sort();
            names
        };
        let english = catalogue(0);
        for (i, (code, _)) in CATALOGUES.iter().enumerate() {
            let other = catalogue(i);
            for (key, text) in english {
                let translated = other.get(key).unwrap_or_else(|| panic!("{code}.toml lacks {key}"));
                assert_eq!(placeholders(text), placeholders(translated), "{code}: {key}");
            }
            assert_eq!(other.len(), english.len(), "{code}.toml has keys English does not");
        }
    }

    #[test]
    fn statuses_and_reasons_are_labelled_with_their_numbers_kept() {
        let es = Lang::from_code("es").unwrap();
        assert_eq!(es.status("primary"), "primaria");
        assert_eq!(es.reason("threshold<5"), "umbral<5");
        assert_eq!(es.reason("controlled rounding to base 10"), "redondeo controlado a base 10");
        assert_eq!(es.reason("discrete Laplace, scale 2.5"), "Laplace discreto, escala 2.5");
        assert_eq!(Lang::EN.reason("threshold<5"), "threshold<5");
        // A reason the catalogue lacks, and a status it lacks, stay as written.
        assert_eq!(es.reason("all 3 of the group are sex=F"), "all 3 of the group are sex=F");
        assert_eq!(es.status("unheard"), "unheard");
        let headline = format!("{} of (district=01)", crate::marks::HEADLINE_REASON);
        assert_eq!(es.reason(&headline), "un total principal, oculto a falta de una protección más barata de (district=01)");
        assert_eq!(Lang::EN.reason(&headline), headline);
        // Every status has a label in every language.
        for status in crate::marks::Status::ALL {
            assert!(catalogue(0).contains_key(&format!("status.{}", status.as_str())), "{status:?}");
        }
    }

    #[test]
    fn counts_and_locales() {
        let es = Lang::from_code("es_CO.UTF-8").unwrap();
        assert_eq!(es.count(1234567), "1.234.567");
        assert_eq!(Lang::EN.count(-1234), "-1,234");
        assert_eq!(Lang::EN.count(999), "999");
        assert_eq!(Lang::from_code("pt_BR"), None);
        assert_eq!(es.text("finding.threshold", &[("cell", "d=1".into()), ("value", 3i64.into()), ("threshold", 5000i64.into())]), "(d=1) se publica como 3, por debajo del umbral de 5.000");
    }
}
