//! radx-io integration tests, in one binary (one link instead of one per file).
//!
//! Modules are named by kind of test; all of them are `mechanics_*`: reading and writing
//! files, region and label-mask readers, and the inputs the fuzzers found.

mod mechanics_fuzz_regressions;
mod mechanics_io;
mod mechanics_outputs;
mod mechanics_region;
mod mechanics_untrusted;
