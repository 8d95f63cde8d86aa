//! Voxel-wise feature maps: for every ROI voxel, the chosen families' features computed on
//! the window around it: a cube of `r` voxels a side each way, or a sphere in mm ([`Window`]).
//!
//! Each window is extracted like a case: a small [`ProcessedCase`] is cut from the processed
//! case (its image, masks and grey levels), and [`crate::extract::extract_with_plugins`]
//! evaluates the families on it, so every family (built-in, a user's `.radx`, a plugin's
//! source) is mapped the same way, with the same values a segment-based extraction of that
//! window would give.
//!
//! Two modes, as PyRadiomics' voxel-based extraction (`voxelSetting`):
//! - **masked** (`maskedKernel: true`): only ROI voxels inside the window count; the grey
//!   levels are discretised once over the whole ROI (not per window);
//! - **unmasked** (`maskedKernel: false`): every image voxel inside the window counts; the
//!   grey levels are discretised once over the ROI's bounding box grown by the radius (the
//!   image PyRadiomics crops for a voxel-based extraction).
//!
//! In both modes the map has a value at every voxel of the ROI's intensity mask (after
//! re-segmentation) and the init value elsewhere. Windows are computed in parallel; each
//! window's values depend on that window only, so the maps are the same bits for any number
//! of threads. Only the original image is mapped (not the settings' filters).

mod preview;

use rayon::prelude::*;

use radx_core::matrix::DiscretisedRoi;
use radx_core::roi::Roi;
use radx_core::volume::BoundingBox;
use radx_core::{Grid, Volume};

use crate::case::Case;
use crate::extractor::Extractor;
use crate::library::LibraryFamily;
use crate::model::{FeatureKey, ProcessedCase};
pub use preview::preview;

/// Sources computed over the whole ROI (its surface, the whole image's intensity peak):
/// meaningless in a window, so their families cannot be mapped.
const WHOLE_ROI_SOURCES: &[&str] = &["morph", "li", "pyr_shape", "pyr_shape2D"];

/// The neighbourhood of a voxel that its window covers (clipped at the image's edges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// A (2r + 1)³ cube of voxels (PyRadiomics' `kernelRadius`).
    Cube(usize),
    /// A (2r + 1)² square of voxels in the centre voxel's slice (constant z): PyRadiomics'
    /// kernel with `force2D`, whose offsets leave the slice's axis out.
    Square(usize),
    /// The voxels whose centres lie within this many mm of the centre voxel's: a sphere in
    /// the patient's space, so anisotropic voxels give fewer voxels along the coarse axis.
    Sphere(f64),
}

impl Window {
    /// How many voxels the window reaches from its centre along each axis.
    fn reach(self, spacing: [f64; 3]) -> [usize; 3] {
        match self {
            Window::Cube(r) => [r; 3],
            Window::Square(r) => [r, r, 0],
            // The tolerance keeps a voxel exactly R mm away (R = 2 × 1 mm) inside.
            Window::Sphere(mm) => spacing.map(|s| (mm / s * (1.0 + 1e-12)).floor() as usize),
        }
    }

    /// Whether the voxel `offset` voxels from the centre is in the window (within `reach`).
    fn contains(self, offset: [isize; 3], spacing: [f64; 3]) -> bool {
        match self {
            Window::Cube(_) | Window::Square(_) => true,
            Window::Sphere(mm) => {
                let d2: f64 = (0..3).map(|a| (offset[a] as f64 * spacing[a]).powi(2)).sum();
                d2 <= mm * mm * (1.0 + 1e-12)
            }
        }
    }

    /// A request that cannot give a window: a cube of radius 0, a sphere that holds no voxel
    /// but its centre, or a window covering the whole image along every axis.
    fn check(self, spacing: [f64; 3], dims: [usize; 3]) -> Result<(), crate::Error> {
        let smallest = spacing.iter().copied().fold(f64::INFINITY, f64::min);
        match self {
            Window::Cube(0) | Window::Square(0) => {
                return Err(crate::Error::Usage("the map's radius must be at least 1 voxel".into()));
            }
            Window::Sphere(mm) if mm.is_nan() || mm < smallest => {
                return Err(crate::Error::Usage(format!(
                    "the map's sphere of {mm} mm holds only its centre voxel: give at least the smallest voxel \
                     spacing, {smallest} mm"
                )));
            }
            _ => {}
        }
        let reach = self.reach(spacing);
        if (0..3).all(|a| reach[a] >= dims[a]) {
            return Err(crate::Error::Usage(format!(
                "the map's window ({}) is larger than the image ({}×{}×{} voxels)",
                self.describe(),
                dims[0],
                dims[1],
                dims[2]
            )));
        }
        Ok(())
    }

    /// The same kind of window (in the slice or not) with radius `r` voxels; a sphere
    /// becomes a cube.
    pub fn with_radius(self, r: usize) -> Window {
        match self {
            Window::Square(_) => Window::Square(r),
            Window::Cube(_) | Window::Sphere(_) => Window::Cube(r),
        }
    }

    fn describe(self) -> String {
        match self {
            Window::Cube(r) => format!("radius {r} voxels"),
            Window::Square(r) => format!("radius {r} voxels in the slice"),
            Window::Sphere(mm) => format!("sphere of {mm} mm"),
        }
    }
}

/// How a feature map is computed.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// The window around each voxel.
    pub window: Window,
    /// Only ROI voxels inside the window count (PyRadiomics' `maskedKernel: true`).
    pub masked: bool,
    /// The maps' value outside the ROI.
    pub init_value: f64,
    /// Families to map, by name; empty = every family of the library whose source is not a
    /// whole-ROI one (morphology, local intensity, PyRadiomics' shape).
    pub families: Vec<String>,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions { window: Window::Cube(1), masked: true, init_value: f64::NAN, families: Vec::new() }
    }
}

impl MapOptions {
    /// PyRadiomics' `voxelSetting` of the extractor's settings, when it has one (radius,
    /// masked kernel, init value; with `force2D` the kernel stays in the slice); `None`
    /// otherwise.
    pub fn from_voxel_setting(settings: &crate::Settings) -> Option<MapOptions> {
        let options = settings.pyradiomics.as_ref()?;
        let v = options.voxel_setting.as_ref()?;
        Some(MapOptions {
            window: if options.force_2d { Window::Square(v.kernel_radius) } else { Window::Cube(v.kernel_radius) },
            masked: v.masked_kernel,
            init_value: v.init_value,
            families: Vec::new(),
        })
    }
}

/// Feature maps of one case: the value of every feature at every ROI voxel. The values are
/// kept per ROI voxel (voxel-major); [`FeatureMaps::volume`] places one feature on the image
/// grid, so a caller writing maps holds one whole volume at a time.
#[derive(Debug, Clone)]
pub struct FeatureMaps {
    /// Each map's feature, in the extraction's row order.
    pub keys: Vec<FeatureKey>,
    /// Each map's tag (IBSI tag or PyRadiomics' name), as the feature rows carry.
    pub tags: Vec<Option<String>>,
    /// The processed image's grid (after any interpolation): the maps' grid.
    pub grid: Grid,
    /// The ROI voxels with a value, as indices on `grid`, x-fastest order.
    pub voxels: Vec<[usize; 3]>,
    /// `values[v * keys.len() + f]`: feature `f` at voxel `voxels[v]`.
    pub values: Vec<f64>,
    /// The value outside the ROI.
    pub init_value: f64,
    /// Per map, why some of its values are NaN (the first reason met, in voxel order).
    pub notes: Vec<Option<String>>,
    /// The processed image's slice through the ROI's middle, which [`preview`] draws.
    pub middle_slice: MiddleSlice,
}

/// The processed image's slice through the ROI's middle (the median z of its voxels), as
/// far as the maps' crop reaches: what a picture of the maps shows under them.
#[derive(Debug, Clone)]
pub struct MiddleSlice {
    /// The slice's z index on [`FeatureMaps::grid`].
    pub z: usize,
    /// The grid's (x, y) index of the slice's first voxel.
    pub origin: [usize; 2],
    /// The processed intensities, `[x, y]`.
    pub image: ndarray::Array2<f64>,
    /// The ROI's voxels (after re-segmentation: those the maps have values at), `[x, y]`.
    pub roi: ndarray::Array2<bool>,
}

impl MiddleSlice {
    /// The slice of `processed` at crop index `z`; `offset` is the crop's first voxel on the grid.
    fn of(processed: &ProcessedCase, z: usize, offset: [usize; 3]) -> MiddleSlice {
        // `index_axis`, not ndarray's `s!`, whose expansion this crate's `forbid(unsafe_code)` refuses.
        let z_axis = ndarray::Axis(2);
        MiddleSlice {
            z: z + offset[2],
            origin: [offset[0], offset[1]],
            image: processed.roi.image.data.index_axis(z_axis, z).to_owned(),
            roi: processed.roi.intensity.index_axis(z_axis, z).to_owned(),
        }
    }
}

impl FeatureMaps {
    /// Feature `feature`'s map on [`FeatureMaps::grid`], the init value outside the ROI.
    pub fn volume(&self, feature: usize) -> Volume<f64> {
        let mut volume = Volume::filled(self.grid, self.init_value);
        self.place(feature, &mut volume);
        volume
    }

    /// Put feature `feature`'s values on `volume`, a map of these maps (from
    /// [`FeatureMaps::volume`]): every map has values at the same voxels and the init value
    /// elsewhere, so one volume serves each map in turn without being allocated again.
    pub fn place(&self, feature: usize, volume: &mut Volume<f64>) {
        debug_assert_eq!(volume.grid.dims, self.grid.dims);
        for (index, value) in self.values_of(feature) {
            volume.data[index] = value;
        }
    }

    /// Feature `feature`'s values with their grid indices, in [`FeatureMaps::voxels`]' order:
    /// what a writer sets on a volume of the init value.
    pub fn values_of(&self, feature: usize) -> impl Iterator<Item = ([usize; 3], f64)> + '_ {
        let n = self.keys.len();
        self.voxels.iter().enumerate().map(move |(v, index)| (*index, self.values[v * n + feature]))
    }

    /// The value of feature `feature` at the grid index `index`, if it is a ROI voxel.
    pub fn value_at(&self, feature: usize, index: [usize; 3]) -> Option<f64> {
        let v = self.voxels.iter().position(|i| *i == index)?;
        Some(self.values[v * self.keys.len() + feature])
    }

    /// Map `index`'s name: `<image_type>_<family>_<feature>[_<aggregation>]`, e.g.
    /// `original_glcm_joint_entropy_3d_avg` (PyRadiomics' names, `original_glcm_JointEntropy`,
    /// are whole already); `/` and `\\` become `_` so the name is a file name.
    pub fn name(&self, index: usize) -> String {
        let key = &self.keys[index];
        let prefix = format!("{}_{}_", key.image_type, key.family);
        let mut name = if key.feature.starts_with(&prefix) { key.feature.clone() } else { prefix + &key.feature };
        if let Some(a) = key.aggregation {
            name.push('_');
            name.push_str(a.name());
        }
        name.chars().map(|c| if c == '/' || c == '\\' { '_' } else { c }).collect()
    }

    /// The index of the map of `key`.
    pub fn position(&self, key: &FeatureKey) -> Option<usize> {
        self.keys.iter().position(|k| k == key)
    }
}

/// Which of a window's rows a map outputs, in which order and under which names: the
/// profile's [`output_selection`](crate::profile::contract::Profile::output_selection)
/// worked out once, on the first window. Every window has the same rows (the library's, for
/// the same sources and aggregations), so the others keep only their values and notes.
struct OutputPlan {
    keys: Vec<FeatureKey>,
    tags: Vec<Option<String>>,
    /// `slot[i]`: the output row that window row `i` is, if it is output.
    slot: Vec<Option<usize>>,
}

impl OutputPlan {
    fn of(
        rows: &[crate::model::FeatureRow],
        profile: &dyn crate::profile::contract::Profile,
        settings: &crate::Settings,
        own_names: bool,
    ) -> OutputPlan {
        let output = profile.output_selection(rows, settings, own_names);
        let mut slot = vec![None; rows.len()];
        for (k, out) in output.iter().enumerate() {
            debug_assert!(slot[out.row].is_none(), "a profile outputs each row once");
            slot[out.row] = Some(k);
        }
        let (keys, tags) = output.into_iter().map(|out| (out.key, rows[out.row].tag.clone())).unzip();
        OutputPlan { keys, tags, slot }
    }

    /// Put one window's output values in `out`, from its rows as
    /// [`crate::extract::window_values`] gives them; returns the output rows' notes.
    fn fill(
        &self,
        window_values: impl FnOnce(&mut dyn FnMut(f64, Option<String>)),
        out: &mut [f64],
    ) -> Vec<(usize, String)> {
        let mut notes = Vec::new();
        let mut row = 0;
        window_values(&mut |value, note| {
            if let Some(&Some(k)) = self.slot.get(row) {
                out[k] = value;
                if let Some(note) = note {
                    notes.push((k, note));
                }
            }
            row += 1;
        });
        debug_assert_eq!(row, self.slot.len(), "every window gives the first window's rows");
        notes
    }
}

/// Map the families of `extractor` chosen by `options` over `case` (see the module's text).
///
/// # Errors
/// The case's own errors (reading, processing); [`crate::Error::Usage`] for a window that
/// is empty or covers the whole image ([`Window`]), a family that is unknown or needs the whole ROI, or an unmasked map with interpolation or
/// normalisation (the image outside the ROI's crop is not processed).
pub fn feature_maps(extractor: &Extractor, case: &Case, options: &MapOptions) -> Result<FeatureMaps, crate::Error> {
    let library = choose_families(&extractor.library, &options.families)?;
    if !options.masked && (extractor.settings.resample.is_some() || extractor.settings.normalise.is_some()) {
        return Err(crate::Error::Usage(
            "unmasked maps are computed on the image as read: remove the settings' interpolation and normalisation, \
             or use a masked map"
                .into(),
        ));
    }
    let processed = extractor.process(case)?;
    let full = processed.interpolated_grid;
    let offset = crop_offset(&full, &processed.roi.image.grid);
    let dims = processed.roi.image.grid.dims;
    options.window.check(full.spacing, full.dims)?;
    // The ROI voxels, x-fastest, in the crop's indices.
    let mut centres = Vec::new();
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                if processed.roi.intensity[[x, y, z]] {
                    centres.push([x, y, z]);
                }
            }
        }
    }
    let unmasked =
        if options.masked { None } else { Some(unmasked_case(extractor, case, &processed, offset, options)?) };
    let (base, base_offset) = match &unmasked {
        Some((p, o)) => (p, *o),
        None => (&processed, [0isize; 3]),
    };
    let settings = &extractor.settings;
    let profile = crate::profile::of(settings);
    let grey_levels = grey_levels_for(&library, settings);
    // The crop's voxel in the base case (a voxel of the ROI, so inside it).
    let window_of = |centre: [usize; 3]| {
        let c = [0, 1, 2].map(|a| (centre[a] as isize + base_offset[a]) as usize);
        window_case(base, c, options.window)
    };
    let Some(&first) = centres.first() else {
        return Err(crate::Error::Core {
            context: case.describe(),
            source: radx_core::CoreError::EmptyRoi(String::new()),
        });
    };
    let first_rows =
        crate::extract::extract_window(&window_of(first), settings, &library, &extractor.plugins, grey_levels);
    let window_plan = crate::extract::WindowPlan::new(&library, &extractor.plugins);
    let plan = OutputPlan::of(&first_rows, profile, settings, extractor.pyradiomics_names);
    let n = plan.keys.len();
    check_maps(extractor, &processed, unmasked.as_ref().map(|(p, _)| p), (centres.len(), n), full.dims)
        .map_err(|source| crate::Error::Core { context: case.describe(), source })?;
    let mut values = vec![0.0; n * centres.len()];
    // (With no map, `values` is empty and no window is computed: chunks cannot be empty.)
    let window_notes: Vec<Vec<(usize, String)>> = values
        .par_chunks_mut(n.max(1))
        .zip(centres.par_iter())
        .map(|(out, &centre)| {
            let window = window_of(centre);
            let plugins = &extractor.plugins;
            plan.fill(
                |sink| crate::extract::window_values(&window_plan, &window, settings, plugins, grey_levels, sink),
                out,
            )
        })
        .collect();
    crate::timings::mark_with(|| format!("{} map windows computed", centres.len()));
    // Each map's first note in voxel order, whatever the thread count.
    let mut notes: Vec<Option<String>> = vec![None; n];
    for (f, note) in window_notes.into_iter().flatten() {
        notes[f].get_or_insert(note);
    }
    let OutputPlan { keys, tags, .. } = plan;
    // Centres run x-fastest, so their z is sorted: the middle one's is the median.
    let middle_slice = MiddleSlice::of(&processed, centres[centres.len() / 2][2], offset);
    let voxels = centres.iter().map(|c| [c[0] + offset[0], c[1] + offset[1], c[2] + offset[2]]).collect::<Vec<_>>();
    Ok(FeatureMaps { keys, tags, grid: full, voxels, values, init_value: options.init_value, notes, middle_slice })
}

/// Refuse maps whose values (`centres` × `features`) and output volume on a grid of `grid`
/// voxels, beside the processed ROI (and the unmasked case), would not fit the budget
/// ([`crate::memory::maps`]).
fn check_maps(
    extractor: &Extractor,
    processed: &ProcessedCase,
    unmasked: Option<&ProcessedCase>,
    (centres, features): (usize, usize),
    grid: [usize; 3],
) -> Result<(), radx_core::CoreError> {
    let held = [Some(processed), unmasked]
        .into_iter()
        .flatten()
        .fold(0u64, |sum, p| sum.saturating_add(crate::memory::processed_bytes(p.roi.image.grid.dims)));
    let bytes = crate::memory::maps(held, centres as u64, features as u64, grid);
    let what = format!("{features} maps of {centres} ROI voxels on a {:?} voxel grid", grid);
    crate::memory::Need::new(crate::memory::Phase::Maps, bytes, what).check(extractor.settings.max_memory)
}

/// The families to map: those named (in the library's order), or every family whose source
/// is not a whole-ROI one.
fn choose_families(library: &[LibraryFamily], names: &[String]) -> Result<Vec<LibraryFamily>, crate::Error> {
    let whole_roi = |f: &LibraryFamily| WHOLE_ROI_SOURCES.contains(&f.family.source().name.as_str());
    for name in names {
        match library.iter().find(|f| f.family.name() == name) {
            None => {
                let known: Vec<&str> = library.iter().filter(|f| !whole_roi(f)).map(|f| f.family.name()).collect();
                return Err(crate::Error::Usage(format!(
                    "no family `{name}` in the library; families that can be mapped: {}",
                    known.join(", ")
                )));
            }
            Some(f) if whole_roi(f) => {
                return Err(crate::Error::Usage(format!(
                    "family `{name}` is computed over the whole ROI (source `{}`) and cannot be mapped in a window",
                    f.family.source().name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(library
        .iter()
        .filter(|f| if names.is_empty() { !whole_roi(f) } else { names.iter().any(|n| n == f.family.name()) })
        .cloned()
        .collect())
}

/// IBSI texture sources whose data can keep only a window's grey levels (`Levels::Present`).
const TEXTURE_SOURCES: &[&str] = &["cm", "rlm", "szm", "dzm", "ngl"];

/// The windows' matrices keep only the grey levels they count when every family over an IBSI
/// texture source is one of the profile's own: their features are sums weighted by the
/// matrix's entries, so an absent level adds nothing; a user's family over those sources
/// might use the levels otherwise, so it gets every level, as in a case's extraction.
fn grey_levels_for(library: &[LibraryFamily], settings: &crate::Settings) -> crate::sources::Levels {
    let own = crate::profile::of(settings).library();
    let own_family = |f: &LibraryFamily| own.iter().any(|(name, _)| *name == f.origin);
    let texture = |f: &LibraryFamily| TEXTURE_SOURCES.contains(&f.family.source().name.as_str());
    if library.iter().filter(|f| texture(f)).all(own_family) {
        crate::sources::Levels::Present
    } else {
        crate::sources::Levels::All
    }
}

/// Index of the crop's first voxel on the whole grid (same spacing and direction).
fn crop_offset(full: &Grid, crop: &Grid) -> [usize; 3] {
    let d = [crop.origin[0] - full.origin[0], crop.origin[1] - full.origin[1], crop.origin[2] - full.origin[2]];
    let mut offset = [0; 3];
    for (a, o) in offset.iter_mut().enumerate() {
        // Column `a` of the direction matrix is index axis `a`'s world direction.
        let along: f64 = (0..3).map(|r| full.direction[r][a] * d[r]).sum();
        *o = (along / full.spacing[a]).round().max(0.0) as usize;
    }
    offset
}

/// The case PyRadiomics' unmasked kernels see: the image in the ROI's box grown by the
/// radius (clipped to the image), every voxel in both masks, discretised over that box; the
/// returned offset is the processed crop's first voxel in it.
fn unmasked_case(
    extractor: &Extractor,
    case: &Case,
    processed: &ProcessedCase,
    crop_offset: [usize; 3],
    options: &MapOptions,
) -> Result<(ProcessedCase, [isize; 3]), crate::Error> {
    let settings = &extractor.settings;
    let image = case.image.load(&settings.read_options(settings.max_memory))?;
    let roi_box = BoundingBox::of_mask(&processed.roi.intensity).expect("the processed ROI has voxels");
    let in_full = BoundingBox {
        min: [0, 1, 2].map(|a| roi_box.min[a] + crop_offset[a]),
        max: [0, 1, 2].map(|a| roi_box.max[a] + crop_offset[a]),
    };
    let grown = in_full.grown(options.window.reach(image.grid.spacing), image.grid.dims);
    let cut = image.crop(&grown);
    let all = ndarray::Array3::from_elem(cut.data.raw_dim(), true);
    let roi = Roi { image: cut, morphological: all.clone(), intensity: all };
    let (levels, bin_lower_bound) =
        crate::pipeline::discretise_roi(&roi, &extractor.settings.discretisation.texture, None)
            .map_err(|source| crate::Error::Core { context: case.describe(), source })?;
    let base = [0, 1, 2].map(|a| crop_offset[a] as isize - grown.min[a] as isize);
    let unmasked = ProcessedCase {
        roi,
        levels,
        bin_lower_bound,
        interpolated_grid: processed.interpolated_grid,
        interpolated_count: processed.interpolated_count,
        plugin_region: None,
    };
    Ok((unmasked, base))
}

/// The `window` around `centre` (indices in `case`'s crop) as a case of its own: the crop's
/// image in the window's box, its masks there (less the box's voxels outside a sphere), its
/// grey levels (discretised over the whole ROI, with the ROI's number of levels).
fn window_case(case: &ProcessedCase, centre: [usize; 3], window: Window) -> ProcessedCase {
    let dims = case.roi.image.grid.dims;
    let spacing = case.roi.image.grid.spacing;
    let reach = window.reach(spacing);
    let bbox = BoundingBox {
        min: [0, 1, 2].map(|a| centre[a].saturating_sub(reach[a])),
        max: [0, 1, 2].map(|a| (centre[a] + reach[a]).min(dims[a] - 1)),
    };
    let image = case.roi.image.crop(&bbox);
    let mut morphological = crop(&case.roi.morphological, &bbox);
    let mut intensity = crop(&case.roi.intensity, &bbox);
    let mut levels = crop(&case.levels.levels, &bbox);
    let mut level_morph = crop(&case.levels.morphological, &bbox);
    if let Window::Sphere(_) = window {
        for ((x, y, z), inside) in intensity.indexed_iter_mut() {
            let index = [x, y, z];
            let offset = [0, 1, 2].map(|a| (bbox.min[a] + index[a]) as isize - centre[a] as isize);
            if !window.contains(offset, spacing) {
                *inside = false;
                morphological[[x, y, z]] = false;
                levels[[x, y, z]] = 0;
                level_morph[[x, y, z]] = false;
            }
        }
    }
    let count = radx_core::volume::count_true(&morphological);
    ProcessedCase {
        roi: Roi { image, morphological, intensity },
        levels: DiscretisedRoi { levels, ng: case.levels.ng, morphological: level_morph, spacing: case.levels.spacing },
        bin_lower_bound: case.bin_lower_bound,
        interpolated_grid: case.interpolated_grid,
        interpolated_count: count,
        plugin_region: None,
    }
}

/// `array` inside `bbox`, x-fastest as the pipeline's arrays.
fn crop<T: Copy>(array: &ndarray::Array3<T>, bbox: &BoundingBox) -> ndarray::Array3<T> {
    use ndarray::ShapeBuilder;
    let [nx, ny, nz] = bbox.dims();
    let m = bbox.min;
    ndarray::Array3::from_shape_fn((nx, ny, nz).f(), |(x, y, z)| array[[m[0] + x, m[1] + y, m[2] + z]])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sources::Levels;

    /// A `dims` image of integer intensities from `values` (cycled) and a ROI of the voxels
    /// whose `inside` bit (cycled) is set.
    fn case(dims: [usize; 3], values: &[i16], inside: &[bool]) -> Case {
        let grid = Grid::new(dims, [1.0, 1.0, 1.5]);
        let n = dims.iter().product::<usize>();
        let image = (0..n).map(|i| f64::from(values[i % values.len()])).collect();
        let mask = (0..n).map(|i| if inside[i % inside.len()] { 1.0 } else { 0.0 }).collect();
        Case::new(Volume::from_x_fastest(grid, image), Volume::from_x_fastest(grid, mask))
    }

    /// Equal within 1e-9 relative (1e-9 absolute near 0). The two level sets sum the same
    /// terms in other orders, and cluster shade and prominence cancel cubed and fourth-power
    /// deviations of up to ~1e6: CI saw 0.36586505922 against 0.36586505923 (6e-12
    /// relative), and a symmetric matrix's shade 3e-14 against 0. A wrong level would move a
    /// value by far more than 1e-9.
    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The windows' matrices with only their grey levels (`Levels::Present`, what maps
        /// use) give every IBSI family the values of the matrices over all the ROI's levels.
        #[test]
        fn present_levels_give_the_values_of_all_levels(
            values in prop::collection::vec(-40i16..200, 7..40),
            inside in prop::collection::vec(prop::bool::weighted(0.7), 5..23),
            radius in 1usize..3,
            width in prop::sample::select(vec![10.0, 25.0]),
        ) {
            let toml = format!(
                "[discretisation.texture]\nmethod = \"fixed_bin_size\"\nwidth = {width}\nlower_bound = -100\n\
                 [texture]\naggregations = [\"3d_avg\", \"3d_mrg\", \"2d_avg\"]\n"
            );
            let extractor = Extractor::new(crate::Settings::from_toml_str(&toml).unwrap(), &[], Default::default()).unwrap();
            let case = case([6, 5, 4], &values, &inside);
            let Ok(processed) = extractor.process(&case) else { return Ok(()) };
            let library = choose_families(&extractor.library, &[]).unwrap();
            prop_assert_eq!(grey_levels_for(&library, &extractor.settings), Levels::Present);
            let dims = processed.roi.image.grid.dims;
            for centre in [[0, 0, 0], [dims[0] / 2, dims[1] / 2, dims[2] / 2], [dims[0] - 1, dims[1] - 1, dims[2] - 1]] {
                if !processed.roi.intensity[centre] {
                    continue;
                }
                let window = window_case(&processed, centre, Window::Cube(radius));
                let run = |levels| {
                    crate::extract::extract_window(&window, &extractor.settings, &library, &extractor.plugins, levels)
                };
                let (all, present) = (run(Levels::All), run(Levels::Present));
                prop_assert_eq!(all.len(), present.len());
                for (a, p) in all.iter().zip(&present) {
                    prop_assert!(same(a.value, p.value), "{:?}: all levels {}, present {}", a.key, a.value, p.value);
                }
            }
        }
    }
}
