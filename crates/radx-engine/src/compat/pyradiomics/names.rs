//! PyRadiomics' output: which rows a parameter file's `featureClass` keeps, and the
//! `original_<class>_<Feature>` names.

use radx_dsl::Registry;

use super::catalogue;
use crate::model::{FeatureKey, FeatureRow, LibraryFamily};
use crate::profile::contract::OutputRow;
use crate::settings::Settings;

/// PyRadiomics feature classes radx's library has.
pub const CLASSES: &[&str] = &["firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm"];

/// PyRadiomics' output name of a row of its library: `<image type>_<class>_<Feature>`
/// (`original_firstorder_Mean`); the feature's tag holds PyRadiomics' name (which may start
/// with a digit, `10Percentile`).
pub fn output_name(row: &FeatureRow) -> String {
    format!("{}_{}_{}", row.key.image_type, row.key.family, row.tag_or_dash())
}

/// Whether a row is one of PyRadiomics' features: a class of its library, a feature name
/// PyRadiomics has in that class, computed once (no aggregation). Rows of user feature
/// files and plugins are not, even in a family named like a class (`family glcm over cm`).
pub fn is_pyradiomics_row(row: &FeatureRow) -> bool {
    row.key.aggregation.is_none()
        && CLASSES.contains(&row.key.family.as_str())
        && row.tag.as_ref().is_some_and(|tag| catalogue::status(&row.key.family, tag).is_some())
}

/// Keep the rows of the classes and features a parameter file's `featureClass` selects,
/// as PyRadiomics does: without `featureClass` every class, a class
/// without a list its default features, a list the features named. Deprecated features
/// are output only when named; `shape2D` only with `force2D` (PyRadiomics computes 2D shape
/// only on a 2D or force2D extraction); the original image's rows other than shape only when
/// `imageType` names `Original`. Rows of user feature files and plugins are always kept.
pub fn select_rows(rows: Vec<FeatureRow>, settings: &Settings) -> Vec<FeatureRow> {
    rows.into_iter().filter(|r| row_selected(r, settings)).collect()
}

/// Whether [`select_rows`] keeps `row`.
fn row_selected(row: &FeatureRow, settings: &Settings) -> bool {
    if !is_pyradiomics_row(row) {
        return true;
    }
    let (class, tag) = (row.key.family.as_str(), row.tag_or_dash());
    // Without `Original` in `imageType`, only the original image's shape is computed.
    let shape = class == "shape" || class == "shape2D";
    let original_image = settings.pyradiomics.as_ref().is_none_or(|p| p.original_image);
    if row.key.image_type.is_original() && !shape && !original_image {
        return false;
    }
    feature_selected(class, tag, settings)
}

/// PyRadiomics' output of `rows` ([`crate::profile::Profile::output_selection`]): the rows
/// [`select_rows`] keeps, and with `own_names` in PyRadiomics' order ([`order_rows`]) under
/// its names ([`rename_rows`]).
pub fn output_selection(rows: &[FeatureRow], settings: &Settings, own_names: bool) -> Vec<OutputRow> {
    let mut selected: Vec<usize> = (0..rows.len()).filter(|&i| row_selected(&rows[i], settings)).collect();
    if own_names {
        order_rows(rows, &mut selected, settings);
    }
    let key = |row: &FeatureRow| if own_names { output_key(row) } else { row.key.clone() };
    selected.into_iter().map(|i| OutputRow { row: i, key: key(&rows[i]) }).collect()
}

/// Whether the settings select PyRadiomics feature `tag` of `class` on some image type
/// (what [`select_rows`] keeps, apart from the original image's rows without `Original`).
fn feature_selected(class: &str, tag: &str, settings: &Settings) -> bool {
    let options = settings.pyradiomics.as_ref();
    let classes = options.and_then(|p| p.feature_classes.as_ref());
    let force_2d = options.is_some_and(|p| p.force_2d);
    // PyRadiomics computes 2D shape only with force2D, even when `featureClass` names it.
    (force_2d || class != "shape2D")
        && match classes {
            None => catalogue::selected(class, tag, None),
            Some(classes) => classes.get(class).is_some_and(|list| catalogue::selected(class, tag, Some(list))),
        }
}

/// The library without the PyRadiomics features the settings do not select: their rows
/// would be dropped by [`select_rows`], so they are not computed (a class left out of
/// `featureClass` builds no matrix; `exampleCT.yaml`'s GLCM list skips the MCC's
/// eigenvalues). Families of user files and plugins are kept whole.
pub fn prune_library(library: Vec<LibraryFamily>, registry: &Registry, settings: &Settings) -> Vec<LibraryFamily> {
    let shipped = |origin: &str| super::sources::LIBRARY.iter().any(|(name, _)| *name == origin);
    library
        .into_iter()
        .filter_map(|f| {
            let class = f.family.name();
            if !shipped(&f.origin) || !CLASSES.contains(&class) {
                return Some(f);
            }
            let keep = |feature: &radx_dsl::FeatureInfo| {
                let tag = feature.tag.as_str();
                catalogue::status(class, tag).is_none() || feature_selected(class, tag, settings)
            };
            let family = f.family.retaining(registry, keep)?;
            Some(LibraryFamily { family, ..f })
        })
        .collect()
}

/// PyRadiomics' classes when `featureClass` does not list them, in the order it outputs them.
const DEFAULT_CLASS_ORDER: &[&str] = &["shape", "shape2D", "firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm"];

/// Order rows as PyRadiomics outputs them, per image type (kept in their order): the
/// shape classes first, then the classes in `featureClass`'s order (else
/// [`DEFAULT_CLASS_ORDER`]), each class's features in its list's order (else PyRadiomics'
/// own, [`catalogue::FEATURES`]). Rows of user feature files and plugins follow PyRadiomics'
/// rows of their image type, in their order. `selected` are indices into `rows`, in their
/// order; they are sorted into the output's.
fn order_rows(rows: &[FeatureRow], selected: &mut [usize], settings: &Settings) {
    let options = settings.pyradiomics.clone().unwrap_or_default();
    let listed = |class: &str| options.feature_classes.as_ref().and_then(|c| c.get(class)).filter(|l| !l.is_empty());
    let class_rank = |class: &str| {
        let shape = ["shape", "shape2D"].iter().position(|c| *c == class);
        let order = options.feature_class_order.iter().position(|c| c == class);
        shape.or(order.map(|o| o + 2)).or_else(|| DEFAULT_CLASS_ORDER.iter().position(|c| *c == class).map(|d| d + 100))
    };
    let feature_rank = |class: &str, tag: &str| match listed(class) {
        Some(list) => list.iter().position(|f| f == tag),
        None => catalogue::class(class).and_then(|features| features.iter().position(|(f, _)| *f == tag)),
    };
    let mut images: Vec<String> = Vec::new();
    let mut keyed: Vec<((usize, usize, usize, usize), usize)> = selected
        .iter()
        .map(|&i| {
            let r = &rows[i];
            let image = r.key.image_type.as_str();
            let image = images.iter().position(|i| i == image).unwrap_or_else(|| {
                images.push(image.to_string());
                images.len() - 1
            });
            let (class, tag) = (r.key.family.as_str(), r.tag_or_dash());
            let rank = (is_pyradiomics_row(r))
                .then(|| Some((class_rank(class)?, feature_rank(class, tag)?)))
                .flatten()
                .map_or((1, 0, 0), |(c, f)| (0, c, f));
            ((image, rank.0, rank.1, rank.2), i)
        })
        .collect();
    // Stable: rows of equal rank keep their order.
    keyed.sort_by_key(|(k, _)| *k);
    for (slot, (_, i)) in selected.iter_mut().zip(keyed) {
        *slot = i;
    }
}

/// Rename PyRadiomics' rows ([`is_pyradiomics_row`]) to its output names
/// (`original_<class>_<Feature>`, aggregation `-`); other rows keep their names.
pub fn rename_rows(rows: &mut [FeatureRow]) {
    for row in rows.iter_mut() {
        row.key = output_key(row);
    }
}

/// `row`'s key under PyRadiomics' name when it is one of PyRadiomics' rows, else its own.
fn output_key(row: &FeatureRow) -> FeatureKey {
    if is_pyradiomics_row(row) {
        FeatureKey { feature: output_name(row), aggregation: None, ..row.key.clone() }
    } else {
        row.key.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(family: &str, tag: &str, aggregation: Option<radx_core::Aggregation>) -> FeatureRow {
        FeatureRow {
            key: FeatureKey::original(family, tag, aggregation),
            tag: Some(tag.into()),
            value: 1.0,
            note: None,
        }
    }

    fn kept(rows: &[FeatureRow], settings: &Settings) -> Vec<String> {
        select_rows(rows.to_vec(), settings).iter().map(|r| format!("{}.{}", r.key.family, r.key.feature)).collect()
    }

    #[test]
    fn feature_class_selects_pyradiomics_rows_and_keeps_user_rows() {
        let rows = [
            row("shape", "Sphericity", None),
            row("shape", "Compactness1", None),
            row("glcm", "Contrast", None),
            row("glcm", "joint_max", Some(radx_core::Aggregation::Avg3d)),
            row("mine", "Thing", None),
        ];
        let mut settings = Settings { pyradiomics: Some(Default::default()), ..Settings::default() };
        assert_eq!(kept(&rows, &settings), ["shape.Sphericity", "glcm.Contrast", "glcm.joint_max", "mine.Thing"]);
        let only = [("shape".to_string(), vec!["Compactness1".to_string()])].into_iter().collect();
        settings.pyradiomics.as_mut().unwrap().feature_classes = Some(only);
        assert_eq!(kept(&rows, &settings), ["shape.Compactness1", "glcm.joint_max", "mine.Thing"]);
        let mut renamed = rows.to_vec();
        rename_rows(&mut renamed);
        let names: Vec<&str> = renamed.iter().map(|r| r.key.feature.as_str()).collect();
        assert_eq!(
            names,
            [
                "original_shape_Sphericity",
                "original_shape_Compactness1",
                "original_glcm_Contrast",
                "joint_max",
                "Thing"
            ]
        );
    }

    /// PyRadiomics' order, worked out from [`DEFAULT_CLASS_ORDER`] and the catalogue's order
    /// of first-order features: shape, then first order (Energy before Mean), then GLCM, then
    /// rows of user files; each output row names the extraction's row it is.
    #[test]
    fn output_selection_orders_and_names_rows_by_index() {
        let rows = [
            row("glcm", "Contrast", None),
            row("mine", "Thing", None),
            row("firstorder", "Mean", None),
            row("shape", "Sphericity", None),
            row("firstorder", "Energy", None),
        ];
        let settings = Settings { pyradiomics: Some(Default::default()), ..Settings::default() };
        let named = output_selection(&rows, &settings, true);
        let order: Vec<usize> = named.iter().map(|o| o.row).collect();
        assert_eq!(order, [3, 4, 2, 0, 1]);
        assert_eq!(named[0].key.feature, "original_shape_Sphericity");
        assert_eq!(named[4].key, rows[1].key);
        let plain = output_selection(&rows, &settings, false);
        assert_eq!(plain.iter().map(|o| o.row).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert!(plain.iter().zip(&rows).all(|(o, r)| o.key == r.key));
    }
}
