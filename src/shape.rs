//! The shape of a ROI's morphological mask (IBSI 3.1): surface mesh, convex hull,
//! oriented minimum bounding box, minimum-volume enclosing ellipsoid and principal
//! components, each computed once, on demand.
//!
//! A shape depends on the morphological mask alone. Without interpolation that mask is
//! known as soon as the label map has been read, while the image is still being inflated,
//! so the pipeline can compute the shape on the core that reading leaves idle
//! ([`crate::pipeline::process_files_with_shape`]); the feature host then checks that the
//! processed case's mask is the same before using it.

use std::sync::OnceLock;

use radx_core::Volume;
use radx_core::morphology::enclosing::{
    MVEE_TOLERANCE, minimum_volume_enclosing_ellipsoid, oriented_minimum_bounding_box,
};
use radx_core::morphology::{
    AutocorrelationMethod, AutocorrelationWeights, ConvexHull, Mesh, autocorrelation_weights, pca_eigenvalues,
    surface_mesh,
};

/// Whether any of the feature definitions `texts` calls any of the builtins `names`.
pub(crate) fn calls_any(texts: &[&str], names: &[&str]) -> bool {
    names.iter().any(|n| texts.iter().any(|t| t.contains(&format!("{n}("))))
}

/// Which parts of a [`Shape`] a feature library calls for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShapeNeeds {
    mesh: bool,
    hull: bool,
    ombb: bool,
    mvee: bool,
    pca: bool,
    autocorrelation: bool,
}

impl ShapeNeeds {
    /// The parts that feature definitions `texts` use, judged by the builtins they call.
    pub fn of_texts(texts: &[&str]) -> ShapeNeeds {
        let calls = |names: &[&str]| calls_any(texts, names);
        let ombb = calls(&["ombb_volume", "ombb_area"]);
        let mvee = calls(&["mvee_volume", "mvee_area"]);
        let hull = ombb || mvee || calls(&["convex_hull_volume", "convex_hull_area", "max_diameter"]);
        let mesh = hull || calls(&["mesh_volume", "mesh_area", "aabb_volume", "aabb_area", "integrated_intensity"]);
        let pca = calls(&["pca_eigenvalue", "aee_volume", "aee_area"]);
        let autocorrelation = calls(&["morans_i", "gearys_c"]);
        ShapeNeeds { mesh, hull, ombb, mvee, pca, autocorrelation }
    }

    /// Whether any part is needed.
    pub fn any(&self) -> bool {
        self.mesh || self.pca || self.autocorrelation
    }

    /// Whether Moran's I / Geary's C weights are needed.
    pub fn autocorrelation(&self) -> bool {
        self.autocorrelation
    }
}

/// Lazily computed geometry of one morphological mask.
pub struct Shape {
    mask: Volume<bool>,
    mesh: OnceLock<Mesh>,
    hull: OnceLock<ConvexHull>,
    pca: OnceLock<[f64; 3]>,
    ombb: OnceLock<Option<(f64, f64)>>,
    mvee: OnceLock<Result<(f64, f64), String>>,
    autocorrelation: OnceLock<Result<AutocorrelationWeights, String>>,
}

impl Shape {
    /// The shape of `mask` (its grid gives the spacing).
    pub fn new(mask: Volume<bool>) -> Shape {
        Shape {
            mask,
            mesh: OnceLock::new(),
            hull: OnceLock::new(),
            pca: OnceLock::new(),
            ombb: OnceLock::new(),
            mvee: OnceLock::new(),
            autocorrelation: OnceLock::new(),
        }
    }

    /// Whether this is the shape of `mask` (same grid, same voxels).
    pub fn is_of(&self, mask: &Volume<bool>) -> bool {
        self.mask.grid == mask.grid && self.mask.data == mask.data
    }

    /// The IBSI surface mesh (3.1).
    pub fn mesh(&self) -> &Mesh {
        self.mesh.get_or_init(|| surface_mesh(&self.mask.data, self.mask.grid.spacing))
    }

    /// The convex hull of the mesh's vertices.
    pub fn hull(&self) -> &ConvexHull {
        self.hull.get_or_init(|| ConvexHull::of_mesh(self.mesh()))
    }

    /// Eigenvalues of the voxel centres' covariance, largest first.
    pub fn pca(&self) -> [f64; 3] {
        *self.pca.get_or_init(|| pca_eigenvalues(&self.mask.data, self.mask.grid.spacing))
    }

    /// (volume, area) of the oriented minimum bounding box; `None` for a flat ROI.
    pub fn ombb(&self) -> Option<(f64, f64)> {
        *self.ombb.get_or_init(|| oriented_minimum_bounding_box(self.hull()).map(|b| (b.volume(), b.area())))
    }

    /// (volume, area) of the minimum-volume enclosing ellipsoid.
    pub fn mvee(&self) -> Result<(f64, f64), String> {
        self.mvee
            .get_or_init(|| {
                minimum_volume_enclosing_ellipsoid(&self.hull().vertices, MVEE_TOLERANCE)
                    .map(|e| (e.volume(), e.area()))
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The mask's half of Moran's I and Geary's C, for an intensity mask equal to this
    /// shape's mask.
    pub fn autocorrelation_weights(&self) -> Result<&AutocorrelationWeights, String> {
        self.autocorrelation
            .get_or_init(|| {
                autocorrelation_weights(&self.mask.data, self.mask.grid.spacing, AutocorrelationMethod::Auto)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compute the parts in `needs` now (the autocorrelation weights apart: see
    /// [`Shape::autocorrelation_weights`]), concurrently where they are independent.
    pub fn prefetch(&self, needs: ShapeNeeds) {
        rayon::scope(|s| {
            if needs.pca {
                s.spawn(|_| {
                    self.pca();
                });
            }
            if needs.mesh {
                self.mesh();
            }
            if needs.hull {
                self.hull();
                if needs.ombb {
                    s.spawn(|_| {
                        self.ombb();
                    });
                }
                if needs.mvee {
                    let _ = self.mvee();
                }
            }
        });
    }
}
