//! JSON parsed into a [`Value`]: what a link carries, read as `serde_json::from_slice::<Value>`
//! reads it — the same documents accepted (RFC 8259: no trailing commas, no leading zeros, no
//! control characters or lone surrogates in strings, valid UTF-8, at most 128 levels deep),
//! objects as sorted maps whose later duplicate keys win — so the page carries no JSON parser
//! of serde's. Numbers keep only what a link's readers need: a whole number from 0 to
//! `u64::MAX`, or some other number. `tests/link_props.rs` checks it against serde_json.

use std::collections::BTreeMap;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A whole number from 0 to `u64::MAX`.
    Whole(u64),
    /// Any other number (negative, fractional, with an exponent, or too large).
    Number,
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Whole(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An object's member.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(key),
            _ => None,
        }
    }
}

/// serde_json's nesting limit.
const MAX_DEPTH: usize = 128;

/// Parses one JSON document (surrounding whitespace allowed). The error says what was wrong
/// and where, as `line L column C` (the column of the last byte read).
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let mut p = Parser { bytes, at: 0, depth: 0 };
    let v = p.value()?;
    p.skip_ws();
    if p.at < bytes.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let upto = &self.bytes[..self.at.min(self.bytes.len())];
        let line = 1 + upto.iter().filter(|&&b| b == b'\n').count();
        let column = upto.iter().rev().take_while(|&&b| b != b'\n').count();
        format!("{what} at line {line} column {column}")
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_some() {
            self.at += 1;
        }
        b
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.ident(b"null", Value::Null),
            Some(b't') => self.ident(b"true", Value::Bool(true)),
            Some(b'f') => self.ident(b"false", Value::Bool(false)),
            Some(b'"') => {
                self.at += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.nested(Self::array),
            Some(b'{') => self.nested(Self::object),
            Some(_) => {
                self.at += 1;
                Err(self.error("expected value"))
            }
        }
    }

    fn ident(&mut self, word: &[u8], v: Value) -> Result<Value, String> {
        for &b in word {
            match self.next() {
                Some(c) if c == b => {}
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(v)
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.at += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn array(&mut self) -> Result<Value, String> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(Value::Array(items)),
                Some(_) => return Err(self.error("expected `,` or `]`")),
                None => return Err(self.error("EOF while parsing a list")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        let mut map = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            match self.next() {
                Some(b'"') => {}
                Some(_) => return Err(self.error("key must be a string")),
                None => return Err(self.error("EOF while parsing an object")),
            }
            let key = self.string()?;
            self.skip_ws();
            match self.next() {
                Some(b':') => {}
                Some(_) => return Err(self.error("expected `:`")),
                None => return Err(self.error("EOF while parsing an object")),
            }
            let v = self.value()?;
            map.insert(key, v);
            self.skip_ws();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(Value::Object(map)),
                Some(_) => return Err(self.error("expected `,` or `}`")),
                None => return Err(self.error("EOF while parsing an object")),
            }
        }
    }

    /// A string's contents, its opening quote already taken.
    fn string(&mut self) -> Result<String, String> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.at += 1;
            }
            out.extend_from_slice(&self.bytes[start..self.at]);
            match self.next() {
                Some(b'"') => break,
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => {
                    return Err(self.error("control character (\\u0000-\\u001F) found while parsing a string"));
                }
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("invalid unicode code point"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                            return Err(self.error("unexpected end of hex escape"));
                        }
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.error("lone leading surrogate in hex escape")),
                    c => c,
                };
                char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))?
            }
            Some(_) => return Err(self.error("invalid escape")),
            None => return Err(self.error("EOF while parsing a string")),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut n = 0;
        for _ in 0..4 {
            let d = match self.next() {
                Some(b) => (b as char).to_digit(16).ok_or_else(|| self.error("invalid escape"))?,
                None => return Err(self.error("EOF while parsing a string")),
            };
            n = n * 16 + d;
        }
        Ok(n)
    }

    /// A number, as serde_json reads one (its `parse_integer` and what follows, without the
    /// `float_roundtrip` feature): a whole number that fits a `u64` is kept; any other is computed
    /// as serde_json computes its `f64` only to refuse one too large for it (NumberOutOfRange).
    fn number(&mut self) -> Result<Value, String> {
        let positive = self.peek() != Some(b'-');
        if !positive {
            self.at += 1;
        }
        let mut significand: u64 = match self.next() {
            Some(b'0') => {
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error("invalid number"));
                }
                0
            }
            Some(c @ b'1'..=b'9') => u64::from(c - b'0'),
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.error("EOF while parsing a value")),
        };
        // Digits past what a u64 holds are dropped, each one moving the exponent on.
        let mut exponent: i32 = 0;
        let mut dropped = false;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.at += 1;
            if dropped || overflows(significand, c) {
                dropped = true;
                exponent = exponent.saturating_add(1);
            } else {
                significand = significand * 10 + u64::from(c - b'0');
            }
        }
        let mut plain = !dropped;
        if self.peek() == Some(b'.') {
            self.at += 1;
            plain = false;
            // Its own overflow: the digits after the one that would overflow are dropped.
            let (mut any, mut full) = (false, false);
            while let Some(c @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                any = true;
                if full || overflows(significand, c) {
                    full = true;
                } else {
                    significand = significand * 10 + u64::from(c - b'0');
                    exponent -= 1;
                }
            }
            if !any {
                return Err(self.error(if self.peek().is_some() {
                    "invalid number"
                } else {
                    "EOF while parsing a value"
                }));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            plain = false;
            let positive_exp = match self.peek() {
                Some(b'+') => {
                    self.at += 1;
                    true
                }
                Some(b'-') => {
                    self.at += 1;
                    false
                }
                _ => true,
            };
            let mut exp: i32 = match self.next() {
                Some(c @ b'0'..=b'9') => i32::from(c - b'0'),
                Some(_) => return Err(self.error("invalid number")),
                None => return Err(self.error("EOF while parsing a value")),
            };
            while let Some(c @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                let digit = i32::from(c - b'0');
                if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || digit > i32::MAX % 10) {
                    // serde_json's parse_exponent_overflow: infinity is refused, a tiny number is 0.
                    if significand != 0 && positive_exp {
                        return Err(self.error("number out of range"));
                    }
                    while matches!(self.peek(), Some(b'0'..=b'9')) {
                        self.at += 1;
                    }
                    return Ok(Value::Number);
                }
                exp = exp * 10 + digit;
            }
            exponent = if positive_exp { exponent.saturating_add(exp) } else { exponent.saturating_sub(exp) };
        }
        if plain && positive {
            return Ok(Value::Whole(significand));
        }
        if !plain && !fits_f64(significand, exponent) {
            return Err(self.error("number out of range"));
        }
        Ok(Value::Number)
    }
}

/// serde_json's `overflow!(significand * 10 + digit, u64::MAX)`.
fn overflows(significand: u64, digit: u8) -> bool {
    let d = u64::from(digit - b'0');
    significand >= u64::MAX / 10 && (significand > u64::MAX / 10 || d > u64::MAX % 10)
}

/// serde_json's `f64_from_parts` (without `float_roundtrip`): whether `significand` × 10^`exponent`,
/// computed as it computes it (the significand as an f64, times its table's 10^exponent), is
/// finite. Dividing never overflows, nor does 0; beyond its table's 10^308 everything else does;
/// and below 10^289 nothing can (a u64 is under 1.9e19, and 1.9e19 × 10^288 is under f64's
/// 1.8e308), so only the table's last 20 entries can decide.
fn fits_f64(significand: u64, exponent: i32) -> bool {
    if exponent < 0 || significand == 0 {
        return true;
    }
    match usize::try_from(exponent).ok().and_then(|e| e.checked_sub(289)) {
        None => true,
        #[allow(clippy::cast_precision_loss)]
        Some(i) => POW10_289.get(i).is_some_and(|pow| (significand as f64 * pow).is_finite()),
    }
}

/// 10^289 … 10^308, as f64 literals (the end of serde_json's table).
#[rustfmt::skip]
const POW10_289: [f64; 20] = [
    1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298,
    1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_read_as_serde_json_reads_them() {
        let v = parse(br#" {"v": 3, "s": "a\"\u00e9\ud83d\ude00", "c": [null, true, false, -1, 1.5, 18446744073709551615, 18446744073709551616], "s": "b"} "#).unwrap();
        assert_eq!(v.get("v").and_then(Value::as_u64), Some(3));
        assert_eq!(v.get("s"), Some(&Value::String("b".into())), "the later duplicate wins");
        let Some(Value::Array(items)) = v.get("c") else { panic!("a list") };
        assert_eq!(
            items[..],
            [
                Value::Null,
                Value::Bool(true),
                Value::Bool(false),
                Value::Number,
                Value::Number,
                Value::Whole(u64::MAX),
                Value::Number
            ]
        );
        let s = parse(br#""a\"\u00e9\ud83d\ude00\/\b\f\n\r\t""#).unwrap();
        assert_eq!(s, Value::String("a\"é😀/\u{8}\u{c}\n\r\t".into()));
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for bad in [
            &b""[..],
            b"01",
            b"-",
            b"1.",
            b"1e",
            b".5",
            b"[1,]",
            b"{\"a\":1,}",
            b"{a:1}",
            b"\"\x01\"",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"\\x\"",
            b"\"\xff\"",
            b"nul",
            b"truex",
            b"[1] 2",
            b"{\"a\" 1}",
            b"\"abc",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
            assert!(serde_json::from_slice::<serde_json::Value>(bad).is_err());
        }
        let deep = "[".repeat(129) + &"]".repeat(129);
        assert!(parse(deep.as_bytes()).unwrap_err().starts_with("recursion limit exceeded"));
        let ok = "[".repeat(128) + &"]".repeat(128);
        assert!(parse(ok.as_bytes()).is_ok());
        assert_eq!(parse(b"[1,\n x]").unwrap_err(), "expected value at line 2 column 2");
        // Numbers serde_json computes as an infinite f64 are refused; tiny ones are not.
        for (text, ok) in [
            ("0.1e310", false),
            ("1e308", true),
            ("1.7976931348623157e308", true),
            ("1e309", false),
            ("0e999999", true),
            ("1e99999999999", false),
            ("1e-99999999999", true),
            ("-1e309", false),
            ("18446744073709551616", true),
            ("18446744073709551615.5", true),
        ] {
            assert_eq!(parse(text.as_bytes()).is_ok(), ok, "{text}");
            assert_eq!(serde_json::from_str::<serde_json::Value>(text).is_ok(), ok, "serde_json: {text}");
        }
        let long = "1".repeat(400);
        assert!(parse(long.as_bytes()).is_err() && serde_json::from_str::<serde_json::Value>(&long).is_err());
    }
}
