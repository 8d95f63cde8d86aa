//! The list scheduler's promise on `features/glcm.radx`: the 25 features need exactly two
//! sweeps over (i, j) — one for what depends only on p, one for what needs the marginals'
//! means (joint variance, HXY1/HXY2, cluster features) — as a hand-written version does.

use crate::common;
use radx_dsl::compile;

#[test]
fn glcm_runs_two_sweeps_over_the_matrix() {
    let text = common::read_feature_file("glcm.radx");
    let file = compile("glcm.radx", &text, &crate::common::standard_registry()).unwrap_or_else(|d| panic!("{d}"));
    let plan = file.family("glcm").expect("glcm").explain();
    let sweeps = plan.lines().filter(|l| l.contains("pass over [level#0, level#1]")).count();
    assert_eq!(sweeps, 2, "plan:\n{plan}");
}
