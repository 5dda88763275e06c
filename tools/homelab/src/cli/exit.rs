//! Exit codes of problems the CLI has already shown: a command returns
//! [`Reported`] through `anyhow` like any error, and [`settle`] turns it into its exit
//! code without printing anything more.

use std::fmt;
use std::process::ExitCode;

/// A problem already printed (with its diagnostics); only the exit code is left.
#[derive(Debug)]
pub(crate) struct Reported(pub ExitCode);

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("The problem was reported above")
    }
}

impl std::error::Error for Reported {}

/// `Ok(code)` for a [`Reported`] problem; other errors pass through.
pub(crate) fn settle(result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match result {
        Err(e) => match e.downcast_ref::<Reported>() {
            Some(Reported(code)) => Ok(*code),
            None => Err(e),
        },
        ok => ok,
    }
}
