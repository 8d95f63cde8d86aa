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
    writeln!(c, "_Static_assert(RADX_OK == {RADX_OK}, \"RADX_OK\");").unwrap();
    writeln!(c, "_Static_assert(RADX_ERROR == {RADX_ERROR}, \"RADX_ERROR\");").unwrap();
    writeln!(c, "_Static_assert(RADX_MAX_MATRIX_DIMS == {RADX_MAX_MATRIX_DIMS}, \"RADX_MAX_MATRIX_DIMS\");").unwrap();
    layout_asserts!(&mut c, RadxImageView { data, dims, spacing });
    layout_asserts!(&mut c, RadxMaskView { data, dims });
    layout_asserts!(&mut c, RadxLevelsView { data, dims, ng });
    layout_asserts!(&mut c, RadxValuesView { data, len });
    layout_asserts!(&mut c, RadxMatrixView { data, ndim, shape, axis_values });
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
    // The entry symbol name the host looks up is the one the header declares.
    writeln!(c, "static const RadxEntryFn entry_has_the_declared_type = &{RADX_ENTRY_SYMBOL};").unwrap();
    c
}

#[test]
fn c_header_matches_rust_layout() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("radx-plugin-header");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("layout_check.c");
    std::fs::write(&source, c_assertions()).unwrap();
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-const-variable", "-fsyntax-only", "-I"])
        .arg(&include)
        .arg(&source)
        .output()
        .expect("the system C compiler `cc` runs");
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
        "RadxInput",
        "RadxMatrixOut",
        "RadxComputeFn",
        "RadxBuildFn",
        "RadxReleaseFn",
        "RadxLastErrorFn",
        "RadxFeatureDesc",
        "RadxSourceDesc",
        "RadxPluginDesc",
        "RadxEntryFn",
    ] {
        assert!(header.contains(&format!("}} {name};")) || header.contains(&format!("(*{name})")), "{name} missing");
    }
}
