//! Planning: a checked family's IR → stages of scalar nodes, builtin calls and passes.

use super::*;

/// A materialised item as the list scheduler sees it.
struct SchedItem {
    /// A scalar (`Ir::scalars`) or a vector (`Ir::vecs`) item, and its id there.
    is_scalar: bool,
    id: u32,
    /// Number of loop variables: items with more than one wait so that they fuse.
    weight: usize,
    scalar_deps: Vec<u32>,
    vec_deps: Vec<u32>,
}

pub(super) struct Planner<'r> {
    checked: CheckedFamily,
    registry: &'r Registry,
    /// Stage from which a node's value is available.
    node_ready: Vec<Option<usize>>,
    scalar_stage: Vec<Option<usize>>,
    vec_stage: Vec<Option<usize>>,
    /// Per node: see [`shape_only_nodes`] (worked out once planning has added its nodes).
    shape_only: Vec<bool>,
}

impl<'r> Planner<'r> {
    pub(super) fn new(checked: CheckedFamily, registry: &'r Registry) -> Self {
        let n = checked.ir.nodes.len();
        let s = checked.ir.scalars.len();
        let v = checked.ir.vecs.len();
        Planner {
            checked,
            registry,
            node_ready: vec![None; n],
            scalar_stage: vec![None; s],
            vec_stage: vec![None; v],
            shape_only: Vec::new(),
        }
    }

    fn var_ready(&mut self, v: VarId) -> usize {
        match self.checked.ir.vars[v as usize].axis {
            AxisKey::Source(_) => 0,
            AxisKey::Range(lo, hi) => self.ready(lo).max(self.ready(hi)),
        }
    }

    /// Stage from which node `n` can be computed (recursively planning what it needs).
    fn ready(&mut self, n: NodeId) -> usize {
        if let Some(r) = self.node_ready[n as usize] {
            return r;
        }
        let node = self.checked.ir.nodes[n as usize].clone();
        let r = match node {
            Node::Const(_) | Node::SrcScalar(_) | Node::Reference(_) => 0,
            Node::Index(v) => self.var_ready(v),
            Node::Array { vars, .. } => vars.iter().map(|v| self.var_ready(*v)).max().unwrap_or(0),
            Node::VecRead { vec, at } => (self.vec_stage(vec) + 1).max(self.var_ready(at)),
            Node::ScalarRef(s) => self.scalar_stage(s) + 1,
            Node::Unary(_, a) => self.ready(a),
            Node::Binary(_, a, b) => self.ready(a).max(self.ready(b)),
            Node::Select(c, a, b) => self.ready(c).max(self.ready(a)).max(self.ready(b)),
        };
        self.node_ready[n as usize] = Some(r);
        r
    }

    fn reduction_ready(&mut self, r: u32) -> usize {
        let red = self.checked.ir.reductions[r as usize].clone();
        let mut s = self.ready(red.body);
        if let Some(f) = red.filter {
            s = s.max(self.ready(f));
        }
        for b in &red.binders {
            s = s.max(self.var_ready(*b));
        }
        s
    }

    fn scalar_stage(&mut self, s: u32) -> usize {
        if let Some(st) = self.scalar_stage[s as usize] {
            return st;
        }
        let st = match self.checked.ir.scalars[s as usize].clone() {
            ScalarDef::Reduce(r) => self.reduction_ready(r),
            ScalarDef::Builtin { args, .. } => args
                .iter()
                .map(|a| match a {
                    BuiltinArg::Scalar(n) => self.ready(*n),
                    BuiltinArg::SourceArray(_) => 0,
                    BuiltinArg::Vector(v) => self.vec_stage(*v) + 1,
                })
                .max()
                .unwrap_or(0),
        };
        self.scalar_stage[s as usize] = Some(st);
        st
    }

    fn vec_stage(&mut self, v: u32) -> usize {
        if let Some(st) = self.vec_stage[v as usize] {
            return st;
        }
        let st = match self.checked.ir.vecs[v as usize].clone() {
            VecDef::Reduce { red, var } => self.reduction_ready(red).max(self.var_ready(var)),
            VecDef::Map { var, body } => self.ready(body).max(self.var_ready(var)),
        };
        self.vec_stage[v as usize] = Some(st);
        st
    }

    /// The scalar and vector items that the nodes under `roots` read (directly, not through
    /// other items), including those in the bounds of range variables.
    fn item_deps(&self, roots: &[NodeId], vars: &[VarId]) -> (Vec<u32>, Vec<u32>) {
        let ir = &self.checked.ir;
        let (mut scalars, mut vecs) = (Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        let range_bounds = |v: VarId, stack: &mut Vec<NodeId>| {
            if let AxisKey::Range(lo, hi) = ir.vars[v as usize].axis {
                stack.extend([lo, hi]);
            }
        };
        for &v in vars {
            range_bounds(v, &mut stack);
        }
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match &ir.nodes[n as usize] {
                Node::Const(_) | Node::SrcScalar(_) | Node::Reference(_) => {}
                Node::Index(v) => range_bounds(*v, &mut stack),
                Node::Array { vars, .. } => vars.iter().for_each(|v| range_bounds(*v, &mut stack)),
                Node::VecRead { vec, at } => {
                    vecs.push(*vec);
                    range_bounds(*at, &mut stack);
                }
                Node::ScalarRef(k) => scalars.push(*k),
                Node::Unary(_, a) => stack.push(*a),
                Node::Binary(_, a, b) => stack.extend([*a, *b]),
                Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
            }
        }
        (scalars, vecs)
    }

    /// Assigns every scalar and vector item its stage by list scheduling. Plain
    /// as-soon-as-possible staging would give the GLCM three `(i, j)` sweeps: features that
    /// need `mux` (itself a cheap sum over a marginal) would run one stage after the other
    /// second-pass features. Instead cheap items (builtins and loops over at most one
    /// variable) run as soon as they are ready, and multi-variable loops wait until nothing
    /// cheap is ready, so that every such loop ready by then shares one sweep.
    fn schedule_items(&mut self) {
        let ir = &self.checked.ir;
        let mut items: Vec<SchedItem> = Vec::new();
        for (k, def) in ir.scalars.iter().enumerate() {
            let (weight, roots, vars): (usize, Vec<NodeId>, Vec<VarId>) = match def {
                ScalarDef::Reduce(r) => {
                    let r = &ir.reductions[*r as usize];
                    (r.binders.len(), std::iter::once(r.body).chain(r.filter).collect(), r.binders.clone())
                }
                ScalarDef::Builtin { args, .. } => {
                    let roots = args.iter().filter_map(|a| if let BuiltinArg::Scalar(n) = a { Some(*n) } else { None });
                    (0, roots.collect(), Vec::new())
                }
            };
            let (mut ds, mut dv) = self.item_deps(&roots, &vars);
            if let ScalarDef::Builtin { args, .. } = def {
                dv.extend(args.iter().filter_map(|a| if let BuiltinArg::Vector(v) = a { Some(*v) } else { None }));
            }
            ds.sort_unstable();
            ds.dedup();
            items.push(SchedItem { is_scalar: true, id: k as u32, weight, scalar_deps: ds, vec_deps: dv });
        }
        for (k, def) in ir.vecs.iter().enumerate() {
            let (weight, roots, vars): (usize, Vec<NodeId>, Vec<VarId>) = match def {
                VecDef::Reduce { red, var } => {
                    let r = &ir.reductions[*red as usize];
                    let mut vars = r.binders.clone();
                    vars.push(*var);
                    (vars.len(), std::iter::once(r.body).chain(r.filter).collect(), vars)
                }
                VecDef::Map { var, body } => (1, vec![*body], vec![*var]),
            };
            let (ds, dv) = self.item_deps(&roots, &vars);
            items.push(SchedItem { is_scalar: false, id: k as u32, weight, scalar_deps: ds, vec_deps: dv });
        }
        let mut scalar_stage: Vec<Option<usize>> = vec![None; ir.scalars.len()];
        let mut vec_stage: Vec<Option<usize>> = vec![None; ir.vecs.len()];
        let mut remaining: Vec<usize> = (0..items.len()).collect();
        let mut stage = 0;
        while !remaining.is_empty() {
            // Ready at `stage`: every item read was computed in an earlier stage.
            let done_before = |d: Option<usize>| d.is_some_and(|s| s < stage);
            let ready: Vec<usize> = remaining
                .iter()
                .copied()
                .filter(|&i| {
                    items[i].scalar_deps.iter().all(|&d| done_before(scalar_stage[d as usize]))
                        && items[i].vec_deps.iter().all(|&d| done_before(vec_stage[d as usize]))
                })
                .collect();
            if ready.is_empty() {
                // Only possible with a dependency cycle, which the checker rejects; fall back
                // to as-soon-as-possible staging for whatever is left.
                break;
            }
            let cheap_ready = ready.iter().any(|&i| items[i].weight <= 1);
            for &i in &ready {
                if cheap_ready && items[i].weight > 1 {
                    continue;
                }
                let SchedItem { is_scalar, id, .. } = items[i];
                if is_scalar {
                    scalar_stage[id as usize] = Some(stage);
                } else {
                    vec_stage[id as usize] = Some(stage);
                }
            }
            remaining.retain(|&i| {
                let SchedItem { is_scalar, id, .. } = items[i];
                if is_scalar { scalar_stage[id as usize].is_none() } else { vec_stage[id as usize].is_none() }
            });
            stage += 1;
        }
        if remaining.is_empty() {
            self.scalar_stage = scalar_stage;
            self.vec_stage = vec_stage;
        }
    }

    /// Splits `a && b && …` into its conjuncts.
    fn conjuncts(&self, n: NodeId, out: &mut Vec<NodeId>) {
        match self.checked.ir.nodes[n as usize] {
            Node::Binary(Bin::And, a, b) => {
                self.conjuncts(a, out);
                self.conjuncts(b, out);
            }
            _ => out.push(n),
        }
    }

    /// An accumulator (and its loop set) for a vector reduction, using the scatter
    /// lowering when the filter pins the vector's index to a function of the binders.
    fn vec_reduce_acc(&mut self, vec: u32, red: u32, var: VarId) -> (Vec<VarId>, Acc) {
        let r = self.checked.ir.reductions[red as usize].clone();
        let arg_var = if matches!(r.op, ReduceOp::ArgMax | ReduceOp::ArgMin) { Some(r.binders[0]) } else { None };
        let plain = |binders: &[VarId]| {
            let mut loops = vec![var];
            loops.extend_from_slice(binders);
            (loops, Acc { op: u(r.op), filter: r.filter, body: r.body, arg_var, target: Target::VecAt { vec, var } })
        };
        let ir = &self.checked.ir;
        let Some(filter) = r.filter else { return plain(&r.binders) };
        if ir.free[r.body as usize] & bit(var) != 0 {
            return plain(&r.binders);
        }
        let mut parts = Vec::new();
        self.conjuncts(filter, &mut parts);
        let ir = &self.checked.ir;
        let index_node = ir.nodes.iter().position(|n| *n == Node::Index(var)).map(|p| p as NodeId);
        let Some(index_node) = index_node else { return plain(&r.binders) };
        let mut pinned = None;
        for (k, &c) in parts.iter().enumerate() {
            if let Node::Binary(Bin::Eq, a, b) = ir.nodes[c as usize] {
                let other = if a == index_node {
                    b
                } else if b == index_node {
                    a
                } else {
                    continue;
                };
                if ir.free[other as usize] & bit(var) == 0 {
                    pinned = Some((k, other));
                    break;
                }
            }
        }
        let Some((k, index)) = pinned else { return plain(&r.binders) };
        let rest: Vec<NodeId> = parts.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, c)| *c).collect();
        if rest.iter().any(|c| ir.free[*c as usize] & bit(var) != 0) {
            return plain(&r.binders);
        }
        let residual = rest.into_iter().reduce(|a, b| self.checked.ir.intern(Node::Binary(Bin::And, a, b)));
        let lo = match self.checked.ir.vars[var as usize].axis {
            AxisKey::Range(lo, _) => lo,
            // Source axes are scattered by value too, with `lo` the first axis value; only
            // unit-step axes starting at a constant qualify, so fall back to the plain loop.
            AxisKey::Source(_) => return plain(&r.binders),
        };
        (
            r.binders.clone(),
            Acc { op: u(r.op), filter: residual, body: r.body, arg_var, target: Target::VecScatter { vec, index, lo } },
        )
    }

    /// Re-creates node `n` with index variables renamed (`map[v]`), memoised.
    fn rename(
        &mut self,
        n: NodeId,
        map: &[(VarId, VarId)],
        memo: &mut std::collections::HashMap<NodeId, NodeId>,
    ) -> NodeId {
        if self.checked.ir.free[n as usize] == 0 {
            return n;
        }
        if let Some(&m) = memo.get(&n) {
            return m;
        }
        let r = |v: VarId| map.iter().find(|(a, _)| *a == v).map_or(v, |(_, b)| *b);
        let node = match self.checked.ir.nodes[n as usize].clone() {
            Node::Index(v) => Node::Index(r(v)),
            Node::Array { array, vars } => Node::Array { array, vars: vars.into_iter().map(r).collect() },
            Node::VecRead { vec, at } => Node::VecRead { vec, at: r(at) },
            Node::Unary(op, a) => Node::Unary(op, self.rename(a, map, memo)),
            Node::Binary(op, a, b) => {
                let a = self.rename(a, map, memo);
                Node::Binary(op, a, self.rename(b, map, memo))
            }
            Node::Select(c, a, b) => {
                let c = self.rename(c, map, memo);
                let a = self.rename(a, map, memo);
                Node::Select(c, a, self.rename(b, map, memo))
            }
            other => other,
        };
        let m = self.checked.ir.intern(node);
        memo.insert(n, m);
        m
    }

    /// Number of array reads under `n` whose indices are not in loop order (strided rows).
    fn transposed_reads(&self, n: NodeId, seen: &mut Vec<bool>) -> usize {
        if seen[n as usize] || self.checked.ir.free[n as usize] == 0 {
            return 0;
        }
        seen[n as usize] = true;
        let ir = &self.checked.ir;
        match &ir.nodes[n as usize] {
            Node::Array { vars, .. } => {
                let key = |v: &VarId| (ir.vars[*v as usize].slot, *v);
                usize::from(vars.windows(2).any(|w| key(&w[0]) > key(&w[1])))
            }
            Node::Unary(_, a) => self.transposed_reads(*a, seen),
            Node::Binary(_, a, b) => self.transposed_reads(*a, seen) + self.transposed_reads(*b, seen),
            Node::Select(c, a, b) => {
                self.transposed_reads(*c, seen) + self.transposed_reads(*a, seen) + self.transposed_reads(*b, seen)
            }
            _ => 0,
        }
    }

    /// For a vector reduction whose index shares an axis with one of its binders, swapping
    /// the two names changes nothing semantically but may turn strided reads (`p[i,j]`
    /// with `j` the vector index) into contiguous ones that other features already load.
    fn orient(&mut self, loops: Vec<VarId>, acc: Acc) -> (Vec<VarId>, Acc) {
        let Target::VecAt { vec, var } = acc.target else { return (loops, acc) };
        if acc.arg_var.is_some() {
            return (loops, acc);
        }
        let axis = self.checked.ir.vars[var as usize].axis;
        let Some(&other) = loops.iter().find(|&&b| b != var && self.checked.ir.vars[b as usize].axis == axis) else {
            return (loops, acc);
        };
        let count = |p: &Self, a: &Acc| {
            let mut seen = vec![false; p.checked.ir.nodes.len()];
            p.transposed_reads(a.body, &mut seen) + a.filter.map_or(0, |f| p.transposed_reads(f, &mut seen))
        };
        let before = count(self, &acc);
        if before == 0 {
            return (loops, acc);
        }
        let map = [(var, other), (other, var)];
        let mut memo = std::collections::HashMap::new();
        let body = self.rename(acc.body, &map, &mut memo);
        let filter = acc.filter.map(|f| self.rename(f, &map, &mut memo));
        let swapped = Acc { body, filter, target: Target::VecAt { vec, var: other }, ..acc.clone() };
        self.node_ready.resize(self.checked.ir.nodes.len(), None);
        if count(self, &swapped) < before { (loops, swapped) } else { (loops, acc) }
    }

    // The reachability flags are parallel to the IR tables; indexing by id is the clear form.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn run(mut self) -> CompiledFamily {
        // 0. Stages of the materialised items (fixes when each reduction's loop runs).
        self.schedule_items();
        // 1. Stages of everything reachable from the features.
        let feature_nodes: Vec<NodeId> = self.checked.features.iter().map(|(_, n)| *n).collect();
        for &n in &feature_nodes {
            self.ready(n);
        }
        // 2. Collect work per stage. Reachability: walk from features through items.
        let mut reach_nodes = vec![false; self.checked.ir.nodes.len()];
        let mut reach_scalars = vec![false; self.checked.ir.scalars.len()];
        let mut reach_vecs = vec![false; self.checked.ir.vecs.len()];
        let mut stack: Vec<NodeId> = feature_nodes.clone();
        let mut pending_vecs: Vec<u32> = Vec::new();
        loop {
            let ir = &self.checked.ir;
            let mut vars = Vec::new();
            if let Some(v) = pending_vecs.pop() {
                if !reach_vecs[v as usize] {
                    reach_vecs[v as usize] = true;
                    match &ir.vecs[v as usize] {
                        VecDef::Reduce { red, var } => {
                            let r = &ir.reductions[*red as usize];
                            stack.push(r.body);
                            stack.extend(r.filter);
                            vars.extend(&r.binders);
                            vars.push(*var);
                        }
                        VecDef::Map { var, body } => {
                            stack.push(*body);
                            vars.push(*var);
                        }
                    }
                }
            } else if let Some(n) = stack.pop() {
                if reach_nodes[n as usize] {
                    continue;
                }
                reach_nodes[n as usize] = true;
                match &ir.nodes[n as usize] {
                    Node::Const(_) | Node::SrcScalar(_) | Node::Reference(_) => {}
                    Node::Index(v) => vars.push(*v),
                    Node::Array { vars: vs, .. } => vars.extend(vs),
                    Node::VecRead { vec, at } => {
                        vars.push(*at);
                        pending_vecs.push(*vec);
                    }
                    Node::ScalarRef(s) => {
                        if !reach_scalars[*s as usize] {
                            reach_scalars[*s as usize] = true;
                            match &ir.scalars[*s as usize] {
                                ScalarDef::Reduce(red) => {
                                    let r = &ir.reductions[*red as usize];
                                    stack.push(r.body);
                                    stack.extend(r.filter);
                                    vars.extend(&r.binders);
                                }
                                ScalarDef::Builtin { args, .. } => {
                                    for a in args {
                                        match a {
                                            BuiltinArg::Scalar(m) => stack.push(*m),
                                            BuiltinArg::Vector(v) => pending_vecs.push(*v),
                                            BuiltinArg::SourceArray(_) => {}
                                        }
                                    }
                                }
                            }
                        }
                    }
                    Node::Unary(_, a) => stack.push(*a),
                    Node::Binary(_, a, b) => stack.extend([*a, *b]),
                    Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
                }
            } else {
                break;
            }
            for v in vars {
                if let AxisKey::Range(lo, hi) = ir.vars[v as usize].axis {
                    stack.extend([lo, hi]);
                }
            }
        }
        // Stages of all reachable nodes/items.
        for n in 0..reach_nodes.len() {
            if reach_nodes[n] {
                self.ready(n as NodeId);
            }
        }
        let mut n_stages = 1;
        for n in 0..reach_nodes.len() {
            if reach_nodes[n] {
                n_stages = n_stages.max(self.ready(n as NodeId) + 1);
            }
        }
        for v in 0..reach_vecs.len() {
            if reach_vecs[v] {
                n_stages = n_stages.max(self.vec_stage(v as u32) + 2);
            }
        }
        for s in 0..reach_scalars.len() {
            if reach_scalars[s] {
                n_stages = n_stages.max(self.scalar_stage(s as u32) + 2);
            }
        }
        let mut stages = vec![Stage::default(); n_stages];
        let mut builtin_impls = Vec::new();
        // Items per stage, grouped by loop set.
        let mut items: Vec<Vec<(Vec<VarId>, Acc)>> = vec![Vec::new(); n_stages];
        for s in 0..reach_scalars.len() {
            if !reach_scalars[s] {
                continue;
            }
            let st = self.scalar_stage(s as u32);
            match self.checked.ir.scalars[s].clone() {
                ScalarDef::Reduce(red) => {
                    let r = self.checked.ir.reductions[red as usize].clone();
                    let arg_var =
                        if matches!(r.op, ReduceOp::ArgMax | ReduceOp::ArgMin) { Some(r.binders[0]) } else { None };
                    items[st].push((
                        r.binders.clone(),
                        Acc { op: u(r.op), filter: r.filter, body: r.body, arg_var, target: Target::Scalar(s as u32) },
                    ));
                }
                ScalarDef::Builtin { builtin, .. } => {
                    stages[st].builtins.push(s as u32);
                    let imp = self.registry.builtin(&builtin).map_or(BuiltinImpl::Host, |b| b.implementation);
                    builtin_impls.push((s as u32, imp));
                }
            }
        }
        for v in 0..reach_vecs.len() {
            if !reach_vecs[v] {
                continue;
            }
            let st = self.vec_stage(v as u32);
            match self.checked.ir.vecs[v].clone() {
                VecDef::Reduce { red, var } => {
                    let (loops, acc) = self.vec_reduce_acc(v as u32, red, var);
                    let item = self.orient(loops, acc);
                    // Residual filters are new nodes; they are ready when their parts are.
                    items[st].push(item);
                }
                VecDef::Map { var, body } => items[st].push((
                    vec![var],
                    Acc {
                        op: AccOp::Assign,
                        filter: None,
                        body,
                        arg_var: None,
                        target: Target::VecAt { vec: v as u32, var },
                    },
                )),
            }
        }
        // Scalar nodes per stage (id order is topological).
        self.node_ready.resize(self.checked.ir.nodes.len(), None);
        reach_nodes.resize(self.checked.ir.nodes.len(), false);
        for n in 0..self.checked.ir.nodes.len() {
            if reach_nodes[n] && self.checked.ir.free[n] == 0 {
                let r = self.ready(n as NodeId);
                stages[r].scalar_nodes.push(n as NodeId);
            }
        }
        // Passes.
        self.shape_only = shape_only_nodes(&self.checked.ir);
        let mut row_slot = vec![u32::MAX; self.checked.ir.nodes.len()];
        for (st, stage_items) in items.into_iter().enumerate() {
            let mut groups: Vec<(u64, Vec<VarId>, Vec<Acc>)> = Vec::new();
            for (loops, acc) in stage_items {
                let mask = loops.iter().fold(0u64, |m, v| m | bit(*v));
                match groups.iter_mut().find(|(m, _, _)| *m == mask) {
                    Some(g) => g.2.push(acc),
                    None => groups.push((mask, loops, vec![acc])),
                }
            }
            for (_, mut loops, accs) in groups {
                loops.sort_by_key(|v| (self.checked.ir.vars[*v as usize].slot, *v));
                loops.dedup();
                let pass = self.build_pass(loops, accs, &mut row_slot, &mut stages, st);
                stages[st].passes.push(pass);
            }
        }
        let source_use = SourceUse::of(&self.checked.schema, &self.checked.ir);
        CompiledFamily {
            checked: self.checked,
            builtin_impls,
            stages,
            source_use,
            scratch: ScratchPool::default(),
            eval_budget: DEFAULT_EVAL_BUDGET,
        }
    }

    fn build_pass(
        &mut self,
        loops: Vec<VarId>,
        accs: Vec<Acc>,
        row_slot: &mut [u32],
        stages: &mut [Stage],
        stage: usize,
    ) -> Pass {
        let ir = &self.checked.ir;
        let inner = loops.len() - 1;
        // Nodes this pass needs, in id (topological) order.
        let mut needed = vec![false; ir.nodes.len()];
        let mut stack: Vec<NodeId> = Vec::new();
        for a in &accs {
            stack.push(a.body);
            stack.extend(a.filter);
            if let Target::VecScatter { index, .. } = a.target {
                stack.push(index);
            }
        }
        let mut scalars_needed = Vec::new();
        while let Some(n) = stack.pop() {
            if needed[n as usize] {
                continue;
            }
            needed[n as usize] = true;
            if ir.free[n as usize] == 0 {
                scalars_needed.push(n);
                continue;
            }
            match &ir.nodes[n as usize] {
                Node::Unary(_, a) => stack.push(*a),
                Node::Binary(_, a, b) => stack.extend([*a, *b]),
                Node::Select(c, a, b) => stack.extend([*c, *a, *b]),
                _ => {}
            }
        }
        // Scalar operands created by planning (residual filters) or not yet scheduled.
        for n in scalars_needed {
            if !stages.iter().any(|s| s.scalar_nodes.contains(&n)) {
                let r = self.ready(n).min(stage);
                let list = &mut stages[r].scalar_nodes;
                let pos = list.partition_point(|&m| m < n);
                list.insert(pos, n);
            }
        }
        let ir = &self.checked.ir;
        let depth_of = |n: NodeId| -> Option<usize> {
            let m = ir.free[n as usize];
            if m == 0 {
                return None;
            }
            loops.iter().rposition(|v| m & bit(*v) != 0)
        };
        // Guards: an expensive row node used only under one filter is evaluated only where it holds.
        let mut guard: Vec<Option<Option<NodeId>>> = vec![None; ir.nodes.len()]; // None = unseen
        let note = |g: &mut Vec<Option<Option<NodeId>>>, n: NodeId, f: Option<NodeId>| {
            let e = &mut g[n as usize];
            *e = match *e {
                None => Some(f),
                Some(prev) if prev == f => Some(prev),
                Some(_) => Some(None),
            };
        };
        for a in &accs {
            note(&mut guard, a.body, a.filter);
            if let Some(f) = a.filter {
                note(&mut guard, f, None);
            }
            if let Target::VecScatter { index, .. } = a.target {
                note(&mut guard, index, None);
            }
        }
        for n in (0..ir.nodes.len()).rev() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            let g = guard[n].unwrap_or(None);
            match &ir.nodes[n] {
                Node::Unary(_, a) => note(&mut guard, *a, g),
                Node::Binary(_, a, b) => {
                    note(&mut guard, *a, g);
                    note(&mut guard, *b, g);
                }
                Node::Select(c, a, b) => {
                    note(&mut guard, *c, None);
                    note(&mut guard, *a, None);
                    note(&mut guard, *b, None);
                }
                _ => {}
            }
        }
        // Scalar sums whose body is a product used nowhere else in the pass are fused: the
        // accumulator multiplies as it sums, and the product row is never materialised.
        let mut uses = vec![0u32; ir.nodes.len()];
        for (n, node) in ir.nodes.iter().enumerate() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            match node {
                Node::Unary(_, a) => uses[*a as usize] += 1,
                Node::Binary(_, a, b) => {
                    uses[*a as usize] += 1;
                    uses[*b as usize] += 1;
                }
                Node::Select(c, a, b) => [*c, *a, *b].iter().for_each(|m| uses[*m as usize] += 1),
                _ => {}
            }
        }
        for a in &accs {
            uses[a.body as usize] += 1;
            if let Some(f) = a.filter {
                uses[f as usize] += 1;
            }
            if let Target::VecScatter { index, .. } = a.target {
                uses[index as usize] += 1;
            }
        }
        let fused: Vec<Option<(NodeId, NodeId)>> = accs
            .iter()
            .map(|a| match (&a.target, a.op, &ir.nodes[a.body as usize]) {
                (Target::Scalar(_), AccOp::Reduce(ReduceOp::Sum), Node::Binary(Bin::Mul, x, y))
                    if uses[a.body as usize] == 1 && depth_of(a.body) == Some(inner) =>
                {
                    Some((*x, *y))
                }
                _ => None,
            })
            .collect();
        let is_fused = |n: usize| accs.iter().zip(&fused).any(|(a, f)| f.is_some() && a.body as usize == n);
        let mut per_depth = vec![Vec::new(); inner];
        let mut rows = Vec::new();
        let mut row_invariant = Vec::new();
        let mut row_keepable = Vec::new();
        let mut n_slots = 0u32;
        let opd = |n: NodeId, row_slot: &[u32]| -> Opd {
            if ir.free[n as usize] != 0 && row_slot[n as usize] != u32::MAX && depth_of(n) == Some(inner) {
                Opd::Row(row_slot[n as usize])
            } else {
                Opd::Scalar(n)
            }
        };
        for n in 0..ir.nodes.len() {
            if !needed[n] || ir.free[n] == 0 {
                continue;
            }
            let Some(d) = depth_of(n as NodeId) else { continue };
            if d < inner {
                per_depth[d].push(n as NodeId);
                continue;
            }
            if is_fused(n) {
                continue;
            }
            let dst = n_slots;
            n_slots += 1;
            let g = guard[n].unwrap_or(None);
            let instr = match &ir.nodes[n] {
                Node::Index(v) => RowInstr::Index { dst, var: *v },
                Node::Array { array, vars } => RowInstr::Array { dst, array: *array, vars: vars.clone() },
                Node::VecRead { vec, .. } => RowInstr::VecRead { dst, vec: *vec },
                Node::Unary(op, a) => {
                    let guard = if op.is_expensive() {
                        g.and_then(|f| row_guard(f, n, row_slot, &depth_of, inner))
                    } else {
                        None
                    };
                    RowInstr::Un { dst, op: *op, a: row_slot[*a as usize], guard }
                }
                Node::Binary(op, a, b) => {
                    let expensive = matches!(op, Bin::Pow);
                    let guard =
                        if expensive { g.and_then(|f| row_guard(f, n, row_slot, &depth_of, inner)) } else { None };
                    RowInstr::Bin { dst, op: *op, a: opd(*a, row_slot), b: opd(*b, row_slot), guard }
                }
                Node::Select(c, a, b) => {
                    RowInstr::Select { dst, c: opd(*c, row_slot), a: opd(*a, row_slot), b: opd(*b, row_slot) }
                }
                _ => continue,
            };
            row_slot[n] = dst;
            rows.push(instr);
            let guarded =
                matches!(rows.last(), Some(RowInstr::Un { guard: Some(_), .. } | RowInstr::Bin { guard: Some(_), .. }));
            // A guarded row leaves zeros where its filter fails, and the filter may vary by row.
            row_invariant.push(ir.free[n] == bit(loops[inner]) && !guarded);
            row_keepable.push(self.shape_only[n] && !guarded);
        }
        let accs: Vec<PassAcc> = accs
            .into_iter()
            .zip(fused)
            .map(|(a, fused)| {
                let (body, factor) = match fused {
                    Some((x, y)) => (opd(x, row_slot), Some(opd(y, row_slot))),
                    None => (opd(a.body, row_slot), None),
                };
                let filter = a.filter.map(|f| opd(f, row_slot));
                let index = match a.target {
                    Target::VecScatter { index, .. } => Some(opd(index, row_slot)),
                    _ => None,
                };
                PassAcc { acc: a, body, factor, filter, index }
            })
            .collect();
        // The collapsed plan: operands hoisted to the outer loop read from their rows.
        let (collapsed_rows, collapsed_accs) = if loops.len() == 2 {
            let hoisted = &per_depth[0];
            let lift = |o: Opd| match o {
                Opd::Scalar(m) => hoisted.iter().position(|&h| h == m).map_or(o, |e| Opd::Hoisted(e as u32)),
                other => other,
            };
            let rows = rows
                .iter()
                .map(|ins| match ins.clone() {
                    RowInstr::Bin { dst, op, a, b, guard } => RowInstr::Bin { dst, op, a: lift(a), b: lift(b), guard },
                    RowInstr::Select { dst, c, a, b } => RowInstr::Select { dst, c: lift(c), a: lift(a), b: lift(b) },
                    other => other,
                })
                .collect();
            let accs = accs
                .iter()
                .map(|pa| PassAcc {
                    acc: pa.acc.clone(),
                    body: lift(pa.body),
                    factor: pa.factor.map(lift),
                    filter: pa.filter.map(lift),
                    index: pa.index.map(lift),
                })
                .collect();
            (rows, accs)
        } else {
            (Vec::new(), Vec::new())
        };
        let id = stages.iter().map(|s| s.passes.len()).sum();
        Pass {
            id,
            loops,
            per_depth,
            rows,
            row_invariant,
            row_keepable,
            n_slots: n_slots as usize,
            accs,
            collapsed_rows,
            collapsed_accs,
        }
    }
}

/// Per node: whether its value depends only on index values, constants and the source's
/// scalars, not on any array, vector or computed scalar (`abs(i - j)`, `(i - j)^2 / Ng^2`,
/// `i * j`): the same for every matrix with the same grey levels.
fn shape_only_nodes(ir: &Ir) -> Vec<bool> {
    let mut shape_only = Vec::with_capacity(ir.nodes.len());
    for node in &ir.nodes {
        // Operands have lower ids than the nodes that use them.
        let of = |m: &NodeId| shape_only[*m as usize];
        let v = match node {
            Node::Const(_) | Node::SrcScalar(_) | Node::Index(_) => true,
            // A reference differs between cases with the same grey levels.
            Node::Reference(_) => false,
            Node::Array { .. } | Node::VecRead { .. } | Node::ScalarRef(_) => false,
            Node::Unary(_, a) => of(a),
            Node::Binary(_, a, b) => of(a) && of(b),
            Node::Select(c, a, b) => of(c) && of(a) && of(b),
        };
        shape_only.push(v);
    }
    shape_only
}

/// The row slot of filter `f` if it is already computed (in this pass, before node `n`).
fn row_guard(
    f: NodeId,
    n: usize,
    row_slot: &[u32],
    depth_of: &dyn Fn(NodeId) -> Option<usize>,
    inner: usize,
) -> Option<u32> {
    if (f as usize) < n && depth_of(f) == Some(inner) && row_slot[f as usize] != u32::MAX {
        Some(row_slot[f as usize])
    } else {
        None
    }
}
