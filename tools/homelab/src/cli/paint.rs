//! ANSI colour for what the CLI prints, or none: on a terminal unless `NO_COLOR` is set.

/// ANSI colours, or nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    pub color: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(super) fn green(&self, t: &str) -> String {
        self.wrap("32", t)
    }
    pub(super) fn red(&self, t: &str) -> String {
        self.wrap("31", t)
    }
    pub(super) fn yellow(&self, t: &str) -> String {
        self.wrap("33", t)
    }
    pub(super) fn cyan(&self, t: &str) -> String {
        self.wrap("36", t)
    }
    pub(super) fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }

    /// Colours a unified diff: `+` green, `-` red, `@@` cyan, headers bold.
    pub(super) fn diff(&self, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        text.split_inclusive('\n')
            .map(|line| {
                let (body, nl) = match line.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (line, ""),
                };
                let painted = if body.starts_with("+++") || body.starts_with("---") {
                    self.bold(body)
                } else if body.starts_with('+') {
                    self.green(body)
                } else if body.starts_with('-') {
                    self.red(body)
                } else if body.starts_with("@@") {
                    self.cyan(body)
                } else {
                    body.to_string()
                };
                painted + nl
            })
            .collect()
    }
}

/// Colour on a terminal unless `NO_COLOR` is set.
pub(crate) fn paint_for(stream_is_terminal: bool) -> Paint {
    Paint {
        color: stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}
