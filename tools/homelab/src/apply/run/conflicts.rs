//! Field conflicts out of a 409 from server-side apply: each field with the manager
//! that owns it.

use super::*;

/// The conflicts of a 409 from server-side apply, one per field and manager.
pub(crate) fn field_conflicts(error: &RequestError) -> Option<Vec<FieldConflict>> {
    let RequestError::Api {
        code: 409, causes, ..
    } = error
    else {
        return None;
    };
    let conflicts: Vec<FieldConflict> = causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c: &Cause| FieldConflict {
            field: c.field.clone(),
            manager: manager_of(&c.message),
        })
        .collect();
    (!conflicts.is_empty()).then_some(conflicts)
}

/// `conflict with "kubectl-edit" using apps/v1` → `kubectl-edit`.
fn manager_of(message: &str) -> String {
    let rest = message.strip_prefix("conflict with ").unwrap_or(message);
    if let Some(quoted) = rest.strip_prefix('"') {
        if let Some((name, _)) = quoted.split_once('"') {
            return name.to_string();
        }
    }
    rest.split(" using ")
        .next()
        .unwrap_or(rest)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_from_conflict_messages() {
        assert_eq!(
            manager_of("conflict with \"kubectl-edit\" using apps/v1"),
            "kubectl-edit"
        );
        assert_eq!(manager_of("conflict with \"other\""), "other");
        assert_eq!(manager_of("conflict with helm using v1"), "helm");
    }

    #[test]
    fn conflicts_only_from_409() {
        let e = RequestError::Api {
            code: 409,
            reason: "Conflict".into(),
            message: "Apply failed with 1 conflict".into(),
            causes: vec![Cause {
                reason: "FieldManagerConflict".into(),
                message: "conflict with \"other\"".into(),
                field: ".data.key".into(),
            }],
        };
        assert_eq!(
            field_conflicts(&e),
            Some(vec![FieldConflict {
                field: ".data.key".into(),
                manager: "other".into()
            }])
        );
        assert_eq!(field_conflicts(&RequestError::Transport("x".into())), None);
    }
}
