//! Simulated time. The model never reads a wall clock: time is a number of milliseconds since
//! the start of a run, and it only moves when the event queue says so.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::text::quoted;

/// An instant of simulated time, in milliseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn ms(self) -> u64 {
        self.0
    }

    /// `self + ms`, saturating rather than wrapping at the end of time.
    pub fn plus(self, ms: u64) -> SimTime {
        SimTime(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// The longest duration accepted from a user: 30 simulated days.
pub const MAX_DURATION_MS: u64 = 30 * 24 * 3_600_000;

/// Parses durations such as `90s`, `5m`, `1500ms`, `2h`, `1d` or a bare number of milliseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!(
            "invalid duration {}: expected a number and a unit such as 90s, 5m or 1500ms",
            quoted(text)
        ));
    }
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {}: number too large", quoted(text)))?;
    let scale = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "invalid duration {}: unknown unit {} (use ms, s, m, h or d)",
                quoted(text),
                quoted(other)
            ))
        }
    };
    let ms = n.checked_mul(scale).filter(|ms| *ms <= MAX_DURATION_MS);
    ms.ok_or_else(|| format!("invalid duration {}: longer than the 30-day limit", quoted(text)))
}

/// Formats milliseconds the way the UI and summaries show them: `1m 05.250s`, `12.000s`.
pub fn format_duration(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}.{milli:03}s")
    } else if m > 0 {
        format!("{m}m {s:02}.{milli:03}s")
    } else {
        format!("{s}.{milli:03}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_the_cli_documents() {
        assert_eq!(parse_duration("90s"), Ok(90_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1500ms"), Ok(1_500));
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("250"), Ok(250));
    }

    #[test]
    fn rejects_nonsense_with_a_message() {
        for bad in ["", "s", "-5s", "5 weeks", "1.5s", "99999999999999999999s", "31d"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("invalid duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_clock_readings() {
        assert_eq!(format_duration(0), "0.000s");
        assert_eq!(format_duration(65_250), "1m 05.250s");
        assert_eq!(format_duration(3_723_004), "1h 02m 03.004s");
    }
}
