//! Unit tests of the safe views.

use crate::*;

#[test]
fn matrix_checks_shape_and_axis_values() {
    assert!(Matrix::new(vec![2, 3], vec![0.0; 6]).is_ok());
    assert!(Matrix::new(vec![2, 3], vec![0.0; 5]).unwrap_err().contains("needs 6 entries"));
    assert!(Matrix::new(vec![], vec![]).is_err());
    assert!(Matrix::new(vec![1; 5], vec![0.0]).is_err());
    let m = Matrix::new(vec![2, 3], vec![0.0; 6]).unwrap();
    assert!(m.clone().with_axis_values(1, vec![1.0, 2.0]).is_err());
    assert!(m.clone().with_axis_values(2, vec![]).is_err());
    let m = m.with_axis_values(1, vec![1.0, 2.0, 4.0]).unwrap();
    assert_eq!(m.axis_values(1), Some(&[1.0, 2.0, 4.0][..]));
    assert_eq!(m.axis_values(0), None);
}

#[test]
fn voxel_index_is_x_fastest() {
    // dims (3, 2, 2): [1,0,0] -> 1, [0,1,0] -> 3, [0,0,1] -> 6 (3·2).
    assert_eq!(voxel_index([3, 2, 2], 1, 0, 0), 1);
    assert_eq!(voxel_index([3, 2, 2], 0, 1, 0), 3);
    assert_eq!(voxel_index([3, 2, 2], 0, 0, 1), 6);
    assert_eq!(voxel_index([3, 2, 2], 2, 1, 1), 11);
}
