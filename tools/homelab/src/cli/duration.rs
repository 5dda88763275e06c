//! Durations as people write them on a command line: `500ms`, `90s`, `5m`, `1h`.
//! [`DurationArg`] also prints itself that way, so a flag's default comes from the
//! library's options (`default_value_t`) and `--help` still shows `5m`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A command-line duration; `Display` writes the largest unit that divides it evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurationArg(pub Duration);

impl FromStr for DurationArg {
    type Err = String;

    /// `300`, `300s`, `5m`, `1h`, `500ms`.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (number, unit) = text
            .find(|c: char| !c.is_ascii_digit())
            .map_or((text, ""), |i| text.split_at(i));
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration; write e.g. `90s`, `5m` or `1h`"))?;
        Ok(DurationArg(match unit {
            "" | "s" => Duration::from_secs(n),
            "ms" => Duration::from_millis(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => {
                return Err(format!(
                    "Unknown unit `{unit}` in `{text}`; use ms, s, m or h"
                ))
            }
        }))
    }
}

impl fmt::Display for DurationArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        match ms {
            _ if ms % 1000 != 0 => write!(f, "{ms}ms"),
            _ if ms % 3_600_000 == 0 && ms > 0 => write!(f, "{}h", ms / 3_600_000),
            _ if ms % 60_000 == 0 && ms > 0 => write!(f, "{}m", ms / 60_000),
            _ => write!(f, "{}s", ms / 1000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Duration, String> {
        text.parse::<DurationArg>().map(|d| d.0)
    }

    #[test]
    fn durations() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("12"), Ok(Duration::from_secs(12)));
        assert!(parse("5 minutes").is_err());
        assert!(parse("m").is_err());
    }

    #[test]
    fn printed_as_written() {
        for text in ["250ms", "90s", "30s", "5m", "1m", "2h", "0s"] {
            assert_eq!(text.parse::<DurationArg>().unwrap().to_string(), text);
        }
    }
}
