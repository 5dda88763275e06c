//! Deleting the members no longer desired, once everything applied: post-delete hooks
//! before namespaces, data kept unless allowed, the parent narrowed last.

use super::*;

impl Runner<'_> {
    /// Deletes what is no longer desired (reverse apply order), then narrows the parent.
    pub(super) async fn prune(
        &self,
        report: &mut ApplyReport,
        parent: &Parent,
        desired: &Membership,
        widened: &Membership,
    ) {
        let client = &self.cluster.client;
        let found = candidates(
            client,
            &self.cluster.discovery,
            &self.live,
            self.plan,
            &widened.group_kinds,
            self.options.allow_data_loss,
        )
        .await;
        let found = match found {
            Ok(c) => c,
            Err(e) => return self.fail_run(report, e.to_string()),
        };
        let mut order = found.iter().map(Candidate::order).collect::<Vec<_>>();
        order.dedup();
        let mut post_delete = self.options.delete_hooks;
        for rank in order {
            if post_delete && rank >= NAMESPACE_RANK {
                post_delete = false;
                if let Err(message) = self.delete_hooks(Phase::PostDelete).await {
                    return self.fail_run(report, message);
                }
            }
            if self.cancelled() {
                report.cancelled = true;
                report.ok = false;
                return;
            }
            let batch: Vec<&Candidate> = found.iter().filter(|c| c.order() == rank).collect();
            let selector = format!("{PART_OF_LABEL}={}", self.plan.applyset_id);
            let results = delete_and_wait(
                client,
                &batch,
                self.options.dry_run,
                self.options.timeout,
                &selector,
                || self.cancelled(),
            )
            .await;
            for (c, result) in batch.into_iter().zip(results) {
                match (&c.kept, result) {
                    (Some(reason), _) => self.reporter.event(&Event::PruneKept {
                        object: c.describe(),
                        reason: reason.clone(),
                    }),
                    (None, Ok(())) => self.reporter.event(&Event::Pruned {
                        object: c.describe(),
                        dry_run: self.options.dry_run,
                    }),
                    (None, Err(e)) => {
                        let message = self.redactor.redact(&e);
                        self.reporter.event(&Event::PruneFailed {
                            object: c.describe(),
                            message: message.clone(),
                        });
                        report.prune_failed.push((c.clone(), message));
                    }
                }
            }
        }
        if post_delete {
            if let Err(message) = self.delete_hooks(Phase::PostDelete).await {
                report.pruned = found;
                return self.fail_run(report, message);
            }
        }
        let failed = !report.prune_failed.is_empty();
        report.pruned = found;
        if failed {
            report.ok = false;
            return;
        }
        if self.options.dry_run || self.plan.partial {
            return;
        }
        // Members kept by the guard stay members.
        let mut narrowed = desired.clone();
        for c in report.pruned.iter().filter(|c| c.kept.is_some()) {
            narrowed.group_kinds.insert(c.resource.group_kind());
            if let Some(ns) = &c.namespace {
                narrowed.namespaces.insert(ns.clone());
            }
        }
        if &narrowed != widened {
            if let Err(e) = parent.write(client, &narrowed, false).await {
                self.fail_run(report, e.to_string());
            }
        }
    }
}
