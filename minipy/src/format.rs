//! Turning values into text as CPython does: `repr()` and `str()` (with
//! `__repr__`/`__str__` of user classes), float repr (shortest round-trip,
//! `1e+16` style past 16 digits), the format-spec mini-language used by
//! f-strings, `format()` and `str.format`, and printf-style `%`.

use crate::errors::{exc_args, Exc, PyResult};
use crate::interp::Interp;
use crate::num::IntRef;
use crate::object::{ClassKind, ExcType};
use crate::value::Value;
use std::fmt::Write;

/// CPython's limit on int → str conversion (`sys.get_int_max_str_digits`).
const MAX_STR_DIGITS: usize = 4300;

impl Interp {
    pub fn repr(&mut self, v: &Value) -> PyResult<String> {
        let mut s = String::new();
        self.write_repr(&mut s, v)?;
        Ok(s)
    }

    pub fn to_str(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Instance(inst) => {
                if inst.class.lookup("__str__").is_some() {
                    return match self.call_special(v, "__str__", Vec::new())? {
                        Some(Value::Str(s)) => Ok(s.to_string()),
                        Some(other) => Err(Exc::type_error(format!(
                            "__str__ returned non-string (type {})",
                            other.type_name()
                        ))),
                        None => Ok(String::new()),
                    };
                }
                if inst.class.exc_type().is_some() && inst.class.lookup("__repr__").is_none() {
                    return self.exception_str(inst);
                }
                self.repr(v)
            }
            _ => self.repr(v),
        }
    }

    /// `str(exc)`: its single argument, or the repr of all of them.
    pub fn exception_str(&mut self, inst: &crate::object::Instance) -> PyResult<String> {
        let args = exc_args(inst);
        let os_error = inst
            .class
            .is_subclass_of(&crate::object::exc_class(ExcType::OSError));
        if let (true, [Value::Int(errno), msg]) = (os_error, args.as_slice()) {
            let msg = self.to_str(msg)?;
            return Ok(format!("[Errno {errno}] {msg}"));
        }
        match args.len() {
            0 => Ok(String::new()),
            1 if inst.class.exc_type() == Some(ExcType::KeyError) => self.repr(&args[0]),
            1 => self.to_str(&args[0]),
            _ => self.repr(&Value::tuple(args)),
        }
    }

    fn write_repr(&mut self, out: &mut String, v: &Value) -> PyResult<()> {
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if b.get() { "True" } else { "False" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::BigInt(b) => {
                if b.bits() > (MAX_STR_DIGITS as u64) * 3 {
                    let s = b.to_string();
                    if s.trim_start_matches('-').len() > MAX_STR_DIGITS {
                        return Err(Exc::value_error(format!(
                            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
                        )));
                    }
                    out.push_str(&s);
                } else {
                    let _ = write!(out, "{b}");
                }
            }
            Value::Float(f) => out.push_str(&float_repr(f.get())),
            Value::Str(s) => str_repr(out, s),
            Value::List(l) => {
                let items = l.borrow().clone();
                self.nested(out, v, "[", "]", "[...]", |me, out| {
                    me.write_items(out, &items)
                })?;
            }
            Value::Tuple(t) => {
                let items = t.clone();
                out.push('(');
                self.guard(|me| me.write_items(out, &items))?;
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::Dict(d) => {
                let items: Vec<(Value, Value)> = d
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.0.clone(), v.clone()))
                    .collect();
                self.nested(out, v, "{", "}", "{...}", |me, out| {
                    for (i, (k, val)) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        me.write_repr(out, k)?;
                        out.push_str(": ");
                        me.write_repr(out, val)?;
                    }
                    Ok(())
                })?;
            }
            Value::Set(s) => {
                let items: Vec<Value> = s.borrow().iter().map(|k| k.0.clone()).collect();
                if items.is_empty() {
                    out.push_str("set()");
                } else {
                    self.nested(out, v, "{", "}", "{...}", |me, out| {
                        me.write_items(out, &items)
                    })?;
                }
            }
            Value::Range(r) => {
                if r.step == 1 {
                    let _ = write!(out, "range({}, {})", r.start, r.stop);
                } else {
                    let _ = write!(out, "range({}, {}, {})", r.start, r.stop, r.step);
                }
            }
            Value::Slice(b) => {
                let b = b.clone();
                out.push_str("slice(");
                self.write_items(out, &b[..])?;
                out.push(')');
            }
            Value::Function(func) => {
                let _ = write!(
                    out,
                    "<function {} at {:#x}>",
                    func.code.qualname,
                    v.address()
                );
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<built-in function {}>", b.name);
            }
            Value::Method(m) => {
                let name = match &m.func {
                    Value::Function(f) => f.code.qualname.to_string(),
                    other => self.repr(other)?,
                };
                let _ = write!(out, "<bound method {name} of ");
                let receiver = m.receiver.clone();
                self.guard(|me| me.write_repr(out, &receiver))?;
                out.push('>');
            }
            Value::NativeMethod(m) => {
                let _ = write!(
                    out,
                    "<built-in method {} of {} object at {:#x}>",
                    m.name,
                    m.receiver.type_name(),
                    m.receiver.address()
                );
            }
            Value::Class(c) => {
                if c.kind == ClassKind::User {
                    let _ = write!(out, "<class '{}.{}'>", c.module, c.qualname);
                } else {
                    let _ = write!(out, "<class '{}'>", c.name);
                }
            }
            Value::Instance(inst) => {
                if inst.class.lookup("__repr__").is_some() {
                    let r = self.guard(|me| me.call_special(v, "__repr__", Vec::new()))?;
                    match r {
                        Some(Value::Str(s)) => out.push_str(&s),
                        Some(other) => {
                            return Err(Exc::type_error(format!(
                                "__repr__ returned non-string (type {})",
                                other.type_name()
                            )))
                        }
                        None => {}
                    }
                } else if inst.class.exc_type().is_some() {
                    out.push_str(&inst.class.name);
                    let args = exc_args(inst);
                    out.push('(');
                    self.guard(|me| me.write_items(out, &args))?;
                    out.push(')');
                } else {
                    let _ = write!(
                        out,
                        "<{}.{} object at {:#x}>",
                        inst.class.module,
                        inst.class.qualname,
                        v.address()
                    );
                }
            }
            Value::Module(m) => {
                let _ = write!(out, "<module '{}' (built-in)>", m.name);
            }
            Value::Super(s) => {
                let _ = write!(
                    out,
                    "<super: <class '{}'>, <{} object>>",
                    s.after.name,
                    s.receiver.type_name()
                );
            }
            Value::Ellipsis => out.push_str("Ellipsis"),
            Value::Unbound => out.push_str("<unbound>"),
        }
        Ok(())
    }

    fn write_items(&mut self, out: &mut String, items: &[Value]) -> PyResult<()> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_repr(out, item)?;
        }
        Ok(())
    }

    /// Bounds repr nesting like a recursion (deep nesting raises
    /// `RecursionError`, never overflows the native stack).
    fn guard<T>(&mut self, body: impl FnOnce(&mut Interp) -> PyResult<T>) -> PyResult<T> {
        if self.repr_depth + self.depth >= self.recursion_limit {
            return Err(Exc::new(
                ExcType::RecursionError,
                "maximum recursion depth exceeded while getting the repr of an object",
            ));
        }
        self.repr_depth += 1;
        let r = body(self);
        self.repr_depth -= 1;
        r
    }

    /// A container repr that prints `[...]` when it contains itself.
    fn nested(
        &mut self,
        out: &mut String,
        container: &Value,
        open: &str,
        close: &str,
        recursive: &str,
        body: impl FnOnce(&mut Interp, &mut String) -> PyResult<()>,
    ) -> PyResult<()> {
        let addr = container.address();
        if self.repr_stack.contains(&addr) {
            out.push_str(recursive);
            return Ok(());
        }
        self.repr_stack.push(addr);
        out.push_str(open);
        let r = self.guard(|me| body(me, out));
        self.repr_stack.pop();
        r?;
        out.push_str(close);
        Ok(())
    }

    /// `format(v, spec)`.
    pub fn format_value(&mut self, v: &Value, spec: &str) -> PyResult<String> {
        if spec.is_empty() {
            return self.to_str(v);
        }
        if let Value::Instance(_) = v {
            if let Some(r) = self.call_special(v, "__format__", vec![Value::str(spec)])? {
                return self.to_str(&r);
            }
            let s = self.to_str(v)?;
            return format_with_spec(&Value::str(&s), spec);
        }
        format_with_spec(v, spec)
    }

    /// `fmt % args`.
    pub fn percent_format(&mut self, fmt: &str, args: &Value) -> PyResult<String> {
        let (items, mapping): (Vec<Value>, Option<Value>) = match args {
            Value::Tuple(t) => (t.to_vec(), None),
            Value::Dict(_) => (Vec::new(), Some(args.clone())),
            other => (vec![other.clone()], None),
        };
        let mut next = 0usize;
        let mut out = String::new();
        let chars: Vec<char> = fmt.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '%' {
                out.push(c);
                continue;
            }
            let mut value: Option<Value> = None;
            if chars.get(i) == Some(&'(') {
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == ')')
                    .map(|p| p + i)
                    .ok_or_else(|| Exc::value_error("incomplete format key"))?;
                let key: String = chars[i + 1..end].iter().collect();
                let map = mapping
                    .clone()
                    .ok_or_else(|| Exc::type_error("format requires a mapping"))?;
                value = Some(self.get_item(&map, &Value::str(&key))?);
                i = end + 1;
            }
            let mut flags = String::new();
            while let Some(&f) = chars.get(i).filter(|c| "-+ #0".contains(**c)) {
                flags.push(f);
                i += 1;
            }
            let mut width = String::new();
            while let Some(&d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                width.push(d);
                i += 1;
            }
            // CPython's limits: a width must fit a Py_ssize_t, a precision an int.
            let w: usize = match width.parse::<usize>() {
                _ if width.is_empty() => 0,
                Ok(w) if w <= isize::MAX as usize => w,
                _ => return Err(Exc::value_error("width too big")),
            };
            let mut precision = None;
            if chars.get(i) == Some(&'.') {
                i += 1;
                let mut p = String::new();
                while let Some(&d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                    p.push(d);
                    i += 1;
                }
                precision = match p.parse::<usize>() {
                    _ if p.is_empty() => Some(0),
                    Ok(p) if p <= i32::MAX as usize => Some(p),
                    _ => return Err(Exc::value_error("precision too big")),
                };
            }
            let Some(&conv) = chars.get(i) else {
                return Err(Exc::value_error("incomplete format"));
            };
            i += 1;
            if conv == '%' {
                out.push('%');
                continue;
            }
            let arg = match value {
                Some(v) => v,
                None if mapping.is_some() => mapping.clone().unwrap_or(Value::None),
                None => {
                    let v = items
                        .get(next)
                        .cloned()
                        .ok_or_else(|| Exc::type_error("not enough arguments for format string"))?;
                    next += 1;
                    v
                }
            };
            let body = match conv {
                's' => self.to_str(&arg)?,
                'r' | 'a' => self.repr(&arg)?,
                'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'c' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                    let numeric = match (&arg, conv) {
                        (Value::Float(f), 'd' | 'i' | 'u' | 'x' | 'X' | 'o') => {
                            crate::num::float_to_int(f.get())?
                        }
                        (Value::Str(s), 'c') => Value::Str(s.clone()),
                        (v, _) if IntRef::of(v).is_some() || matches!(v, Value::Float(_)) => {
                            v.clone()
                        }
                        (v, _) => {
                            return Err(Exc::type_error(format!(
                                "%{conv} format: a real number is required, not {}",
                                v.type_name()
                            )))
                        }
                    };
                    let t = if matches!(conv, 'i' | 'u') { 'd' } else { conv };
                    let mut spec = String::new();
                    if flags.contains('+') {
                        spec.push('+');
                    } else if flags.contains(' ') {
                        spec.push(' ');
                    }
                    if flags.contains('#') {
                        spec.push('#');
                    }
                    if let Some(p) =
                        precision.filter(|_| matches!(t, 'e' | 'E' | 'f' | 'F' | 'g' | 'G'))
                    {
                        let _ = write!(spec, ".{p}");
                    } else if matches!(t, 'e' | 'E' | 'f' | 'F' | 'g' | 'G') {
                        spec.push_str(".6");
                    }
                    spec.push(t);
                    format_with_spec(&numeric, &spec)?
                }
                other => {
                    return Err(Exc::value_error(format!(
                        "unsupported format character '{other}' (0x{:x}) at index {}",
                        other as u32,
                        i - 1
                    )))
                }
            };
            let body = match (conv, precision) {
                ('s' | 'r' | 'a', Some(p)) => body.chars().take(p).collect(),
                _ => body,
            };
            let n = body.chars().count();
            if n >= w {
                crate::mem::push_str(&mut out, &body)?;
            } else if flags.contains('-') {
                crate::mem::push_str(&mut out, &body)?;
                crate::mem::push_repeated(&mut out, ' ', w - n)?;
            } else if flags.contains('0') && !matches!(conv, 's' | 'r' | 'a' | 'c') {
                let (sign, digits) = split_sign(&body);
                out.push_str(sign);
                crate::mem::push_repeated(&mut out, '0', w - n)?;
                crate::mem::push_str(&mut out, digits)?;
            } else {
                crate::mem::push_repeated(&mut out, ' ', w - n)?;
                crate::mem::push_str(&mut out, &body)?;
            }
        }
        if next < items.len() && mapping.is_none() {
            return Err(Exc::type_error(
                "not all arguments converted during string formatting",
            ));
        }
        Ok(out)
    }
}

fn split_sign(s: &str) -> (&str, &str) {
    match s.as_bytes().first() {
        Some(b'-' | b'+' | b' ') => s.split_at(1),
        _ => ("", s),
    }
}

/// Python's `repr(float)`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits and decimal exponent from Rust's `{:e}`.
    let e = format!("{:e}", f);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let point = exp as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// Python's string repr: single quotes unless the text has one and no double.
pub fn str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// A parsed format spec: `[[fill]align][sign][#][0][width][,|_][.prec][type]`.
#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> PyResult<Spec> {
    let c: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |ch: char| matches!(ch, '<' | '>' | '^' | '=');
    if c.len() >= 2 && is_align(c[1]) {
        s.fill = Some(c[0]);
        s.align = Some(c[1]);
        i = 2;
    } else if !c.is_empty() && is_align(c[0]) {
        s.align = Some(c[0]);
        i = 1;
    }
    if let Some(&ch) = c.get(i).filter(|ch| matches!(ch, '+' | '-' | ' ')) {
        s.sign = Some(ch);
        i += 1;
    }
    if c.get(i) == Some(&'#') {
        s.alt = true;
        i += 1;
    }
    if c.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while c.get(i).is_some_and(|ch| ch.is_ascii_digit()) {
        i += 1;
    }
    s.width = spec_number(&c[start..i])?;
    if let Some(&ch) = c.get(i).filter(|ch| matches!(ch, ',' | '_')) {
        s.grouping = Some(ch);
        i += 1;
    }
    if c.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while c.get(i).is_some_and(|ch| ch.is_ascii_digit()) {
            i += 1;
        }
        if start == i {
            return Err(Exc::value_error("Format specifier missing precision"));
        }
        s.precision = Some(spec_number(&c[start..i])?);
    }
    if i < c.len() {
        s.ty = Some(c[i]);
        i += 1;
    }
    if i < c.len() {
        return Err(Exc::value_error("Invalid format specifier"));
    }
    Ok(s)
}

/// A width or precision: CPython refuses what does not fit a `Py_ssize_t`.
fn spec_number(digits: &[char]) -> PyResult<usize> {
    if digits.is_empty() {
        return Ok(0);
    }
    digits
        .iter()
        .collect::<String>()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= isize::MAX as usize)
        .ok_or_else(|| Exc::value_error("Too many decimal digits in format string"))
}

/// Applies a format spec to a built-in value.
pub fn format_with_spec(v: &Value, spec: &str) -> PyResult<String> {
    let s = parse_spec(spec)?;
    let (body, numeric) = match v {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_)
            if !matches!(s.ty, Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')) =>
        {
            if matches!(v, Value::Bool(_)) && s.ty.is_none() {
                (
                    if v.truthy() {
                        "True".to_string()
                    } else {
                        "False".to_string()
                    },
                    false,
                )
            } else {
                (format_int(v, &s)?, true)
            }
        }
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_) => {
            let f = crate::num::as_f64(v).unwrap_or(Ok(0.0))?;
            (format_float(f, &s)?, true)
        }
        Value::Str(text) => {
            if !matches!(s.ty, None | Some('s')) {
                return Err(Exc::value_error(format!(
                    "Unknown format code '{}' for object of type 'str'",
                    s.ty.unwrap_or('s')
                )));
            }
            if s.sign.is_some() {
                return Err(Exc::value_error(
                    "Sign not allowed in string format specifier",
                ));
            }
            let t: String = match s.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.to_string(),
            };
            (t, false)
        }
        other => {
            return Err(Exc::type_error(format!(
                "unsupported format string passed to {}.__format__",
                other.type_name()
            )))
        }
    };
    pad(body, &s, numeric)
}

fn pad(body: String, s: &Spec, numeric: bool) -> PyResult<String> {
    let n = body.chars().count();
    if n >= s.width {
        return Ok(body);
    }
    let fill_n = s.width - n;
    let (fill, align) = if s.zero && s.align.is_none() && numeric {
        ('0', '=')
    } else {
        (
            s.fill.unwrap_or(' '),
            s.align.unwrap_or(if numeric { '>' } else { '<' }),
        )
    };
    let (before, after) = match align {
        '<' => (0, fill_n),
        '^' => (fill_n / 2, fill_n - fill_n / 2),
        _ => (fill_n, 0),
    };
    let mut out = crate::mem::string_with_capacity(body.len().saturating_add(fill_n))?;
    let mut rest = body.as_str();
    if align == '=' {
        let (sign, digits) = split_sign(rest);
        let (prefix, digits) =
            if digits.len() > 1 && matches!(&digits[..2], "0x" | "0X" | "0o" | "0b") {
                digits.split_at(2)
            } else {
                ("", digits)
            };
        out.push_str(sign);
        out.push_str(prefix);
        rest = digits;
    }
    crate::mem::push_repeated(&mut out, fill, before)?;
    crate::mem::push_str(&mut out, rest)?;
    crate::mem::push_repeated(&mut out, fill, after)?;
    Ok(out)
}

fn sign_prefix(neg: bool, s: &Spec) -> &'static str {
    match (neg, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let mut out = String::new();
    let n = digits.len();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

fn format_int(v: &Value, s: &Spec) -> PyResult<String> {
    let big = IntRef::of(v)
        .map(|i| i.big().into_owned())
        .unwrap_or_default();
    let neg = big.sign() == num_bigint::Sign::Minus;
    let mag = if neg { -big } else { big };
    if s.precision.is_some() {
        return Err(Exc::value_error(
            "Precision not allowed in integer format specifier",
        ));
    }
    let (digits, prefix) = match s.ty {
        None | Some('d') | Some('n') => (mag.to_str_radix(10), ""),
        Some('x') => (mag.to_str_radix(16), "0x"),
        Some('X') => (mag.to_str_radix(16).to_uppercase(), "0X"),
        Some('o') => (mag.to_str_radix(8), "0o"),
        Some('b') => (mag.to_str_radix(2), "0b"),
        Some('c') => {
            let c = num_traits::ToPrimitive::to_u32(&mag)
                .and_then(char::from_u32)
                .ok_or_else(|| Exc::overflow("%c arg not in range(0x110000)"))?;
            return Ok(c.to_string());
        }
        Some(t) => {
            return Err(Exc::value_error(format!(
                "Unknown format code '{t}' for object of type 'int'"
            )))
        }
    };
    let digits = match s.grouping {
        Some(sep) => group(
            &digits,
            sep,
            if matches!(s.ty, Some('x' | 'X' | 'o' | 'b')) {
                4
            } else {
                3
            },
        ),
        None => digits,
    };
    let prefix = if s.alt { prefix } else { "" };
    Ok(format!("{}{prefix}{digits}", sign_prefix(neg, s)))
}

/// Rust formats at most 65535 digits after the point, but a double never
/// needs more than this many for its exact value (2^-1074 has 1074): past
/// it every digit is a zero, appended by hand.
const EXACT_FRACTION_DIGITS: usize = 1074;
/// Likewise in scientific notation: a double's exact decimal value has at
/// most 767 significant digits.
const EXACT_SIGNIFICANT_DIGITS: usize = 767;

/// `a` (finite, not negative) with `precision` digits after the point.
fn fixed(a: f64, precision: usize) -> PyResult<String> {
    let exact = precision.min(EXACT_FRACTION_DIGITS);
    let mut s = format!("{a:.exact$}");
    crate::mem::push_repeated(&mut s, '0', precision - exact)?;
    Ok(s)
}

/// `a` (finite, not negative) as a mantissa with `precision` digits after
/// the point, and its decimal exponent.
fn scientific(a: f64, precision: usize) -> PyResult<(String, i32)> {
    let exact = precision.min(EXACT_SIGNIFICANT_DIGITS);
    let e = format!("{a:.exact$e}");
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let mut m = m.to_string();
    if exact < precision {
        if exact == 0 {
            m.push('.');
        }
        crate::mem::push_repeated(&mut m, '0', precision - exact)?;
    }
    Ok((m, exp.parse().unwrap_or(0)))
}

fn exponent_suffix(exp: i32, upper: bool) -> String {
    format!(
        "{}{}{:02}",
        if upper { 'E' } else { 'e' },
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

fn format_float(f: f64, s: &Spec) -> PyResult<String> {
    if s.precision.is_some_and(|p| p > i32::MAX as usize) {
        return Err(Exc::value_error("precision too big"));
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    let mut body = if a.is_nan() {
        "nan".to_string()
    } else if a.is_infinite() {
        "inf".to_string()
    } else {
        match s.ty {
            Some('f') | Some('F') => fixed(a, s.precision.unwrap_or(6))?,
            Some('e') | Some('E') => exp_format(a, s.precision.unwrap_or(6), s.ty == Some('E'))?,
            Some('%') => {
                let mut t = fixed(a * 100.0, s.precision.unwrap_or(6))?;
                crate::mem::push_str(&mut t, "%")?;
                t
            }
            Some('g') | Some('G') => {
                general_format(a, s.precision.unwrap_or(6), s.alt, s.ty == Some('G'))?
            }
            None => match s.precision {
                Some(p) => {
                    let mut g = general_format(a, p, s.alt, false)?;
                    if !g.contains(['.', 'e', 'n', 'i']) {
                        crate::mem::push_str(&mut g, ".0")?;
                    }
                    g
                }
                None => float_repr(a),
            },
            Some(t) => {
                return Err(Exc::value_error(format!(
                    "Unknown format code '{t}' for object of type 'float'"
                )))
            }
        }
    };
    if let Some(sep) = s.grouping {
        let int_len = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let grouped = group(&body[..int_len], sep, 3);
        body.replace_range(..int_len, &grouped);
    }
    if matches!(s.ty, Some('F' | 'E' | 'G')) {
        body.make_ascii_uppercase();
    }
    let sign = sign_prefix(neg && !f.is_nan(), s);
    if !sign.is_empty() {
        crate::mem::reserve_str(&mut body, sign.len())?;
        body.insert_str(0, sign);
    }
    Ok(body)
}

fn exp_format(a: f64, p: usize, upper: bool) -> PyResult<String> {
    let (mut m, exp) = scientific(a, p)?;
    crate::mem::push_str(&mut m, &exponent_suffix(exp, upper))?;
    Ok(m)
}

fn general_format(a: f64, p: usize, alt: bool, upper: bool) -> PyResult<String> {
    let p = p.max(1);
    if a == 0.0 {
        return if alt {
            fixed(0.0, p - 1)
        } else {
            Ok("0".into())
        };
    }
    // The exponent after rounding to p significant digits decides the
    // notation; only the first digits are needed to learn it.
    let (_, exp) = scientific(a, (p - 1).min(EXACT_SIGNIFICANT_DIGITS))?;
    // Without `#` trailing zeros are stripped: no need to make those past
    // the exact digits.
    let fraction_cap = if alt {
        usize::MAX
    } else {
        EXACT_FRACTION_DIGITS
    };
    let significant_cap = if alt {
        usize::MAX
    } else {
        EXACT_SIGNIFICANT_DIGITS
    };
    let strip = |mut s: String| -> String {
        if !alt && s.contains('.') {
            let kept = s.trim_end_matches('0').trim_end_matches('.').len();
            s.truncate(kept);
        }
        s
    };
    if exp >= -4 && (exp as i64) < p as i64 {
        let precision = (p as i64 - 1 - exp as i64).max(0) as usize;
        Ok(strip(fixed(a, precision.min(fraction_cap))?))
    } else {
        let (m, exp) = scientific(a, (p - 1).min(significant_cap))?;
        let mut m = strip(m);
        crate::mem::push_str(&mut m, &exponent_suffix(exp, upper))?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_cpython() {
        let cases = [
            (1.5, "1.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (-0.0, "-0.0"),
            (3.0, "3.0"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2f64.powi(100), "1.2676506002282294e+30"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn format_specs() {
        let f = |v: Value, s: &str| format_with_spec(&v, s).unwrap();
        assert_eq!(f(Value::float(1.23456), ".2f"), "1.23");
        assert_eq!(f(Value::Int(42), ">5"), "   42");
        assert_eq!(f(Value::Int(1234567), ","), "1,234,567");
        assert_eq!(f(Value::Int(255), "#x"), "0xff");
        assert_eq!(f(Value::Int(-5), "05"), "-0005");
        assert_eq!(f(Value::str("ab"), "^6"), "  ab  ");
        assert_eq!(f(Value::str("ab"), "*<4"), "ab**");
        assert_eq!(f(Value::float(1234.5), ".3g"), "1.23e+03");
        assert_eq!(f(Value::float(0.5), ".1%"), "50.0%");
        assert_eq!(f(Value::float(2.0), ".3"), "2.0");
    }

    #[test]
    fn string_repr_quotes() {
        let r = |s: &str| {
            let mut o = String::new();
            str_repr(&mut o, s);
            o
        };
        assert_eq!(r("it's"), "\"it's\"");
        assert_eq!(r("a'b\"c\n"), "'a\\'b\"c\\n'");
    }
}
