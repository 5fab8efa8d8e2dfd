//! JSON written by hand, byte for byte as serde_json writes the derived `Serialize` of the same
//! types: compact, members in declaration order, strings escaped as serde_json escapes them.
//!
//! Event lines (hashed into the digest) and links are JSON. With serde_json's writer, the derived
//! `Serialize` of every event, command and spec was compiled into the page for them; written by
//! hand they take a third of that (7 KB less WebAssembly). The derives stay, for the tests (here,
//! in `event` and in `link`) that check every kind against them.

/// `,"name":` — a member's key after the first, as one constant (constant-length copies
/// compile to a few stores).
macro_rules! key {
    ($($name:tt)+) => {
        concat!(",\"", $($name)+, "\":")
    };
}

/// `"name":` — the first member's key in an object.
macro_rules! first_key {
    ($($name:tt)+) => {
        concat!("\"", $($name)+, "\":")
    };
}

/// Writes `,"field":value` for each named binding, in order, the key being the binding's name.
macro_rules! members {
    ($w:expr; $($field:ident),* $(,)?) => {
        $(
            $w.lit($crate::sim::json::key!(stringify!($field)));
            $crate::sim::json::Json::json($field, $w);
        )*
    };
}

pub(crate) use {first_key, key, members};

/// Where JSON is written.
pub struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// A constant piece (a key with its punctuation): one call per member keeps the page's
    /// code small, and costs nothing a busy run can measure.
    #[inline(never)]
    pub fn lit(&mut self, text: &'static str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// A JSON string, escaped as serde_json escapes it: `"` and `\`, the short escapes for
    /// backspace, form feed, newline, carriage return and tab, `\u00XX` for other control
    /// characters; everything else (DEL and non-ASCII included) as it is.
    pub fn str(&mut self, s: &str) {
        self.out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[start..i]);
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.extend_from_slice(b"\\u00");
                self.out.push(HEX[usize::from(b >> 4)]);
                self.out.push(HEX[usize::from(b & 0xf)]);
            } else {
                self.out.extend_from_slice(escape);
            }
            start = i + 1;
        }
        self.out.extend_from_slice(&bytes[start..]);
        self.out.push(b'"');
    }

    pub fn num(&mut self, n: u64) {
        self.out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    pub fn int(&mut self, n: i64) {
        self.out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
}

/// A value that writes itself as serde_json writes its `Serialize`.
pub trait Json {
    fn json(&self, w: &mut Writer);
}

/// The JSON text of `value`.
pub fn to_vec(value: &impl Json) -> Vec<u8> {
    let mut out = Vec::new();
    value.json(&mut Writer { out: &mut out });
    out
}

impl Json for str {
    fn json(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Json for String {
    fn json(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Json for u64 {
    fn json(&self, w: &mut Writer) {
        w.num(*self);
    }
}

impl Json for u32 {
    fn json(&self, w: &mut Writer) {
        w.num(u64::from(*self));
    }
}

impl Json for i32 {
    fn json(&self, w: &mut Writer) {
        w.int(i64::from(*self));
    }
}

impl Json for bool {
    fn json(&self, w: &mut Writer) {
        w.lit(if *self { "true" } else { "false" });
    }
}

impl<T: Json + ?Sized> Json for &T {
    fn json(&self, w: &mut Writer) {
        (**self).json(w);
    }
}

impl<T: Json + ?Sized> Json for Box<T> {
    fn json(&self, w: &mut Writer) {
        (**self).json(w);
    }
}

impl<T: Json> Json for Option<T> {
    fn json(&self, w: &mut Writer) {
        match self {
            Some(v) => v.json(w),
            None => w.lit("null"),
        }
    }
}

impl<T: Json> Json for [T] {
    fn json(&self, w: &mut Writer) {
        w.out.push(b'[');
        for (i, x) in self.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            x.json(w);
        }
        w.out.push(b']');
    }
}

impl<T: Json> Json for Vec<T> {
    fn json(&self, w: &mut Writer) {
        self.as_slice().json(w);
    }
}

/// A pair is a list of two, as serde writes a tuple.
impl<A: Json, B: Json> Json for (A, B) {
    fn json(&self, w: &mut Writer) {
        w.out.push(b'[');
        self.0.json(w);
        w.out.push(b',');
        self.1.json(w);
        w.out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(v: &impl Json) -> String {
        String::from_utf8(to_vec(v)).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_byte = String::new();
        for c in (0u8..=0x7f).map(char::from) {
            every_byte.push(c);
        }
        for s in [
            "",
            "plain",
            "quote\"d",
            "back\\slash",
            "tab\there",
            "nl\n\r",
            "\u{7f}del",
            "ünï/code",
            "\u{1}\u{1f}",
            &every_byte,
        ] {
            assert_eq!(ours(&s.to_string()), serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn numbers_lists_options_and_pairs_are_written_as_serde_json_writes_them() {
        assert_eq!(ours(&u64::MAX), serde_json::to_string(&u64::MAX).unwrap());
        assert_eq!(ours(&i32::MIN), serde_json::to_string(&i32::MIN).unwrap());
        let v: Vec<(String, Vec<String>)> = vec![("a".into(), vec![]), ("b".into(), vec!["x".into(), "y".into()])];
        assert_eq!(ours(&v), serde_json::to_string(&v).unwrap());
        let o: Vec<Option<u32>> = vec![None, Some(3)];
        assert_eq!(ours(&o), serde_json::to_string(&o).unwrap());
        assert_eq!(ours(&vec![true, false]), "[true,false]");
    }
}
