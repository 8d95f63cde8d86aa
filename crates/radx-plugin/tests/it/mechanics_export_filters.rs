//! The filter export macro, exercised in-process: the table it generates, the image and
//! parameters a filter sees, errors and panics turned into RADX_ERROR + last_error, and a
//! host's inconsistent input refused before the filter runs.

use std::ffi::{CStr, c_char};

use radx_plugin::{
    Boundary, FilterImage, RADX_ERROR, RADX_OK, RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, RadxFilterInput,
    RadxFilterTable, RadxImageView, export_filters,
};

/// out = image + the `offset` parameter's length + x of the voxel (shows x-fastest order).
fn offset_by_params(image: &FilterImage, out: &mut [f64]) -> Result<(), String> {
    for (i, (o, v)) in out.iter_mut().zip(image.data).enumerate() {
        *o = v + image.params_json.len() as f64 + (i % image.dims[0]) as f64;
    }
    Ok(())
}

/// The value one voxel to the left, mirrored at the edge.
fn shift_mirrored(image: &FilterImage, out: &mut [f64]) -> Result<(), String> {
    for (x, o) in out.iter_mut().enumerate().take(image.dims[0]) {
        *o = image.get(x as isize - 1, 0, 0, Boundary::Mirror);
    }
    Ok(())
}

fn refuses(_: &FilterImage, _: &mut [f64]) -> Result<(), String> {
    Err("no response for this image".to_string())
}

fn panics(_: &FilterImage, _: &mut [f64]) -> Result<(), String> {
    panic!("boom in the kernel")
}

export_filters! {
    filters: [
        { name: "offset", description: "I + |params| + x", boundary: "nearest", margin_voxels: [0, 0, 0],
          params: r#"{"k": 1}"#, apply: offset_by_params },
        { name: "shift", description: "I[x-1]", boundary: "mirror", margin_voxels: [1, 0, 0], margin_mm: 2.5,
          working_volumes: 1, apply: shift_mirrored },
        { name: "refuses", description: "always an error", boundary: "zero", margin_voxels: [0, 0, 0], apply: refuses },
        { name: "panics", description: "always panics", boundary: "zero", margin_voxels: [0, 0, 0], apply: panics },
    ],
}

fn table() -> &'static RadxFilterTable {
    // The macro's symbol, linked into this test binary.
    unsafe extern "C" {
        fn radx_plugin_filters() -> *const RadxFilterTable;
    }
    // SAFETY: the macro's entry returns a pointer to a static table.
    unsafe { &*radx_plugin_filters() }
}

fn text(p: *const c_char) -> &'static str {
    // SAFETY: descriptor strings are static and NUL-terminated.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

/// Apply filter `i` to a 3×1×1 image `[1, 2, 4]` with `params`: the status and the output.
fn apply(i: usize, params: &CStr, out_len: usize) -> (i32, Vec<f64>) {
    let image = [1.0, 2.0, 4.0];
    let input = RadxFilterInput {
        struct_size: size_of::<RadxFilterInput>(),
        image: RadxImageView { data: image.as_ptr(), dims: [3, 1, 1], spacing: [1.0; 3] },
        params_json: params.as_ptr(),
    };
    let mut out = vec![f64::NAN; out_len];
    let desc = &table_entries()[i];
    // SAFETY: a valid input and an output of `out_len` voxels.
    let status = unsafe { desc.apply.unwrap()(std::ptr::null_mut(), &input, out.as_mut_ptr(), out_len) };
    (status, out)
}

fn table_entries() -> &'static [radx_plugin::RadxFilterDesc] {
    let t = table();
    // SAFETY: the macro's table holds `n_filters` entries of this version.
    unsafe { std::slice::from_raw_parts(t.filters, t.n_filters) }
}

fn last_error() -> String {
    // SAFETY: the SDK's last_error gives a NUL-terminated message or null.
    let p = unsafe { radx_plugin::__private::last_error() };
    if p.is_null() { String::new() } else { text(p).to_string() }
}

#[test]
fn the_table_describes_every_filter() {
    let t = table();
    assert_eq!((t.abi_version, t.abi_minor), (RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR));
    assert_eq!(
        (t.struct_size, t.filter_size),
        (size_of::<RadxFilterTable>(), size_of::<radx_plugin::RadxFilterDesc>())
    );
    let names: Vec<&str> = table_entries().iter().map(|f| text(f.name)).collect();
    assert_eq!(names, ["offset", "shift", "refuses", "panics"]);
    let shift = &table_entries()[1];
    assert_eq!((text(shift.boundary), shift.margin_voxels, shift.margin_mm), ("mirror", [1, 0, 0], 2.5));
    assert_eq!((shift.working_volumes, text(shift.params)), (1, "{}"));
    assert_eq!(text(table_entries()[0].params), r#"{"k": 1}"#);
}

#[test]
fn a_filter_sees_the_image_x_fastest_and_its_parameters() {
    // params `{"k":2}` is 7 bytes: 1 + 7 + 0, 2 + 7 + 1, 4 + 7 + 2.
    assert_eq!(apply(0, c"{\"k\":2}", 3), (RADX_OK, vec![8.0, 10.0, 13.0]));
    // Mirrored: index −1 reads voxel 0.
    assert_eq!(apply(1, c"{}", 3), (RADX_OK, vec![1.0, 1.0, 2.0]));
}

#[test]
fn errors_and_panics_become_messages() {
    assert_eq!(apply(2, c"{}", 3).0, RADX_ERROR);
    assert_eq!(last_error(), "no response for this image");
    assert_eq!(apply(3, c"{}", 3).0, RADX_ERROR);
    let message = last_error();
    assert!(message.starts_with("the plugin panicked: boom in the kernel (at "), "{message}");
    // A success clears it.
    assert_eq!(apply(0, c"{}", 3).0, RADX_OK);
    assert_eq!(last_error(), "");
}

#[test]
fn an_output_of_another_size_is_refused_before_the_filter_runs() {
    let (status, out) = apply(0, c"{}", 2);
    assert_eq!(status, RADX_ERROR);
    assert!(out.iter().all(|v| v.is_nan()), "the filter ran: {out:?}");
    assert!(last_error().contains("an image of 3 voxels and an output of 2"), "{}", last_error());
}
