//! Typed errors of the core runtime.

use crate::grid::GeometryMismatch;

/// What can go wrong inside the core runtime. Every variant reads as a sentence that a
/// user can act on; the CLI adds the file names.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CoreError {
    /// Image and mask do not share one voxel grid.
    #[error("image and mask geometry differ: {0}")]
    Geometry(#[from] GeometryMismatch),
    /// The region of interest has no voxels (after label selection or re-segmentation).
    #[error("the region of interest is empty{0}")]
    EmptyRoi(String),
    /// The requested label does not occur in the mask.
    #[error("{label} does not occur in the mask (labels present: {present})")]
    LabelAbsent { label: crate::label::LabelSelection, present: String },
    /// A voxel inside the ROI is NaN or infinite.
    #[error("{count} voxel(s) inside the ROI are NaN or infinite (first at index [{x}, {y}, {z}])")]
    NonFinite { count: usize, x: usize, y: usize, z: usize },
    /// A setting is out of its domain (negative bin width, zero bins…).
    #[error("invalid setting `{name}`: {reason}")]
    InvalidSetting { name: &'static str, reason: String },
    /// The mask holds a value that is not a whole number (a probability map, NaN…).
    #[error(
        "the mask is not a label map: voxel [{x}, {y}, {z}] holds {value} (labels are whole numbers; \
         threshold a probability mask first)"
    )]
    NotLabelMap { value: f64, x: usize, y: usize, z: usize },
    /// A phase of the extraction would need more than the memory budget.
    #[error("{phase}: {what} needs {needed_mib} MiB, more than the memory budget of {budget_mib} MiB; {fix}")]
    MemoryBudget {
        /// The phase, e.g. "interpolation", "texture matrices".
        phase: &'static str,
        /// What it holds at its peak, with the setting that made it large.
        what: String,
        /// The estimate, MiB (rounded up).
        needed_mib: u64,
        /// The budget, MiB (rounded up).
        budget_mib: u64,
        /// How to make it fit.
        fix: String,
    },
}
