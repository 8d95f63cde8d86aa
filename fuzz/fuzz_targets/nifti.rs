//! Fuzz the NIfTI-1/NIfTI-2 reader (plain and gzip) on arbitrary bytes: every input must
//! give a volume or an `IoError`, never a panic, a hang or an allocation beyond the budget.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use radx_io::{ReadOptions, read_volume_bytes};

/// 64 MiB of voxels: far below libFuzzer's 2 GiB RSS limit, so an allocation the budget
/// should have refused shows up as an out-of-memory report.
const BUDGET: ReadOptions = ReadOptions::with_budget(64 << 20);

fuzz_target!(|data: &[u8]| {
    // The first byte picks plain or gzip, so the fuzzer explores both decoders.
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = if selector & 1 == 0 { "fuzz.nii" } else { "fuzz.nii.gz" };
    if let Ok(volume) = read_volume_bytes(Path::new(name), bytes, &BUDGET) {
        assert_eq!(volume.data.len(), volume.grid.dims.iter().product::<usize>());
    }
});
