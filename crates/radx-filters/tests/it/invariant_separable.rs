//! Invariants of the separable filters (mean, LoG, Laws, wavelets, custom kernels) on small
//! random volumes: linearity, the DC response, agreement with a naive 3-D convolution over
//! the padded image written here from the kernels' definitions, crop independence within
//! the declared margin, and rotation invariance of the pooled responses.

use ndarray::{Array3, ArrayView3, Axis};
use proptest::prelude::*;
use radx_filters::custom::SeparableKernelFilter;
use radx_filters::laws::LawsFilter;
use radx_filters::log::{DEFAULT_TRUNCATE, LaplacianOfGaussian};
use radx_filters::mean::MeanFilter;
use radx_filters::rotation::{Pooling, orientations};
use radx_filters::wavelet::SeparableWavelet;
use radx_filters::{Boundary, Dimensionality, Filter, Margin};

/// A 1-D kernel as this test writes it: y[n] = Σ_t taps[t]·x[n + step·(offset − t)].
#[derive(Clone, Debug)]
struct Taps {
    taps: Vec<f64>,
    offset: isize,
    step: isize,
}

impl Taps {
    fn centred(taps: Vec<f64>) -> Self {
        let offset = taps.len() as isize / 2;
        Taps { taps, offset, step: 1 }
    }
}

/// A 3-D kernel as (displacement read, weight): y[n] = Σ w·x[n + d].
type Kernel3 = Vec<([isize; 3], f64)>;

/// The outer product of one 1-D kernel per axis (a missing axis: the identity).
fn outer(axes: &[Taps]) -> Kernel3 {
    let identity = Taps::centred(vec![1.0]);
    let along = |a: usize| axes.get(a).unwrap_or(&identity);
    let reads = |t: &Taps| -> Vec<(isize, f64)> {
        t.taps.iter().enumerate().map(|(n, &w)| (t.step * (t.offset - n as isize), w)).collect()
    };
    let mut kernel = Vec::new();
    for (di, wi) in reads(along(0)) {
        for (dj, wj) in reads(along(1)) {
            for (dk, wk) in reads(along(2)) {
                kernel.push(([di, dj, dk], wi * wj * wk));
            }
        }
    }
    kernel
}

/// The plain convolution over the image extended by `boundary` along every axis.
fn naive(x: &Array3<f64>, kernel: &Kernel3, boundary: Boundary) -> Array3<f64> {
    let dims = [x.dim().0, x.dim().1, x.dim().2];
    Array3::from_shape_fn(x.dim(), |(i, j, k)| {
        let n = [i as isize, j as isize, k as isize];
        let read = |d: &[isize; 3]| -> Option<[usize; 3]> {
            let mut m = [0; 3];
            for a in 0..3 {
                m[a] = boundary.resolve(n[a] + d[a], dims[a])?;
            }
            Some(m)
        };
        kernel.iter().map(|(d, w)| read(d).map_or(0.0, |m| w * x[m])).sum()
    })
}

const LAWS: [(&str, [f64; 5]); 8] = [
    ("L3", [0.0, 1.0, 2.0, 1.0, 0.0]),
    ("E3", [0.0, -1.0, 0.0, 1.0, 0.0]),
    ("S3", [0.0, -1.0, 2.0, -1.0, 0.0]),
    ("L5", [1.0, 4.0, 6.0, 4.0, 1.0]),
    ("E5", [-1.0, -2.0, 0.0, 2.0, 1.0]),
    ("S5", [-1.0, 0.0, 2.0, 0.0, -1.0]),
    ("W5", [-1.0, 2.0, 0.0, -2.0, 1.0]),
    ("R5", [1.0, -4.0, 6.0, -4.0, 1.0]),
];

fn laws_taps(name: &str) -> Taps {
    let (_, padded) = LAWS.iter().find(|(n, _)| *n == name).unwrap();
    // The 3-tap kernels are written padded with zeros to 5: drop them (same centre).
    let taps: Vec<f64> = if name.ends_with('3') { padded[1..4].to_vec() } else { padded.to_vec() };
    let norm = taps.iter().map(|t| t * t).sum::<f64>().sqrt();
    Taps::centred(taps.iter().map(|t| t / norm).collect())
}

/// Haar and db2 low-pass filters in closed form (db2: (1±√3)/4√2, (3±√3)/4√2).
fn wavelet_low(name: &str) -> Vec<f64> {
    let (r2, r3) = (2f64.sqrt(), 3f64.sqrt());
    match name {
        "haar" => vec![1.0 / r2, 1.0 / r2],
        "db2" => [1.0 - r3, 3.0 - r3, 3.0 + r3, 1.0 + r3].iter().map(|v| v / (4.0 * r2)).collect(),
        _ => unreachable!("the naive wavelets are haar and db2"),
    }
}

fn wavelet_stages(name: &str, subband: &str, level: usize) -> Vec<Kernel3> {
    let low = wavelet_low(name);
    let n = low.len();
    let high: Vec<f64> = (0..n).map(|m| if m % 2 == 0 { -low[n - 1 - m] } else { low[n - 1 - m] }).collect();
    let taps = |t: &Vec<f64>, l: usize| Taps { taps: t.clone(), offset: n as isize / 2, step: 1 << (l - 1) };
    let mut stages: Vec<Kernel3> =
        (1..level).map(|l| outer(&subband.chars().map(|_| taps(&low, l)).collect::<Vec<_>>())).collect();
    let last: Vec<Taps> = subband.chars().map(|c| taps(if c == 'H' { &high } else { &low }, level)).collect();
    stages.push(outer(&last));
    stages
}

/// Σ_d g''_d(k_d)·Π_{e≠d} g_e(k_e), σ per axis in voxels, over each axis's own radius.
fn log_stage(sigma_mm: f64, two_d: bool, spacing: [f64; 3]) -> Kernel3 {
    let axes = if two_d { 2 } else { 3 };
    let sigma: Vec<f64> = (0..axes).map(|a| sigma_mm / spacing[a]).collect();
    let radius: Vec<isize> = sigma.iter().map(|s| (DEFAULT_TRUNCATE * s + 0.5).floor() as isize).collect();
    let g = |t: isize, s: f64| (-(t * t) as f64 / (2.0 * s * s)).exp() / ((2.0 * std::f64::consts::PI).sqrt() * s);
    let r = |a: usize| radius.get(a).copied().unwrap_or(0);
    let mut kernel = Vec::new();
    for di in -r(0)..=r(0) {
        for dj in -r(1)..=r(1) {
            for dk in -r(2)..=r(2) {
                let k = [di, dj, dk];
                let gauss: f64 = (0..axes).map(|a| g(k[a], sigma[a])).product();
                let laplace: f64 =
                    (0..axes).map(|a| (k[a] * k[a]) as f64 / sigma[a].powi(4) - 1.0 / sigma[a].powi(2)).sum();
                kernel.push((k, gauss * laplace));
            }
        }
    }
    kernel
}

#[derive(Clone, Debug)]
enum Spec {
    Mean { support: usize, two_d: bool },
    Log { sigma_mm: f64, two_d: bool },
    Laws { kernel: String, rotation: Option<Pooling>, energy: Option<usize> },
    Wavelet { name: &'static str, subband: String, level: usize, rotation: Option<Pooling> },
    Custom { kernels: Vec<Vec<f64>>, rotation: Option<Pooling>, energy: Option<usize> },
}

impl Spec {
    fn build(&self, boundary: Boundary) -> Box<dyn Filter> {
        let dim = |two_d: bool| if two_d { Dimensionality::TwoD } else { Dimensionality::ThreeD };
        match self.clone() {
            Spec::Mean { support, two_d } => Box::new(MeanFilter::new(support, dim(two_d), boundary).unwrap()),
            Spec::Log { sigma_mm, two_d } => {
                Box::new(LaplacianOfGaussian::new(sigma_mm, DEFAULT_TRUNCATE, dim(two_d), boundary).unwrap())
            }
            Spec::Laws { kernel, rotation, energy } => {
                Box::new(LawsFilter::new(&kernel, rotation, energy, boundary).unwrap())
            }
            Spec::Wavelet { name, subband, level, rotation } => {
                Box::new(SeparableWavelet::new(name, &subband, level, rotation, false, boundary).unwrap())
            }
            Spec::Custom { kernels, rotation, energy } => {
                Box::new(SeparableKernelFilter::new("test", kernels, rotation, energy, boundary).unwrap())
            }
        }
    }

    /// The filter's stages as 3-D kernels (the identity orientation, before any energy map).
    fn stages(&self, spacing: [f64; 3]) -> Vec<Kernel3> {
        match self {
            Spec::Mean { support, two_d } => {
                let box1 = Taps::centred(vec![1.0 / *support as f64; *support]);
                vec![outer(&vec![box1; if *two_d { 2 } else { 3 }])]
            }
            Spec::Log { sigma_mm, two_d } => vec![log_stage(*sigma_mm, *two_d, spacing)],
            Spec::Laws { kernel, .. } => {
                let names: Vec<char> = kernel.chars().collect();
                vec![outer(&names.chunks(2).map(|p| laws_taps(&p.iter().collect::<String>())).collect::<Vec<_>>())]
            }
            Spec::Wavelet { name, subband, level, .. } => wavelet_stages(name, subband, *level),
            Spec::Custom { kernels, .. } => {
                vec![outer(&kernels.iter().map(|k| Taps::centred(k.clone())).collect::<Vec<_>>())]
            }
        }
    }

    /// The response to a constant `c` with a boundary that keeps it constant: the kernel
    /// sums' product (every orientation has the same), its modulus for an energy map.
    fn dc_response(&self, c: f64) -> f64 {
        let gain: f64 = self.stages([1.0; 3]).iter().map(|s| s.iter().map(|(_, w)| w).sum::<f64>()).product();
        if self.energy().is_some() { (c * gain).abs() } else { c * gain }
    }

    fn energy(&self) -> Option<usize> {
        match self {
            Spec::Laws { energy, .. } | Spec::Custom { energy, .. } => *energy,
            _ => None,
        }
    }

    fn rotation(&self) -> Option<Pooling> {
        match self {
            Spec::Laws { rotation, .. } | Spec::Wavelet { rotation, .. } | Spec::Custom { rotation, .. } => *rotation,
            _ => None,
        }
    }

    fn is_linear(&self) -> bool {
        self.energy().is_none() && self.rotation() != Some(Pooling::Max)
    }

    fn two_d(&self) -> bool {
        match self {
            Spec::Mean { two_d, .. } | Spec::Log { two_d, .. } => *two_d,
            Spec::Laws { kernel, .. } => kernel.len() == 4,
            Spec::Wavelet { subband, .. } => subband.len() == 2,
            Spec::Custom { kernels, .. } => kernels.len() == 2,
        }
    }
}

fn pooling() -> impl Strategy<Value = Option<Pooling>> {
    prop_oneof![Just(None), Just(Some(Pooling::Max)), Just(Some(Pooling::Mean))]
}

fn kernel_letters(alphabet: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet), 2..=3).prop_map(|v| v.concat())
}

/// Any spec; `plain` leaves out rotation and energy (the naive convolution has neither).
fn spec(plain: bool, naive_wavelets: bool) -> impl Strategy<Value = Spec> {
    let rotation = if plain { Just(None).boxed() } else { pooling().boxed() };
    let energy = if plain { Just(None).boxed() } else { prop::option::of(0usize..3).boxed() };
    let names: &'static [&'static str] =
        if naive_wavelets { &["haar", "db2"] } else { &["haar", "db2", "coif1", "sym3"] };
    let custom = prop::collection::vec(
        prop::sample::select(vec![1usize, 3, 5]).prop_flat_map(|n| prop::collection::vec(-2.0..2.0f64, n)),
        2..=3,
    );
    prop_oneof![
        (prop::sample::select(vec![1usize, 3, 5]), any::<bool>())
            .prop_map(|(support, two_d)| Spec::Mean { support, two_d }),
        (0.8..2.5f64, any::<bool>()).prop_map(|(sigma_mm, two_d)| Spec::Log { sigma_mm, two_d }),
        (kernel_letters(&["L3", "E3", "S3", "L5", "E5", "S5", "W5", "R5"]), rotation.clone(), energy.clone())
            .prop_map(|(kernel, rotation, energy)| Spec::Laws { kernel, rotation, energy }),
        (prop::sample::select(names), kernel_letters(&["L", "H"]), 1usize..=2, rotation.clone())
            .prop_map(|(name, subband, level, rotation)| Spec::Wavelet { name, subband, level, rotation }),
        (custom, rotation, energy).prop_map(|(kernels, rotation, energy)| Spec::Custom { kernels, rotation, energy }),
    ]
}

fn image() -> impl Strategy<Value = Array3<f64>> {
    (2usize..=9, 2usize..=9, 2usize..=9).prop_flat_map(|(a, b, c)| {
        prop::collection::vec(-100.0..100.0f64, a * b * c)
            .prop_map(move |v| Array3::from_shape_vec((a, b, c), v).unwrap())
    })
}

fn boundary() -> impl Strategy<Value = Boundary> {
    prop::sample::select(vec![Boundary::Zero, Boundary::Nearest, Boundary::Periodic, Boundary::Mirror])
}

fn spacing() -> impl Strategy<Value = [f64; 3]> {
    prop::array::uniform3(prop::sample::select(vec![1.0, 1.5, 2.0]))
}

/// Largest |a − b| over the largest |a| (or 1).
fn relative_gap(a: ArrayView3<'_, f64>, b: ArrayView3<'_, f64>) -> f64 {
    let scale = a.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b.iter()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// The array as seen after rotating it by `o` (output axis a reads input axis source[a]).
fn rotate(x: &Array3<f64>, source: [usize; 3], reversed: [bool; 3]) -> Array3<f64> {
    let mut v = x.view().permuted_axes(source);
    for (a, &r) in reversed.iter().enumerate() {
        if r {
            v.invert_axis(Axis(a));
        }
    }
    v.to_owned()
}

/// The inverse of [`rotate`].
fn unrotate(y: &Array3<f64>, source: [usize; 3], reversed: [bool; 3]) -> Array3<f64> {
    let mut v = y.view();
    for (a, &r) in reversed.iter().enumerate() {
        if r {
            v.invert_axis(Axis(a));
        }
    }
    let mut inverse = [0; 3];
    for a in 0..3 {
        inverse[source[a]] = a;
    }
    v.permuted_axes(inverse).to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn filters_are_linear(spec in spec(false, false).prop_filter("linear", Spec::is_linear),
                          x in image(), b in boundary(), s in spacing(), alpha in -3.0..3.0f64, beta in -3.0..3.0f64) {
        let f = spec.build(b);
        let y = x.mapv(|v| (v * 0.37).sin() * 50.0);
        let mixed = f.apply((&x * alpha + &y * beta).view(), s).unwrap();
        let separate = f.apply(x.view(), s).unwrap() * alpha + f.apply(y.view(), s).unwrap() * beta;
        prop_assert!(relative_gap(mixed.view(), separate.view()) < 1e-10, "{spec:?}");
    }

    #[test]
    fn a_constant_image_gives_the_dc_response(spec in spec(false, true), x in image(), c in -50.0..50.0f64,
            b in prop::sample::select(vec![Boundary::Nearest, Boundary::Periodic, Boundary::Mirror])) {
        let constant = x.mapv(|_| c);
        let y = spec.build(b).apply(constant.view(), [1.0; 3]).unwrap();
        let expected = spec.dc_response(c);
        prop_assert!(y.iter().all(|v| (v - expected).abs() <= 1e-10 * (1.0 + expected.abs())), "{spec:?}: {expected}");
    }

    #[test]
    fn separable_passes_equal_the_naive_3d_convolution(spec in spec(true, true), x in image(), b in boundary(),
                                                       s in spacing()) {
        let fast = spec.build(b).apply(x.view(), s).unwrap();
        let slow = spec.stages(s).iter().fold(x.clone(), |current, stage| naive(&current, stage, b));
        prop_assert!(relative_gap(slow.view(), fast.view()) < 1e-10, "{spec:?}");
    }

    #[test]
    fn a_crop_grown_by_the_margin_is_filtered_like_the_whole_image(
            spec in spec(false, false), x in image(), s in spacing(),
            b in prop::sample::select(vec![Boundary::Zero, Boundary::Nearest, Boundary::Mirror]),
            corner in prop::array::uniform3(0.0..1.0f64), extent in prop::array::uniform3(0.0..1.0f64)) {
        let f = spec.build(b);
        let Margin::Voxels(margin) = f.margin(s) else { panic!("a non-periodic {spec:?} has a finite margin") };
        let dims = [x.dim().0, x.dim().1, x.dim().2];
        let lo: [usize; 3] = [0, 1, 2].map(|a| (corner[a] * dims[a] as f64) as usize);
        let hi: [usize; 3] = [0, 1, 2].map(|a| lo[a] + 1 + (extent[a] * (dims[a] - lo[a]) as f64) as usize % (dims[a] - lo[a]));
        let grown_lo = [0, 1, 2].map(|a| lo[a].saturating_sub(margin[a]));
        let grown_hi = [0, 1, 2].map(|a| (hi[a] + margin[a]).min(dims[a]));
        let crop = x.slice_each_axis(|ax| {
            let a = ax.axis.index();
            ndarray::Slice::from(grown_lo[a]..grown_hi[a])
        });
        let whole = f.apply(x.view(), s).unwrap();
        let part = f.apply(crop, s).unwrap();
        let inside_whole = whole.slice_each_axis(|ax| ndarray::Slice::from(lo[ax.axis.index()]..hi[ax.axis.index()]));
        let inside_part = part.slice_each_axis(|ax| {
            let a = ax.axis.index();
            ndarray::Slice::from(lo[a] - grown_lo[a]..hi[a] - grown_lo[a])
        });
        prop_assert!(relative_gap(inside_whole, inside_part) < 1e-12, "{spec:?} margin {margin:?}");
    }

    #[test]
    fn pooled_responses_turn_with_the_image(spec in spec(false, false).prop_filter("pooled", |s| s.rotation().is_some()),
                                            x in image(), b in boundary(), pick in 0usize..24) {
        let all = orientations(if spec.two_d() { Dimensionality::TwoD } else { Dimensionality::ThreeD });
        let o = all[pick % all.len()];
        let f = spec.build(b);
        let direct = f.apply(x.view(), [1.0; 3]).unwrap();
        let turned = f.apply(rotate(&x, o.source, o.reversed).view(), [1.0; 3]).unwrap();
        let back = unrotate(&turned, o.source, o.reversed);
        prop_assert!(relative_gap(direct.view(), back.view()) < 1e-9, "{spec:?} {o:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// radx's decimated convention: the level-L Mallat coefficient m is the undecimated
    /// response at voxel m·2^L (exact for a periodic image of sizes divisible by 2^L), and
    /// it covers its whole 2^L block.
    #[test]
    fn decimated_coefficients_are_the_undecimated_response_sampled_and_repeated(
            name in prop::sample::select(vec!["haar", "db2", "coif1", "sym4"]), subband in kernel_letters(&["L", "H"]),
            level in 1usize..=2, blocks in prop::array::uniform3(1usize..=3), seed in 0.0..10.0f64) {
        let block = 1 << level;
        let dims = blocks.map(|b| b * block);
        let x = Array3::from_shape_fn((dims[0], dims[1], dims[2]), |(i, j, k)| ((i * 7 + j * 3 + k) as f64 + seed).sin());
        let build = |decimated| SeparableWavelet::new(name, &subband, level, None, decimated, Boundary::Periodic).unwrap();
        let full = build(false).apply(x.view(), [1.0; 3]).unwrap();
        let decimated = build(true).apply(x.view(), [1.0; 3]).unwrap();
        // Slice-wise sub-bands do not decimate along k.
        let along_k = if subband.len() == 3 { block } else { 1 };
        for ((i, j, k), &d) in decimated.indexed_iter() {
            let sampled = full[[i / block * block, j / block * block, k / along_k * along_k]];
            prop_assert!((d - sampled).abs() < 1e-12, "{name} {subband} l{level} at {:?}", (i, j, k));
        }
    }
}
