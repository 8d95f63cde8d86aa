//! `radx ibsi`: the IBSI compliance report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use super::Error;
use radx_cohort::rows::format_value;
use radx_engine::Case;
use radx_engine::ibsi::{ComplianceRow, run_ct, run_ct_case, run_digital};

use super::{IbsiFormat, Phantom};

pub fn run(phantom: Phantom, configs: &str, format: IbsiFormat, ct_dir: Option<&PathBuf>) -> Result<ExitCode, Error> {
    let mut rows = Vec::new();
    if matches!(phantom, Phantom::Digital | Phantom::All) {
        rows.extend(run_digital()?);
    }
    if matches!(phantom, Phantom::Ct | Phantom::All) {
        let dir = ct_dir.cloned().unwrap_or_else(default_ct_dir);
        // The DICOM export is read (and its RTSTRUCT rasterised) once for every configuration.
        let dicom = if dir.join("image.nii.gz").exists() { None } else { dicom_phantom(&dir)? };
        for config in configs.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            rows.extend(match &dicom {
                Some(case) => run_ct_case(config, case.clone())?,
                None => run_ct(config, &dir)?,
            });
        }
    }
    super::output::write_stdout(&render(&rows, format))?;
    let failed = rows.iter().filter(|r| r.pass == Some(false)).count();
    eprintln!("{}", summary_line(&rows));
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn opt(v: Option<f64>) -> String {
    v.map(format_value).unwrap_or_default()
}

fn pass_text(p: Option<bool>) -> &'static str {
    match p {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
}

fn summary_line(rows: &[ComplianceRow]) -> String {
    let with_ref = rows.iter().filter(|r| r.pass.is_some()).count();
    let passed = rows.iter().filter(|r| r.pass == Some(true)).count();
    format!("IBSI compliance: {passed} of {with_ref} reference values reproduced ({} rows)", rows.len())
}

/// Per (data, config, family): passed / with reference / total.
fn summary(rows: &[ComplianceRow]) -> BTreeMap<(String, String, String), (usize, usize, usize)> {
    let mut m: BTreeMap<(String, String, String), (usize, usize, usize)> = BTreeMap::new();
    for r in rows {
        let e = m.entry((r.data.clone(), r.config.clone(), r.family.clone())).or_default();
        e.0 += usize::from(r.pass == Some(true));
        e.1 += usize::from(r.pass.is_some());
        e.2 += 1;
    }
    m
}

const HEADER: [&str; 10] =
    ["data", "config", "family", "feature", "tag", "aggregation", "value", "reference", "tolerance", "pass"];

fn cells(r: &ComplianceRow) -> [String; 10] {
    [
        r.data.clone(),
        r.config.clone(),
        r.family.clone(),
        r.feature.clone(),
        r.tag.clone(),
        r.aggregation.clone(),
        format_value(r.value),
        opt(r.reference),
        opt(r.tolerance),
        pass_text(r.pass).to_string(),
    ]
}

fn render(rows: &[ComplianceRow], format: IbsiFormat) -> String {
    let mut out = String::new();
    match format {
        IbsiFormat::Csv => {
            out.push_str(&HEADER.join(","));
            out.push('\n');
            for r in rows {
                out.push_str(&cells(r).join(","));
                out.push('\n');
            }
        }
        IbsiFormat::Json => {
            out = serde_json::to_string_pretty(rows).unwrap_or_default();
            out.push('\n');
        }
        IbsiFormat::Table | IbsiFormat::Markdown => {
            let md = format == IbsiFormat::Markdown;
            let all: Vec<[String; 10]> = rows.iter().map(cells).collect();
            let mut widths = HEADER.map(str::len);
            for c in &all {
                for (w, v) in widths.iter_mut().zip(c) {
                    *w = (*w).max(v.chars().count());
                }
            }
            let line = |c: &[String]| {
                let joined: Vec<String> = c.iter().zip(widths).map(|(v, w)| format!("{v:<w$}")).collect();
                if md { format!("| {} |\n", joined.join(" | ")) } else { format!("{}\n", joined.join("  ")) }
            };
            if md {
                out.push_str("## Summary\n\n| data | config | family | passed | with reference | total |\n|---|---|---|---|---|---|\n");
                for ((d, c, f), (p, w, t)) in summary(rows) {
                    out.push_str(&format!("| {d} | {c} | {f} | {p} | {w} | {t} |\n"));
                }
                out.push_str("\n## Values\n\n");
            }
            out.push_str(&line(&HEADER.map(String::from)));
            if md {
                out.push_str(&format!("|{}|\n", widths.map(|w| "-".repeat(w + 2)).join("|")));
            }
            for c in &all {
                out.push_str(&line(c));
            }
            if !md {
                out.push_str("\nsummary (passed / with reference / total):\n");
                for ((d, c, f), (p, w, t)) in summary(rows) {
                    out.push_str(&format!("  {d:<16} {c:<8} {f:<28} {p:>4} / {w:>4} / {t:>4}\n"));
                }
            }
        }
    }
    out
}

/// The CT phantom from its DICOM export (`dir/image/` the series, `dir/mask/` one RTSTRUCT
/// file, as theibsi/data_sets has it), when `dir` is laid out so; `None` otherwise.
fn dicom_phantom(dir: &std::path::Path) -> Result<Option<Case>, Error> {
    let (image, masks) = (dir.join("image"), dir.join("mask"));
    if !image.is_dir() || !masks.is_dir() {
        return Ok(None);
    }
    let files: Vec<PathBuf> = std::fs::read_dir(&masks)
        .map_err(|e| Error::usage(format!("{}: cannot read: {e}", masks.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    let [mask] = files.as_slice() else {
        return Err(Error::usage(format!("{}: expected one RTSTRUCT file, found {}", masks.display(), files.len())));
    };
    let input = radx_input::CaseInput { image, mask: mask.clone(), choice: Default::default(), series: None };
    let opts = radx_input::ResolveOptions { default_label: 1, max_bytes: radx_engine::Settings::default().max_memory };
    Ok(Some(radx_input::resolve(&input, &opts)?.case))
}

/// Where the CT phantom is looked for by default: `RADX_CT_PHANTOM`, else
/// `tests/data/ibsi/ct_phantom` under the current folder.
pub fn default_ct_dir() -> PathBuf {
    std::env::var_os("RADX_CT_PHANTOM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/data/ibsi/ct_phantom"))
}
