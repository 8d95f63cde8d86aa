//! PyRadiomics 3.0.1's feature names per class (`RadiomicsBase.getFeatureNames()`), with
//! what a parameter file's `featureClass` makes of each: the names it accepts, the ones a
//! class enables when no feature is listed, and the deprecated ones PyRadiomics computes
//! only when named, or never.

/// How PyRadiomics treats a feature name of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Enabled when its class is (no list, or an empty list).
    Default,
    /// Deprecated: computed only when the class lists it by name.
    WhenNamed,
    /// Deprecated and never computed: PyRadiomics raises a `DeprecationWarning` inside the
    /// feature, logs it and outputs no value. The text says which feature it equals.
    NoValue(&'static str),
}

use Status::{Default as D, NoValue, WhenNamed};

/// Every class and feature name PyRadiomics 3.0.1 knows.
pub const FEATURES: &[(&str, &[(&str, Status)])] = &[
    (
        "firstorder",
        &[
            ("10Percentile", D),
            ("90Percentile", D),
            ("Energy", D),
            ("Entropy", D),
            ("InterquartileRange", D),
            ("Kurtosis", D),
            ("Maximum", D),
            ("MeanAbsoluteDeviation", D),
            ("Mean", D),
            ("Median", D),
            ("Minimum", D),
            ("Range", D),
            ("RobustMeanAbsoluteDeviation", D),
            ("RootMeanSquared", D),
            ("Skewness", D),
            ("StandardDeviation", WhenNamed),
            ("TotalEnergy", D),
            ("Uniformity", D),
            ("Variance", D),
        ],
    ),
    (
        "shape",
        &[
            ("Compactness1", WhenNamed),
            ("Compactness2", WhenNamed),
            ("Elongation", D),
            ("Flatness", D),
            ("LeastAxisLength", D),
            ("MajorAxisLength", D),
            ("Maximum2DDiameterColumn", D),
            ("Maximum2DDiameterRow", D),
            ("Maximum2DDiameterSlice", D),
            ("Maximum3DDiameter", D),
            ("MeshVolume", D),
            ("MinorAxisLength", D),
            ("SphericalDisproportion", WhenNamed),
            ("Sphericity", D),
            ("SurfaceArea", D),
            ("SurfaceVolumeRatio", D),
            ("VoxelVolume", D),
        ],
    ),
    (
        "shape2D",
        &[
            ("Elongation", D),
            ("MajorAxisLength", D),
            ("MaximumDiameter", D),
            ("MeshSurface", D),
            ("MinorAxisLength", D),
            ("Perimeter", D),
            ("PerimeterSurfaceRatio", D),
            ("PixelSurface", D),
            ("SphericalDisproportion", WhenNamed),
            ("Sphericity", D),
        ],
    ),
    (
        "glcm",
        &[
            ("Autocorrelation", D),
            ("ClusterProminence", D),
            ("ClusterShade", D),
            ("ClusterTendency", D),
            ("Contrast", D),
            ("Correlation", D),
            ("DifferenceAverage", D),
            ("DifferenceEntropy", D),
            ("DifferenceVariance", D),
            ("Dissimilarity", NoValue("DifferenceAverage")),
            ("Homogeneity1", NoValue("Id")),
            ("Homogeneity2", NoValue("Idm")),
            ("Id", D),
            ("Idm", D),
            ("Idmn", D),
            ("Idn", D),
            ("Imc1", D),
            ("Imc2", D),
            ("InverseVariance", D),
            ("JointAverage", D),
            ("JointEnergy", D),
            ("JointEntropy", D),
            ("MCC", D),
            ("MaximumProbability", D),
            ("SumAverage", D),
            ("SumEntropy", D),
            ("SumSquares", D),
            ("SumVariance", NoValue("ClusterTendency")),
        ],
    ),
    (
        "glrlm",
        &[
            ("GrayLevelNonUniformity", D),
            ("GrayLevelNonUniformityNormalized", D),
            ("GrayLevelVariance", D),
            ("HighGrayLevelRunEmphasis", D),
            ("LongRunEmphasis", D),
            ("LongRunHighGrayLevelEmphasis", D),
            ("LongRunLowGrayLevelEmphasis", D),
            ("LowGrayLevelRunEmphasis", D),
            ("RunEntropy", D),
            ("RunLengthNonUniformity", D),
            ("RunLengthNonUniformityNormalized", D),
            ("RunPercentage", D),
            ("RunVariance", D),
            ("ShortRunEmphasis", D),
            ("ShortRunHighGrayLevelEmphasis", D),
            ("ShortRunLowGrayLevelEmphasis", D),
        ],
    ),
    (
        "glszm",
        &[
            ("GrayLevelNonUniformity", D),
            ("GrayLevelNonUniformityNormalized", D),
            ("GrayLevelVariance", D),
            ("HighGrayLevelZoneEmphasis", D),
            ("LargeAreaEmphasis", D),
            ("LargeAreaHighGrayLevelEmphasis", D),
            ("LargeAreaLowGrayLevelEmphasis", D),
            ("LowGrayLevelZoneEmphasis", D),
            ("SizeZoneNonUniformity", D),
            ("SizeZoneNonUniformityNormalized", D),
            ("SmallAreaEmphasis", D),
            ("SmallAreaHighGrayLevelEmphasis", D),
            ("SmallAreaLowGrayLevelEmphasis", D),
            ("ZoneEntropy", D),
            ("ZonePercentage", D),
            ("ZoneVariance", D),
        ],
    ),
    (
        "gldm",
        &[
            ("DependenceEntropy", D),
            ("DependenceNonUniformity", D),
            ("DependenceNonUniformityNormalized", D),
            ("DependencePercentage", NoValue("1 for every ROI")),
            ("DependenceVariance", D),
            ("GrayLevelNonUniformity", D),
            ("GrayLevelNonUniformityNormalized", NoValue("firstorder Uniformity")),
            ("GrayLevelVariance", D),
            ("HighGrayLevelEmphasis", D),
            ("LargeDependenceEmphasis", D),
            ("LargeDependenceHighGrayLevelEmphasis", D),
            ("LargeDependenceLowGrayLevelEmphasis", D),
            ("LowGrayLevelEmphasis", D),
            ("SmallDependenceEmphasis", D),
            ("SmallDependenceHighGrayLevelEmphasis", D),
            ("SmallDependenceLowGrayLevelEmphasis", D),
        ],
    ),
    ("ngtdm", &[("Busyness", D), ("Coarseness", D), ("Complexity", D), ("Contrast", D), ("Strength", D)]),
];

/// The feature names of `class`, or `None` for a class PyRadiomics does not have.
pub fn class(class: &str) -> Option<&'static [(&'static str, Status)]> {
    FEATURES.iter().find(|(c, _)| *c == class).map(|(_, features)| *features)
}

/// How PyRadiomics treats `feature` of `class`; `None` when it has no such feature.
pub fn status(class: &str, feature: &str) -> Option<Status> {
    self::class(class)?.iter().find(|(f, _)| *f == feature).map(|(_, s)| *s)
}

/// Whether a row of `class` named `feature` is output: with no list (`None` or empty) the
/// class's default features, else the features listed.
pub fn selected(class: &str, feature: &str, listed: Option<&[String]>) -> bool {
    match listed.filter(|l| !l.is_empty()) {
        Some(list) => list.iter().any(|f| f == feature),
        None => status(class, feature) == Some(Status::Default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name the library computes is one of PyRadiomics' that yields a value, and
    /// every such name of PyRadiomics' is in the library.
    #[test]
    fn the_library_computes_every_feature_pyradiomics_gives_a_value() {
        for (file, text) in super::super::sources::LIBRARY {
            let class = file.trim_start_matches("features/pyradiomics/").trim_end_matches(".radx");
            let tags: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("feature "))
                .filter_map(|l| l.split('"').nth(1))
                .collect();
            let known = super::class(class).unwrap_or_else(|| panic!("{class} is not a PyRadiomics class"));
            for tag in &tags {
                let s = status(class, tag);
                assert!(matches!(s, Some(Status::Default | Status::WhenNamed)), "{class} {tag}: {s:?}");
            }
            for (name, s) in known {
                if !matches!(s, Status::NoValue(_)) {
                    assert!(tags.contains(name), "{class} {name} is missing from {file}");
                }
            }
        }
    }

    #[test]
    fn deprecated_features_need_naming() {
        assert!(selected("shape", "Sphericity", None));
        assert!(!selected("shape", "Compactness1", None));
        assert!(!selected("shape", "Compactness1", Some(&[])));
        assert!(selected("shape", "Compactness1", Some(&["Compactness1".to_string()])));
        assert!(!selected("shape", "Sphericity", Some(&["Compactness1".to_string()])));
        assert_eq!(status("glcm", "SumVariance"), Some(Status::NoValue("ClusterTendency")));
        assert_eq!(status("glcm", "Nope"), None);
    }
}
