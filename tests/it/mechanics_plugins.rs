//! Plugin mechanics end to end: the example plugins are built as real shared libraries
//! (Rust ones with cargo into a private target dir, the C one with the system `cc`),
//! loaded by path, and called on small volumes whose values are worked out by hand.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::text;
use ndarray::{Array3, ShapeBuilder};
use radx_engine::core::roi::Roi;
use radx_engine::core::{Grid, Volume};
use radx_engine::plugins::{DenseMatrix, HOST_ABI, PluginError, PluginInput, PluginRegistry, load_plugin};

/// Workspace root (the root package's manifest dir).
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder the loaded libraries live in: under the system's temporary folder, one per
/// checkout, not under `target/`. radx refuses a library in a folder that another user could
/// write to, up to `/`, so libraries under the clone would make these tests pass or fail with
/// the permissions of the folders above it (a group-writable project share, a umask of 002).
fn test_root() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        root().hash(&mut hasher);
        let dir = std::env::temp_dir().join(format!("radx-plugin-tests-{:016x}", hasher.finish()));
        owner_only_dir(&dir);
        dir
    })
}

/// Create `dir` if needed and make it writable by its owner only, whatever the umask.
fn owner_only_dir(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create a test folder");
    owner_writable(dir);
}

/// Mode 755 on Unix: files and folders made under a umask of 002 (cc, create_dir_all) would
/// be group-writable, and radx refuses such libraries.
pub(crate) fn owner_writable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("set the mode");
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A scratch directory for this test binary (see [`test_root`]).
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = test_root().join(name);
    owner_only_dir(&dir);
    dir
}

/// Copy the library `from` into `dir`, through a temporary name and a rename, so that a
/// library another test process has mapped is replaced, never rewritten in place.
fn install_library(from: &Path, dir: &Path) -> PathBuf {
    let to = dir.join(from.file_name().expect("a library file name"));
    let part = dir.join(format!(".{}.{}", std::process::id(), to.file_name().unwrap().to_string_lossy()));
    std::fs::copy(from, &part).expect("copy a plugin library");
    owner_writable(&part);
    std::fs::rename(&part, &to).expect("install a plugin library");
    to
}

/// The shared-library file name of a library called `stem` on this platform.
fn dylib_name(stem: &str) -> String {
    format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// Build the Rust example/fixture plugins once per test run and return the directory they
/// are loaded from (copies in [`scratch`]).
///
/// A private target dir keeps the nested cargo from waiting on the lock of the cargo
/// that runs these tests; the plugins only depend on radx-plugin (and serde_json), so
/// the build is small.
fn rust_plugins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-target");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .current_dir(root())
            .args(["build", "--quiet"])
            .args(["-p", "radx-plugin-fractal", "-p", "radx-plugin-lbp"])
            .args(["-p", "radx-plugin-abi-mismatch", "-p", "radx-plugin-panicky", "-p", "radx-plugin-peritumoral"])
            .args(["-p", "radx-plugin-sobel"])
            .args(["-p", "radx-plugin-profiles"])
            .arg("--target-dir")
            .arg(&target)
            // Never hand the nested cargo (and the rustc it probes with `rustc -`) an
            // inherited standard input: when the test process's fd 0 is closed, it can be a
            // pipe the test harness opened for another child's output.
            .stdin(std::process::Stdio::null())
            // Nor the outer cargo's jobserver: its file descriptors do not exist (or are other
            // pipes) in this test process.
            .env_remove("CARGO_MAKEFLAGS")
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .status()
            .expect("run cargo build for the example plugins");
        assert!(status.success(), "building the example plugins failed");
        let installed = scratch("rust");
        let stems = ["radx_plugin_fractal", "radx_plugin_lbp", "radx_plugin_abi_mismatch", "radx_plugin_panicky"];
        for stem in stems.into_iter().chain(["radx_plugin_peritumoral", "radx_plugin_sobel", "radx_plugin_profiles"]) {
            install_library(&target.join("debug").join(dylib_name(stem)), &installed);
        }
        installed
    })
}

pub(crate) fn rust_plugin(crate_stem: &str) -> PathBuf {
    rust_plugins().join(dylib_name(crate_stem))
}

/// Compile a C file into a shared library with the system compiler.
pub(crate) fn compile_c(source: &Path, name: &str) -> PathBuf {
    let out = scratch("c").join(dylib_name(name));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(root().join("crates/radx-plugin/include"))
        .arg(source)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("the system C compiler `cc` runs");
    assert!(output.status.success(), "cc failed:\n{}", String::from_utf8_lossy(&output.stderr));
    owner_writable(&out);
    out
}

pub(crate) fn c_example() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| compile_c(&root().join("plugins/c-example/example.c"), "radx_c_example"))
}

/// A cropped ROI: `inside` decides the mask, `value` the intensities.
fn roi(
    dims: [usize; 3],
    spacing: [f64; 3],
    inside: impl Fn(usize, usize, usize) -> bool,
    value: impl Fn(usize, usize, usize) -> f64,
) -> Roi {
    let shape = (dims[0], dims[1], dims[2]).f();
    let image =
        Volume { grid: Grid::new(dims, spacing), data: Array3::from_shape_fn(shape, |(x, y, z)| value(x, y, z)) };
    let mask = Array3::from_shape_fn(shape, |(x, y, z)| inside(x, y, z));
    Roi { image, morphological: mask.clone(), intensity: mask }
}

#[test]
fn fractal_plugin_loads_and_matches_hand_values() {
    let plugin = load_plugin(&rust_plugin("radx_plugin_fractal")).unwrap();
    assert_eq!((plugin.name.as_str(), plugin.version.as_str(), plugin.abi), ("fractal", "0.1.0", HOST_ABI));
    assert!(plugin.sources.is_empty());
    let [feature] = plugin.features.as_slice() else { panic!("one feature expected") };
    assert_eq!((feature.name.as_str(), feature.tag.as_str()), ("fractal_dimension", "RADX-FD01"));
    assert_eq!(feature.qualified_name(), "fractal.fractal_dimension");

    // Full 8³ cube: N(s) = (8/s)³ for s = 1, 2, 4, 8 → slope exactly 3.
    let cube = roi([8, 8, 8], [1.0; 3], |_, _, _| true, |_, _, _| 1.0);
    let values = cube.intensities();
    let d = feature.compute(&PluginInput::from_roi(&cube, &values)).unwrap();
    assert!((d - 3.0).abs() < 1e-12, "cube: {d}");

    // One plane (z = 3) of an 8³ box: N(s) = (8/s)² → 2.
    let plane = roi([8, 8, 8], [1.0; 3], |_, _, z| z == 3, |_, _, _| 1.0);
    let values = plane.intensities();
    let d = feature.compute(&PluginInput::from_roi(&plane, &values)).unwrap();
    assert!((d - 2.0).abs() < 1e-12, "plane: {d}");

    // A line along y, 8 voxels: 8, 4, 2, 1 → 1.
    let line = roi([1, 8, 1], [1.0; 3], |_, _, _| true, |_, _, _| 1.0);
    let values = line.intensities();
    let d = feature.compute(&PluginInput::from_roi(&line, &values)).unwrap();
    assert!((d - 1.0).abs() < 1e-12, "line: {d}");

    // The plugin's error (empty mask) comes back as this feature's message.
    let empty = roi([4, 4, 4], [1.0; 3], |_, _, _| false, |_, _, _| 1.0);
    let err = feature.compute(&PluginInput::from_roi(&empty, &[])).unwrap_err().to_string();
    assert!(err.contains("mask is empty"), "{err}");
}

#[test]
fn c_order_arrays_are_laid_out_x_fastest_for_the_plugin() {
    // LBP codes depend on direction, so they show whether the plugin sees x as x.
    // Image I = x on a 2×2×1 box, all inside (bits: 0 +x, 1 −x, 2 +y, 3 −y):
    //   (0,0): +x 1 ≥ 0, +y 0 ≥ 0 → 1 + 4 = 5     (1,0): −x 0 < 1, +y 1 ≥ 1 → 4
    //   (0,1): +x, −y → 1 + 8 = 9                  (1,1): −y 1 ≥ 1 → 8
    // Read with x and y swapped it would be codes 6, 2, 10, 8 (or others) instead.
    let plugin = load_plugin(&rust_plugin("radx_plugin_lbp")).unwrap();
    let source = &plugin.sources[0];
    let fortran = roi([2, 2, 1], [1.0; 3], |_, _, _| true, |x, _, _| x as f64);
    let mut c_order = fortran.clone();
    c_order.image.data = Array3::from_shape_fn((2, 2, 1), |(x, _, _)| x as f64);
    c_order.morphological = Array3::from_elem((2, 2, 1), true);
    c_order.intensity = c_order.morphological.clone();
    assert!(c_order.image.data.is_standard_layout() && !fortran.image.data.is_standard_layout());
    for r in [&fortran, &c_order] {
        let m = source.build(&PluginInput::from_roi(r, &[]), "{}").unwrap();
        let codes: Vec<usize> = (0..64).filter(|&c| m.data()[c] != 0.0).collect();
        assert_eq!(codes, [4, 5, 8, 9]);
        assert_eq!(m.data().iter().sum::<f64>(), 4.0);
    }
}

#[test]
fn lbp_source_builds_hand_checked_histograms() {
    let plugin = load_plugin(&rust_plugin("radx_plugin_lbp")).unwrap();
    let source = plugin.sources.iter().find(|s| s.name == "lbp").expect("lbp source");
    // Intensities 1, 2, 3 along x: codes 1 (2 ≥ 1 at +x), 1 (3 ≥ 2 at +x), 0.
    let line = roi([3, 1, 1], [1.0; 3], |_, _, _| true, |x, _, _| x as f64 + 1.0);
    let values = line.intensities();
    let input = PluginInput::from_roi(&line, &values);
    let m = source.build(&input, "{}").unwrap();
    assert_eq!(m.shape(), &[64]);
    assert_eq!(&m.data()[..3], &[1.0, 2.0, 0.0]);
    assert_eq!(m.data().iter().sum::<f64>(), 3.0);
    assert_eq!(m.axis_values(0).map(|v| v[63]), Some(63.0));

    let ri = source.build(&input, r#"{"rotation_invariant": true}"#).unwrap();
    assert_eq!(ri.data(), &[1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);

    let err = source.build(&input, r#"{"radius": 2}"#).unwrap_err().to_string();
    assert!(err.contains("no parameter `radius`"), "{err}");

    // The plugin's own feature over its source: entropy of (1/3, 2/3) = log2 3 − 2/3.
    let feature = &plugin.features[0];
    assert_eq!(feature.source.as_deref(), Some("lbp"));
    let matrices = [m];
    let h = feature.compute(&input.with_matrices(&matrices)).unwrap();
    assert!((h - (3f64.log2() - 2.0 / 3.0)).abs() < 1e-12, "{h}");
    // Without matrices the feature reports why.
    assert!(feature.compute(&input).unwrap_err().to_string().contains("no non-empty lbp histogram"));
    // Host matrices of any shape reach the plugin intact: a 1×3 histogram (1, 1, 2).
    let host = [DenseMatrix::new(vec![1, 3], vec![1.0, 1.0, 2.0]).unwrap()];
    let h = feature.compute(&input.with_matrices(&host)).unwrap();
    assert!((h - 1.5).abs() < 1e-12, "(1/4,1/4,1/2) has entropy 1.5 bits, got {h}");
}

#[test]
fn c_plugin_value_and_error_return() {
    let plugin = load_plugin(c_example()).unwrap();
    assert_eq!((plugin.name.as_str(), plugin.version.as_str()), ("c-example", "0.3.0"));
    let volume = plugin.features.iter().find(|f| f.name == "roi_volume_mm3").unwrap();
    let fails = plugin.features.iter().find(|f| f.name == "always_fails").unwrap();
    assert_eq!(volume.tag, "YEKZ");
    // A 1×5×1 column, all inside: 5 voxels of 2 × 1 × 0.5 = 1 mm³ each → 5 mm³.
    let column = roi([1, 5, 1], [2.0, 1.0, 0.5], |_, _, _| true, |_, _, _| 0.0);
    let input = PluginInput::from_roi(&column, &[]);
    assert_eq!(volume.compute(&input), Ok(5.0));
    let err = fails.compute(&input).unwrap_err().to_string();
    assert!(err.contains("not defined for any ROI"), "{err}");
    // The failure leaves the plugin usable.
    assert_eq!(volume.compute(&input), Ok(5.0));
}

#[test]
fn rust_panics_are_caught_per_feature() {
    let plugin = load_plugin(&rust_plugin("radx_plugin_panicky")).unwrap();
    let by_name = |n: &str| plugin.features.iter().find(|f| f.name == n).unwrap();
    let cube = roi([2, 2, 2], [1.0; 3], |x, _, _| x == 0, |_, _, _| 1.0);
    let input = PluginInput::from_roi(&cube, &[]);
    let err = by_name("explicit_panic").compute(&input).unwrap_err().to_string();
    assert!(err.contains("panicked") && err.contains("deliberate panic"), "{err}");
    let err = by_name("out_of_bounds").compute(&input).unwrap_err().to_string();
    assert!(err.contains("panicked") && err.contains("index out of bounds"), "{err}");
    // x == 0 of a 2³ box: 4 voxels; still computed after two panics.
    assert_eq!(by_name("voxel_count").compute(&input), Ok(4.0));
}

#[test]
fn foreign_abi_is_refused_with_a_clear_message() {
    let path = rust_plugin("radx_plugin_abi_mismatch");
    let err = load_plugin(&path).unwrap_err();
    assert!(
        matches!(err, PluginError::AbiMismatch { plugin_abi, host_abi, .. } if plugin_abi == HOST_ABI + 1 && host_abi == HOST_ABI),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&dylib_name("radx_plugin_abi_mismatch")), "{message}");
    assert!(message.contains(&format!("ABI {}", HOST_ABI + 1)), "{message}");
    assert!(message.contains(&format!("ABI {HOST_ABI}")), "{message}");
}

#[test]
fn not_found_not_a_library_and_missing_entry() {
    let dir = scratch("bad-files");
    let err = load_plugin(&dir.join("nothing-here.so")).unwrap_err();
    assert!(matches!(err, PluginError::NotFound { .. }) && err.to_string().contains("nothing-here.so"), "{err}");

    let text = dir.join("libnot_a_library.so");
    std::fs::write(&text, "this is a text file\n").unwrap();
    owner_writable(&text);
    let err = load_plugin(&text).unwrap_err();
    assert!(matches!(err, PluginError::NotALibrary { .. }), "{err:?}");
    assert!(err.to_string().contains("libnot_a_library.so"), "{err}");

    let source = dir.join("no_entry.c");
    std::fs::write(&source, "int radx_something_else(void) { return 1; }\n").unwrap();
    let lib = compile_c(&source, "no_entry");
    let err = load_plugin(&lib).unwrap_err();
    assert!(matches!(err, PluginError::MissingEntry { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&dylib_name("no_entry")) && message.contains("radx_plugin_entry"), "{message}");
}

#[test]
fn duplicate_plugin_names_are_refused() {
    let original = rust_plugin("radx_plugin_fractal");
    // A copy under another file name is a different library with the same plugin name.
    let copy = scratch("duplicates").join(dylib_name("fractal_copy"));
    std::fs::copy(&original, &copy).unwrap();
    let mut registry = PluginRegistry::new();
    registry.load(&original).unwrap();
    let err = registry.load(&copy).unwrap_err();
    assert!(matches!(&err, PluginError::DuplicatePlugin { name, .. } if name == "fractal"), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("fractal_copy") && message.contains("radx_plugin_fractal"), "{message}");
    assert_eq!(registry.plugins().len(), 1);
}

#[test]
fn plugin_directories_load_every_library_and_report_the_bad_ones() {
    let dir = scratch("plugin-dir");
    for stem in ["radx_plugin_fractal", "radx_plugin_lbp"] {
        std::fs::copy(rust_plugin(stem), dir.join(dylib_name(stem))).unwrap();
    }
    std::fs::copy(c_example(), dir.join(dylib_name("radx_c_example"))).unwrap();
    std::fs::write(dir.join(dylib_name("broken")), "not a library").unwrap();
    owner_writable(&dir.join(dylib_name("broken")));
    std::fs::write(dir.join("README.txt"), "ignored: not a library extension").unwrap();

    let mut registry = PluginRegistry::new();
    let errors = registry.load_dirs(&[dir.clone(), dir.join("does-not-exist")]);
    let mut names: Vec<&str> = registry.plugins().iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["c-example", "fractal", "lbp"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| matches!(e, PluginError::NotALibrary { .. })));
    assert!(errors.iter().any(|e| matches!(e, PluginError::Directory { .. })));
    assert_eq!(registry.source("lbp").map(|s| s.plugin.as_str()), Some("lbp"));
    // c-example 7, fractal 1, lbp 1.
    assert_eq!(registry.features().count(), 9);
}

// ---------------------------------------------------------------------------------------
// Plugins wired into extraction and the CLI.
// ---------------------------------------------------------------------------------------

/// Run the `radx` binary with `RADX_PLUGIN_PATH` unset unless `plugin_path` is given.
pub(crate) fn radx_cli(args: &[&str], plugin_path: Option<&Path>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_radx"));
    command.args(args).env("RUST_BACKTRACE", "0");
    match plugin_path {
        Some(dir) => command.env(radx_engine::plugins::PLUGIN_PATH_VAR, dir),
        None => command.env_remove(radx_engine::plugins::PLUGIN_PATH_VAR),
    };
    command.output().expect("radx runs")
}

/// An 8×8×8 image (intensity x + y + z, so discretisation has a range) and a mask that
/// covers all of it, as NIfTI files in `dir`.
pub(crate) fn full_cube_files(dir: &Path) -> (String, String) {
    use radx_engine::io::{NiftiType, write_nifti};
    let grid = Grid::new([8, 8, 8], [1.0; 3]);
    let image = Volume { grid, data: Array3::from_shape_fn((8, 8, 8).f(), |(x, y, z)| (x + y + z) as f64) };
    let mask = Volume::filled(grid, 1.0);
    let (image_path, mask_path) = (dir.join("cube.nii.gz"), dir.join("cube_mask.nii.gz"));
    write_nifti(&image_path, &image, NiftiType::F32).unwrap();
    write_nifti(&mask_path, &mask, NiftiType::U8).unwrap();
    (image_path.to_string_lossy().into_owned(), mask_path.to_string_lossy().into_owned())
}

/// The CSV row `family,feature,…` of an extract output, split into fields.
pub(crate) fn csv_row<'a>(csv: &'a str, family: &str, feature: &str) -> Option<Vec<&'a str>> {
    // image_type,family,feature,tag,aggregation,value,note: the row without its image type
    // (a note with a comma is quoted: split only the first six fields).
    csv.lines()
        .map(|l| l.splitn(7, ',').skip(1).collect::<Vec<_>>())
        .find(|f| f.len() == 6 && f[0] == family && f[1] == feature)
}

#[test]
fn cli_extract_with_a_plugin_adds_its_feature_row() {
    let dir = scratch("cli-fractal");
    let (image, mask) = full_cube_files(&dir);
    let fractal = rust_plugin("radx_plugin_fractal");
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", fractal.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    // Full 8³ cube: N(s) = (8/s)³ for s = 1, 2, 4, 8, so ln N = 3·ln(1/s) + 3·ln 8: slope 3.
    let row = csv_row(&csv, "fractal", "fractal_dimension").expect("fractal row");
    assert_eq!(row[2..4], ["RADX-FD01", "-"]);
    let d: f64 = row[4].parse().unwrap();
    assert!((d - 3.0).abs() < 1e-12, "{d}");
    // The built-in library is still there, before the plugin rows.
    let first_plugin_line = csv.lines().position(|l| l.starts_with("original,fractal,")).unwrap();
    assert!(csv.lines().take(first_plugin_line).any(|l| l.starts_with("original,glcm,joint_maximum,GYBY,")));
}

/// The lbp.radx families over the lbp plugin's source on a hand-worked 2×2×1 square.
///
/// Intensity I = 1 + x + 2y, all four voxels inside. Bits: 0 +x, 1 −x, 2 +y, 3 −y (a bit
/// is set when that neighbour is inside and at least as bright):
///   (0,0) I=1: +x (2 ≥ 1), +y (3 ≥ 1)            → code 1 + 4 = 5, 2 bits
///   (1,0) I=2: −x (1 < 2) no, +y (4 ≥ 2)          → code 4, 1 bit
///   (0,1) I=3: +x (4 ≥ 3), −y (1 < 3) no          → code 1, 1 bit
///   (1,1) I=4: −x (3 < 4), −y (2 < 4) no          → code 0, 0 bits
/// Rotation invariant (by bits): p = (1/4, 1/2, 1/4, 0, 0, 0, 0):
///   entropy = 2·(1/4)·2 + (1/2)·1 = 1.5; uniformity = 1/16 + 1/4 + 1/16 = 3/8;
///   flat share p[6] = 0; mean bits = 0/4 + 1/2 + 2/4 = 1.
/// Codes 5, 4, 1, 0 once each: entropy 2, max share 1/4, 4 distinct codes; the plugin's
/// own `lbp_entropy` (default parameters: codes) is also 2.
#[test]
fn lbp_feature_file_over_the_plugin_source_matches_hand_values() {
    let mut plugins = PluginRegistry::new();
    plugins.load(&rust_plugin("radx_plugin_lbp")).unwrap();
    let lbp_radx = root().join("plugins/lbp/lbp.radx");
    let extractor =
        radx_engine::Extractor::new(radx_engine::Settings::default(), std::slice::from_ref(&lbp_radx), plugins)
            .unwrap();

    let grid = Grid::new([2, 2, 1], [1.0; 3]);
    let image = Volume::from_x_fastest(grid, vec![1.0, 2.0, 3.0, 4.0]);
    let labels = Volume::filled(grid, 1.0);
    let case = extractor.extract(&radx_engine::Case::new(image, labels)).unwrap();
    let value = |family: &str, feature: &str| case.value(family, feature, None).expect(feature);
    let expected = [
        ("lbp", "lbp_ri_entropy", 1.5),
        ("lbp", "lbp_ri_uniformity", 3.0 / 8.0),
        ("lbp", "lbp_ri_flat_share", 0.0),
        ("lbp", "lbp_ri_mean_bits", 1.0),
        ("lbp_codes", "lbp_code_entropy", 2.0),
        ("lbp_codes", "lbp_code_max_share", 0.25),
        ("lbp_codes", "lbp_code_count", 4.0),
        ("lbp", "lbp_entropy", 2.0),
    ];
    for (family, feature, want) in expected {
        let got = value(family, feature);
        assert!((got - want).abs() < 1e-12, "{family}.{feature}: {got}, expected {want}");
    }

    // Without the plugin the file does not compile: the source is unknown.
    let err =
        radx_engine::Extractor::new(radx_engine::Settings::default(), &[lbp_radx], PluginRegistry::new()).unwrap_err();
    assert!(err.to_string().contains("lbp"), "{err}");
}

#[test]
fn plugin_feature_named_like_a_feature_file_feature_is_refused_at_load() {
    let dir = scratch("clash");
    let file = dir.join("clash.radx");
    std::fs::write(&file, "family fractal over roi {\n  feature fractal_dimension \"MY01\" = N\n}\n").unwrap();
    let mut plugins = PluginRegistry::new();
    plugins.load(&rust_plugin("radx_plugin_fractal")).unwrap();
    let err = radx_engine::Extractor::new(radx_engine::Settings::default(), &[file], plugins).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("fractal.fractal_dimension") && message.contains("clash.radx"), "{message}");
}

#[test]
fn cli_plugins_list_shows_plugins_features_and_sources() {
    let lbp = rust_plugin("radx_plugin_lbp");
    let fractal = rust_plugin("radx_plugin_fractal");
    let out =
        radx_cli(&["plugins", "list", "--plugin", lbp.to_str().unwrap(), "--plugin", fractal.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let lines: Vec<&str> = listing.lines().collect();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap().display().to_string();
    assert_eq!(lines[0], format!("lbp 0.1.0  (ABI {HOST_ABI})  {}", canonical(&lbp)));
    assert!(lines[1].starts_with("  feature lbp_entropy") && lines[1].contains("RADX-LBP1"), "{listing}");
    assert!(lines[1].contains("Entropy (bits)") && lines[1].ends_with("(over lbp)"), "{listing}");
    assert!(lines[2].starts_with("  source  lbp"), "{listing}");
    assert!(lines[2].contains("1 axis; rotation_invariant = false; 3D 6-neighbour"), "{listing}");
    assert_eq!(lines[3], format!("fractal 0.1.0  (ABI {HOST_ABI})  {}", canonical(&fractal)));
    assert!(lines[4].contains("fractal_dimension") && lines[4].contains("RADX-FD01"), "{listing}");
    assert_eq!(lines.len(), 5, "{listing}");

    // `features list` shows plugin features with their origin.
    let out = radx_cli(&["features", "list", "--plugin", fractal.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    let line = list.lines().find(|l| l.starts_with("fractal ")).expect("fractal in features list");
    assert!(line.contains("RADX-FD01") && line.ends_with(&format!("plugin fractal ({})", canonical(&fractal))));

    let out = radx_cli(&["plugins", "list"], None);
    assert!(out.status.success() && text(&out.stdout).starts_with("no plugins loaded"));
}

#[test]
fn cli_panicking_plugin_features_are_nan_and_the_rest_is_intact() {
    let dir = scratch("cli-panicky");
    let (image, mask) = full_cube_files(&dir);
    let panicky = rust_plugin("radx_plugin_panicky");
    let json = |plugin: Option<&Path>| {
        let mut args = vec!["extract", "--image", &image, "--mask", &mask, "--format", "json"];
        if let Some(p) = plugin {
            args.extend(["--plugin", p.to_str().unwrap()]);
        }
        let out = radx_cli(&args, None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
    };
    let plain = json(None);
    let with_plugin = json(Some(&panicky));
    // Every built-in row is unchanged; the plugin adds its three rows after them.
    assert_eq!(with_plugin[..plain.len()], plain[..]);
    let added = &with_plugin[plain.len()..];
    assert_eq!(added.len(), 4);
    let row = |name: &str| added.iter().find(|r| r["feature"] == name).unwrap();
    for name in ["explicit_panic", "out_of_bounds"] {
        let r = row(name);
        assert_eq!(
            (&r["family"], &r["aggregation"], &r["value"]),
            (&"panicky".into(), &"-".into(), &serde_json::Value::Null)
        );
        let note = r["note"].as_str().unwrap();
        assert!(note.contains("the plugin panicked"), "{note}");
    }
    let note = row("explicit_panic")["note"].as_str().unwrap();
    assert!(note.contains("deliberate panic") && note.contains("plugins/panicky/src/lib.rs:9"), "{note}");
    // 8³ voxels inside.
    assert_eq!(row("voxel_count")["value"], 512.0);
    // JSON has no infinity: the same text as in CSV, as a string.
    assert_eq!(row("minus_infinity")["value"], "-inf");
    // The note says it all: the plugin's panics are not printed as well.
    let args = ["extract", "--image", &image, "--mask", &mask, "--plugin", panicky.to_str().unwrap()];
    let out = radx_cli(&args, None);
    assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
    // The CSV carries the note in its last column, and -inf as JSON writes it.
    let csv = text(&out.stdout);
    assert_eq!(csv.lines().next(), Some("image_type,family,feature,tag,aggregation,value,note"));
    let row = csv_row(&csv, "panicky", "explicit_panic").expect("explicit_panic row");
    assert_eq!(row[4], "NaN");
    assert!(row[5].contains("deliberate panic") && row[5].contains("plugins/panicky/src/lib.rs:9"), "{}", row[5]);
    assert_eq!(csv_row(&csv, "panicky", "minus_infinity").expect("minus_infinity row")[4..], ["-inf", ""]);
}

/// `radx batch` keeps what `extract` shows: a plugin's panic (message and location) is in
/// the notes table beside the output, once per case and feature; -inf is written `-inf`
/// in CSV and `"-inf"` in JSON lines, as extract writes it.
#[test]
fn cli_batch_writes_plugin_notes_beside_the_table() {
    let dir = scratch("cli-batch-notes");
    let (image, mask) = full_cube_files(&dir);
    let cases = dir.join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\nfirst,{image},{mask}\nsecond,{image},{mask}\n")).unwrap();
    let panicky = rust_plugin("radx_plugin_panicky");
    for name in ["out.jsonl", "out.csv", "out.parquet"] {
        let output = dir.join(name);
        let notes = dir.join(format!("{name}.notes.csv"));
        let _ = std::fs::remove_file(&notes);
        let args = ["batch", cases.to_str().unwrap(), "--quiet", "-o", output.to_str().unwrap()];
        let out = radx_cli(&[&args[..], &["--plugin", panicky.to_str().unwrap()]].concat(), None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{}", text(&out.stderr));
        let mut reader = csv::Reader::from_path(&notes).expect("the notes table beside the output");
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["id", "label", "column", "note"]);
        let records: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
        for id in ["first", "second"] {
            let panics: Vec<&Vec<String>> =
                records.iter().filter(|r| r[0] == id && r[2] == "panicky.explicit_panic").collect();
            assert_eq!(panics.len(), 1, "{records:?}");
            assert_eq!(panics[0][1], "1");
            let note = &panics[0][3];
            assert!(note.contains("deliberate panic") && note.contains("plugins/panicky/src/lib.rs:9"), "{note}");
            assert!(records.iter().any(|r| r[0] == id && r[2] == "panicky.out_of_bounds"), "{records:?}");
        }
        let written = std::fs::read_to_string(&output).unwrap_or_default();
        match name {
            "out.jsonl" => {
                let first: serde_json::Value = serde_json::from_str(written.lines().next().unwrap()).unwrap();
                assert_eq!(first["panicky.minus_infinity"], "-inf");
                assert_eq!(first["panicky.explicit_panic"], serde_json::Value::Null);
            }
            "out.csv" => {
                let mut reader = csv::Reader::from_path(&output).unwrap();
                let at = reader.headers().unwrap().iter().position(|h| h == "panicky.minus_infinity").unwrap();
                assert_eq!(&reader.records().next().unwrap().unwrap()[at], "-inf");
            }
            _ => {}
        }
    }
    // Without notes no table is left behind (an old one would describe other values).
    let output = dir.join("out.jsonl");
    let out = radx_cli(&["batch", cases.to_str().unwrap(), "--quiet", "-o", output.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let notes = dir.join("out.jsonl.notes.csv");
    if notes.exists() {
        let text = std::fs::read_to_string(&notes).unwrap();
        assert!(!text.contains("panicky"), "{text}");
    }
}

/// The SDK refuses `panic = "abort"`: a panic must unwind to the export wrapper, or it
/// takes radx down with every case in flight.
#[test]
fn a_plugin_built_with_panic_abort_does_not_compile() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("abort-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["check", "--quiet", "--offline", "-p", "radx-plugin-fractal", "--config", "profile.dev.panic=\"abort\""])
        .arg("--target-dir")
        .arg(&target)
        .stdin(std::process::Stdio::null())
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .output()
        .expect("cargo runs");
    assert!(!out.status.success(), "a panic = \"abort\" plugin compiled");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("panic = \"abort\"") && stderr.contains("remove"), "{stderr}");
}

#[test]
fn cli_explicit_plugin_with_a_foreign_abi_is_fatal() {
    let dir = scratch("cli-abi");
    let (image, mask) = full_cube_files(&dir);
    let bad = rust_plugin("radx_plugin_abi_mismatch");
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("ABI {}", HOST_ABI + 1)) && stderr.contains(&format!("ABI {HOST_ABI}")),
        "{stderr}"
    );
    assert!(stderr.contains(&dylib_name("radx_plugin_abi_mismatch")), "{stderr}");
}

#[test]
fn cli_plugin_path_warns_about_a_broken_library_and_uses_the_good_one() {
    let dir = scratch("cli-env");
    let plugins = dir.join("plugins");
    owner_only_dir(&plugins);
    std::fs::copy(rust_plugin("radx_plugin_fractal"), plugins.join(dylib_name("radx_plugin_fractal"))).unwrap();
    let broken = plugins.join(dylib_name("broken"));
    std::fs::write(&broken, "not a shared library").unwrap();
    owner_writable(&broken);
    let (image, mask) = full_cube_files(&dir);
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask], Some(&plugins));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning") && stderr.contains(&dylib_name("broken")), "{stderr}");
    let csv = text(&out.stdout);
    let row = csv_row(&csv, "fractal", "fractal_dimension").expect("fractal row from RADX_PLUGIN_PATH");
    assert!((row[4].parse::<f64>().unwrap() - 3.0).abs() < 1e-12);
}

#[test]
fn cli_check_knows_plugin_sources_only_when_the_plugin_is_loaded() {
    let lbp_radx = root().join("plugins/lbp/lbp.radx");
    let file = lbp_radx.to_str().unwrap();
    let out = radx_cli(&["check", file], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown source `lbp`"), "{}", text(&out.stderr));
    let lbp = rust_plugin("radx_plugin_lbp");
    let out = radx_cli(&["check", file, "--plugin", lbp.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // lbp.radx: two families, 4 + 3 features.
    assert_eq!(text(&out.stdout).trim(), "ok: 2 families, 7 feature(s)");
}

/// A plugin source has no memory estimate before it is built: a matrix whose source data
/// would pass the budget is refused once built, its families NaN with the reason, and the
/// rest of the case goes on. LBP codes: 64 entries (3 copies of 8 bytes each: 1536 bytes)
/// over a 1000-byte budget; the rotation-invariant histogram's 7 entries fit (168 bytes).
/// Only the plugin's families are kept: the IBSI matrices are charged together (beside the
/// processed ROI), which a 1000-byte budget would refuse before any plugin runs.
#[test]
fn a_plugin_matrix_over_the_memory_budget_gives_nan_rows_with_the_reason() {
    let mut plugins = PluginRegistry::new();
    plugins.load(&rust_plugin("radx_plugin_lbp")).unwrap();
    let lbp_radx = root().join("plugins/lbp/lbp.radx");
    let text =
        "[discretisation.texture]\nmethod = \"fixed_bin_number\"\nbins = 4\n[texture]\naggregations = [\"3d_mrg\"]\n";
    let settings = radx_engine::Settings { max_memory: 1000, ..radx_engine::Settings::from_toml_str(text).unwrap() };
    let mut extractor = radx_engine::Extractor::new(settings, std::slice::from_ref(&lbp_radx), plugins).unwrap();
    extractor.library.retain(|f| f.family.source().name == "lbp");
    let grid = Grid::new([2, 2, 1], [1.0; 3]);
    let image = Volume::from_x_fastest(grid, vec![1.0, 2.0, 3.0, 4.0]);
    let features = extractor.extract(&radx_engine::Case::new(image, Volume::filled(grid, 1.0))).unwrap();
    let row =
        |feature: &str| features.rows.iter().find(|r| r.key.feature == feature).unwrap_or_else(|| panic!("{feature}"));
    assert!((row("lbp_ri_entropy").value - 1.5).abs() < 1e-12);
    let refused = row("lbp_code_entropy");
    assert!(refused.value.is_nan());
    let note = refused.note.as_deref().unwrap_or_default();
    assert!(note.contains("memory budget") && note.contains("lbp"), "{note}");
}

// ---------------------------------------------------------------------------------------
// Loading rules: names, duplicates, clashes from RADX_PLUGIN_PATH, reused tags.
// ---------------------------------------------------------------------------------------

/// A one-feature C plugin (`plugin`, feature `feature` with `tag`, value 1), optionally
/// with a one-axis source named `source`, compiled as `lib<file>.so`.
fn c_plugin(file: &str, plugin: &str, feature: &str, tag: &str, source: Option<&str>) -> PathBuf {
    let c_string = |s: &str| format!("{s:?}"); // Rust's escapes (\n, \") are C's too.
    let (sources, n_sources) = match source {
        Some(name) => (
            format!(
                "static int32_t build(void *c, const RadxInput *i, const char *p, RadxMatrixOut *o) {{ (void)c; (void)i; (void)p; (void)o; return RADX_ERROR; }}\n\
                 static const RadxSourceDesc sources[] = {{{{ sizeof(RadxSourceDesc), {}, \"test\", 1, NULL, build, 0.0 }}}};\n",
                c_string(name)
            ),
            "sources, 1",
        ),
        None => (String::new(), "NULL, 0"),
    };
    let text = format!(
        "#include \"radx_plugin.h\"\n\
         static int32_t one(void *c, const RadxInput *input, double *out) {{ (void)c; (void)input; *out = 1.0; return RADX_OK; }}\n\
         {sources}\
         static const RadxFeatureDesc features[] = {{{{ sizeof(RadxFeatureDesc), {}, {}, \"test\", NULL, one, 0.0, NULL, 0, 0, 0, NULL }}}};\n\
         static const RadxPluginDesc descriptor = {{ RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), {}, \"0.1\", \
         features, 1, sizeof(RadxFeatureDesc), {n_sources}, sizeof(RadxSourceDesc), NULL, NULL, NULL }};\n\
         RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) {{ return &descriptor; }}\n",
        c_string(feature),
        c_string(tag),
        c_string(plugin),
    );
    let dir = scratch("c-generated");
    let source_file = dir.join(format!("{file}.c"));
    std::fs::write(&source_file, text).unwrap();
    compile_c(&source_file, file)
}

#[test]
fn the_same_file_twice_is_harmless() {
    let fractal = rust_plugin("radx_plugin_fractal");
    let mut registry = PluginRegistry::new();
    registry.load(&fractal).unwrap();
    assert_eq!(registry.load(&fractal).unwrap().name, "fractal");
    assert_eq!(registry.plugins().len(), 1);

    let dir = scratch("cli-twice");
    let (image, mask) = full_cube_files(&dir);
    let f = fractal.to_str().unwrap();
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", f, "--plugin", f], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().filter(|l| l.starts_with("original,fractal,")).count(), 1);
}

#[test]
fn names_that_would_break_a_table_are_refused_naming_the_file() {
    for (file, plugin, feature, tag, what) in [
        ("comma_name", "commas", "a,b", "SITE-1", "feature name"),
        ("newline_name", "newlines", "a\nb", "SITE-1", "feature name"),
        ("quote_plugin", "quo\"te", "a", "SITE-1", "plugin name"),
        ("space_tag", "spaces", "a", "SITE 1", "tag"),
    ] {
        let path = c_plugin(file, plugin, feature, tag, None);
        let err = load_plugin(&path).unwrap_err();
        assert!(matches!(&err, PluginError::BadName { what: w, .. } if *w == what), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&dylib_name(file)) && message.contains("ASCII letters, digits"), "{message}");
    }
    // A source name must be one feature files can write.
    let err = load_plugin(&c_plugin("dash_source", "dashes", "a", "SITE-1", Some("my-source"))).unwrap_err();
    assert!(matches!(&err, PluginError::BadName { what: "source name", .. }), "{err:?}");
}

#[test]
fn two_features_that_would_be_one_column_are_an_error_naming_both() {
    let first = c_plugin("column_a", "a", "b.c", "SITE-1", None);
    let second = c_plugin("column_ab", "a.b", "c", "SITE-2", None);
    let mut registry = PluginRegistry::new();
    registry.load(&first).unwrap();
    let err = registry.load(&second).unwrap_err();
    assert!(matches!(&err, PluginError::ColumnClash(clash) if clash.column == "a.b.c"), "{err:?}");
    let message = err.to_string();
    for part in ["`b.c` of plugin `a`", "`c` of plugin `a.b`", &dylib_name("column_a"), &dylib_name("column_ab")] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert_eq!(registry.plugins().len(), 1);
}

#[test]
fn a_clash_from_the_plugin_path_is_a_warning_and_explicit_is_an_error() {
    let dir = scratch("cli-path-clash");
    let plugins = dir.join("plugins");
    owner_only_dir(&plugins);
    std::fs::copy(rust_plugin("radx_plugin_fractal"), plugins.join(dylib_name("radx_plugin_fractal"))).unwrap();
    let clashing = c_plugin("builtin_cm", "shadows-cm", "x", "SITE-1", Some("cm"));
    std::fs::copy(&clashing, plugins.join(dylib_name("builtin_cm"))).unwrap();
    let (image, mask) = full_cube_files(&dir);
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask], Some(&plugins));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning:") && stderr.contains(&dylib_name("builtin_cm")), "{stderr}");
    assert!(stderr.contains("`cm`") && stderr.contains("skipped"), "{stderr}");
    let csv = text(&out.stdout);
    assert!(csv_row(&csv, "fractal", "fractal_dimension").is_some(), "the good plugin still runs");
    assert!(csv_row(&csv, "shadows-cm", "x").is_none(), "the clashing plugin is left out");

    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", clashing.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("built-in source"), "{}", text(&out.stderr));
}

#[test]
fn reusing_the_tag_of_a_library_feature_warns() {
    let dir = scratch("cli-tag");
    let (image, mask) = full_cube_files(&dir);
    // Q4LE is the IBSI's mean intensity (stat_mean).
    let reuses = c_plugin("reuses_q4le", "reuses", "my_mean", "Q4LE", None);
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", reuses.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning:") && stderr.contains("`Q4LE`") && stderr.contains("reuses.my_mean"), "{stderr}");
    assert_eq!(csv_row(&text(&out.stdout), "reuses", "my_mean").unwrap()[4], "1");
    let site = c_plugin("site_tag", "site", "my_mean", "SITE-0042", None);
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", site.to_str().unwrap()], None);
    assert!(!text(&out.stderr).contains("warning"), "{}", text(&out.stderr));
}

// ---------------------------------------------------------------------------------------
// ABI 2: v1 plugins, newer minor versions, lifecycle, the case a plugin sees.
// ---------------------------------------------------------------------------------------

#[test]
fn a_v1_plugin_built_with_the_previous_header_still_loads_and_computes() {
    // The C example and header exactly as ABI 1 shipped them.
    let v1 = root().join("crates/radx-plugin/tests/data/v1");
    let out = scratch("c-v1").join(dylib_name("radx_c_example_v1"));
    let output = Command::new("cc")
        .args(["-std=c11", "-shared", "-fPIC", "-I"])
        .arg(&v1)
        .arg(v1.join("example.c"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("cc runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    owner_writable(&out);
    let plugin = load_plugin(&out).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor, plugin.version.as_str()), (1, 0, "0.1.0"));
    let by_name = |n: &str| plugin.features.iter().find(|f| f.name == n).unwrap();
    // 5 voxels of 2 × 1 × 0.5 mm³.
    let column = roi([1, 5, 1], [2.0, 1.0, 0.5], |_, _, _| true, |_, _, _| 0.0);
    let input = PluginInput::from_roi(&column, &[]);
    assert_eq!(by_name("roi_volume_mm3").compute(&input), Ok(5.0));
    let err = by_name("always_fails").compute(&input).unwrap_err().to_string();
    assert!(err.contains("not defined for any ROI"), "{err}");
}

/// A plugin built for a later minor version (2.1): its structs are larger, with fields this
/// radx does not know; the tables' strides say where each entry starts.
#[test]
fn a_plugin_built_for_a_newer_minor_version_loads() {
    let source = scratch("c-newer").join("newer.c");
    std::fs::write(
        &source,
        r#"#include "radx_plugin.h"
static int32_t one(void *c, const RadxInput *i, double *o) { (void)c; (void)i; *o = 1.0; return RADX_OK; }
static int32_t two(void *c, const RadxInput *i, double *o) { (void)c; (void)i; *o = 2.0; return RADX_OK; }
typedef struct { RadxFeatureDesc base; double added_in_2_1[3]; } FeatureV21;
typedef struct { RadxPluginDesc base; const char *added_in_2_1; } DescV21;
static const FeatureV21 features[] = {
    {{ sizeof(FeatureV21), "one", "SITE-1", "one", NULL, one, 0.0, NULL, 0, 0, 0, NULL }, { 0, 0, 0 }},
    {{ sizeof(FeatureV21), "two", "SITE-2", "two", NULL, two, 0.0, NULL, 0, 0, 0, NULL }, { 0, 0, 0 }},
};
static const DescV21 descriptor = {{ RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR + 1, sizeof(DescV21), "newer", "0.1",
    &features[0].base, 2, sizeof(FeatureV21), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL }, "new"};
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor.base; }
"#,
    )
    .unwrap();
    let plugin = load_plugin(&compile_c(&source, "newer_minor")).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor), (HOST_ABI, radx_engine::plugins::HOST_ABI_MINOR + 1));
    let cube = roi([2, 2, 2], [1.0; 3], |_, _, _| true, |_, _, _| 1.0);
    let input = PluginInput::from_roi(&cube, &[]);
    let values: Vec<_> = plugin.features.iter().map(|f| (f.name.as_str(), f.compute(&input))).collect();
    assert_eq!(values, [("one", Ok(1.0)), ("two", Ok(2.0))]);
}

/// The C example's init stores a context every call receives and logs through the host;
/// its geometry features see where the box lies: an 8³ image of 1 × 1 × 2 mm voxels with
/// its origin at z = −10 mm, the ROI the slices z = 5, 6 → the box starts at slice 5,
/// whose centre is at −10 + 5·2 = 0 mm.
#[test]
fn the_c_example_gets_its_context_logs_and_sees_the_geometry() {
    let mut plugins = PluginRegistry::new();
    plugins.load(c_example()).unwrap();
    let logs = radx_engine::plugins::take_plugin_logs();
    assert!(
        logs.iter().any(|l| l.plugin == "c-example" && l.message == "c-example initialised (volumes in mm^3)"),
        "{logs:?}"
    );
    let extractor = radx_engine::Extractor::new(radx_engine::Settings::default(), &[], plugins).unwrap();
    let mut grid = Grid::new([8, 8, 8], [1.0, 1.0, 2.0]);
    grid.origin = [0.0, 0.0, -10.0];
    let image = Volume { grid, data: Array3::from_shape_fn((8, 8, 8).f(), |(x, y, z)| (x + y + z) as f64) };
    let labels = Volume { grid, data: Array3::from_shape_fn((8, 8, 8).f(), |(_, _, z)| f64::from(z == 5 || z == 6)) };
    let features = extractor.extract(&radx_engine::Case::new(image, labels)).unwrap();
    let value = |feature: &str| features.value("c-example", feature, None).expect(feature);
    assert_eq!(value("box_offset_z"), 5.0);
    assert_eq!(value("box_origin_z_mm"), 0.0);
    // 8 × 8 × 2 voxels of 2 mm³ (the context's unit is 1 mm³).
    assert_eq!(value("roi_volume_mm3"), 256.0);
    // 2 mm is 2 voxels along x and y (the ROI spans them already) and one 2 mm slice along
    // z: slices 4 to 7, of which 4 and 7 (2 × 64 voxels) are outside the ROI.
    assert_eq!(value("outside_2mm"), 128.0);
}

/// A plugin built against the ABI 2.0 header as shipped (`crates/radx-plugin/tests/data/v2.0`):
/// its feature entries are smaller than this version's, and it reads none of the fields
/// appended since; it loads and computes, and declares no margin.
#[test]
fn a_plugin_built_for_abi_2_0_still_loads_and_computes() {
    let v2_0 = root().join("crates/radx-plugin/tests/data/v2.0");
    let out = scratch("c-v2.0").join(dylib_name("radx_c_example_v2_0"));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(&v2_0)
        .arg(v2_0.join("example.c"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("cc runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    owner_writable(&out);
    let plugin = load_plugin(&out).unwrap();
    assert_eq!((plugin.abi, plugin.abi_minor), (HOST_ABI, 0));
    assert!(plugin.features.iter().all(|f| f.margin == radx_engine::plugins::Margin::None));
    // Nor parameters or profiles (ABI 2.2): called through `compute`, rows named as before.
    assert!(plugin.features.iter().all(|f| f.params.is_empty() && !f.profile));
    assert!(plugin.features.iter().all(|f| f.default_call().row_name == f.name && f.default_call().args.is_empty()));
    let names: Vec<&str> = plugin.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["roi_volume_mm3", "always_fails", "box_offset_z", "box_origin_z_mm"]);
    // 5 voxels of 2 × 1 × 0.5 mm³.
    let column = roi([1, 5, 1], [2.0, 1.0, 0.5], |_, _, _| true, |_, _, _| 0.0);
    assert_eq!(plugin.features[0].compute(&PluginInput::from_roi(&column, &[])), Ok(5.0));
    assert_eq!(plugin.features[0].compute_values(&PluginInput::from_roi(&column, &[]), &[]), Ok(vec![5.0]));
    // Through radx extract: one row per feature, named as in radx 2.0 and 2.1.
    let dir = scratch("cli-v2.0");
    let (image, mask) = full_cube_files(&dir);
    let cli = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", out.to_str().unwrap()], None);
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    let rows: Vec<String> = text(&cli.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("original,c-example,").map(|r| r.split(',').next().unwrap().to_string()))
        .collect();
    assert_eq!(rows, ["roi_volume_mm3", "always_fails", "box_offset_z", "box_origin_z_mm"]);
    // 8³ voxels of 1 mm³.
    assert_eq!(csv_row(&text(&cli.stdout), "c-example", "roi_volume_mm3").unwrap()[4], "512");
}

/// A feature's `margin_mm` of NaN declares nothing: refused at load, naming the feature.
#[test]
fn a_nan_margin_is_refused_at_load() {
    let source = scratch("c-nan-margin").join("nan_margin.c");
    std::fs::write(
        &source,
        r#"#include <math.h>
#include "radx_plugin.h"
static int32_t one(void *c, const RadxInput *i, double *o) { (void)c; (void)i; *o = 1.0; return RADX_OK; }
static const RadxFeatureDesc features[] = {{ sizeof(RadxFeatureDesc), "wide", "SITE-1", "t", NULL, one, NAN, NULL, 0, 0, 0, NULL }};
static const RadxPluginDesc descriptor = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "nan", "0.1",
    features, 1, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL };
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
"#,
    )
    .unwrap();
    let err = load_plugin(&compile_c(&source, "nan_margin")).unwrap_err().to_string();
    assert!(err.contains("feature `wide` declares a margin_mm of NaN"), "{err}");
}

/// A batch tells each case's plugin calls its id and label (label·1000 + the id's length).
#[test]
fn the_case_id_and_label_reach_the_plugin() {
    let source = scratch("c-case").join("case.c");
    std::fs::write(
        &source,
        r#"#include <string.h>
#include "radx_plugin.h"
static int32_t id_and_label(void *c, const RadxInput *i, double *o) {
    (void)c;
    *o = 1000.0 * (double)i->label + (i->case_id ? (double)strlen(i->case_id) : -1.0);
    return RADX_OK;
}
static const RadxFeatureDesc features[] = {{ sizeof(RadxFeatureDesc), "id_and_label", "SITE-1", "t", NULL, id_and_label, 0.0, NULL, 0, 0, 0, NULL }};
static const RadxPluginDesc descriptor = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "case", "0.1",
    features, 1, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL };
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
"#,
    )
    .unwrap();
    let plugin = compile_c(&source, "case_plugin");
    let dir = scratch("cli-case-id");
    let (image, mask) = full_cube_files(&dir);
    let cases = dir.join("cases.csv");
    std::fs::write(&cases, format!("id,image,mask\nfirst,{image},{mask}\nsecond-one,{image},{mask}\n")).unwrap();
    let output = dir.join("out.jsonl");
    let args = ["batch", cases.to_str().unwrap(), "--quiet", "-o", output.to_str().unwrap(), "--plugin"];
    let out = radx_cli(&[&args[..], &[plugin.to_str().unwrap()]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(&output).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Label 1; "first" has 5 characters, "second-one" 10.
    assert_eq!(rows[0]["case.id_and_label"], 1005.0);
    assert_eq!(rows[1]["case.id_and_label"], 1010.0);
    // A lone case (radx extract) has no id: −1, label 1.
    let out = radx_cli(&["extract", "--image", &image, "--mask", &mask, "--plugin", plugin.to_str().unwrap()], None);
    assert_eq!(csv_row(&text(&out.stdout), "case", "id_and_label").unwrap()[4], "999");
}

// ---------------------------------------------------------------------------------------
// Trust: libraries other users could have replaced are refused before they are opened.
// ---------------------------------------------------------------------------------------

/// A copy of the fractal plugin in `scratch(name)/lib` with folder mode `dir_mode` and file
/// mode `file_mode`. The modes themselves are what is checked: these tests may run as root,
/// which could write anywhere.
#[cfg(unix)]
fn plugin_with_modes(name: &str, dir_mode: u32, file_mode: u32) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch(name).join("lib");
    std::fs::create_dir_all(&dir).unwrap();
    let library = dir.join(dylib_name("radx_plugin_fractal"));
    if !library.exists() {
        std::fs::copy(rust_plugin("radx_plugin_fractal"), &library).unwrap();
    }
    std::fs::set_permissions(&library, std::fs::Permissions::from_mode(file_mode)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
    (dir.canonicalize().unwrap(), library.canonicalize().unwrap())
}

#[cfg(unix)]
#[test]
fn libraries_other_users_could_replace_are_refused_before_loading() {
    use radx_engine::plugins::{PluginTrust, WritableBy};
    let refusal = |dir_mode, file_mode| {
        let (dir, library) = plugin_with_modes("untrusted", dir_mode, file_mode);
        let error = PluginRegistry::new().load(&library).map(|_| ()).expect_err("refused");
        let message = error.to_string();
        let PluginError::Untrusted { path, writable, mode, who } = error else { panic!("{error:?}") };
        assert_eq!(path, library);
        assert!(message.contains(&library.display().to_string()) && message.contains("chmod go-w"), "{message}");
        (writable == dir, writable == library, mode, who)
    };
    assert_eq!(refusal(0o777, 0o755), (true, false, 0o777, WritableBy::GroupAndEveryone));
    assert_eq!(refusal(0o757, 0o755), (true, false, 0o757, WritableBy::Everyone));
    assert_eq!(refusal(0o775, 0o755), (true, false, 0o775, WritableBy::Group));
    assert_eq!(refusal(0o755, 0o666), (false, true, 0o666, WritableBy::GroupAndEveryone));

    // Allowed explicitly, it loads.
    let (_, library) = plugin_with_modes("untrusted", 0o777, 0o755);
    PluginRegistry::with_trust(PluginTrust::AllowWritable).load(&library).expect("loads when allowed");
    // A sticky folder (like /tmp) is fine: others cannot replace what they do not own in it.
    let (_, library) = plugin_with_modes("untrusted", 0o1777, 0o755);
    PluginRegistry::new().load(&library).expect("loads from a sticky folder");
    let (_, library) = plugin_with_modes("untrusted", 0o755, 0o755);
    PluginRegistry::new().load(&library).expect("loads when only its owner can write");
}

/// A library, or a folder above it, owned by another user than root and the one running
/// radx is refused whatever its mode: its owner could replace it. Run as root, the test
/// gives a copy to another user id; run as anyone else it cannot, and checks only that the
/// user's own library loads.
#[cfg(unix)]
#[test]
fn libraries_owned_by_other_users_are_refused_before_loading() {
    use std::os::unix::fs::chown;
    let (dir, library) = plugin_with_modes("foreign", 0o755, 0o755);
    // SAFETY: geteuid only returns the caller's effective user id.
    if unsafe { libc::geteuid() } != 0 {
        PluginRegistry::new().load(&library).expect("the user's own library loads");
        eprintln!("not root: a library owned by another user cannot be made here");
        return;
    }
    let other = 54_321;
    let refusal = |owned: &Path| {
        chown(owned, Some(other), None).unwrap();
        let error = PluginRegistry::new().load(&library).map(|_| ()).expect_err("refused");
        chown(owned, Some(0), None).unwrap();
        let message = error.to_string();
        let PluginError::ForeignOwner { path, owned: found, owner, user } = error else { panic!("{error:?}") };
        assert_eq!((path, owner, user), (library.clone(), other, 0));
        assert!(message.contains("owned by user 54321") && message.contains("--allow-untrusted-plugins"), "{message}");
        found
    };
    assert_eq!(refusal(&dir), dir, "the folder");
    assert_eq!(refusal(&library), library, "the file");
    chown(&library, Some(other), None).unwrap();
    PluginRegistry::with_trust(radx_engine::plugins::PluginTrust::AllowWritable)
        .load(&library)
        .expect("loads when allowed");
    chown(&library, Some(0), None).unwrap();
    PluginRegistry::new().load(&library).expect("loads again once root owns it");
}

/// The command line refuses such a library (`--plugin`: an error; `RADX_PLUGIN_PATH`: skipped
/// with a warning), and loads it with `--allow-untrusted-plugins` or
/// `RADX_ALLOW_UNTRUSTED_PLUGINS=1`.
#[cfg(unix)]
#[test]
fn cli_refuses_untrusted_plugins_unless_allowed() {
    let (dir, library) = plugin_with_modes("cli-untrusted", 0o777, 0o755);
    let lib = library.to_str().unwrap();
    let out = radx_cli(&["plugins", "list", "--plugin", lib], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(lib) && stderr.contains("mode 777") && stderr.contains("--allow-untrusted-plugins"),
        "{stderr}"
    );

    let out = radx_cli(&["plugins", "list", "--plugin", lib, "--allow-untrusted-plugins"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("fractal"));

    let out = radx_cli(&["plugins", "list"], Some(&dir));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning") && text(&out.stderr).contains(lib), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("fractal"), "not loaded");

    let mut command = Command::new(env!("CARGO_BIN_EXE_radx"));
    command.args(["plugins", "list"]).env(radx_engine::plugins::PLUGIN_PATH_VAR, &dir);
    let out = command.env("RADX_ALLOW_UNTRUSTED_PLUGINS", "1").output().expect("radx runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("fractal"));
}

// ---------------------------------------------------------------------------------------
// A plugin that crashes radx: the line naming it, and the finished cases kept.
// ---------------------------------------------------------------------------------------

/// A C plugin whose feature `crash` aborts (`abort()`) or writes through a null pointer
/// when the case id is `boom`, and returns 1 otherwise.
fn crashing_plugin(how: &str) -> PathBuf {
    let crash = match how {
        "abort" => "abort();",
        _ => "*(volatile int *)0 = 1;",
    };
    let text = format!(
        "#include <stdlib.h>\n#include <string.h>\n#include \"radx_plugin.h\"\n\
         static int32_t crash(void *c, const RadxInput *input, double *out) {{ (void)c;\n\
           if (input->case_id && strcmp(input->case_id, \"boom\") == 0) {{ {crash} }}\n\
           *out = 1.0; return RADX_OK; }}\n\
         static const RadxFeatureDesc features[] = {{{{ sizeof(RadxFeatureDesc), \"crash\", \"SITE-CRASH\", \"test\", NULL, crash, 0.0, NULL, 0, 0, 0, NULL }}}};\n\
         static const RadxPluginDesc descriptor = {{ RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), \"crashy\", \"0.1\", \
         features, 1, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL }};\n\
         RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) {{ return &descriptor; }}\n"
    );
    let dir = scratch("c-crashing");
    let source_file = dir.join(format!("crash_{how}.c"));
    std::fs::write(&source_file, text).unwrap();
    compile_c(&source_file, &format!("crash_{how}"))
}

/// An aborting or faulting plugin still kills radx (of that signal), but stderr names the
/// signal, the plugin, the feature and the case in flight, and the batch journal keeps the
/// cases finished before it, so `--resume` goes on from there.
#[test]
fn a_crashing_plugin_leaves_a_line_naming_itself_and_the_case() {
    use std::os::unix::process::ExitStatusExt;
    let dir = scratch("cli-crash");
    let (image, mask) = full_cube_files(&dir);
    let cases = dir.join("cases.csv");
    std::fs::write(
        &cases,
        format!("id,image,mask\nfirst,{image},{mask}\nsecond,{image},{mask}\nboom,{image},{mask}\n"),
    )
    .unwrap();
    for (how, signal, name) in [("abort", libc::SIGABRT, "SIGABRT"), ("segv", libc::SIGSEGV, "SIGSEGV")] {
        let plugin = crashing_plugin(how);
        let output = dir.join(format!("{how}.csv"));
        let args = ["batch", cases.to_str().unwrap(), "--jobs", "1", "--quiet", "-o", output.to_str().unwrap()];
        let out = radx_cli(&[&args[..], &["--plugin", plugin.to_str().unwrap()]].concat(), None);
        assert_eq!(out.status.signal(), Some(signal), "{how}: {:?} {}", out.status, text(&out.stderr));
        let stderr = text(&out.stderr);
        let line = format!("radx: {name} in plugin crashy, feature crash, case boom (label 1)");
        assert!(stderr.contains(&line), "{how}: {stderr}");
        let journal = std::fs::read_to_string(dir.join(format!("{how}.csv.partial.jsonl"))).unwrap();
        for id in ["first", "second"] {
            assert!(journal.contains(&format!("\"{id}\"")), "{how}: {id} missing from the journal: {journal}");
        }
        assert!(!output.exists(), "{how}: no table is written by a run that died");
    }
}

/// ABI 2.1: the case's effective settings reach a plugin as JSON (the settings file's keys,
/// defaults filled in): a C plugin returns the text's length and whether it holds
/// `"exclude_nonfinite":true`.
#[test]
fn the_settings_reach_the_plugin_as_json() {
    let source = scratch("c-settings").join("settings.c");
    std::fs::write(
        &source,
        r#"#include <string.h>
#include "radx_plugin.h"
static int ok(const RadxInput *i) {
    return i->struct_size >= offsetof(RadxInput, settings_json) + sizeof i->settings_json && i->settings_json;
}
static int32_t length(void *c, const RadxInput *i, double *o) {
    (void)c; *o = ok(i) ? (double)strlen(i->settings_json) : -1.0; return RADX_OK;
}
static int32_t excludes(void *c, const RadxInput *i, double *o) {
    (void)c; *o = ok(i) ? strstr(i->settings_json, "\"exclude_nonfinite\":true") != NULL : -1.0; return RADX_OK;
}
static const RadxFeatureDesc features[] = {
    { sizeof(RadxFeatureDesc), "length", "SITE-1", "t", NULL, length, 0.0, NULL, 0, 0, 0, NULL },
    { sizeof(RadxFeatureDesc), "excludes", "SITE-2", "t", NULL, excludes, 0.0, NULL, 0, 0, 0, NULL },
};
static const RadxPluginDesc descriptor = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "settings",
    "0.1", features, 2, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, NULL, NULL };
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
"#,
    )
    .unwrap();
    let library = compile_c(&source, "settings_plugin");
    let grid = Grid::new([4, 4, 4], [1.0; 3]);
    let image = Volume { grid, data: Array3::from_shape_fn((4, 4, 4).f(), |(x, y, z)| (x + y + z) as f64) };
    let labels = Volume::filled(grid, 1.0);
    for exclude in [false, true] {
        let mut plugins = PluginRegistry::new();
        plugins.load(&library).unwrap();
        let settings = radx_engine::Settings { exclude_nonfinite: exclude, ..Default::default() };
        let extractor = radx_engine::Extractor::new(settings, &[], plugins).unwrap();
        let json = serde_json::to_string(&extractor.settings).unwrap();
        let features = extractor.extract(&radx_engine::Case::new(image.clone(), labels.clone())).unwrap();
        assert_eq!(features.value("settings", "length", None), Some(json.len() as f64));
        assert_eq!(features.value("settings", "excludes", None), Some(f64::from(u8::from(exclude))));
    }
}

/// ABI 2.1: the host's `cancelled` callback is 0 until the embedding program says the run
/// is being cancelled (`set_plugins_cancelled`), and 0 again after; a C plugin keeps the
/// host from its init and asks from a feature.
#[test]
fn the_host_tells_plugins_when_the_run_is_cancelled() {
    let source = scratch("c-cancelled").join("cancelled.c");
    std::fs::write(
        &source,
        r#"#include "radx_plugin.h"
static const RadxHost *the_host;
static int32_t init(const RadxHost *host, void **context) { (void)context; the_host = host; return RADX_OK; }
static int32_t asks(void *c, const RadxInput *i, double *o) {
    (void)c; (void)i;
    int has = the_host && the_host->struct_size >= offsetof(RadxHost, cancelled) + sizeof the_host->cancelled;
    *o = has && the_host->cancelled ? (double)the_host->cancelled(the_host->host_data) : -1.0;
    return RADX_OK;
}
static const RadxFeatureDesc features[] = {{ sizeof(RadxFeatureDesc), "asks", "SITE-1", "t", NULL, asks, 0.0, NULL, 0, 0, 0, NULL }};
static const RadxPluginDesc descriptor = { RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxPluginDesc), "cancels",
    "0.1", features, 1, sizeof(RadxFeatureDesc), NULL, 0, sizeof(RadxSourceDesc), NULL, init, NULL };
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
"#,
    )
    .unwrap();
    let plugin = load_plugin(&compile_c(&source, "cancels")).unwrap();
    let cube = roi([2, 2, 2], [1.0; 3], |_, _, _| true, |_, _, _| 1.0);
    let input = PluginInput::from_roi(&cube, &[]);
    assert_eq!(plugin.features[0].compute(&input), Ok(0.0));
    radx_engine::plugins::set_plugins_cancelled(true);
    let during = plugin.features[0].compute(&input);
    radx_engine::plugins::set_plugins_cancelled(false);
    assert_eq!(during, Ok(1.0));
    assert_eq!(plugin.features[0].compute(&input), Ok(0.0));
}
