//! radx-input integration tests, in one binary.
//!
//! `mechanics_*`: how paths resolve into engine cases — NIfTI kept as paths, DICOM read into
//! named volumes equal to the same data as NIfTI, masks placed on the image's grid, ROI
//! choices that do not fit the mask refused.

mod mechanics_resolve;
