//! Rendering an environment until its capabilities settle: a chart may gate templates
//! on `.Capabilities.APIVersions`, and the CRDs that set depends on may come from any
//! release of the environment (even one rendered by the same pass).
//!
//! Round one renders every release with the built-in and configured API versions plus
//! the CRDs charts ship in `crds/` (read from the charts, not rendered). Each following
//! round adds the CRDs the previous one rendered and renders again only the charts
//! that read `APIVersions` and mention one of the added groups (charts test literals
//! such as `"monitoring.coreos.com/v1"`); it stops when the set no longer changes. A lab whose CRDs
//! all live in `crds/` folders, or whose charts ignore capabilities, renders once.
//!
//! # Guarantees
//! - The result is a function of the files alone (the same rounds every time).
//! - A set that has not settled after [`MAX_ROUNDS`] (a chart that drops a CRD when
//!   it sees it) is an error rather than an arbitrary pick.

use super::capabilities::Capabilities;
use super::chart_files;
use super::release::{Job, Rendered};
use super::{run_parallel, ReleaseInput, RenderProblem};

/// Rounds before giving up on a set that keeps changing.
pub(super) const MAX_ROUNDS: usize = 4;

/// Each release's render (in `releases`' order) with the settled capabilities, or the
/// problem of a set that would not settle.
pub(super) fn settle(
    job: &Job<'_>,
    releases: &[&ReleaseInput<'_>],
    base: &Capabilities,
    jobs: Option<usize>,
) -> (Vec<Result<Rendered, RenderProblem>>, Option<RenderProblem>) {
    // CRDs in `crds/` folders are printed whatever the values: knowing them up front
    // settles most labs in one round.
    let shipped = run_parallel(releases, jobs, |r| job.shipped_crds(r));
    let mut capabilities = base.with_crd_bodies(shipped.iter().flatten());
    let mut results = run_parallel(releases, jobs, |r| job.render(r, &capabilities));
    let mut files: Option<Vec<Option<Option<chart_files::Files>>>> = None;
    for _ in 1..MAX_ROUNDS {
        let next = base.with_crds(
            results
                .iter()
                .flatten()
                .flat_map(|rendered| rendered.objects.iter()),
        );
        if next == capabilities {
            return (results, None);
        }
        let added: Vec<&str> = next
            .api_versions()
            .iter()
            .filter(|v| !capabilities.api_versions().contains(v))
            .map(|v| v.split('/').next().unwrap_or_default())
            .collect();
        let files =
            files.get_or_insert_with(|| run_parallel(releases, jobs, |r| job.chart_files(r)));
        let again: Vec<usize> = (0..releases.len())
            .filter(|&i| match &files[i] {
                None => false,
                Some(None) => true,
                Some(Some(f)) => chart_files::may_test_for(f, &added),
            })
            .collect();
        capabilities = next;
        let rendered = run_parallel(&again, jobs, |&i| job.render(releases[i], &capabilities));
        for (&i, result) in again.iter().zip(rendered) {
            results[i] = result;
        }
    }
    let last = base.with_crds(results.iter().flatten().flat_map(|r| r.objects.iter()));
    if last == capabilities {
        return (results, None);
    }
    let problem = RenderProblem {
        release: None,
        message: format!(
            "The API versions the charts see did not settle after {MAX_ROUNDS} renders: a \
             chart renders a CustomResourceDefinition only while its API version is absent \
             (or the reverse). Check the `.Capabilities.APIVersions.Has` conditions around \
             the CRDs"
        ),
    };
    (results, Some(problem))
}
