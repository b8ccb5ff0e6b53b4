//! The syntax tree the parser builds: names are still strings here. The
//! compiler (`compile`) resolves them to slots and lowers this tree to the
//! executable one in `code`.

use num_bigint::BigInt;
use std::rc::Rc;

pub type Name = Rc<str>;

/// Identifies a scope-introducing node (function, lambda, class,
/// comprehension) so the scope analysis can attach facts to it.
pub type ScopeId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    BitAnd,
    BitOr,
    BitXor,
    MatMul,
}

impl BinOp {
    /// The operator as written, for error messages.
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            FloorDiv => "//",
            Mod => "%",
            Pow => "** or pow()",
            LShift => "<<",
            RShift => ">>",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            MatMul => "@",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
    Invert,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        use CmpOp::*;
        match self {
            Eq => "==",
            NotEq => "!=",
            Lt => "<",
            LtE => "<=",
            Gt => ">",
            GtE => ">=",
            Is => "is",
            IsNot => "is not",
            In => "in",
            NotIn => "not in",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub line: u32,
    pub col: u32,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Name(Name),
    Int(i64),
    BigInt(Rc<BigInt>),
    Float(f64),
    Str(Rc<str>),
    FString(Vec<FPart>),
    True,
    False,
    None,
    Ellipsis,
    BinOp(Box<Expr>, BinOp, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(Name, Expr)>,
    },
    Attribute(Box<Expr>, Name),
    Subscript(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Set(Vec<Expr>),
    Lambda(Rc<FuncDef>),
    /// `[elt for ...]`, `{k: v for ...}`, `{e for ...}`.
    Comp(Rc<Comprehension>),
    Starred(Box<Expr>),
    NamedExpr(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum FPart {
    Lit(String),
    Field {
        expr: Expr,
        conv: Option<char>,
        spec: Vec<FPart>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompKind {
    List,
    Set,
    Dict,
}

#[derive(Debug, Clone)]
pub struct Comprehension {
    pub scope: ScopeId,
    pub kind: CompKind,
    /// The element (or the key for a dict comprehension).
    pub elt: Expr,
    pub value: Option<Expr>,
    pub generators: Vec<CompFor>,
}

#[derive(Debug, Clone)]
pub struct CompFor {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Name,
    pub default: Option<Expr>,
}

/// A `def` or a `lambda` (whose body is one `return`).
#[derive(Debug, Clone)]
pub struct FuncDef {
    pub scope: ScopeId,
    pub name: Name,
    pub params: Vec<Param>,
    /// `*args`: the name that collects extra positional arguments.
    pub vararg: Option<Name>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub line: u32,
    pub is_lambda: bool,
}

#[derive(Debug, Clone)]
pub struct ClassDef {
    pub scope: ScopeId,
    pub name: Name,
    pub bases: Vec<Expr>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Handler {
    pub typ: Option<Expr>,
    pub name: Option<Name>,
    pub body: Vec<Stmt>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Expr(Expr),
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    /// `x: T` alone (no value) only declares; `x: T = v` assigns.
    AnnAssign {
        target: Expr,
        value: Option<Expr>,
    },
    If {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    While {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    Break,
    Continue,
    Pass,
    Return(Option<Expr>),
    FunctionDef(Rc<FuncDef>),
    ClassDef(Rc<ClassDef>),
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Vec<Stmt>,
        finalbody: Vec<Stmt>,
    },
    Raise {
        exc: Option<Expr>,
        cause: Option<Expr>,
    },
    Assert {
        test: Expr,
        msg: Option<Expr>,
    },
    Global(Vec<Name>),
    Nonlocal(Vec<Name>),
    /// `import a.b as c`: module path, bound name.
    Import(Vec<(Name, Name)>),
    /// `from m import a as b, ...`
    ImportFrom {
        module: Name,
        names: Vec<(Name, Name)>,
    },
    Delete(Vec<Expr>),
}

/// A parsed module: its statements and how many scope ids were handed out.
#[derive(Debug)]
pub struct Module {
    pub body: Vec<Stmt>,
    pub scope_count: u32,
}
