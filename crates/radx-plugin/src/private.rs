//! Glue the [`export_plugin!`] expansion calls; not part of the stable API.

use std::cell::{Cell, RefCell};
use std::ffi::{CString, c_char, c_void};
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub use crate::feature_params::{release_values, run_feature_defaults, run_feature_values};
use crate::*;

thread_local! {
    /// The message of this thread's last call, when it failed; `None` after a success.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Remember `message` as this thread's last error.
pub fn set_last_error(message: &str) {
    // An interior NUL would truncate the C string; show it instead of losing the tail.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
}

/// Forget this thread's last error: every call starts with none, so `last_error` never
/// reports the message of an earlier call.
pub fn clear_last_error() {
    LAST_ERROR.with(|e| {
        if let Ok(mut e) = e.try_borrow_mut()
            && e.is_some()
        {
            *e = None;
        }
    });
}

/// The plugin's `last_error` callback: the message of the last call on this thread if
/// it failed, else null.
pub unsafe extern "C" fn last_error() -> *const c_char {
    // The CString lives in the thread-local until the next call on this thread, which
    // is exactly the validity the ABI promises.
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(std::ptr::null(), |m| m.as_ptr()))
}

/// The host's callbacks, stored by [`run_init`].
struct HostCallbacks {
    data: usize,
    log: Option<RadxLogFn>,
    cancelled: Option<RadxCancelledFn>,
}

/// Whether the host says the run is being cancelled (false when it cannot say).
pub fn cancelled() -> bool {
    let Some(HostCallbacks { data, cancelled: Some(cancelled), .. }) = HOST.get() else { return false };
    // SAFETY: the host promised a callback valid for the life of the process, callable
    // from any thread, with its own `host_data`.
    unsafe { cancelled(*data as *mut c_void) != 0 }
}

static HOST: std::sync::OnceLock<HostCallbacks> = std::sync::OnceLock::new();

/// Forward a message to the host's log callback, if it gave one.
pub fn log(level: LogLevel, message: &str) {
    let Some(HostCallbacks { data, log: Some(log), .. }) = HOST.get() else { return };
    let level = match level {
        LogLevel::Error => RADX_LOG_ERROR,
        LogLevel::Warn => RADX_LOG_WARN,
        LogLevel::Info => RADX_LOG_INFO,
        LogLevel::Debug => RADX_LOG_DEBUG,
    };
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: the host promised a callback valid for the life of the process, callable
    // from any thread, with its own `host_data`.
    unsafe { log(*data as *mut c_void, level, c.as_ptr()) };
}

/// The plugin's `init`: keep the host's callbacks, then run the author's `init`
/// (panics caught). The SDK keeps no context: Rust plugins use statics.
///
/// # Safety
/// `host` must be null or a valid [`RadxHost`] living for the process.
pub unsafe fn run_init<E: Display>(host: *const RadxHost, init: impl FnOnce() -> Result<(), E>) -> i32 {
    clear_last_error();
    if !host.is_null() {
        // SAFETY: per the caller's contract; a field is read only when the host's
        // struct_size covers it (an older host's struct is smaller), through the raw
        // pointer, never as a reference to a whole struct the host may not have built.
        let callbacks = unsafe {
            let size = (*host).struct_size;
            let has = |end: usize| size >= end;
            let log_end = std::mem::offset_of!(RadxHost, log) + std::mem::size_of::<Option<RadxLogFn>>();
            let cancelled_end =
                std::mem::offset_of!(RadxHost, cancelled) + std::mem::size_of::<Option<RadxCancelledFn>>();
            HostCallbacks {
                data: (*host).host_data as usize,
                log: if has(log_end) { (*host).log } else { None },
                cancelled: if has(cancelled_end) { (*host).cancelled } else { None },
            }
        };
        let _ = HOST.set(callbacks);
    }
    match catch_quietly(init) {
        Ok(Ok(())) => RADX_OK,
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            RADX_ERROR
        }
        Err(panic) => {
            set_last_error(&panic.to_string());
            RADX_ERROR
        }
    }
}

/// The plugin's `shutdown`: the author's function, panics caught (there is no one to
/// report them to: radx is done with the plugin).
pub fn run_shutdown(shutdown: impl FnOnce()) {
    let _ = catch_quietly(shutdown);
}

/// No initialisation.
pub fn no_init() -> Result<(), std::convert::Infallible> {
    Ok(())
}

/// No shutdown.
pub fn no_shutdown() {}

thread_local! {
    /// Set while a feature or source of this plugin runs on this thread.
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic of such a call happened (`file:line`).
    static PANIC_AT: Cell<Option<String>> = const { Cell::new(None) };
}

/// `f`, with a panic caught and turned into an error message that says where it happened.
/// The panic is not printed as well: radx reports it for that feature of that case, and
/// a cohort of thousands of cases would otherwise print it thousands of times (with
/// `RUST_BACKTRACE` set, a symbolised backtrace each time). Panics outside these calls
/// still go to the hook that was there before.
pub(crate) fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, CaughtPanic> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CALL.with(Cell::get) {
                PANIC_AT.with(|at| at.set(info.location().map(|l| format!("{}:{}", l.file(), l.line()))));
            } else {
                previous(info);
            }
        }));
    });
    let was_in_call = IN_CALL.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_CALL.with(|c| c.set(was_in_call));
    result.map_err(|payload| CaughtPanic { message: panic_message(payload.as_ref()), at: PANIC_AT.with(Cell::take) })
}

/// A panic caught in a feature or source call; radx reads it, as text, through `last_error`.
pub(crate) struct CaughtPanic {
    /// The panic's message, when it is text.
    message: Option<String>,
    /// Where it happened (`file:line`), when the hook saw it.
    at: Option<String>,
}

impl Display for CaughtPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the plugin panicked")?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(at) = &self.at {
            write!(f, " (at {at})")?;
        }
        Ok(())
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&str>() {
        Some(s.to_string())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// The host's input as far as the host filled it. A host of an older minor version
/// builds a smaller [`RadxInput`] (its `struct_size` says how much): the fields it
/// lacks are absent here, zero (null pointers), in a copy; a current host's input is
/// borrowed as it is.
pub(crate) enum HostInput<'a> {
    Whole(&'a RadxInput),
    Completed(Box<RadxInput>),
}

impl<'a> HostInput<'a> {
    /// # Safety
    /// `input` must be non-null and point to `struct_size` bytes of a [`RadxInput`]
    /// as its host built it, valid for `'a`.
    pub(crate) unsafe fn read(input: *const RadxInput) -> Result<Self, String> {
        // SAFETY: every ABI 2 input starts with its size (the caller's contract).
        let size = unsafe { input.cast::<usize>().read() };
        let whole = std::mem::size_of::<RadxInput>();
        if size >= whole {
            // SAFETY: at least this version's struct (the caller's contract).
            return Ok(HostInput::Whole(unsafe { &*input }));
        }
        let first = std::mem::size_of::<v2_0::RadxInput>();
        if size < first {
            return Err(format!("radx passed an input of {size} bytes, less than ABI 2.0's {first}"));
        }
        // SAFETY: all-zero bytes are a valid RadxInput (null pointers, zero sizes).
        let mut completed: Box<RadxInput> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: the host filled `size` bytes (< the struct's), copied into a distinct box.
        unsafe {
            std::ptr::copy_nonoverlapping(input.cast::<u8>(), (&mut *completed as *mut RadxInput).cast::<u8>(), size)
        };
        Ok(HostInput::Completed(completed))
    }

    pub(crate) fn get(&self) -> &RadxInput {
        match self {
            HostInput::Whole(raw) => raw,
            HostInput::Completed(raw) => raw,
        }
    }
}

/// Run a feature function behind the C boundary: null checks, catch_unwind, errors.
///
/// # Safety
/// `input` must be null or a valid [`RadxInput`] (see [`Input::from_raw`]); `out` must
/// be null or valid for a write.
pub unsafe fn run_feature<F, E>(input: *const RadxInput, out: *mut f64, compute: F) -> i32
where
    F: Fn(&Input<'_>) -> Result<f64, E>,
    E: Display,
{
    clear_last_error();
    if input.is_null() || out.is_null() {
        set_last_error("radx passed a null input or output pointer");
        return RADX_ERROR;
    }
    // SAFETY: non-null and valid per the caller's contract.
    let raw = match unsafe { HostInput::read(input) } {
        Ok(raw) => raw,
        Err(message) => {
            set_last_error(&message);
            return RADX_ERROR;
        }
    };
    // SAFETY: the host's views are valid for the call (the caller's contract).
    let input = unsafe { Input::from_raw(raw.get()) };
    match catch_quietly(|| compute(&input)) {
        Ok(Ok(value)) => {
            // SAFETY: non-null and valid per the caller's contract.
            unsafe { out.write(value) };
            RADX_OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            RADX_ERROR
        }
        Err(panic) => {
            set_last_error(&panic.to_string());
            RADX_ERROR
        }
    }
}

/// Run a source builder behind the C boundary; the matrix is boxed and handed out
/// with [`release_matrix`] as its release callback.
///
/// # Safety
/// As [`run_feature`]; `params` must be null or NUL-terminated.
pub unsafe fn run_build<F, E>(input: *const RadxInput, params: *const c_char, out: *mut RadxMatrixOut, build: F) -> i32
where
    F: Fn(&Input<'_>, &str) -> Result<Matrix, E>,
    E: Display,
{
    clear_last_error();
    if input.is_null() || out.is_null() {
        set_last_error("radx passed a null input or output pointer");
        return RADX_ERROR;
    }
    let params = if params.is_null() {
        "{}"
    } else {
        // SAFETY: NUL-terminated per the caller's contract.
        match unsafe { std::ffi::CStr::from_ptr(params) }.to_str() {
            Ok(p) => p,
            Err(_) => {
                set_last_error("source parameters are not valid UTF-8");
                return RADX_ERROR;
            }
        }
    };
    // SAFETY: non-null and valid per the caller's contract.
    let raw = match unsafe { HostInput::read(input) } {
        Ok(raw) => raw,
        Err(message) => {
            set_last_error(&message);
            return RADX_ERROR;
        }
    };
    // SAFETY: the host's views are valid for the call (the caller's contract).
    let input = unsafe { Input::from_raw(raw.get()) };
    let matrix = match catch_quietly(|| build(&input, params)) {
        Ok(Ok(m)) => Box::new(m),
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            return RADX_ERROR;
        }
        Err(panic) => {
            set_last_error(&panic.to_string());
            return RADX_ERROR;
        }
    };
    let mut view = RadxMatrixView {
        data: matrix.data.as_ptr(),
        ndim: matrix.shape.len(),
        shape: [0; RADX_MAX_MATRIX_DIMS],
        axis_values: [std::ptr::null(); RADX_MAX_MATRIX_DIMS],
    };
    for (a, &len) in matrix.shape.iter().enumerate() {
        view.shape[a] = len;
        if !matrix.axis_values[a].is_empty() {
            view.axis_values[a] = matrix.axis_values[a].as_ptr();
        }
    }
    let owner = Box::into_raw(matrix).cast::<c_void>();
    // SAFETY: non-null and valid per the caller's contract.
    unsafe { out.write(RadxMatrixOut { matrix: view, owner, release: Some(release_matrix) }) };
    RADX_OK
}

/// Frees a matrix handed out by [`run_build`].
///
/// # Safety
/// `out` must be null or a [`RadxMatrixOut`] filled by [`run_build`] and not yet released.
pub unsafe extern "C" fn release_matrix(out: *mut RadxMatrixOut) {
    // SAFETY: per the contract, `owner` came from Box::into_raw in run_build.
    unsafe {
        if let Some(out) = out.as_mut()
            && !out.owner.is_null()
        {
            drop(Box::from_raw(out.owner.cast::<Matrix>()));
            out.owner = std::ptr::null_mut();
            out.matrix.data = std::ptr::null();
            out.matrix.axis_values = [std::ptr::null(); RADX_MAX_MATRIX_DIMS];
        }
    }
}
