//! Filter plugins (ABI 2.2): a plugin's own image filters, selected in settings files like
//! the built-in IBSI-2 filters (`[[filter]] kind = "plugin"`), whose responses feed every
//! feature family.
//!
//! A plugin exporting filters exports a second symbol besides `radx_plugin_entry`:
//! [`RADX_FILTERS_SYMBOL`] (`radx_plugin_filters`), a function returning a static
//! [`RadxFilterTable`]. The plugin's name, `last_error`, `init` context and `shutdown` are
//! the descriptor's; a plugin may export filters only (no features, no sources).
//!
//! A filter is an image-to-image function: the host passes an image ([`RadxFilterInput`],
//! x-fastest `f64` voxels and their spacing) and a buffer of as many voxels, both owned by
//! the host and valid for the call only; the filter writes every voxel of the buffer. The
//! image is the processed image (after interpolation), cropped to the ROI's neighbourhood
//! grown by the filter's declared margin ([`RadxFilterDesc::margin_voxels`],
//! [`RadxFilterDesc::margin_mm`]), or whole; beyond its edges the filter applies its
//! declared boundary condition ([`RadxFilterDesc::boundary`], the IBSI-2 names). Filters
//! are called concurrently, on many threads, for different cases.
//!
//! Rust authors write `fn(&FilterImage, &mut [f64]) -> Result<(), E>` and export it with
//! [`export_filters!`](crate::export_filters) (next to [`export_plugin!`](crate::export_plugin));
//! [`Boundary::index`] reads an image past its edges as the IBSI-2 conditions do.

use std::ffi::{c_char, c_void};
use std::fmt::Display;

use crate::{RADX_ERROR, RADX_OK, RadxImageView};

/// The optional symbol of a plugin with filters: `const RadxFilterTable *radx_plugin_filters(void)`.
pub const RADX_FILTERS_SYMBOL: &str = "radx_plugin_filters";

/// The image a filter filters, borrowed from the host for one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFilterInput {
    /// `size_of::<RadxFilterInput>()` as the host built it: fields past it are absent.
    pub struct_size: usize,
    /// The image: `dims[0]·dims[1]·dims[2]` intensities, x-fastest, and the voxel spacing (mm).
    pub image: RadxImageView,
    /// The filter's parameters as a NUL-terminated JSON object: every parameter the filter
    /// declared ([`RadxFilterDesc::params`]), the settings' value or the default.
    pub params_json: *const c_char,
}

/// Filters `input` into `out` (`out_len` voxels, as many as the image has, x-fastest,
/// host-owned): writes every voxel and returns [`RADX_OK`], or returns [`RADX_ERROR`] with
/// a message behind the descriptor's `last_error`. `context` is what `init` stored.
pub type RadxFilterFn =
    unsafe extern "C" fn(context: *mut c_void, input: *const RadxFilterInput, out: *mut f64, out_len: usize) -> i32;

/// One filter a plugin offers. Strings are static, NUL-terminated UTF-8.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFilterDesc {
    /// `size_of::<RadxFilterDesc>()` as the plugin built it (equal to the table's `filter_size`).
    pub struct_size: usize,
    /// The filter's name, unique among loaded plugins: what settings select
    /// (`name = "..."`) and the image type its rows are reported under. An identifier
    /// (ASCII letters, digits, `_`), not a built-in filter's kind.
    pub name: *const c_char,
    /// One-line description.
    pub description: *const c_char,
    /// How far (voxels, along x, y, z) the response at a voxel reads the image: a 3×3×3
    /// kernel reads 1 voxel. The host hands the filter that much more image around the ROI.
    pub margin_voxels: [usize; 3],
    /// Also how far in mm (the host takes the wider of both on the image's grid): 0 for
    /// none, negative or infinite ([`crate::RADX_MARGIN_WHOLE_IMAGE`]) when the response
    /// depends on the whole image. NaN is refused.
    pub margin_mm: f64,
    /// The boundary condition the filter applies past the image's edges: `zero`,
    /// `nearest`, `periodic` or `mirror` (IBSI-2). `periodic` reads across the whole image,
    /// so the host always passes it whole.
    pub boundary: *const c_char,
    /// The parameters with their defaults, as a JSON object (kinds as a source's: a flag,
    /// an integer, a real or a string), or null / `{}` for none.
    pub params: *const c_char,
    /// `f64` volumes of the image's size the filter allocates at its peak, beyond the
    /// host's input and output (for radx's memory budget): 0 for a filter writing straight
    /// into `out`.
    pub working_volumes: usize,
    /// The filter.
    pub apply: Option<RadxFilterFn>,
}

/// What `radx_plugin_filters` returns: a static table of filters.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RadxFilterTable {
    /// [`crate::RADX_PLUGIN_ABI`], the major version (the descriptor's).
    pub abi_version: u32,
    /// [`crate::RADX_PLUGIN_ABI_MINOR`] as the plugin was built (2 or later).
    pub abi_minor: u32,
    /// `size_of::<RadxFilterTable>()` as the plugin built it: fields past it are absent.
    pub struct_size: usize,
    /// The filters, `n_filters` of them, `filter_size` bytes apart.
    pub filters: *const RadxFilterDesc,
    /// Number of filters.
    pub n_filters: usize,
    /// Bytes from one filter to the next (`size_of::<RadxFilterDesc>()` as built).
    pub filter_size: usize,
}

/// The type of [`RADX_FILTERS_SYMBOL`].
pub type RadxFiltersFn = unsafe extern "C" fn() -> *const RadxFilterTable;

// SAFETY: descriptors are immutable static data (strings and function pointers) that
// neither side ever writes through; sharing them between threads is sound.
unsafe impl Sync for RadxFilterDesc {}
// SAFETY: as above.
unsafe impl Sync for RadxFilterTable {}
// SAFETY: as above.
unsafe impl Send for RadxFilterDesc {}

/// How an image is read past its edges (IBSI-2's boundary conditions). For an axis of N
/// voxels, index −1, −2 and N, N+1 read: zero → 0; nearest → x[0] / x[N−1]; periodic →
/// x[N−1], x[N−2] / x[0], x[1]; mirror → x[0], x[1] / x[N−1], x[N−2] (numpy's `symmetric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Zero outside.
    Zero,
    /// The edge voxel repeated.
    Nearest,
    /// The image wraps around.
    Periodic,
    /// Mirrored about the edge, the edge voxel repeated.
    Mirror,
}

impl Boundary {
    /// The in-image index read for index `n` on an axis of `len` voxels, or `None` where
    /// the value is 0 (zero padding, or an empty axis).
    pub fn index(self, n: isize, len: usize) -> Option<usize> {
        let len_i = isize::try_from(len).ok().filter(|&l| l > 0)?;
        if (0..len_i).contains(&n) {
            return Some(n as usize);
        }
        let folded = match self {
            Boundary::Zero => return None,
            Boundary::Nearest => n.clamp(0, len_i - 1),
            Boundary::Periodic => n.rem_euclid(len_i),
            Boundary::Mirror => {
                let m = n.rem_euclid(2 * len_i);
                if m < len_i { m } else { 2 * len_i - 1 - m }
            }
        };
        Some(folded as usize)
    }
}

/// The image a Rust filter receives (see [`RadxFilterInput`]).
#[derive(Debug, Clone, Copy)]
pub struct FilterImage<'a> {
    /// The voxels, x-fastest (see [`crate::voxel_index`]).
    pub data: &'a [f64],
    /// Number of voxels along x, y, z.
    pub dims: [usize; 3],
    /// Voxel size in mm along x, y, z.
    pub spacing: [f64; 3],
    /// The parameters, a JSON object with every declared parameter.
    pub params_json: &'a str,
}

impl FilterImage<'_> {
    /// The value at `[x, y, z]`, which may lie outside the image: read as `boundary` says.
    #[inline]
    pub fn get(&self, x: isize, y: isize, z: isize, boundary: Boundary) -> f64 {
        let [nx, ny, nz] = self.dims;
        match (boundary.index(x, nx), boundary.index(y, ny), boundary.index(z, nz)) {
            (Some(i), Some(j), Some(k)) => self.data[crate::voxel_index(self.dims, i, j, k)],
            _ => 0.0,
        }
    }
}

/// Glue [`export_filters!`](crate::export_filters) calls; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;
    use crate::__private::{catch_quietly, clear_last_error, set_last_error};

    /// The image a host passed, checked: a message for what is wrong with it.
    ///
    /// # Safety
    /// `input` must be non-null and valid (the ABI contract).
    unsafe fn read<'a>(input: *const RadxFilterInput, out_len: usize) -> Result<FilterImage<'a>, String> {
        // SAFETY: every filter input starts with its size (the caller's contract).
        let size = unsafe { input.cast::<usize>().read() };
        if size < std::mem::size_of::<RadxFilterInput>() {
            return Err(format!("radx passed a filter input of {size} bytes, less than ABI 2.2's"));
        }
        // SAFETY: at least this version's struct (checked), valid for the call.
        let raw = unsafe { &*input };
        let len: usize = raw.image.dims.iter().product();
        if len != out_len || (len > 0 && raw.image.data.is_null()) {
            return Err(format!("radx passed an image of {len} voxels and an output of {out_len}"));
        }
        let params_json = if raw.params_json.is_null() {
            "{}"
        } else {
            // SAFETY: NUL-terminated and valid for the call (the ABI contract).
            unsafe { std::ffi::CStr::from_ptr(raw.params_json) }
                .to_str()
                .map_err(|_| "the filter parameters are not UTF-8".to_string())?
        };
        // SAFETY: `len` voxels behind a non-null pointer (checked), valid for the call.
        let data = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(raw.image.data, len) } };
        Ok(FilterImage { data, dims: raw.image.dims, spacing: raw.image.spacing, params_json })
    }

    /// Run a filter behind the C boundary: null checks, catch_unwind, errors.
    ///
    /// # Safety
    /// `input` must be null or a valid [`RadxFilterInput`]; `out` null or valid for
    /// `out_len` writes, not overlapping the image.
    pub unsafe fn run_filter<F, E>(input: *const RadxFilterInput, out: *mut f64, out_len: usize, apply: F) -> i32
    where
        F: Fn(&FilterImage<'_>, &mut [f64]) -> Result<(), E>,
        E: Display,
    {
        clear_last_error();
        if input.is_null() || (out.is_null() && out_len > 0) {
            set_last_error("radx passed a null input or output pointer");
            return RADX_ERROR;
        }
        // SAFETY: non-null and valid per the caller's contract.
        let image = match unsafe { read(input, out_len) } {
            Ok(image) => image,
            Err(message) => {
                set_last_error(&message);
                return RADX_ERROR;
            }
        };
        let out: &mut [f64] =
            // SAFETY: `out_len` writable voxels, distinct from the image (the caller's contract).
            if out_len == 0 { &mut [] } else { unsafe { std::slice::from_raw_parts_mut(out, out_len) } };
        match catch_quietly(|| apply(&image, out)) {
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
}

/// Export a plugin's filters: generates the static [`RadxFilterTable`] and the
/// `radx_plugin_filters` symbol. Use it once per `cdylib`, beside
/// [`export_plugin!`](crate::export_plugin) (which names the plugin; its `features` and
/// `sources` may be empty).
///
/// A filter is `fn(&FilterImage, &mut [f64]) -> Result<(), E>` with `E: Display`: it
/// writes every voxel of the output (x-fastest, as many as the image). Panics are caught
/// and reported as that call's error.
///
/// ```
/// use radx_plugin::{Boundary, FilterImage, export_filters, export_plugin};
///
/// fn negate(image: &FilterImage, out: &mut [f64]) -> Result<(), String> {
///     for (o, v) in out.iter_mut().zip(image.data) {
///         *o = -v;
///     }
///     Ok(())
/// }
///
/// export_plugin! { name: "negating", version: "0.1.0", features: [], sources: [] }
/// export_filters! {
///     filters: [
///         { name: "negated", description: "-I", boundary: "nearest", margin_voxels: [0, 0, 0], apply: negate },
///     ],
/// }
/// ```
/// Optionally, before `apply:` and in this order: `margin_mm: 2.5,` (also this far in
/// mm; [`crate::RADX_MARGIN_WHOLE_IMAGE`] for the whole image), `params: r#"{"k": 1}"#,`
/// (parameters and defaults; the filter reads them from [`FilterImage::params_json`]) and
/// `working_volumes: 1,` (image-sized `f64` buffers it allocates).
#[macro_export]
macro_rules! export_filters {
    (
        filters: [ $( {
            name: $name:literal,
            description: $desc:literal,
            boundary: $boundary:literal,
            margin_voxels: $margin:expr,
            $( margin_mm: $mm:expr, )?
            $( params: $params:literal, )?
            $( working_volumes: $volumes:expr, )?
            apply: $apply:path $(,)?
        } ),* $(,)? ] $(,)?
    ) => {
        const _: () = {
            static RADX_FILTERS: &[$crate::RadxFilterDesc] = &[ $( {
                unsafe extern "C" fn apply(
                    _context: *mut ::std::ffi::c_void,
                    input: *const $crate::RadxFilterInput,
                    out: *mut f64,
                    out_len: usize,
                ) -> i32 {
                    // SAFETY: radx calls with a valid input and output (the ABI contract).
                    unsafe { $crate::filter::__private::run_filter(input, out, out_len, $apply) }
                }
                $crate::RadxFilterDesc {
                    struct_size: ::std::mem::size_of::<$crate::RadxFilterDesc>(),
                    name: $crate::__radx_cstr!($name),
                    description: $crate::__radx_cstr!($desc),
                    margin_voxels: $margin,
                    margin_mm: $crate::export_filters!(@or $( $mm )? ; 0.0),
                    boundary: $crate::__radx_cstr!($boundary),
                    params: $crate::export_filters!(@params $( $params )?),
                    working_volumes: $crate::export_filters!(@or $( $volumes )? ; 0),
                    apply: Some(apply),
                }
            } ),* ];
            static RADX_FILTER_TABLE: $crate::RadxFilterTable = $crate::RadxFilterTable {
                abi_version: $crate::RADX_PLUGIN_ABI,
                abi_minor: $crate::RADX_PLUGIN_ABI_MINOR,
                struct_size: ::std::mem::size_of::<$crate::RadxFilterTable>(),
                filters: RADX_FILTERS.as_ptr(),
                n_filters: RADX_FILTERS.len(),
                filter_size: ::std::mem::size_of::<$crate::RadxFilterDesc>(),
            };
            /// The plugin's filters (see `radx_plugin::RADX_FILTERS_SYMBOL`).
            #[unsafe(no_mangle)]
            pub extern "C" fn radx_plugin_filters() -> *const $crate::RadxFilterTable {
                &RADX_FILTER_TABLE
            }
        };
    };
    (@or ; $default:expr) => { $default };
    (@or $v:expr ; $default:expr) => { $v };
    (@params $p:literal) => { $crate::__radx_cstr!($p) };
    (@params) => { $crate::__radx_cstr!("{}") };
}

#[cfg(test)]
mod tests {
    use super::Boundary;

    #[test]
    fn boundaries_read_past_the_edges_as_ibsi_2_says() {
        // Axis of 3 voxels a b c; indices -2 -1 | 0 1 2 | 3 4.
        let read = |b: Boundary| [-2, -1, 3, 4].map(|n| b.index(n, 3));
        assert_eq!(read(Boundary::Zero), [None; 4]);
        assert_eq!(read(Boundary::Nearest), [Some(0), Some(0), Some(2), Some(2)]);
        assert_eq!(read(Boundary::Periodic), [Some(1), Some(2), Some(0), Some(1)]);
        // b a | a b c | c b
        assert_eq!(read(Boundary::Mirror), [Some(1), Some(0), Some(2), Some(1)]);
        assert_eq!(Boundary::Mirror.index(0, 0), None);
    }
}
