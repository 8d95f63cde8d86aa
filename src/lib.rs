//! radx: IBSI-exact radiomics. This facade re-exports the workspace crates; the `radx`
//! binary (src/main.rs) is the command-line front end.

pub use radx_core as core;
pub use radx_io as io;

pub mod plugins;
