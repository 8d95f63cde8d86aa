//! What a crash leaves behind: the plugin call in flight on the crashing thread.
//!
//! A plugin that aborts (`abort()`, a C `assert`) or faults (a null pointer, a stack
//! overflow) takes radx down with it; without this the process died with exit 134 or 139
//! and nothing said which plugin, feature or case did it, so a cohort run could not tell
//! which case to leave out. Each call records, in a thread-local, where its names are
//! (borrowed for the call: nothing is copied or allocated). [`install_crash_report`]
//! installs handlers for the fatal signals that write one line from that record with
//! `write(2)` (async-signal-safe: no allocation, no lock), then give the signal to the
//! handler that was there before (Rust's stack-overflow report, or the default), so the
//! process still dies of the same signal, with its core.

use std::cell::Cell;
use std::ffi::{CStr, c_int, c_void};
use std::marker::PhantomData;
use std::sync::OnceLock;

/// The signals a crashing plugin raises.
const FATAL: [(c_int, &str); 5] = [
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGABRT, "SIGABRT"),
];

/// Borrowed text: a pointer and a length, readable from a signal handler.
#[derive(Clone, Copy)]
struct Text {
    ptr: *const u8,
    len: usize,
}

impl Text {
    const EMPTY: Text = Text { ptr: std::ptr::null(), len: 0 };

    fn of(bytes: &[u8]) -> Text {
        Text { ptr: bytes.as_ptr(), len: bytes.len() }
    }
}

/// The call in flight on a thread.
#[derive(Clone, Copy)]
struct Call {
    /// "feature" or "source".
    kind: &'static str,
    plugin: Text,
    name: Text,
    case_id: Text,
    label: i64,
}

thread_local! {
    // Const-initialised and without a destructor: reading it is a plain TLS access, which a
    // signal handler may do.
    static IN_FLIGHT: Cell<Option<Call>> = const { Cell::new(None) };
}

thread_local! {
    // The case this thread works on, for a call that is not told its case (a filter's).
    static CASE: Cell<Option<(Text, i64)>> = const { Cell::new(None) };
}

/// Names the case (id and label) this thread works on until dropped, for the crash line of
/// a plugin call that is not told its case: a filter sees an image only, so without this a
/// crashing filter's line said `case (no id)` and a cohort run could not tell which case
/// to leave out.
pub struct CaseInFlight<'a> {
    previous: Option<(Text, i64)>,
    _case: PhantomData<&'a CStr>,
}

impl<'a> CaseInFlight<'a> {
    /// `case_id` `None` for a lone case; `label` 0 for every non-zero label.
    pub fn enter(case_id: Option<&'a CStr>, label: i64) -> CaseInFlight<'a> {
        let case = (case_id.map_or(Text::EMPTY, |c| Text::of(c.to_bytes())), label);
        CaseInFlight { previous: CASE.with(|c| c.replace(Some(case))), _case: PhantomData }
    }
}

impl Drop for CaseInFlight<'_> {
    fn drop(&mut self) {
        CASE.with(|c| c.set(self.previous));
    }
}

/// Marks a plugin call as in flight on this thread until dropped. The names must outlive
/// the guard (they do: they belong to the loaded plugin and the call's input).
pub(crate) struct InFlight {
    previous: Option<Call>,
}

impl InFlight {
    pub(crate) fn enter(kind: &'static str, plugin: &str, name: &str, case_id: Option<&CStr>, label: i64) -> InFlight {
        let call = Call {
            kind,
            plugin: Text::of(plugin.as_bytes()),
            name: Text::of(name.as_bytes()),
            case_id: case_id.map_or(Text::EMPTY, |c| Text::of(c.to_bytes())),
            label,
        };
        InFlight { previous: IN_FLIGHT.with(|c| c.replace(Some(call))) }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.with(|c| c.set(self.previous));
    }
}

/// The handlers that were installed before ours, per [`FATAL`] signal.
static PREVIOUS: OnceLock<[libc::sigaction; FATAL.len()]> = OnceLock::new();

/// Install the crash report for the fatal signals (once per process; later calls do
/// nothing). For programs, not libraries: the CLI calls it at start-up.
pub fn install_crash_report() {
    PREVIOUS.get_or_init(|| {
        FATAL.map(|(signal, _)| {
            // SAFETY: a zeroed sigaction is valid (no handler, empty mask); `report` has the
            // SA_SIGINFO signature; `previous` is a valid place for the old action.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = report as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(signal, &action, &mut previous);
                previous
            }
        })
    });
}

/// The signal handler: the line, then the previous handler.
extern "C" fn report(signal: c_int, info: *mut libc::siginfo_t, _context: *mut c_void) {
    let slot = FATAL.iter().position(|(s, _)| *s == signal);
    if let (Some(slot), Ok(Some(call))) = (slot, IN_FLIGHT.try_with(Cell::get)) {
        write_line(FATAL[slot].1, &call, CASE.try_with(Cell::get).ok().flatten());
    }
    let Some((slot, previous)) = slot.zip(PREVIOUS.get()) else { return };
    // SAFETY: restoring an action sigaction gave us; `info` is the kernel's.
    unsafe {
        libc::sigaction(signal, &previous[slot], std::ptr::null_mut());
        // A fault (si_code > 0) happens again when the instruction re-runs, now under the
        // previous handler, which sees the true fault address. A signal that was sent
        // (abort(), kill) is not sent again by itself: send it; it is delivered on return.
        if info.is_null() || (*info).si_code <= 0 {
            libc::raise(signal);
        }
    }
}

/// `radx: SIGSEGV in plugin P, feature F, case C (label L): radx stops` on stderr; the
/// thread's case (`thread_case`, see [`CaseInFlight`]) for a call not told its own.
fn write_line(signal: &str, call: &Call, thread_case: Option<(Text, i64)>) {
    let (case_id, label) = match thread_case {
        Some(case) if call.case_id.len == 0 => case,
        _ => (call.case_id, call.label),
    };
    let mut digits = [0u8; 24];
    let label = format_i64(label, &mut digits);
    let case = if case_id.len == 0 { Text::of(b"(no id)") } else { case_id };
    let pieces = [
        Text::of(b"radx: "),
        Text::of(signal.as_bytes()),
        Text::of(b" in plugin "),
        call.plugin,
        Text::of(b", "),
        Text::of(call.kind.as_bytes()),
        Text::of(b" "),
        call.name,
        Text::of(b", case "),
        case,
        Text::of(b" (label "),
        label,
        Text::of(b"): the plugin crashed radx; cases already finished are in the batch journal (--resume)\n"),
    ];
    for piece in pieces {
        if !piece.ptr.is_null() {
            // SAFETY: every piece points at `len` readable bytes: statics, `digits`, or the
            // names the call borrowed, alive while it is in flight.
            unsafe { libc::write(2, piece.ptr.cast(), piece.len) };
        }
    }
}

/// `value` in decimal, in `buffer`, without allocating.
fn format_i64(value: i64, buffer: &mut [u8; 24]) -> Text {
    let mut n = value.unsigned_abs();
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    Text { ptr: buffer[at..].as_ptr(), len: buffer.len() - at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: Text) -> String {
        // SAFETY: `t` points into a live buffer of the test.
        String::from_utf8(unsafe { std::slice::from_raw_parts(t.ptr, t.len) }.to_vec()).unwrap()
    }

    #[test]
    fn labels_are_written_in_decimal() {
        let mut buffer = [0u8; 24];
        for value in [0, 7, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(text(format_i64(value, &mut buffer)), value.to_string());
        }
    }

    #[test]
    fn the_record_is_the_innermost_call_and_cleared_after() {
        let current = || IN_FLIGHT.with(Cell::get).map(|c| text(c.name));
        assert_eq!(current(), None);
        {
            let _outer = InFlight::enter("source", "p", "outer", None, 1);
            {
                let _inner = InFlight::enter("feature", "p", "inner", Some(c"case-7"), 1);
                assert_eq!(current().as_deref(), Some("inner"));
            }
            assert_eq!(current().as_deref(), Some("outer"));
        }
        assert_eq!(current(), None);
    }
}
