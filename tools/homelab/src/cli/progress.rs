//! Printing an apply run: progress bars per stage on a terminal, plain lines elsewhere,
//! or a JSON event stream (one object per line) — each a [`Reporter`] of the library's
//! events. Colour only when asked for (on a terminal without `NO_COLOR`).

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::{Event, Reporter};

use super::event_line::line;
use super::paint::Paint;

/// Plain lines, one per event.
pub(crate) struct LineReporter {
    paint: Paint,
    stages: Mutex<usize>,
    out: Mutex<Box<dyn Write + Send>>,
}

impl LineReporter {
    pub(crate) fn new(out: Box<dyn Write + Send>, paint: Paint) -> Self {
        LineReporter {
            paint,
            stages: Mutex::new(0),
            out: Mutex::new(out),
        }
    }
}

impl Reporter for LineReporter {
    fn event(&self, event: &Event) {
        let mut stages = self.stages.lock().unwrap_or_else(|e| e.into_inner());
        if let Event::Started { stages: n, .. } = event {
            *stages = *n;
        }
        if let Some(text) = line(event, self.paint, *stages) {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{text}");
        }
    }
}

/// One JSON object per line.
pub(crate) struct JsonReporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonReporter {
    pub(crate) fn new(out: Box<dyn Write + Send>) -> Self {
        JsonReporter {
            out: Mutex::new(out),
        }
    }
}

impl Reporter for JsonReporter {
    fn event(&self, event: &Event) {
        if let Ok(text) = serde_json::to_string(event) {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

/// A progress bar per stage on the terminal (stderr); problems printed above the bars.
pub(crate) struct ProgressReporter {
    paint: Paint,
    multi: MultiProgress,
    state: Mutex<Bars>,
}

/// The stage bar being filled, and the finished ones that stay on screen.
#[derive(Default)]
struct Bars {
    stages: usize,
    current: Option<ProgressBar>,
    finished: Vec<ProgressBar>,
}

impl ProgressReporter {
    pub(crate) fn new(paint: Paint) -> Self {
        ProgressReporter::with_target(paint, ProgressDrawTarget::stderr())
    }

    /// Draws to `target`: stderr for people, a virtual terminal in tests.
    pub(crate) fn with_target(paint: Paint, target: ProgressDrawTarget) -> Self {
        ProgressReporter {
            paint,
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(Bars::default()),
        }
    }
}

impl Reporter for ProgressReporter {
    fn event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Started { stages, .. } => {
                state.stages = *stages;
                if let Some(l) = line(event, self.paint, *stages) {
                    let _ = self.multi.println(l);
                }
            }
            Event::StageStarted {
                index,
                label,
                objects,
                ..
            } => {
                let bar = self.multi.add(ProgressBar::new(*objects as u64));
                bar.set_style(
                    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(format!("stage {}/{}: {label}", index + 1, state.stages));
                bar.enable_steady_tick(Duration::from_millis(200));
                state.current = Some(bar);
            }
            Event::Applied { .. } | Event::Ready { .. } => {
                if let (Event::Applied { .. }, Some(bar)) = (event, &state.current) {
                    bar.inc(1);
                }
            }
            Event::Waiting { objects, .. } => {
                if let Some(bar) = &state.current {
                    bar.set_message(format!("waiting for {objects} to become ready"));
                }
            }
            Event::StageFinished {
                failed, not_ready, ..
            } => {
                if let Some(bar) = state.current.take() {
                    let msg = if failed + not_ready == 0 {
                        self.paint.green("done")
                    } else {
                        self.paint.red("failed")
                    };
                    bar.finish_with_message(msg);
                    // A dropped bar leaves the screen; kept, it stays as the stage's line.
                    state.finished.push(bar);
                }
            }
            other => {
                if let Some(bar) = &state.current {
                    if matches!(other, Event::Failed { .. } | Event::Conflict { .. }) {
                        bar.inc(1);
                    }
                }
                if let Some(l) = line(other, self.paint, state.stages) {
                    let _ = self.multi.println(l);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;

    use super::*;
    use crate::apply::plan::StageKind;
    use crate::apply::Action;

    fn applied(object: &str) -> Event {
        Event::Applied {
            object: object.into(),
            release: "app".into(),
            action: Action::Created,
            dry_run: false,
        }
    }

    /// The bars as a person sees them: each stage's bar ends at its count with `done`
    /// or `failed`, and the lines printed above the bars (failures, the summary) stay.
    #[test]
    fn progress_bars_count_objects_and_keep_failures_above_them() {
        let term = InMemoryTerm::new(20, 200);
        let reporter = ProgressReporter::with_target(
            Paint { color: false },
            ProgressDrawTarget::term_like(Box::new(term.clone())),
        );
        let stage = |index: usize, label: &str, objects: usize| Event::StageStarted {
            index,
            kind: StageKind::Releases,
            label: label.into(),
            objects,
        };
        let events = [
            Event::Started {
                environment: "dev".into(),
                context: "kind-homelab".into(),
                stages: 2,
                objects: 3,
                dry_run: false,
            },
            stage(0, "namespaces", 1),
            applied("Namespace/app"),
            Event::StageFinished {
                index: 0,
                applied: 1,
                failed: 0,
                not_ready: 0,
            },
            stage(1, "release app", 2),
            applied("ConfigMap/app/a"),
            Event::Failed {
                object: "Deployment/app/web".into(),
                release: "app".into(),
                source: "releases/app/manifests/web.yaml.hbs".into(),
                message: "spec.replicas: expected an integer".into(),
            },
            Event::StageFinished {
                index: 1,
                applied: 1,
                failed: 1,
                not_ready: 0,
            },
        ];
        for event in &events {
            reporter.event(event);
        }
        let screen = term.contents();
        let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
        let find = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("`{needle}` is not on the screen:\n{screen}"))
        };
        let first = find("stage 1/2: namespaces");
        let second = find("stage 2/2: release app");
        assert!(first < second, "{screen}");
        assert!(lines[first].ends_with("1/1 done"), "{screen}");
        assert!(lines[second].ends_with("2/2 failed"), "{screen}");
        assert!(
            lines[first].contains("[=============================="),
            "{screen}"
        );
        let failure = find("Deployment/app/web");
        assert!(
            failure < second,
            "the failure is printed above the bars:\n{screen}"
        );
        assert!(
            lines[failure].contains("spec.replicas: expected an integer"),
            "{screen}"
        );
    }
}
