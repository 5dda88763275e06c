//! Which cluster a run talks to: the kubeconfig (`--kubeconfig`, else `KUBECONFIG`,
//! else `~/.kube/config`), the context (`--context`, else the current one), and the
//! guard that binds each environment to its context.
//!
//! # Guarantees
//! - A context other than the environment's bound one is refused unless it was named
//!   explicitly with `--context` *and* `--force-context` was given; a mere current
//!   context never overrides the binding.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// How the user asked to reach the cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct KubeTarget {
    /// `--kubeconfig`; `KUBECONFIG` or `~/.kube/config` when absent.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; the kubeconfig's current context when absent.
    pub context: Option<String>,
    /// `--force-context`: accept an explicitly named context the environment is not bound to.
    pub force_context: bool,
}

/// Why the cluster cannot be reached, or must not be.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("Failed to read the kubeconfig {}", path.as_ref().map_or("(KUBECONFIG or ~/.kube/config)".to_string(), |p| p.display().to_string()))]
    Read {
        path: Option<PathBuf>,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("The kubeconfig has no current context; pass `--context {bound}` (the context environment `{env}` is bound to)")]
    NoCurrentContext { env: String, bound: String },
    #[error("Context `{context}` is not in the kubeconfig; its contexts are: {known}")]
    UnknownContext { context: String, known: String },
    #[error("Environment `{env}` is bound to kube context `{bound}`, but {how} `{actual}`.\n  Switch with `kubectl config use-context {bound}` (or pass `--context {bound}`), or, if `{actual}` really is the cluster for `{env}`, pass `--context {actual} --force-context`")]
    WrongContext {
        env: String,
        bound: String,
        actual: String,
        how: &'static str,
    },
    #[error("Context `{context}` names no usable cluster")]
    Config {
        context: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("Failed to build a client for context `{context}`")]
    Client {
        context: String,
        #[source]
        source: kube::Error,
    },
}

/// The context a run will use, after the guard let it through.
#[derive(Debug, Clone)]
pub struct ResolvedContext {
    pub kubeconfig: Kubeconfig,
    pub context: String,
    /// The guard was overridden with `--force-context`.
    pub forced: bool,
}

impl KubeTarget {
    /// Reads the kubeconfig and applies the guard for environment `env` bound to `bound`.
    pub(crate) fn resolve(&self, env: &str, bound: &str) -> Result<ResolvedContext, ContextError> {
        let kubeconfig = match &self.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|source| ContextError::Read {
            path: self.kubeconfig.clone(),
            source,
        })?;
        let (context, explicit) = match (&self.context, &kubeconfig.current_context) {
            (Some(c), _) => (c.clone(), true),
            (None, Some(c)) => (c.clone(), false),
            (None, None) => {
                return Err(ContextError::NoCurrentContext {
                    env: env.into(),
                    bound: bound.into(),
                })
            }
        };
        guard(env, bound, &context, explicit, self.force_context)?;
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            return Err(ContextError::UnknownContext {
                known: kubeconfig
                    .contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                context,
            });
        }
        Ok(ResolvedContext {
            forced: context != bound,
            kubeconfig,
            context,
        })
    }
}

/// The binding rule on its own: `context` may be used for `env` (bound to `bound`).
pub(crate) fn guard(
    env: &str,
    bound: &str,
    context: &str,
    explicit: bool,
    force: bool,
) -> Result<(), ContextError> {
    if context == bound || (explicit && force) {
        return Ok(());
    }
    Err(ContextError::WrongContext {
        env: env.into(),
        bound: bound.into(),
        actual: context.into(),
        how: if explicit {
            "`--context` names"
        } else {
            "the current context is"
        },
    })
}

impl ResolvedContext {
    /// A client for the context. Retries are left to the caller (kube's default retry
    /// layer is off) so every request is counted and reported once.
    pub async fn client(&self) -> Result<kube::Client, ContextError> {
        let options = KubeConfigOptions {
            context: Some(self.context.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options)
            .await
            .map_err(|source| ContextError::Config {
                context: self.context.clone(),
                source,
            })?;
        config.default_retry = false;
        kube::Client::try_from(config).map_err(|source| ContextError::Client {
            context: self.context.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_context_passes() {
        assert!(guard("dev", "kind-homelab", "kind-homelab", false, false).is_ok());
    }

    #[test]
    fn current_context_never_overrides_even_with_force() {
        let e = guard("dev", "kind-homelab", "homelab-prod", false, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Environment `dev` is bound to kube context `kind-homelab`, but the current context is `homelab-prod`.\n  Switch with `kubectl config use-context kind-homelab` (or pass `--context kind-homelab`), or, if `homelab-prod` really is the cluster for `dev`, pass `--context homelab-prod --force-context`"
        );
    }

    #[test]
    fn explicit_context_needs_force() {
        assert!(guard("dev", "kind-homelab", "other", true, false).is_err());
        assert!(guard("dev", "kind-homelab", "other", true, true).is_ok());
    }
}
