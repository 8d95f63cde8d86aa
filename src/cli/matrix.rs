//! `radx matrix FAMILY …`: print texture matrices as sparse tables, for teaching and
//! debugging. Slices are numbered from 1 in the processed ROI's grid.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use super::Error;
use radx_engine::Settings;
use radx_engine::core::iter::{DIRECTIONS_2D, DIRECTIONS_3D};
use radx_engine::core::matrix::{
    self, Aggregation, DiscretisedRoi, TextureMatrix, glcm::GlcmSettings, ngldm::NgldmSettings,
};
use radx_engine::pipeline::{self, ProcessedCase};

use super::{MatrixArgs, MatrixFamily, TableFormat};

/// One printed matrix and where it comes from.
struct Labelled {
    slice: Option<usize>,
    direction: Option<[i32; 3]>,
    rows: Vec<Vec<String>>,
}

pub fn run(args: &MatrixArgs) -> Result<ExitCode, Error> {
    let mut settings = match &args.settings {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    if let Some(bytes) = args.max_memory {
        settings.max_memory = bytes;
    }
    // Only the asked aggregation's matrices are built.
    settings.texture.aggregations = vec![args.aggregation];
    let roi = args.label.unwrap_or(settings.label).into();
    let case = pipeline::process_files(&args.image, &args.mask, roi, &settings)?;
    let core = |source| Error::from(radx_engine::Error::Core { context: describe(&args.image, &args.mask), source });
    let source = match args.family {
        MatrixFamily::Glcm => "cm",
        MatrixFamily::Glrlm => "rlm",
        MatrixFamily::Glszm => "szm",
        MatrixFamily::Gldzm => "dzm",
        MatrixFamily::Ngtdm => "ngt",
        MatrixFamily::Ngldm => "ngl",
    };
    radx_engine::limits::check_texture(&case.levels, &settings, &mut std::iter::once(source)).map_err(core)?;
    let slice = match args.slice {
        Some(0) => return Err(usage("--slice counts from 1")),
        Some(k) => Some(k - 1),
        None => None,
    };
    let direction = args.direction.as_deref().map(parse_direction).transpose()?;
    let zone_family = !matches!(args.family, MatrixFamily::Glcm | MatrixFamily::Glrlm);
    if zone_family && direction.is_some() {
        return Err(usage("--direction applies to glcm and glrlm only"));
    }
    if zone_family && !Aggregation::ZONE.contains(&args.aggregation) {
        return Err(usage("zone and neighbourhood families use 2d_avg, 2_5d_mrg or 3d_mrg"));
    }
    let matrices = collect(&case, &settings, args, slice, direction).map_err(core)?;
    super::output::write_stdout(&render(&matrices, args.family, args.format))?;
    Ok(ExitCode::SUCCESS)
}

fn usage(message: &str) -> Error {
    Error::usage(message.to_string())
}

fn describe(image: &Path, mask: &Path) -> String {
    format!("{} with mask {}", image.display(), mask.display())
}

fn parse_direction(text: &str) -> Result<[i32; 3], Error> {
    let parts: Vec<i32> = text
        .split(',')
        .map(|p| p.trim().parse::<i32>())
        .collect::<Result<_, _>>()
        .map_err(|_| usage(&format!("--direction must be three integers like 1,0,0 (got `{text}`)")))?;
    let d: [i32; 3] =
        parts.try_into().map_err(|_| usage(&format!("--direction needs three components (got `{text}`)")))?;
    let known = DIRECTIONS_3D.iter().any(|&k| k == d || k.map(|c| -c) == d);
    if !known {
        return Err(usage(&format!("--direction {text} is not one of the 13 IBSI directions")));
    }
    Ok(d)
}

/// The levels of one slice only (all other slices outside the ROI).
fn only_slice(levels: &DiscretisedRoi, z: usize) -> DiscretisedRoi {
    let mut one = levels.clone();
    for ((_, _, k), v) in one.levels.indexed_iter_mut() {
        if k != z {
            *v = 0;
        }
    }
    one
}

fn collect(
    case: &ProcessedCase,
    settings: &Settings,
    args: &MatrixArgs,
    slice: Option<usize>,
    direction: Option<[i32; 3]>,
) -> Result<Vec<Labelled>, radx_engine::core::CoreError> {
    let levels = &case.levels;
    let nz = levels.levels.dim().2;
    let glcm_settings =
        GlcmSettings { distance: settings.texture.glcm_distance, symmetric: settings.texture.glcm_symmetric };
    glcm_settings.validate()?;
    let ngldm_settings =
        NgldmSettings { alpha: settings.texture.ngldm_alpha, distance: settings.texture.ngldm_distance };
    let family = args.family;
    let aggregation = args.aggregation;
    let slices: Vec<usize> = match slice {
        Some(z) if z < nz => vec![z],
        Some(z) => {
            return Err(radx_engine::core::CoreError::InvalidSetting {
                name: "--slice",
                reason: format!("the processed ROI has {nz} slice(s), slice {} does not exist", z + 1),
            });
        }
        None => (0..nz).collect(),
    };
    let directional = |roi: &DiscretisedRoi, s: Option<usize>, d: [i32; 3]| match family {
        MatrixFamily::Glcm => matrix::glcm::glcm_single(roi, &glcm_settings, s, d),
        _ => matrix::glrlm::glrlm_single(roi, s, d),
    };
    let aggregated =
        |roi: &DiscretisedRoi, a: Aggregation| -> Result<Vec<Vec<Vec<String>>>, radx_engine::core::CoreError> {
            Ok(match family {
                MatrixFamily::Glcm => matrix::glcm::glcm(roi, &glcm_settings, a).iter().map(sparse).collect(),
                MatrixFamily::Glrlm => matrix::glrlm::glrlm(roi, a).iter().map(sparse).collect(),
                MatrixFamily::Glszm => matrix::glszm::glszm(roi, a)?.iter().map(sparse).collect(),
                MatrixFamily::Gldzm => matrix::gldzm::gldzm(roi, a)?.iter().map(sparse).collect(),
                MatrixFamily::Ngldm => matrix::ngldm::ngldm(roi, ngldm_settings, a)?.iter().map(sparse).collect(),
                MatrixFamily::Ngtdm => matrix::ngtdm::ngtdm(roi, a)?
                    .iter()
                    .map(|m| {
                        (0..m.n.len())
                            .filter(|&i| m.n[i] != 0.0)
                            .map(|i| vec![(i + 1).to_string(), m.n[i].to_string(), m.s[i].to_string()])
                            .collect()
                    })
                    .collect(),
            })
        };
    let mut out = Vec::new();
    let mut push = |slice, direction, rows| out.push(Labelled { slice, direction, rows });
    let is_directional = matches!(family, MatrixFamily::Glcm | MatrixFamily::Glrlm);
    match aggregation {
        Aggregation::Avg2d if is_directional => {
            let dirs: Vec<[i32; 3]> = direction.map(|d| vec![d]).unwrap_or_else(|| DIRECTIONS_2D.to_vec());
            for &z in &slices {
                for &d in &dirs {
                    if let Some(m) = directional(levels, Some(z), d) {
                        push(Some(z), Some(d), sparse(&m));
                    }
                }
            }
        }
        Aggregation::Avg2d | Aggregation::SliceMerged2d => {
            for &z in &slices {
                for rows in aggregated(&only_slice(levels, z), aggregation)? {
                    push(Some(z), None, rows);
                }
            }
        }
        Aggregation::DirectionMerged2_5d | Aggregation::Avg3d => {
            let all: &[[i32; 3]] = if aggregation == Aggregation::Avg3d { &DIRECTIONS_3D } else { &DIRECTIONS_2D };
            let dirs: Vec<[i32; 3]> = direction.map(|d| vec![d]).unwrap_or_else(|| all.to_vec());
            let roi = match slice {
                Some(z) => only_slice(levels, z),
                None => levels.clone(),
            };
            for d in dirs {
                if let Some(m) = directional(&roi, None, d) {
                    push(slice, Some(d), sparse(&m));
                }
            }
        }
        Aggregation::Merged2_5d | Aggregation::Merged3d => {
            let roi = match slice {
                Some(z) => only_slice(levels, z),
                None => levels.clone(),
            };
            for rows in aggregated(&roi, aggregation)? {
                push(slice, None, rows);
            }
        }
    }
    Ok(out)
}

fn sparse(m: &TextureMatrix) -> Vec<Vec<String>> {
    m.nonzero().into_iter().map(|(i, j, c)| vec![i.to_string(), j.to_string(), c.to_string()]).collect()
}

fn render(matrices: &[Labelled], family: MatrixFamily, format: TableFormat) -> String {
    let value_header: &[&str] = if family == MatrixFamily::Ngtdm { &["i", "count", "s"] } else { &["i", "j", "count"] };
    let labelled = matrices.len() > 1 || matrices.iter().any(|m| m.slice.is_some() || m.direction.is_some());
    let mut header: Vec<&str> = Vec::new();
    if labelled {
        header.extend(["slice", "direction"]);
    }
    header.extend(value_header);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for m in matrices {
        for r in &m.rows {
            let mut row = Vec::new();
            if labelled {
                row.push(m.slice.map(|z| (z + 1).to_string()).unwrap_or_else(|| "-".into()));
                row.push(m.direction.map(|d| format!("{}:{}:{}", d[0], d[1], d[2])).unwrap_or_else(|| "-".into()));
            }
            row.extend(r.iter().cloned());
            rows.push(row);
        }
    }
    let mut out = String::new();
    match format {
        TableFormat::Csv => {
            let _ = writeln!(out, "{}", header.join(","));
            for r in rows {
                let _ = writeln!(out, "{}", r.join(","));
            }
        }
        TableFormat::Table => {
            let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.len());
                }
            }
            let line = |cells: Vec<&str>| {
                cells.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect::<Vec<_>>().join("  ")
            };
            let _ = writeln!(out, "{}", line(header.clone()));
            for r in &rows {
                let _ = writeln!(out, "{}", line(r.iter().map(String::as_str).collect()));
            }
            if rows.is_empty() {
                let _ = writeln!(out, "(empty: no element counted)");
            }
        }
    }
    out
}
