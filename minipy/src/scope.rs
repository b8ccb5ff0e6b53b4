//! Scope analysis: which names each function, class, comprehension and the
//! module bind, which are declared `global`/`nonlocal`, and from that which
//! variables must live in cells (captured by a nested function) and which
//! are free variables passed in through a closure. The compiler asks
//! [`Scopes::binding_of`] for every name it lowers.

use crate::ast::*;
use crate::lexer::SyntaxError;
use indexmap::IndexSet;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Function,
    Class,
    /// Inlined into the nearest enclosing non-comprehension scope (its host).
    Comprehension,
}

#[derive(Debug)]
pub struct ScopeInfo {
    pub kind: ScopeKind,
    pub parent: Option<ScopeId>,
    pub params: Vec<Name>,
    pub bound: IndexSet<Name>,
    pub used: IndexSet<Name>,
    pub globals: HashSet<Name>,
    pub nonlocals: HashSet<Name>,
    /// Names bound here that nested functions capture.
    pub cells: IndexSet<Name>,
    /// Free variables (function and class scopes only).
    pub frees: IndexSet<Name>,
    pub line: u32,
}

/// Where a name lives, seen from one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// A variable of the scope `ScopeId` (local or cell of its host frame).
    Var(ScopeId),
    /// A free variable of the current host frame.
    Free,
    Global,
    /// Bound in the class body being run.
    ClassNs,
    /// Read in a class body but bound elsewhere: class namespace, then global.
    ClassImplicit,
}

pub struct Scopes {
    pub infos: Vec<ScopeInfo>,
}

pub const MODULE_SCOPE: ScopeId = 0;

impl Scopes {
    /// Analyses a whole module.
    pub fn analyse(module: &Module) -> Result<Scopes, SyntaxError> {
        let mut infos = Vec::with_capacity(module.scope_count as usize);
        for _ in 0..module.scope_count {
            infos.push(ScopeInfo {
                kind: ScopeKind::Module,
                parent: None,
                params: Vec::new(),
                bound: IndexSet::new(),
                used: IndexSet::new(),
                globals: HashSet::new(),
                nonlocals: HashSet::new(),
                cells: IndexSet::new(),
                frees: IndexSet::new(),
                line: 1,
            });
        }
        let mut s = Scopes { infos };
        let mut c = Collector { scopes: &mut s };
        c.block(MODULE_SCOPE, &module.body)?;
        s.mark_captures()?;
        Ok(s)
    }

    pub fn info(&self, id: ScopeId) -> &ScopeInfo {
        &self.infos[id as usize]
    }

    /// The scope whose frame runs `id` (itself unless it is a comprehension).
    pub fn host(&self, mut id: ScopeId) -> ScopeId {
        while self.info(id).kind == ScopeKind::Comprehension {
            id = self.info(id).parent.unwrap_or(MODULE_SCOPE);
        }
        id
    }

    pub fn binding_of(&self, scope: ScopeId, name: &str) -> Binding {
        let info = self.info(scope);
        match info.kind {
            ScopeKind::Module => Binding::Global,
            ScopeKind::Comprehension => {
                if info.bound.contains(name) {
                    Binding::Var(scope)
                } else {
                    self.binding_of(info.parent.unwrap_or(MODULE_SCOPE), name)
                }
            }
            ScopeKind::Function => {
                if info.globals.contains(name) {
                    Binding::Global
                } else if info.nonlocals.contains(name) {
                    Binding::Free
                } else if info.bound.contains(name) {
                    Binding::Var(scope)
                } else if self.find_enclosing(info.parent, name).is_some() {
                    Binding::Free
                } else {
                    Binding::Global
                }
            }
            ScopeKind::Class => {
                if info.globals.contains(name) {
                    Binding::Global
                } else if info.nonlocals.contains(name) {
                    Binding::Free
                } else if info.bound.contains(name) {
                    Binding::ClassNs
                } else if self.find_enclosing(info.parent, name).is_some() {
                    Binding::Free
                } else {
                    Binding::ClassImplicit
                }
            }
        }
    }

    /// The nearest function or comprehension scope, from `start` outwards
    /// (class bodies skipped), that binds `name` for its nested scopes.
    fn find_enclosing(&self, start: Option<ScopeId>, name: &str) -> Option<ScopeId> {
        let mut cur = start;
        while let Some(id) = cur {
            let info = self.info(id);
            match info.kind {
                ScopeKind::Module => return None,
                ScopeKind::Class => {}
                ScopeKind::Function | ScopeKind::Comprehension => {
                    if info.globals.contains(name) {
                        return None;
                    }
                    if info.bound.contains(name) || info.nonlocals.contains(name) {
                        return Some(id);
                    }
                }
            }
            cur = info.parent;
        }
        None
    }

    /// Marks cells in binding scopes and free variables along every chain
    /// from a use to its binding.
    fn mark_captures(&mut self) -> Result<(), SyntaxError> {
        for id in 0..self.infos.len() as ScopeId {
            let info = self.info(id);
            let mut names: Vec<Name> = info.used.iter().chain(info.bound.iter()).cloned().collect();
            names.extend(info.nonlocals.iter().cloned());
            for name in names {
                if self.binding_of(id, &name) != Binding::Free {
                    continue;
                }
                let parent = self.info(id).parent;
                let Some(binder) = self.find_enclosing(parent, &name) else {
                    return Err(SyntaxError::new(
                        format!("no binding for nonlocal '{name}' found"),
                        self.info(id).line,
                        0,
                    ));
                };
                if self.info(binder).bound.contains(&name)
                    && !self.info(binder).nonlocals.contains(&name)
                {
                    self.infos[binder as usize].cells.insert(name.clone());
                }
                let mut cur = Some(id);
                while let Some(x) = cur {
                    if x == binder {
                        break;
                    }
                    if matches!(self.info(x).kind, ScopeKind::Function | ScopeKind::Class) {
                        self.infos[x as usize].frees.insert(name.clone());
                    }
                    cur = self.info(x).parent;
                }
                // The binder itself may be a pass-through (`nonlocal` there).
                if self.info(binder).nonlocals.contains(&name) {
                    self.infos[binder as usize].frees.insert(name.clone());
                }
            }
        }
        Ok(())
    }
}

struct Collector<'a> {
    scopes: &'a mut Scopes,
}

impl Collector<'_> {
    fn info(&mut self, id: ScopeId) -> &mut ScopeInfo {
        &mut self.scopes.infos[id as usize]
    }

    fn open(&mut self, id: ScopeId, kind: ScopeKind, parent: ScopeId, line: u32) {
        let info = self.info(id);
        info.kind = kind;
        info.parent = Some(parent);
        info.line = line;
    }

    fn bind(&mut self, scope: ScopeId, name: &Name) {
        self.info(scope).bound.insert(name.clone());
    }

    fn block(&mut self, scope: ScopeId, body: &[Stmt]) -> Result<(), SyntaxError> {
        body.iter().try_for_each(|s| self.stmt(scope, s))
    }

    fn stmt(&mut self, scope: ScopeId, s: &Stmt) -> Result<(), SyntaxError> {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(scope, e),
            StmtKind::Assign { targets, value } => {
                self.expr(scope, value);
                targets.iter().for_each(|t| self.target(scope, t));
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(scope, value);
                if let ExprKind::Name(n) = &target.kind {
                    self.info(scope).used.insert(n.clone());
                }
                self.target(scope, target);
            }
            StmtKind::AnnAssign { target, value } => {
                if let Some(v) = value {
                    self.expr(scope, v);
                    self.target(scope, target);
                }
            }
            StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
                self.expr(scope, test);
                self.block(scope, body)?;
                self.block(scope, orelse)?;
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => {
                self.expr(scope, iter);
                self.target(scope, target);
                self.block(scope, body)?;
                self.block(scope, orelse)?;
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    self.expr(scope, v);
                }
            }
            StmtKind::FunctionDef(def) => {
                def.decorators.iter().for_each(|d| self.expr(scope, d));
                self.bind(scope, &def.name);
                self.function(scope, def)?;
            }
            StmtKind::ClassDef(def) => {
                def.decorators.iter().for_each(|d| self.expr(scope, d));
                def.bases.iter().for_each(|b| self.expr(scope, b));
                self.bind(scope, &def.name);
                self.open(def.scope, ScopeKind::Class, scope, def.line);
                self.block(def.scope, &def.body)?;
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
            } => {
                self.block(scope, body)?;
                for h in handlers {
                    if let Some(t) = &h.typ {
                        self.expr(scope, t);
                    }
                    if let Some(n) = &h.name {
                        self.bind(scope, n);
                    }
                    self.block(scope, &h.body)?;
                }
                self.block(scope, orelse)?;
                self.block(scope, finalbody)?;
            }
            StmtKind::Raise { exc, cause } => {
                exc.iter()
                    .chain(cause.iter())
                    .for_each(|e| self.expr(scope, e));
            }
            StmtKind::Assert { test, msg } => {
                self.expr(scope, test);
                if let Some(m) = msg {
                    self.expr(scope, m);
                }
            }
            StmtKind::Global(names) | StmtKind::Nonlocal(names) => {
                let is_global = matches!(s.kind, StmtKind::Global(_));
                let kind = self.scopes.info(scope).kind;
                if !is_global && kind == ScopeKind::Module {
                    return Err(SyntaxError::new(
                        "nonlocal declaration not allowed at module level",
                        s.line,
                        0,
                    ));
                }
                for n in names {
                    let info = self.info(scope);
                    if info.params.contains(n) {
                        let what = if is_global { "global" } else { "nonlocal" };
                        return Err(SyntaxError::new(
                            format!("name '{n}' is parameter and {what}"),
                            s.line,
                            0,
                        ));
                    }
                    if is_global {
                        info.globals.insert(n.clone());
                    } else {
                        info.nonlocals.insert(n.clone());
                    }
                }
            }
            StmtKind::Import(names) => names.iter().for_each(|(_, bound)| self.bind(scope, bound)),
            StmtKind::ImportFrom { names, .. } => {
                names.iter().for_each(|(_, bound)| self.bind(scope, bound))
            }
            StmtKind::Delete(targets) => targets.iter().for_each(|t| self.target(scope, t)),
        }
        Ok(())
    }

    fn function(&mut self, scope: ScopeId, def: &FuncDef) -> Result<(), SyntaxError> {
        for p in &def.params {
            if let Some(d) = &p.default {
                self.expr(scope, d);
            }
        }
        self.open(def.scope, ScopeKind::Function, scope, def.line);
        for name in def.params.iter().map(|p| &p.name).chain(def.vararg.iter()) {
            self.info(def.scope).params.push(name.clone());
            self.bind(def.scope, name);
        }
        self.block(def.scope, &def.body)
    }

    fn target(&mut self, scope: ScopeId, t: &Expr) {
        match &t.kind {
            ExprKind::Name(n) => self.bind(scope, n),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().for_each(|i| self.target(scope, i))
            }
            ExprKind::Starred(inner) => self.target(scope, inner),
            _ => self.expr(scope, t),
        }
    }

    /// The scope a walrus binds in: the nearest non-comprehension scope.
    fn walrus_scope(&self, mut scope: ScopeId) -> ScopeId {
        while self.scopes.info(scope).kind == ScopeKind::Comprehension {
            scope = self.scopes.info(scope).parent.unwrap_or(MODULE_SCOPE);
        }
        scope
    }

    fn expr(&mut self, scope: ScopeId, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => {
                self.info(scope).used.insert(n.clone());
            }
            ExprKind::Int(_)
            | ExprKind::BigInt(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::True
            | ExprKind::False
            | ExprKind::None
            | ExprKind::Ellipsis => {}
            ExprKind::FString(parts) => self.fparts(scope, parts),
            ExprKind::BinOp(l, _, r) | ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                self.expr(scope, l);
                self.expr(scope, r);
            }
            ExprKind::Unary(_, x) | ExprKind::Starred(x) | ExprKind::Attribute(x, _) => {
                self.expr(scope, x)
            }
            ExprKind::Compare(first, rest) => {
                self.expr(scope, first);
                rest.iter().for_each(|(_, x)| self.expr(scope, x));
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(scope, test);
                self.expr(scope, body);
                self.expr(scope, orelse);
            }
            ExprKind::Call { func, args, kwargs } => {
                self.expr(scope, func);
                args.iter().for_each(|a| self.expr(scope, a));
                kwargs.iter().for_each(|(_, a)| self.expr(scope, a));
            }
            ExprKind::Subscript(a, b) => {
                self.expr(scope, a);
                self.expr(scope, b);
            }
            ExprKind::Slice(a, b, c) => {
                for x in [a, b, c].into_iter().flatten() {
                    self.expr(scope, x);
                }
            }
            ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::Set(items) => {
                items.iter().for_each(|i| self.expr(scope, i))
            }
            ExprKind::Dict(items) => items.iter().for_each(|(k, v)| {
                self.expr(scope, k);
                self.expr(scope, v);
            }),
            ExprKind::Lambda(def) => {
                // Errors cannot come from a lambda body (expressions only).
                let _ = self.function(scope, def);
            }
            ExprKind::Comp(comp) => {
                let mut first = true;
                self.open(comp.scope, ScopeKind::Comprehension, scope, e.line);
                for g in &comp.generators {
                    // The first iterable is evaluated in the enclosing scope.
                    self.expr(if first { scope } else { comp.scope }, &g.iter);
                    first = false;
                    self.target(comp.scope, &g.target);
                    g.ifs.iter().for_each(|c| self.expr(comp.scope, c));
                }
                self.expr(comp.scope, &comp.elt);
                if let Some(v) = &comp.value {
                    self.expr(comp.scope, v);
                }
            }
            ExprKind::NamedExpr(target, value) => {
                self.expr(scope, value);
                if let ExprKind::Name(n) = &target.kind {
                    let s = self.walrus_scope(scope);
                    self.bind(s, n);
                    self.info(scope).used.insert(n.clone());
                }
            }
        }
    }

    fn fparts(&mut self, scope: ScopeId, parts: &[FPart]) {
        for p in parts {
            if let FPart::Field { expr, spec, .. } = p {
                self.expr(scope, expr);
                self.fparts(scope, spec);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_module;

    fn scopes(src: &str) -> Scopes {
        Scopes::analyse(&parse_module(src).unwrap()).unwrap()
    }

    #[test]
    fn captured_variables_become_cells_and_frees() {
        let s =
            scopes("def f(a):\n    b = 1\n    def g():\n        return a + b + c\n    return g\n");
        // scope ids: f=1, g=2
        assert_eq!(
            s.info(1).cells.iter().map(|n| &**n).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(s.info(2).frees.len(), 2);
        assert_eq!(s.binding_of(2, "c"), Binding::Global);
        assert_eq!(s.binding_of(2, "a"), Binding::Free);
    }

    #[test]
    fn class_bodies_are_skipped_by_nested_functions() {
        let s = scopes("class K:\n    x = 1\n    def m(self):\n        return x\n");
        assert_eq!(s.binding_of(1, "x"), Binding::ClassNs);
        assert_eq!(s.binding_of(2, "x"), Binding::Global);
    }

    #[test]
    fn nonlocal_without_binding_is_an_error() {
        let m = parse_module("def f():\n    nonlocal q\n    q = 1\n").unwrap();
        assert!(Scopes::analyse(&m).is_err());
    }
}
