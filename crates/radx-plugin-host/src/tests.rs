//! Unit tests of the crate root's modules.

use super::*;
use crate::input::x_fastest;
use ndarray::Array3;
use ndarray::{Array2, ShapeBuilder};
use radx_core::Grid;
use radx_core::Volume;
use radx_core::matrix::TextureMatrix;
use radx_dsl::ParamValue;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// A plugin's tags obey the feature files' rule: at most 64 characters (they become
/// table cells, and a feature file could not name a longer one).
#[test]
fn plugin_tags_are_at_most_as_long_as_feature_file_tags() {
    let path = Path::new("libp.so");
    assert!(check_name(&"T".repeat(64), "tag", path).is_ok());
    let error = check_name(&"T".repeat(65), "tag", path).expect_err("too long");
    assert!(error.to_string().contains("at most 64 characters in a tag"), "{error}");
    assert!(check_name("0001-SITE", "tag", path).is_ok(), "a tag may start with a digit");
    assert!(check_name(&"n".repeat(65), "feature name", path).is_ok(), "names have no such limit");
    assert!(check_name("a,b", "tag", path).is_err());
}

#[test]
fn parameter_defaults_give_names_and_kinds() {
    let params = parse_param_defaults(r#"{"flag": true, "n": 2, "x": 0.5, "y": 1.0, "s": "a"}"#).unwrap();
    // serde_json objects are sorted by key.
    assert_eq!(
        params,
        vec![
            ("flag".to_string(), ParamValue::Bool(true)),
            ("n".to_string(), ParamValue::Int(2)),
            ("s".to_string(), ParamValue::Str("a".into())),
            ("x".to_string(), ParamValue::Float(0.5)),
            ("y".to_string(), ParamValue::Float(1.0)),
        ]
    );
    assert_eq!(parse_param_defaults("{}").unwrap(), vec![]);
    let refused = |json: &str| parse_param_defaults(json).unwrap_err();
    assert!(matches!(refused("[1]"), ParamDefaultsError::NotAnObject));
    assert!(matches!(refused("{"), ParamDefaultsError::NotJson(_)));
    assert!(refused("{").to_string().starts_with("not JSON ("));
    assert_eq!(refused(r#"{"a": [1]}"#).to_string(), "`a`: a default must be a flag, number or string, not [1]");
    assert_eq!(
        refused(r#"{"a-b": 1}"#).to_string(),
        "`a-b` is not a parameter name feature files can write (letters, digits, _)"
    );
    // Back to JSON as the builder receives it; a real stays a real.
    assert_eq!(params_to_json(&params), r#"{"flag":true,"n":2,"s":"a","x":0.5,"y":1.0}"#);
}

#[test]
fn plugin_path_lists_split_on_colons() {
    assert_eq!(plugin_dirs("/a:/b/c::"), vec![PathBuf::from("/a"), PathBuf::from("/b/c")]);
    assert!(plugin_dirs("").is_empty());
}

#[test]
fn x_fastest_borrows_fortran_and_copies_c_order() {
    // C-order 2×1×2 array with values = x + 2·z (x-fastest position) → copied in x-fastest order.
    let c_order = Array3::from_shape_fn((2, 1, 2), |(x, _, z)| x + 2 * z);
    assert!(matches!(x_fastest(&c_order), Cow::Owned(_)));
    assert_eq!(x_fastest(&c_order).as_ref(), &[0, 1, 2, 3]);
    let f_order = Array3::from_shape_fn((2, 1, 2).f(), |(x, _, z)| x + 2 * z);
    assert!(matches!(x_fastest(&f_order), Cow::Borrowed(_)));
    assert_eq!(x_fastest(&f_order).as_ref(), &[0, 1, 2, 3]);
}

#[test]
fn texture_matrix_becomes_row_major_with_levels_and_columns() {
    // Rows are grey levels 1, 2; columns are run lengths 1 and 3.
    let t = TextureMatrix {
        counts: Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
        col_values: vec![1.0, 3.0],
        n_voxels: 10.0,
    };
    let m = DenseMatrix::from_texture(&t);
    assert_eq!(m.shape(), &[2, 2]);
    assert_eq!(m.data(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(m.axis_values(0), Some(&[1.0, 2.0][..]));
    assert_eq!(m.axis_values(1), Some(&[1.0, 3.0][..]));
}

#[test]
fn dense_matrix_rejects_inconsistent_shapes() {
    assert!(DenseMatrix::new(vec![2, 2], vec![0.0; 3]).is_err());
    assert!(DenseMatrix::new(vec![1; 5], vec![0.0]).is_err());
    assert!(DenseMatrix::new(vec![3], vec![0.0; 3]).unwrap().with_axis_values(0, vec![1.0]).is_err());
}

#[test]
fn mismatched_masks_are_refused_before_any_call() {
    let image = Volume::filled(Grid::new([2, 2, 2], [1.0; 3]), 0.0);
    let good = Array3::from_elem((2, 2, 2).f(), true);
    let bad = Array3::from_elem((2, 2, 1).f(), true);
    let input = PluginInput {
        image: &image,
        morphological: &good,
        intensity: &bad,
        intensities: &[],
        levels: None,
        ng: 0,
        matrices: &[],
        case: CaseInfo::default(),
        region: None,
    };
    let err = input.prepare().err().unwrap();
    assert!(matches!(&err, PluginCallError::Input(_)) && err.to_string().contains("intensity mask"), "{err}");
}
