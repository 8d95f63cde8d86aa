//! radx-dicom integration tests, in one binary.
//!
//! `oracle_*`: DICOM read here against NIfTI files made by others from the same DICOM (the
//! IBSI CT phantom's NIfTI, MIRP's conversions of the IBSI validation patients), SEGs
//! against the masks highdicom wrote them from, compressed files against their uncompressed
//! twins.
//! `mechanics_*`: bad input refused with the right typed error, no panic.

mod common;
mod mechanics_errors;
mod oracle_ct_phantom;
mod oracle_seg;
mod oracle_transfer_syntaxes;
mod oracle_validation;
