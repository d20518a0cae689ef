//! JSON as Python's `json` module writes and reads it, which is what Dagster's serdes uses:
//! `json.dumps(sort_keys=True)` with the default separators (`", "`, `": "`), `ensure_ascii`
//! (`\u00e9`, surrogate pairs above the BMP), floats by `repr` (`1e+16`, `1e-07`, `0.1`, `-0.0`),
//! unbounded integers, and the bare `NaN`, `Infinity`, `-Infinity` that `allow_nan` writes; and
//! `json.loads(strict=False)`, which accepts those tokens and raw control characters in strings.
//!
//! `serde_json` can hold none of the non-finite floats and writes other separators, so Dagster's
//! rows go through [`PyValue`]. Objects are `BTreeMap`s: ordering `String`s by their UTF-8 bytes is
//! ordering them by code point, which is Python's `sort_keys` order, so [`PyValue::to_python_json`]
//! is byte for byte what `json.dumps(value, sort_keys=True)` writes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A JSON value with Python's number model: integers and floats apart, non-finite floats allowed.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `null` (`None`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer (Python's are unbounded; beyond `i128` one is read as a float).
    Int(i128),
    /// A float, possibly `NaN` or infinite.
    Float(f64),
    /// A string.
    Str(String),
    /// An array (Python lists and tuples).
    List(Vec<PyValue>),
    /// An object, its keys in `sort_keys` order.
    Object(BTreeMap<String, PyValue>),
}

/// Where and why a text is not JSON as Python reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {message}")]
pub struct ParseError {
    /// The byte offset of the problem.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

impl PyValue {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, PyValue)>) -> Self {
        Self::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object of Dagster's serdes: `{"__class__": class, ...fields}`.
    pub fn class<K: Into<String>>(
        class: &str,
        fields: impl IntoIterator<Item = (K, PyValue)>,
    ) -> Self {
        let mut map: BTreeMap<String, PyValue> =
            fields.into_iter().map(|(k, v)| (k.into(), v)).collect();
        map.insert("__class__".into(), Self::str(class));
        Self::Object(map)
    }

    /// Dagster's serialised enum member, `{"__enum__": "Enum.MEMBER"}`.
    pub fn enum_member(value: &str) -> Self {
        Self::object([("__enum__", Self::str(value))])
    }

    /// `s` as a string, `None` as `null`.
    pub fn opt_str(s: Option<&str>) -> Self {
        s.map_or(Self::Null, Self::str)
    }

    /// The field `key` of an object (`None` for other values or a missing key).
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            Self::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a float, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[PyValue]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }

    /// The `__class__` of a serdes object.
    pub fn class_name(&self) -> Option<&str> {
        self.get("__class__").and_then(Self::as_str)
    }

    /// The member of a serdes enum (`SUCCESS` of `{"__enum__": "PipelineRunStatus.SUCCESS"}`).
    pub fn enum_name(&self) -> Option<&str> {
        let full = self.get("__enum__")?.as_str()?;
        Some(full.rsplit_once('.').map_or(full, |(_, member)| member))
    }

    /// Parses `text` as Python's `json.loads(text, strict=False)` does.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value(0)?;
        parser.skip_ws();
        if parser.pos != parser.bytes.len() {
            return Err(parser.error("extra data after the value"));
        }
        Ok(value)
    }

    /// The text `json.dumps(value, sort_keys=True)` writes.
    pub fn to_python_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(true) => out.push_str("true"),
            Self::Bool(false) => out.push_str("false"),
            Self::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Self::Float(f) => write_float(*f, out),
            Self::Str(s) => write_str(s, out),
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(map) => {
                out.push('{');
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&serde_json::Value> for PyValue {
    fn from(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Self::Int(i.into())
                } else if let Some(u) = n.as_u64() {
                    Self::Int(u.into())
                } else {
                    Self::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Self::Str(s.clone()),
            serde_json::Value::Array(items) => Self::List(items.iter().map(Self::from).collect()),
            serde_json::Value::Object(map) => Self::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&PyValue> for serde_json::Value {
    /// Plain JSON has no non-finite floats: they become the strings Python's `str()` gives
    /// (`nan`, `inf`, `-inf`), as the agent sends them; integers beyond 64 bits become floats.
    fn from(value: &PyValue) -> Self {
        match value {
            PyValue::Null => Self::Null,
            PyValue::Bool(b) => Self::Bool(*b),
            PyValue::Int(i) => {
                if let Ok(i) = i64::try_from(*i) {
                    i.into()
                } else if let Ok(u) = u64::try_from(*i) {
                    u.into()
                } else {
                    float_json(*i as f64)
                }
            }
            PyValue::Float(f) => float_json(*f),
            PyValue::Str(s) => Self::String(s.clone()),
            PyValue::List(items) => Self::Array(items.iter().map(Self::from).collect()),
            PyValue::Object(map) => Self::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::from(v)))
                    .collect(),
            ),
        }
    }
}

fn float_json(f: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None if f.is_nan() => "nan".into(),
        None if f > 0.0 => "inf".into(),
        None => "-inf".into(),
    }
}

/// Python's `float.__repr__`: the shortest digits that read back the same, in positional form
/// when the decimal exponent is in `-4..16`, else as `d[.ddd]e±XX` (two exponent digits at least).
fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits as `-d.ddde<exp>`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    out.push_str(sign);
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// A string as `json.dumps` with `ensure_ascii` writes it: printable ASCII as is (`/` too),
/// the short escapes, everything else `\uxxxx` (lower-case hex, surrogate pairs above the BMP).
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Deeper than this is refused rather than overflowing the stack (Python's limit is about 1000).
const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_ws();
        match self.bytes.get(self.pos) {
            None => Err(self.error("expected a value")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.list(depth),
            Some(b'"') => self.string().map(PyValue::Str),
            _ if self.eat("null") => Ok(PyValue::Null),
            _ if self.eat("true") => Ok(PyValue::Bool(true)),
            _ if self.eat("false") => Ok(PyValue::Bool(false)),
            _ if self.eat("NaN") => Ok(PyValue::Float(f64::NAN)),
            _ if self.eat("Infinity") => Ok(PyValue::Float(f64::INFINITY)),
            _ if self.eat("-Infinity") => Ok(PyValue::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<PyValue, ParseError> {
        self.pos += 1;
        let mut map = BTreeMap::new();
        self.skip_ws();
        if self.eat("}") {
            return Ok(PyValue::Object(map));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(":") {
                return Err(self.error("expected `:`"));
            }
            let value = self.value(depth + 1)?;
            // As in Python, a repeated key keeps its last value.
            map.insert(key, value);
            self.skip_ws();
            if self.eat("}") {
                return Ok(PyValue::Object(map));
            }
            if !self.eat(",") {
                return Err(self.error("expected `,` or `}`"));
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<PyValue, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat("]") {
            return Ok(PyValue::List(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat("]") {
                return Ok(PyValue::List(items));
            }
            if !self.eat(",") {
                return Err(self.error("expected `,` or `]`"));
            }
        }
    }

    fn number(&mut self) -> Result<PyValue, ParseError> {
        let start = self.pos;
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        let mut is_float = false;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' => is_float = true,
                b'+' | b'-' if is_float => {}
                _ => break,
            }
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        if !is_float {
            if let Ok(i) = text.parse::<i128>() {
                return Ok(PyValue::Int(i));
            }
        }
        text.parse::<f64>()
            .map(PyValue::Float)
            .map_err(|_| ParseError {
                offset: start,
                message: format!("invalid number `{text}`"),
            })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("expected four hex digits"))?;
        let unit =
            u32::from_str_radix(digits, 16).map_err(|_| self.error("expected four hex digits"))?;
        self.pos += 4;
        Ok(unit)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while !matches!(self.bytes.get(self.pos), None | Some(b'"' | b'\\')) {
                self.pos += 1;
            }
            // Raw control characters are allowed (`strict=False`).
            out.push_str(&self.text[start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => {}
            }
            self.pos += 1;
            let escape = *self
                .bytes
                .get(self.pos)
                .ok_or_else(|| self.error("unterminated string"))?;
            self.pos += 1;
            match escape {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let unit = self.hex4()?;
                    let c = if (0xD800..0xDC00).contains(&unit)
                        && self.text[self.pos..].starts_with("\\u")
                    {
                        let save = self.pos;
                        self.pos += 2;
                        let low = self.hex4()?;
                        if (0xDC00..0xE000).contains(&low) {
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        } else {
                            self.pos = save;
                            None
                        }
                    } else {
                        char::from_u32(unit)
                    };
                    // A lone surrogate has no `char`: it reads as U+FFFD, as the agent sends it.
                    out.push(c.unwrap_or('\u{FFFD}'));
                }
                _ => return Err(self.error("invalid escape")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumps(v: &PyValue) -> String {
        v.to_python_json()
    }

    #[test]
    fn floats_as_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-7, "1e-07"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0.0"),
            (1.5e300, "1.5e+300"),
            (123.456, "123.456"),
            (1_796_455_186.372_27, "1796455186.37227"),
            (1_796_459_224.666_617_4, "1796459224.6666174"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (5e-324, "5e-324"),
            (2.5e-5, "2.5e-05"),
        ];
        for (f, want) in cases {
            assert_eq!(dumps(&PyValue::Float(f)), want, "{f:?}");
        }
    }

    #[test]
    fn python_documented_sample() {
        // `serialize_value({'a': 1.0, 'b': 1e16, 'c': 1e-7, 'd': 0.1+0.2, 'e': '😀\x01/',
        // 'f': 10**20, 'g': -0.0})` in docs/dagster-instance-format.md.
        let v = PyValue::object([
            ("g", PyValue::Float(-0.0)),
            ("a", PyValue::Float(1.0)),
            ("b", PyValue::Float(1e16)),
            ("c", PyValue::Float(1e-7)),
            ("d", PyValue::Float(0.1 + 0.2)),
            ("e", PyValue::str("😀\u{1}/")),
            ("f", PyValue::Int(10i128.pow(20))),
        ]);
        let want = r#"{"a": 1.0, "b": 1e+16, "c": 1e-07, "d": 0.30000000000000004, "e": "\ud83d\ude00\u0001/", "f": 100000000000000000000, "g": -0.0}"#;
        assert_eq!(dumps(&v), want);
        assert_eq!(PyValue::parse(want).unwrap(), v);
    }

    #[test]
    fn strings_ensure_ascii() {
        assert_eq!(
            dumps(&PyValue::str("é\"\\\n\t\u{7f}\u{8}\u{c}\r")),
            r#""\u00e9\"\\\n\t\u007f\b\f\r""#
        );
        assert_eq!(
            PyValue::parse(r#""\u00e9\/\ud83d\ude00\ud800x""#).unwrap(),
            PyValue::str("é/😀\u{FFFD}x")
        );
        // strict=False: raw control characters inside strings.
        assert_eq!(
            PyValue::parse("\"a\u{1}\nb\"").unwrap(),
            PyValue::str("a\u{1}\nb")
        );
    }

    #[test]
    fn keys_sorted_by_code_point() {
        let v = PyValue::object([
            ("b", PyValue::Null),
            ("a", PyValue::Null),
            ("é", PyValue::Null),
            ("Z", PyValue::Null),
            ("_", PyValue::Null),
        ]);
        assert_eq!(
            dumps(&v),
            r#"{"Z": null, "_": null, "a": null, "b": null, "\u00e9": null}"#
        );
    }

    #[test]
    fn parse_tokens_and_errors() {
        let v = PyValue::parse(" [NaN, -Infinity, Infinity, 1, -2.5e3, true, false, null, {}] ")
            .unwrap();
        let items = v.as_list().unwrap();
        assert!(matches!(items[0], PyValue::Float(f) if f.is_nan()));
        assert_eq!(items[1], PyValue::Float(f64::NEG_INFINITY));
        assert_eq!(items[3], PyValue::Int(1));
        assert_eq!(items[4], PyValue::Float(-2500.0));
        assert_eq!(
            dumps(&v),
            "[NaN, -Infinity, Infinity, 1, -2500.0, true, false, null, {}]"
        );
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "\"abc",
            "1 2",
            "\"\\x\"",
        ] {
            assert!(PyValue::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PyValue::parse(&"[".repeat(10_000)).is_err());
    }

    #[test]
    fn serde_json_bridge() {
        let json = serde_json::json!({"a": [1, 2.5, "x", null, true], "big": u64::MAX});
        let py = PyValue::from(&json);
        assert_eq!(serde_json::Value::from(&py), json);
        assert_eq!(
            serde_json::Value::from(&PyValue::Float(f64::NAN)),
            serde_json::json!("nan")
        );
    }
}
