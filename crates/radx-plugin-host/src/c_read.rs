//! Reading a plugin's static C data: its NUL-terminated strings and its tables of
//! entries (a newer minor version's entries are longer). Leaf of the loading modules.

use std::ffi::{CStr, c_char};
use std::path::Path;

use crate::PluginError;

/// A static, NUL-terminated, UTF-8 string from a descriptor.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string that outlives the process
/// (descriptor strings are static in a library that is never unloaded).
pub(crate) unsafe fn descriptor_text(p: *const c_char, what: &str, path: &Path) -> Result<String, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    if p.is_null() {
        return Err(malformed(format!("{what} is null")));
    }
    // SAFETY: per the function's contract.
    let text = unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| malformed(format!("{what} is not UTF-8")))?;
    if text.is_empty() {
        return Err(malformed(format!("{what} is empty")));
    }
    Ok(text.to_string())
}

/// The entries of a static table of `n` structs `stride` bytes apart (a newer minor
/// version's structs are larger: only the prefix this radx knows is read).
///
/// # Safety
/// `ptr` must be null (then `n` is 0, checked) or point to `n` entries `stride` bytes
/// apart, each starting with a `T`, living for the process.
pub(crate) unsafe fn table<T>(
    ptr: *const T,
    n: usize,
    stride: usize,
    what: &str,
    path: &Path,
) -> Result<Vec<&'static T>, PluginError> {
    let malformed = |reason: String| PluginError::Malformed { path: path.to_path_buf(), reason };
    if n == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(malformed(format!("{n} {what} declared but the table is null")));
    }
    if stride < std::mem::size_of::<T>() || !stride.is_multiple_of(std::mem::align_of::<T>()) {
        return Err(malformed(format!(
            "the {what} are {stride} bytes apart, but an entry of this ABI takes {} bytes",
            std::mem::size_of::<T>()
        )));
    }
    // SAFETY: per the function's contract: entry i starts i·stride bytes in, aligned (checked).
    Ok((0..n).map(|i| unsafe { &*ptr.cast::<u8>().add(i * stride).cast::<T>() }).collect())
}

/// The `T` at byte `offset` of a table entry that a later minor version appended, when the
/// entry has it (its `struct_size` and the table's stride both cover it), else `None`.
/// Only the field is read: reading this version's whole struct would read past an older
/// entry that ends before the fields appended after this one.
///
/// # Safety
/// `entry` must start a static entry of `stride` bytes whose first `struct_size` bytes are
/// laid out as this version's struct, which has a `T` at `offset`.
pub(crate) unsafe fn appended_field<T: Copy>(
    entry: *const u8,
    struct_size: usize,
    stride: usize,
    offset: usize,
) -> Option<T> {
    if struct_size.min(stride) < offset + std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: the field lies inside the entry (checked) and has type `T` (the contract); it
    // is read unaligned, so the table's alignment does not matter.
    Some(unsafe { entry.add(offset).cast::<T>().read_unaligned() })
}
