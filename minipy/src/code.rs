//! The executable tree: what the compiler produces from the syntax tree and
//! the evaluator walks. Every name is already resolved to a slot (local,
//! cell, global) so running it needs no hash lookups for variables.
//!
//! A `Code` is one compiled body (module, class body, function or lambda);
//! it also caches the perf trampoline made for it, so a code object is named
//! once in the perf map however many function objects share it.

use crate::ast::{BinOp, CmpOp, CompKind, UnaryOp};
use crate::value::{Str, Value};
use std::cell::Cell;
use std::rc::Rc;
use trampoline_api::Stub;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Module,
    Class,
    Function,
}

/// What happened when a stub was last wanted for a code object. The `u32`
/// is the perf state's generation: a forked child that starts a fresh map
/// bumps it, so every function it calls from then on gets a new, named stub.
#[derive(Debug, Clone, Copy)]
pub enum StubSlot {
    NotYet,
    Ready(Stub, u32),
    /// Making it failed once (reported); call directly from now on.
    Failed(u32),
}

pub struct Code {
    /// `co_name`, used by tracebacks.
    pub name: Str,
    /// `co_qualname`, used by the perf map.
    pub qualname: Str,
    pub filename: Str,
    pub kind: CodeKind,
    pub first_line: u32,
    /// Parameter names: the positional ones, then `*args` if any.
    pub param_names: Vec<Str>,
    /// How many positional parameters (slots `0..nargs`).
    pub nargs: usize,
    /// Whether slot `nargs` collects extra positional arguments (`*args`).
    pub vararg: bool,
    /// Slots `0..param_names.len()` are the parameters.
    pub nlocals: usize,
    pub local_names: Vec<Str>,
    /// This body's own cells come first in the frame's cell list, then the
    /// free variables taken from the function's closure.
    pub cell_names: Vec<Str>,
    pub ncells: usize,
    /// Parameters that live in cells: (parameter slot, cell index).
    pub param_cells: Vec<(u32, u32)>,
    pub body: Vec<Stmt>,
    /// One cached stub per backend (index = `perf::backend_index`).
    pub stubs: [Cell<StubSlot>; 2],
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<code {}>", self.qualname)
    }
}

pub type Block = Vec<Stmt>;

#[derive(Debug)]
pub struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

/// `repr(u8)` here and on [`Expr`]: an explicit tag byte, so dispatching on
/// a node is one load (rustc would otherwise hide the tag in a niche of a
/// field, which takes several instructions to decode on every node).
#[derive(Debug)]
#[repr(u8)]
pub enum StmtKind {
    Expr(Expr),
    /// `slot = value` for a plain local: the most common statement.
    AssignLocal(u32, Expr),
    Assign(Target, Expr),
    /// `a = b = value`
    AssignMany(Vec<Target>, Expr),
    /// `slot op= value` for a plain local.
    AugLocal(u32, BinOp, Expr),
    AugAssign(Target, BinOp, Expr),
    If(Expr, Block, Block),
    While(Expr, Block, Block),
    For(Target, Expr, Block, Block),
    Break,
    Continue,
    Pass,
    Return(Expr),
    Raise(Option<Expr>, Option<Expr>),
    Try(Box<TryStmt>),
    Assert(Expr, Option<Expr>),
    Def(Box<FuncTemplate>, Target),
    Class(Box<ClassTemplate>, Target),
    /// `import a, b as c`: module name and the target it binds.
    Import(Vec<(Str, Target)>),
    ImportFrom(Str, Vec<(Str, Target)>),
    Delete(Vec<Target>),
}

#[derive(Debug)]
pub struct TryStmt {
    pub body: Block,
    pub handlers: Vec<Handler>,
    pub orelse: Block,
    pub finalbody: Block,
}

#[derive(Debug)]
pub struct Handler {
    pub line: u32,
    pub typ: Option<Expr>,
    pub target: Option<Target>,
    pub body: Block,
}

/// Everything needed to make a function object at run time.
#[derive(Debug)]
pub struct FuncTemplate {
    pub code: Rc<Code>,
    pub defaults: Vec<Expr>,
    /// Indices into the defining frame's cells, one per free variable.
    pub closure: Vec<u32>,
    pub decorators: Vec<Expr>,
}

#[derive(Debug)]
pub struct ClassTemplate {
    pub code: Rc<Code>,
    pub bases: Vec<Expr>,
    pub closure: Vec<u32>,
    pub decorators: Vec<Expr>,
}

#[derive(Debug)]
pub enum Target {
    Local(u32),
    Cell(u32),
    Global(u32),
    /// A name bound in a class body (goes into the class namespace).
    ClassNs(Str),
    Attr(Expr, Str),
    Item(Expr, Expr),
    /// `a, *b, c = …`: the targets and the position of the starred one.
    Unpack(Vec<Target>, Option<usize>),
}

#[derive(Debug)]
#[repr(u8)]
pub enum Expr {
    Const(Value),
    Local(u32),
    Cell(u32),
    Global(u32),
    /// A name read in a class body: class namespace, then the global slot.
    ClassName(Str, u32),
    Bin(Box<Expr>, BinOp, Box<Expr>),
    /// `local op constant` (e.g. `x + 1`): one node instead of three.
    BinLocalConst(u32, BinOp, Value),
    /// `local op local`
    BinLocals(u32, BinOp, u32),
    /// `local <cmp> constant`
    CmpLocalConst(u32, CmpOp, Value),
    /// `local <cmp> local`
    CmpLocals(u32, CmpOp, u32),
    /// `f(args)` with `f` a global name and positional arguments only.
    CallGlobal(u32, Box<[Expr]>),
    Unary(UnaryOp, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
    CompareChain(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<(Expr, Expr, Expr)>),
    Call(Box<CallExpr>),
    MethodCall(Box<MethodCallExpr>),
    Attr(Box<Expr>, Str),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<(Option<Expr>, Option<Expr>, Option<Expr>)>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Set(Vec<Expr>),
    /// `*x` inside a display or a call's arguments.
    Starred(Box<Expr>),
    FString(Vec<FPart>),
    Lambda(Box<FuncTemplate>),
    Comp(Box<Comp>),
    /// Zero-argument `super()`.
    Super,
    /// `target := value`
    Named(Box<Target>, Box<Expr>),
}

#[derive(Debug)]
pub struct CallExpr {
    pub func: Expr,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(Str, Expr)>,
    /// Some argument is `*x`: build the argument list dynamically.
    pub has_star: bool,
}

#[derive(Debug)]
pub struct MethodCallExpr {
    pub obj: Expr,
    pub name: Str,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(Str, Expr)>,
    pub has_star: bool,
}

#[derive(Debug)]
pub enum FPart {
    Lit(Str),
    Field {
        expr: Expr,
        conv: Option<char>,
        spec: Vec<FPart>,
    },
}

/// An inlined comprehension (PEP 709): its loop variables are hidden
/// slots of the enclosing frame.
#[derive(Debug)]
pub struct Comp {
    pub kind: CompKind,
    pub elt: Expr,
    pub value: Option<Expr>,
    pub generators: Vec<CompFor>,
}

#[derive(Debug)]
pub struct CompFor {
    pub target: Target,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
}
