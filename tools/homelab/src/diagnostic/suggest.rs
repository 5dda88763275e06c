//! "Did you mean …?" for misspelt keys and names.

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(word.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Help for serde's "unknown field `x`, expected one of `a`, `b`" messages: the
/// nearest valid key, or the whole list when none is close.
pub(crate) fn unknown_field_help(message: &str) -> Option<String> {
    let (rest, what) = if let Some(rest) = message.strip_prefix("unknown field `") {
        (rest, "keys")
    } else {
        (message.strip_prefix("unknown variant `")?, "values")
    };
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    if expected.is_empty() {
        return Some(format!(
            "`{field}` is not a key here; this table takes no keys"
        ));
    }
    Some(match did_you_mean(field, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("valid {what} are `{}`", expected.join("`, `")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_key() {
        let m = "unknown field `namspace`, expected one of `name`, `namespace`, `needs`";
        assert_eq!(unknown_field_help(m).unwrap(), "did you mean `namespace`?");
    }

    #[test]
    fn lists_keys_when_nothing_is_close() {
        let m = "unknown field `zzzzzz`, expected `path` or `url`";
        assert_eq!(
            unknown_field_help(m).unwrap(),
            "valid keys are `path`, `url`"
        );
    }

    #[test]
    fn ignores_far_words() {
        assert_eq!(did_you_mean("x", ["namespace"]), None);
        let m = "unknown variant `gateway`, expected one of `control-plane`, `worker`";
        assert_eq!(
            unknown_field_help(m).unwrap(),
            "valid values are `control-plane`, `worker`"
        );
        assert_eq!(did_you_mean("wroker", ["worker", "dns"]), Some("worker"));
    }
}
