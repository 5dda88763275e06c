//! The `homelab` command: parses the command line and hands it to [`homelab::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    homelab::cli::main()
}
