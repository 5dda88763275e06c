//! Whether `homelab deploy --plan` (or `homelab destroy`) goes on after showing what
//! it would do.
//!
//! - `--yes`: go on without asking.
//! - A terminal on stdin and stderr: ask "Apply these changes? [y/N]"; only `y` or
//!   `yes` goes on.
//! - No terminal and no `--yes`: print the plan only (a CI job can show it safely).
//!
//! The question is behind [`Prompt`], so unit tests can script the answers, and the
//! hidden `--confirm-from-stdin` flag lets a script pipe an answer without a terminal.

use std::io::{BufRead, IsTerminal as _, Write};

/// Where the question is asked and answered.
pub(crate) trait Prompt {
    /// Whether someone can answer (a terminal, or an explicit answer source).
    fn can_ask(&self) -> bool;
    /// Asks `question`; `Ok(None)` when the input ended without an answer.
    fn ask(&mut self, question: &str) -> std::io::Result<Option<String>>;
}

/// The question on stderr, the answer from stdin. `interactive` is whether stdin and
/// stderr are terminals, or whether the caller asked to read answers from stdin anyway.
pub(crate) struct StdioPrompt {
    pub interactive: bool,
}

impl StdioPrompt {
    /// Interactive when stdin and stderr are both terminals, or when `from_stdin`.
    pub(crate) fn new(from_stdin: bool) -> StdioPrompt {
        StdioPrompt {
            interactive: from_stdin
                || (std::io::stdin().is_terminal() && std::io::stderr().is_terminal()),
        }
    }
}

impl Prompt for StdioPrompt {
    fn can_ask(&self) -> bool {
        self.interactive
    }

    fn ask(&mut self, question: &str) -> std::io::Result<Option<String>> {
        let mut err = std::io::stderr().lock();
        write!(err, "{question} ")?;
        err.flush()?;
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer)?;
        if read == 0 {
            writeln!(err)?;
            return Ok(None);
        }
        Ok(Some(answer))
    }
}

/// What to do after the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Proceed,
    /// Nobody could be asked: the plan was only shown.
    PrintOnly,
    Declined,
}

pub(crate) const QUESTION: &str = "Apply these changes? [y/N]";

/// Decides with `--yes`, or by asking when someone can answer.
pub(crate) fn decide(yes: bool, prompt: &mut dyn Prompt) -> std::io::Result<Decision> {
    decide_on(QUESTION, yes, prompt)
}

/// [`decide`] with another yes/no `question` (`homelab destroy` asks its own).
pub(crate) fn decide_on(
    question: &str,
    yes: bool,
    prompt: &mut dyn Prompt,
) -> std::io::Result<Decision> {
    if yes {
        return Ok(Decision::Proceed);
    }
    if !prompt.can_ask() {
        return Ok(Decision::PrintOnly);
    }
    let answer = prompt.ask(question)?.unwrap_or_default();
    Ok(match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Decision::Proceed,
        _ => Decision::Declined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scripted {
        can_ask: bool,
        answer: Option<&'static str>,
        asked: Vec<String>,
    }

    impl Prompt for Scripted {
        fn can_ask(&self) -> bool {
            self.can_ask
        }
        fn ask(&mut self, question: &str) -> std::io::Result<Option<String>> {
            self.asked.push(question.into());
            Ok(self.answer.map(String::from))
        }
    }

    fn scripted(can_ask: bool, answer: Option<&'static str>) -> Scripted {
        Scripted {
            can_ask,
            answer,
            asked: Vec::new(),
        }
    }

    #[test]
    fn yes_skips_the_question() {
        let mut p = scripted(true, Some("n\n"));
        assert_eq!(decide(true, &mut p).unwrap(), Decision::Proceed);
        assert!(p.asked.is_empty());
    }

    #[test]
    fn without_a_terminal_the_plan_is_only_printed() {
        let mut p = scripted(false, Some("y\n"));
        assert_eq!(decide(false, &mut p).unwrap(), Decision::PrintOnly);
        assert!(p.asked.is_empty());
    }

    #[test]
    fn only_yes_proceeds() {
        for (answer, want) in [
            (Some("y\n"), Decision::Proceed),
            (Some(" YES \n"), Decision::Proceed),
            (Some("\n"), Decision::Declined),
            (Some("n\n"), Decision::Declined),
            (Some("yep\n"), Decision::Declined),
            (None, Decision::Declined),
        ] {
            let mut p = scripted(true, answer);
            assert_eq!(decide(false, &mut p).unwrap(), want, "{answer:?}");
            assert_eq!(p.asked, [QUESTION]);
        }
    }
}
