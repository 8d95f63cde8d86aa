//! The 25 IBSI GLCM features: compiled `features/glcm.radx` versus a hand-written Rust
//! implementation of the same formulas, on 16×16 to 256×256 matrices (≈30% zeros).
//! Run: `cargo bench -p radx-dsl --bench glcm_eval`. The ratio dsl/native is the figure of merit;
//! `dsl_levels_change_x2` times two evaluations whose grey levels differ (nothing kept between them).

use criterion::{Criterion, criterion_group, criterion_main};
use radx_dsl::{NoBuiltins, SourceData, compile};
use std::hint::black_box;
use std::time::Duration;

/// A symmetric co-occurrence count matrix with a deterministic pseudo-random fill.
fn counts(ng: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut c = vec![0.0; ng * ng];
    for i in 0..ng {
        for j in i..ng {
            let r = next();
            // Mass concentrated near the diagonal, as in real GLCMs; ~30% zeros.
            let v = if r % 10 < 3 { 0.0 } else { ((r >> 8) % 1000) as f64 / (1.0 + (i as f64 - j as f64).abs()) };
            c[i * ng + j] = v;
            c[j * ng + i] = v;
        }
    }
    c
}

/// Hand-written GLCM features in the order of `features/glcm.radx`.
fn native_glcm(p: &[f64], ng: usize) -> [f64; 25] {
    let mut px = vec![0.0; ng];
    let mut py = vec![0.0; ng];
    let mut pd = vec![0.0; ng];
    let mut ps = vec![0.0; 2 * ng + 1];
    let (mut jmax, mut javg, mut hxy, mut energy, mut contrast, mut dissim) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut id, mut idn, mut idm, mut idmn, mut ivar, mut auto) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let ngf = ng as f64;
    for i in 0..ng {
        let li = (i + 1) as f64;
        for j in 0..ng {
            let v = p[i * ng + j];
            let lj = (j + 1) as f64;
            px[i] += v;
            py[j] += v;
            let d = (li - lj).abs();
            pd[i.abs_diff(j)] += v;
            ps[i + j + 2] += v;
            jmax = jmax.max(v);
            javg += li * v;
            if v > 0.0 {
                hxy -= v * v.log2();
            }
            energy += v * v;
            contrast += d * d * v;
            dissim += d * v;
            id += v / (1.0 + d);
            idn += v / (1.0 + d / ngf);
            idm += v / (1.0 + d * d);
            idmn += v / (1.0 + d * d / (ngf * ngf));
            if j > i {
                ivar += v / (d * d);
            }
            auto += li * lj * v;
        }
    }
    let (mut mux, mut muy) = (0.0, 0.0);
    for i in 0..ng {
        mux += (i + 1) as f64 * px[i];
        muy += (i + 1) as f64 * py[i];
    }
    let (mut vx, mut vy, mut hx) = (0.0, 0.0, 0.0);
    for i in 0..ng {
        let l = (i + 1) as f64;
        vx += (l - mux) * (l - mux) * px[i];
        vy += (l - muy) * (l - muy) * py[i];
        if px[i] > 0.0 {
            hx -= px[i] * px[i].log2();
        }
    }
    let (mut jvar, mut tend, mut shade, mut prom, mut hxy1, mut hxy2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..ng {
        let li = (i + 1) as f64;
        for j in 0..ng {
            let v = p[i * ng + j];
            let lj = (j + 1) as f64;
            jvar += (li - javg) * (li - javg) * v;
            let c = li + lj - mux - muy;
            let c2 = c * c;
            tend += c2 * v;
            shade += c2 * c * v;
            prom += c2 * c2 * v;
            let q = px[i] * py[j];
            if v > 0.0 {
                hxy1 -= v * q.log2();
            }
            if q > 0.0 {
                hxy2 -= q * q.log2();
            }
        }
    }
    let (mut davg, mut dent) = (0.0, 0.0);
    for (k, &v) in pd.iter().enumerate() {
        davg += k as f64 * v;
        if v > 0.0 {
            dent -= v * v.log2();
        }
    }
    let dvar: f64 = pd.iter().enumerate().map(|(k, &v)| (k as f64 - davg).powi(2) * v).sum();
    let (mut savg, mut sent) = (0.0, 0.0);
    for (k, &v) in ps.iter().enumerate().skip(2) {
        savg += k as f64 * v;
        if v > 0.0 {
            sent -= v * v.log2();
        }
    }
    let svar: f64 = ps.iter().enumerate().skip(2).map(|(k, &v)| (k as f64 - savg).powi(2) * v).sum();
    let corr = (auto - mux * muy) / (vx.sqrt() * vy.sqrt());
    let ic1 = if hx == 0.0 { 0.0 } else { (hxy - hxy1) / hx };
    let ic2 = (1.0 - (-2.0 * (hxy2 - hxy)).exp()).max(0.0).sqrt();
    [
        jmax,
        javg,
        jvar,
        hxy,
        davg,
        dvar,
        dent,
        savg,
        svar,
        sent,
        energy,
        contrast,
        dissim,
        id,
        idn,
        idm,
        idmn,
        2.0 * ivar,
        corr,
        auto,
        tend,
        shade,
        prom,
        ic1,
        ic2,
    ]
}

fn bench(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/glcm.radx");
    let text = std::fs::read_to_string(path).expect("features/glcm.radx");
    let file = compile("glcm.radx", &text, &radx_engine::sources::registry(&Default::default()))
        .unwrap_or_else(|d| panic!("{d}"));
    let family = file.family("glcm").expect("glcm family");
    let mut group = c.benchmark_group("glcm_25_features");
    group.measurement_time(Duration::from_secs(4)).sample_size(30).warm_up_time(Duration::from_secs(1));
    for ng in [16usize, 32, 64, 256] {
        let data = SourceData::glcm_from_counts(ng, &counts(ng));
        let (_, p) = data.array("p").expect("p");
        let p = p.to_vec();
        // Both implementations must agree before their speed is compared.
        let dsl = family.evaluate(&data, &NoBuiltins).expect("evaluates");
        let native = native_glcm(&p, ng);
        for (d, n) in dsl.iter().zip(native) {
            assert!((d.value - n).abs() <= 1e-9 * (1.0 + n.abs()), "{}: dsl {} native {}", d.name, d.value, n);
        }
        // Values only, like the native side (`evaluate` also copies 25 names and tags per call,
        // which a host evaluating many matrices takes once from `features()`).
        group.bench_function(format!("dsl/{ng}"), |b| b.iter(|| family.evaluate_values(black_box(&data), &NoBuiltins)));
        group.bench_function(format!("native/{ng}"), |b| b.iter(|| native_glcm(black_box(&p), ng)));
        if ng <= 32 {
            // The evaluator keeps rows that depend only on the grey levels from one matrix to
            // the next (every direction and slice of a case has the same levels). Here the
            // levels change at every call, so nothing is reused: two evaluations per iteration.
            let shifted = SourceData::new()
                .with_axis("level", (2..=ng + 1).map(|l| l as f64).collect())
                .with_array("p", vec![ng, ng], p.clone())
                .with_scalar("Ng", ng as f64);
            group.bench_function(format!("dsl_levels_change_x2/{ng}"), |b| {
                b.iter(|| {
                    family
                        .evaluate_values(black_box(&data), &NoBuiltins)
                        .and(family.evaluate_values(black_box(&shifted), &NoBuiltins))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
