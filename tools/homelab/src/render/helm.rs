//! Running `helm template` as a subprocess: helm from `HOMELAB_HELM` or PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variable naming the helm program to run.
pub(crate) const HELM_ENV: &str = "HOMELAB_HELM";

/// How to run helm.
#[derive(Debug, Clone)]
pub struct Helm {
    pub program: PathBuf,
}

/// Why `helm template` failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HelmError {
    #[error("Could not run `{program}`: {message}. Install helm, or point {HELM_ENV} at it")]
    Spawn { program: String, message: String },
    #[error("`helm template` failed ({status}):\n{stderr}")]
    Failed { status: String, stderr: String },
    #[error("`helm template` printed output that is not UTF-8")]
    NotUtf8,
}

/// One `helm template` call.
pub struct TemplateCall<'a> {
    pub release: &'a str,
    pub chart: &'a Path,
    pub namespace: &'a str,
    pub values_file: &'a Path,
    pub kube_version: &'a str,
    /// `.Capabilities.APIVersions` beyond Helm's defaults, each `group/version[/Kind]`.
    pub api_versions: &'a [String],
}

impl Helm {
    /// Helm from `HOMELAB_HELM`, else `helm` on PATH.
    pub fn from_env() -> Self {
        let program = std::env::var_os(HELM_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("helm"));
        Helm { program }
    }

    /// `helm template --namespace NS --values FILE --include-crds --kube-version V
    /// --api-versions=A... -- NAME CHART`: each API version is one `--api-versions=`
    /// argument (never a bare one), and the release name and chart come after `--`, so
    /// nothing can be read as an option whatever validation let through.
    pub fn template(&self, call: &TemplateCall<'_>) -> Result<String, HelmError> {
        let output = Command::new(&self.program)
            .arg("template")
            .arg("--namespace")
            .arg(call.namespace)
            .arg("--values")
            .arg(call.values_file)
            .arg("--include-crds")
            .arg("--kube-version")
            .arg(call.kube_version)
            .args(
                call.api_versions
                    .iter()
                    .map(|v| super::capabilities::option(v)),
            )
            .arg("--")
            .arg(call.release)
            .arg(call.chart)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| HelmError::Spawn {
                program: self.program.display().to_string(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(HelmError::Failed {
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr)
                    .trim_end()
                    .to_string(),
            });
        }
        String::from_utf8(output.stdout).map_err(|_| HelmError::NotUtf8)
    }
}
