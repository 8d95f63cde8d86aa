//! [`export_plugin!`](crate::export_plugin): the descriptor and entry symbol of a Rust plugin.

/// Turn a string literal into a static NUL-terminated C string pointer.
#[doc(hidden)]
#[macro_export]
macro_rules! __radx_cstr {
    ($s:literal) => {
        concat!($s, "\0").as_ptr().cast::<::std::ffi::c_char>()
    };
}

/// Export a plugin: generates the static descriptor and the `radx_plugin_entry` symbol.
///
/// Feature functions are ordinary Rust: `fn(&Input) -> Result<f64, E>` with `E: Display`;
/// source builders are `fn(&Input, params_json: &str) -> Result<Matrix, E>`. Panics are
/// caught and reported as that call's error. Use it once per `cdylib`.
///
/// ```
/// use radx_plugin::{Input, export_plugin};
///
/// fn voxel_count(input: &Input) -> Result<f64, String> {
///     Ok(input.morphological_mask().count() as f64)
/// }
///
/// export_plugin! {
///     name: "counting",
///     version: "0.1.0",
///     features: [
///         { name: "voxel_count", tag: "SITE-0001", description: "Voxels in the ROI", compute: voxel_count },
///     ],
///     sources: [],
/// }
/// ```
/// A feature may add `source: "name",` before `compute:` to receive that source's matrices,
/// and `margin_mm: 5.0,` (after `source:`, before `compute:`) to see the processed image
/// that far around the ROI's box ([`Input::margin`](crate::Input::margin); [`RADX_MARGIN_WHOLE_IMAGE`](crate::RADX_MARGIN_WHOLE_IMAGE) for all of it).
/// A source states the number of axes of its matrices (`axes: 1` to `4`) and, when it
/// takes parameters, their defaults as a JSON object (`params: r#"{"radius": 1}"#,`,
/// before `build:`); feature files can then write `over name(radius = 2)`. ABI 2.3: a source
/// that needs the image around the ROI adds `margin_mm: 5.0,` (after `params:`, before
/// `build:`), as a feature does; its builder's [`Input::margin`](crate::Input::margin) is then `Some`.
/// After `sources: [...]`, optionally `init: f` (`fn() -> Result<(), E>`, called once
/// after loading; an `Err` refuses the load with its message) and `shutdown: g` (`fn()`,
/// called when radx is done with the plugin). [`log`](crate::log) works from `init` on.
///
/// ABI 2.2: a feature with typed parameters writes, after `source:`/`margin_mm:`,
/// `params: [ p: float = 50.0 in 0.0..=100.0, n: int = 3, strict: bool = false ],` (kinds
/// `int`, `float`, `bool`; the range is optional) and then either `compute_with: f`
/// (`fn(&Input, &Args) -> Result<f64, E>`) or, for a profile (one row per value),
/// `profile: f` (`fn(&Input, &Args) -> Result<Vec<f64>, E>`; `params: []` when it has
/// none). [`Args`](crate::Args) reads the values radx checked against the declaration.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:literal,
        version: $version:literal,
        features: [ $( { $( $fbody:tt )* } ),* $(,)? ],
        sources: [ $( {
            name: $sname:literal,
            description: $sdesc:literal,
            axes: $saxes:literal,
            $( params: $sparams:literal, )?
            $( margin_mm: $smargin:expr, )?
            build: $sbuild:path $(,)?
        } ),* $(,)? ]
        $(, init: $init:path )?
        $(, shutdown: $shutdown:path )?
        $(,)?
    ) => {
        // A panic must unwind to the wrapper's catch_unwind: with `panic = "abort"` it
        // kills radx and every case in flight, with no word of which plugin or case.
        #[cfg(panic = "abort")]
        compile_error!(
            "radx-plugin: this plugin is built with `panic = \"abort\"`, which turns any panic in it into \
             an abort of radx itself; remove `panic = \"abort\"` from the plugin's Cargo profile \
             (and `-C panic=abort` from RUSTFLAGS)"
        );
        const _: () = {
            static RADX_FEATURES: &[$crate::RadxFeatureDesc] =
                &[ $( $crate::export_plugin!(@feature $( $fbody )*) ),* ];
            static RADX_SOURCES: &[$crate::RadxSourceDesc] = &[ $( {
                unsafe extern "C" fn build(
                    _context: *mut ::std::ffi::c_void,
                    input: *const $crate::RadxInput,
                    params: *const ::std::ffi::c_char,
                    out: *mut $crate::RadxMatrixOut,
                ) -> i32 {
                    // SAFETY: radx calls with a valid input, parameters and output (the ABI contract).
                    unsafe { $crate::__private::run_build(input, params, out, $sbuild) }
                }
                $crate::RadxSourceDesc {
                    struct_size: ::std::mem::size_of::<$crate::RadxSourceDesc>(),
                    name: $crate::__radx_cstr!($sname),
                    description: $crate::__radx_cstr!($sdesc),
                    ndim: $saxes,
                    params: $crate::export_plugin!(@params $( $sparams )?),
                    build: Some(build),
                    margin_mm: $crate::export_plugin!(@margin $( $smargin )?),
                }
            } ),* ];
            unsafe extern "C" fn init(
                host: *const $crate::RadxHost,
                _context: *mut *mut ::std::ffi::c_void,
            ) -> i32 {
                // SAFETY: radx passes a host description valid for the process (the ABI contract).
                unsafe { $crate::__private::run_init(host, $crate::export_plugin!(@init $( $init )?)) }
            }
            unsafe extern "C" fn shutdown(_context: *mut ::std::ffi::c_void) {
                $crate::__private::run_shutdown($crate::export_plugin!(@shutdown $( $shutdown )?))
            }
            static RADX_DESCRIPTOR: $crate::RadxPluginDesc = $crate::RadxPluginDesc {
                abi_version: $crate::RADX_PLUGIN_ABI,
                abi_minor: $crate::RADX_PLUGIN_ABI_MINOR,
                struct_size: ::std::mem::size_of::<$crate::RadxPluginDesc>(),
                name: $crate::__radx_cstr!($name),
                version: $crate::__radx_cstr!($version),
                features: RADX_FEATURES.as_ptr(),
                n_features: RADX_FEATURES.len(),
                feature_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
                sources: RADX_SOURCES.as_ptr(),
                n_sources: RADX_SOURCES.len(),
                source_size: ::std::mem::size_of::<$crate::RadxSourceDesc>(),
                last_error: Some($crate::__private::last_error),
                init: Some(init),
                shutdown: Some(shutdown),
            };
            /// The plugin's entry point (see `radx_plugin::RADX_ENTRY_SYMBOL`).
            #[unsafe(no_mangle)]
            pub extern "C" fn radx_plugin_entry() -> *const $crate::RadxPluginDesc {
                &RADX_DESCRIPTOR
            }
        };
    };
    (@feature
        name: $fname:literal,
        tag: $ftag:literal,
        description: $fdesc:literal,
        $( source: $fsource:literal, )?
        $( margin_mm: $fmargin:expr, )?
        compute: $fcompute:path $(,)?
    ) => { {
        unsafe extern "C" fn compute(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            out: *mut f64,
        ) -> i32 {
            // SAFETY: radx calls with a valid input and output (the ABI contract).
            unsafe { $crate::__private::run_feature(input, out, $fcompute) }
        }
        $crate::RadxFeatureDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
            name: $crate::__radx_cstr!($fname),
            tag: $crate::__radx_cstr!($ftag),
            description: $crate::__radx_cstr!($fdesc),
            source: $crate::export_plugin!(@source $( $fsource )?),
            compute: Some(compute),
            margin_mm: $crate::export_plugin!(@margin $( $fmargin )?),
            params: ::std::ptr::null(),
            n_params: 0,
            param_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            profile: 0,
            compute_values: None,
        }
    } };
    (@feature
        name: $fname:literal,
        tag: $ftag:literal,
        description: $fdesc:literal,
        $( source: $fsource:literal, )?
        $( margin_mm: $fmargin:expr, )?
        params: [ $( $pname:ident : $pkind:ident = $pdefault:literal $( in $pmin:literal ..= $pmax:literal )? ),* $(,)? ],
        $how:ident : $fcompute:path $(,)?
    ) => { {
        static PARAMS: &[$crate::RadxParamDesc] = &[ $( $crate::RadxParamDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            name: concat!(stringify!($pname), "\0").as_ptr().cast::<::std::ffi::c_char>(),
            kind: $crate::export_plugin!(@kind $pkind),
            default_value: $crate::export_plugin!(@value $pkind $pdefault),
            min: $crate::export_plugin!(@min $( $pmin )?),
            max: $crate::export_plugin!(@max $( $pmax )?),
        } ),* ];
        static NAMES: &[&str] = &[ $( stringify!($pname) ),* ];
        // What a host older than ABI 2.2 calls: the parameters' defaults.
        static DEFAULTS: &[f64] = &[ $( $crate::export_plugin!(@value $pkind $pdefault) ),* ];
        unsafe extern "C" fn compute(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            out: *mut f64,
        ) -> i32 {
            // SAFETY: radx calls with a valid input and output (the ABI contract).
            unsafe {
                $crate::__private::run_feature_defaults(input, out, NAMES, DEFAULTS, $crate::export_plugin!(@profile $how), $fcompute)
            }
        }
        unsafe extern "C" fn compute_values(
            _context: *mut ::std::ffi::c_void,
            input: *const $crate::RadxInput,
            args: *const f64,
            n_args: usize,
            out: *mut $crate::RadxValuesOut,
        ) -> i32 {
            // SAFETY: radx calls with a valid input, `n_args` values and an output (the ABI contract).
            unsafe { $crate::__private::run_feature_values(input, args, n_args, out, NAMES, $fcompute) }
        }
        $crate::RadxFeatureDesc {
            struct_size: ::std::mem::size_of::<$crate::RadxFeatureDesc>(),
            name: $crate::__radx_cstr!($fname),
            tag: $crate::__radx_cstr!($ftag),
            description: $crate::__radx_cstr!($fdesc),
            source: $crate::export_plugin!(@source $( $fsource )?),
            compute: Some(compute),
            margin_mm: $crate::export_plugin!(@margin $( $fmargin )?),
            params: PARAMS.as_ptr(),
            n_params: PARAMS.len(),
            param_size: ::std::mem::size_of::<$crate::RadxParamDesc>(),
            profile: $crate::export_plugin!(@profile $how) as u32,
            compute_values: Some(compute_values),
        }
    } };
    (@profile compute_with) => { false };
    (@profile profile) => { true };
    (@profile $other:ident) => {
        compile_error!(
            "a feature with `params` computes with `compute_with: f` (fn(&Input, &Args) -> Result<f64, E>) \
             or `profile: f` (fn(&Input, &Args) -> Result<Vec<f64>, E>)"
        )
    };
    (@kind int) => { $crate::RADX_PARAM_INT };
    (@kind float) => { $crate::RADX_PARAM_FLOAT };
    (@kind bool) => { $crate::RADX_PARAM_BOOL };
    (@value bool $v:literal) => { ($v as u8) as f64 };
    (@value $kind:ident $v:literal) => { ($v) as f64 };
    (@min $v:literal) => { ($v) as f64 };
    (@min) => { f64::NEG_INFINITY };
    (@max $v:literal) => { ($v) as f64 };
    (@max) => { f64::INFINITY };
    (@source $s:literal) => { $crate::__radx_cstr!($s) };
    (@source) => { ::std::ptr::null() };
    (@margin $m:expr) => { $m };
    (@margin) => { 0.0 };
    (@params $p:literal) => { $crate::__radx_cstr!($p) };
    (@params) => { $crate::__radx_cstr!("{}") };
    (@init $f:path) => { $f };
    (@init) => { $crate::__private::no_init };
    (@shutdown $f:path) => { $f };
    (@shutdown) => { $crate::__private::no_shutdown };
}
