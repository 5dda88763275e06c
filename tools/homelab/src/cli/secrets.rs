//! `homelab secrets …`: SOPS files with age keys, shaped like `sops` so its
//! users feel at home. Everything real happens in `homelab-secrets`; this
//! file maps arguments onto its typed requests and prints results.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use homelab_secrets::{
    CreationRule, DecryptRequest, EditOutcome, EncryptRequest, KeySources, OnInvalid, RuleSource,
    SecretString,
};

use super::confirm::{self, Decision, StdioPrompt};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SecretsCommand {
    /// Write a new age identity (mode 0600) and print its public key
    Keygen {
        /// Where to write it [default: $XDG_CONFIG_HOME/sops/age/keys.txt]; never overwritten
        #[arg(long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Encrypt a YAML or JSON file for the recipients its .sops.yaml rule names
    Encrypt {
        /// Replace the file instead of printing the result
        #[arg(short = 'i', long = "in-place")]
        in_place: bool,
        /// Recipients (comma-separated age public keys) instead of .sops.yaml
        #[arg(long, value_name = "RECIPIENTS")]
        age: Option<String>,
        /// The .sops.yaml to use [default: the nearest one above FILE]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        file: PathBuf,
    },
    /// Decrypt a SOPS file (to stdout unless -i)
    Decrypt {
        /// Replace the file with its plaintext
        #[arg(short = 'i', long = "in-place")]
        in_place: bool,
        /// Print only this part, in sops's syntax: '["a"]["b"][0]'
        #[arg(long, value_name = "PATH")]
        extract: Option<String>,
        file: PathBuf,
    },
    /// Edit a SOPS file in $EDITOR through a private tmpfs copy
    Edit { file: PathBuf },
    /// Set one value, as `sops set`: every other value keeps its ciphertext
    Set {
        /// Read the value from stdin instead of the command line, where `ps` would show it
        #[arg(long, conflicts_with_all = ["value", "value_file"])]
        value_stdin: bool,
        /// Read the value from this file (keep it on tmpfs)
        #[arg(long, value_name = "FILE", conflicts_with = "value")]
        value_file: Option<PathBuf>,
        file: PathBuf,
        /// Where, in sops's syntax: '["db"]["password"]'; missing maps are created
        index: String,
        /// The value as JSON: '"s3cret"', 42, '{"user": "a"}'
        #[arg(required_unless_present_any = ["value_stdin", "value_file"])]
        value: Option<String>,
    },
    /// Remove one value, as `sops unset`
    Unset {
        file: PathBuf,
        /// Where, in sops's syntax: '["db"]["password"]'
        index: String,
    },
    /// Re-wrap the data key to the recipients the creation rules name now
    Updatekeys {
        /// Do not ask for confirmation
        #[arg(short = 'y', long)]
        yes: bool,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        file: PathBuf,
    },
    /// Make a new data key and re-encrypt every value
    Rotate {
        /// Replace the file instead of printing the result
        #[arg(short = 'i', long = "in-place")]
        in_place: bool,
        file: PathBuf,
    },
    /// Without keys: every file is a valid SOPS file with no plaintext value its rules forbid
    Check {
        /// Files or directories [default: the lab's secrets/]
        paths: Vec<PathBuf>,
    },
}

fn rule_source(age: Option<&str>, config: Option<&PathBuf>) -> RuleSource {
    match (age, config) {
        (Some(list), _) => RuleSource::Rule(CreationRule::recipients(
            list.split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
        )),
        (None, Some(c)) => RuleSource::ConfigFile(c.clone()),
        (None, None) => RuleSource::Discover,
    }
}

fn report_change(file: &Path, index: &str, change: homelab_secrets::set::Change) {
    match change {
        homelab_secrets::set::Change::Saved => eprintln!("{}: {index} saved", file.display()),
        homelab_secrets::set::Change::Unchanged => {
            eprintln!("{}: {index} unchanged", file.display())
        }
    }
}

fn emit(file: &Path, in_place: bool, text: &str) -> anyhow::Result<()> {
    if in_place {
        homelab_secrets::ops::write_atomic(file, text)?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .context("Failed to write to stdout")?;
        out.flush().context("Failed to write to stdout")?;
    }
    Ok(())
}

/// A path as the user would type it: relative to the current directory.
fn shown(path: &Path) -> &Path {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
}

/// Asks on a terminal whether to re-wrap the data key; without one, `--yes` is required.
fn confirm(yes: bool) -> anyhow::Result<bool> {
    let mut prompt = StdioPrompt {
        interactive: std::io::stdin().is_terminal(),
    };
    match confirm::decide_on("Is this okay? (y/n)", yes, &mut prompt)
        .context("Failed to read the answer")?
    {
        Decision::Proceed => Ok(true),
        Decision::Declined => Ok(false),
        Decision::PrintOnly => anyhow::bail!(
            "Refusing to change recipients without confirmation; pass --yes when not on a terminal"
        ),
    }
}

pub(super) fn run(args: &Args, global: &super::GlobalArgs) -> anyhow::Result<ExitCode> {
    let keys = KeySources::from_env();
    match &args.command {
        SecretsCommand::Keygen { out } => keygen(out.as_ref(), &keys)?,
        SecretsCommand::Encrypt {
            in_place,
            age,
            config,
            file,
        } => {
            let text = homelab_secrets::encrypt(&EncryptRequest {
                path: file.clone(),
                rule: rule_source(age.as_deref(), config.as_ref()),
            })?;
            emit(file, *in_place, &text)?;
        }
        SecretsCommand::Decrypt {
            in_place,
            extract,
            file,
        } => {
            let text = homelab_secrets::decrypt(&DecryptRequest {
                path: file.clone(),
                extract: extract.clone(),
                keys,
            })?;
            emit(file, *in_place, &text)?;
        }
        SecretsCommand::Edit { file } => edit(file, &keys)?,
        SecretsCommand::Set {
            value_stdin,
            value_file,
            file,
            index,
            value,
        } => {
            let value = read_value(*value_stdin, value_file.as_ref(), value.as_ref())?;
            let value = homelab_secrets::ExposeSecret::expose_secret(&value).trim_end();
            let change = homelab_secrets::set::set(file, index, value, &keys)?;
            report_change(file, index, change);
        }
        SecretsCommand::Unset { file, index } => {
            let change = homelab_secrets::set::unset(file, index, &keys)?;
            report_change(file, index, change);
        }
        SecretsCommand::Updatekeys { yes, config, file } => {
            return updatekeys(file, config.as_ref(), *yes, &keys)
        }
        SecretsCommand::Rotate { in_place, file } => {
            let text = homelab_secrets::rotate(file, &keys)?;
            emit(file, *in_place, &text)?;
        }
        SecretsCommand::Check { paths } => return check(paths, global),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a new identity to `--out` or the usual keys.txt and prints its public key.
fn keygen(out: Option<&PathBuf>, keys: &KeySources) -> anyhow::Result<()> {
    let path = match out {
        Some(p) => p.clone(),
        None => keys.keys_txt().context(
            "Cannot find the config directory: set XDG_CONFIG_HOME or HOME, or pass --out",
        )?,
    };
    let public = homelab_secrets::keygen(&path)?;
    eprintln!("Wrote a new age identity to {}", path.display());
    println!("{public}");
    Ok(())
}

/// Edits in `$SOPS_EDITOR`, `$EDITOR` or vi; on a terminal an edit that no longer
/// parses can be fixed, elsewhere it fails.
fn edit(file: &Path, keys: &KeySources) -> anyhow::Result<()> {
    let editor = std::env::var("SOPS_EDITOR")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let on_invalid = match std::io::stdin().is_terminal() {
        true => OnInvalid::Ask {
            answers: Box::new(std::io::stdin()),
            prompt: Box::new(std::io::stderr()),
        },
        false => OnInvalid::Fail,
    };
    match homelab_secrets::edit(file, &editor, keys, on_invalid)? {
        EditOutcome::Unchanged => eprintln!("{}: unchanged", file.display()),
        EditOutcome::Saved => eprintln!("{}: saved", file.display()),
    }
    Ok(())
}

/// The value of `secrets set`: from stdin, a file, or the command line.
fn read_value(
    from_stdin: bool,
    file: Option<&PathBuf>,
    value: Option<&String>,
) -> anyhow::Result<SecretString> {
    Ok(match (from_stdin, file, value) {
        (true, _, _) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("Failed to read the value from stdin")?;
            SecretString::from(text)
        }
        (false, Some(path), _) => SecretString::from(
            std::fs::read_to_string(path)
                .with_context(|| format!("Failed to read {}", path.display()))?,
        ),
        (false, None, Some(v)) => SecretString::from(v.clone()),
        (false, None, None) => anyhow::bail!("Give the value, --value-stdin or --value-file"),
    })
}

/// Shows the recipients that would change and, once confirmed, re-wraps the data key.
fn updatekeys(
    file: &Path,
    config: Option<&PathBuf>,
    yes: bool,
    keys: &KeySources,
) -> anyhow::Result<ExitCode> {
    let update = homelab_secrets::updatekeys(file, &rule_source(None, config), keys)?;
    let Some(text) = update.text else {
        eprintln!(
            "{}: recipients already match the creation rules",
            file.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    eprintln!("The following changes will be made to the file's recipients:");
    for r in &update.added {
        eprintln!("+ {r}");
    }
    for r in &update.removed {
        eprintln!("- {r}");
    }
    if !confirm(yes)? {
        eprintln!("{}: left unchanged", file.display());
        return Ok(ExitCode::from(1));
    }
    homelab_secrets::ops::write_atomic(file, &text)?;
    eprintln!("{}: data key re-wrapped", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Checks SOPS files without keys: `paths`, or the lab's secrets/.
fn check(paths: &[PathBuf], global: &super::GlobalArgs) -> anyhow::Result<ExitCode> {
    let paths = if paths.is_empty() {
        vec![global.lab_root().join("secrets")]
    } else {
        paths.to_vec()
    };
    let findings = homelab_secrets::check::check(&paths)?;
    let mut bad = 0;
    for f in &findings {
        match &f.problem {
            None => println!("ok    {}", shown(&f.path).display()),
            Some(e) => {
                bad += 1;
                println!("FAIL  {}: {e}", shown(&f.path).display());
            }
        }
    }
    println!("{} file(s) checked, {bad} with problems", findings.len());
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
