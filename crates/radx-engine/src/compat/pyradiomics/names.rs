//! PyRadiomics' output: which rows a parameter file's `featureClass` keeps, and the
//! `original_<class>_<Feature>` names.

use crate::model::FeatureRow;
use crate::settings::Settings;

/// PyRadiomics feature classes radx's library has.
pub const CLASSES: &[&str] = &["firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm"];

/// PyRadiomics' output name of a row of its library: `<image type>_<class>_<Feature>`
/// (`original_firstorder_Mean`); the feature's tag holds PyRadiomics' name (which may start
/// with a digit, `10Percentile`).
pub fn output_name(row: &FeatureRow) -> String {
    format!("{}_{}_{}", row.key.image_type, row.key.family, row.tag_or_dash())
}

/// Keep the rows of the classes and features a parameter file's `featureClass` selects.
///
/// Without `featureClass` every class is kept, except `shape2D` without `force2D`:
/// PyRadiomics computes 2D shape only on a 2D or force2D extraction.
pub fn select_rows(rows: Vec<FeatureRow>, settings: &Settings) -> Vec<FeatureRow> {
    let Some(classes) = settings.pyradiomics.as_ref().and_then(|p| p.feature_classes.as_ref()) else {
        let force_2d = settings.pyradiomics.as_ref().is_some_and(|p| p.force_2d);
        return rows.into_iter().filter(|r| force_2d || r.key.family != "shape2D").collect();
    };
    rows.into_iter()
        .filter(|r| {
            classes
                .get(&r.key.family)
                .is_some_and(|features| features.is_empty() || r.tag.as_ref().is_some_and(|tag| features.contains(tag)))
        })
        .collect()
}

/// Rename rows to PyRadiomics' output names (`original_<class>_<Feature>`, aggregation `-`).
///
/// # Errors
/// A message when a row does not come from the PyRadiomics library.
pub fn rename_rows(rows: &mut [FeatureRow]) {
    // Rows of other families (user feature files, plugins) keep their names.
    for row in rows.iter_mut().filter(|r| CLASSES.contains(&r.key.family.as_str())) {
        row.key.feature = output_name(row);
        row.key.aggregation = None;
    }
}
