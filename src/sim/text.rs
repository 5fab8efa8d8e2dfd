//! User input echoed in messages: quoted, escaped and cut, so every message stays one readable
//! line whatever was typed or linked.

/// Longest piece of user input a message repeats, in characters (a name's limit).
const MAX_ECHO: usize = 64;

/// `n` and its noun, singular for one: `count(1, "record")` is "1 record", else "n records"
/// ("n batches" for nouns ending in s, x, z, ch or sh).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|end| noun.ends_with(end)) {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

/// `s` in single quotes, with control characters, quotes, backslashes and non-ASCII escaped
/// (Rust's `escape_default`), cut after `MAX_ECHO` characters with `…`.
pub fn quoted(s: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in s.chars().enumerate() {
        if i == MAX_ECHO {
            out.push('…');
            break;
        }
        out.extend(c.escape_default());
    }
    out.push('\'');
    out
}

/// `s` as one line: control characters escaped (a message built elsewhere, such as a parser's
/// error, may repeat raw input), at most `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `Fixed(x, n)` writes `x` with `n` decimals (at most 6), as `format!("{x:.n$}")` does for
/// the numbers the page shows (coordinates, percentages, seconds): rounded half away from zero
/// at that decimal, never `-0.0`, and `-` for a number that is not finite; beyond about 1.8e19
/// (scaled) it is clamped there. It writes integers only, so the page does without the
/// standard library's float formatting (about 10 KB of its WebAssembly).
#[derive(Clone, Copy, Debug)]
pub struct Fixed(pub f64, pub u8);

impl std::fmt::Display for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Fixed(x, digits) = *self;
        if !x.is_finite() {
            return f.write_str("-");
        }
        let digits = u32::from(digits.min(6));
        let scale = 10u64.pow(digits);
        // `as` saturates: a huge number is clamped instead of wrapping.
        let scaled = (x.abs() * scale as f64).round() as u64;
        let sign = if x < 0.0 && scaled != 0 { "-" } else { "" };
        if digits == 0 {
            write!(f, "{sign}{scaled}")
        } else {
            let (whole, part) = (scaled / scale, scaled % scale);
            write!(f, "{sign}{whole}.{part:0width$}", width = digits as usize)
        }
    }
}

/// `x` in as few decimals as it needs, up to three: 0.25, 0.5, 1, 16 (as `x.to_string()`
/// writes these), without the standard library's float formatting (see [`Fixed`]).
pub fn decimal(x: f64) -> String {
    let s = Fixed(x, 3).to_string();
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_one_or_the_plural() {
        assert_eq!(count(1u64, "record"), "1 record");
        assert_eq!(count(0u64, "record"), "0 records");
        assert_eq!(count(3u64, "batch"), "3 batches");
        assert_eq!(count(1u64, "batch"), "1 batch");
    }

    #[test]
    fn plain_names_are_only_quoted() {
        assert_eq!(quoted("consumer-1"), "'consumer-1'");
    }

    #[test]
    fn control_characters_quotes_and_long_input_are_escaped_and_cut() {
        assert_eq!(quoted("x\ny"), "'x\\ny'");
        assert_eq!(quoted("it's"), "'it\\'s'");
        assert_eq!(quoted("\u{1b}[31mred"), "'\\u{1b}[31mred'");
        let long = "a".repeat(500);
        let q = quoted(&long);
        assert_eq!(q.chars().count(), MAX_ECHO + 3, "{q}");
        assert!(q.ends_with("…'"));
        assert_eq!(one_line("a\r\nb\tc", 100), "a\\r\\nb\\tc");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
    #[test]
    fn fixed_writes_what_the_standard_formatting_writes() {
        for i in -3000i32..3000 {
            for x in [f64::from(i) / 7.3, f64::from(i) * 13.37, f64::from(i) / 1000.0] {
                for d in 0u8..4 {
                    let scaled = x.abs() * 10f64.powi(i32::from(d));
                    if (scaled.fract() - 0.5).abs() < 1e-6 {
                        continue; // a tie: the standard formatting rounds the exact binary value
                    }
                    let std = format!("{x:.*}", usize::from(d));
                    let std =
                        if std.trim_start_matches(['-', '0', '.']).is_empty() { std.replace('-', "") } else { std };
                    assert_eq!(Fixed(x, d).to_string(), std, "{x} with {d} decimals");
                }
            }
        }
        assert_eq!(Fixed(-0.04, 1).to_string(), "0.0");
        for x in [0.25, 0.5, 1.0, 16.0, 64.0, 0.125, 2.75, 100.0, -1.5] {
            assert_eq!(decimal(x), x.to_string());
        }
        assert_eq!(Fixed(2.5, 0).to_string(), "3");
        assert_eq!(Fixed(f64::NAN, 1).to_string(), "-");
        assert_eq!(Fixed(f64::INFINITY, 2).to_string(), "-");
        assert_eq!(Fixed(1e300, 1).to_string(), format!("{}.{}", u64::MAX / 10, u64::MAX % 10));
    }
}
