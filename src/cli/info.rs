//! `radx info PATH`: a NIfTI/NRRD image, a DICOM series (folder or file), an RTSTRUCT or a
//! DICOM SEG.

use std::path::Path;
use std::process::ExitCode;

use radx_dicom::{DicomKind, SeriesOptions};
use radx_engine::core::{Grid, Volume};
use radx_input::InputKind;

use super::Error;

pub fn run(path: &Path, max_memory: Option<u64>, allow_external_data: bool) -> Result<ExitCode, Error> {
    let out = match radx_input::classify(path)? {
        InputKind::VolumeFile => volume_file(path, max_memory, allow_external_data)?,
        InputKind::DicomFolder | InputKind::DicomFile(DicomKind::Image) => dicom_series(path, max_memory)?,
        InputKind::DicomFile(DicomKind::RtStruct) => rtstruct(path)?,
        InputKind::DicomFile(DicomKind::Seg) => seg(path)?,
        InputKind::DicomFile(DicomKind::Other(modality)) => {
            return Err(Error::usage(format!(
                "{}: a DICOM object of Modality {modality:?}; radx info describes images, DICOM series, RTSTRUCT and SEG files",
                path.display()
            )));
        }
    };
    super::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Geometry lines shared by image files and DICOM series.
fn geometry(out: &mut String, g: &Grid) {
    outln!(out, "dimensions:  {} x {} x {}", g.dims[0], g.dims[1], g.dims[2]);
    outln!(out, "spacing:     {} x {} x {} mm", g.spacing[0], g.spacing[1], g.spacing[2]);
    outln!(out, "origin:      ({}, {}, {}) mm (LPS)", g.origin[0], g.origin[1], g.origin[2]);
    outln!(out, "direction:   {:?}", g.direction.map(|row| row.map(|v| v + 0.0)));
}

/// The intensity range and the count of non-finite voxels.
fn intensities(out: &mut String, volume: &Volume<f64>) {
    let (mut lo, mut hi, mut nonfinite) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for &v in volume.data.iter() {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        } else {
            nonfinite += 1;
        }
    }
    outln!(out, "intensity:   {lo} .. {hi}");
    if nonfinite > 0 {
        outln!(out, "non-finite:  {nonfinite} voxel(s) are NaN or infinite");
    }
}

fn volume_file(path: &Path, max_memory: Option<u64>, allow_external_data: bool) -> Result<String, Error> {
    let info = radx_io::read_info(path)?;
    let mut opts = radx_io::ReadOptions { allow_external_data, ..Default::default() };
    if let Some(bytes) = max_memory {
        opts.max_bytes = bytes;
    }
    let volume = radx_io::read_volume_with(path, &opts)?;
    let mut out = String::new();
    outln!(out, "file:        {}", path.display());
    outln!(out, "format:      {}", info.format);
    geometry(&mut out, &info.grid);
    outln!(out, "orientation: {}", info.orientation);
    outln!(out, "datatype:    {}", info.datatype);
    if let Some((slope, inter)) = info.scale {
        outln!(out, "scaling:     value = {slope} * stored + {inter}");
    }
    intensities(&mut out, &volume);
    Ok(out)
}

/// One series: its geometry and values; a folder of several series: the list of them.
fn dicom_series(path: &Path, max_memory: Option<u64>) -> Result<String, Error> {
    let mut out = String::new();
    let found = radx_dicom::list_series(path)?;
    if found.len() > 1 {
        outln!(out, "folder:      {}", path.display());
        outln!(out, "format:      DICOM, {} series (choose one with --series UID)", found.len());
        for s in &found {
            let modality = s.modality.as_deref().unwrap_or("-");
            outln!(out, "series:      {}  {modality}  {} slices in {} files", s.series_uid, s.slices, s.files);
        }
        return Ok(out);
    }
    let mut opts = SeriesOptions::default();
    if let Some(bytes) = max_memory {
        opts.max_bytes = bytes;
    }
    let series = radx_dicom::read_series_with(path, &opts)?;
    let files = {
        let mut distinct = series.files.clone();
        distinct.dedup();
        distinct.len()
    };
    outln!(out, "file:        {}", path.display());
    outln!(out, "format:      DICOM series, {} slices in {files} file(s)", series.files.len());
    outln!(out, "modality:    {}", series.modality.as_deref().unwrap_or("-"));
    outln!(out, "series UID:  {}", series.series_uid);
    outln!(out, "frame of reference: {}", series.frame_of_reference_uid.as_deref().unwrap_or("-"));
    geometry(&mut out, &series.volume.grid);
    outln!(out, "values:      stored value × RescaleSlope + RescaleIntercept");
    intensities(&mut out, &series.volume);
    Ok(out)
}

fn rtstruct(path: &Path) -> Result<String, Error> {
    let set = radx_dicom::read_rtstruct(path)?;
    let mut out = String::new();
    outln!(out, "file:        {}", path.display());
    outln!(out, "format:      DICOM RTSTRUCT, {} ROI(s)", set.rois.len());
    outln!(out, "ROIs (number, name, closed contours, points, frame of reference):");
    for roi in &set.rois {
        let closed = roi.contours.iter().filter(|c| c.kind == radx_dicom::ContourKind::ClosedPlanar).count();
        let points: usize = roi.contours.iter().map(|c| c.points.len()).sum();
        let frame = roi.frame_of_reference_uid.as_deref().unwrap_or("-");
        let others = roi.contours.len() - closed;
        let others = if others > 0 { format!(" (+{others} open or point)") } else { String::new() };
        outln!(out, "  {:>4}  {:?}  {closed} contours{others}, {points} points, {frame}", roi.number, roi.name);
    }
    Ok(out)
}

fn seg(path: &Path) -> Result<String, Error> {
    let seg = radx_dicom::read_seg(path)?;
    let mut out = String::new();
    outln!(out, "file:        {}", path.display());
    let kind = match &seg.kind {
        radx_dicom::SegmentationType::Binary => "binary".to_string(),
        radx_dicom::SegmentationType::Fractional { max, fractional_type } => {
            format!("fractional ({fractional_type}, value / {max})")
        }
        radx_dicom::SegmentationType::Labelmap => "label map".to_string(),
    };
    outln!(out, "format:      DICOM SEG, {kind}, {} segment(s)", seg.segments.len());
    outln!(out, "frames:      {} of {} x {} pixels", seg.frames.len(), seg.cols, seg.rows);
    if let Some(first) = seg.frames.first() {
        let s = first.pixel_spacing;
        outln!(out, "spacing:     {} x {} mm (in plane)", s[1], s[0]);
    }
    outln!(out, "frame of reference: {}", seg.frame_of_reference_uid.as_deref().unwrap_or("-"));
    outln!(out, "segments (number, label, algorithm, frames, non-zero pixels):");
    for s in &seg.segments {
        let algorithm = s.algorithm.as_deref().unwrap_or("-");
        let pixels = seg.pixel_count(s.number);
        outln!(out, "  {:>4}  {:?}  {algorithm}, {} frames, {pixels} pixels", s.number, s.label, s.frames);
    }
    Ok(out)
}
