//! Why a filter could not be built or applied.

/// A filter's settings or input were refused. `setting` names the offending setting as the
/// user wrote it (e.g. `sigma_mm`), so the message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// A parameter out of its range (σ ≤ 0, an even mean support, level 0, …).
    #[error("filter setting `{setting}`: {reason}")]
    InvalidSetting {
        /// The setting's name.
        setting: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A name that is not one of the known ones (filter, Laws kernel, wavelet, sub-band).
    #[error("filter setting `{setting}`: unknown {what} `{name}`; known: {known}")]
    Unknown {
        /// The setting's name.
        setting: String,
        /// What kind of name it is ("filter", "wavelet", "Laws kernel", …).
        what: String,
        /// The name given.
        name: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// A plugin filter (`kind = "plugin"`) that no loaded plugin provides.
    #[error(
        "filter `{name}` (kind \"plugin\"): no loaded plugin provides it; load the plugin with --plugin PATH or \
         from a folder in RADX_PLUGIN_PATH (`radx plugins list` shows the filters the plugins found offer)"
    )]
    PluginNotLoaded {
        /// The name the settings give.
        name: String,
    },
    /// A plugin filter failed on an image: the plugin's message.
    #[error("plugin filter `{filter}` of plugin `{plugin}` failed: {message}")]
    PluginFailed {
        /// The plugin's name.
        plugin: String,
        /// The filter's name.
        filter: String,
        /// Why, in the plugin's words (a caught panic: "the plugin panicked: …").
        message: String,
    },
    /// The kernel reaches further than the image along an axis under a boundary condition
    /// that cannot extend it meaningfully (it would wrap or mirror onto itself many times).
    #[error(
        "filter `{filter}`: its support ({support} voxels) is larger than the image ({size} voxels along axis {axis}); use a smaller filter or a larger image"
    )]
    SupportTooLarge {
        /// The filter's image type.
        filter: String,
        /// Kernel length along the axis.
        support: usize,
        /// Image length along the axis.
        size: usize,
        /// The axis (0 = i, 1 = j, 2 = k).
        axis: usize,
    },
}

impl FilterError {
    /// An out-of-range setting.
    pub fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        FilterError::InvalidSetting { setting: setting.into(), reason: reason.into() }
    }

    /// A name not in `known`.
    pub fn unknown(
        setting: impl Into<String>,
        what: impl Into<String>,
        name: impl Into<String>,
        known: &[&str],
    ) -> Self {
        FilterError::Unknown { setting: setting.into(), what: what.into(), name: name.into(), known: known.join(", ") }
    }
}

/// Refuse a non-finite or non-positive value of `setting`.
pub fn require_positive(setting: &str, value: f64) -> Result<f64, FilterError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(FilterError::invalid(setting, format!("must be a finite number > 0, got {value}")))
    }
}
