//! The planner's promises, checked on `features/glcm.radx`: filtered sums that pin a vector
//! index (`pd`, `ps`) become scatter passes, and the 25 features run in a few fused passes.

use crate::common;
use radx_dsl::compile;

#[test]
fn glcm_plan_scatters_diagonal_marginals_and_fuses_passes() {
    let text = common::read_feature_file("glcm.radx");
    let file = compile("glcm.radx", &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let plan = file.family("glcm").expect("glcm").explain();
    // pd[k] and ps[k] are both scattered from the (i, j) sweep: no pass loops over k with i, j inside.
    let scatter: usize = plan
        .lines()
        .filter_map(|l| {
            l.split(", ")
                .find(|p| p.ends_with("scattered vectors"))
                .and_then(|p| p.split(' ').next()?.parse::<usize>().ok())
        })
        .sum();
    assert_eq!(scatter, 2, "plan:\n{plan}");
    assert!(!plan.contains("[range#0, level#0, level#1]"), "an O(Ng^3) loop remains:\n{plan}");
    // Every pass over (i, j) at the same stage is one pass.
    for stage in plan.split("stage ").skip(1) {
        let ij = stage.lines().filter(|l| l.contains("[level#0, level#1]")).count();
        assert!(ij <= 1, "two (i, j) passes in one stage:\n{plan}");
    }
}
