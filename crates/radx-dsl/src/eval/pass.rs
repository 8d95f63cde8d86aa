//! Running a pass: the loop nest, its hoisted scalars, and the row operations.

use super::kernels::*;
use super::*;

impl State {
    /// Puts the state where a fresh one would start for a family with this IR.
    pub(super) fn reset(&mut self, ir: &Ir) {
        self.scal.clear();
        self.scal.resize(ir.nodes.len(), 0.0);
        self.scalars.clear();
        self.scalars.resize(ir.scalars.len(), f64::NAN);
        self.vecs.resize_with(ir.vecs.len(), Vec::new);
        self.vecs.iter_mut().for_each(Vec::clear);
        // An empty axis means "not computed yet" (ranges depend on this evaluation's data).
        self.axis_vals.resize_with(ir.vars.len(), Vec::new);
        self.axis_vals.iter_mut().for_each(Vec::clear);
        self.pos.clear();
        self.pos.resize(ir.vars.len(), 0);
        self.row_len = 0;
        self.sorted = SortedCache::default();
    }

    /// How many `f64`s the buffers hold on to.
    pub(super) fn retained_f64s(&self) -> usize {
        let nested = |v: &Vec<Vec<f64>>| v.iter().map(Vec::capacity).sum::<usize>();
        let aux: usize = self.aux.iter().map(|(a, b)| a.capacity() + b.capacity()).sum();
        self.scal.capacity()
            + self.scalars.capacity()
            + nested(&self.vecs)
            + nested(&self.axis_vals)
            + self.rows.capacity()
            + self.hoisted.capacity()
            + self.kept.iter().map(|k| k.rows.capacity()).sum::<usize>()
            + aux
    }

    /// Value of a node from scalars and the current loop positions.
    pub(super) fn scalar_node(&self, ir: &Ir, bound: &Bound<'_>, n: NodeId) -> f64 {
        let s = |m: NodeId| self.scal[m as usize];
        match &ir.nodes[n as usize] {
            Node::Const(b) => f64::from_bits(*b),
            Node::SrcScalar(k) => bound.scalars[*k as usize],
            Node::Reference(k) => bound.refs.get(*k as usize).copied().unwrap_or(f64::NAN),
            Node::Index(v) => self.axis_vals[*v as usize].get(self.pos[*v as usize]).copied().unwrap_or(f64::NAN),
            Node::Array { array, vars } => {
                let (data, strides) = &bound.arrays[*array as usize];
                let off: usize = vars.iter().zip(strides.iter()).map(|(v, st)| self.pos[*v as usize] * st).sum();
                data[off]
            }
            Node::VecRead { vec, at } => self.vecs[*vec as usize][self.pos[*at as usize]],
            Node::ScalarRef(k) => self.scalars[*k as usize],
            Node::Unary(op, a) => op.apply(s(*a)),
            Node::Binary(op, a, b) => op.apply(s(*a), s(*b)),
            Node::Select(c, a, b) => {
                if s(*c) != 0.0 {
                    s(*a)
                } else {
                    s(*b)
                }
            }
        }
    }

    /// Runs one pass with the row kernels compiled for the widest vector instructions the
    /// CPU has: the portable build targets SSE2, whose two-lane operations cap the throughput
    /// of every row operation, accumulation and division. Only the instruction set differs:
    /// each operation and the order of every sum are the same, so results are bit-identical
    /// (see the test `wide_kernels_equal_portable_kernels`).
    pub(super) fn run_pass(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let widest = self.kernels == Kernels::Widest;
            if widest && has!("avx512f") {
                // SAFETY: `run_pass_avx512` only requires AVX-512F, which the CPU has.
                unsafe { self.run_pass_avx512(ir, bound, pass) };
                return;
            }
            if (widest || self.kernels == Kernels::Avx2) && has!("avx2") {
                // SAFETY: `run_pass_avx2` only requires AVX2, which the CPU has.
                unsafe { self.run_pass_avx2(ir, bound, pass) };
                return;
            }
        }
        self.run_pass_body(ir, bound, pass);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn run_pass_avx512(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        self.run_pass_body(ir, bound, pass);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_pass_avx2(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        self.run_pass_body(ir, bound, pass);
    }

    /// The pass itself; always inlined (as are the row kernels below it) so that each caller
    /// above compiles it for its own instruction set.
    #[inline(always)]
    fn run_pass_body(&mut self, ir: &Ir, bound: &Bound<'_>, pass: &Pass) {
        // Axis values of the loop variables (ranges are known by now).
        for &v in &pass.loops {
            self.var_len(ir, bound, v);
        }
        let mut lens = std::mem::take(&mut self.lens);
        lens.clear();
        lens.extend(pass.loops.iter().map(|v| self.axis_vals[*v as usize].len()));
        // Initialise targets.
        for PassAcc { acc, .. } in &pass.accs {
            let init = match acc.op {
                AccOp::Reduce(ReduceOp::Prod) => 1.0,
                AccOp::Reduce(ReduceOp::Max | ReduceOp::ArgMax) => f64::NEG_INFINITY,
                AccOp::Reduce(ReduceOp::Min | ReduceOp::ArgMin) => f64::INFINITY,
                AccOp::Assign => f64::NAN,
                _ => 0.0,
            };
            match acc.target {
                Target::Scalar(s) => self.scalars[s as usize] = init,
                Target::VecAt { vec, var } => {
                    let n = self.var_len(ir, bound, var);
                    let v = &mut self.vecs[vec as usize];
                    v.clear();
                    v.resize(n, init);
                }
                Target::VecScatter { vec, .. } => {
                    let n = self.var_len(ir, bound, ir.vec_var(vec));
                    let v = &mut self.vecs[vec as usize];
                    v.clear();
                    v.resize(n, init);
                }
            }
        }
        // Auxiliary per-slot state: counts (mean, empty → NaN) and arg values.
        let mut aux = std::mem::take(&mut self.aux);
        aux.resize_with(pass.accs.len().max(aux.len()), Default::default);
        for (PassAcc { acc, .. }, (counts, args)) in pass.accs.iter().zip(aux.iter_mut()) {
            // Only mean, max, min and the arg reductions read it (sum, count, prod and
            // assign do not): those get empty vectors.
            let n = if matches!(acc.op, AccOp::Assign | AccOp::Reduce(ReduceOp::Sum | ReduceOp::Count | ReduceOp::Prod))
            {
                0
            } else {
                match acc.target {
                    Target::Scalar(_) => 1,
                    Target::VecAt { vec, .. } | Target::VecScatter { vec, .. } => self.vecs[vec as usize].len(),
                }
            };
            counts.clear();
            counts.resize(n, 0.0);
            args.clear();
            args.resize(n, f64::NAN);
        }
        let inner_len = *lens.last().unwrap_or(&0);
        if !self.row_at_a_time && pass.loops.len() == 2 && !lens.contains(&0) && 2 * inner_len <= COLLAPSED_ROW {
            self.run_pass_collapsed(ir, bound, pass, lens[0], inner_len, &mut aux);
            self.finish(pass, &mut aux);
            self.lens = lens;
            self.aux = aux;
            return;
        }
        // A long innermost loop (a 1-D source over every ROI voxel) is processed in blocks of
        // ROW_BLOCK: the row arena stays a few hundred kB, in cache, instead of one row per
        // slot of the whole length (17 MB for 200 000 voxels, touched afresh each pass).
        let block = inner_len.min(ROW_BLOCK);
        let blocked = block < inner_len;
        self.row_len = block;
        self.size_rows(pass.n_slots * block);
        if lens.contains(&0) {
            self.finish(pass, &mut aux);
            self.lens = lens;
            self.aux = aux;
            return;
        }
        let depth = pass.loops.len();
        // Odometer over the outer loops; the innermost loop is processed a row at a time.
        let mut idx = std::mem::take(&mut self.odometer);
        idx.clear();
        idx.resize(depth, 0);
        let mut d = 0;
        let mut first_row = true;
        loop {
            // Entering depth `d` with idx[d] set: evaluate the nodes hoisted to this depth.
            if d + 1 < depth {
                self.pos[pass.loops[d] as usize] = idx[d];
                for &n in &pass.per_depth[d] {
                    self.scal[n as usize] = self.scalar_node(ir, bound, n);
                }
                d += 1;
                idx[d] = 0;
                continue;
            }
            // Rows that depend on the inner index only are kept from the first row, unless the
            // row is split into blocks (each block holds other indices).
            let mut offset = 0;
            while offset < inner_len {
                let n = block.min(inner_len - offset);
                self.run_row(bound, pass, first_row || blocked, offset, n, &mut aux);
                offset += n;
            }
            first_row = false;
            // Advance the odometer.
            loop {
                if d == 0 {
                    self.finish(pass, &mut aux);
                    self.lens = lens;
                    self.aux = aux;
                    self.odometer = idx;
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < lens[d] {
                    break;
                }
            }
        }
    }

    /// Makes the row arena at least `len` long. Its old contents are kept, not cleared: every
    /// entry a pass reads was written by that pass (masked-out entries of a guarded row are
    /// never read unmasked, so whatever they hold drops out). Debug builds fill the arena
    /// with NaN instead, so that any read of an unwritten entry shows in the tests.
    pub(super) fn size_rows(&mut self, len: usize) {
        if cfg!(debug_assertions) {
            self.rows.clear();
            self.rows.resize(len, f64::NAN);
        } else if self.rows.len() < len {
            self.rows.resize(len, 0.0);
        }
    }

    pub(super) fn var_len(&mut self, ir: &Ir, bound: &Bound<'_>, var: VarId) -> usize {
        if self.axis_vals[var as usize].is_empty() {
            let mut vals = std::mem::take(&mut self.axis_vals[var as usize]);
            axis_values_into(ir, bound, var, &|n| self.scal[n as usize], &mut vals);
            self.axis_vals[var as usize] = vals;
        }
        self.axis_vals[var as usize].len()
    }

    #[inline(always)]
    fn run_row(
        &mut self,
        bound: &Bound<'_>,
        pass: &Pass,
        first_row: bool,
        offset: usize,
        n: usize,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let inner = *pass.loops.last().expect("passes have loops");
        self.compute_rows(bound, pass, first_row, false, offset, n, None);
        for (k, pa) in pass.accs.iter().enumerate() {
            if let Some(factor) = pa.factor {
                self.accumulate_product(&pa.acc, pa.body, factor, pa.filter, 0, n);
                continue;
            }
            self.accumulate(k, &pa.acc, pa.body, pa.filter, pa.index, 0, offset, n, inner, aux);
        }
    }

    /// A pass over two loops with a short inner loop, `outer_len × inner_len` iterations,
    /// run in blocks of outer iterations: each row holds a block, one segment of `inner_len`
    /// values per outer iteration, and values hoisted to the outer loop become rows of their
    /// own (`Opd::Hoisted`). Every value and every sum is the same, in the same order, as
    /// running the pass a row at a time: only the dispatching of row operations is shared.
    #[inline(always)]
    fn run_pass_collapsed(
        &mut self,
        ir: &Ir,
        bound: &Bound<'_>,
        pass: &Pass,
        outer_len: usize,
        inner_len: usize,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let (outer, inner) = (pass.loops[0], pass.loops[1]);
        let hoisted = &pass.per_depth[0];
        let per_block = (COLLAPSED_ROW / inner_len).min(outer_len);
        let block = per_block * inner_len;
        self.row_len = block;
        let keep = per_block == outer_len && !self.no_kept_rows && pass.row_keepable.contains(&true);
        let reuse = keep && self.take_kept_rows(bound, pass, pass.n_slots * block);
        if !reuse {
            self.size_rows(pass.n_slots * block);
        }
        self.hoisted.clear();
        self.hoisted.resize(hoisted.len() * block, 0.0);
        let mut first = 0;
        while first < outer_len {
            let segments = per_block.min(outer_len - first);
            for s in 0..segments {
                self.pos[outer as usize] = first + s;
                for (e, &m) in hoisted.iter().enumerate() {
                    let v = self.scalar_node(ir, bound, m);
                    self.scal[m as usize] = v;
                    let at = e * block + s * inner_len;
                    self.hoisted[at..at + inner_len].fill(v);
                }
            }
            self.compute_rows(bound, pass, first == 0, reuse, 0, inner_len, Some((first, segments)));
            let mut by_segment = std::mem::take(&mut self.by_segment);
            by_segment.clear();
            for (k, pa) in pass.collapsed_accs.iter().enumerate() {
                if !self.accumulate_block(pa, outer, inner, first, segments, inner_len) {
                    by_segment.push(k);
                }
            }
            for s in 0..segments {
                self.pos[outer as usize] = first + s;
                let start = s * inner_len;
                for &k in &by_segment {
                    let pa = &pass.collapsed_accs[k];
                    if let Some(factor) = pa.factor {
                        self.accumulate_product(&pa.acc, pa.body, factor, pa.filter, start, inner_len);
                        continue;
                    }
                    self.accumulate(k, &pa.acc, pa.body, pa.filter, pa.index, start, 0, inner_len, inner, aux);
                }
            }
            self.by_segment = by_segment;
            first += segments;
        }
        if keep {
            std::mem::swap(&mut self.rows, &mut self.kept[pass.id].rows);
        }
    }

    /// Swaps in the row arena `pass` left at its last one-block run, with that run's key
    /// (`true`) or, if the key differs, made ready to be computed afresh and keyed anew
    /// (`false`). The caller swaps it back out when the pass is done.
    fn take_kept_rows(&mut self, bound: &Bound<'_>, pass: &Pass, len: usize) -> bool {
        if self.kept.len() <= pass.id {
            self.kept.resize_with(pass.id + 1, KeptRows::default);
        }
        let kept = &mut self.kept[pass.id];
        let axes = || pass.loops.iter().map(|v| self.axis_vals[*v as usize].as_slice());
        // The key: each loop's length and values, then the source's scalars, as bits.
        let mut rest = Some(kept.key.as_slice()).filter(|_| kept.rows.len() >= len);
        for values in axes() {
            let len_then = rest.and_then(<[u64]>::split_first).filter(|(n, _)| **n == values.len() as u64);
            rest = len_then.and_then(|(_, key)| strip_bits(key, values));
        }
        let same = rest.and_then(|key| strip_bits(key, &bound.scalars)).is_some_and(<[u64]>::is_empty);
        if !same {
            kept.key.clear();
            for values in axes() {
                kept.key.push(values.len() as u64);
                kept.key.extend(values.iter().map(|x| x.to_bits()));
            }
            kept.key.extend(bound.scalars.iter().map(|x| x.to_bits()));
        }
        std::mem::swap(&mut self.rows, &mut kept.rows);
        same
    }
}

/// What follows `values`' bits at the front of `key`, if they are there.
fn strip_bits<'k>(key: &'k [u64], values: &[f64]) -> Option<&'k [u64]> {
    let (head, rest) = key.split_at_checked(values.len())?;
    values.iter().zip(head).all(|(x, k)| x.to_bits() == *k).then_some(rest)
}

impl State {
    /// The row operations of `pass` over `n` inner indices from `offset`; in a collapsed pass
    /// (`segments` = (first outer iteration, count)), over that many segments of `n` from
    /// the inner loop's start, one per outer iteration. With `kept`, the keepable rows
    /// already hold their values (see [`KeptRows`]) and are skipped.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn compute_rows(
        &mut self,
        bound: &Bound<'_>,
        pass: &Pass,
        first_row: bool,
        kept: bool,
        offset: usize,
        n: usize,
        segments: Option<(usize, usize)>,
    ) {
        let inner = *pass.loops.last().expect("passes have loops");
        let outer = pass.loops.first().copied().filter(|_| segments.is_some());
        let (first_outer, count) = segments.unwrap_or((0, 1));
        let len = n * count;
        let rl = self.row_len;
        // A collapsed run reads the plan whose hoisted operands are rows.
        let instructions = if segments.is_some() { &pass.collapsed_rows } else { &pass.rows };
        // Operands always live in lower slots than their result (slots follow node ids), so
        // splitting the arena at the destination gives disjoint read and write views.
        for ((ins, &invariant), &keepable) in instructions.iter().zip(&pass.row_invariant).zip(&pass.row_keepable) {
            // Slots are written by their instruction only, so an invariant row still holds
            // the value computed at the pass's first row (in a collapsed pass, the first
            // block's: the same inner values, segment after segment).
            if (invariant && !first_row) || (kept && keepable) {
                continue;
            }
            let dst = match ins {
                RowInstr::Index { dst, .. }
                | RowInstr::Array { dst, .. }
                | RowInstr::VecRead { dst, .. }
                | RowInstr::Un { dst, .. }
                | RowInstr::Bin { dst, .. }
                | RowInstr::Select { dst, .. } => *dst as usize,
            };
            let (lo, hi) = self.rows.split_at_mut(dst * rl);
            let out = &mut hi[..len];
            let scal = &self.scal;
            let lifted = &self.hoisted;
            let view = |o: Opd| -> RowView<'_> {
                match o {
                    Opd::Row(s) => RowView::R(&lo[s as usize * rl..s as usize * rl + len]),
                    Opd::Scalar(m) => RowView::S(scal[m as usize]),
                    Opd::Hoisted(e) => RowView::R(&lifted[e as usize * rl..e as usize * rl + len]),
                }
            };
            match ins {
                RowInstr::Index { var, .. } => {
                    let values = &self.axis_vals[*var as usize][offset..offset + n];
                    out.chunks_exact_mut(n).for_each(|segment| segment.copy_from_slice(values));
                }
                RowInstr::Array { array, vars, .. } => {
                    let (data, strides) = &bound.arrays[*array as usize];
                    let mut base = 0;
                    let mut step = 0;
                    let mut outer_step = 0;
                    for (v, st) in vars.iter().zip(strides.iter()) {
                        if *v == inner {
                            step += st;
                        } else if Some(*v) == outer {
                            outer_step += st;
                        } else {
                            base += self.pos[*v as usize] * st;
                        }
                    }
                    base += offset * step;
                    for (s, segment) in out.chunks_exact_mut(n).enumerate() {
                        let base = base + (first_outer + s) * outer_step;
                        if step == 1 {
                            segment.copy_from_slice(&data[base..base + n]);
                        } else {
                            for (t, o) in segment.iter_mut().enumerate() {
                                *o = data[base + t * step];
                            }
                        }
                    }
                }
                RowInstr::VecRead { vec, .. } => {
                    let values = &self.vecs[*vec as usize][offset..offset + n];
                    out.chunks_exact_mut(n).for_each(|segment| segment.copy_from_slice(values));
                }
                RowInstr::Un { op, a, guard, .. } => {
                    let src = &lo[*a as usize * rl..*a as usize * rl + len];
                    let mask = guard.map(|g| &lo[g as usize * rl..g as usize * rl + len]);
                    un_row(*op, src, out, mask);
                }
                RowInstr::Bin { op, a, b, guard, .. } => {
                    let mask = guard.map(|g| &lo[g as usize * rl..g as usize * rl + len]);
                    bin_row(*op, view(*a), view(*b), out, mask);
                }
                RowInstr::Select { c, a, b, .. } => {
                    let (c, a, b) = (view(*c), view(*a), view(*b));
                    let at = |r: &RowView<'_>, t: usize| match r {
                        RowView::R(x) => x[t],
                        RowView::S(s) => *s,
                    };
                    for (t, o) in out.iter_mut().enumerate() {
                        *o = if at(&c, t) != 0.0 { at(&a, t) } else { at(&b, t) };
                    }
                }
            }
        }
    }
}
