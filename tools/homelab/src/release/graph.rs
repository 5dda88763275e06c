//! The order releases are applied in: every release after the ones it `needs`.

use std::collections::{BTreeMap, BTreeSet};

use super::load::LoadedRelease;
use crate::diagnostic::Diagnostic;

/// Sorts releases so each comes after its `needs`, ties broken by name so the order is
/// stable. A cycle is reported with its full path at the first release in it.
///
/// # Errors
/// Only for cycles; unknown `needs` targets must be checked first (they are ignored here).
pub(crate) fn dependency_order(
    releases: Vec<LoadedRelease>,
) -> Result<Vec<LoadedRelease>, Diagnostic> {
    let index: BTreeMap<&str, usize> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name(), i))
        .collect();
    let needs: Vec<Vec<usize>> = releases
        .iter()
        .map(|r| {
            r.release()
                .needs
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied())
                .collect()
        })
        .collect();
    if let Some(cycle) = find_cycle(&needs) {
        let first = &releases[cycle[0]];
        let names: Vec<&str> = cycle
            .iter()
            .chain(std::iter::once(&cycle[0]))
            .map(|&i| releases[i].name())
            .collect();
        let next = releases[cycle[1 % cycle.len()]].name();
        let position = first
            .release()
            .needs
            .iter()
            .position(|n| n == next)
            .unwrap_or(0);
        return Err(first
            .toml
            .error_at(
                &format!("needs[{position}]"),
                format!(
                    "Releases depend on each other in a cycle: {}",
                    names.join(" → ")
                ),
            )
            .with_label("this dependency closes the cycle")
            .with_help("remove one of these `needs` entries"));
    }

    let mut remaining: Vec<usize> = needs.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); releases.len()];
    for (i, deps) in needs.iter().enumerate() {
        for &d in deps {
            dependents[d].push(i);
        }
    }
    let mut ready: BTreeSet<(&str, usize)> = (0..releases.len())
        .filter(|&i| remaining[i] == 0)
        .map(|i| (releases[i].name(), i))
        .collect();
    let mut order = Vec::with_capacity(releases.len());
    while let Some(next) = ready.pop_first() {
        order.push(next.1);
        for &dependent in &dependents[next.1] {
            remaining[dependent] -= 1;
            if remaining[dependent] == 0 {
                ready.insert((releases[dependent].name(), dependent));
            }
        }
    }
    let mut slots: Vec<Option<LoadedRelease>> = releases.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// A cycle in the `needs` graph as a list of indices, if there is one.
fn find_cycle(needs: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; needs.len()];
    let mut stack: Vec<usize> = Vec::new();

    fn visit(
        i: usize,
        needs: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[i] = Mark::Active;
        stack.push(i);
        for &d in &needs[i] {
            match marks[d] {
                Mark::Active => {
                    let start = stack.iter().position(|&s| s == d).unwrap_or(0);
                    return Some(stack[start..].to_vec());
                }
                Mark::New => {
                    if let Some(c) = visit(d, needs, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[i] = Mark::Done;
        None
    }

    (0..needs.len()).find_map(|i| {
        if marks[i] == Mark::New {
            visit(i, needs, &mut marks, &mut stack)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn finds_a_cycle_and_its_path() {
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2])
        );
        assert_eq!(find_cycle(&[vec![], vec![0], vec![0, 1]]), None);
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0]));
    }
}
