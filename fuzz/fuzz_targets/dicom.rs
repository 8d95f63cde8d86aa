//! Fuzz the DICOM readers on arbitrary bytes: one image file (a slice or a multi-frame
//! image) read as a series, an RTSTRUCT rasterised on a small grid, a SEG placed on it.
//! Every input must give a value or a `DicomError`, never a panic, a hang or an allocation
//! beyond the budget.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use radx_dicom::{Grid, SeriesOptions, rasterise, read_rtstruct_bytes, read_seg_bytes, read_series_bytes};

/// 64 MiB of decoded voxels or SEG pixels: far below libFuzzer's RSS limit, so an
/// allocation the budget should have refused shows up as an out-of-memory report.
const BUDGET: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the reader, so the fuzzer explores all three.
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = Path::new("fuzz.dcm");
    let grid = Grid::new([16, 16, 8], [1.0, 1.0, 2.0]);
    match selector % 3 {
        0 => {
            let opts = SeriesOptions { max_bytes: BUDGET, ..SeriesOptions::default() };
            if let Ok(series) = read_series_bytes(name, bytes, &opts) {
                assert_eq!(series.volume.data.len(), series.volume.grid.dims.iter().product::<usize>());
            }
        }
        1 => {
            if let Ok(set) = read_rtstruct_bytes(name, bytes) {
                for roi in &set.rois {
                    let _ = rasterise(name, roi, &grid);
                }
            }
        }
        _ => {
            if let Ok(seg) = read_seg_bytes(name, bytes, BUDGET) {
                for segment in &seg.segments {
                    let _ = seg.mask(segment.number, &grid);
                }
            }
        }
    }
});
