//! What radx gives every plugin through [`RadxHost`](radx_plugin::RadxHost): the log
//! and cancellation callbacks.

use std::ffi::{CStr, c_char, c_void};

use radx_plugin::{LogLevel, RADX_LOG_DEBUG, RADX_LOG_ERROR, RADX_LOG_INFO, RADX_LOG_WARN};

/// A message a plugin logged through [`RadxHost::log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLog {
    /// The plugin's name.
    pub plugin: String,
    /// How serious it is.
    pub level: LogLevel,
    /// The message.
    pub message: String,
}

pub(crate) type LogSink = Box<dyn Fn(&PluginLog) + Send + Sync>;

/// Where plugin logs go: the front end's sink, else a bounded buffer ([`take_plugin_logs`]).
pub(crate) static LOG_SINK: std::sync::RwLock<Option<LogSink>> = std::sync::RwLock::new(None);
pub(crate) static LOG_BUFFER: std::sync::Mutex<Vec<PluginLog>> = std::sync::Mutex::new(Vec::new());
/// Messages kept without a sink; later ones are dropped.
pub(crate) const LOG_BUFFER_LIMIT: usize = 1000;

/// Send every later plugin log message to `sink` (the CLI prints them), from any thread.
pub fn set_plugin_log_sink(sink: impl Fn(&PluginLog) + Send + Sync + 'static) {
    if let Ok(mut slot) = LOG_SINK.write() {
        *slot = Some(Box::new(sink));
    }
}

/// The log messages plugins sent while no sink was set (at most the first 1000).
pub fn take_plugin_logs() -> Vec<PluginLog> {
    LOG_BUFFER.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default()
}

/// Whether plugins are told the run is being cancelled ([`RadxHost::cancelled`]).
pub(crate) static CANCELLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tell every loaded plugin, from now on, that the run is (`true`) or is no longer
/// (`false`) being cancelled: their `cancelled()` callback returns 1 (0). Nothing in radx
/// cancels a run yet (Ctrl-C ends the process), so without a call it stays 0; a program
/// embedding the engine may call it to stop long plugin computations early.
pub fn set_plugins_cancelled(cancelled: bool) {
    CANCELLED.store(cancelled, std::sync::atomic::Ordering::Relaxed);
}

/// The host's cancellation callback: 1 while [`set_plugins_cancelled`] says so, else 0.
pub(crate) unsafe extern "C" fn host_cancelled(_host_data: *mut c_void) -> i32 {
    i32::from(CANCELLED.load(std::sync::atomic::Ordering::Relaxed))
}

/// The host's log callback; `host_data` is the plugin's leaked name.
pub(crate) unsafe extern "C" fn host_log(host_data: *mut c_void, level: i32, message: *const c_char) {
    if host_data.is_null() || message.is_null() {
        return;
    }
    // SAFETY: host_data is the `&'static String` given to this plugin's RadxHost; the plugin
    // passes a NUL-terminated message valid for the call.
    let (plugin, message) = unsafe { (&*host_data.cast::<String>(), CStr::from_ptr(message)) };
    let level = match level {
        RADX_LOG_ERROR => LogLevel::Error,
        RADX_LOG_WARN => LogLevel::Warn,
        RADX_LOG_INFO => LogLevel::Info,
        RADX_LOG_DEBUG => LogLevel::Debug,
        _ => LogLevel::Info,
    };
    let log = PluginLog { plugin: plugin.clone(), level, message: message.to_string_lossy().into_owned() };
    // A panic must not unwind into the plugin's C frames.
    let _ = std::panic::catch_unwind(|| {
        if let Ok(sink) = LOG_SINK.read()
            && let Some(sink) = sink.as_ref()
        {
            sink(&log);
        } else if let Ok(mut buffer) = LOG_BUFFER.lock()
            && buffer.len() < LOG_BUFFER_LIMIT
        {
            buffer.push(log);
        }
    });
}
