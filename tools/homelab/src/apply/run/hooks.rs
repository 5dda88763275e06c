//! The hooks of a stage, run around it as `helm upgrade --install` runs them, and the
//! delete hooks around a prune.

use super::*;

impl Runner<'_> {
    /// Runs the pre-install/pre-upgrade hooks of the stage's releases (concurrently
    /// across releases); the releases with their post phase, for [`Self::hooks_after`],
    /// or the first release whose hook failed and why.
    pub(super) async fn hooks_before(
        &self,
        stage: &Stage,
    ) -> Result<Vec<(String, Phase)>, (String, String)> {
        let hooks = self.hook_runner();
        let runs = stage.releases.iter().map(|r| async {
            let Some((pre, post)) = phases_for(self.cluster, self.plan, &self.live, r).await else {
                return Ok(None);
            };
            hooks
                .run(&r.release, pre)
                .await
                .map_err(|m| (r.release.clone(), m))?;
            Ok::<_, (String, String)>(Some((r.release.clone(), post)))
        });
        let mut hooked = Vec::new();
        for run in futures::future::join_all(runs).await {
            hooked.extend(run?);
        }
        Ok(hooked)
    }

    /// Runs the post-install/post-upgrade hooks once the stage is applied and ready.
    pub(super) async fn hooks_after(&self, hooked: &[(String, Phase)]) -> Result<(), String> {
        let hooks = self.hook_runner();
        let runs = hooked
            .iter()
            .map(|(release, post)| hooks.run(release, *post));
        for run in futures::future::join_all(runs).await {
            run?;
        }
        Ok(())
    }

    /// Runs every release's hooks of a delete `phase`, releases in reverse apply order
    /// (dependents first, as they are deleted first).
    pub(super) async fn delete_hooks(&self, phase: Phase) -> Result<(), String> {
        let hooks = self.hook_runner();
        for release in hooks.releases_with(phase).into_iter().rev() {
            hooks.run(&release, phase).await?;
        }
        Ok(())
    }

    pub(super) fn hook_runner(&self) -> HookRunner<'_> {
        HookRunner {
            cluster: self.cluster,
            plan: self.plan,
            timeout: self.options.timeout,
            dry_run: self.options.dry_run,
            redactor: self.redactor,
            reporter: self.reporter,
        }
    }
}
