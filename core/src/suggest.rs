//! Turn TOML/serde errors into messages that name the offending key and the
//! nearest valid one ("unknown key `thresold` ... did you mean `threshold`?").

/// The valid name closest to `wrong` (Levenshtein distance), if any.
pub fn nearest<'a>(wrong: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    valid
        .into_iter()
        .min_by_key(|v| strsim::levenshtein(&wrong.to_lowercase(), &v.to_lowercase()))
}

/// serde writes unknown keys and variants as
/// "unknown field `x`, expected one of `a`, `b`" (or "expected `a`",
/// "expected `a` or `b`"); pull the wrong name and the valid ones out of it.
fn parse_unknown(message: &str) -> Option<(&'static str, String, Vec<String>)> {
    let (what, rest) = if let Some(r) = message.split_once("unknown field `") {
        ("key", r.1)
    } else if let Some(r) = message.split_once("unknown variant `") {
        ("value", r.1)
    } else {
        return None;
    };
    let (wrong, tail) = rest.split_once('`')?;
    let valid: Vec<String> = tail
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect();
    Some((what, wrong.to_owned(), valid))
}

/// A policy-file parse error, with the line and the nearest valid key where one applies.
pub fn explain_toml_error(e: &toml::de::Error, text: &str) -> String {
    let location = e.span().map(|span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    });
    let location = location.unwrap_or_default();
    let message = e.message().trim().to_owned();
    if let Some((what, wrong, valid)) = parse_unknown(&message) {
        let hint = match nearest(&wrong, valid.iter().map(String::as_str)) {
            Some(best) => format!("; did you mean `{best}`?"),
            None => String::new(),
        };
        let listing = if valid.is_empty() {
            "no keys are allowed here".to_owned()
        } else {
            format!("valid {what}s here: {}", valid.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
        };
        return format!("in the policy file{location}: unknown {what} `{wrong}`{hint} ({listing})");
    }
    if message.starts_with("missing field") {
        let field = message.split('`').nth(1).unwrap_or("?");
        return format!("in the policy file{location}: required key `{field}` is missing; add it (see schema/policy.schema.json)");
    }
    format!("in the policy file{location}: {message}")
}

/// A parse error of policy text Amparo generated (from a dict, a list or
/// overrides), located by its section rather than by a line the person
/// never saw: "in the policy file (line 10): ..." becomes "in the policy's
/// [rounding] section: ...".
pub fn by_section(message: &str, text: &str) -> String {
    let Some(rest) = message.strip_prefix("in the policy file (line ") else { return message.to_owned() };
    let Some((line, tail)) = rest.split_once("):") else { return message.to_owned() };
    let Ok(line) = line.parse::<usize>() else { return message.to_owned() };
    let section = text
        .lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix('['))
        .last()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').trim().to_owned());
    match section {
        Some(s) => format!("in the policy's [{s}] section:{tail}"),
        None => format!("at the policy's top level:{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_generated_text_name_the_section_not_the_line() {
        let text = "version = 1\n\n[rounding]\nbse = 5\n\n[dimensions.sex]\ncodez = 1\n";
        assert_eq!(by_section("in the policy file (line 4): unknown key `bse`", text), "in the policy's [rounding] section: unknown key `bse`");
        assert_eq!(by_section("in the policy file (line 7): unknown key `codez`", text), "in the policy's [dimensions.sex] section: unknown key `codez`");
        assert_eq!(by_section("in the policy file (line 1): bad", text), "at the policy's top level: bad");
        assert_eq!(by_section("[primary] threshold must be above 0", text), "[primary] threshold must be above 0");
    }

    #[test]
    fn nearest_valid_key_is_the_closest_by_edit_distance() {
        assert_eq!(nearest("thresold", ["threshold", "zeros"]), Some("threshold"));
        assert_eq!(nearest("zero", ["threshold", "zeros"]), Some("zeros"));
    }

    #[test]
    fn serde_unknown_field_messages_are_parsed() {
        let (what, wrong, valid) = parse_unknown("unknown field `thresold`, expected `threshold` or `zeros`").unwrap();
        assert_eq!((what, wrong.as_str()), ("key", "thresold"));
        assert_eq!(valid, vec!["threshold", "zeros"]);
    }
}

/// "; did you mean `X`" when a valid code is close to a wrong one, else "".
/// Unlike keys, codes are only suggested when close: a list of 1,122
/// municipalities always has a nearest one, and naming a far one misleads.
pub fn suggest_code<'a>(wrong: &str, valid: impl IntoIterator<Item = &'a str>) -> String {
    let best = valid.into_iter().map(|v| (strsim::levenshtein(wrong, v), v)).min();
    match best {
        Some((d, v)) if d <= 2.max(wrong.chars().count() / 3) => format!(" (did you mean `{v}`?)"),
        _ => String::new(),
    }
}
