//! The shape of a ROI's morphological mask (IBSI 3.1): surface mesh, convex hull,
//! oriented minimum bounding box, minimum-volume enclosing ellipsoid and principal
//! components, each computed once, on demand.
//!
//! A shape depends on the morphological mask alone. Without interpolation that mask is
//! known as soon as the label map has been read, while the image is still being inflated,
//! so the pipeline can compute the shape on the core that reading leaves idle
//! ([`crate::pipeline::process_files_with_shape`]); the feature host then checks that the
//! processed case's mask is the same before using it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use radx_core::Volume;
use radx_core::morphology::enclosing::{
    MVEE_TOLERANCE, axis_aligned_bounding_box, minimum_volume_enclosing_ellipsoid, oriented_minimum_bounding_box,
};
use radx_core::morphology::{
    AutocorrelationMethod, AutocorrelationWeights, ConvexHull, Mesh, MorphologyError, autocorrelation_weights,
    pca_eigenvalues, surface_mesh,
};
use radx_dsl::SourceData;

/// The names written directly before `(` in feature definitions: the builtins they may
/// call, gathered in one pass over the texts so that each question is a lookup (searching
/// every text for each builtin's name in turn took a sixth of a small case's CPU).
pub(crate) struct Calls<'t>(BTreeSet<&'t str>);

impl<'t> Calls<'t> {
    /// The run of name characters before each `(` of `texts`.
    pub(crate) fn in_texts(texts: &[&'t str]) -> Calls<'t> {
        let is_name = |c: char| c.is_alphanumeric() || c == '_';
        let mut called = BTreeSet::new();
        for text in texts {
            for (at, _) in text.match_indices('(') {
                let before = &text[..at];
                let start = before.char_indices().rev().take_while(|&(_, c)| is_name(c)).last().map_or(at, |(k, _)| k);
                called.insert(&before[start..]);
            }
        }
        Calls(called)
    }

    /// Whether any of the builtins `names` is called: written right before a `(`, also as
    /// the end of a longer name (cheap to over-report; a call missed would cost speed).
    pub(crate) fn any(&self, names: &[&str]) -> bool {
        self.0.iter().any(|called| names.iter().any(|n| called.ends_with(n)))
    }
}

/// Whether `text` declares a family `over` the source `name` (and not merely one whose name
/// starts with it, as `pyr_shape2D` starts with `pyr_shape`).
fn over_source(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].trim_end();
        let after = text[at + name.len()..].chars().next();
        before.ends_with("over") && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
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
    aabb: bool,
    diameter: bool,
    centre: bool,
    count: bool,
    /// PyRadiomics' shape source (`pyr_shape`), computed from the parts above.
    pyradiomics: bool,
}

impl ShapeNeeds {
    /// The parts that feature definitions `texts` use, judged by the builtins they call and,
    /// for PyRadiomics' shape source, by a family over it.
    pub fn of_texts(texts: &[&str]) -> ShapeNeeds {
        let called = Calls::in_texts(texts);
        let calls = |names: &[&str]| called.any(names);
        let ombb = calls(&["ombb_volume", "ombb_area"]);
        let mvee = calls(&["mvee_volume", "mvee_area"]);
        let hull = ombb || mvee || calls(&["convex_hull_volume", "convex_hull_area", "max_diameter"]);
        let mesh = hull || calls(&["mesh_volume", "mesh_area", "aabb_volume", "aabb_area", "integrated_intensity"]);
        let pca = calls(&["pca_eigenvalue", "aee_volume", "aee_area"]);
        let autocorrelation = calls(&["morans_i", "gearys_c"]);
        let aabb = calls(&["aabb_volume", "aabb_area"]);
        let diameter = calls(&["max_diameter"]);
        let centre = calls(&["com_shift"]);
        let count = calls(&["voxel_volume", "n_voxels"]);
        let pyradiomics = texts.iter().any(|t| over_source(t, "pyr_shape"));
        ShapeNeeds { mesh, hull, ombb, mvee, pca, autocorrelation, aabb, diameter, centre, count, pyradiomics }
    }

    /// Whether any part is needed.
    pub fn any(&self) -> bool {
        self.mesh || self.pca || self.autocorrelation || self.centre || self.count || self.pyradiomics
    }

    /// Whether Moran's I / Geary's C weights are needed.
    pub fn autocorrelation(&self) -> bool {
        self.autocorrelation
    }

    /// Whether the surface mesh is needed (PyRadiomics' shape source builds on it).
    pub fn mesh(&self) -> bool {
        self.mesh || self.pyradiomics
    }

    /// Whether the convex hull is needed (PyRadiomics' shape source takes its diameter).
    pub fn hull(&self) -> bool {
        self.hull || self.pyradiomics
    }

    /// Whether the minimum-volume enclosing ellipsoid is needed.
    pub fn mvee(&self) -> bool {
        self.mvee
    }

    /// These needs without the mesh and what is built on it (computed later, after the
    /// memory check, when they may not fit the budget).
    pub fn without_surface(self) -> ShapeNeeds {
        ShapeNeeds {
            mesh: false,
            hull: false,
            ombb: false,
            mvee: false,
            aabb: false,
            diameter: false,
            pyradiomics: false,
            ..self
        }
    }

    /// These needs without Moran's I and Geary's C (computed later, after the memory check,
    /// when their weights may not fit the budget).
    pub fn without_autocorrelation(self) -> ShapeNeeds {
        ShapeNeeds { autocorrelation: false, ..self }
    }
}

/// Lazily computed geometry of one morphological mask.
pub struct Shape {
    mask: Volume<bool>,
    mesh: OnceLock<Mesh>,
    hull: OnceLock<ConvexHull>,
    pca: OnceLock<[f64; 3]>,
    ombb: OnceLock<Option<(f64, f64)>>,
    mvee: OnceLock<Result<(f64, f64), MorphologyError>>,
    autocorrelation: OnceLock<Result<AutocorrelationWeights, MorphologyError>>,
    mesh_measures: OnceLock<(f64, f64)>,
    aabb: OnceLock<(f64, f64)>,
    diameter: OnceLock<f64>,
    centre: OnceLock<[f64; 3]>,
    count: OnceLock<usize>,
    pyradiomics: OnceLock<SourceData>,
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
            mesh_measures: OnceLock::new(),
            aabb: OnceLock::new(),
            diameter: OnceLock::new(),
            centre: OnceLock::new(),
            count: OnceLock::new(),
            pyradiomics: OnceLock::new(),
        }
    }

    /// Whether this is the shape of `mask` (same grid, same voxels).
    pub fn is_of(&self, mask: &Volume<bool>) -> bool {
        // Compared in memory order when both lie alike (as the pipeline's do): ndarray's `==`
        // compares x-fastest arrays voxel by voxel, a branch each.
        let (a, b) = (&self.mask.data, &mask.data);
        let same = match (a.as_slice_memory_order(), b.as_slice_memory_order()) {
            (Some(x), Some(y)) if a.dim() == b.dim() && a.strides() == b.strides() => x == y,
            _ => a == b,
        };
        self.mask.grid == mask.grid && same
    }

    /// The IBSI surface mesh (3.1).
    pub fn mesh(&self) -> &Mesh {
        self.mesh.get_or_init(|| surface_mesh(&self.mask.data, self.mask.grid.spacing))
    }

    /// (volume, area) of the mesh.
    pub fn mesh_measures(&self) -> (f64, f64) {
        *self.mesh_measures.get_or_init(|| (self.mesh().volume(), self.mesh().area()))
    }

    /// (volume, area) of the mesh's axis-aligned bounding box.
    pub fn aabb(&self) -> (f64, f64) {
        *self.aabb.get_or_init(|| {
            let b = axis_aligned_bounding_box(self.mesh());
            (b.volume(), b.area())
        })
    }

    /// The largest distance between two mesh vertices.
    pub fn max_diameter(&self) -> f64 {
        *self.diameter.get_or_init(|| self.hull().max_diameter())
    }

    /// The number of voxels in the mask.
    pub fn voxel_count(&self) -> usize {
        *self.count.get_or_init(|| ndarray::Zip::from(&self.mask.data).fold(0, |n, &m| n + usize::from(m)))
    }

    /// The mean position (mm, from the grid's first voxel) of the mask's voxels.
    pub fn centre(&self) -> [f64; 3] {
        *self.centre.get_or_init(|| {
            let s = self.mask.grid.spacing;
            let mut sum = [0.0; 3];
            // Memory order (x fastest): the same order for any number of threads.
            ndarray::Zip::indexed(&self.mask.data).for_each(|(x, y, z), &m| {
                if m {
                    sum[0] += x as f64 * s[0];
                    sum[1] += y as f64 * s[1];
                    sum[2] += z as f64 * s[2];
                }
            });
            sum.map(|v| v / self.voxel_count() as f64)
        })
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
    pub fn mvee(&self) -> Result<(f64, f64), MorphologyError> {
        self.mvee
            .get_or_init(|| {
                minimum_volume_enclosing_ellipsoid(&self.hull().vertices, MVEE_TOLERANCE)
                    .map(|e| (e.volume(), e.area()))
            })
            .clone()
    }

    /// The mask's half of Moran's I and Geary's C, for an intensity mask equal to this
    /// shape's mask.
    pub fn autocorrelation_weights(&self) -> Result<&AutocorrelationWeights, MorphologyError> {
        self.autocorrelation
            .get_or_init(|| {
                autocorrelation_weights(&self.mask.data, self.mask.grid.spacing, AutocorrelationMethod::Auto)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// PyRadiomics' `pyr_shape` data, if [`Shape::prefetch_while`] computed it. Never computed
    /// on demand: the extraction builds it without this shape's caches, which the features
    /// may be filling at the same time on other threads.
    pub fn pyradiomics_if_computed(&self) -> Option<&SourceData> {
        self.pyradiomics.get()
    }

    /// Compute the parts in `needs` one after another while `go_on()` holds, checked before
    /// each part: for a thread that has only until the image is read (what is left is
    /// computed later by whoever needs it, with the same functions). Returns whether all
    /// parts were computed.
    pub fn prefetch_while(&self, needs: ShapeNeeds, go_on: impl Fn() -> bool) -> bool {
        let steps: [(bool, &dyn Fn()); 12] = [
            (needs.mesh, &|| {
                self.mesh_measures();
            }),
            (needs.aabb, &|| {
                self.aabb();
            }),
            (needs.centre || needs.count, &|| {
                self.centre();
            }),
            (needs.pca, &|| {
                self.pca();
            }),
            (needs.hull, &|| {
                self.hull();
            }),
            (needs.hull && needs.diameter, &|| {
                self.max_diameter();
            }),
            (needs.hull && needs.mvee, &|| {
                let _ = self.mvee();
            }),
            (needs.hull && needs.ombb, &|| {
                self.ombb();
            }),
            // PyRadiomics' shape source: its parts one by one, then the source itself.
            (needs.pyradiomics, &|| {
                self.mesh();
            }),
            (needs.pyradiomics, &|| {
                self.pca();
            }),
            (needs.pyradiomics, &|| {
                self.max_diameter();
            }),
            (needs.pyradiomics, &|| {
                self.pyradiomics.get_or_init(|| {
                    let mask = &self.mask;
                    crate::compat::pyradiomics::shape::shape_source(
                        &mask.data,
                        mask.grid.spacing,
                        self.mesh(),
                        self.max_diameter(),
                        self.pca(),
                    )
                });
            }),
        ];
        for (wanted, step) in steps {
            if wanted {
                if !go_on() {
                    return false;
                }
                step();
            }
        }
        true
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
            if needs.centre || needs.count {
                s.spawn(|_| {
                    self.centre();
                });
            }
            if needs.mesh {
                self.mesh_measures();
            }
            if needs.aabb {
                self.aabb();
            }
            if needs.hull {
                self.hull();
                if needs.diameter {
                    s.spawn(|_| {
                        self.max_diameter();
                    });
                }
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

#[cfg(test)]
mod tests {
    use super::Calls;

    fn calls_any(texts: &[&str], names: &[&str]) -> bool {
        Calls::in_texts(texts).any(names)
    }

    #[test]
    fn a_call_is_the_name_then_an_opening_parenthesis() {
        let texts = ["mesh_volume() / 3", "x + ombb_area_2(y)", "morans_i"];
        assert!(calls_any(&texts, &["mesh_volume"]));
        // The name must be followed by `(`: a longer name or a bare mention is no call.
        assert!(!calls_any(&texts, &["ombb_area"]));
        assert!(!calls_any(&texts, &["morans_i"]));
        assert!(calls_any(&texts, &["gearys_c", "ombb_area_2"]));
        // A name that occurs first without, then with, a parenthesis.
        assert!(calls_any(&["pca_eigenvalue + pca_eigenvalue(1)"], &["pca_eigenvalue"]));
        assert!(!calls_any(&[], &["mesh_volume"]));
        // At a text's start, after punctuation, non-ASCII names, and a space before `(`.
        assert!(calls_any(&["n_voxels()"], &["n_voxels"]));
        assert!(calls_any(&["2*(é_n_voxels(x))"], &["n_voxels"]));
        assert!(!calls_any(&["n_voxels (x)"], &["n_voxels"]));
    }

    proptest::proptest! {
        /// The one-pass scan answers as searching each text for `name(` does.
        #[test]
        fn the_scan_answers_as_a_search_for_name_and_parenthesis(
            texts in proptest::collection::vec("[a-c_( .é]{0,24}", 0..4),
            name in "[a-c_]{1,3}",
        ) {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let searched = texts.iter().any(|t| t.contains(&format!("{name}(")));
            proptest::prop_assert_eq!(calls_any(&texts, &[name.as_str()]), searched);
        }
    }
}
