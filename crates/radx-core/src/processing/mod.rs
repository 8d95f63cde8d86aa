//! The IBSI image-processing chain (IBSI 1, chapter 2), one function per step.
//!
//! Order as in IBSI fig. 2.1: interpolation (image and mask) → intensity rounding →
//! re-segmentation (range and outliers; the outlier μ ± 3σ is computed on the mask as it
//! comes in, as the reference implementation does — see [`resegment::resegment`]) →
//! discretisation. Each step reads and returns
//! plain [`crate::Volume`]s / [`crate::roi::Roi`]s, so callers can stop at any step.

pub mod discretise;
pub mod resample;
pub mod resegment;
