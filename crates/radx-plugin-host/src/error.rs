//! Why a plugin could not be loaded or called, and what loading warns about.

use std::path::{Path, PathBuf};

use radx_plugin::{RADX_ENTRY_SYMBOL, RADX_MAX_MATRIX_DIMS};

use crate::{OLDEST_ABI, PLUGIN_PATH_VAR, WritableBy};

/// Why a plugin could not be loaded. Every message names the plugin file.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file does not exist.
    #[error("plugin {}: no such file", path.display())]
    NotFound { path: PathBuf },
    /// Other users can change the library or a folder above it, and opening it runs its
    /// code: refused before it is opened (Unix permissions; see [`PluginTrust`]).
    #[error(
        "plugin {}: refused: {} is writable by {who} (mode {mode:o}), so another user could replace the code \
         radx would run on opening it; make it writable by its owner only (chmod go-w {}), or allow such \
         plugins explicitly (radx: --allow-untrusted-plugins or RADX_ALLOW_UNTRUSTED_PLUGINS=1)",
        path.display(),
        writable.display(),
        writable.display()
    )]
    Untrusted {
        /// The library (canonical path).
        path: PathBuf,
        /// The library itself or the folder that others can write to.
        writable: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Who besides its owner can write to it.
        who: WritableBy,
    },
    /// The library or a folder above it belongs to another user than root and the one
    /// running radx, who could replace the code run on opening it: refused before it is
    /// opened (Unix; see [`PluginTrust`]).
    #[error(
        "plugin {}: refused: {} is owned by user {owner}, neither you (user {user}) nor root, so that user could \
         replace the code radx would run on opening it; install the plugin in a folder you or root own, or allow \
         such plugins explicitly (radx: --allow-untrusted-plugins or RADX_ALLOW_UNTRUSTED_PLUGINS=1)",
        path.display(),
        owned.display()
    )]
    ForeignOwner {
        /// The library (canonical path).
        path: PathBuf,
        /// The library itself or the folder owned by another user.
        owned: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// The effective user id radx runs as.
        user: u32,
    },
    /// The file exists but the dynamic loader refused it.
    #[error("plugin {}: not a loadable shared library ({reason})", path.display())]
    NotALibrary { path: PathBuf, reason: String },
    /// The library does not export the entry symbol.
    #[error(
        "plugin {}: the library does not export `{RADX_ENTRY_SYMBOL}`; build it with radx_plugin::export_plugin! \
         or, in C, define `RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void)` from radx_plugin.h",
        path.display()
    )]
    MissingEntry { path: PathBuf },
    /// Built against an ABI major version this radx does not speak.
    #[error(
        "plugin {}: built for radx plugin ABI {plugin_abi}, but this radx speaks ABI {host_abi} (and loads \
         ABI {OLDEST_ABI} to {host_abi}); rebuild the plugin against this radx's radx-plugin crate \
         (or include/radx_plugin.h), whose RADX_PLUGIN_ABI is {host_abi}",
        path.display()
    )]
    AbiMismatch { path: PathBuf, plugin_abi: u32, host_abi: u32 },
    /// The plugin's `init` refused to start.
    #[error("plugin {}: its init failed: {message}", path.display())]
    InitFailed { path: PathBuf, message: String },
    /// The descriptor breaks the ABI's rules (null where a value is required, bad UTF-8…).
    #[error("plugin {}: invalid descriptor: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    /// A source's or filter's parameter declaration is not a JSON object of defaults (boxed: it is the
    /// largest cause, and every `Result` carrying a `PluginError` would be as large).
    #[error("plugin {}: invalid descriptor: {kind} `{name}`'s parameters {text}: {source}", path.display())]
    ParamDefaults { path: PathBuf, kind: &'static str, name: String, text: String, source: Box<ParamDefaultsError> },
    /// Another loaded plugin already has this name.
    #[error("plugin {}: a plugin named `{name}` is already loaded from {}", path.display(), first.display())]
    DuplicatePlugin { path: PathBuf, name: String, first: PathBuf },
    /// Two features (or two sources) of one plugin share a name.
    #[error("plugin {}: the {kind} name `{name}` is declared twice", path.display())]
    DuplicateName { path: PathBuf, kind: &'static str, name: String },
    /// A source name is already provided by another plugin.
    #[error("plugin {}: source `{name}` is already provided by plugin `{other}`", path.display())]
    DuplicateSource { path: PathBuf, name: String, other: String },
    /// A filter name is already provided by another plugin.
    #[error("plugin {}: filter `{name}` is already provided by plugin `{other}`; rename one of them", path.display())]
    DuplicateFilter { path: PathBuf, name: String, other: String },
    /// A plugin feature, source or filter clashes with a built-in or feature-file name.
    #[error("plugin {}: {message}", path.display())]
    Clash { path: PathBuf, message: String },
    /// A plugin directory could not be read.
    #[error("plugin directory {}: {source}", dir.display())]
    Directory { dir: PathBuf, source: std::io::Error },
    /// A name or tag holds characters a table cannot carry (see [`check_name`]).
    #[error(
        "plugin {}: the {what} {name:?} is not a valid name: use ASCII letters, digits, `_`, `-` and `.` \
         (starting with a letter or `_`, no `..`, not ending in `.`){extra}; rename it in the plugin",
        path.display(),
        extra = match *what {
            "source name" => ", and no `-` or `.` in a source name (feature files write it)".to_string(),
            "filter name" => ", and no `-` or `.` in a filter name (it names the filter's rows)".to_string(),
            "tag" => format!(", and at most {} characters in a tag", radx_dsl::check::MAX_TAG_LEN),
            _ => String::new(),
        }
    )]
    BadName { path: PathBuf, what: &'static str, name: String },
    /// Two plugin features would become the same table column `plugin.feature` (boxed:
    /// the largest cause, and every `Result` carrying a `PluginError` would be as large).
    #[error("plugin {path}: {clash}", path = .0.path.display(), clash = .0)]
    ColumnClash(Box<ColumnClash>),
}

/// Two plugin features that would be one table column, named both.
#[derive(Debug, thiserror::Error)]
#[error(
    "feature `{feature}` of plugin `{plugin}` and feature `{other_feature}` of plugin `{other_plugin}` (from {}) \
     would both be the column `{column}`; rename one of them",
    other_path.display()
)]
pub struct ColumnClash {
    /// The file of the plugin being loaded.
    pub path: PathBuf,
    /// Its name.
    pub plugin: String,
    /// Its feature.
    pub feature: String,
    /// The column both would be.
    pub column: String,
    /// The plugin loaded before.
    pub other_plugin: String,
    /// Its feature.
    pub other_feature: String,
    /// Its file.
    pub other_path: PathBuf,
}

/// Where a plugin was loaded from; it decides whether its problems stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginOrigin {
    /// Named explicitly (`--plugin PATH`, [`PluginRegistry::load`]): any problem is an error.
    Explicit,
    /// Found in a plugin directory (`RADX_PLUGIN_PATH`, [`PluginRegistry::load_dirs`]): a
    /// plugin that fails to load or clashes is skipped with a warning.
    Directory,
}

/// Something about the loaded plugins a user should hear about, which does not stop the
/// run. Library code returns these; front ends print them.
#[derive(Debug, thiserror::Error)]
pub enum PluginWarning {
    /// A plugin from a plugin directory was skipped.
    #[error("{0} (found through {PLUGIN_PATH_VAR}; skipped)")]
    Skipped(PluginError),
    /// A plugin feature carries the tag of another feature radx knows (an IBSI tag says
    /// the value *is* that feature).
    #[error(
        "plugin {}: feature `{plugin}.{feature}` uses the tag `{tag}` of `{known}` ({origin}); a tag names one \
         definition: give the plugin feature a site tag (e.g. `SITE-0001`) unless it computes exactly that feature",
        path.display()
    )]
    ReusedTag {
        path: PathBuf,
        plugin: String,
        feature: String,
        tag: String,
        /// `family.feature` of the feature that has the tag.
        known: String,
        /// Where that feature is defined.
        origin: String,
    },
}

/// Check a plugin, feature or source name, or a tag: ASCII letters, digits, `_`, `-`, `.`,
/// starting with a letter or `_` (a tag also with a digit; at most as long as a feature
/// file's tags may be), with no `..` and not ending in `.` (names become CSV
/// cells and `plugin.feature` column names). Source names are identifiers (letters,
/// digits, `_`): feature files write them.
pub fn check_name(name: &str, what: &'static str, path: &Path) -> Result<(), PluginError> {
    let bad = || PluginError::BadName { path: path.to_path_buf(), what, name: name.to_string() };
    let identifier = what == "source name" || what == "filter name";
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || (!identifier && (c == '-' || c == '.'));
    let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (what == "tag" && c.is_ascii_digit());
    if !name.chars().next().is_some_and(first_ok)
        || !name.chars().all(allowed)
        || name.contains("..")
        || name.ends_with('.')
        || (what == "tag" && name.chars().count() > radx_dsl::check::MAX_TAG_LEN)
    {
        return Err(bad());
    }
    Ok(())
}

/// Why a matrix crossing the plugin boundary is not a valid [`DenseMatrix`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// A matrix built with no axis, or more than the ABI carries.
    #[error("a plugin matrix has 1 to {RADX_MAX_MATRIX_DIMS} axes, not {ndim}")]
    AxisCount { ndim: usize },
    /// A plugin's matrix view claims no axis, or more than the ABI carries.
    #[error("{ndim} axes (1 to {RADX_MAX_MATRIX_DIMS} allowed)")]
    ViewAxisCount { ndim: usize },
    /// The product of the axis lengths does not fit in memory's address range.
    #[error("shape overflows")]
    ShapeOverflow,
    /// A plugin's matrix view has entries but no data pointer.
    #[error("shape {shape:?} but no data")]
    NoData { shape: Vec<usize> },
    /// The entries are not as many as the shape has positions.
    #[error("a matrix of shape {shape:?} has {expected} entries, not {found}")]
    EntryCount { shape: Vec<usize>, expected: usize, found: usize },
    /// Axis values are given for an axis the matrix does not have.
    #[error("axis {axis} does not exist in shape {shape:?}")]
    NoSuchAxis { axis: usize, shape: Vec<usize> },
    /// The axis values are not one per position along the axis.
    #[error("axis {axis} has {len} positions, not {found}")]
    AxisValueCount { axis: usize, len: usize, found: usize },
}

/// Why a source's parameter declaration is not a JSON object of defaults.
#[derive(Debug, thiserror::Error)]
pub enum ParamDefaultsError {
    /// Not JSON text.
    #[error("not JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A number JSON holds but an `f64` cannot (serde_json's arbitrary precision).
    #[error("`{name}`: {number} is not a number")]
    NotANumber { name: String, number: serde_json::Number },
    /// A default that is a list, an object or null, which says no kind.
    #[error("`{name}`: a default must be a flag, number or string, not {value}")]
    NoKind { name: String, value: serde_json::Value },
    /// A name a feature file cannot write.
    #[error("`{name}` is not a parameter name feature files can write (letters, digits, _)")]
    NotAnIdentifier { name: String },
}
