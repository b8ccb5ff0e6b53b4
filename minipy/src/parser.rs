//! Recursive-descent parser from tokens to the syntax tree (`ast`), with
//! CPython's wording for the common syntax errors.

use crate::ast::*;
use crate::lexer::{tokenize, FPiece, Kw, SyntaxError, Tok, Token};
use std::rc::Rc;

/// Parses a whole module.
pub fn parse_module(src: &str) -> Result<Module, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        next_scope: 1,
        depth: 0,
        chain: 0,
    };
    let mut body = Vec::new();
    while !p.at(&Tok::Eof) {
        if p.at(&Tok::Newline) {
            p.pos += 1;
            continue;
        }
        if p.at(&Tok::Indent) {
            let t = p.tok().clone();
            let mut e = SyntaxError::new("unexpected indent", t.line, t.col);
            e.indentation = true;
            return Err(e);
        }
        p.statement(&mut body)?;
    }
    Ok(Module {
        body,
        scope_count: p.next_scope,
    })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    next_scope: ScopeId,
    /// Expression nesting, bounded so deep input cannot overflow the stack.
    depth: u32,
    /// Operands nested one level deeper by the loops of the expressions
    /// being parsed (`a + b + c` nests `a` twice): with `depth`, a bound on
    /// the tree's depth, which every later pass walks recursively.
    chain: u32,
}

const MAX_DEPTH: u32 = 200;

/// How deep an expression tree may grow through left-nested chains
/// (`1 + 1 + …`, `a.b.c…`, `f()()…`): CPython compiles 2,998 terms of a sum
/// and refuses 2,999 ("maximum recursion depth exceeded during
/// compilation").
const MAX_TREE_DEPTH: u32 = 3000;

/// A call's positional and keyword arguments.
type CallArgs = (Vec<Expr>, Vec<(Name, Expr)>);

type PResult<T> = Result<T, SyntaxError>;

impl Parser {
    fn tok(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_tok(&self, off: usize) -> &Tok {
        &self.toks[(self.pos + off).min(self.toks.len() - 1)].tok
    }

    fn at(&self, t: &Tok) -> bool {
        &self.tok().tok == t
    }

    fn at_op(&self, op: &str) -> bool {
        matches!(&self.tok().tok, Tok::Op(o) if *o == op)
    }

    fn at_kw(&self, kw: Kw) -> bool {
        self.tok().tok == Tok::Kw(kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.at_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: Kw) -> bool {
        if self.at_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn error<T>(&self, msg: impl Into<String>) -> PResult<T> {
        let t = self.tok();
        Err(SyntaxError::new(msg, t.line, t.col))
    }

    fn invalid<T>(&self) -> PResult<T> {
        self.error("invalid syntax")
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else if op == ":" {
            self.error("expected ':'")
        } else {
            self.invalid()
        }
    }

    fn name(&mut self) -> PResult<Name> {
        match &self.tok().tok {
            Tok::Name(n) => {
                let n = n.clone();
                self.pos += 1;
                Ok(n)
            }
            _ => self.invalid(),
        }
    }

    fn new_scope(&mut self) -> ScopeId {
        let id = self.next_scope;
        self.next_scope += 1;
        id
    }

    // ----- statements -----

    fn statement(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        let line = self.tok().line;
        let kind = match &self.tok().tok {
            Tok::Kw(Kw::If) => self.if_stmt()?,
            Tok::Kw(Kw::While) => {
                self.pos += 1;
                let test = self.named_test()?;
                let body = self.block("'while' statement", line)?;
                let orelse = self.else_block()?;
                StmtKind::While { test, body, orelse }
            }
            Tok::Kw(Kw::For) => {
                self.pos += 1;
                let target = self.target_list()?;
                if !self.eat_kw(Kw::In) {
                    return self.invalid();
                }
                let iter = self.expr_list()?;
                let body = self.block("'for' statement", line)?;
                let orelse = self.else_block()?;
                StmtKind::For {
                    target,
                    iter,
                    body,
                    orelse,
                }
            }
            Tok::Kw(Kw::Try) => self.try_stmt()?,
            Tok::Kw(Kw::Def) => StmtKind::FunctionDef(self.funcdef(Vec::new())?),
            Tok::Kw(Kw::Class) => StmtKind::ClassDef(self.classdef(Vec::new())?),
            Tok::Op("@") => {
                let mut decorators = Vec::new();
                while self.eat_op("@") {
                    decorators.push(self.named_test()?);
                    self.expect_newline()?;
                }
                if self.at_kw(Kw::Def) {
                    StmtKind::FunctionDef(self.funcdef(decorators)?)
                } else if self.at_kw(Kw::Class) {
                    StmtKind::ClassDef(self.classdef(decorators)?)
                } else {
                    return self.invalid();
                }
            }
            Tok::Kw(Kw::With) | Tok::Kw(Kw::Async) => {
                return self.error("minipy does not support this statement")
            }
            _ => return self.simple_statements(out),
        };
        out.push(Stmt { line, kind });
        Ok(())
    }

    fn expect_newline(&mut self) -> PResult<()> {
        if self.at(&Tok::Newline) {
            self.pos += 1;
            Ok(())
        } else {
            self.invalid()
        }
    }

    fn simple_statements(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            let line = self.tok().line;
            let kind = self.small_statement()?;
            out.push(Stmt { line, kind });
            if self.eat_op(";") {
                if self.at(&Tok::Newline) {
                    break;
                }
                continue;
            }
            break;
        }
        self.expect_newline()
    }

    fn small_statement(&mut self) -> PResult<StmtKind> {
        let t = self.tok().clone();
        Ok(match &t.tok {
            Tok::Kw(Kw::Pass) => {
                self.pos += 1;
                StmtKind::Pass
            }
            Tok::Kw(Kw::Break) => {
                self.pos += 1;
                StmtKind::Break
            }
            Tok::Kw(Kw::Continue) => {
                self.pos += 1;
                StmtKind::Continue
            }
            Tok::Kw(Kw::Return) => {
                self.pos += 1;
                if self.at_end_of_simple() {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.expr_list()?))
                }
            }
            Tok::Kw(Kw::Raise) => {
                self.pos += 1;
                if self.at_end_of_simple() {
                    StmtKind::Raise {
                        exc: None,
                        cause: None,
                    }
                } else {
                    let exc = Some(self.test()?);
                    let cause = if self.eat_kw(Kw::From) {
                        Some(self.test()?)
                    } else {
                        None
                    };
                    StmtKind::Raise { exc, cause }
                }
            }
            Tok::Kw(Kw::Assert) => {
                self.pos += 1;
                let test = self.test()?;
                let msg = if self.eat_op(",") {
                    Some(self.test()?)
                } else {
                    None
                };
                StmtKind::Assert { test, msg }
            }
            Tok::Kw(Kw::Global) | Tok::Kw(Kw::Nonlocal) => {
                self.pos += 1;
                let mut names = vec![self.name()?];
                while self.eat_op(",") {
                    names.push(self.name()?);
                }
                if t.tok == Tok::Kw(Kw::Global) {
                    StmtKind::Global(names)
                } else {
                    StmtKind::Nonlocal(names)
                }
            }
            Tok::Kw(Kw::Import) => {
                self.pos += 1;
                let mut names = Vec::new();
                loop {
                    let module = self.dotted_name()?;
                    let first: Name = Rc::from(module.split('.').next().unwrap_or(""));
                    let bound = if self.eat_kw(Kw::As) {
                        self.name()?
                    } else {
                        first
                    };
                    names.push((module, bound));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                StmtKind::Import(names)
            }
            Tok::Kw(Kw::From) => {
                self.pos += 1;
                let module = self.dotted_name()?;
                if !self.eat_kw(Kw::Import) {
                    return self.invalid();
                }
                let paren = self.eat_op("(");
                let mut names = Vec::new();
                loop {
                    let n = self.name()?;
                    let bound = if self.eat_kw(Kw::As) {
                        self.name()?
                    } else {
                        n.clone()
                    };
                    names.push((n, bound));
                    if !self.eat_op(",") || (paren && self.at_op(")")) {
                        break;
                    }
                }
                if paren {
                    self.expect_op(")")?;
                }
                StmtKind::ImportFrom { module, names }
            }
            Tok::Kw(Kw::Del) => {
                self.pos += 1;
                let mut targets = vec![self.primary_target()?];
                while self.eat_op(",") {
                    targets.push(self.primary_target()?);
                }
                StmtKind::Delete(targets)
            }
            Tok::Indent => {
                let mut e = SyntaxError::new("unexpected indent", t.line, t.col);
                e.indentation = true;
                return Err(e);
            }
            _ => self.expression_statement()?,
        })
    }

    fn primary_target(&mut self) -> PResult<Expr> {
        let e = self.bitor()?;
        check_target(&e, "delete")?;
        Ok(e)
    }

    fn dotted_name(&mut self) -> PResult<Name> {
        let mut s = self.name()?.to_string();
        while self.eat_op(".") {
            s.push('.');
            s.push_str(&self.name()?);
        }
        Ok(Rc::from(s.as_str()))
    }

    fn at_end_of_simple(&self) -> bool {
        self.at(&Tok::Newline) || self.at_op(";") || self.at(&Tok::Eof)
    }

    fn expression_statement(&mut self) -> PResult<StmtKind> {
        let first = self.star_expr_list()?;
        if let Some(op) = self.aug_op() {
            self.pos += 1;
            check_aug_target(&first)?;
            let value = self.expr_list()?;
            return Ok(StmtKind::AugAssign {
                target: first,
                op,
                value,
            });
        }
        if self.at_op(":") {
            self.pos += 1;
            let _annotation = self.test()?;
            check_target(&first, "assign to")?;
            let value = if self.eat_op("=") {
                Some(self.star_expr_list()?)
            } else {
                None
            };
            return Ok(StmtKind::AnnAssign {
                target: first,
                value,
            });
        }
        if !self.at_op("=") {
            return Ok(StmtKind::Expr(first));
        }
        let mut targets = vec![first];
        while self.eat_op("=") {
            targets.push(self.star_expr_list()?);
        }
        let value = targets.pop().unwrap_or_else(unreachable_expr);
        for t in &targets {
            check_target(t, "assign to")?;
        }
        Ok(StmtKind::Assign { targets, value })
    }

    fn aug_op(&self) -> Option<BinOp> {
        let Tok::Op(op) = self.tok().tok else {
            return None;
        };
        Some(match op {
            "+=" => BinOp::Add,
            "-=" => BinOp::Sub,
            "*=" => BinOp::Mul,
            "/=" => BinOp::Div,
            "//=" => BinOp::FloorDiv,
            "%=" => BinOp::Mod,
            "**=" => BinOp::Pow,
            "<<=" => BinOp::LShift,
            ">>=" => BinOp::RShift,
            "&=" => BinOp::BitAnd,
            "|=" => BinOp::BitOr,
            "^=" => BinOp::BitXor,
            "@=" => BinOp::MatMul,
            _ => return None,
        })
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        let line = self.tok().line;
        let is_elif = self.at_kw(Kw::Elif);
        self.pos += 1;
        let test = self.named_test()?;
        let body = self.block(
            if is_elif {
                "'elif' statement"
            } else {
                "'if' statement"
            },
            line,
        )?;
        let orelse = if self.at_kw(Kw::Elif) {
            let line = self.tok().line;
            vec![Stmt {
                line,
                kind: self.if_stmt()?,
            }]
        } else {
            self.else_block()?
        };
        Ok(StmtKind::If { test, body, orelse })
    }

    fn else_block(&mut self) -> PResult<Vec<Stmt>> {
        let line = self.tok().line;
        if self.eat_kw(Kw::Else) {
            self.block("'else' statement", line)
        } else {
            Ok(Vec::new())
        }
    }

    fn try_stmt(&mut self) -> PResult<StmtKind> {
        let line = self.tok().line;
        self.pos += 1;
        let body = self.block("'try' statement", line)?;
        let mut handlers = Vec::new();
        while self.at_kw(Kw::Except) {
            let hline = self.tok().line;
            self.pos += 1;
            let (typ, name) = if self.at_op(":") {
                (None, None)
            } else {
                let typ = self.test()?;
                let typ = if self.at_op(",") {
                    return self.error("multiple exception types must be parenthesized");
                } else {
                    typ
                };
                let name = if self.eat_kw(Kw::As) {
                    Some(self.name()?)
                } else {
                    None
                };
                (Some(typ), name)
            };
            let hbody = self.block("'except' statement", hline)?;
            handlers.push(Handler {
                typ,
                name,
                body: hbody,
                line: hline,
            });
        }
        let orelse = if handlers.is_empty() {
            Vec::new()
        } else {
            self.else_block()?
        };
        let fline = self.tok().line;
        let finalbody = if self.eat_kw(Kw::Finally) {
            self.block("'finally' statement", fline)?
        } else {
            Vec::new()
        };
        if handlers.is_empty() && finalbody.is_empty() {
            return self.error("expected 'except' or 'finally' block");
        }
        Ok(StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
        })
    }

    /// `:` then either statements on the same line or an indented block.
    fn block(&mut self, what: &str, line: u32) -> PResult<Vec<Stmt>> {
        self.expect_op(":")?;
        let mut body = Vec::new();
        if !self.at(&Tok::Newline) {
            self.simple_statements(&mut body)?;
            return Ok(body);
        }
        self.pos += 1;
        if !self.at(&Tok::Indent) {
            let t = self.tok();
            let mut e = SyntaxError::new(
                format!("expected an indented block after {what} on line {line}"),
                t.line,
                t.col,
            );
            e.indentation = true;
            return Err(e);
        }
        self.pos += 1;
        while !self.at(&Tok::Dedent) && !self.at(&Tok::Eof) {
            if self.at(&Tok::Newline) {
                self.pos += 1;
                continue;
            }
            self.statement(&mut body)?;
        }
        self.eat_dedent();
        Ok(body)
    }

    fn eat_dedent(&mut self) {
        if self.at(&Tok::Dedent) {
            self.pos += 1;
        }
    }

    fn funcdef(&mut self, decorators: Vec<Expr>) -> PResult<Rc<FuncDef>> {
        let line = self.tok().line;
        self.pos += 1;
        let name = self.name()?;
        self.expect_op("(")?;
        let (params, vararg) = self.params(")")?;
        self.expect_op(")")?;
        if self.eat_op("->") {
            self.test()?;
        }
        let scope = self.new_scope();
        let body = self.block("function definition", line)?;
        Ok(Rc::new(FuncDef {
            scope,
            name,
            params,
            vararg,
            body,
            decorators,
            line,
            is_lambda: false,
        }))
    }

    /// Positional parameters (with defaults) and an optional `*args`.
    fn params(&mut self, close: &str) -> PResult<(Vec<Param>, Option<Name>)> {
        let mut params: Vec<Param> = Vec::new();
        let mut vararg = None;
        while !self.at_op(close) {
            if vararg.is_some() || self.at_op("**") || self.at_op("/") {
                return self.error("minipy supports positional parameters and *args only");
            }
            if self.eat_op("*") {
                let name = self.name()?;
                if close == ")" && self.eat_op(":") {
                    self.test()?;
                }
                vararg = Some(name);
                if !self.eat_op(",") {
                    break;
                }
                continue;
            }
            let name = self.name()?;
            if params.iter().any(|p| p.name == name) {
                return self.error(format!(
                    "duplicate argument '{name}' in function definition"
                ));
            }
            if close == ")" && self.eat_op(":") {
                self.test()?;
            }
            let default = if self.eat_op("=") {
                Some(self.test()?)
            } else {
                None
            };
            if default.is_none() && params.iter().any(|p| p.default.is_some()) {
                return self.error("parameter without a default follows parameter with a default");
            }
            params.push(Param { name, default });
            if !self.eat_op(",") {
                break;
            }
        }
        Ok((params, vararg))
    }

    fn classdef(&mut self, decorators: Vec<Expr>) -> PResult<Rc<ClassDef>> {
        let line = self.tok().line;
        self.pos += 1;
        let name = self.name()?;
        let mut bases = Vec::new();
        if self.eat_op("(") {
            while !self.at_op(")") {
                if matches!(self.peek_tok(1), Tok::Op("=")) {
                    return self.error("minipy does not support class keywords");
                }
                bases.push(self.test()?);
                if !self.eat_op(",") {
                    break;
                }
            }
            self.expect_op(")")?;
        }
        let scope = self.new_scope();
        let body = self.block("class definition", line)?;
        Ok(Rc::new(ClassDef {
            scope,
            name,
            bases,
            body,
            decorators,
            line,
        }))
    }

    // ----- expressions -----

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error("too many nested expressions");
        }
        Ok(())
    }

    /// One more operand nested by a loop (`wraps` counts the loop's own).
    fn nest(&mut self, wraps: &mut u32) -> PResult<()> {
        *wraps += 1;
        self.chain += 1;
        if self.depth + self.chain > MAX_TREE_DEPTH {
            return self.error("too many nested expressions");
        }
        Ok(())
    }

    fn mk(&self, line: u32, col: u32, kind: ExprKind) -> Expr {
        Expr { line, col, kind }
    }

    /// `a, b` as a tuple, or a single expression.
    fn expr_list(&mut self) -> PResult<Expr> {
        self.comma_list(Self::test)
    }

    /// Like `expr_list` but items may be starred (`a, *b = ...`).
    fn star_expr_list(&mut self) -> PResult<Expr> {
        self.comma_list(Self::star_or_test)
    }

    /// Items parsed by `item`, separated by commas: a tuple when there is a
    /// comma (a trailing one included), else the single item.
    fn comma_list(&mut self, item: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let first = item(self)?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_expr_end() {
                break;
            }
            items.push(item(self)?);
        }
        Ok(self.mk(line, col, ExprKind::Tuple(items)))
    }

    fn star_or_test(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        if self.eat_op("*") {
            let e = self.bitor()?;
            return Ok(self.mk(line, col, ExprKind::Starred(Box::new(e))));
        }
        self.test()
    }

    fn at_expr_end(&self) -> bool {
        matches!(
            self.tok().tok,
            Tok::Newline
                | Tok::Eof
                | Tok::Op("=")
                | Tok::Op(")")
                | Tok::Op("]")
                | Tok::Op("}")
                | Tok::Op(";")
                | Tok::Op(":")
        ) || self.aug_op().is_some()
            || self.at_kw(Kw::In)
    }

    /// The target of a `for`: names, attributes, subscripts, tuples.
    fn target_list(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let first = self.star_target()?;
        if !self.at_op(",") {
            check_target(&first, "assign to")?;
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_kw(Kw::In) {
                break;
            }
            items.push(self.star_target()?);
        }
        let e = self.mk(line, col, ExprKind::Tuple(items));
        check_target(&e, "assign to")?;
        Ok(e)
    }

    fn star_target(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        if self.eat_op("*") {
            let e = self.bitor()?;
            return Ok(self.mk(line, col, ExprKind::Starred(Box::new(e))));
        }
        self.bitor()
    }

    /// A test that may be a walrus (`name := value`).
    fn named_test(&mut self) -> PResult<Expr> {
        if matches!(self.tok().tok, Tok::Name(_)) && matches!(self.peek_tok(1), Tok::Op(":=")) {
            let (line, col) = (self.tok().line, self.tok().col);
            let n = self.name()?;
            self.pos += 1;
            let value = self.test()?;
            let target = self.mk(line, col, ExprKind::Name(n));
            return Ok(self.mk(
                line,
                col,
                ExprKind::NamedExpr(Box::new(target), Box::new(value)),
            ));
        }
        self.test()
    }

    fn test(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.test_inner();
        self.depth -= 1;
        r
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        if self.eat_kw(Kw::Lambda) {
            let (params, vararg) = self.params(":")?;
            self.expect_op(":")?;
            let scope = self.new_scope();
            let body_expr = self.test()?;
            let body = vec![Stmt {
                line: body_expr.line,
                kind: StmtKind::Return(Some(body_expr)),
            }];
            let def = FuncDef {
                scope,
                name: Rc::from("<lambda>"),
                params,
                vararg,
                body,
                decorators: Vec::new(),
                line,
                is_lambda: true,
            };
            return Ok(self.mk(line, col, ExprKind::Lambda(Rc::new(def))));
        }
        let body = self.or_test()?;
        if self.eat_kw(Kw::If) {
            let test = self.or_test()?;
            if !self.eat_kw(Kw::Else) {
                return self.error("expected 'else' after 'if' expression");
            }
            let orelse = self.test()?;
            return Ok(self.mk(
                line,
                col,
                ExprKind::IfExp {
                    test: Box::new(test),
                    body: Box::new(body),
                    orelse: Box::new(orelse),
                },
            ));
        }
        Ok(body)
    }

    fn or_test(&mut self) -> PResult<Expr> {
        let (mut left, mut wraps) = (self.and_test()?, 0);
        while self.at_kw(Kw::Or) {
            let (line, col) = (self.tok().line, self.tok().col);
            self.pos += 1;
            self.nest(&mut wraps)?;
            let right = self.and_test()?;
            left = self.mk(line, col, ExprKind::Or(Box::new(left), Box::new(right)));
        }
        self.chain -= wraps;
        Ok(left)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        let (mut left, mut wraps) = (self.not_test()?, 0);
        while self.at_kw(Kw::And) {
            let (line, col) = (self.tok().line, self.tok().col);
            self.pos += 1;
            self.nest(&mut wraps)?;
            let right = self.not_test()?;
            left = self.mk(line, col, ExprKind::And(Box::new(left), Box::new(right)));
        }
        self.chain -= wraps;
        Ok(left)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        if self.eat_kw(Kw::Not) {
            self.enter()?;
            let e = self.not_test();
            self.depth -= 1;
            return Ok(self.mk(line, col, ExprKind::Unary(UnaryOp::Not, Box::new(e?))));
        }
        self.comparison()
    }

    fn comp_op(&mut self) -> Option<CmpOp> {
        let op = match &self.tok().tok {
            Tok::Op("==") => CmpOp::Eq,
            Tok::Op("!=") => CmpOp::NotEq,
            Tok::Op("<") => CmpOp::Lt,
            Tok::Op("<=") => CmpOp::LtE,
            Tok::Op(">") => CmpOp::Gt,
            Tok::Op(">=") => CmpOp::GtE,
            Tok::Kw(Kw::In) => CmpOp::In,
            Tok::Kw(Kw::Is) => {
                if *self.peek_tok(1) == Tok::Kw(Kw::Not) {
                    self.pos += 1;
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            }
            Tok::Kw(Kw::Not) if *self.peek_tok(1) == Tok::Kw(Kw::In) => {
                self.pos += 1;
                CmpOp::NotIn
            }
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let first = self.bitor()?;
        let mut rest = Vec::new();
        while let Some(op) = self.comp_op() {
            rest.push((op, self.bitor()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(self.mk(line, col, ExprKind::Compare(Box::new(first), rest)))
        }
    }

    fn binary_level(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Parser) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let (mut left, mut wraps) = (next(self)?, 0);
        'outer: loop {
            for (sym, op) in ops {
                if self.at_op(sym) {
                    let (line, col) = (self.tok().line, self.tok().col);
                    self.pos += 1;
                    self.nest(&mut wraps)?;
                    let right = next(self)?;
                    left = self.mk(
                        line,
                        col,
                        ExprKind::BinOp(Box::new(left), *op, Box::new(right)),
                    );
                    continue 'outer;
                }
            }
            self.chain -= wraps;
            return Ok(left);
        }
    }

    fn bitor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("|", BinOp::BitOr)], Parser::bitxor)
    }

    fn bitxor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("^", BinOp::BitXor)], Parser::bitand)
    }

    fn bitand(&mut self) -> PResult<Expr> {
        self.binary_level(&[("&", BinOp::BitAnd)], Parser::shift)
    }

    fn shift(&mut self) -> PResult<Expr> {
        self.binary_level(
            &[("<<", BinOp::LShift), (">>", BinOp::RShift)],
            Parser::arith,
        )
    }

    fn arith(&mut self) -> PResult<Expr> {
        self.binary_level(&[("+", BinOp::Add), ("-", BinOp::Sub)], Parser::term)
    }

    fn term(&mut self) -> PResult<Expr> {
        self.binary_level(
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
                ("@", BinOp::MatMul),
            ],
            Parser::factor,
        )
    }

    fn factor(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let op = match self.tok().tok {
            Tok::Op("-") => UnaryOp::Neg,
            Tok::Op("+") => UnaryOp::Pos,
            Tok::Op("~") => UnaryOp::Invert,
            _ => return self.power(),
        };
        self.pos += 1;
        self.enter()?;
        let operand = self.factor();
        self.depth -= 1;
        let operand = operand?;
        // Fold `-<literal>` so that `-9223372036854775808` stays a small int.
        if op == UnaryOp::Neg {
            match &operand.kind {
                ExprKind::Int(v) if *v != i64::MIN => {
                    return Ok(self.mk(line, col, ExprKind::Int(-v)))
                }
                ExprKind::Float(v) => return Ok(self.mk(line, col, ExprKind::Float(-v))),
                ExprKind::BigInt(b) => {
                    let neg = -(**b).clone();
                    let kind = match i64::try_from(&neg) {
                        Ok(v) => ExprKind::Int(v),
                        Err(_) => ExprKind::BigInt(Rc::new(neg)),
                    };
                    return Ok(self.mk(line, col, kind));
                }
                _ => {}
            }
        }
        Ok(self.mk(line, col, ExprKind::Unary(op, Box::new(operand))))
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.primary()?;
        if self.at_op("**") {
            let (line, col) = (self.tok().line, self.tok().col);
            self.pos += 1;
            self.enter()?;
            let exp = self.factor();
            self.depth -= 1;
            return Ok(self.mk(
                line,
                col,
                ExprKind::BinOp(Box::new(base), BinOp::Pow, Box::new(exp?)),
            ));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let (mut e, mut wraps) = (self.atom()?, 0);
        loop {
            let (line, col) = (self.tok().line, self.tok().col);
            if self.at_op("(") || self.at_op("[") || self.at_op(".") {
                self.nest(&mut wraps)?;
            }
            if self.eat_op("(") {
                let (args, kwargs) = self.call_args()?;
                self.expect_op(")")?;
                e = self.mk(
                    line,
                    col,
                    ExprKind::Call {
                        func: Box::new(e),
                        args,
                        kwargs,
                    },
                );
            } else if self.eat_op("[") {
                let index = self.subscript()?;
                self.expect_op("]")?;
                e = self.mk(line, col, ExprKind::Subscript(Box::new(e), Box::new(index)));
            } else if self.eat_op(".") {
                let attr = self.name()?;
                e = self.mk(line, col, ExprKind::Attribute(Box::new(e), attr));
            } else {
                self.chain -= wraps;
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self) -> PResult<CallArgs> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(Name, Expr)> = Vec::new();
        while !self.at_op(")") {
            if self.at_op("**") {
                return self.error("minipy does not support ** arguments");
            }
            if matches!(self.tok().tok, Tok::Name(_)) && matches!(self.peek_tok(1), Tok::Op("=")) {
                let name = self.name()?;
                self.pos += 1;
                if kwargs.iter().any(|(n, _)| *n == name) {
                    return self.error(format!("keyword argument repeated: {name}"));
                }
                kwargs.push((name, self.test()?));
            } else {
                if !kwargs.is_empty() {
                    return self.error("positional argument follows keyword argument");
                }
                let (line, col) = (self.tok().line, self.tok().col);
                let arg = self.star_or_named()?;
                // A bare generator expression argument: `sum(x for x in xs)`.
                if self.at_kw(Kw::For) && args.is_empty() {
                    let comp = self.comprehension(CompKind::List, arg, None)?;
                    args.push(self.mk(line, col, comp));
                    if !self.at_op(")") {
                        return self.error("Generator expression must be parenthesized");
                    }
                    break;
                }
                args.push(arg);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok((args, kwargs))
    }

    fn star_or_named(&mut self) -> PResult<Expr> {
        if self.at_op("*") {
            return self.star_or_test();
        }
        self.named_test()
    }

    fn subscript(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let first = self.slice_item()?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_op("]") {
                break;
            }
            items.push(self.slice_item()?);
        }
        Ok(self.mk(line, col, ExprKind::Tuple(items)))
    }

    fn slice_item(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let lower = if self.at_op(":") {
            None
        } else {
            Some(self.named_test()?)
        };
        if !self.eat_op(":") {
            return lower.map_or_else(|| self.invalid(), Ok);
        }
        let bound = |p: &mut Parser| -> PResult<Option<Box<Expr>>> {
            if p.at_op(":") || p.at_op("]") || p.at_op(",") {
                Ok(None)
            } else {
                Ok(Some(Box::new(p.test()?)))
            }
        };
        let upper = bound(self)?;
        let step = if self.eat_op(":") { bound(self)? } else { None };
        Ok(self.mk(line, col, ExprKind::Slice(lower.map(Box::new), upper, step)))
    }

    fn atom(&mut self) -> PResult<Expr> {
        let t = self.tok().clone();
        let (line, col) = (t.line, t.col);
        let kind = match t.tok {
            Tok::Name(n) => {
                self.pos += 1;
                ExprKind::Name(n)
            }
            Tok::Int(v) => {
                self.pos += 1;
                ExprKind::Int(v)
            }
            Tok::BigInt(v) => {
                self.pos += 1;
                ExprKind::BigInt(v)
            }
            Tok::Float(v) => {
                self.pos += 1;
                ExprKind::Float(v)
            }
            Tok::Str(_) | Tok::FStr(_) => return self.strings(),
            Tok::Kw(Kw::True) => {
                self.pos += 1;
                ExprKind::True
            }
            Tok::Kw(Kw::False) => {
                self.pos += 1;
                ExprKind::False
            }
            Tok::Kw(Kw::None) => {
                self.pos += 1;
                ExprKind::None
            }
            Tok::Op("...") => {
                self.pos += 1;
                ExprKind::Ellipsis
            }
            Tok::Op("(") => {
                self.pos += 1;
                if self.eat_op(")") {
                    return Ok(self.mk(line, col, ExprKind::Tuple(Vec::new())));
                }
                self.enter()?;
                let first = self.star_or_named();
                self.depth -= 1;
                let first = first?;
                if self.at_kw(Kw::For) {
                    let comp = self.comprehension(CompKind::List, first, None)?;
                    self.expect_op(")")?;
                    return Ok(self.mk(line, col, comp));
                }
                if self.eat_op(")") {
                    if matches!(first.kind, ExprKind::Starred(_)) {
                        return self.error("cannot use starred expression here");
                    }
                    return Ok(first);
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.at_op(")") {
                        break;
                    }
                    items.push(self.star_or_test()?);
                }
                self.expect_op(")")?;
                ExprKind::Tuple(items)
            }
            Tok::Op("[") => {
                self.pos += 1;
                if self.eat_op("]") {
                    return Ok(self.mk(line, col, ExprKind::List(Vec::new())));
                }
                let first = self.star_or_named()?;
                if self.at_kw(Kw::For) {
                    let comp = self.comprehension(CompKind::List, first, None)?;
                    self.expect_op("]")?;
                    return Ok(self.mk(line, col, comp));
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.at_op("]") {
                        break;
                    }
                    items.push(self.star_or_test()?);
                }
                self.expect_op("]")?;
                ExprKind::List(items)
            }
            Tok::Op("{") => {
                self.pos += 1;
                return self.brace_display(line, col);
            }
            Tok::Op(_) | Tok::Kw(_) | Tok::Newline | Tok::Indent | Tok::Dedent | Tok::Eof => {
                if t.tok == Tok::Eof || t.tok == Tok::Newline {
                    return self.error("invalid syntax");
                }
                return self.invalid();
            }
        };
        Ok(self.mk(line, col, kind))
    }

    fn brace_display(&mut self, line: u32, col: u32) -> PResult<Expr> {
        if self.eat_op("}") {
            return Ok(self.mk(line, col, ExprKind::Dict(Vec::new())));
        }
        let first = self.star_or_test()?;
        if self.eat_op(":") {
            let value = self.test()?;
            if self.at_kw(Kw::For) {
                let comp = self.comprehension(CompKind::Dict, first, Some(value))?;
                self.expect_op("}")?;
                return Ok(self.mk(line, col, comp));
            }
            let mut items = vec![(first, value)];
            while self.eat_op(",") {
                if self.at_op("}") {
                    break;
                }
                let k = self.test()?;
                self.expect_op(":")?;
                items.push((k, self.test()?));
            }
            self.expect_op("}")?;
            return Ok(self.mk(line, col, ExprKind::Dict(items)));
        }
        if self.at_kw(Kw::For) {
            let comp = self.comprehension(CompKind::Set, first, None)?;
            self.expect_op("}")?;
            return Ok(self.mk(line, col, comp));
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_op("}") {
                break;
            }
            items.push(self.star_or_test()?);
        }
        self.expect_op("}")?;
        Ok(self.mk(line, col, ExprKind::Set(items)))
    }

    fn comprehension(
        &mut self,
        kind: CompKind,
        elt: Expr,
        value: Option<Expr>,
    ) -> PResult<ExprKind> {
        let scope = self.new_scope();
        let mut generators = Vec::new();
        while self.eat_kw(Kw::For) {
            let target = self.target_list()?;
            if !self.eat_kw(Kw::In) {
                return self.invalid();
            }
            let iter = self.or_test()?;
            let mut ifs = Vec::new();
            while self.eat_kw(Kw::If) {
                ifs.push(self.or_test()?);
            }
            generators.push(CompFor { target, iter, ifs });
        }
        Ok(ExprKind::Comp(Rc::new(Comprehension {
            scope,
            kind,
            elt,
            value,
            generators,
        })))
    }

    /// Adjacent string literals concatenate; any f-string makes the whole an f-string.
    fn strings(&mut self) -> PResult<Expr> {
        let (line, col) = (self.tok().line, self.tok().col);
        let mut parts: Vec<FPart> = Vec::new();
        let mut any_f = false;
        loop {
            match self.tok().tok.clone() {
                Tok::Str(s) => parts.push(FPart::Lit(s)),
                Tok::FStr(pieces) => {
                    any_f = true;
                    for p in pieces {
                        parts.push(self.fpart(p)?);
                    }
                }
                _ => break,
            }
            self.pos += 1;
        }
        if !any_f {
            let s: String = parts
                .into_iter()
                .map(|p| match p {
                    FPart::Lit(s) => s,
                    FPart::Field { .. } => String::new(),
                })
                .collect();
            return Ok(self.mk(line, col, ExprKind::Str(Rc::from(s.as_str()))));
        }
        Ok(self.mk(line, col, ExprKind::FString(parts)))
    }

    fn fpart(&mut self, piece: FPiece) -> PResult<FPart> {
        match piece {
            FPiece::Lit(s) => Ok(FPart::Lit(s)),
            FPiece::Field {
                expr,
                line,
                col,
                conv,
                spec,
            } => {
                let (expr, conv) = match expr.trim_end().strip_suffix('=') {
                    // `f"{x=}"` is not supported: keep the text as an error.
                    Some(_) if !expr.trim_end().ends_with("==") => {
                        return Err(SyntaxError::new(
                            "minipy does not support f-string '=' fields",
                            line,
                            col,
                        ))
                    }
                    _ => (expr, conv),
                };
                let e = parse_field_expr(&expr, line, col, self.next_scope)?;
                self.next_scope = e.1;
                let spec = spec
                    .into_iter()
                    .map(|p| self.fpart(p))
                    .collect::<PResult<Vec<_>>>()?;
                Ok(FPart::Field {
                    expr: e.0,
                    conv,
                    spec,
                })
            }
        }
    }
}

/// Parses the text of an f-string field as one expression, in parentheses
/// so that newlines inside are allowed.
fn parse_field_expr(
    text: &str,
    line: u32,
    col: u32,
    next_scope: ScopeId,
) -> PResult<(Expr, ScopeId)> {
    let wrapped = format!("({})", text);
    let tokens = tokenize(&wrapped).map_err(|mut e| {
        e.line = line;
        e.col = col;
        e
    })?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        next_scope,
        depth: 0,
        chain: 0,
    };
    let mut e = p.test().map_err(|mut e| {
        e.line = line;
        e.col = col;
        e
    })?;
    if !p.at(&Tok::Newline) && !p.at(&Tok::Eof) {
        return Err(SyntaxError::new("f-string: expecting '}'", line, col));
    }
    relocate(&mut e, line);
    Ok((e, p.next_scope))
}

/// Field expressions were parsed from their own text; give them the line of
/// the f-string so tracebacks point at it.
fn relocate(e: &mut Expr, line: u32) {
    e.line = line;
}

fn unreachable_expr() -> Expr {
    Expr {
        line: 0,
        col: 0,
        kind: ExprKind::None,
    }
}

fn literal_kind(e: &Expr) -> Option<&'static str> {
    Some(match &e.kind {
        ExprKind::Int(_) | ExprKind::BigInt(_) | ExprKind::Float(_) | ExprKind::Str(_) => "literal",
        ExprKind::True | ExprKind::False => "True/False",
        ExprKind::None => "None",
        ExprKind::FString(_) => "f-string expression",
        ExprKind::Call { .. } => "function call",
        ExprKind::BinOp(..) | ExprKind::Unary(..) | ExprKind::And(..) | ExprKind::Or(..) => {
            "expression"
        }
        ExprKind::Compare(..) => "comparison",
        ExprKind::Lambda(_) => "lambda",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::Set(_) => "set display",
        ExprKind::Comp(_) => "comprehension",
        ExprKind::Ellipsis => "ellipsis",
        ExprKind::NamedExpr(..) => "named expression",
        _ => return None,
    })
}

/// Checks that `e` can be assigned to (or deleted), with CPython's message.
fn check_target(e: &Expr, verb: &str) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute(..) | ExprKind::Subscript(..) => Ok(()),
        ExprKind::Starred(inner) => check_target(inner, verb),
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            if items
                .iter()
                .filter(|i| matches!(i.kind, ExprKind::Starred(_)))
                .count()
                > 1
            {
                return Err(SyntaxError::new(
                    "multiple starred expressions in assignment",
                    e.line,
                    e.col,
                ));
            }
            items.iter().try_for_each(|i| check_target(i, verb))
        }
        _ => {
            let what = literal_kind(e).unwrap_or("expression");
            Err(SyntaxError::new(
                format!("cannot {verb} {what}"),
                e.line,
                e.col,
            ))
        }
    }
}

fn check_aug_target(e: &Expr) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute(..) | ExprKind::Subscript(..) => Ok(()),
        _ => {
            let what = literal_kind(e).unwrap_or("expression");
            let what = if matches!(e.kind, ExprKind::Tuple(_)) {
                "tuple"
            } else {
                what
            };
            Err(SyntaxError::new(
                format!("'{what}' is an illegal expression for augmented assignment"),
                e.line,
                e.col,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_functions_classes_and_control_flow() {
        let m = parse_module(
            "def f(a, b=2):\n    if a < b <= 3:\n        return a\n    return [x for x in range(b)]\n\
             class K(Exception):\n    def m(self): return lambda y: y + 1\n",
        )
        .unwrap();
        assert_eq!(m.body.len(), 2);
        assert!(matches!(&m.body[0].kind, StmtKind::FunctionDef(d) if d.params.len() == 2));
        assert!(matches!(&m.body[1].kind, StmtKind::ClassDef(c) if c.bases.len() == 1));
    }

    #[test]
    fn precedence_of_power_and_unary_minus() {
        let m = parse_module("x = -2 ** 2\n").unwrap();
        let StmtKind::Assign { value, .. } = &m.body[0].kind else {
            panic!("not an assignment")
        };
        assert!(matches!(&value.kind, ExprKind::Unary(UnaryOp::Neg, inner)
            if matches!(inner.kind, ExprKind::BinOp(_, BinOp::Pow, _))));
    }

    #[test]
    fn syntax_errors_carry_cpython_messages() {
        let e = parse_module("if x\n    pass\n").unwrap_err();
        assert_eq!((e.msg.as_str(), e.line), ("expected ':'", 1));
        let e = parse_module("def f():\nreturn 1\n").unwrap_err();
        assert!(e.indentation && e.msg.starts_with("expected an indented block"));
        let e = parse_module("1 = x\n").unwrap_err();
        assert_eq!(e.msg, "cannot assign to literal");
        let e = parse_module("x = = 2\n").unwrap_err();
        assert_eq!((e.msg.as_str(), e.col), ("invalid syntax", 4));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // On a thread of its own: the parser's recursion to its limit fits
        // the 8 MiB a main thread gets, not always a test thread's 2 MiB
        // (aarch64 debug builds need about 2.2 MiB for 150 levels).
        let deep = |src: String| {
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn(move || parse_module(&src).map(|_| ()).map_err(|e| e.msg))
                .unwrap()
                .join()
                .unwrap()
        };
        let err = deep(format!("x = {}1{}\n", "-(".repeat(150), ")".repeat(150))).unwrap_err();
        assert_eq!(err, "too many nested expressions");
        // Left-nested chains: as deep as CPython compiles, and no deeper.
        assert!(deep(format!("x = 1{}\n", " + 1".repeat(2998))).is_ok());
        for chain in [" + 1", " and 1", ".a", "()", "[0]"] {
            let err = deep(format!("x = y{}\n", chain.repeat(100_000))).unwrap_err();
            assert_eq!(err, "too many nested expressions", "{chain}");
        }
    }
}
