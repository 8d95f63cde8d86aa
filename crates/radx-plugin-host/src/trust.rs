//! Which plugin libraries radx agrees to open. Opening a library runs its constructors
//! (ELF `.init_array`, Mach-O initialisers) before radx sees its descriptor, so a library
//! that another user could have replaced is refused before `dlopen`, not after: the file
//! itself, and every folder from its own up to `/`, must not be writable by its group or by
//! all users (a folder with the sticky bit, like `/tmp`, is fine: others cannot rename or
//! remove what they do not own in it). Unix only; elsewhere nothing is checked.

use std::path::Path;

use crate::PluginError;

/// Whether libraries that other users could have replaced are loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PluginTrust {
    /// Refuse a library writable by others, or in a folder they can write to (the default).
    #[default]
    OwnerWritableOnly,
    /// Load it anyway (radx: `--allow-untrusted-plugins` or `RADX_ALLOW_UNTRUSTED_PLUGINS=1`).
    AllowWritable,
}

/// Who besides the owner can write to a file or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritableBy {
    /// Its group.
    Group,
    /// Every user.
    Everyone,
    /// Its group and every user.
    GroupAndEveryone,
}

impl std::fmt::Display for WritableBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WritableBy::Group => "its group",
            WritableBy::Everyone => "every user",
            WritableBy::GroupAndEveryone => "its group and every user",
        })
    }
}

impl WritableBy {
    /// Who besides the owner may write, from Unix permission bits; `None`: only the owner.
    pub fn of_mode(mode: u32) -> Option<WritableBy> {
        match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => Some(WritableBy::GroupAndEveryone),
            (true, false) => Some(WritableBy::Group),
            (false, true) => Some(WritableBy::Everyone),
            (false, false) => None,
        }
    }
}

/// Refuse `library` (a canonical path) under [`PluginTrust::OwnerWritableOnly`] when it, or
/// a folder above it, can be written by other users.
pub(crate) fn check(library: &Path, trust: PluginTrust) -> Result<(), PluginError> {
    if trust == PluginTrust::AllowWritable {
        return Ok(());
    }
    check_modes(library)
}

#[cfg(unix)]
fn check_modes(library: &Path) -> Result<(), PluginError> {
    use std::os::unix::fs::PermissionsExt;
    const STICKY: u32 = 0o1000;
    for (depth, place) in library.ancestors().enumerate() {
        let mode = std::fs::metadata(place)
            .map_err(|_| PluginError::NotFound { path: place.to_path_buf() })?
            .permissions()
            .mode();
        // A sticky folder lets others add files but not replace ours; the library itself has no such excuse.
        let sticky_folder = depth > 0 && mode & STICKY != 0;
        if let Some(who) = WritableBy::of_mode(mode).filter(|_| !sticky_folder) {
            return Err(PluginError::Untrusted {
                path: library.to_path_buf(),
                writable: place.to_path_buf(),
                mode: mode & 0o7777,
                who,
            });
        }
    }
    Ok(())
}

/// Not checked: Windows' ACLs are not Unix modes (see docs/plugins.md).
#[cfg(not(unix))]
fn check_modes(_library: &Path) -> Result<(), PluginError> {
    Ok(())
}
