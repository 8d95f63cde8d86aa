//! The hand-kept C header `include/radx_plugin.h` matches the Rust ABI types: a C file
//! of `_Static_assert`s on sizeof/alignof/offsetof
//! of every struct and the size of every field, with the values Rust computes, must
//! compile with the system C compiler.

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;
use std::process::Command;

use radx_plugin::*;

/// `_Static_assert`s for a struct's size, alignment and each named field's offset.
macro_rules! layout_asserts {
    ($out:expr, $ty:ident { $($field:ident),* $(,)? }) => {{
        let out: &mut String = $out;
        let name = stringify!($ty);
        writeln!(out, "_Static_assert(sizeof({name}) == {}, \"sizeof {name}\");", size_of::<$ty>()).unwrap();
        writeln!(out, "_Static_assert(_Alignof({name}) == {}, \"alignof {name}\");", align_of::<$ty>()).unwrap();
        // SAFETY: every ABI type is plain data for which all-zero bytes are valid
        // (null pointers, zero sizes, `None` function pointers).
        let zero: $ty = unsafe { std::mem::MaybeUninit::zeroed().assume_init() };
        $(
            let field = stringify!($field);
            writeln!(
                out,
                "_Static_assert(offsetof({name}, {field}) == {}, \"offsetof {name}.{field}\");",
                offset_of!($ty, $field)
            ).unwrap();
            writeln!(
                out,
                "_Static_assert(sizeof((({name} *)0)->{field}) == {}, \"sizeof {name}.{field}\");",
                std::mem::size_of_val(&zero.$field)
            ).unwrap();
        )*
    }};
}

fn c_assertions() -> String {
    let mut c = String::from("#include <stddef.h>\n#include \"radx_plugin.h\"\n");
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI == {RADX_PLUGIN_ABI}u, \"RADX_PLUGIN_ABI\");").unwrap();
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI_MINOR == {RADX_PLUGIN_ABI_MINOR}u, \"RADX_PLUGIN_ABI_MINOR\");")
        .unwrap();
    writeln!(c, "_Static_assert(RADX_OK == {RADX_OK}, \"RADX_OK\");").unwrap();
    writeln!(c, "_Static_assert(RADX_ERROR == {RADX_ERROR}, \"RADX_ERROR\");").unwrap();
    writeln!(c, "_Static_assert(RADX_MAX_MATRIX_DIMS == {RADX_MAX_MATRIX_DIMS}, \"RADX_MAX_MATRIX_DIMS\");").unwrap();
    for (name, value) in
        [("ERROR", RADX_LOG_ERROR), ("WARN", RADX_LOG_WARN), ("INFO", RADX_LOG_INFO), ("DEBUG", RADX_LOG_DEBUG)]
    {
        writeln!(c, "_Static_assert(RADX_LOG_{name} == {value}, \"RADX_LOG_{name}\");").unwrap();
    }
    layout_asserts!(&mut c, RadxImageView { data, dims, spacing });
    layout_asserts!(&mut c, RadxMaskView { data, dims });
    layout_asserts!(&mut c, RadxLevelsView { data, dims, ng });
    layout_asserts!(&mut c, RadxValuesView { data, len });
    layout_asserts!(&mut c, RadxMatrixView { data, ndim, shape, axis_values });
    layout_asserts!(&mut c, RadxGeometry { origin, direction, box_offset, image_dims });
    layout_asserts!(&mut c, RadxRegionView { image, morphological_mask, intensity_mask, offset });
    writeln!(c, "_Static_assert(RADX_MARGIN_WHOLE_IMAGE == {RADX_MARGIN_WHOLE_IMAGE:?}, \"RADX_MARGIN_WHOLE_IMAGE\");")
        .unwrap();
    layout_asserts!(
        &mut c,
        RadxInput {
            struct_size,
            image,
            morphological_mask,
            intensity_mask,
            intensities,
            levels,
            matrices,
            n_matrices,
            geometry,
            case_id,
            label,
            settings_json,
            margin
        }
    );
    layout_asserts!(&mut c, RadxMatrixOut { matrix, owner, release });
    layout_asserts!(&mut c, RadxHost { struct_size, abi_major, abi_minor, host_data, log, cancelled });
    for (name, value) in [("INT", RADX_PARAM_INT), ("FLOAT", RADX_PARAM_FLOAT), ("BOOL", RADX_PARAM_BOOL)] {
        writeln!(c, "_Static_assert(RADX_PARAM_{name} == {value}, \"RADX_PARAM_{name}\");").unwrap();
    }
    layout_asserts!(&mut c, RadxParamDesc { struct_size, name, kind, default_value, min, max });
    layout_asserts!(&mut c, RadxValuesOut { data, len, owner, release });
    writeln!(c, "static const RadxComputeValuesFn compute_values_type = (RadxComputeValuesFn)0;").unwrap();
    layout_asserts!(
        &mut c,
        RadxFeatureDesc {
            struct_size,
            name,
            tag,
            description,
            source,
            compute,
            margin_mm,
            params,
            n_params,
            param_size,
            profile,
            compute_values
        }
    );
    layout_asserts!(&mut c, RadxSourceDesc { struct_size, name, description, ndim, params, build, margin_mm });
    layout_asserts!(
        &mut c,
        RadxPluginDesc {
            abi_version,
            abi_minor,
            struct_size,
            name,
            version,
            features,
            n_features,
            feature_size,
            sources,
            n_sources,
            source_size,
            last_error,
            init,
            shutdown
        }
    );
    layout_asserts!(&mut c, RadxFilterInput { struct_size, image, params_json });
    layout_asserts!(
        &mut c,
        RadxFilterDesc {
            struct_size,
            name,
            description,
            margin_voxels,
            margin_mm,
            boundary,
            params,
            working_volumes,
            apply
        }
    );
    layout_asserts!(&mut c, RadxFilterTable { abi_version, abi_minor, struct_size, filters, n_filters, filter_size });
    // The entry symbol name the host looks up is the one the header declares.
    writeln!(c, "static const RadxEntryFn entry_has_the_declared_type = &{RADX_ENTRY_SYMBOL};").unwrap();
    writeln!(c, "static const RadxFiltersFn filters_have_the_declared_type = &{RADX_FILTERS_SYMBOL};").unwrap();
    c
}

/// The ABI 1 types the host still reads, against the ABI 1 header as it was shipped
/// (`tests/data/v1/radx_plugin.h`): a v1 plugin's descriptor and input keep their layout.
fn c_assertions_v1() -> String {
    use radx_plugin::v1::{RadxFeatureDesc, RadxInput, RadxPluginDesc, RadxSourceDesc};
    let mut c = String::from("#include <stddef.h>\n#include \"radx_plugin.h\"\n");
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI == {}u, \"RADX_PLUGIN_ABI\");", radx_plugin::v1::RADX_PLUGIN_ABI)
        .unwrap();
    layout_asserts!(
        &mut c,
        RadxInput { image, morphological_mask, intensity_mask, intensities, levels, matrices, n_matrices }
    );
    layout_asserts!(&mut c, RadxMatrixOut { matrix, owner, release });
    layout_asserts!(&mut c, RadxFeatureDesc { name, tag, description, source, compute });
    layout_asserts!(&mut c, RadxSourceDesc { name, description, ndim, params, build });
    layout_asserts!(
        &mut c,
        RadxPluginDesc { abi_version, name, version, features, n_features, sources, n_sources, last_error }
    );
    c
}

/// The ABI 2.0 types the host still reads (a 2.0 plugin's smaller feature entries) and
/// the SDK completes (a 2.0 host's smaller input), against the 2.0 header as it was shipped
/// (`tests/data/v2.0/radx_plugin.h`); each is a prefix of this version's type.
fn c_assertions_v2_0() -> String {
    use radx_plugin::v2_0::{RadxFeatureDesc, RadxInput, RadxSourceDesc};
    let mut c = String::from("#include <stddef.h>\n#include \"radx_plugin.h\"\n");
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI_MINOR == 0u, \"RADX_PLUGIN_ABI_MINOR\");").unwrap();
    layout_asserts!(&mut c, RadxSourceDesc { struct_size, name, description, ndim, params, build });
    // 2.0's host ends where 2.1 appended `cancelled`.
    let host_end = offset_of!(radx_plugin::RadxHost, cancelled);
    writeln!(c, "_Static_assert(sizeof(RadxHost) == {host_end}, \"sizeof RadxHost 2.0\");").unwrap();
    layout_asserts!(&mut c, RadxFeatureDesc { struct_size, name, tag, description, source, compute });
    layout_asserts!(
        &mut c,
        RadxInput {
            struct_size,
            image,
            morphological_mask,
            intensity_mask,
            intensities,
            levels,
            matrices,
            n_matrices,
            geometry,
            case_id,
            label
        }
    );
    c
}

#[test]
fn the_v2_0_types_match_the_v2_0_header_and_are_prefixes_of_this_version() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v2.0");
    let output = compiles("layout_check_v2_0.c", &c_assertions_v2_0(), &include);
    assert!(
        output.status.success(),
        "radx_plugin::v2_0 does not match ABI 2.0:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Appended fields only: 2.0's structs end where this version's new fields begin.
    assert_eq!(size_of::<v2_0::RadxFeatureDesc>(), offset_of!(RadxFeatureDesc, margin_mm));
    assert_eq!(offset_of!(v2_0::RadxFeatureDesc, compute), offset_of!(RadxFeatureDesc, compute));
    assert_eq!(size_of::<v2_0::RadxInput>(), offset_of!(RadxInput, settings_json));
    assert_eq!(offset_of!(v2_0::RadxInput, label), offset_of!(RadxInput, label));
    assert_eq!(size_of::<v2_0::RadxSourceDesc>(), offset_of!(RadxSourceDesc, margin_mm));
    assert_eq!(offset_of!(v2_0::RadxSourceDesc, build), offset_of!(RadxSourceDesc, build));
}

/// ABI 2.1 as shipped (`tests/data/v2.1/radx_plugin.h`): minor 2 added filters in their
/// own structs and symbol, and appended parameters and profiles to `RadxFeatureDesc`, so
/// every other 2.1 struct is this version's, unchanged, and 2.1's feature entry is this
/// version's up to its first appended field.
fn c_assertions_v2_1() -> String {
    let mut c = String::from("#include <stddef.h>\n#include \"radx_plugin.h\"\n");
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI_MINOR == 1u, \"RADX_PLUGIN_ABI_MINOR\");").unwrap();
    let feature_2_1 = offset_of!(RadxFeatureDesc, params);
    writeln!(c, "_Static_assert(sizeof(RadxFeatureDesc) == {feature_2_1}, \"sizeof RadxFeatureDesc (2.1)\");").unwrap();
    for (field, offset) in [
        ("struct_size", offset_of!(RadxFeatureDesc, struct_size)),
        ("name", offset_of!(RadxFeatureDesc, name)),
        ("tag", offset_of!(RadxFeatureDesc, tag)),
        ("description", offset_of!(RadxFeatureDesc, description)),
        ("source", offset_of!(RadxFeatureDesc, source)),
        ("compute", offset_of!(RadxFeatureDesc, compute)),
        ("margin_mm", offset_of!(RadxFeatureDesc, margin_mm)),
    ] {
        writeln!(c, "_Static_assert(offsetof(RadxFeatureDesc, {field}) == {offset}, \"offsetof {field}\");").unwrap();
    }
    {
        // Sources gained `margin_mm` in 2.3: 2.1's entry is 2.0's.
        use radx_plugin::v2_0::RadxSourceDesc;
        layout_asserts!(&mut c, RadxSourceDesc { struct_size, name, description, ndim, params, build });
    }
    layout_asserts!(&mut c, RadxHost { struct_size, abi_major, abi_minor, host_data, log, cancelled });
    layout_asserts!(&mut c, RadxInput { struct_size, image, geometry, case_id, label, settings_json, margin });
    layout_asserts!(&mut c, RadxPluginDesc { abi_version, abi_minor, struct_size, features, sources, shutdown });
    c
}

#[test]
fn the_v2_1_header_matches_this_versions_structs_up_to_the_appended_fields() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v2.1");
    let output = compiles("layout_check_v2_1.c", &c_assertions_v2_1(), &include);
    assert!(output.status.success(), "ABI 2.1's structs changed:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// ABI 2.2 as shipped (`tests/data/v2.2/radx_plugin.h`): minor 3 appended `margin_mm` to
/// `RadxSourceDesc` only, so 2.2's source entry is 2.0's ([`v2_0::RadxSourceDesc`], a prefix
/// of this version's) and every other 2.2 struct is this version's, unchanged.
fn c_assertions_v2_2() -> String {
    let mut c = String::from("#include <stddef.h>\n#include \"radx_plugin.h\"\n");
    writeln!(c, "_Static_assert(RADX_PLUGIN_ABI_MINOR == 2u, \"RADX_PLUGIN_ABI_MINOR\");").unwrap();
    {
        use radx_plugin::v2_0::RadxSourceDesc;
        layout_asserts!(&mut c, RadxSourceDesc { struct_size, name, description, ndim, params, build });
    }
    layout_asserts!(
        &mut c,
        RadxFeatureDesc { struct_size, name, source, compute, margin_mm, params, n_params, profile, compute_values }
    );
    layout_asserts!(&mut c, RadxHost { struct_size, abi_major, abi_minor, host_data, log, cancelled });
    layout_asserts!(&mut c, RadxInput { struct_size, image, geometry, case_id, label, settings_json, margin });
    layout_asserts!(&mut c, RadxPluginDesc { abi_version, abi_minor, struct_size, features, sources, shutdown });
    layout_asserts!(&mut c, RadxFilterDesc { struct_size, name, margin_mm, boundary, params, working_volumes, apply });
    c
}

#[test]
fn the_v2_2_header_matches_this_versions_structs_up_to_the_sources_margin() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v2.2");
    let output = compiles("layout_check_v2_2.c", &c_assertions_v2_2(), &include);
    assert!(output.status.success(), "ABI 2.2's structs changed:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// `cc -fsyntax-only` of `source` against the header in `include`.
fn compiles(name: &str, source: &str, include: &Path) -> std::process::Output {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("radx-plugin-header");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, source).unwrap();
    Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-const-variable", "-fsyntax-only", "-I"])
        .arg(include)
        .arg(&file)
        .output()
        .expect("the system C compiler `cc` runs")
}

#[test]
fn the_v1_types_match_the_v1_header() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1");
    let output = compiles("layout_check_v1.c", &c_assertions_v1(), &include);
    assert!(
        output.status.success(),
        "radx_plugin::v1 does not match ABI 1:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn c_header_matches_rust_layout() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let output = compiles("layout_check.c", &c_assertions(), &include);
    assert!(
        output.status.success(),
        "radx_plugin.h does not match the Rust ABI:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn header_declares_every_abi_type() {
    // A type added on the Rust side must be added to the header (and to the test above).
    let header = include_str!("../../include/radx_plugin.h");
    for name in [
        "RadxImageView",
        "RadxMaskView",
        "RadxLevelsView",
        "RadxValuesView",
        "RadxMatrixView",
        "RadxGeometry",
        "RadxRegionView",
        "RadxInput",
        "RadxHost",
        "RadxLogFn",
        "RadxCancelledFn",
        "RadxInitFn",
        "RadxShutdownFn",
        "RadxMatrixOut",
        "RadxComputeFn",
        "RadxBuildFn",
        "RadxReleaseFn",
        "RadxLastErrorFn",
        "RadxFeatureDesc",
        "RadxSourceDesc",
        "RadxPluginDesc",
        "RadxEntryFn",
        "RadxFilterInput",
        "RadxFilterFn",
        "RadxFilterDesc",
        "RadxFilterTable",
        "RadxFiltersFn",
    ] {
        assert!(header.contains(&format!("}} {name};")) || header.contains(&format!("(*{name})")), "{name} missing");
    }
}
