//! `homelab render -e ENV [-l name=x,...] [--out DIR]`: the environment's desired objects,
//! secrets redacted, to stdout or one file per release.
//!
//! All or nothing, like a compiler: when any selected release fails (say, its chart is not
//! cached yet, or an object fails validation), nothing is printed and nothing is written
//! to `--out`; every failure is reported with the command that fixes it, and the exit
//! code is 1. A partial set read by another tool would look like releases were removed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use crate::render::{self, RenderOptions, RenderedSet, SecretMode, SopsSecrets};

use super::output;
use super::{GlobalArgs, OutputFormat};

/// What `homelab render --help` adds: the data templates see.
const CONTEXT_HELP: &str = "\
Templates (values files ending in .hbs and manifests/*.yaml.hbs) are handlebars in strict mode.
Their context:
  env                          the environment name
  inventory.domain, .homeSubdomain, .cluster.*, .hosts.<host>.{roles,lanAddress,tailscaleAddress,labels,...,name}
  release.name, .namespace, .entrypoints.<name>.node_port, ...   this release.toml
  releases.<name>              that release's namespace
  values                       the merged values (manifests only)
`{{x}}` keeps the value's type: a string prints as that exact string (quoted when a YAML 1.1
or 1.2 reader would take it for a number, boolean or null), numbers and booleans stay plain.
Inside '...' or \"...\" the value is escaped for those quotes, or refused when they cannot hold it.
`{{{x}}}`, toYaml, indent, nindent and quote print raw text.
Helpers: default, required, toYaml, indent, nindent, quote, b64enc, join, lower, upper,
host NAME, hosts_with_role ROLE, eq, ne, and, or, not.

Exit codes: 0 all rendered, 1 any selected release failed (then nothing is printed or written), 2 usage.";

#[derive(Debug, clap::Args)]
#[command(after_long_help = CONTEXT_HELP)]
pub(crate) struct Args {
    /// The environment to render (a key of releases/environments.toml)
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
    /// Only these releases: `name=a,name=b` (or `-l a -l b`)
    #[arg(short = 'l', long = "selector", value_name = "name=X,...")]
    pub selector: Vec<String>,
    /// Write one file per release (`00-traefik.yaml`, … in apply order) into DIR instead
    /// of printing everything
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Decrypt the environment's secrets (with the keys sops would use) only to scrub
    /// their plaintexts from every object, should a value or chart have copied one
    #[arg(long)]
    pub scrub: bool,
}

/// Parses `-l` values: `name=a,name=b`, or bare names.
pub(super) fn parse_selector(raw: &[String]) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for part in raw
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.split_once('=') {
            Some(("name", value)) => names.push(value.to_string()),
            Some((key, _)) => {
                anyhow::bail!("Unknown selector key `{key}`; only `name=RELEASE` is supported")
            }
            None => names.push(part.to_string()),
        }
    }
    Ok(names)
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let mut options = RenderOptions::from_env()?;
    options.selector = parse_selector(&args.selector)?;
    let sops = SopsSecrets::new();
    if args.scrub {
        options.secrets = SecretMode::Scrubbed(&sops);
    }
    let set = render::render_environment(&lab, &args.env, &options)?;
    if !set.is_complete() {
        report(&set, global.output);
        return Ok(ExitCode::from(1));
    }
    match &args.out {
        Some(dir) => {
            let written = output::write_dir(&set, dir)
                .with_context(|| format!("Failed to write {}", dir.display()))?;
            if global.output == OutputFormat::Text {
                for path in &written {
                    eprintln!("wrote {}", path.display());
                }
            }
        }
        None => print!("{}", output::set_yaml(&set)),
    }
    report(&set, global.output);
    Ok(if set.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Warnings and per-release problems on stderr (or as JSON on stdout with `--out`).
pub(super) fn report(set: &RenderedSet, format: OutputFormat) {
    if format == OutputFormat::Json {
        let summary = json!({
            "environment": set.environment,
            "applysetId": set.applyset_id,
            "releases": set.releases.iter().map(|r| json!({"name": r.name, "namespace": r.namespace, "objects": r.objects.len()})).collect::<Vec<_>>(),
            "warnings": set.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "errors": set.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        });
        eprintln!("{summary}");
        return;
    }
    for warning in &set.warnings {
        eprintln!("warning: {warning}");
    }
    for error in &set.errors {
        eprintln!("error: {error}");
    }
    if !set.errors.is_empty() {
        let (failed, selected) = failed_of_selected(set);
        let what = if failed == 0 {
            format!("the {selected} selected release(s) conflict")
        } else {
            format!("{failed} of {selected} selected release(s) failed")
        };
        eprintln!(
            "Nothing rendered: {what}; {} problem(s) above",
            set.errors.len()
        );
    }
}

/// How many releases failed, and how many were selected: every selected release either
/// rendered (it may still have failed validation) or failed.
fn failed_of_selected(set: &RenderedSet) -> (usize, usize) {
    let mut failed: Vec<&str> = set
        .errors
        .iter()
        .filter_map(|e| e.release.as_deref())
        .collect();
    failed.sort_unstable();
    failed.dedup();
    let not_rendered = failed
        .iter()
        .filter(|name| !set.releases.iter().any(|r| r.name == **name))
        .count();
    (failed.len(), set.releases.len() + not_rendered)
}
