//! IBSI-2 compliance runs (convolutional filters). Phase 1: each test's filter on its
//! digital phantom, compared voxel by voxel with the consensus response map. Phase 2: the
//! CT phantom through the 2D and 3D settings files users can read (`tests/data/ibsi2/
//! phase2/`), its 18 intensity statistics per configuration against the reference values.

use std::path::Path;

use radx_core::Volume;
use radx_filters::FilterSpec;
use radx_plugin_host::PluginRegistry;
use serde::Deserialize;

use crate::Error;
use crate::case::Case;
use crate::extractor::Extractor;
use crate::settings::Settings;

/// The phase 1 tests: phantom and filter per test id (a [[filter]] table each).
const PHASE1_TESTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi2/phase1.toml"));
/// The digital phantoms phase 1 uses, embedded (IBSI, CC BY 4.0).
const PHANTOMS: [(&str, &[u8]); 4] = [
    (
        "checkerboard",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/ibsi2/digital_phantoms/checkerboard/image.nii.gz"
        )),
    ),
    (
        "impulse",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/ibsi2/digital_phantoms/impulse/image.nii.gz"
        )),
    ),
    (
        "sphere",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/ibsi2/digital_phantoms/sphere/image.nii.gz"
        )),
    ),
    (
        "pattern_1",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/ibsi2/digital_phantoms/pattern_1/image.nii.gz"
        )),
    ),
];
/// Phase 2's settings, 2D (1.A–9.A) and 3D (1.B–9.B).
pub const PHASE2_SETTINGS: [(&str, &str); 2] = [
    ("A", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi2/phase2/phase2_2d.toml"))),
    ("B", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ibsi2/phase2/phase2_3d.toml"))),
];
/// Phase 2's reference values (IBSI, CC0): filter_id, feature, feature_tag, consensus_value, tolerance.
const PHASE2_REFERENCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/ibsi2/reference_feature_values_ct_phantom.csv"
));

/// The IBSI-2 phase 1 pass criterion: every voxel within 1 % of the two maps' joint range.
pub const PHASE1_CRITERION: f64 = 0.01;

/// One phase 1 test as `phase1.toml` defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase1Test {
    /// Test id, e.g. `2.b`.
    pub id: String,
    /// Digital phantom name.
    pub phantom: String,
    /// The filter, as settings write it.
    pub filter: FilterSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Phase1File {
    test: Vec<Phase1Test>,
}

/// The outcome of one phase 1 test.
#[derive(Debug, Clone)]
pub struct Phase1Outcome {
    /// The test.
    pub test: Phase1Test,
    /// The filter's image type.
    pub image_type: String,
    /// max |radx − reference| / (max − min of both maps).
    pub score: f64,
    /// radx's response map, on the phantom's grid.
    pub response: Volume<f64>,
}

impl Phase1Outcome {
    /// Whether the IBSI criterion holds.
    pub fn pass(&self) -> bool {
        self.score <= PHASE1_CRITERION
    }
}

/// Every phase 1 test, in the order of the IBSI's table.
pub fn phase1_tests() -> Result<Vec<Phase1Test>, Error> {
    toml::from_str::<Phase1File>(PHASE1_TESTS)
        .map(|f| f.test)
        .map_err(|e| Error::Reference { table: "phase1.toml".into(), message: e.to_string() })
}

/// Run one phase 1 test: filter its phantom and compare with `reference_dir`'s map.
pub fn run_phase1(test: &Phase1Test, reference_dir: &Path) -> Result<Phase1Outcome, Error> {
    let (name, bytes) = PHANTOMS.iter().find(|(n, _)| *n == test.phantom).ok_or_else(|| Error::Reference {
        table: "phase1.toml".into(),
        message: format!("test {}: no embedded phantom `{}`", test.id, test.phantom),
    })?;
    let phantom = radx_io::read_volume_bytes(Path::new(&format!("{name}/image.nii.gz")), bytes, &Default::default())?;
    let filter = test.filter.build().map_err(|e| Error::Usage(format!("IBSI-2 test {}: {e}", test.id)))?;
    let data = filter
        .apply(phantom.data.view(), phantom.grid.spacing)
        .map_err(|e| Error::Usage(format!("IBSI-2 test {}: {e}", test.id)))?;
    let response = Volume { grid: phantom.grid, data };
    let map = reference_dir.join(format!("{}-ValidCRM.nii.gz", test.id.replace('.', "_")));
    let reference = radx_io::read_volume(&map)?;
    if reference.grid.dims != response.grid.dims {
        return Err(Error::Usage(format!(
            "{}: the reference map's grid {:?} is not the phantom's {:?}",
            map.display(),
            reference.grid.dims,
            response.grid.dims
        )));
    }
    let score = relative_difference(&response.data, &reference.data);
    Ok(Phase1Outcome { test: test.clone(), image_type: filter.image_type(), score, response })
}

/// The IBSI-2 phase 1 score of `computed` against `reference` (same shape).
pub fn relative_difference(computed: &ndarray::Array3<f64>, reference: &ndarray::Array3<f64>) -> f64 {
    let (mut lo, mut hi, mut worst) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for (&c, &r) in computed.iter().zip(reference.iter()) {
        lo = lo.min(c).min(r);
        hi = hi.max(c).max(r);
        // A NaN in radx's map fails the test.
        worst = if c.is_nan() { f64::INFINITY } else { worst.max((c - r).abs()) };
    }
    if hi > lo { worst / (hi - lo) } else { worst }
}

/// One phase 2 value against its reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Phase2Row {
    /// Configuration, e.g. `3.B`.
    pub config: String,
    /// The reference table's feature tag, e.g. `stat_mean`.
    pub feature: String,
    /// The IBSI permanent id of the statistic, e.g. `Q4LE`.
    pub tag: String,
    /// The image type radx computed it on.
    pub image_type: String,
    /// radx's value.
    pub value: f64,
    /// Consensus value (absent for 8.B's QCoD).
    pub reference: Option<f64>,
    /// Tolerance.
    pub tolerance: Option<f64>,
    /// |value − reference| ≤ tolerance; `None` without a reference.
    pub pass: Option<bool>,
}

/// Run phase 2's 2D (`"A"`) or 3D (`"B"`) configurations on the CT phantom in `ct_dir`.
pub fn run_phase2(dimension: &str, ct_dir: &Path) -> Result<Vec<Phase2Row>, Error> {
    let (suffix, text) = PHASE2_SETTINGS.iter().find(|(d, _)| d.eq_ignore_ascii_case(dimension)).ok_or_else(|| {
        Error::Usage(format!("unknown IBSI-2 phase 2 dimension `{dimension}` (expected A for 2D or B for 3D)"))
    })?;
    let settings = Settings::from_toml_str(text).map_err(|source| {
        Error::Settings(crate::settings::SettingsError::Parse { path: format!("phase2_{suffix}.toml"), source })
    })?;
    let mut extractor = Extractor::new(settings, &[], PluginRegistry::new())?;
    // Only the intensity statistics have reference values: the original image's other
    // families are not computed.
    extractor.library.retain(|f| f.family.name() == "intensity_statistics");
    let case = Case::new(ct_dir.join("image.nii.gz"), ct_dir.join("mask.nii.gz")).with_roi(extractor.settings.label);
    let rows = extractor.extract(&case)?.rows;
    let image_types: Vec<String> = std::iter::once("original".to_string())
        .chain(extractor.filters.iter().map(|f| f.image_type.to_string()))
        .collect();
    let ids = statistic_ids()?;
    let mut out = Vec::new();
    for record in phase2_references()? {
        let Some(config_index) =
            record.config.strip_suffix(&format!(".{suffix}")).and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let image_type = image_types.get(config_index - 1).cloned().unwrap_or_default();
        let tag = ids.iter().find(|(key, _)| *key == record.feature).map(|(_, id)| id.clone()).unwrap_or_default();
        let value = rows
            .iter()
            .find(|r| {
                r.key.image_type.as_str() == image_type
                    && r.key.family == "intensity_statistics"
                    && r.tag.as_deref() == Some(tag.as_str())
            })
            .map_or(f64::NAN, |r| r.value);
        let pass = record.reference.zip(record.tolerance).map(|(c, t)| (value - c).abs() <= t);
        out.push(Phase2Row {
            config: record.config,
            feature: record.feature,
            tag,
            image_type,
            value,
            reference: record.reference,
            tolerance: record.tolerance,
            pass,
        });
    }
    Ok(out)
}

struct Phase2Reference {
    config: String,
    feature: String,
    reference: Option<f64>,
    tolerance: Option<f64>,
}

fn phase2_references() -> Result<Vec<Phase2Reference>, Error> {
    let table_error =
        |message: String| Error::Reference { table: "reference_feature_values_ct_phantom.csv".into(), message };
    let mut reader = csv::Reader::from_reader(PHASE2_REFERENCE.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| table_error(e.to_string()))?;
        let number = |i: usize| -> Result<Option<f64>, Error> {
            let cell = record.get(i).unwrap_or("").trim();
            if cell.is_empty() {
                Ok(None)
            } else {
                cell.parse().map(Some).map_err(|_| table_error(format!("`{cell}` is not a number")))
            }
        };
        out.push(Phase2Reference {
            config: record.get(0).unwrap_or("").to_string(),
            feature: record.get(2).unwrap_or("").to_string(),
            reference: number(3)?,
            tolerance: number(4)?,
        });
    }
    Ok(out)
}

/// The IBSI ids of the intensity statistics by feature key (`stat_mean` → `Q4LE`), from the
/// IBSI-1 reference table (the manual's, independent of radx).
fn statistic_ids() -> Result<Vec<(String, String)>, Error> {
    let rows = super::reference::parse_table(super::reference::CT_PHANTOM_CSV)
        .map_err(|e| Error::Reference { table: "reference_values_ct_phantom.csv".into(), message: e.to_string() })?;
    let mut ids: Vec<(String, String)> = Vec::new();
    for row in rows.into_iter().filter(|r| r.feature_key.starts_with("stat_")) {
        if !ids.iter().any(|(k, _)| *k == row.feature_key) {
            ids.push((row.feature_key, row.ibsi_feature_id));
        }
    }
    Ok(ids)
}
