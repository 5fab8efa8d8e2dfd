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
}
