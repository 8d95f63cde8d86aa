//! `radx info IMAGE`.

use std::path::Path;
use std::process::ExitCode;

use super::Error;

pub fn run(path: &Path, max_memory: Option<u64>) -> Result<ExitCode, Error> {
    let info = radx_io::read_info(path)?;
    let mut opts = radx_io::ReadOptions::default();
    if let Some(bytes) = max_memory {
        opts.max_bytes = bytes;
    }
    let volume = radx_io::read_volume_with(path, &opts)?;
    let (mut lo, mut hi, mut nonfinite) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for &v in volume.data.iter() {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        } else {
            nonfinite += 1;
        }
    }
    let g = info.grid;
    let mut out = String::new();
    outln!(out, "file:        {}", path.display());
    outln!(out, "format:      {}", info.format);
    outln!(out, "dimensions:  {} x {} x {}", g.dims[0], g.dims[1], g.dims[2]);
    outln!(out, "spacing:     {} x {} x {} mm", g.spacing[0], g.spacing[1], g.spacing[2]);
    outln!(out, "origin:      ({}, {}, {}) mm (LPS)", g.origin[0], g.origin[1], g.origin[2]);
    outln!(out, "direction:   {:?}", g.direction.map(|row| row.map(|v| v + 0.0)));
    outln!(out, "orientation: {}", info.orientation);
    outln!(out, "datatype:    {}", info.datatype);
    if let Some((slope, inter)) = info.scale {
        outln!(out, "scaling:     value = {slope} * stored + {inter}");
    }
    outln!(out, "intensity:   {lo} .. {hi}");
    if nonfinite > 0 {
        outln!(out, "non-finite:  {nonfinite} voxel(s) are NaN or infinite");
    }
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
