//! The export macro, exercised in-process: the descriptor it generates, errors and panics
//! turned into RADX_ERROR + last_error, and source matrices released by the plugin.

use std::ffi::{CStr, c_char};

use radx_plugin::{
    Args, Input, Matrix, RADX_ERROR, RADX_OK, RADX_PARAM_BOOL, RADX_PARAM_FLOAT, RADX_PARAM_INT, RADX_PLUGIN_ABI,
    RADX_PLUGIN_ABI_MINOR, RadxFeatureDesc, RadxGeometry, RadxImageView, RadxInput, RadxLevelsView, RadxMaskView,
    RadxMatrixOut, RadxMatrixView, RadxPluginDesc, RadxRegionView, RadxSourceDesc, RadxValuesOut, RadxValuesView,
    export_plugin,
};

fn count_inside(input: &Input) -> Result<f64, String> {
    Ok(input.morphological_mask().count() as f64)
}

fn refuses(_: &Input) -> Result<f64, String> {
    Err("no value for this ROI".to_string())
}

fn panics(_: &Input) -> Result<f64, String> {
    panic!("boom at voxel 3")
}

fn first_matrix_sum(input: &Input) -> Result<f64, String> {
    let m = input.matrix(0).ok_or("no matrix")?;
    Ok(m.data.iter().sum())
}

/// 100·x + 10·y + z of the box offset, plus the label in thousands, plus the id's length
/// in millions: every case field in one number.
fn case_fields(input: &Input) -> Result<f64, String> {
    let g = input.geometry();
    let [x, y, z] = g.box_offset;
    let id = input.case_id().map_or(0, str::len);
    Ok((100 * x + 10 * y + z) as f64 + 1000.0 * input.label() as f64 + 1e6 * id as f64)
}

/// World x of box voxel [1, 0, 0].
fn world_x_of_next_voxel(input: &Input) -> Result<f64, String> {
    Ok(input.geometry().world(1, 0, 0)[0])
}

/// The ABI 2.1 fields in one number: 1000 × the settings' length (−1 when absent), plus
/// the margin region's intensity sum + 100 × its x offset + 10 × its ROI voxels (−1 when
/// absent).
fn settings_and_margin(input: &Input) -> Result<f64, String> {
    let settings = input.settings_json().map_or(-1.0, |s| s.len() as f64);
    let margin = input.margin().map_or(-1.0, |r| {
        r.image.iter().sum::<f64>() + 100.0 * r.offset[0] as f64 + 10.0 * r.morphological_mask.count() as f64
    });
    Ok(1000.0 * settings + margin)
}

/// 1 when the host says the run is being cancelled.
fn is_cancelled(_: &Input) -> Result<f64, String> {
    Ok(f64::from(u8::from(radx_plugin::cancelled())))
}

/// k·(voxels inside) + n, negated when `negate`: every kind of parameter in one number.
fn scaled(input: &Input, args: &Args) -> Result<f64, String> {
    let v = args.float("k") * input.morphological_mask().count() as f64 + args.int("n") as f64;
    Ok(if args.flag("negate") { -v } else { v })
}

/// `n` values 0, step, 2·step, …
fn ramp(_: &Input, args: &Args) -> Result<Vec<f64>, String> {
    Ok((0..args.int("n")).map(|i| i as f64 * args.float("step")).collect())
}

fn histogram(input: &Input, params: &str) -> Result<Matrix, String> {
    if params != "{}" {
        return Err(format!("unexpected parameters {params}"));
    }
    let mut counts = vec![0.0; 2];
    for &b in input.morphological_mask().data {
        counts[usize::from(b != 0)] += 1.0;
    }
    Matrix::new(vec![2], counts)?.with_axis_values(0, vec![0.0, 1.0])
}

export_plugin! {
    name: "in-process",
    version: "1.2.3",
    features: [
        { name: "count", tag: "TEST-0001", description: "Voxels inside", compute: count_inside },
        { name: "refuses", tag: "TEST-0002", description: "Always an error", compute: refuses },
        { name: "panics", tag: "TEST-0003", description: "Always panics", compute: panics },
        { name: "matrix_sum", tag: "TEST-0004", description: "Sum of matrix 0", source: "hist", compute: first_matrix_sum },
        { name: "case_fields", tag: "TEST-0005", description: "Offset, label and id", compute: case_fields },
        { name: "world_x", tag: "TEST-0006", description: "World x of voxel [1,0,0]", compute: world_x_of_next_voxel },
        {
            name: "settings_and_margin",
            tag: "TEST-0007",
            description: "The ABI 2.1 fields",
            margin_mm: 2.5,
            compute: settings_and_margin,
        },
        { name: "cancelled", tag: "TEST-0008", description: "Whether the run is cancelled", compute: is_cancelled },
        {
            name: "scaled",
            tag: "TEST-0009",
            description: "k times the voxels inside, plus n, negated",
            params: [ k: float = 2.0 in 0.0..=10.0, n: int = 3 in -5..=5, negate: bool = false ],
            compute_with: scaled,
        },
        {
            name: "ramp",
            tag: "TEST-0010",
            description: "n values 0, step, 2 step, ...",
            params: [ n: int = 4 in 0..=100, step: float = 0.5 ],
            profile: ramp,
        },
    ],
    sources: [
        { name: "hist", description: "Voxels outside/inside", axes: 1, build: histogram },
        {
            name: "hist_with_params",
            description: "The same histogram, declaring parameters",
            axes: 1,
            params: r#"{"power": 2, "scale": 0.5}"#,
            build: histogram,
        },
    ],
}

fn descriptor() -> &'static RadxPluginDesc {
    // SAFETY: the macro above defines this symbol in the test binary and returns a static.
    unsafe extern "C" {
        fn radx_plugin_entry() -> *const RadxPluginDesc;
    }
    unsafe { &*radx_plugin_entry() }
}

fn text(p: *const c_char) -> &'static str {
    assert!(!p.is_null());
    // SAFETY: descriptor strings are static and NUL-terminated.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

/// A 2×2×1 ROI with 3 voxels inside the mask.
struct Fixture {
    image: Vec<f64>,
    mask: Vec<u8>,
    matrix: Vec<f64>,
    /// A 3×1×1 margin region with its ROI voxel in the middle.
    region: Vec<f64>,
    region_mask: Vec<u8>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            image: vec![1.0, 2.0, 3.0, 4.0],
            mask: vec![1, 1, 0, 1],
            matrix: vec![1.5, 2.5, 3.0],
            region: vec![1.0, 2.0, 4.0],
            region_mask: vec![0, 1, 0],
        }
    }

    fn raw(&self, matrix: &RadxMatrixView) -> RadxInput {
        let dims = [2, 2, 1];
        RadxInput {
            struct_size: std::mem::size_of::<RadxInput>(),
            image: RadxImageView { data: self.image.as_ptr(), dims, spacing: [1.0; 3] },
            morphological_mask: RadxMaskView { data: self.mask.as_ptr(), dims },
            intensity_mask: RadxMaskView { data: self.mask.as_ptr(), dims },
            intensities: RadxValuesView { data: std::ptr::null(), len: 0 },
            levels: RadxLevelsView { data: std::ptr::null(), dims, ng: 0 },
            matrices: matrix,
            n_matrices: 1,
            geometry: RadxGeometry {
                origin: [10.0, 20.0, 30.0],
                direction: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                box_offset: [3, 4, 5],
                image_dims: [16, 16, 16],
            },
            case_id: c"case-7".as_ptr(),
            label: 2,
            settings_json: c"{\"a\":1}".as_ptr(),
            margin: RadxRegionView {
                image: RadxImageView { data: self.region.as_ptr(), dims: [3, 1, 1], spacing: [1.0; 3] },
                morphological_mask: RadxMaskView { data: self.region_mask.as_ptr(), dims: [3, 1, 1] },
                intensity_mask: RadxMaskView { data: self.region_mask.as_ptr(), dims: [3, 1, 1] },
                offset: [2, 0, 0],
            },
        }
    }

    fn matrix(&self) -> RadxMatrixView {
        RadxMatrixView { data: self.matrix.as_ptr(), ndim: 1, shape: [3, 0, 0, 0], axis_values: [std::ptr::null(); 4] }
    }
}

fn call(index: usize, input: &RadxInput) -> Result<f64, String> {
    let d = descriptor();
    // SAFETY: index < n_features (asserted by callers), descriptor arrays are static.
    let f = unsafe { &*d.features.add(index) };
    let mut out = f64::NAN;
    let status = unsafe { (f.compute.unwrap())(std::ptr::null_mut(), input, &mut out) };
    if status == RADX_OK {
        Ok(out)
    } else {
        assert_eq!(status, RADX_ERROR);
        Err(text(unsafe { (d.last_error.unwrap())() }).to_string())
    }
}

#[test]
fn descriptor_lists_everything() {
    let d = descriptor();
    assert_eq!((d.abi_version, d.abi_minor), (RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR));
    // Every struct carries its size; the tables' strides are the entries' sizes.
    assert_eq!(d.struct_size, std::mem::size_of::<RadxPluginDesc>());
    assert_eq!(d.feature_size, std::mem::size_of::<RadxFeatureDesc>());
    assert_eq!(d.source_size, std::mem::size_of::<RadxSourceDesc>());
    assert_eq!(unsafe { &*d.features }.struct_size, std::mem::size_of::<RadxFeatureDesc>());
    assert!(d.init.is_some() && d.shutdown.is_some());
    assert_eq!(text(d.name), "in-process");
    assert_eq!(text(d.version), "1.2.3");
    assert_eq!(d.n_features, 10);
    let margins: Vec<f64> = (0..10).map(|i| unsafe { &*d.features.add(i) }.margin_mm).collect();
    assert_eq!(margins, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.5, 0.0, 0.0, 0.0]);
    assert_eq!(d.n_sources, 2);
    let f3 = unsafe { &*d.features.add(3) };
    assert_eq!((text(f3.name), text(f3.tag), text(f3.source)), ("matrix_sum", "TEST-0004", "hist"));
    assert!(unsafe { &*d.features }.source.is_null());
    let s = unsafe { &*d.sources };
    assert_eq!(text(s.name), "hist");
    // Without `params:` the macro declares an empty parameter object.
    assert_eq!((s.ndim, text(s.params)), (1, "{}"));
    let s = unsafe { &*d.sources.add(1) };
    assert_eq!((text(s.name), s.ndim, text(s.params)), ("hist_with_params", 1, r#"{"power": 2, "scale": 0.5}"#));
}

#[test]
fn values_errors_and_panics_cross_the_boundary() {
    let fx = Fixture::new();
    let m = fx.matrix();
    let input = fx.raw(&m);
    assert_eq!(call(0, &input), Ok(3.0));
    assert_eq!(call(1, &input), Err("no value for this ROI".to_string()));
    let err = call(2, &input).unwrap_err();
    assert!(err.contains("panicked") && err.contains("boom at voxel 3"), "{err}");
    // After a panic the plugin still works.
    assert_eq!(call(0, &input), Ok(3.0));
    // 1.5 + 2.5 + 3.0
    assert_eq!(call(3, &input), Ok(7.0));
    // Offset (3, 4, 5) → 345; label 2 → 2000; "case-7" → 6 characters.
    assert_eq!(call(4, &input), Ok(6_002_345.0));
    // Origin x 10 mm, spacing 1 mm, identity direction.
    assert_eq!(call(5, &input), Ok(11.0));
    // Settings `{"a":1}`: 7 characters; region 1 + 2 + 4 = 7, offset x 2, one ROI voxel.
    assert_eq!(call(6, &input), Ok(7000.0 + 7.0 + 200.0 + 10.0));
}

/// A host of ABI 2.0 builds the smaller input of that version: the fields appended since
/// are absent for the plugin, whatever lies past the struct the host filled.
#[test]
fn an_input_from_an_abi_2_0_host_has_no_settings_or_margin() {
    let fx = Fixture::new();
    let m = fx.matrix();
    // A whole input whose size says 2.0: its settings and margin must not be read.
    let mut input = fx.raw(&m);
    input.struct_size = std::mem::size_of::<radx_plugin::v2_0::RadxInput>();
    assert_eq!(call(6, &input), Ok(-1000.0 - 1.0));
    // The fields 2.0 had are all there.
    assert_eq!(call(4, &input), Ok(6_002_345.0));
    input.struct_size = 8;
    assert!(call(0, &input).unwrap_err().contains("less than ABI 2.0's"));
}

/// `last_error` describes the thread's last call only: after a success it is null, never
/// the message of an earlier failure (which a host would attach to the wrong value).
#[test]
fn last_error_is_never_a_stale_message() {
    let fx = Fixture::new();
    let m = fx.matrix();
    let input = fx.raw(&m);
    let d = descriptor();
    assert_eq!(call(1, &input), Err("no value for this ROI".to_string()));
    assert_eq!(call(0, &input), Ok(3.0));
    assert!(unsafe { (d.last_error.unwrap())() }.is_null(), "a stale message after a successful call");
}

#[test]
fn null_pointers_are_an_error_not_a_crash() {
    let d = descriptor();
    let f = unsafe { &*d.features };
    let mut out = 0.0;
    assert_eq!(unsafe { (f.compute.unwrap())(std::ptr::null_mut(), std::ptr::null(), &mut out) }, RADX_ERROR);
    assert!(text(unsafe { (d.last_error.unwrap())() }).contains("null"));
}

#[test]
fn source_matrix_is_built_by_the_plugin_and_released_by_it() {
    let fx = Fixture::new();
    let m = fx.matrix();
    let input = fx.raw(&m);
    let d = descriptor();
    let s = unsafe { &*d.sources };
    let mut out = std::mem::MaybeUninit::<RadxMatrixOut>::uninit();
    let status = unsafe { (s.build.unwrap())(std::ptr::null_mut(), &input, c"{}".as_ptr(), out.as_mut_ptr()) };
    assert_eq!(status, RADX_OK);
    let mut out = unsafe { out.assume_init() };
    assert_eq!(out.matrix.ndim, 1);
    assert_eq!(out.matrix.shape, [2, 0, 0, 0]);
    // Mask 1,1,0,1: one voxel outside, three inside.
    let data = unsafe { std::slice::from_raw_parts(out.matrix.data, 2) };
    assert_eq!(data, &[1.0, 3.0]);
    let axis = unsafe { std::slice::from_raw_parts(out.matrix.axis_values[0], 2) };
    assert_eq!(axis, &[0.0, 1.0]);
    assert!(out.matrix.axis_values[1].is_null());
    unsafe { (out.release.unwrap())(&mut out) };
    assert!(out.owner.is_null());

    let mut out = std::mem::MaybeUninit::<RadxMatrixOut>::uninit();
    let status = unsafe { (s.build.unwrap())(std::ptr::null_mut(), &input, c"{\"x\":1}".as_ptr(), out.as_mut_ptr()) };
    assert_eq!(status, RADX_ERROR);
    assert!(text(unsafe { (d.last_error.unwrap())() }).contains("unexpected parameters"));
}

static HOST_CANCELS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

unsafe extern "C" fn test_cancelled(_: *mut std::ffi::c_void) -> i32 {
    i32::from(HOST_CANCELS.load(std::sync::atomic::Ordering::Relaxed))
}

/// `radx_plugin::cancelled()` asks the host's callback given at init (ABI 2.1). The only
/// test of this binary that runs the plugin's init (the SDK keeps the first host it sees).
#[test]
fn cancelled_asks_the_host_given_at_init() {
    let fx = Fixture::new();
    let m = fx.matrix();
    let input = fx.raw(&m);
    // Before init there is no host to ask.
    assert_eq!(call(7, &input), Ok(0.0));
    let host = Box::leak(Box::new(radx_plugin::RadxHost {
        struct_size: std::mem::size_of::<radx_plugin::RadxHost>(),
        abi_major: RADX_PLUGIN_ABI,
        abi_minor: RADX_PLUGIN_ABI_MINOR,
        host_data: std::ptr::null_mut(),
        log: None,
        cancelled: Some(test_cancelled),
    }));
    let d = descriptor();
    let mut context = std::ptr::null_mut();
    assert_eq!(unsafe { (d.init.unwrap())(host, &mut context) }, RADX_OK);
    assert_eq!(call(7, &input), Ok(0.0));
    HOST_CANCELS.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(call(7, &input), Ok(1.0));
    HOST_CANCELS.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(call(7, &input), Ok(0.0));
}

/// `compute_values` of feature `index` with `args`: the values (released through the
/// plugin's callback), or the plugin's message.
fn call_values(index: usize, input: &RadxInput, args: &[f64]) -> Result<Vec<f64>, String> {
    let d = descriptor();
    // SAFETY: index < n_features (asserted by callers), descriptor arrays are static.
    let f = unsafe { &*d.features.add(index) };
    let mut out = RadxValuesOut { data: std::ptr::null(), len: 0, owner: std::ptr::null_mut(), release: None };
    let compute = f.compute_values.expect("a feature with parameters has compute_values");
    let status = unsafe { compute(std::ptr::null_mut(), input, args.as_ptr(), args.len(), &mut out) };
    if status != RADX_OK {
        return Err(text(unsafe { (d.last_error.unwrap())() }).to_string());
    }
    let values = unsafe { std::slice::from_raw_parts(out.data, out.len) }.to_vec();
    unsafe { (out.release.expect("the SDK releases its values"))(&mut out) };
    assert!(out.owner.is_null() && out.data.is_null(), "released once, pointers cleared");
    Ok(values)
}

/// ABI 2.2: the declared parameters (kinds, defaults, ranges) reach the descriptor; the
/// values radx passes reach the function by name; a profile returns any number of values;
/// a host older than 2.2 (calling `compute`) gets the defaults, or an error for a profile.
#[test]
fn parameters_and_profiles_cross_the_boundary() {
    let d = descriptor();
    let scaled = unsafe { &*d.features.add(8) };
    assert_eq!(
        (scaled.n_params, scaled.param_size, scaled.profile),
        (3, std::mem::size_of::<radx_plugin::RadxParamDesc>(), 0)
    );
    let params = unsafe { std::slice::from_raw_parts(scaled.params, 3) };
    let declared: Vec<_> = params.iter().map(|p| (text(p.name), p.kind, p.default_value, p.min, p.max)).collect();
    assert_eq!(
        declared,
        [
            ("k", RADX_PARAM_FLOAT, 2.0, 0.0, 10.0),
            ("n", RADX_PARAM_INT, 3.0, -5.0, 5.0),
            ("negate", RADX_PARAM_BOOL, 0.0, f64::NEG_INFINITY, f64::INFINITY)
        ]
    );
    let fixture = Fixture::new();
    let matrix = fixture.matrix();
    let input = fixture.raw(&matrix);
    // 3 voxels inside: 4·3 + 2 = 14, negated.
    assert_eq!(call_values(8, &input, &[4.0, 2.0, 1.0]), Ok(vec![-14.0]));
    // The defaults, as a 2.1 host calling `compute` gets them: 2·3 + 3.
    assert_eq!(call(8, &input), Ok(9.0));
    let err = call_values(8, &input, &[1.0]).unwrap_err();
    assert!(err.contains("1 parameter values") && err.contains("declares 3"), "{err}");
    let ramp = unsafe { &*d.features.add(9) };
    assert_eq!(ramp.profile, 1);
    assert_eq!(call_values(9, &input, &[3.0, 0.25]), Ok(vec![0.0, 0.25, 0.5]));
    assert_eq!(call_values(9, &input, &[0.0, 1.0]), Ok(vec![]));
    let err = call(9, &input).unwrap_err();
    assert!(err.contains("profile") && err.contains("2.2"), "{err}");
    // The features without parameters have none, and no compute_values.
    let count = unsafe { &*d.features };
    assert!(count.params.is_null() && count.n_params == 0 && count.compute_values.is_none());
}
