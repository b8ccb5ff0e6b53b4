//! Lowers the syntax tree to the executable tree (`code`), resolving every
//! name to a local slot, a cell, a global slot or a class-namespace entry
//! (from the facts in `scope`), computing CPython qualnames, and rejecting
//! what CPython rejects at compile time (`return` outside a function,
//! `break` outside a loop).

use crate::ast::{self, ExprKind, Name, ScopeId, StmtKind as S};
use crate::code::*;
use crate::lexer::SyntaxError;
use crate::scope::{Binding, ScopeKind, Scopes, MODULE_SCOPE};
use crate::value::{PyStr, Str, Value};
use indexmap::{IndexMap, IndexSet};
use std::cell::Cell;
use std::rc::Rc;

/// The compiled main module: its code and the names of its global slots.
pub struct CompiledModule {
    pub code: Rc<Code>,
    pub global_names: Vec<Str>,
}

type CResult<T> = Result<T, SyntaxError>;

pub fn compile_module(module: &ast::Module, filename: Str) -> CResult<CompiledModule> {
    let scopes = Scopes::analyse(module)?;
    let mut c = Compiler {
        scopes: &scopes,
        filename,
        globals: IndexSet::new(),
    };
    for name in ["__name__", "__file__"] {
        c.globals.insert(Rc::from(name));
    }
    let mut ctx = c.frame(MODULE_SCOPE, CodeKind::Module, Rc::from("<module>"));
    let body = c.block(&mut ctx, MODULE_SCOPE, &module.body)?;
    let code = c.finish(ctx, Rc::from("<module>"), 1, Vec::new(), false, body);
    Ok(CompiledModule {
        code,
        global_names: c.globals.into_iter().collect(),
    })
}

struct Compiler<'a> {
    scopes: &'a Scopes,
    filename: Str,
    globals: IndexSet<Str>,
}

/// The frame being compiled: one per module, class body and function.
struct FrameCtx {
    host: ScopeId,
    kind: CodeKind,
    qualname: Str,
    locals: IndexMap<(ScopeId, Name), u32>,
    cells: IndexMap<(ScopeId, Name), u32>,
    frees: IndexSet<Name>,
    loop_depth: u32,
}

enum Resolved {
    Local(u32),
    Cell(u32),
    Global(u32),
    ClassNs(Str),
    ClassImplicit(Str, u32),
}

fn err<T>(msg: &str, line: u32) -> CResult<T> {
    Err(SyntaxError::new(msg, line, 0))
}

impl Compiler<'_> {
    fn frame(&self, host: ScopeId, kind: CodeKind, qualname: Str) -> FrameCtx {
        let mut ctx = FrameCtx {
            host,
            kind,
            qualname,
            locals: IndexMap::new(),
            cells: IndexMap::new(),
            frees: self.scopes.info(host).frees.clone(),
            loop_depth: 0,
        };
        let info = self.scopes.info(host);
        if kind == CodeKind::Function {
            for p in &info.params {
                let n = ctx.locals.len() as u32;
                ctx.locals.insert((host, p.clone()), n);
            }
        }
        // Every cell of this frame, including those of inlined
        // comprehensions, so free variables can be numbered after them.
        for id in 0..self.scopes.infos.len() as ScopeId {
            if id == host
                || (self.scopes.host(id) == host
                    && self.scopes.info(id).kind == ScopeKind::Comprehension)
            {
                for name in &self.scopes.info(id).cells {
                    let n = ctx.cells.len() as u32;
                    ctx.cells.insert((id, name.clone()), n);
                }
            }
        }
        ctx
    }

    fn finish(
        &self,
        ctx: FrameCtx,
        name: Str,
        first_line: u32,
        params: Vec<Str>,
        vararg: bool,
        body: Block,
    ) -> Rc<Code> {
        let nargs = params.len() - vararg as usize;
        let param_cells = params
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                ctx.cells
                    .get(&(ctx.host, p.clone()))
                    .map(|c| (i as u32, *c))
            })
            .collect();
        let mut cell_names: Vec<Str> = ctx.cells.keys().map(|(_, n)| n.clone()).collect();
        let ncells = cell_names.len();
        cell_names.extend(ctx.frees.iter().cloned());
        Rc::new(Code {
            name,
            qualname: ctx.qualname,
            filename: self.filename.clone(),
            kind: ctx.kind,
            first_line,
            param_names: params,
            nargs,
            vararg,
            nlocals: ctx.locals.len(),
            local_names: ctx.locals.keys().map(|(_, n)| n.clone()).collect(),
            cell_names,
            ncells,
            param_cells,
            body,
            stubs: [Cell::new(StubSlot::NotYet), Cell::new(StubSlot::NotYet)],
        })
    }

    fn global(&mut self, name: &Name) -> u32 {
        self.globals.insert_full(name.clone()).0 as u32
    }

    fn resolve(&mut self, ctx: &mut FrameCtx, scope: ScopeId, name: &Name) -> Resolved {
        match self.scopes.binding_of(scope, name) {
            Binding::Var(b) => {
                if let Some(c) = ctx.cells.get(&(b, name.clone())) {
                    return Resolved::Cell(*c);
                }
                let n = ctx.locals.len() as u32;
                Resolved::Local(*ctx.locals.entry((b, name.clone())).or_insert(n))
            }
            Binding::Free => self
                .free_index(ctx, name)
                .map_or_else(|| Resolved::Global(self.global(name)), Resolved::Cell),
            Binding::Global => Resolved::Global(self.global(name)),
            Binding::ClassNs => Resolved::ClassNs(name.clone()),
            Binding::ClassImplicit => Resolved::ClassImplicit(name.clone(), self.global(name)),
        }
    }

    fn free_index(&self, ctx: &FrameCtx, name: &Name) -> Option<u32> {
        ctx.frees
            .get_index_of(name)
            .map(|i| (ctx.cells.len() + i) as u32)
    }

    /// The cell of the current frame that a nested function's free
    /// variable `name` is taken from.
    fn closure_cell(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        name: &Name,
        line: u32,
    ) -> CResult<u32> {
        if self.scopes.info(ctx.host).kind != ScopeKind::Class {
            if let Binding::Var(b) = self.scopes.binding_of(scope, name) {
                if let Some(c) = ctx.cells.get(&(b, name.clone())) {
                    return Ok(*c);
                }
            }
        }
        match self.free_index(ctx, name) {
            Some(i) => Ok(i),
            None => err(
                &format!("internal error: no cell for free variable '{name}'"),
                line,
            ),
        }
    }

    fn child_qualname(&self, ctx: &FrameCtx, name: &str) -> Str {
        let q = match ctx.kind {
            CodeKind::Module => name.to_string(),
            CodeKind::Class => format!("{}.{}", ctx.qualname, name),
            CodeKind::Function => format!("{}.<locals>.{}", ctx.qualname, name),
        };
        Rc::from(q.as_str())
    }

    // ----- statements -----

    fn block(&mut self, ctx: &mut FrameCtx, scope: ScopeId, body: &[ast::Stmt]) -> CResult<Block> {
        let mut out = Vec::with_capacity(body.len());
        for s in body {
            if let Some(stmt) = self.stmt(ctx, scope, s)? {
                out.push(stmt);
            }
        }
        Ok(out)
    }

    fn stmt(&mut self, ctx: &mut FrameCtx, scope: ScopeId, s: &ast::Stmt) -> CResult<Option<Stmt>> {
        let line = s.line;
        let kind = match &s.kind {
            S::Expr(e) => StmtKind::Expr(self.expr(ctx, scope, e)?),
            S::Assign { targets, value } => {
                let value = self.expr(ctx, scope, value)?;
                if targets.len() == 1 {
                    match self.target(ctx, scope, &targets[0])? {
                        Target::Local(slot) => StmtKind::AssignLocal(slot, value),
                        t => StmtKind::Assign(t, value),
                    }
                } else {
                    let ts = targets
                        .iter()
                        .map(|t| self.target(ctx, scope, t))
                        .collect::<CResult<Vec<_>>>()?;
                    StmtKind::AssignMany(ts, value)
                }
            }
            S::AnnAssign { target, value } => match value {
                None => return Ok(None),
                Some(v) => {
                    let value = self.expr(ctx, scope, v)?;
                    StmtKind::Assign(self.target(ctx, scope, target)?, value)
                }
            },
            S::AugAssign { target, op, value } => {
                let value = self.expr(ctx, scope, value)?;
                match self.target(ctx, scope, target)? {
                    Target::Local(slot) => StmtKind::AugLocal(slot, *op, value),
                    t => StmtKind::AugAssign(t, *op, value),
                }
            }
            S::If { test, body, orelse } => StmtKind::If(
                self.expr(ctx, scope, test)?,
                self.block(ctx, scope, body)?,
                self.block(ctx, scope, orelse)?,
            ),
            S::While { test, body, orelse } => {
                let test = self.expr(ctx, scope, test)?;
                ctx.loop_depth += 1;
                let body = self.block(ctx, scope, body);
                ctx.loop_depth -= 1;
                StmtKind::While(test, body?, self.block(ctx, scope, orelse)?)
            }
            S::For {
                target,
                iter,
                body,
                orelse,
            } => {
                let iter = self.expr(ctx, scope, iter)?;
                let target = self.target(ctx, scope, target)?;
                ctx.loop_depth += 1;
                let body = self.block(ctx, scope, body);
                ctx.loop_depth -= 1;
                StmtKind::For(target, iter, body?, self.block(ctx, scope, orelse)?)
            }
            S::Break | S::Continue => {
                if ctx.loop_depth == 0 {
                    let what = if matches!(s.kind, S::Break) {
                        "'break' outside loop"
                    } else {
                        "'continue' not properly in loop"
                    };
                    return err(what, line);
                }
                if matches!(s.kind, S::Break) {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            S::Pass => StmtKind::Pass,
            S::Return(v) => {
                if ctx.kind != CodeKind::Function {
                    return err("'return' outside function", line);
                }
                StmtKind::Return(match v {
                    Some(v) => self.expr(ctx, scope, v)?,
                    None => Expr::Const(Value::None),
                })
            }
            S::FunctionDef(def) => {
                let template = self.function(ctx, scope, def)?;
                let target = self.name_target(ctx, scope, &def.name)?;
                StmtKind::Def(Box::new(template), target)
            }
            S::ClassDef(def) => {
                let decorators = self.exprs(ctx, scope, &def.decorators)?;
                let bases = self.exprs(ctx, scope, &def.bases)?;
                let qualname = self.child_qualname(ctx, &def.name);
                let mut inner = self.frame(def.scope, CodeKind::Class, qualname);
                let body = self.block(&mut inner, def.scope, &def.body)?;
                let closure = self.closure(ctx, scope, def.scope, def.line)?;
                let code = self.finish(inner, def.name.clone(), def.line, Vec::new(), false, body);
                let target = self.name_target(ctx, scope, &def.name)?;
                StmtKind::Class(
                    Box::new(ClassTemplate {
                        code,
                        bases,
                        closure,
                        decorators,
                    }),
                    target,
                )
            }
            S::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => {
                let body = self.block(ctx, scope, body)?;
                let mut hs = Vec::new();
                for h in handlers {
                    let typ = match &h.typ {
                        Some(t) => Some(self.expr(ctx, scope, t)?),
                        None => None,
                    };
                    let target = match &h.name {
                        Some(n) => Some(self.name_target(ctx, scope, n)?),
                        None => None,
                    };
                    hs.push(Handler {
                        line: h.line,
                        typ,
                        target,
                        body: self.block(ctx, scope, &h.body)?,
                    });
                }
                if let Some(pos) = handlers.iter().position(|h| h.typ.is_none()) {
                    if pos + 1 != handlers.len() {
                        return err("default 'except:' must be last", handlers[pos].line);
                    }
                }
                StmtKind::Try(Box::new(TryStmt {
                    body,
                    handlers: hs,
                    orelse: self.block(ctx, scope, orelse)?,
                    finalbody: self.block(ctx, scope, finalbody)?,
                }))
            }
            S::Raise { exc, cause } => StmtKind::Raise(
                exc.as_ref().map(|e| self.expr(ctx, scope, e)).transpose()?,
                cause
                    .as_ref()
                    .map(|e| self.expr(ctx, scope, e))
                    .transpose()?,
            ),
            S::Assert { test, msg } => StmtKind::Assert(
                self.expr(ctx, scope, test)?,
                msg.as_ref().map(|e| self.expr(ctx, scope, e)).transpose()?,
            ),
            S::Global(_) | S::Nonlocal(_) => return Ok(None),
            S::Import(names) => {
                let mut items = Vec::new();
                for (module, bound) in names {
                    items.push((module.clone(), self.name_target(ctx, scope, bound)?));
                }
                StmtKind::Import(items)
            }
            S::ImportFrom { module, names } => {
                let mut items = Vec::new();
                for (name, bound) in names {
                    items.push((name.clone(), self.name_target(ctx, scope, bound)?));
                }
                StmtKind::ImportFrom(module.clone(), items)
            }
            S::Delete(targets) => StmtKind::Delete(
                targets
                    .iter()
                    .map(|t| self.target(ctx, scope, t))
                    .collect::<CResult<_>>()?,
            ),
        };
        Ok(Some(Stmt { line, kind }))
    }

    fn closure(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        child: ScopeId,
        line: u32,
    ) -> CResult<Vec<u32>> {
        let frees: Vec<Name> = self.scopes.info(child).frees.iter().cloned().collect();
        frees
            .iter()
            .map(|n| self.closure_cell(ctx, scope, n, line))
            .collect()
    }

    fn function(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        def: &ast::FuncDef,
    ) -> CResult<FuncTemplate> {
        let decorators = self.exprs(ctx, scope, &def.decorators)?;
        let mut defaults = Vec::new();
        for p in &def.params {
            if let Some(d) = &p.default {
                defaults.push(self.expr(ctx, scope, d)?);
            }
        }
        let qualname = self.child_qualname(ctx, &def.name);
        let mut inner = self.frame(def.scope, CodeKind::Function, qualname);
        let body = self.block(&mut inner, def.scope, &def.body)?;
        let closure = self.closure(ctx, scope, def.scope, def.line)?;
        let params = def
            .params
            .iter()
            .map(|p| p.name.clone())
            .chain(def.vararg.iter().cloned())
            .collect();
        let code = self.finish(
            inner,
            def.name.clone(),
            def.line,
            params,
            def.vararg.is_some(),
            body,
        );
        Ok(FuncTemplate {
            code,
            defaults,
            closure,
            decorators,
        })
    }

    fn name_target(&mut self, ctx: &mut FrameCtx, scope: ScopeId, name: &Name) -> CResult<Target> {
        Ok(match self.resolve(ctx, scope, name) {
            Resolved::Local(s) => Target::Local(s),
            Resolved::Cell(c) => Target::Cell(c),
            Resolved::Global(g) | Resolved::ClassImplicit(_, g) => Target::Global(g),
            Resolved::ClassNs(n) => Target::ClassNs(n),
        })
    }

    fn target(&mut self, ctx: &mut FrameCtx, scope: ScopeId, e: &ast::Expr) -> CResult<Target> {
        Ok(match &e.kind {
            ExprKind::Name(n) => self.name_target(ctx, scope, n)?,
            ExprKind::Attribute(obj, name) => {
                Target::Attr(self.expr(ctx, scope, obj)?, name.clone())
            }
            ExprKind::Subscript(obj, idx) => {
                Target::Item(self.expr(ctx, scope, obj)?, self.expr(ctx, scope, idx)?)
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let star = items
                    .iter()
                    .position(|i| matches!(i.kind, ExprKind::Starred(_)));
                let mut ts = Vec::new();
                for i in items {
                    let inner = match &i.kind {
                        ExprKind::Starred(x) => x,
                        _ => i,
                    };
                    ts.push(self.target(ctx, scope, inner)?);
                }
                Target::Unpack(ts, star)
            }
            _ => return err("cannot assign to expression", e.line),
        })
    }

    // ----- expressions -----

    fn exprs(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        es: &[ast::Expr],
    ) -> CResult<Vec<Expr>> {
        es.iter().map(|e| self.expr(ctx, scope, e)).collect()
    }

    fn boxed(&mut self, ctx: &mut FrameCtx, scope: ScopeId, e: &ast::Expr) -> CResult<Box<Expr>> {
        Ok(Box::new(self.expr(ctx, scope, e)?))
    }

    fn expr(&mut self, ctx: &mut FrameCtx, scope: ScopeId, e: &ast::Expr) -> CResult<Expr> {
        Ok(match &e.kind {
            ExprKind::Name(n) => match self.resolve(ctx, scope, n) {
                Resolved::Local(s) => Expr::Local(s),
                Resolved::Cell(c) => Expr::Cell(c),
                Resolved::Global(g) => Expr::Global(g),
                Resolved::ClassNs(n) => {
                    let g = self.global(&n);
                    Expr::ClassName(n, g)
                }
                Resolved::ClassImplicit(n, g) => Expr::ClassName(n, g),
            },
            ExprKind::Int(v) => Expr::Const(Value::Int(*v)),
            ExprKind::BigInt(v) => Expr::Const(Value::BigInt(v.clone())),
            ExprKind::Float(v) => Expr::Const(Value::float(*v)),
            ExprKind::Str(s) => Expr::Const(Value::Str(PyStr::from(s))),
            ExprKind::True => Expr::Const(Value::bool(true)),
            ExprKind::False => Expr::Const(Value::bool(false)),
            ExprKind::None => Expr::Const(Value::None),
            ExprKind::Ellipsis => Expr::Const(Value::Ellipsis),
            ExprKind::FString(parts) => Expr::FString(self.fparts(ctx, scope, parts)?),
            ExprKind::BinOp(l, op, r) => {
                let (l, r) = (self.expr(ctx, scope, l)?, self.expr(ctx, scope, r)?);
                match (l, r) {
                    (Expr::Local(a), Expr::Const(c)) => Expr::BinLocalConst(a, *op, c),
                    (Expr::Local(a), Expr::Local(b)) => Expr::BinLocals(a, *op, b),
                    (l, r) => Expr::Bin(Box::new(l), *op, Box::new(r)),
                }
            }
            ExprKind::Unary(op, x) => Expr::Unary(*op, self.boxed(ctx, scope, x)?),
            ExprKind::And(l, r) => {
                Expr::And(self.boxed(ctx, scope, l)?, self.boxed(ctx, scope, r)?)
            }
            ExprKind::Or(l, r) => Expr::Or(self.boxed(ctx, scope, l)?, self.boxed(ctx, scope, r)?),
            ExprKind::Compare(first, rest) => {
                let first = self.boxed(ctx, scope, first)?;
                if rest.len() == 1 {
                    let (op, right) = (rest[0].0, self.expr(ctx, scope, &rest[0].1)?);
                    match (*first, right) {
                        (Expr::Local(a), Expr::Const(c)) => Expr::CmpLocalConst(a, op, c),
                        (Expr::Local(a), Expr::Local(b)) => Expr::CmpLocals(a, op, b),
                        (l, r) => Expr::Compare(Box::new(l), op, Box::new(r)),
                    }
                } else {
                    let mut rs = Vec::new();
                    for (op, x) in rest {
                        rs.push((*op, self.expr(ctx, scope, x)?));
                    }
                    Expr::CompareChain(first, rs)
                }
            }
            ExprKind::IfExp { test, body, orelse } => Expr::IfExp(Box::new((
                self.expr(ctx, scope, test)?,
                self.expr(ctx, scope, body)?,
                self.expr(ctx, scope, orelse)?,
            ))),
            ExprKind::Call { func, args, kwargs } => self.call(ctx, scope, func, args, kwargs)?,
            ExprKind::Attribute(obj, name) => {
                Expr::Attr(self.boxed(ctx, scope, obj)?, name.clone())
            }
            ExprKind::Subscript(obj, idx) => {
                Expr::Index(self.boxed(ctx, scope, obj)?, self.boxed(ctx, scope, idx)?)
            }
            ExprKind::Slice(a, b, c) => {
                let mut part = |x: &Option<Box<ast::Expr>>| -> CResult<Option<Expr>> {
                    x.as_ref().map(|x| self.expr(ctx, scope, x)).transpose()
                };
                Expr::Slice(Box::new((part(a)?, part(b)?, part(c)?)))
            }
            ExprKind::List(items) => Expr::List(self.exprs(ctx, scope, items)?),
            ExprKind::Tuple(items) => Expr::Tuple(self.exprs(ctx, scope, items)?),
            ExprKind::Set(items) => Expr::Set(self.exprs(ctx, scope, items)?),
            ExprKind::Dict(items) => {
                let mut out = Vec::new();
                for (k, v) in items {
                    out.push((self.expr(ctx, scope, k)?, self.expr(ctx, scope, v)?));
                }
                Expr::Dict(out)
            }
            ExprKind::Starred(x) => Expr::Starred(self.boxed(ctx, scope, x)?),
            ExprKind::Lambda(def) => Expr::Lambda(Box::new(self.function(ctx, scope, def)?)),
            ExprKind::Comp(comp) => self.comprehension(ctx, scope, comp)?,
            ExprKind::NamedExpr(target, value) => {
                let value = self.boxed(ctx, scope, value)?;
                let ExprKind::Name(n) = &target.kind else {
                    return err("cannot use assignment expressions with this target", e.line);
                };
                let host_scope = self.walrus_scope(scope);
                Expr::Named(Box::new(self.name_target(ctx, host_scope, n)?), value)
            }
        })
    }

    fn walrus_scope(&self, mut scope: ScopeId) -> ScopeId {
        while self.scopes.info(scope).kind == ScopeKind::Comprehension {
            scope = self.scopes.info(scope).parent.unwrap_or(MODULE_SCOPE);
        }
        scope
    }

    fn call(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        func: &ast::Expr,
        args: &[ast::Expr],
        kwargs: &[(Name, ast::Expr)],
    ) -> CResult<Expr> {
        let has_star = args.iter().any(|a| matches!(a.kind, ExprKind::Starred(_)));
        let lowered_args = self.exprs(ctx, scope, args)?;
        let mut kws = Vec::new();
        for (n, v) in kwargs {
            kws.push((n.clone(), self.expr(ctx, scope, v)?));
        }
        if let ExprKind::Name(n) = &func.kind {
            if &**n == "super"
                && args.is_empty()
                && kwargs.is_empty()
                && ctx.kind == CodeKind::Function
                && self.scopes.binding_of(scope, n) == Binding::Global
            {
                return Ok(Expr::Super);
            }
        }
        if let ExprKind::Attribute(obj, name) = &func.kind {
            let obj = self.expr(ctx, scope, obj)?;
            return Ok(Expr::MethodCall(Box::new(MethodCallExpr {
                obj,
                name: name.clone(),
                args: lowered_args,
                kwargs: kws,
                has_star,
            })));
        }
        let func = self.expr(ctx, scope, func)?;
        if let (Expr::Global(slot), false, true) = (&func, has_star, kws.is_empty()) {
            return Ok(Expr::CallGlobal(*slot, lowered_args.into_boxed_slice()));
        }
        Ok(Expr::Call(Box::new(CallExpr {
            func,
            args: lowered_args,
            kwargs: kws,
            has_star,
        })))
    }

    fn comprehension(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        comp: &ast::Comprehension,
    ) -> CResult<Expr> {
        let mut generators = Vec::new();
        for (i, g) in comp.generators.iter().enumerate() {
            let iter = self.expr(ctx, if i == 0 { scope } else { comp.scope }, &g.iter)?;
            let target = self.target(ctx, comp.scope, &g.target)?;
            let ifs = self.exprs(ctx, comp.scope, &g.ifs)?;
            generators.push(CompFor { target, iter, ifs });
        }
        let elt = self.expr(ctx, comp.scope, &comp.elt)?;
        let value = comp
            .value
            .as_ref()
            .map(|v| self.expr(ctx, comp.scope, v))
            .transpose()?;
        let kind = comp.kind;
        Ok(Expr::Comp(Box::new(Comp {
            kind,
            elt,
            value,
            generators,
        })))
    }

    fn fparts(
        &mut self,
        ctx: &mut FrameCtx,
        scope: ScopeId,
        parts: &[ast::FPart],
    ) -> CResult<Vec<FPart>> {
        let mut out = Vec::new();
        for p in parts {
            out.push(match p {
                ast::FPart::Lit(s) => FPart::Lit(Rc::from(s.as_str())),
                ast::FPart::Field { expr, conv, spec } => FPart::Field {
                    expr: self.expr(ctx, scope, expr)?,
                    conv: *conv,
                    spec: self.fparts(ctx, scope, spec)?,
                },
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_module;

    fn compile(src: &str) -> CResult<CompiledModule> {
        compile_module(&parse_module(src)?, Rc::from("/t.py"))
    }

    fn find_def<'a>(body: &'a [Stmt], name: &str) -> Option<&'a Rc<Code>> {
        body.iter().find_map(|s| match &s.kind {
            StmtKind::Def(t, _) if &*t.code.name == name => Some(&t.code),
            StmtKind::Class(t, _) if &*t.code.name == name => Some(&t.code),
            _ => None,
        })
    }

    #[test]
    fn qualnames_follow_cpython() {
        let m = compile("class K:\n    def m(self):\n        def inner():\n            return lambda: 1\n        return inner\n").unwrap();
        let k = find_def(&m.code.body, "K").unwrap();
        assert_eq!(&*k.qualname, "K");
        let meth = find_def(&k.body, "m").unwrap();
        assert_eq!(&*meth.qualname, "K.m");
        let inner = find_def(&meth.body, "inner").unwrap();
        assert_eq!(&*inner.qualname, "K.m.<locals>.inner");
        let StmtKind::Return(Expr::Lambda(l)) = &inner.body[0].kind else {
            panic!("no lambda")
        };
        assert_eq!(&*l.code.qualname, "K.m.<locals>.inner.<locals>.<lambda>");
    }

    #[test]
    fn locals_are_slots_and_params_come_first() {
        let m = compile("def f(a, b):\n    c = a + b\n    return c\n").unwrap();
        let f = find_def(&m.code.body, "f").unwrap();
        assert_eq!(f.nlocals, 3);
        assert!(matches!(f.body[0].kind, StmtKind::AssignLocal(2, _)));
    }

    #[test]
    fn compile_time_errors() {
        assert_eq!(
            compile("return 1\n").err().unwrap().msg,
            "'return' outside function"
        );
        assert_eq!(
            compile("break\n").err().unwrap().msg,
            "'break' outside loop"
        );
    }
}
