//! Folding a pass's rows into its accumulators: sums, products, marginals, scatters,
//! max/min/arg reductions, and the fix-ups once the pass is done.

use super::kernels::*;
use super::*;

impl State {
    /// Accumulates a whole block of a collapsed pass (`segments` outer iterations from
    /// `first`, `n` inner indices each) in one call, for the common sums: into a scalar
    /// (optionally of a product), into a marginal along either loop, or scattered. Each
    /// segment is still summed on its own and added in order, so every bit is as when the
    /// pass runs a row at a time; only the dispatch is shared. Returns false, having done
    /// nothing, for any other accumulator (run segment by segment).
    #[inline(always)]
    pub(super) fn accumulate_block(
        &mut self,
        pa: &PassAcc,
        outer: VarId,
        inner: VarId,
        first: usize,
        segments: usize,
        n: usize,
    ) -> bool {
        let AccOp::Reduce(op @ (ReduceOp::Sum | ReduceOp::Count)) = pa.acc.op else { return false };
        let len = segments * n;
        let rl = self.row_len;
        let (rows, hoisted, scal) = (&self.rows, &self.hoisted, &self.scal);
        let view = |o: Opd| -> RowView<'_> {
            match o {
                Opd::Row(r) => RowView::R(&rows[r as usize * rl..r as usize * rl + len]),
                Opd::Scalar(m) => RowView::S(scal[m as usize]),
                Opd::Hoisted(e) => RowView::R(&hoisted[e as usize * rl..e as usize * rl + len]),
            }
        };
        let mask = match pa.filter.map(view) {
            None => None,
            Some(RowView::R(m)) => Some(m),
            Some(RowView::S(c)) if c != 0.0 => None,
            // Nothing passes the filter: the sums stay as they are.
            Some(RowView::S(_)) => return true,
        };
        if op == ReduceOp::Count {
            let Target::Scalar(t) = pa.acc.target else { return false };
            if pa.factor.is_some() {
                return false;
            }
            let out = &mut self.scalars[t as usize];
            for s in 0..segments {
                *out += mask.map(|m| segment_of(m, s, n)).map_or(n as f64, mask_count);
            }
            return true;
        }
        let body = view(pa.body);
        if let Some(factor) = pa.factor {
            let Target::Scalar(t) = pa.acc.target else { return false };
            let out = &mut self.scalars[t as usize];
            match (body, view(factor)) {
                (RowView::R(a), RowView::R(b)) => {
                    for s in 0..segments {
                        *out += dot4(segment_of(a, s, n), segment_of(b, s, n), mask.map(|m| segment_of(m, s, n)));
                    }
                }
                // IEEE multiplication commutes exactly, so the operand order does not matter.
                (RowView::R(a), RowView::S(c)) | (RowView::S(c), RowView::R(a)) => {
                    for s in 0..segments {
                        *out += scaled_sum4(segment_of(a, s, n), c, mask.map(|m| segment_of(m, s, n)));
                    }
                }
                (RowView::S(_), RowView::S(_)) => return false,
            }
            return true;
        }
        let RowView::R(b) = body else { return false };
        match pa.acc.target {
            Target::Scalar(t) => {
                let out = &mut self.scalars[t as usize];
                for s in 0..segments {
                    *out += sum4_where(segment_of(b, s, n), mask.map(|m| segment_of(m, s, n)));
                }
            }
            Target::VecAt { vec, var } if var == outer => {
                let out = &mut self.vecs[vec as usize][first..first + segments];
                for (s, o) in out.iter_mut().enumerate() {
                    *o += sum4_where(segment_of(b, s, n), mask.map(|m| segment_of(m, s, n)));
                }
            }
            Target::VecAt { vec, var } if var == inner => {
                let out = &mut self.vecs[vec as usize][..n];
                for s in 0..segments {
                    add_where(out, segment_of(b, s, n), mask.map(|m| segment_of(m, s, n)));
                }
            }
            Target::VecScatter { vec, lo, .. } => {
                let Some(RowView::R(idx)) = pa.index.map(view) else { return false };
                let lo = self.scal[lo as usize];
                let out = &mut self.vecs[vec as usize];
                // The block's entries in order, segment after segment: the order in which
                // segment-by-segment scattering adds them.
                if !scatter_slots_valid(idx, lo, out.len()) {
                    return false;
                }
                scatter_add_checked(out, idx, lo, b, mask);
            }
            Target::VecAt { .. } => return false,
        }
        true
    }

    /// `sum(x * y)` into a scalar, the product formed in registers (see [`PassAcc::factor`]).
    #[inline(always)]
    pub(super) fn accumulate_product(
        &mut self,
        acc: &Acc,
        x: Opd,
        y: Opd,
        filter: Option<Opd>,
        start: usize,
        n: usize,
    ) {
        let Target::Scalar(s) = acc.target else { return };
        let rl = self.row_len;
        let (rows, hoisted) = (&self.rows, &self.hoisted);
        let view = |o: Opd| -> RowView<'_> {
            match o {
                Opd::Row(r) => RowView::R(&rows[r as usize * rl + start..r as usize * rl + start + n]),
                Opd::Scalar(m) => RowView::S(self.scal[m as usize]),
                Opd::Hoisted(e) => RowView::R(&hoisted[e as usize * rl + start..e as usize * rl + start + n]),
            }
        };
        let mask = match filter.map(view) {
            None => None,
            Some(RowView::R(m)) => Some(m),
            Some(RowView::S(c)) if c != 0.0 => None,
            Some(RowView::S(_)) => return,
        };
        let sum = match (view(x), view(y)) {
            (RowView::R(a), RowView::R(b)) => dot4(a, b, mask),
            // IEEE multiplication commutes exactly, so the operand order does not matter.
            (RowView::R(a), RowView::S(c)) | (RowView::S(c), RowView::R(a)) => scaled_sum4(a, c, mask),
            (RowView::S(a), RowView::S(b)) => sum4_where(&vec![a * b; n], mask),
        };
        self.scalars[s as usize] += sum;
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn accumulate(
        &mut self,
        k: usize,
        acc: &Acc,
        body: Opd,
        filter: Option<Opd>,
        index: Option<Opd>,
        start: usize,
        offset: usize,
        n: usize,
        inner: VarId,
        aux: &mut [(Vec<f64>, Vec<f64>)],
    ) {
        let rl = self.row_len;
        let (rows, hoisted) = (&self.rows, &self.hoisted);
        let row = |o: Opd| -> Result<&[f64], f64> {
            match o {
                Opd::Row(s) => Ok(&rows[s as usize * rl + start..s as usize * rl + start + n]),
                Opd::Scalar(m) => Err(self.scal[m as usize]),
                Opd::Hoisted(e) => Ok(&hoisted[e as usize * rl + start..e as usize * rl + start + n]),
            }
        };
        let b = row(body);
        let f = filter.map(row);
        // Fast path: scalar sum / count over the row with four partial sums.
        if let (Target::Scalar(s), AccOp::Reduce(op @ (ReduceOp::Sum | ReduceOp::Count | ReduceOp::Mean))) =
            (&acc.target, acc.op)
            && let Ok(b) = b
        {
            let (sum, cnt) = match f {
                None => (sum4(b), n as f64),
                Some(Ok(m)) if op == ReduceOp::Sum => (masked_sum4(b, m), 0.0),
                Some(Ok(m)) => (masked_sum4(b, m), mask_count(m)),
                Some(Err(c)) => {
                    if c != 0.0 {
                        (sum4(b), n as f64)
                    } else {
                        (0.0, 0.0)
                    }
                }
            };
            match op {
                ReduceOp::Count => self.scalars[*s as usize] += cnt,
                ReduceOp::Mean => {
                    self.scalars[*s as usize] += sum;
                    aux[k].0[0] += cnt;
                }
                _ => self.scalars[*s as usize] += sum,
            }
            return;
        }
        // Fast paths for sums into vectors (marginals, scatter) and for scalar max/min.
        if let (AccOp::Reduce(ReduceOp::Sum), Ok(b)) = (acc.op, b) {
            let mask = match f {
                None => None,
                Some(Ok(m)) => Some(m),
                Some(Err(c)) if c != 0.0 => None,
                Some(Err(_)) => return,
            };
            match acc.target {
                Target::VecAt { vec, var } if var != inner => {
                    let slot = self.pos[var as usize];
                    self.vecs[vec as usize][slot] += sum4_where(b, mask);
                    return;
                }
                Target::VecAt { vec, .. } => {
                    add_where(&mut self.vecs[vec as usize][offset..offset + n], b, mask);
                    return;
                }
                Target::VecScatter { vec, lo, .. } => {
                    let lo = self.scal[lo as usize];
                    let out = &mut self.vecs[vec as usize];
                    let len = out.len() as u64;
                    let idx: &[f64] = match index.map(&row) {
                        Some(Ok(r)) => r,
                        _ => &[],
                    };
                    if idx.len() == n && scatter_slots_valid(idx, lo, out.len()) {
                        scatter_add_checked(out, idx, lo, b, mask);
                        return;
                    }
                    if idx.len() == n {
                        for t in 0..n {
                            let x = idx[t] - lo;
                            // `x as i64` is one truncating instruction (`as usize` is several on x86-64);
                            // it converts back to `x` exactly iff `x` is an integer (NaN gives 0 ≠ NaN),
                            // and negative slots wrap to huge `u64`s, so one comparison checks the range.
                            let slot = x as i64;
                            if slot as f64 == x && (slot as u64) < len && mask.is_none_or(|m| m[t] != 0.0) {
                                out[slot as usize] += b[t];
                            }
                        }
                        return;
                    }
                }
                Target::Scalar(_) => {}
            }
        }
        if let (AccOp::Reduce(op @ (ReduceOp::Max | ReduceOp::Min)), Ok(b), None, Target::Scalar(s)) =
            (acc.op, b, &f, &acc.target)
        {
            let o = &mut self.scalars[*s as usize];
            if op == ReduceOp::Max {
                for &v in b {
                    if v > *o {
                        *o = v;
                    }
                }
            } else {
                for &v in b {
                    if v < *o {
                        *o = v;
                    }
                }
            }
            aux[k].0[0] += n as f64;
            return;
        }
        // General path, element by element.
        let arg_vals = acc.arg_var.map(|v| (v, &self.axis_vals[v as usize]));
        let idx_row = index.map(row);
        let lo = match acc.target {
            Target::VecScatter { lo, .. } => self.scal[lo as usize],
            _ => 0.0,
        };
        let (out, fixed_slot): (&mut Vec<f64>, Option<usize>) = match acc.target {
            Target::Scalar(s) => (&mut self.scalars, Some(s as usize)),
            Target::VecAt { vec, var } => {
                let fixed = if var == inner { None } else { Some(self.pos[var as usize]) };
                (&mut self.vecs[vec as usize], fixed)
            }
            Target::VecScatter { vec, .. } => (&mut self.vecs[vec as usize], None),
        };
        let aux_slot_base = match acc.target {
            Target::Scalar(_) => Some(0usize),
            _ => None,
        };
        let len = out.len();
        for t in 0..n {
            if let Some(f) = &f {
                let keep = match f {
                    Ok(m) => m[t] != 0.0,
                    Err(c) => *c != 0.0,
                };
                if !keep {
                    continue;
                }
            }
            let slot = match (&acc.target, fixed_slot) {
                (_, Some(s)) => s,
                (Target::VecScatter { .. }, _) => {
                    let x = match &idx_row {
                        Some(Ok(r)) => r[t],
                        Some(Err(c)) => *c,
                        None => continue,
                    } - lo;
                    if !(x >= 0.0 && x < len as f64 && x == x.floor()) {
                        continue;
                    }
                    x as usize
                }
                _ => offset + t,
            };
            let aux_slot = aux_slot_base.unwrap_or(slot);
            let v = match &b {
                Ok(r) => r[t],
                Err(c) => *c,
            };
            let o = &mut out[slot];
            match acc.op {
                AccOp::Assign => *o = v,
                AccOp::Reduce(ReduceOp::Sum) => *o += v,
                AccOp::Reduce(ReduceOp::Mean) => {
                    *o += v;
                    aux[k].0[aux_slot] += 1.0;
                }
                AccOp::Reduce(ReduceOp::Count) => *o += 1.0,
                AccOp::Reduce(ReduceOp::Prod) => *o *= v,
                AccOp::Reduce(ReduceOp::Max) => {
                    aux[k].0[aux_slot] += 1.0;
                    if v > *o {
                        *o = v;
                    }
                }
                AccOp::Reduce(ReduceOp::Min) => {
                    aux[k].0[aux_slot] += 1.0;
                    if v < *o {
                        *o = v;
                    }
                }
                AccOp::Reduce(ReduceOp::ArgMax) | AccOp::Reduce(ReduceOp::ArgMin) => {
                    aux[k].0[aux_slot] += 1.0;
                    let better = if acc.op == u(ReduceOp::ArgMax) { v > *o } else { v < *o };
                    if better {
                        *o = v;
                        if let Some((var, vals)) = arg_vals {
                            let p = if var == inner { offset + t } else { self.pos[var as usize] };
                            aux[k].1[aux_slot] = vals[p];
                        }
                    }
                }
            }
        }
    }

    /// Final fix-ups: mean = sum / count; empty max/min/arg → NaN; argmax returns the argument.
    pub(super) fn finish(&mut self, pass: &Pass, aux: &mut [(Vec<f64>, Vec<f64>)]) {
        for (k, PassAcc { acc, .. }) in pass.accs.iter().enumerate() {
            let AccOp::Reduce(op) = acc.op else { continue };
            if matches!(op, ReduceOp::Sum | ReduceOp::Count | ReduceOp::Prod) {
                continue;
            }
            let out: &mut [f64] = match acc.target {
                Target::Scalar(s) => std::slice::from_mut(&mut self.scalars[s as usize]),
                Target::VecAt { vec, .. } | Target::VecScatter { vec, .. } => &mut self.vecs[vec as usize],
            };
            for (slot, o) in out.iter_mut().enumerate() {
                let count = aux[k].0[slot];
                *o = match op {
                    ReduceOp::Mean => *o / count,
                    _ if count == 0.0 => f64::NAN,
                    ReduceOp::ArgMax | ReduceOp::ArgMin => aux[k].1[slot],
                    _ => *o,
                };
            }
        }
    }
}
