//! `radx ibsi2`: the IBSI-2 (convolutional filters) compliance report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Error, IbsiFormat};
use radx_cohort::rows::format_value;
use radx_engine::ibsi::ibsi2::{self, PHASE1_CRITERION, Phase1Outcome, Phase2Row};

/// Which phase `radx ibsi2` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Ibsi2Phase {
    /// The 33 reference response maps of the digital phantoms.
    #[value(name = "1")]
    One,
    /// The 18 configurations' intensity statistics on the CT phantom.
    #[value(name = "2")]
    Two,
    /// Both.
    All,
}

/// Arguments of `radx ibsi2`.
#[derive(Debug, clap::Args)]
pub struct Ibsi2Args {
    /// Which phase.
    #[arg(long, value_enum, default_value = "all")]
    phase: Ibsi2Phase,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: IbsiFormat,
    /// Also write each computed phase 1 response map as DIR/<test id>.nii.gz (float32, the
    /// phantom's grid).
    #[arg(long)]
    maps: Option<PathBuf>,
    /// Folder of the IBSI-2 consensus maps (default: tests/data/ibsi2/reference_response_maps).
    #[arg(long)]
    reference_maps: Option<PathBuf>,
    /// Folder with the CT phantom's image.nii.gz and mask.nii.gz (default:
    /// $RADX_CT_PHANTOM, else tests/data/ibsi/ct_phantom).
    #[arg(long)]
    ct_phantom: Option<PathBuf>,
    /// Run only these phase 1 tests and phase 2 configurations, comma-separated (e.g.
    /// `2.b,3.c.3,4.B`); phase 2 runs only the dimensions they name.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Ibsi2Args {
    fn wanted(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o.trim() == id)
    }

    /// Phase 2's dimensions to run: `A` (2D) and/or `B` (3D).
    fn dimensions(&self) -> Vec<&'static str> {
        ["A", "B"]
            .into_iter()
            .filter(|d| self.only.is_empty() || self.only.iter().any(|o| o.trim().ends_with(&format!(".{d}"))))
            .collect()
    }
}

pub fn run(args: &Ibsi2Args) -> Result<ExitCode, Error> {
    let mut out = String::new();
    let mut misses = 0;
    let mut summary = Vec::new();
    if matches!(args.phase, Ibsi2Phase::One | Ibsi2Phase::All) {
        let maps =
            args.reference_maps.clone().unwrap_or_else(|| PathBuf::from("tests/data/ibsi2/reference_response_maps"));
        let mut outcomes = Vec::new();
        for test in ibsi2::phase1_tests()?.into_iter().filter(|t| args.wanted(&t.id)) {
            let outcome = ibsi2::run_phase1(&test, &maps)?;
            if let Some(dir) = &args.maps {
                write_map(dir, &outcome)?;
            }
            outcomes.push(outcome);
        }
        misses += outcomes.iter().filter(|o| !o.pass()).count();
        let worst = outcomes.iter().map(|o| o.score).fold(0.0, f64::max);
        summary.push(format!(
            "IBSI-2 phase 1: {} of {} reference maps reproduced (criterion {PHASE1_CRITERION}; worst {worst:.2e})",
            outcomes.iter().filter(|o| o.pass()).count(),
            outcomes.len()
        ));
        out.push_str(&render_phase1(&outcomes, args.format));
    }
    if matches!(args.phase, Ibsi2Phase::Two | Ibsi2Phase::All) {
        let dir = args.ct_phantom.clone().unwrap_or_else(super::ibsi::default_ct_dir);
        let mut rows = Vec::new();
        for dimension in args.dimensions() {
            rows.extend(ibsi2::run_phase2(dimension, &dir)?.into_iter().filter(|r| args.wanted(&r.config)));
        }
        misses += rows.iter().filter(|r| r.pass == Some(false)).count();
        summary.push(format!(
            "IBSI-2 phase 2: {} of {} reference values reproduced ({} values)",
            rows.iter().filter(|r| r.pass == Some(true)).count(),
            rows.iter().filter(|r| r.pass.is_some()).count(),
            rows.len()
        ));
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&render_phase2(&rows, args.format));
    }
    super::output::write_stdout(&out)?;
    for line in summary {
        eprintln!("{line}");
    }
    Ok(if misses == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn write_map(dir: &Path, outcome: &Phase1Outcome) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|source| radx_engine::Error::Write { path: dir.display().to_string(), source })?;
    let path = dir.join(format!("{}.nii.gz", outcome.test.id));
    Ok(radx_io::write_nifti(&path, &outcome.response, radx_io::NiftiType::F32).map_err(radx_engine::Error::from)?)
}

fn render_phase1(outcomes: &[Phase1Outcome], format: IbsiFormat) -> String {
    const HEADER: [&str; 6] = ["test", "phantom", "filter", "image_type", "max_diff_over_range", "pass"];
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            let kind = o.test.filter.kind().to_string();
            vec![
                o.test.id.clone(),
                o.test.phantom.clone(),
                kind,
                o.image_type.clone(),
                format!("{:.3e}", o.score),
                pass_text(Some(o.pass())),
            ]
        })
        .collect();
    let json = || {
        let values: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| serde_json::json!({"test": o.test.id, "phantom": o.test.phantom, "filter": o.test.filter.kind().to_string(), "image_type": o.image_type, "max_diff_over_range": o.score, "pass": o.pass()}))
            .collect();
        serde_json::to_string_pretty(&values).unwrap_or_default() + "\n"
    };
    let mut groups: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    for o in outcomes {
        let g = groups.entry(o.test.filter.kind().to_string()).or_default();
        g.0 += usize::from(o.pass());
        g.1 += 1;
        g.2 = g.2.max(o.score);
    }
    let summary: Vec<Vec<String>> =
        groups.into_iter().map(|(k, (p, n, worst))| vec![k, format!("{p} / {n}"), format!("{worst:.2e}")]).collect();
    render(&HEADER, &rows, &["filter", "passed / tests", "worst"], &summary, format, json)
}

fn render_phase2(rows: &[Phase2Row], format: IbsiFormat) -> String {
    const HEADER: [&str; 7] = ["config", "feature", "tag", "value", "reference", "tolerance", "pass"];
    let opt = |v: Option<f64>| v.map(format_value).unwrap_or_default();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.config.clone(),
                r.feature.clone(),
                r.tag.clone(),
                format_value(r.value),
                opt(r.reference),
                opt(r.tolerance),
                pass_text(r.pass),
            ]
        })
        .collect();
    let mut groups: BTreeMap<String, (usize, usize, String)> = BTreeMap::new();
    for r in rows {
        let g = groups.entry(r.config.clone()).or_default();
        g.0 += usize::from(r.pass == Some(true));
        g.1 += usize::from(r.pass.is_some());
        g.2.clone_from(&r.image_type);
    }
    let summary: Vec<Vec<String>> = groups.into_iter().map(|(c, (p, n, t))| vec![c, t, format!("{p} / {n}")]).collect();
    let json = || serde_json::to_string_pretty(rows).unwrap_or_default() + "\n";
    render(&HEADER, &cells, &["config", "image_type", "passed / with reference"], &summary, format, json)
}

fn pass_text(p: Option<bool>) -> String {
    match p {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
    .to_string()
}

/// Values as CSV, JSON or aligned/markdown tables with a per-group summary.
fn render(
    header: &[&str],
    rows: &[Vec<String>],
    summary_header: &[&str],
    summary: &[Vec<String>],
    format: IbsiFormat,
    json: impl Fn() -> String,
) -> String {
    match format {
        IbsiFormat::Csv => {
            let mut out = header.join(",") + "\n";
            for r in rows {
                out.push_str(&(r.join(",") + "\n"));
            }
            out
        }
        IbsiFormat::Json => json(),
        IbsiFormat::Table => aligned(summary_header, summary, false) + "\n" + &aligned(header, rows, false),
        IbsiFormat::Markdown => {
            format!(
                "## Summary\n\n{}\n## Values\n\n{}",
                aligned(summary_header, summary, true),
                aligned(header, rows, true)
            )
        }
    }
}

fn aligned(header: &[&str], rows: &[Vec<String>], markdown: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, v) in widths.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        if markdown { format!("| {} |\n", padded.join(" | ")) } else { format!("{}\n", padded.join("  ").trim_end()) }
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    if markdown {
        out.push_str(&format!("|{}|\n", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|")));
    }
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}
