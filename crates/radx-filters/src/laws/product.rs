//! A separable product filter: along each kernel axis a cascade of 1-D kernels, optionally
//! filtered in every right-handed orientation and pooled, optionally turned into an energy
//! map. Laws, user-defined separable kernels and separable wavelets are all this, so the
//! orientation, pooling and energy code exists once.
//!
//! Rotating the product by an orientation gives output axis a the cascade of original axis
//! `source[a]`, each kernel mirrored when `reversed[a]` (the whole cascade turns, which a
//! wavelet's low-pass pre-filters need: FILTERS.md §5). Passes along different axes commute,
//! so orientations whose leading passes agree share them: the orientations are ordered by
//! their passes and the intermediate maps of the previous orientation are reused.

use ndarray::{Array3, ArrayView3, Axis, Slice};

use crate::error::FilterError;
use crate::rotation::{Orientation, Pooling, orientations, pool_orientations};
use crate::separable::{Kernel1d, convolve_axis, convolve_separable};
use crate::{Boundary, Dimensionality, Margin};

/// A filter whose kernel is a product of per-axis 1-D cascades.
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableProduct {
    /// For each kernel axis (i, j, then k for a 3-D kernel): the 1-D kernels applied in
    /// turn along it. Two cascades filter each axial slice on its own.
    pub cascades: Vec<Vec<Kernel1d>>,
    /// Pooling over the right-handed orientations, or `None` for the kernel as written.
    pub rotation: Option<Pooling>,
    /// δ of the energy map (mean |response| over a (2δ+1)^D box), computed after pooling.
    pub energy_delta: Option<usize>,
    /// Keep every other sample after each kernel (a Mallat cascade), then repeat each
    /// coefficient over its 2^stages block to come back to the input grid.
    pub decimated: bool,
    /// The boundary condition of every pass.
    pub boundary: Boundary,
}

/// One axis's passes: the axis and the cascade along it.
type Pass = (usize, Vec<Kernel1d>);

/// One orientation's passes, in sweep order.
type Plan = Vec<Pass>;

impl SeparableProduct {
    /// Slice-wise for two cascades, volumetric for three.
    pub fn dimensionality(&self) -> Dimensionality {
        if self.cascades.len() == 2 { Dimensionality::TwoD } else { Dimensionality::ThreeD }
    }

    /// The image-type suffix: `[_energy{δ}][_rotmax|_rotmean]`.
    pub fn suffix(&self) -> String {
        let energy = self.energy_delta.map_or(String::new(), |d| format!("_energy{d}"));
        let rotation = self.rotation.map_or(String::new(), |p| format!("_{}", p.token()));
        energy + &rotation
    }

    fn orientations(&self) -> Vec<Orientation> {
        match self.rotation {
            Some(_) => orientations(self.dimensionality()),
            None => vec![Orientation::IDENTITY],
        }
    }

    /// The passes of one orientation, sweeping the kernel axes last (k) to first (i).
    fn plan(&self, o: &Orientation) -> Plan {
        let turn = |k: &Kernel1d, reversed| if reversed { k.reversed() } else { k.clone() };
        let axes = self.dimensionality().axes();
        axes.iter()
            .rev()
            .map(|&a| (a, self.cascades[o.source[a]].iter().map(|k| turn(k, o.reversed[a])).collect()))
            .collect()
    }

    /// How far the response reads along i, j, k: the cascade's reaches summed, the widest
    /// orientation, plus the energy box. A decimated cascade's sampling phase depends on
    /// where the image starts, so a crop is not filtered like the whole image.
    pub fn margin(&self) -> Margin {
        if self.decimated || self.boundary.reads_far_side() {
            return Margin::WholeImage;
        }
        let mut margin = [0; 3];
        for o in self.orientations() {
            for (axis, cascade) in self.plan(&o) {
                let reach: usize = cascade.iter().map(Kernel1d::radius).sum();
                margin[axis] = margin[axis].max(reach + self.energy_delta.unwrap_or(0));
            }
        }
        Margin::Voxels(margin)
    }

    /// The image-sized `f64` volumes [`SeparableProduct::apply`] holds at its peak, the
    /// response included (decimated passes hold smaller ones; each is counted whole). An
    /// axis's cascade holds its last output and the next (one volume for a single kernel);
    /// without rotation the previous axis's output is held beside it. Rotated, the pooled
    /// map, the pass cache (one map per axis) and the cache's copy of the last are held at
    /// once, or, while a pass runs, the pooled map, the earlier passes and the running
    /// axis's. The energy map's mean filter holds the response and two passes.
    pub fn working_volumes(&self) -> u64 {
        let axes = self.cascades.len() as u64;
        let in_axis = if self.cascades.iter().any(|c| c.len() > 1) { 2 } else { 1 };
        let response = match self.rotation {
            None if axes > 1 => 1 + in_axis,
            None => in_axis,
            Some(_) => (1 + axes + 1).max(1 + (axes - 1) + in_axis),
        };
        let energy = if self.energy_delta.is_some() { 3 } else { 0 };
        response.max(energy)
    }

    /// The response map: every orientation filtered and pooled, then the energy map.
    pub fn apply(&self, image: ArrayView3<'_, f64>) -> Result<Array3<f64>, FilterError> {
        let response = match self.rotation {
            None => self.run(image, &self.plan(&Orientation::IDENTITY)),
            Some(pooling) => {
                let ordered = self.sharing_order();
                let mut cache = PassCache::default();
                pool_orientations(&ordered, pooling, |o| Ok(cache.respond(self, image, self.plan(o))))?
            }
        };
        Ok(match self.energy_delta {
            Some(delta) => self.energy(response, delta),
            None => response,
        })
    }

    /// The orientations ordered so that those sharing their leading passes are adjacent.
    fn sharing_order(&self) -> Vec<Orientation> {
        let all = self.orientations();
        let plans: Vec<Plan> = all.iter().map(|o| self.plan(o)).collect();
        // Number each distinct plan prefix by its first appearance, then sort on the numbers.
        let key = |p: &Plan| -> Vec<usize> {
            (1..=p.len()).map(|n| plans.iter().position(|q| q[..n] == p[..n]).expect("p is in plans")).collect()
        };
        let mut keyed: Vec<(Vec<usize>, Orientation)> = plans.iter().map(key).zip(all).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.into_iter().map(|(_, o)| o).collect()
    }

    /// All passes of one plan.
    fn run(&self, image: ArrayView3<'_, f64>, plan: &Plan) -> Array3<f64> {
        let (first, rest) = plan.split_first().expect("a kernel spans at least one axis");
        let mut current = self.run_axis(image, first.0, &first.1);
        for (axis, cascade) in rest {
            current = self.run_axis(current.view(), *axis, cascade);
        }
        current
    }

    /// One axis's cascade, decimating after each kernel and coming back to the input grid
    /// at the end when the product is decimated.
    fn run_axis(&self, image: ArrayView3<'_, f64>, axis: usize, cascade: &[Kernel1d]) -> Array3<f64> {
        let len = image.len_of(Axis(axis));
        let mut current: Option<Array3<f64>> = None;
        for kernel in cascade {
            let input = current.as_ref().map_or(image, |c| c.view());
            let mut next = convolve_axis(input, axis, kernel, self.boundary);
            if self.decimated {
                next = next.slice_axis(Axis(axis), Slice::new(0, None, 2)).to_owned();
            }
            current = Some(next);
        }
        let current = current.expect("a cascade has at least one kernel");
        if !self.decimated {
            return current;
        }
        // Coefficient m of a cascade of s stages stands for input voxels m·2^s … (m+1)·2^s − 1.
        let stages = cascade.len();
        let source: Vec<usize> = (0..len).map(|n| n >> stages).collect();
        current.select(Axis(axis), &source)
    }

    /// Mean |x| over the (2δ+1)^D box, with the filter's boundary condition.
    fn energy(&self, mut response: Array3<f64>, delta: usize) -> Array3<f64> {
        response.mapv_inplace(f64::abs);
        let size = 2 * delta + 1;
        let mean = Kernel1d::centred(vec![1.0 / size as f64; size]);
        let passes: Vec<(usize, Kernel1d)> =
            self.dimensionality().axes().iter().rev().map(|&a| (a, mean.clone())).collect();
        convolve_separable(response.view(), &passes, self.boundary)
    }
}

/// The intermediate maps of the last orientation filtered: entry n is the image after the
/// first n+1 passes of that orientation's plan.
#[derive(Default)]
struct PassCache {
    stages: Vec<(Pass, Array3<f64>)>,
}

impl PassCache {
    /// The response of `plan`, reusing the passes it shares with the previous plan.
    fn respond(&mut self, product: &SeparableProduct, image: ArrayView3<'_, f64>, plan: Plan) -> Array3<f64> {
        let shared = self.stages.iter().zip(&plan).take_while(|((pass, _), p)| pass == *p).count();
        self.stages.truncate(shared);
        for pass in plan.into_iter().skip(shared) {
            let input = self.stages.last().map_or(image, |(_, map)| map.view());
            let output = product.run_axis(input, pass.0, &pass.1);
            self.stages.push((pass, output));
        }
        self.stages.last().expect("a plan has at least one pass").1.clone()
    }
}
