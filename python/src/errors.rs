//! radx's errors as Python exceptions, with radx's messages: a missing file is a
//! `FileNotFoundError`, another operating-system failure an `OSError`, anything about the
//! inputs' content or the settings a `ValueError`. A panic inside radx (a defect) becomes a
//! `RuntimeError` instead of unwinding into the interpreter.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError};
use radx_engine::library::LibraryError;
use radx_engine::plugins::PluginError;
use radx_engine::settings::SettingsError;

/// The Python exception for an engine error.
pub fn engine(e: radx_engine::Error) -> PyErr {
    let message = e.to_string();
    match &e {
        radx_engine::Error::Io(io) => io_error(io, message),
        radx_engine::Error::Settings(SettingsError::Read { source, .. }) => os_error(source, message),
        radx_engine::Error::Library(LibraryError::Read { source, .. }) => os_error(source, message),
        radx_engine::Error::Plugin(p) => plugin(p, message),
        radx_engine::Error::Write { source, .. } => os_error(source, message),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception for a reading error.
pub fn io_error(e: &radx_io::IoError, message: String) -> PyErr {
    match e {
        radx_io::IoError::NotFound { .. } => PyFileNotFoundError::new_err(message),
        radx_io::IoError::Unreadable { source, .. } => os_error(source, message),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception for a case that cannot be resolved (a DICOM series, RTSTRUCT or
/// SEG that cannot be read or placed; a ROI choice that does not fit the mask).
pub fn input_error(e: radx_input::InputError) -> PyErr {
    let message = e.to_string();
    match &e {
        radx_input::InputError::Io(io) => io_error(io, message),
        radx_input::InputError::Dicom(radx_dicom::DicomError::Unreadable { source, .. }) => os_error(source, message),
        _ => PyValueError::new_err(message),
    }
}

/// The Python exception for a plugin that cannot be loaded: `FileNotFoundError` for a
/// missing file, `OSError` for one the loader refuses (as `ctypes.CDLL` does), `ValueError`
/// for a library that loads but breaks radx's plugin rules.
pub fn plugin(e: &PluginError, message: String) -> PyErr {
    match e {
        PluginError::NotFound { .. } => PyFileNotFoundError::new_err(message),
        PluginError::NotALibrary { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// `FileNotFoundError`, `PermissionError` or `OSError` by the operating system's error kind.
pub fn os_error(source: &std::io::Error, message: String) -> PyErr {
    match source.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// Run `work`, turning a panic into a `RuntimeError` naming `what` was being done.
pub fn guard<T>(what: &str, work: impl FnOnce() -> Result<T, PyErr>) -> Result<T, PyErr> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|panic| Err(PyRuntimeError::new_err(panic_message(what, panic.as_ref()))))
}

/// What a `RuntimeError` says about a panic.
fn panic_message(what: &str, panic: &(dyn std::any::Any + Send)) -> String {
    let cause = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown cause".into());
    format!("internal error in radx while {what} (please report it): {cause}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_reported_with_what_was_being_done() {
        let panic = catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(
            panic_message("testing", panic.as_ref()),
            "internal error in radx while testing (please report it): boom 1"
        );
        let panic = catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert!(panic_message("testing", panic.as_ref()).ends_with("unknown cause"));
    }
}
