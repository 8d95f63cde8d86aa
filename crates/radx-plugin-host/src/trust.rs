//! Which plugin libraries radx agrees to open. Opening a library runs its constructors
//! (ELF `.init_array`, Mach-O initialisers) before radx sees its descriptor, so a library
//! that another user could have replaced is refused before `dlopen`, not after: the file
//! itself, and every folder from its own up to `/`, must be owned by the user running radx
//! or by root, and not be writable by its group or by all users (a folder with the sticky
//! bit, like `/tmp`, is fine: others cannot rename or remove what they do not own in it).
//! Unix only; elsewhere nothing is checked.

use std::path::Path;

use crate::PluginError;

/// Whether libraries that other users could have replaced are loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PluginTrust {
    /// Refuse a library writable by others or owned by another user than root and the one
    /// running radx, or in a folder that is (the default).
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
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    const STICKY: u32 = 0o1000;
    let user = effective_user();
    for (depth, place) in library.ancestors().enumerate() {
        let metadata = std::fs::metadata(place).map_err(|_| PluginError::NotFound { path: place.to_path_buf() })?;
        // Its owner can change its mode and replace what it holds, whatever the mode says now.
        if !trusted_owner(metadata.uid(), user) {
            return Err(PluginError::ForeignOwner {
                path: library.to_path_buf(),
                owned: place.to_path_buf(),
                owner: metadata.uid(),
                user,
            });
        }
        let mode = metadata.permissions().mode();
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

/// Whether a file or folder owned by `owner` is trusted by `user`: only root and the user
/// themself can change what the user runs.
pub(crate) fn trusted_owner(owner: u32, user: u32) -> bool {
    owner == 0 || owner == user
}

/// The effective user id, whose permissions the loaded code would run with.
#[cfg(unix)]
fn effective_user() -> u32 {
    // SAFETY: geteuid takes no argument, touches no memory of ours and always succeeds.
    unsafe { libc::geteuid() }
}

/// Not checked: Windows' ACLs are not Unix modes (see docs/plugins.md).
#[cfg(not(unix))]
fn check_modes(_library: &Path) -> Result<(), PluginError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_root_and_the_user_are_trusted_owners() {
        assert!(super::trusted_owner(0, 1000));
        assert!(super::trusted_owner(1000, 1000));
        assert!(!super::trusted_owner(1001, 1000));
        assert!(super::trusted_owner(0, 0));
        assert!(!super::trusted_owner(1000, 0), "root does not run a user's library");
    }
}
