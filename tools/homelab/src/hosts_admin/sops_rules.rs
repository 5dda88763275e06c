//! Adding and removing one host's creation rule in `.sops.yaml` as text, so the
//! file's comments, anchors and order stay as the user wrote them. The host's rule goes
//! first: sops uses the first rule whose `path_regex` matches.

/// The `path_regex` line of a host's rule.
fn regex_line(name: &str) -> String {
    format!("path_regex: secrets/hosts/{name}\\.yaml$")
}

/// Whether `.sops.yaml` already has a rule for the host's file.
pub(super) fn has_rule(text: &str, name: &str) -> bool {
    let line = regex_line(name);
    text.lines()
        .any(|l| l.trim_start().trim_start_matches("- ") == line)
}

/// `text` with the host's rule inserted at the top of `creation_rules`; `None` when
/// the file has no `creation_rules:` line.
pub(super) fn insert_rule(text: &str, name: &str, recipients: &[String]) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_end() == "creation_rules:")?;
    let indent = lines[at + 1..]
        .iter()
        .find(|l| l.trim_start().starts_with("- "))
        .map_or(2, |l| l.len() - l.trim_start().len());
    let pad = " ".repeat(indent);
    let mut block = vec![
        format!(
            "{pad}# Host {name}'s own secrets: {name} (its SSH host key, as age) and the admins."
        ),
        format!("{pad}- {}", regex_line(name)),
        format!("{pad}  key_groups:"),
        format!("{pad}    - age:"),
    ];
    block.extend(recipients.iter().map(|r| format!("{pad}        - {r}")));
    let mut out: Vec<String> = lines[..=at].iter().map(|l| l.to_string()).collect();
    out.extend(block);
    out.extend(lines[at + 1..].iter().map(|l| l.to_string()));
    Some(out.join("\n") + "\n")
}

/// `text` without the host's rule (and the comment lines right above it); `None` when
/// there is no such rule.
pub(super) fn remove_rule(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let wanted = format!("- {}", regex_line(name));
    let start = lines.iter().position(|l| l.trim() == wanted)?;
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut first = start;
    while first > 0
        && lines[first - 1].trim_start().starts_with('#')
        && indent_of(lines[first - 1]) == indent
    {
        first -= 1;
    }
    let mut end = start + 1;
    while end < lines.len() && (lines[end].trim().is_empty() || indent_of(lines[end]) > indent) {
        end += 1;
    }
    let mut out: Vec<&str> = lines[..first].to_vec();
    out.extend(&lines[end..]);
    // The host's `&host_<name>` anchor under `keys:`, once nothing refers to it.
    let anchor = format!("&host_{name} ");
    if !out.iter().any(|l| l.contains(&format!("*host_{name}"))) {
        out.retain(|l| !l.trim_start().trim_start_matches("- ").starts_with(&anchor));
    }
    Some(out.join("\n") + "\n")
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "keys:\n  - &admin age1admin\ncreation_rules:\n  # env\n  - path_regex: secrets/(dev|prod)\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n";

    #[test]
    fn insert_then_remove_restores_the_file() {
        let added = insert_rule(CONFIG, "n1", &["age1admin".into(), "age1host".into()]).unwrap();
        assert!(has_rule(&added, "n1"), "{added}");
        assert!(!has_rule(&added, "n2"));
        let rule_at = added.find("secrets/hosts/n1").unwrap();
        assert!(
            rule_at < added.find("(dev|prod)").unwrap(),
            "the host rule must come first:\n{added}"
        );
        assert!(added.contains("        - age1host\n"), "{added}");
        assert_eq!(remove_rule(&added, "n1").unwrap(), CONFIG);
    }

    #[test]
    fn remove_keeps_other_rules() {
        let two = insert_rule(
            &insert_rule(CONFIG, "a", &["x".into()]).unwrap(),
            "b",
            &["y".into()],
        )
        .unwrap();
        let one = remove_rule(&two, "a").unwrap();
        assert!(has_rule(&one, "b") && !has_rule(&one, "a"), "{one}");
        assert!(remove_rule(CONFIG, "a").is_none());
    }

    #[test]
    fn remove_drops_the_hosts_unused_anchor() {
        let config = "keys:\n  - &admin age1admin\n  - &host_h age1h\n  - &host_g age1g\ncreation_rules:\n  - path_regex: secrets/hosts/h\\.yaml$\n    key_groups:\n      - age:\n          - *admin\n          - *host_h\n  - path_regex: secrets/hosts/g\\.yaml$\n    key_groups:\n      - age:\n          - *host_g\n";
        let left = remove_rule(config, "h").unwrap();
        assert!(!left.contains("host_h"), "{left}");
        assert!(left.contains("&host_g age1g"), "{left}");
    }

    #[test]
    fn no_creation_rules_is_none() {
        assert!(insert_rule("keys: []\n", "a", &[]).is_none());
    }
}
