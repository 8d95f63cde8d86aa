//! `radx._radx`: the extension module under the Python package `radx` (python/radx/). It
//! exposes the engine (`Extractor`), in-memory volumes (`Volume`, numpy arrays read in
//! place), the cohort batch and the libraries' listings; every computation runs with the
//! GIL released. The Python modules turn SimpleITK, nibabel and numpy inputs into paths or
//! `Volume`s, and these columns into pandas tables.
//!
//! Like the command line (`src/cli`), this is a front end: it reads `RADX_PLUGIN_PATH` and
//! hands the engine's warnings to Python, which issues them through `warnings`.

// Unsafe code: one view of a numpy array's memory (volume.rs), with its SAFETY comment; PyO3's macros generate
// their own.
#![deny(unsafe_code)]

use pyo3::prelude::*;

mod cohort;
mod errors;
mod extractor;
mod listings;
mod volume;

/// The extension module.
#[pymodule]
fn _radx(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<volume::Volume>()?;
    m.add_class::<extractor::Extractor>()?;
    m.add_function(wrap_pyfunction!(cohort::batch, m)?)?;
    m.add_function(wrap_pyfunction!(listings::features, m)?)?;
    m.add_function(wrap_pyfunction!(listings::check, m)?)?;
    m.add_function(wrap_pyfunction!(listings::ibsi, m)?)?;
    m.add_function(wrap_pyfunction!(listings::yaml_to_json, m)?)?;
    m.add_function(wrap_pyfunction!(listings::synthetic_case, m)?)?;
    Ok(())
}
