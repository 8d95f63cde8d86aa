//! The runtime contract as data: which *sources* a family may be written over (their
//! parameters, axes, arrays and scalars) and which builtin functions exist. The checker
//! resolves every name against a [`Registry`]; plugins extend it by registering more
//! schemas and builtins at run time.
//!
//! The standard registry declares the IBSI sources (IBSI manual chapter 3): the texture
//! matrices (GLCM §3.6, GLRLM §3.7, GLSZM §3.8, GLDZM §3.9, NGTDM §3.10, NGLDM §3.11), the
//! ROI intensities (§3.3), the intensity histogram (§3.4), and IVH / morphology / local
//! intensity (§3.5, §3.1, §3.2), whose geometric quantities are host builtins.

/// The type of a source parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Str,
}

impl ParamKind {
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::Int => "an integer",
            ParamKind::Float => "a number",
            ParamKind::Bool => "`true` or `false`",
            ParamKind::Str => "a quoted string",
        }
    }
}

/// A parameter value (resolved from the file, or its default).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// A parameter a source accepts, e.g. `distance` of `cm`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    pub default: ParamValue,
    pub doc: String,
}

/// A named axis. Its *values* (e.g. the grey levels, or the run lengths that occur) come
/// with the [`crate::SourceData`]; index variables take these values in expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisSpec {
    pub name: String,
    pub doc: String,
}

/// A dense array over some of the source's axes (row-major, last axis fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySpec {
    pub name: String,
    /// Indices into [`SourceSchema::axes`].
    pub axes: Vec<usize>,
    pub doc: String,
}

/// A named scalar the source provides.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarSpec {
    pub name: String,
    pub doc: String,
}

/// Everything the checker needs to know about a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSchema {
    pub name: String,
    pub doc: String,
    pub params: Vec<ParamSpec>,
    pub axes: Vec<AxisSpec>,
    pub arrays: Vec<ArraySpec>,
    pub scalars: Vec<ScalarSpec>,
}

impl SourceSchema {
    pub fn new(name: &str, doc: &str) -> Self {
        SourceSchema {
            name: name.into(),
            doc: doc.into(),
            params: Vec::new(),
            axes: Vec::new(),
            arrays: Vec::new(),
            scalars: Vec::new(),
        }
    }
    pub fn param(mut self, name: &str, kind: ParamKind, default: ParamValue, doc: &str) -> Self {
        self.params.push(ParamSpec { name: name.into(), kind, default, doc: doc.into() });
        self
    }
    pub fn axis(mut self, name: &str, doc: &str) -> Self {
        self.axes.push(AxisSpec { name: name.into(), doc: doc.into() });
        self
    }
    /// Adds an array over the named axes (which must already be declared).
    pub fn array(mut self, name: &str, axes: &[&str], doc: &str) -> Self {
        let axes = axes
            .iter()
            .map(|a| self.axes.iter().position(|x| x.name == *a).unwrap_or_else(|| panic!("undeclared axis {a}")))
            .collect();
        self.arrays.push(ArraySpec { name: name.into(), axes, doc: doc.into() });
        self
    }
    pub fn scalar(mut self, name: &str, doc: &str) -> Self {
        self.scalars.push(ScalarSpec { name: name.into(), doc: doc.into() });
        self
    }
}

/// What a builtin argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Any scalar expression.
    Scalar,
    /// The name of a whole rank-1 array or vector `let`, e.g. `x` in `percentile(x, 10)`.
    Array,
}

/// Who computes a builtin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinImpl {
    /// The host, through [`crate::Builtins`] at evaluation time (morphology, IVH, …).
    Host,
    /// Percentile with linear interpolation between order statistics (numpy's default).
    Percentile,
    /// Median (the 50th percentile).
    Median,
    /// Maximal correlation coefficient of the GLCM `p`: √(second largest eigenvalue of Q).
    GlcmMcc,
}

/// A builtin function: name, arguments, doc, and (optionally) the source it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltinSpec {
    pub name: String,
    pub args: Vec<ArgKind>,
    pub doc: String,
    /// `Some(source)` if it can only be used in families over that source.
    pub source: Option<String>,
    pub implementation: BuiltinImpl,
}

/// Sources and builtins known to the checker.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    sources: Vec<SourceSchema>,
    builtins: Vec<BuiltinSpec>,
}

impl Registry {
    /// An empty registry (for plugin-only setups and tests).
    pub fn empty() -> Self {
        Registry::default()
    }
    /// Adds or replaces a source schema.
    pub fn register_source(&mut self, schema: SourceSchema) {
        self.sources.retain(|s| s.name != schema.name);
        self.sources.push(schema);
    }
    /// Adds or replaces a builtin.
    pub fn register_builtin(&mut self, spec: BuiltinSpec) {
        self.builtins.retain(|b| b.name != spec.name);
        self.builtins.push(spec);
    }
    pub fn source(&self, name: &str) -> Option<&SourceSchema> {
        self.sources.iter().find(|s| s.name == name)
    }
    pub fn builtin(&self, name: &str) -> Option<&BuiltinSpec> {
        self.builtins.iter().find(|b| b.name == name)
    }
    pub fn sources(&self) -> &[SourceSchema] {
        &self.sources
    }
    pub fn builtins(&self) -> &[BuiltinSpec] {
        &self.builtins
    }

    fn host(&mut self, name: &str, args: &[ArgKind], source: &str, doc: &str) {
        self.register_builtin(BuiltinSpec {
            name: name.into(),
            args: args.to_vec(),
            doc: doc.into(),
            source: Some(source.into()),
            implementation: BuiltinImpl::Host,
        });
    }

    /// The IBSI sources and builtins.
    pub fn standard() -> Self {
        use ParamKind as K;
        use ParamValue as V;
        let mut r = Registry::empty();
        let level = "discretised grey level; values are the levels 1..Ng";
        r.register_source(
            SourceSchema::new("cm", "grey level co-occurrence matrix (IBSI 3.6), normalised to probabilities")
                .param("distance", K::Int, V::Int(1), "Chebyshev distance δ between voxel pairs")
                .param("symmetric", K::Bool, V::Bool(true), "count both m and −m (IBSI default)")
                .axis("level", level)
                .array("p", &["level", "level"], "joint probability p_ij")
                .scalar("Ng", "number of grey levels"),
        );
        for (name, array, second, what) in [
            ("rlm", "r", "run", "grey level run length matrix (IBSI 3.7)"),
            ("szm", "s", "size", "grey level size zone matrix (IBSI 3.8)"),
            ("dzm", "d", "distance", "grey level distance zone matrix (IBSI 3.9)"),
            ("ngl", "s", "dependence", "neighbouring grey level dependence matrix (IBSI 3.11)"),
        ] {
            let mut schema = SourceSchema::new(name, what);
            if name == "ngl" {
                schema = schema.param("distance", K::Int, V::Int(1), "Chebyshev neighbourhood radius δ").param(
                    "alpha",
                    K::Float,
                    V::Float(0.0),
                    "coarseness α: |Δ grey level| ≤ α counts as dependent",
                );
            }
            if name == "rlm" || name == "szm" || name == "dzm" {
                schema = schema.param(
                    "connectivity",
                    K::Int,
                    V::Int(26),
                    "voxel connectivity: 26 in 3D (2D aggregations use 8); no other value is accepted",
                );
            }
            let second_doc = match second {
                "run" => "run length; values are the run lengths that occur",
                "size" => "zone size; values are the zone sizes that occur",
                "distance" => "distance to the ROI border; values are the distances that occur",
                _ => "dependence count (centre voxel included); values are the counts that occur",
            };
            r.register_source(
                schema
                    .axis("level", level)
                    .axis(second, second_doc)
                    .array(array, &["level", second], "raw counts")
                    .scalar("Ng", "number of grey levels")
                    .scalar("Nv", "number of voxels in the ROI")
                    .scalar("Ns", "sum of all matrix counts (runs, zones or neighbourhoods)"),
            );
        }
        r.register_source(
            SourceSchema::new("ngt", "neighbourhood grey tone difference matrix (IBSI 3.10)")
                .param("distance", K::Int, V::Int(1), "Chebyshev neighbourhood radius δ")
                .axis("level", level)
                .array("n", &["level"], "voxels of level i with a valid neighbourhood")
                .array("s", &["level"], "sum of absolute grey-tone differences s_i")
                .array("p", &["level"], "p_i = n_i / Nvc")
                .scalar("Ng", "number of grey levels")
                .scalar("Nvc", "number of voxels with a valid neighbourhood")
                .scalar("Ngp", "number of grey levels with p_i > 0"),
        );
        r.register_source(
            SourceSchema::new("roi", "intensities of the ROI voxels (IBSI 3.3)")
                .axis("voxel", "ROI voxel; values are 1..N")
                .array("x", &["voxel"], "intensity of each ROI voxel")
                .scalar("N", "number of ROI voxels"),
        );
        r.register_source(
            SourceSchema::new("ih", "intensity histogram of the discretised ROI (IBSI 3.4)")
                .axis("voxel", "ROI voxel; values are 1..N")
                .axis("level", level)
                .array("x", &["voxel"], "discretised grey level of each ROI voxel")
                .array("h", &["level"], "number of voxels per level (empty bins kept)")
                .scalar("N", "number of ROI voxels")
                .scalar("Ng", "number of grey levels"),
        );
        r.register_source(SourceSchema::new("ivh", "intensity-volume histogram (IBSI 3.5); builtins only").param(
            "bin_width",
            K::Float,
            V::Float(0.0),
            "discretisation width (0: none)",
        ));
        r.register_source(SourceSchema::new("morph", "ROI morphology (IBSI 3.1); builtins only"));
        r.register_source(SourceSchema::new("li", "local intensity (IBSI 3.2); builtins only"));

        use ArgKind::{Array as A, Scalar as S};
        r.register_builtin(BuiltinSpec {
            name: "percentile".into(),
            args: vec![A, S],
            doc: "q-th percentile (0..100) of an array, linear interpolation".into(),
            source: None,
            implementation: BuiltinImpl::Percentile,
        });
        r.register_builtin(BuiltinSpec {
            name: "median".into(),
            args: vec![A],
            doc: "median of an array".into(),
            source: None,
            implementation: BuiltinImpl::Median,
        });
        r.register_builtin(BuiltinSpec {
            name: "glcm_mcc".into(),
            args: vec![],
            doc: "maximal correlation coefficient: sqrt of the second largest eigenvalue of Q".into(),
            source: Some("cm".into()),
            implementation: BuiltinImpl::GlcmMcc,
        });
        r.host("ivh_v", &[S], "ivh", "volume fraction with intensity ≥ the given intensity fraction");
        r.host("ivh_i", &[S], "ivh", "smallest intensity fraction whose volume fraction ≤ the given volume fraction");
        r.host("ivh_auc", &[], "ivh", "area under the IVH curve");
        for (name, doc) in [
            ("mesh_volume", "volume enclosed by the ROI mesh (mm³)"),
            ("mesh_area", "area of the ROI mesh (mm²)"),
            ("voxel_volume", "number of ROI voxels × voxel volume (mm³)"),
            ("convex_hull_volume", "volume of the mesh's convex hull"),
            ("convex_hull_area", "area of the mesh's convex hull"),
            ("max_diameter", "largest distance between mesh vertices"),
            ("mvee_volume", "volume of the minimum volume enclosing ellipsoid"),
            ("mvee_area", "area of the minimum volume enclosing ellipsoid"),
            ("ombb_volume", "volume of the oriented minimum bounding box"),
            ("ombb_area", "area of the oriented minimum bounding box"),
            ("aabb_volume", "volume of the axis-aligned bounding box"),
            ("aabb_area", "area of the axis-aligned bounding box"),
            ("morans_i", "Moran's I spatial autocorrelation"),
            ("gearys_c", "Geary's C spatial autocorrelation"),
            ("com_shift", "distance between geometric and intensity-weighted centre of mass"),
            ("integrated_intensity", "mesh volume × mean intensity"),
            ("n_voxels", "number of voxels in the morphological mask"),
        ] {
            r.host(name, &[], "morph", doc);
        }
        r.host("pca_eigenvalue", &[S], "morph", "k-th largest eigenvalue (1..3) of the ROI voxel covariance");
        r.host("local_peak", &[], "li", "highest mean intensity in a 1 cm³ sphere centred in the ROI");
        r.host("global_peak", &[], "li", "highest mean intensity in a 1 cm³ sphere over all ROI voxels");
        r
    }
}
