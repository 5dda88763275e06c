//! With `-o json`, stdout is a stream of events that a script reads to the end: every
//! run ends with a `finished` event, also when it stops before the apply started (the
//! render failed, the lock was not taken, the listing failed, nothing to do). The
//! problem itself goes to stderr as in text mode, and into an `error` event.

use std::time::Instant;

use crate::apply::event::{Event, Reporter};

use super::exit::Reported;
use super::progress::JsonReporter;
use super::OutputFormat;

/// Ends a run that did not reach [`crate::apply::session::Session::apply`]'s own
/// `finished` event: with `-o json`, an `error` event (unless the problem was already
/// reported, then its text is on stderr) and a `finished` event counting `requests`.
/// Text mode prints nothing more.
pub(crate) fn end_early(
    output: OutputFormat,
    started: Instant,
    requests: u64,
    ok: bool,
    problem: Option<&anyhow::Error>,
) {
    if output != OutputFormat::Json {
        return;
    }
    let json = JsonReporter::new(Box::new(std::io::stdout()));
    if let Some(e) = problem {
        let message = match e.downcast_ref::<Reported>() {
            Some(_) => "the problem is described on stderr".to_string(),
            None => format!("{e:#}"),
        };
        json.event(&Event::Error { message });
    }
    json.event(&Event::Finished {
        ok,
        created: 0,
        configured: 0,
        unchanged: 0,
        pruned: 0,
        kept: 0,
        failed: 0,
        not_ready: 0,
        not_started: 0,
        requests,
        elapsed_ms: started.elapsed().as_millis() as u64,
    });
}
