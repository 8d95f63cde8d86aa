//! IBSI digital phantom: the 16 GLRLM features of `features/glrlm.radx` on the published
//! 3D directions-merged GLRLM (reference values: aggregation IAZD). The run axis carries
//! the run lengths that occur; N_v is summed over the 13 merged directions (74 × 13).

use crate::common::*;
use radx_dsl::{NoBuiltins, SourceData, compile};

#[test]
fn all_16_glrlm_features_match_ibsi_3d_merged() {
    let entries = phantom_matrix("glrlm", "3D_directions_merged");
    let ng = 6;
    let mut runs: Vec<usize> = entries.iter().map(|e| e.1).collect();
    runs.sort_unstable();
    runs.dedup();
    let mut r = vec![0.0; ng * runs.len()];
    for (i, j, c, _) in &entries {
        let col = runs.iter().position(|x| x == j).expect("run present");
        r[(i - 1) * runs.len() + col] = *c;
    }
    let ns: f64 = r.iter().sum();
    let data = SourceData::new()
        .with_axis("level", (1..=ng).map(|l| l as f64).collect())
        .with_axis("run", runs.iter().map(|&j| j as f64).collect())
        .with_array("r", vec![ng, runs.len()], r)
        .with_scalar("Ng", ng as f64)
        .with_scalar("Nv", 74.0 * 13.0)
        .with_scalar("Ns", ns);
    let text = read_feature_file("glrlm.radx");
    let file =
        compile("features/glrlm.radx", &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let values = file.family("glrlm").expect("glrlm").evaluate(&data, &NoBuiltins).expect("evaluates");
    let reference = reference_values("glrlm", "IAZD");
    assert_eq!(values.len(), 16);
    let failures: Vec<String> = values
        .iter()
        .filter(|v| !within_print_rounding(v.value, reference[&v.tag]))
        .map(|v| format!("{} [{}]: got {}, reference {}", v.name, v.tag, v.value, reference[&v.tag]))
        .collect();
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
