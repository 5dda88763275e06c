//! The path literals of a Nix file (`./x`, `../a/b`, `a/b`), found by a small lexer
//! that skips comments, strings and URIs but looks inside `${…}` interpolations. It
//! exists so `homelab check` can prove a host's modules read only host inputs
//! (`host_inputs::check_coverage`) without evaluating Nix.
//!
//! # Caveats
//! A path built from strings at evaluation time (`/. + "x"`, `builtins.toPath`) is not a
//! literal; pure flake evaluation refuses absolute paths, so such a path can only start
//! from a literal this finds.

use crate::diagnostic::Span;

/// Where a string or interpolation the lexer is inside of ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// `${ … }` with this many `{` still open inside it.
    Code(usize),
    /// `"…"`.
    String,
    /// `''…''`.
    Indented,
}

fn path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._+-".contains(&c)
}

/// Every relative path literal in `text`, with its span. Absolute (`/…`), home (`~/…`)
/// and search paths (`<…>`) are left out: pure evaluation refuses them.
pub fn relative_path_literals(text: &str) -> Vec<(Span, String)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut stack: Vec<Context> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match stack.last().copied() {
            Some(Context::String) => {
                i = match (b[i], b.get(i + 1)) {
                    (b'\\', _) => i + 2,
                    (b'$', Some(b'{')) => {
                        stack.push(Context::Code(0));
                        i + 2
                    }
                    (b'"', _) => {
                        stack.pop();
                        i + 1
                    }
                    _ => i + 1,
                };
            }
            Some(Context::Indented) => {
                i = match (b[i], b.get(i + 1), b.get(i + 2)) {
                    (b'\'', Some(b'\''), Some(b'$' | b'\'' | b'\\')) => i + 3,
                    (b'\'', Some(b'\''), _) => {
                        stack.pop();
                        i + 2
                    }
                    (b'$', Some(b'{'), _) => {
                        stack.push(Context::Code(0));
                        i + 2
                    }
                    _ => i + 1,
                };
            }
            code => i = code_step(b, i, code, &mut stack, &mut found),
        }
    }
    found
}

/// One step of the lexer in code (the top level or an interpolation).
fn code_step(
    b: &[u8],
    i: usize,
    code: Option<Context>,
    stack: &mut Vec<Context>,
    found: &mut Vec<(Span, String)>,
) -> usize {
    let prev_is_word = i > 0 && (path_char(b[i - 1]) || b[i - 1] == b'/');
    match (b[i], b.get(i + 1)) {
        (b'#', _) => b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |n| i + n),
        (b'/', Some(b'*')) => find(b, i + 2, b"*/").map_or(b.len(), |n| n + 2),
        (b'"', _) => {
            stack.push(Context::String);
            i + 1
        }
        (b'\'', Some(b'\'')) => {
            stack.push(Context::Indented);
            i + 2
        }
        (b'{', _) => {
            if let Some(Context::Code(depth)) = code {
                set_top(stack, Context::Code(depth + 1));
            }
            i + 1
        }
        (b'}', _) => {
            match code {
                Some(Context::Code(0)) => {
                    stack.pop();
                }
                Some(Context::Code(depth)) => set_top(stack, Context::Code(depth - 1)),
                _ => {}
            }
            i + 1
        }
        (b'<', Some(&c)) if path_char(c) => {
            // A search path `<nixpkgs/lib>` is skipped whole; `a <b` is a comparison.
            let end = (i + 1..b.len())
                .find(|&j| !(path_char(b[j]) || b[j] == b'/'))
                .unwrap_or(b.len());
            if b.get(end) == Some(&b'>') {
                end + 1
            } else {
                i + 1
            }
        }
        (c, _) if (path_char(c) || c == b'~' || c == b'/') && !prev_is_word => literal(b, i, found),
        _ => i + 1,
    }
}

/// Reads the word at `start`: a path literal is recorded, a URI or a name skipped.
fn literal(b: &[u8], start: usize, found: &mut Vec<(Span, String)>) -> usize {
    let mut end = start;
    while end < b.len() && (path_char(b[end]) || (b[end] == b'/' && next_is_path_char(b, end))) {
        end += 1;
    }
    // `https://…` and other URIs: a scheme, `:` and no space.
    if b.get(end) == Some(&b':') && b.get(end + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
        while end < b.len() && !b[end].is_ascii_whitespace() && !b";)]}".contains(&b[end]) {
            end += 1;
        }
        return end;
    }
    let word = &b[start..end];
    let is_path = word.contains(&b'/');
    let relative = b[start] != b'/' && b[start] != b'~';
    if is_path && relative {
        if let Ok(text) = std::str::from_utf8(word) {
            found.push((Span::new(start, end), text.to_string()));
        }
    }
    end.max(start + 1)
}

fn next_is_path_char(b: &[u8], slash: usize) -> bool {
    b.get(slash + 1).is_some_and(|&c| path_char(c))
}

fn set_top(stack: &mut [Context], context: Context) {
    if let Some(top) = stack.last_mut() {
        *top = context;
    }
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paths(text: &str) -> Vec<String> {
        relative_path_literals(text)
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    #[test]
    fn literals_in_code_and_interpolations() {
        let text = r#"{ config, ... }:
let
  # ../commented/out.nix is not read
  /* nor ./this/one.nix */
  hl = import ../nix/lib.nix;
  corefile = ../generated/hosts + "/${config.homelab.hostName}/Corefile";
  script = ''
    echo ./not-a-path ${./deploy-rollback/homelab-activate.sh} ''${./escaped}
  '';
  url = "https://example.com/a/b";
  bare = https://example.com/x/y;
  abs = /etc/passwd;
  home = ~/x/y;
  search = <nixpkgs/lib>;
  ratio = a / b;
  here = ./.;
in
{ imports = [ ./base.nix (import "${./sub}/x.nix") ]; }
"#;
        assert_eq!(
            paths(text),
            [
                "../nix/lib.nix",
                "../generated/hosts",
                "./deploy-rollback/homelab-activate.sh",
                "./.",
                "./base.nix",
                "./sub"
            ]
        );
        let spans = relative_path_literals("x = ./a/b;");
        assert_eq!(spans[0].0, Span::new(4, 9));
    }

    proptest! {
        /// Any text is lexed without panicking, and every span is the path it names.
        #[test]
        fn any_text(text in "[ -~\n]{0,200}") {
            for (span, path) in relative_path_literals(&text) {
                prop_assert_eq!(&text[span.start..span.end], path.as_str());
            }
        }
    }
}
