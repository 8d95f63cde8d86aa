//! Fuzz the NRRD reader (attached header, raw and gzip encodings) on arbitrary bytes:
//! every input must give a volume or an `IoError`, never a panic, a hang or an
//! allocation beyond the budget.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use radx_io::{ReadOptions, read_volume_bytes};

/// 64 MiB of voxels (see the NIfTI target).
const BUDGET: ReadOptions = ReadOptions::with_budget(64 << 20);

fuzz_target!(|data: &[u8]| {
    if let Ok(volume) = read_volume_bytes(Path::new("fuzz.nrrd"), data, &BUDGET) {
        assert_eq!(volume.data.len(), volume.grid.dims.iter().product::<usize>());
    }
});
