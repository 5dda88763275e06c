//! The no-op fast path: a re-apply with nothing changed lists each kind once and sends
//! no object, within (kinds in scope + 10) requests, plus the two that record the
//! revision (a LIST and one PATCH of its ConfigMap).

use std::collections::BTreeSet;

use super::{apply_lab, apply_ok, desired};
use crate::support::FakeCluster;

#[test]
fn a_no_op_reapply_lists_each_kind_once_and_sends_nothing() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let kinds: BTreeSet<String> = desired(&lab, &fake)
        .iter()
        .map(|o| format!("{}/{}", o["apiVersion"], o["kind"]))
        .collect();
    fake.server.reset_requests();
    let run = apply_ok(&lab, &fake, &[]);
    let counts = fake.server.requests();
    assert!(
        run.stdout
            .contains("Applied: 0 created, 0 configured, 27 unchanged, 0 pruned"),
        "{run}"
    );
    assert_eq!(
        counts.get(fake_apiserver::Verb::Patch),
        1,
        "only the revision record: {counts:?}"
    );
    assert!(
        counts.total <= kinds.len() as u64 + 10 + 2,
        "{} requests for {} kinds: {counts:?}",
        counts.total,
        kinds.len()
    );
}

#[test]
fn a_change_is_still_applied_and_only_it() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    lab.replace("releases/site/values.yaml", "replicas: 1", "replicas: 2");
    fake.server.reset_requests();
    let run = apply_ok(&lab, &fake, &[]);
    assert!(
        run.stdout
            .contains("Applied: 0 created, 2 configured, 25 unchanged"),
        "{run}"
    );
    assert_eq!(
        fake.server.requests().get(fake_apiserver::Verb::Patch),
        2 + 1,
        "the two objects and the revision record"
    );
}
