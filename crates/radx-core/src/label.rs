//! Which voxels of a label map are the region of interest.

/// Which voxels of a label map make the ROI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelSelection {
    /// The voxels of one label.
    Label(i64),
    /// Every labelled voxel (all non-zero labels together).
    NonZero,
}

impl LabelSelection {
    /// Whether a voxel of value `v` is selected. Float label maps are accepted: a voxel has
    /// a label when it is within 1e-3 of it (masks saved as float 0/1); NaN has none.
    pub fn matches(self, v: f64) -> bool {
        match self {
            LabelSelection::Label(label) => (v - label as f64).abs() < 1e-3,
            LabelSelection::NonZero => v.abs() >= 1e-3 && !v.is_nan(),
        }
    }
}

impl From<i64> for LabelSelection {
    fn from(label: i64) -> Self {
        LabelSelection::Label(label)
    }
}

impl std::fmt::Display for LabelSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelSelection::Label(label) => write!(f, "label {label}"),
            LabelSelection::NonZero => f.write_str("a non-zero label"),
        }
    }
}
