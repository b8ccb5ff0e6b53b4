//! Turns source text into tokens, Python style: INDENT/DEDENT from leading
//! whitespace, NEWLINE only outside brackets, implicit joining inside
//! brackets and after a backslash, string prefixes (`r`, `f`, `u`) and
//! triple quotes, `_` in number literals.
//!
//! f-strings are split here into literal pieces and raw `{expr}` field texts;
//! the parser parses each field text as an expression.

use num_bigint::BigInt;
use std::rc::Rc;

/// The most digits of a decimal int literal (`sys.get_int_max_str_digits()`).
const MAX_INT_LITERAL_DIGITS: usize = 4300;

/// A syntax error found while reading the source: message and position
/// (1-based line, 0-based character column of the caret).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub msg: String,
    pub line: u32,
    pub col: u32,
    /// `IndentationError` instead of `SyntaxError`.
    pub indentation: bool,
}

impl SyntaxError {
    pub fn new(msg: impl Into<String>, line: u32, col: u32) -> SyntaxError {
        SyntaxError {
            msg: msg.into(),
            line,
            col,
            indentation: false,
        }
    }
}

/// Python keywords (soft keywords such as `match` are plain names here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kw {
    False,
    None,
    True,
    And,
    As,
    Assert,
    Async,
    Await,
    Break,
    Class,
    Continue,
    Def,
    Del,
    Elif,
    Else,
    Except,
    Finally,
    For,
    From,
    Global,
    If,
    Import,
    In,
    Is,
    Lambda,
    Nonlocal,
    Not,
    Or,
    Pass,
    Raise,
    Return,
    Try,
    While,
    With,
    Yield,
}

fn keyword(s: &str) -> Option<Kw> {
    use Kw::*;
    Some(match s {
        "False" => False,
        "None" => None,
        "True" => True,
        "and" => And,
        "as" => As,
        "assert" => Assert,
        "async" => Async,
        "await" => Await,
        "break" => Break,
        "class" => Class,
        "continue" => Continue,
        "def" => Def,
        "del" => Del,
        "elif" => Elif,
        "else" => Else,
        "except" => Except,
        "finally" => Finally,
        "for" => For,
        "from" => From,
        "global" => Global,
        "if" => If,
        "import" => Import,
        "in" => In,
        "is" => Is,
        "lambda" => Lambda,
        "nonlocal" => Nonlocal,
        "not" => Not,
        "or" => Or,
        "pass" => Pass,
        "raise" => Raise,
        "return" => Return,
        "try" => Try,
        "while" => While,
        "with" => With,
        "yield" => Yield,
        _ => return Option::None,
    })
}

/// One piece of an f-string.
#[derive(Debug, Clone, PartialEq)]
pub enum FPiece {
    Lit(String),
    /// `{expr!conv:spec}`: the expression's source text, its line, the
    /// conversion character and the (possibly nested) format spec.
    Field {
        expr: String,
        line: u32,
        col: u32,
        conv: Option<char>,
        spec: Vec<FPiece>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(Rc<str>),
    Kw(Kw),
    Int(i64),
    BigInt(Rc<BigInt>),
    Float(f64),
    Str(String),
    FStr(Vec<FPiece>),
    /// An operator or delimiter, e.g. `"+="`, `"("`, `"->"`.
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
}

/// Longest first, so that `**=` wins over `**` and `*`.
const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
    "**", "//", "<<", ">>", "<=", ">=", "==", "!=", ":=", "(", ")", "[", "]", "{", "}", ",", ":",
    ".", ";", "@", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">",
];

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    line_start: usize,
    indents: Vec<u32>,
    brackets: Vec<(char, u32, u32)>,
    tokens: Vec<Token>,
    _src: &'a str,
}

/// Tokenizes a whole module.
pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        pos: 0,
        line: 1,
        line_start: 0,
        indents: vec![0],
        brackets: Vec::new(),
        tokens: Vec::new(),
        _src: src,
    };
    lx.run()?;
    Ok(lx.tokens)
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> char {
        self.chars.get(self.pos + off).copied().unwrap_or('\0')
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn col(&self) -> u32 {
        (self.pos - self.line_start) as u32
    }

    fn push(&mut self, tok: Tok, line: u32, col: u32) {
        self.tokens.push(Token { tok, line, col });
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError::new(msg, self.line, self.col()))
    }

    fn newline_char(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        let mut at_line_start = true;
        while !self.at_end() {
            if at_line_start && self.brackets.is_empty() {
                at_line_start = false;
                if self.indentation()? {
                    continue;
                }
            }
            let c = self.peek(0);
            match c {
                ' ' | '\t' | '\x0c' => self.pos += 1,
                '\r' if self.peek(1) == '\n' => self.pos += 1,
                '\n' | '\r' => {
                    if self.brackets.is_empty() {
                        let (line, col) = (self.line, self.col());
                        self.push(Tok::Newline, line, col);
                        at_line_start = true;
                    }
                    self.newline_char();
                }
                '#' => {
                    while !self.at_end() && self.peek(0) != '\n' {
                        self.pos += 1;
                    }
                }
                '\\' => {
                    if self.peek(1) == '\n' {
                        self.pos += 1;
                        self.newline_char();
                    } else if self.peek(1) == '\r' && self.peek(2) == '\n' {
                        self.pos += 2;
                        self.newline_char();
                    } else {
                        return self.err("unexpected character after line continuation character");
                    }
                }
                c if c.is_ascii_digit() || (c == '.' && self.peek(1).is_ascii_digit()) => {
                    self.number()?
                }
                c if c == '_' || c.is_alphabetic() => self.name_or_string()?,
                '"' | '\'' => {
                    let (line, col) = (self.line, self.col());
                    let tok = self.string("", line, col)?;
                    self.push(tok, line, col);
                }
                _ => self.operator()?,
            }
        }
        if let Some(&(open, line, col)) = self.brackets.last() {
            return Err(SyntaxError::new(
                format!("'{open}' was never closed"),
                line,
                col,
            ));
        }
        let (line, col) = (self.line, self.col());
        if !matches!(
            self.tokens.last().map(|t| &t.tok),
            None | Some(Tok::Newline)
        ) {
            self.push(Tok::Newline, line, col);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent, line, 0);
        }
        self.push(Tok::Eof, line, 0);
        Ok(())
    }

    /// Measures the indentation of a new logical line and emits
    /// INDENT/DEDENT. Returns true when the line was blank or a comment
    /// (then nothing is emitted and the caller goes on to the next line).
    fn indentation(&mut self) -> Result<bool, SyntaxError> {
        let mut width = 0u32;
        let mut p = self.pos;
        while p < self.chars.len() {
            match self.chars[p] {
                ' ' => width += 1,
                '\t' => width = (width / 8 + 1) * 8,
                '\x0c' => width = 0,
                _ => break,
            }
            p += 1;
        }
        let next = self.chars.get(p).copied().unwrap_or('\n');
        if next == '#' || next == '\n' || next == '\r' || p >= self.chars.len() {
            self.pos = p;
            return Ok(true);
        }
        self.pos = p;
        let current = *self.indents.last().unwrap_or(&0);
        if width > current {
            self.indents.push(width);
            self.push(Tok::Indent, self.line, width);
        } else if width < current {
            while width < *self.indents.last().unwrap_or(&0) {
                self.indents.pop();
                self.push(Tok::Dedent, self.line, width);
            }
            if width != *self.indents.last().unwrap_or(&0) {
                let mut e = SyntaxError::new(
                    "unindent does not match any outer indentation level",
                    self.line,
                    width,
                );
                e.indentation = true;
                return Err(e);
            }
        }
        Ok(false)
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let (line, col) = (self.line, self.col());
        let start = self.pos;
        let radix = if self.peek(0) == '0' {
            match self.peek(1) {
                'x' | 'X' => 16,
                'o' | 'O' => 8,
                'b' | 'B' => 2,
                _ => 10,
            }
        } else {
            10
        };
        if radix != 10 {
            self.pos += 2;
            let mut digits = String::new();
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == '_' {
                if self.peek(0) != '_' {
                    digits.push(self.peek(0));
                }
                self.pos += 1;
            }
            let value = BigInt::parse_bytes(digits.as_bytes(), radix)
                .ok_or_else(|| SyntaxError::new("invalid digit in number literal", line, col))?;
            self.push(int_token(value), line, col);
            return Ok(());
        }
        let mut text = String::new();
        let mut is_float = false;
        let mut last_underscore = false;
        loop {
            let c = self.peek(0);
            if c.is_ascii_digit() {
                text.push(c);
                last_underscore = false;
            } else if c == '_' && !last_underscore && self.peek(1).is_ascii_digit() {
                last_underscore = true;
            } else if c == '.' && !is_float && !text.contains(['e', 'E']) {
                is_float = true;
                text.push(c);
            } else if (c == 'e' || c == 'E')
                && !text.contains(['e', 'E'])
                && (self.peek(1).is_ascii_digit()
                    || (matches!(self.peek(1), '+' | '-') && self.peek(2).is_ascii_digit()))
            {
                is_float = true;
                text.push(c);
                if matches!(self.peek(1), '+' | '-') {
                    self.pos += 1;
                    text.push(self.peek(0));
                }
            } else {
                break;
            }
            self.pos += 1;
        }
        if self.peek(0).is_alphabetic() || self.peek(0) == '_' {
            self.pos = start;
            return self.err("invalid decimal literal");
        }
        if is_float {
            let value: f64 = text
                .parse()
                .map_err(|_| SyntaxError::new("invalid float literal", line, col))?;
            self.push(Tok::Float(value), line, col);
        } else {
            if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
                return Err(SyntaxError::new(
                    "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
                    line,
                    col,
                ));
            }
            if text.len() > MAX_INT_LITERAL_DIGITS {
                // CPython's limit, which also keeps a megabyte of digits
                // from taking quadratic time to convert.
                return Err(SyntaxError::new(
                    format!(
                        "Exceeds the limit ({MAX_INT_LITERAL_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal for huge integer literals to avoid decimal conversion limits.",
                        text.len()
                    ),
                    line,
                    col,
                ));
            }
            let value = BigInt::parse_bytes(text.as_bytes(), 10)
                .ok_or_else(|| SyntaxError::new("invalid decimal literal", line, col))?;
            self.push(int_token(value), line, col);
        }
        Ok(())
    }

    fn name_or_string(&mut self) -> Result<(), SyntaxError> {
        let (line, col) = (self.line, self.col());
        let start = self.pos;
        while self.peek(0) == '_' || self.peek(0).is_alphanumeric() {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        let lower = word.to_ascii_lowercase();
        if matches!(self.peek(0), '"' | '\'')
            && matches!(
                lower.as_str(),
                "r" | "u" | "f" | "rf" | "fr" | "b" | "br" | "rb"
            )
        {
            if lower.contains('b') {
                return self.err("bytes literals are not supported by minipy");
            }
            let tok = self.string(&lower, line, col)?;
            self.push(tok, line, col);
            return Ok(());
        }
        let tok = match keyword(&word) {
            Some(kw) => Tok::Kw(kw),
            None => Tok::Name(Rc::from(word.as_str())),
        };
        self.push(tok, line, col);
        Ok(())
    }

    fn operator(&mut self) -> Result<(), SyntaxError> {
        let (line, col) = (self.line, self.col());
        for op in OPERATORS {
            if op.chars().enumerate().all(|(i, c)| self.peek(i) == c) {
                self.pos += op.chars().count();
                match *op {
                    "(" | "[" | "{" => {
                        if self.brackets.len() >= 200 {
                            return Err(SyntaxError::new("too many nested parentheses", line, col));
                        }
                        self.brackets
                            .push((op.chars().next().unwrap_or('('), line, col))
                    }
                    ")" | "]" | "}" => {
                        let close = op.chars().next().unwrap_or(')');
                        match self.brackets.pop() {
                            None => {
                                return Err(SyntaxError::new(
                                    format!("unmatched '{close}'"),
                                    line,
                                    col,
                                ))
                            }
                            Some((open, _, _)) if matching(open) != close => {
                                return Err(SyntaxError::new(
                                    format!("closing parenthesis '{close}' does not match opening parenthesis '{open}'"),
                                    line,
                                    col,
                                ));
                            }
                            Some(_) => {}
                        }
                    }
                    _ => {}
                }
                self.push(Tok::Op(op), line, col);
                return Ok(());
            }
        }
        let c = self.peek(0);
        if c.is_ascii() {
            return self.err("invalid syntax");
        }
        self.err(format!("invalid character '{c}' (U+{:04X})", c as u32))
    }

    /// Reads a string literal whose prefix (lowercase) was already consumed.
    fn string(&mut self, prefix: &str, line: u32, col: u32) -> Result<Tok, SyntaxError> {
        let raw = prefix.contains('r');
        let is_f = prefix.contains('f');
        let quote = self.peek(0);
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        self.pos += if triple { 3 } else { 1 };
        let body_line = self.line;
        let body_col = self.col();
        let mut body = String::new();
        let mut brace_depth = 0usize;
        loop {
            if self.at_end() {
                let what = if triple {
                    "unterminated triple-quoted string literal"
                } else {
                    "unterminated string literal"
                };
                return Err(SyntaxError::new(
                    format!("{what} (detected at line {})", self.line),
                    line,
                    col,
                ));
            }
            let c = self.peek(0);
            if brace_depth == 0
                && c == quote
                && (!triple || (self.peek(1) == quote && self.peek(2) == quote))
            {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if (c == '\n' || c == '\r') && !triple && brace_depth == 0 {
                return Err(SyntaxError::new(
                    format!(
                        "unterminated string literal (detected at line {})",
                        self.line
                    ),
                    line,
                    col,
                ));
            }
            if c == '\\' && brace_depth == 0 {
                body.push(c);
                self.pos += 1;
                let n = self.peek(0);
                if n == '\n' {
                    body.push(n);
                    self.newline_char();
                } else if !self.at_end() {
                    body.push(n);
                    self.pos += 1;
                }
                continue;
            }
            if is_f && brace_depth > 0 && (c == '\'' || c == '"') {
                // A string nested inside an f-string field (PEP 701): copy it whole.
                body.push(c);
                self.pos += 1;
                while !self.at_end() && self.peek(0) != c && self.peek(0) != '\n' {
                    body.push(self.peek(0));
                    self.pos += 1;
                }
                if !self.at_end() {
                    body.push(self.peek(0));
                    self.pos += 1;
                }
                continue;
            }
            if is_f {
                if c == '{' && self.peek(1) == '{' && brace_depth == 0 {
                    body.push_str("{{");
                    self.pos += 2;
                    continue;
                }
                if c == '{' {
                    brace_depth += 1;
                } else if c == '}' && brace_depth > 0 {
                    brace_depth -= 1;
                }
            }
            body.push(c);
            if c == '\n' {
                self.newline_char();
            } else {
                self.pos += 1;
            }
        }
        if is_f {
            let pieces = split_fstring(&body, raw, body_line, body_col)?;
            Ok(Tok::FStr(pieces))
        } else if raw {
            Ok(Tok::Str(body))
        } else {
            Ok(Tok::Str(unescape(&body, line, col)?))
        }
    }
}

fn matching(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn int_token(value: BigInt) -> Tok {
    match i64::try_from(&value) {
        Ok(v) => Tok::Int(v),
        Err(_) => Tok::BigInt(Rc::new(value)),
    }
}

/// Applies backslash escapes of a non-raw string literal.
pub fn unescape(body: &str, line: u32, col: u32) -> Result<String, SyntaxError> {
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let digits: String = (0..n).filter_map(|_| it.next()).collect();
                let v = u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| digits.len() == n);
                match v.and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        return Err(SyntaxError::new(
                            format!("(unicode error) truncated \\{e} escape"),
                            line,
                            col,
                        ))
                    }
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Splits an f-string body into literal pieces and `{...}` fields.
fn split_fstring(body: &str, raw: bool, line: u32, col: u32) -> Result<Vec<FPiece>, SyntaxError> {
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    let pieces = fstring_pieces(&chars, &mut pos, raw, line, col, false)?;
    Ok(pieces)
}

fn fstring_pieces(
    chars: &[char],
    pos: &mut usize,
    raw: bool,
    line: u32,
    col: u32,
    in_spec: bool,
) -> Result<Vec<FPiece>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let flush = |lit: &mut String, pieces: &mut Vec<FPiece>| -> Result<(), SyntaxError> {
        if !lit.is_empty() {
            let text = if raw {
                std::mem::take(lit)
            } else {
                unescape(&std::mem::take(lit), line, col)?
            };
            pieces.push(FPiece::Lit(text));
        }
        Ok(())
    };
    while *pos < chars.len() {
        let c = chars[*pos];
        if in_spec && c == '}' {
            break;
        }
        if c == '{' && chars.get(*pos + 1) == Some(&'{') && !in_spec {
            lit.push('{');
            *pos += 2;
            continue;
        }
        if c == '}' && !in_spec {
            if chars.get(*pos + 1) == Some(&'}') {
                lit.push('}');
                *pos += 2;
                continue;
            }
            return Err(SyntaxError::new(
                "f-string: single '}' is not allowed",
                line,
                col,
            ));
        }
        if c != '{' {
            lit.push(c);
            *pos += 1;
            continue;
        }
        flush(&mut lit, &mut pieces)?;
        *pos += 1;
        // The expression runs to a top-level '!', ':' or '}'.
        let mut depth = 0i32;
        let mut expr = String::new();
        let mut quote: Option<char> = None;
        while *pos < chars.len() {
            let ch = chars[*pos];
            if let Some(q) = quote {
                if ch == q {
                    quote = None;
                }
            } else if ch == '\'' || ch == '"' {
                quote = Some(ch);
            } else if matches!(ch, '(' | '[' | '{') {
                depth += 1;
            } else if matches!(ch, ')' | ']') || (ch == '}' && depth > 0) {
                depth -= 1;
            } else if depth == 0
                && (ch == '}' || ch == ':' || (ch == '!' && chars.get(*pos + 1) != Some(&'=')))
            {
                break;
            }
            expr.push(ch);
            *pos += 1;
        }
        if expr.trim().is_empty() {
            return Err(SyntaxError::new(
                "f-string: valid expression required before '}'",
                line,
                col,
            ));
        }
        let mut conv = None;
        if chars.get(*pos) == Some(&'!') {
            conv = chars.get(*pos + 1).copied();
            if !matches!(conv, Some('r' | 's' | 'a')) {
                return Err(SyntaxError::new(
                    "f-string: invalid conversion character",
                    line,
                    col,
                ));
            }
            *pos += 2;
        }
        let mut spec = Vec::new();
        if chars.get(*pos) == Some(&':') {
            *pos += 1;
            spec = fstring_pieces(chars, pos, raw, line, col, true)?;
        }
        if chars.get(*pos) != Some(&'}') {
            return Err(SyntaxError::new("f-string: expecting '}'", line, col));
        }
        *pos += 1;
        pieces.push(FPiece::Field {
            expr,
            line,
            col,
            conv,
            spec,
        });
    }
    flush(&mut lit, &mut pieces)?;
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn indentation_produces_indent_and_dedent() {
        let toks = kinds("if x:\n    y = 1\nz\n");
        assert!(toks.contains(&Tok::Indent));
        assert!(toks.contains(&Tok::Dedent));
        assert_eq!(toks.last(), Some(&Tok::Eof));
    }

    #[test]
    fn numbers_with_underscores_and_big_values() {
        assert_eq!(kinds("10_000_000")[0], Tok::Int(10_000_000));
        assert!(matches!(kinds("99999999999999999999")[0], Tok::BigInt(_)));
        assert_eq!(kinds("0x_ff")[0], Tok::Int(255));
        assert_eq!(kinds("1.5e3")[0], Tok::Float(1500.0));
    }

    #[test]
    fn newlines_inside_brackets_are_joined() {
        let toks = kinds("f(1,\n  2)\n");
        assert_eq!(toks.iter().filter(|t| **t == Tok::Newline).count(), 1);
    }

    #[test]
    fn strings_escape_and_fstrings_split() {
        assert_eq!(kinds(r#"'a\tb'"#)[0], Tok::Str("a\tb".into()));
        assert_eq!(kinds(r#"r'a\tb'"#)[0], Tok::Str("a\\tb".into()));
        let Tok::FStr(pieces) = &kinds("f'x={x!r:>4} {{y}}'")[0] else {
            panic!("not an f-string")
        };
        assert_eq!(pieces.len(), 3);
        assert!(matches!(&pieces[1], FPiece::Field { expr, conv: Some('r'), .. } if expr == "x"));
        assert_eq!(pieces[2], FPiece::Lit(" {y}".into()));
    }

    #[test]
    fn unclosed_bracket_is_reported_at_the_opening() {
        let e = tokenize("x = (1,\n2\n").unwrap_err();
        assert_eq!(
            (e.msg.as_str(), e.line, e.col),
            ("'(' was never closed", 1, 4)
        );
    }
}
