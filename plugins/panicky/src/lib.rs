//! Test fixture: a Rust plugin with features that panic, next to one that works.
//!
//! `export_plugin!` must catch each panic at the boundary and report it as that
//! feature's error; the plugin (and radx) must go on working afterwards.

use radx_plugin::{Input, export_plugin};

fn explicit_panic(_: &Input) -> Result<f64, String> {
    panic!("deliberate panic in a plugin feature")
}

fn out_of_bounds(input: &Input) -> Result<f64, String> {
    // A typical bug: reading one voxel past the end of the image.
    let image = input.image();
    Ok(image[image.len()])
}

fn voxel_count(input: &Input) -> Result<f64, String> {
    Ok(input.morphological_mask().count() as f64)
}

fn minus_infinity(_: &Input) -> Result<f64, String> {
    // A legitimate value that JSON cannot hold: every output writes it as `-inf`.
    Ok(f64::NEG_INFINITY)
}

export_plugin! {
    name: "panicky",
    version: "0.0.1",
    features: [
        { name: "explicit_panic", tag: "TEST-PANIC1", description: "Always panics", compute: explicit_panic },
        { name: "out_of_bounds", tag: "TEST-PANIC2", description: "Indexes past the image", compute: out_of_bounds },
        { name: "voxel_count", tag: "TEST-COUNT", description: "Voxels in the morphological mask", compute: voxel_count },
        { name: "minus_infinity", tag: "TEST-NEGINF", description: "Always -inf", compute: minus_infinity },
    ],
    sources: [],
}
