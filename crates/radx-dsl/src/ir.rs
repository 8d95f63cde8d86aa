//! The checked intermediate representation of one family: a hash-consed expression DAG
//! (so identical sub-expressions of different features are one node), plus tables of the
//! things that must be *materialised* — reductions, vectors and builtin calls.
//!
//! Index variables are canonical: a variable is identified by its axis and by how many
//! variables over the same axis are already bound around it. `sum(i, j, i*p[i,j])` in one
//! feature and `sum(a, b, (a-mu)^2*p[a,b])` in another therefore loop over the very same
//! variables, which is what lets the planner fuse them into one pass.
//! Node ids are topologically ordered: a node's operands always have smaller ids.

use crate::ast::ReduceOp;
use std::collections::HashMap;

pub type NodeId = u32;
pub type VarId = u32;

/// Most distinct canonical index variables in one family (they are tracked in a `u64`).
pub const MAX_VARS: usize = 64;

/// What an index variable ranges over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AxisKey {
    /// Axis number `n` of the family's source schema.
    Source(u32),
    /// The integers `lo..=hi` (scalar nodes).
    Range(NodeId, NodeId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct VarInfo {
    pub axis: AxisKey,
    pub slot: u32,
}

/// Unary operations (math functions included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Un {
    Neg,
    Not,
    Abs,
    Sqrt,
    Exp,
    Log,
    Log2,
    Log10,
    Floor,
    Ceil,
}

impl Un {
    #[inline(always)]
    pub fn apply(self, a: f64) -> f64 {
        match self {
            Un::Neg => -a,
            Un::Not => f64::from(u8::from(a == 0.0)),
            Un::Abs => a.abs(),
            Un::Sqrt => a.sqrt(),
            Un::Exp => a.exp(),
            Un::Log => a.ln(),
            Un::Log2 => crate::log2::log2(a),
            Un::Log10 => a.log10(),
            Un::Floor => a.floor(),
            Un::Ceil => a.ceil(),
        }
    }
    /// Transcendental operations are worth skipping where a filter discards the result.
    pub fn is_expensive(self) -> bool {
        matches!(self, Un::Sqrt | Un::Exp | Un::Log | Un::Log2 | Un::Log10)
    }
}

/// Binary operations. Comparisons and logic give 1.0 / 0.0; any non-zero value is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Min,
    Max,
}

impl Bin {
    #[inline(always)]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        let t = |c: bool| f64::from(u8::from(c));
        match self {
            Bin::Add => a + b,
            Bin::Sub => a - b,
            Bin::Mul => a * b,
            Bin::Div => a / b,
            Bin::Pow => a.powf(b),
            Bin::Eq => t(a == b),
            Bin::Ne => t(a != b),
            Bin::Lt => t(a < b),
            Bin::Le => t(a <= b),
            Bin::Gt => t(a > b),
            Bin::Ge => t(a >= b),
            Bin::And => t(a != 0.0 && b != 0.0),
            Bin::Or => t(a != 0.0 || b != 0.0),
            Bin::Min => a.min(b),
            Bin::Max => a.max(b),
        }
    }
}

/// A DAG node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// A constant, stored as bits so nodes can be hashed.
    Const(u64),
    /// Source scalar number `n` (schema order).
    SrcScalar(u32),
    /// The axis *value* of an index variable at its current position.
    Index(VarId),
    /// Source array number `n` read at the given variables.
    Array {
        array: u32,
        vars: Vec<VarId>,
    },
    /// Materialised vector number `vec` read at the position of `at`.
    VecRead {
        vec: u32,
        at: VarId,
    },
    /// Materialised scalar number `n` (a reduction or builtin result).
    ScalarRef(u32),
    /// The value of another family's feature number `n` of the family's references
    /// (`glcm.contrast`), given to each evaluation by the host.
    Reference(u32),
    Unary(Un, NodeId),
    Binary(Bin, NodeId, NodeId),
    /// `if c then a else b`.
    Select(NodeId, NodeId, NodeId),
}

/// A reduction over index variables, with an optional filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reduction {
    pub op: ReduceOp,
    pub binders: Vec<VarId>,
    pub filter: Option<NodeId>,
    /// For `count` the body is the constant 1.
    pub body: NodeId,
}

/// Argument of a builtin call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BuiltinArg {
    Scalar(NodeId),
    SourceArray(u32),
    Vector(u32),
}

/// A materialised scalar.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScalarDef {
    Reduce(u32),
    Builtin { builtin: String, args: Vec<BuiltinArg> },
}

/// A materialised vector over the axis of `var`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VecDef {
    /// A reduction whose only free variable is `var`.
    Reduce { red: u32, var: VarId },
    /// `body` evaluated at every position of `var`.
    Map { var: VarId, body: NodeId },
}

/// The checked family: DAG + materialisation tables.
#[derive(Debug, Clone, Default)]
pub struct Ir {
    pub nodes: Vec<Node>,
    /// Bit `v` is set if the node depends on variable `v`.
    pub free: Vec<u64>,
    pub vars: Vec<VarInfo>,
    pub reductions: Vec<Reduction>,
    pub scalars: Vec<ScalarDef>,
    pub vecs: Vec<VecDef>,
    node_ids: HashMap<Node, NodeId>,
    var_ids: HashMap<(AxisKey, u32), VarId>,
    red_ids: HashMap<Reduction, u32>,
    scalar_ids: HashMap<ScalarDef, u32>,
    vec_ids: HashMap<VecDef, u32>,
}

pub fn bit(v: VarId) -> u64 {
    1u64 << v
}

impl Ir {
    pub fn var(&mut self, axis: AxisKey, slot: u32) -> Option<VarId> {
        if let Some(&v) = self.var_ids.get(&(axis, slot)) {
            return Some(v);
        }
        if self.vars.len() >= MAX_VARS {
            return None;
        }
        let v = self.vars.len() as VarId;
        self.vars.push(VarInfo { axis, slot });
        self.var_ids.insert((axis, slot), v);
        Some(v)
    }

    pub fn constant(&mut self, v: f64) -> NodeId {
        self.intern(Node::Const(v.to_bits()))
    }

    pub fn const_value(&self, n: NodeId) -> Option<f64> {
        match self.nodes[n as usize] {
            Node::Const(b) => Some(f64::from_bits(b)),
            _ => None,
        }
    }

    /// Adds a node (or finds the identical one), folding constants and cheap identities.
    pub fn intern(&mut self, node: Node) -> NodeId {
        let node = match node {
            Node::Unary(op, a) => {
                if let Some(x) = self.const_value(a) {
                    return self.constant(op.apply(x));
                }
                node
            }
            Node::Binary(op, a, b) => {
                let (ca, cb) = (self.const_value(a), self.const_value(b));
                if let (Some(x), Some(y)) = (ca, cb) {
                    return self.constant(op.apply(x, y));
                }
                match (op, ca, cb) {
                    (Bin::Add, Some(0.0), _) => return b,
                    (Bin::Add | Bin::Sub, _, Some(0.0)) => return a,
                    (Bin::Mul, Some(1.0), _) => return b,
                    (Bin::Mul | Bin::Div, _, Some(1.0)) => return a,
                    (Bin::Pow, _, Some(1.0)) => return a,
                    // Small integer powers become products: exact enough and far cheaper than powf.
                    (Bin::Pow, _, Some(2.0)) => return self.intern(Node::Binary(Bin::Mul, a, a)),
                    (Bin::Pow, _, Some(3.0)) => {
                        let sq = self.intern(Node::Binary(Bin::Mul, a, a));
                        return self.intern(Node::Binary(Bin::Mul, sq, a));
                    }
                    (Bin::Pow, _, Some(4.0)) => {
                        let sq = self.intern(Node::Binary(Bin::Mul, a, a));
                        return self.intern(Node::Binary(Bin::Mul, sq, sq));
                    }
                    _ => node,
                }
            }
            Node::Select(c, a, b) => {
                if let Some(x) = self.const_value(c) {
                    return if x != 0.0 { a } else { b };
                }
                if a == b {
                    return a;
                }
                node
            }
            other => other,
        };
        if let Some(&id) = self.node_ids.get(&node) {
            return id;
        }
        let free = match &node {
            Node::Const(_) | Node::SrcScalar(_) | Node::ScalarRef(_) | Node::Reference(_) => 0,
            Node::Index(v) => bit(*v),
            Node::Array { vars, .. } => vars.iter().fold(0, |m, v| m | bit(*v)),
            Node::VecRead { at, .. } => bit(*at),
            Node::Unary(_, a) => self.free[*a as usize],
            Node::Binary(_, a, b) => self.free[*a as usize] | self.free[*b as usize],
            Node::Select(c, a, b) => self.free[*c as usize] | self.free[*a as usize] | self.free[*b as usize],
        };
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node.clone());
        self.free.push(free);
        self.node_ids.insert(node, id);
        id
    }

    pub fn reduction(&mut self, r: Reduction) -> u32 {
        if let Some(&id) = self.red_ids.get(&r) {
            return id;
        }
        let id = self.reductions.len() as u32;
        self.reductions.push(r.clone());
        self.red_ids.insert(r, id);
        id
    }

    pub fn scalar(&mut self, s: ScalarDef) -> u32 {
        if let Some(&id) = self.scalar_ids.get(&s) {
            return id;
        }
        let id = self.scalars.len() as u32;
        self.scalars.push(s.clone());
        self.scalar_ids.insert(s, id);
        id
    }

    pub fn vector(&mut self, v: VecDef) -> u32 {
        if let Some(&id) = self.vec_ids.get(&v) {
            return id;
        }
        let id = self.vecs.len() as u32;
        self.vecs.push(v.clone());
        self.vec_ids.insert(v, id);
        id
    }

    /// Free variables of a reduction's result: those of body and filter minus the binders.
    pub fn reduction_free(&self, r: &Reduction) -> u64 {
        let mut m = self.free[r.body as usize];
        if let Some(f) = r.filter {
            m |= self.free[f as usize];
        }
        for b in &r.binders {
            m &= !bit(*b);
        }
        m
    }

    pub fn vec_var(&self, vec: u32) -> VarId {
        match self.vecs[vec as usize] {
            VecDef::Reduce { var, .. } | VecDef::Map { var, .. } => var,
        }
    }
}
