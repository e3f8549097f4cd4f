//! A small, strict JSON reader for the files Concordat reads as a trust root or a wrapper (the
//! genesis file, a JSON-wrapped bundle), to `serde_json::Value`.
//!
//! It exists for the browser verifier's size (ADR 0025): serde_json's reader, with its float
//! parsing and one copy of its deserializer per type read, is some 30 KB of the module, and
//! these files need none of it. The JSON is RFC 8259's, read strictly:
//! - whitespace is space, tab, line feed and carriage return; nothing may follow the value;
//! - strings hold no control characters; escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`, and a
//!   `\u` surrogate must be a high one followed by a low one;
//! - an object may not repeat a key (a repeated key is an error, not "the last one wins");
//! - numbers are whole numbers that fit `u64` or `i64`: a fraction, an exponent or `-0` (a
//!   float to serde_json) is an error, since nothing Concordat writes in these files has one;
//! - nesting is at most [`MAX_DEPTH`] deep.
//!
//! Errors say what is wrong and where (line and column, both from 1).

use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and objects read: serde_json's own limit (its recursion limit of
/// 128 refuses the 128th level).
pub const MAX_DEPTH: usize = 127;

/// Why a text is not read: what, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Line of the error, from 1.
    pub line: usize,
    /// Column of the error (in characters), from 1.
    pub column: usize,
}

impl core::fmt::Display for JsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}

/// Reads `text` as one JSON value (see the module docs for what is refused).
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let v = r.value(0)?;
    r.skip_space();
    if r.pos != r.bytes.len() {
        return Err(r.error("trailing characters after the value"));
    }
    Ok(v)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> JsonError {
        let before = self.text.get(..self.pos).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        JsonError {
            message: message.into(),
            line,
            column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or says what was expected.
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), JsonError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_space();
        match self.peek() {
            None => Err(self.error("the text ends where a value should be")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn nested(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.nested(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.nested(depth)?;
        self.pos += 1; // '{'
        let mut members = Map::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key (a string)"));
            }
            let at = self.pos;
            let key = self.string()?;
            self.expect(b':', "expected `:`")?;
            let v = self.value(depth)?;
            if members.contains_key(&key) {
                self.pos = at;
                return Err(self.error(&format!("the key `{key}` is repeated")));
            }
            members.insert(key, v);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("a \\u escape needs four hex digits"))?;
        let n = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            // The run of plain characters up to the next quote, backslash or control character.
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // `start..pos` ends before an ASCII byte or at the end: on character boundaries.
            out.push_str(self.text.get(start..self.pos).unwrap_or(""));
            match self.peek() {
                None => return Err(self.error("the text ends inside a string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.error("a control character inside a string")),
            }
        }
    }

    /// The character of a `\u` escape (the `\u` already read), with its low surrogate.
    fn unicode(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.error("a high surrogate without its low one"));
                }
                self.pos += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error("a high surrogate without its low one"));
                }
                0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("a low surrogate without its high one")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let text = self.text.get(digits..self.pos).unwrap_or("");
        if text.is_empty() || (text.len() > 1 && text.starts_with('0')) {
            self.pos = start;
            return Err(self.error("invalid number"));
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            self.pos = start;
            return Err(self.error("only whole numbers are read here"));
        }
        if negative && text == "0" {
            // serde_json reads `-0` as the float -0.0; so do not read it as a whole number.
            self.pos = start;
            return Err(self.error("only whole numbers are read here"));
        }
        let n = match text.parse::<u64>() {
            Ok(m) if !negative => Some(Number::from(m)),
            Ok(m) => 0i64.checked_sub_unsigned(m).map(Number::from),
            Err(_) => None,
        };
        let Some(n) = n else {
            self.pos = start;
            return Err(self.error("a number out of range"));
        };
        Ok(Value::Number(n))
    }
}
