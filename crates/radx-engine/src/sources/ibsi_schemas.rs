//! What the feature language may read from the IBSI's sources (manual chapter 3): each
//! source's parameters, axes, arrays and scalars, and the builtins the case host computes
//! for the builtin-only sources. The texture matrices (GLCM §3.6, GLRLM §3.7, GLSZM §3.8,
//! GLDZM §3.9, NGTDM §3.10, NGLDM §3.11), the ROI intensities (§3.3), the intensity
//! histogram (§3.4), and IVH / morphology / local intensity (§3.5, §3.1, §3.2).
//!
//! The builders of these sources are in [`super::ibsi`]; the settings' texture parameters
//! are the schemas' defaults, so a family header that names a parameter overrides them.

use radx_dsl::{Allowed, ArgKind, BuiltinImpl, BuiltinSpec, ParamKind as K, ParamValue as V, Registry, SourceSchema};

use crate::settings::Settings;

const LEVEL: &str = "discretised grey level; values are the levels 1..Ng";

/// Register the IBSI sources' schemas and their builtins, with `settings`' defaults.
pub(super) fn register(registry: &mut Registry, settings: &Settings) {
    let t = &settings.texture;
    registry.register_source(
        SourceSchema::new("cm", "grey level co-occurrence matrix (IBSI 3.6), normalised to probabilities")
            .param("distance", K::Int, V::Int(t.glcm_distance as i64), "Chebyshev distance δ between voxel pairs")
            .allow(Allowed::at_least(1.0))
            .param("symmetric", K::Bool, V::Bool(t.glcm_symmetric), "count both m and −m (IBSI default)")
            .axis("level", LEVEL)
            .array("p", &["level", "level"], "joint probability p_ij")
            .scalar("Ng", "number of grey levels"),
    );
    register_zone_matrices(registry, settings);
    registry.register_source(
        SourceSchema::new("ngt", "neighbourhood grey tone difference matrix (IBSI 3.10)")
            .param("distance", K::Int, V::Int(1), "Chebyshev neighbourhood radius δ")
            .allow(Allowed::at_least(1.0))
            .axis("level", LEVEL)
            .array("n", &["level"], "voxels of level i with a valid neighbourhood")
            .array("s", &["level"], "sum of absolute grey-tone differences s_i")
            .array("p", &["level"], "p_i = n_i / Nvc")
            .scalar("Ng", "number of grey levels")
            .scalar("Nvc", "number of voxels with a valid neighbourhood")
            .scalar("Ngp", "number of grey levels with p_i > 0"),
    );
    registry.register_source(
        SourceSchema::new("roi", "intensities of the ROI voxels (IBSI 3.3)")
            .axis("voxel", "ROI voxel; values are 1..N")
            .array("x", &["voxel"], "intensity of each ROI voxel")
            .scalar("N", "number of ROI voxels"),
    );
    registry.register_source(
        SourceSchema::new("ih", "intensity histogram of the discretised ROI (IBSI 3.4)")
            .axis("voxel", "ROI voxel; values are 1..N")
            .axis("level", LEVEL)
            .array("x", &["voxel"], "discretised grey level of each ROI voxel")
            .array("h", &["level"], "number of voxels per level (empty bins kept)")
            .scalar("N", "number of ROI voxels")
            .scalar("Ng", "number of grey levels"),
    );
    registry.register_source(
        SourceSchema::new("ivh", "intensity-volume histogram (IBSI 3.5); builtins only")
            .param("bin_width", K::Float, V::Float(0.0), "discretisation width (0: none)")
            .allow(Allowed::at_least(0.0)),
    );
    registry.register_source(SourceSchema::new("morph", "ROI morphology (IBSI 3.1); builtins only"));
    registry.register_source(SourceSchema::new("li", "local intensity (IBSI 3.2); builtins only"));
    register_builtins(registry);
}

/// The run, zone and dependence matrices: a grey level axis and a second axis whose values
/// are the run lengths, zone sizes, distances or dependence counts that occur.
fn register_zone_matrices(registry: &mut Registry, settings: &Settings) {
    let t = &settings.texture;
    let connectivity = |schema: SourceSchema| {
        schema
            .param(
                "connectivity",
                K::Int,
                V::Int(26),
                "voxel connectivity: 26 in 3D (2D aggregations use 8); no other value is accepted",
            )
            .allow(Allowed::OneOf(vec![V::Int(26)]))
    };
    let matrices = [
        (
            connectivity(SourceSchema::new("rlm", "grey level run length matrix (IBSI 3.7)")),
            "r",
            "run",
            "run length; values are the run lengths that occur",
        ),
        (
            connectivity(SourceSchema::new("szm", "grey level size zone matrix (IBSI 3.8)")),
            "s",
            "size",
            "zone size; values are the zone sizes that occur",
        ),
        (
            connectivity(SourceSchema::new("dzm", "grey level distance zone matrix (IBSI 3.9)")),
            "d",
            "distance",
            "distance to the ROI border; values are the distances that occur",
        ),
        (
            SourceSchema::new("ngl", "neighbouring grey level dependence matrix (IBSI 3.11)")
                .param("distance", K::Int, V::Int(t.ngldm_distance as i64), "Chebyshev neighbourhood radius δ")
                .allow(Allowed::at_least(1.0))
                .param(
                    "alpha",
                    K::Float,
                    V::Float(f64::from(t.ngldm_alpha)),
                    "coarseness α: |Δ grey level| ≤ α counts as dependent",
                )
                .allow(Allowed::at_least(0.0)),
            "s",
            "dependence",
            "dependence count (centre voxel included); values are the counts that occur",
        ),
    ];
    for (schema, array, second, second_doc) in matrices {
        registry.register_source(
            schema
                .axis("level", LEVEL)
                .axis(second, second_doc)
                .array(array, &["level", second], "raw counts")
                .scalar("Ng", "number of grey levels")
                .scalar("Nv", "number of voxels in the ROI")
                .scalar("Ns", "sum of all matrix counts (runs, zones or neighbourhoods)"),
        );
    }
}

/// The builtins of the IBSI sources: the GLCM's maximal correlation coefficient (computed
/// by the language's evaluator) and the geometric and IVH quantities the case host computes.
fn register_builtins(registry: &mut Registry) {
    registry.register_builtin(BuiltinSpec {
        name: "glcm_mcc".into(),
        args: vec![],
        doc: "maximal correlation coefficient: sqrt of the second largest eigenvalue of Q".into(),
        source: Some("cm".into()),
        implementation: BuiltinImpl::GlcmMcc,
    });
    let scalar = [ArgKind::Scalar];
    let host: [(&str, &[ArgKind], &str, &str); 25] = [
        ("ivh_v", &scalar, "ivh", "volume fraction with intensity ≥ the given intensity fraction"),
        ("ivh_i", &scalar, "ivh", "smallest intensity fraction whose volume fraction ≤ the given volume fraction"),
        ("ivh_auc", &[], "ivh", "area under the IVH curve"),
        ("mesh_volume", &[], "morph", "volume enclosed by the ROI mesh (mm³)"),
        ("mesh_area", &[], "morph", "area of the ROI mesh (mm²)"),
        ("voxel_volume", &[], "morph", "number of ROI voxels × voxel volume (mm³)"),
        ("convex_hull_volume", &[], "morph", "volume of the mesh's convex hull"),
        ("convex_hull_area", &[], "morph", "area of the mesh's convex hull"),
        ("max_diameter", &[], "morph", "largest distance between mesh vertices"),
        ("mvee_volume", &[], "morph", "volume of the minimum volume enclosing ellipsoid"),
        ("mvee_area", &[], "morph", "area of the minimum volume enclosing ellipsoid"),
        ("ombb_volume", &[], "morph", "volume of the oriented minimum bounding box"),
        ("ombb_area", &[], "morph", "area of the oriented minimum bounding box"),
        ("aabb_volume", &[], "morph", "volume of the axis-aligned bounding box"),
        ("aabb_area", &[], "morph", "area of the axis-aligned bounding box"),
        ("morans_i", &[], "morph", "Moran's I spatial autocorrelation"),
        ("gearys_c", &[], "morph", "Geary's C spatial autocorrelation"),
        ("com_shift", &[], "morph", "distance between geometric and intensity-weighted centre of mass"),
        ("integrated_intensity", &[], "morph", "mesh volume × mean intensity"),
        ("n_voxels", &[], "morph", "number of voxels in the morphological mask"),
        ("pca_eigenvalue", &scalar, "morph", "k-th largest eigenvalue (1..3) of the ROI voxel covariance"),
        ("local_peak", &[], "li", "highest mean intensity in a 1 cm³ sphere centred in the ROI"),
        ("global_peak", &[], "li", "highest mean intensity in a 1 cm³ sphere over all ROI voxels"),
        ("aee_volume", &[], "morph", "volume of the approximate enclosing ellipsoid (semi-axes 2√λ of the PCA)"),
        ("aee_area", &[], "morph", "surface area of the approximate enclosing ellipsoid (IBSI series)"),
    ];
    for (name, args, source, doc) in host {
        registry.register_builtin(BuiltinSpec {
            name: name.into(),
            args: args.to_vec(),
            doc: doc.into(),
            source: Some(source.into()),
            implementation: BuiltinImpl::Host,
        });
    }
}
