//! From (image, mask, settings) to a processed case: the IBSI processing chain of
//! `radx_core::processing`, applied in the IBSI's order (manual fig. 2.1).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use radx_core::processing::{discretise, resample, resegment};
use radx_core::roi::{self, LabelSelection, Roi};
use radx_core::{BoundingBox, CoreError, Volume};

use crate::Error;
use crate::arrays::{self, VoxelArray};
pub use crate::model::ProcessedCase;
use crate::profile::contract::{BoxedMask, ImagePart, Resampled, SliceResampling};
use crate::settings::{Binning, Settings};
use crate::shape::{Shape, ShapeNeeds};
use radx_io::{RegionRead, RegionRequest, VoxelType};
use radx_plugin_host::Margin;

/// The radius of the local-intensity sphere (1 cm³), in mm.
const LOCAL_INTENSITY_REACH_MM: f64 = 6.2035;

/// How far around the ROI (mm, on the grid features are computed on) the chain keeps the
/// image: the local-intensity sphere's radius (6.2 mm), or a filter's reach when larger,
/// so that filtering the crop gives the whole image's response inside the ROI.
#[derive(Debug, Clone, Copy)]
struct Reach {
    mm: [f64; 3],
    /// A filter's response depends on the whole image (periodic boundary, Fourier-domain
    /// filter): nothing is cropped.
    whole_image: bool,
    /// PyRadiomics' `preCrop` (without resampling): exactly this many voxels around the
    /// ROI's box, as PyRadiomics crops before filtering, whatever the filters.
    pre_crop: Option<usize>,
}

impl Reach {
    /// How far the chain keeps the image: the features' reach ([`Reach::of_features`]),
    /// or the loaded plugins' margin when larger (`Settings::plugin_margin`).
    fn of(settings: &Settings, spacing: [f64; 3]) -> Reach {
        let mut reach = Reach::of_features(settings, spacing);
        match settings.plugin_margin {
            Margin::None => {}
            Margin::Mm(mm) => reach.mm = reach.mm.map(|m| m.max(mm)),
            Margin::WholeImage => reach.whole_image = true,
        }
        reach
    }

    /// The reach of `settings`' filters on a grid of `spacing` (the interpolation grid's
    /// when the chain interpolates): the crop the features are computed on.
    fn of_features(settings: &Settings, spacing: [f64; 3]) -> Reach {
        let pre_crop = settings
            .pyradiomics
            .as_ref()
            .filter(|p| p.pre_crop && settings.resample.is_none())
            .map(|p| p.pad_distance as usize);
        let mut reach = Reach { mm: [LOCAL_INTENSITY_REACH_MM; 3], whole_image: false, pre_crop };
        for filter in settings.filters.iter().filter_map(|f| f.spec.build().ok()) {
            match filter.margin(spacing) {
                radx_filters::Margin::WholeImage => reach.whole_image = true,
                radx_filters::Margin::Voxels(m) => {
                    for a in 0..3 {
                        reach.mm[a] = reach.mm[a].max(m[a] as f64 * spacing[a]);
                    }
                }
            }
        }
        reach
    }

    /// Voxels of margin on a grid of `spacing`. `resampling`: the crop is interpolated
    /// afterwards, so the kernels need more.
    fn margin(&self, spacing: [f64; 3], resampling: bool) -> [usize; 3] {
        if let Some(pad) = self.pre_crop {
            return [pad; 3];
        }
        if self.whole_image {
            // BoundingBox::grown clamps to the image; this stays far from overflowing.
            return [1 << 40; 3];
        }
        // The cubic-spline prefilter is an IIR filter whose influence decays as 0.268^n:
        // 12 voxels bring it below 1e-6 of an intensity step.
        let extra = if resampling { resample::SPLINE_PAD + 2 } else { 1 };
        // Capped: a header's absurd spacing (1e-40 mm) must not overflow; the box is clamped
        // to the image anyway.
        std::array::from_fn(|a| (self.mm[a] / spacing[a]).ceil().min(1e6) as usize + extra)
    }
}

/// Voxels of margin the local-intensity features need around the ROI on a grid of `spacing`
/// (what the chain keeps without filters).
pub(crate) fn local_intensity_margin(spacing: [f64; 3]) -> [usize; 3] {
    Reach { mm: [LOCAL_INTENSITY_REACH_MM; 3], whole_image: false, pre_crop: None }.margin(spacing, false)
}

/// The spacing of the grid features (and filters) are computed on: the interpolation
/// grid's, or the image's.
fn feature_spacing(image_grid: &radx_core::Grid, settings: &Settings) -> [f64; 3] {
    match &settings.resample {
        Some(r) => {
            resample::aligned_grid(image_grid, r.spacing, r.in_plane_only).map_or(image_grid.spacing, |g| g.spacing)
        }
        None => image_grid.spacing,
    }
}

fn core_err(image: &Path, mask: &Path) -> impl Fn(CoreError) -> Error {
    let context = format!("{} with mask {}", image.display(), mask.display());
    move |source| Error::Core { context: context.clone(), source }
}

/// Read image and mask (within `settings.max_memory` together) and run the processing chain.
///
/// Only the ROI's box (plus the crop margin) of the image is kept: the mask is read first
/// as a compact boolean mask, and the image, inflated concurrently on a second thread,
/// keeps the slices' rows inside the box (see [`radx_io::read_region_when_known`]). The
/// result is identical to [`process`] on the whole volumes. PyRadiomics normalisation
/// needs statistics of the whole image, so with `settings.normalise` both volumes are read
/// whole and handed to [`process`].
///
/// The memory budget is charged what the streamed readers hold (the image's slices, the
/// label map's rows, the box's voxels: [`crate::memory::streamed_read`]), checked before
/// the box is decoded; whole volumes (normalisation) are charged whole.
pub fn process_files(
    image: &Path,
    mask: &Path,
    roi: LabelSelection,
    settings: &Settings,
) -> Result<ProcessedCase, Error> {
    process_files_with_shape(image, mask, roi, settings, ShapeNeeds::default()).map(|(case, _)| case)
}

/// [`process_files`], also computing the parts of the ROI's [`Shape`] in `needs` while the
/// image is read, when the mask alone determines the shape (no interpolation, no
/// re-segmentation of the morphological mask). The shape is returned for
/// [`crate::host::CaseHost::with_shape`], which uses it only if it is the processed case's.
pub fn process_files_with_shape(
    image: &Path,
    mask: &Path,
    roi: LabelSelection,
    settings: &Settings,
    needs: ShapeNeeds,
) -> Result<(ProcessedCase, Option<Shape>), Error> {
    process_files_beside(image, mask, roi, settings, needs, || ()).0
}

/// [`process_files_with_shape`], also running `beside` exactly once: on the core that
/// reading the image leaves idle, before the shape, when the early shape applies; otherwise
/// on a thread of its own while the case is read and processed. For one case that hides
/// work such as compiling the feature library.
pub fn process_files_beside<T: Send>(
    image: &Path,
    mask: &Path,
    roi: LabelSelection,
    settings: &Settings,
    needs: ShapeNeeds,
    beside: impl FnOnce() -> T + Send,
) -> (Result<(ProcessedCase, Option<Shape>), Error>, T) {
    if !early_shape(settings, needs) {
        // Run before the read, `beside` (~10 ms compiling the library) delayed the whole
        // read; beside it, it takes the core the image's reader leaves (the resampling
        // by slice, or the box's decoding, keep the other core only partly busy).
        return std::thread::scope(|scope| {
            let beside = scope.spawn(beside);
            let processed = process_files_running(image, mask, roi, settings, needs, &mut None::<fn() -> T>, &mut None);
            (processed, beside.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
    }
    let mut beside = Some(beside);
    let mut done = None;
    let processed = process_files_running(image, mask, roi, settings, needs, &mut beside, &mut done);
    let done = match (done, beside) {
        (Some(done), _) => done,
        (None, Some(beside)) => beside(),
        (None, None) => unreachable!("`beside` runs when it is taken"),
    };
    (processed, done)
}

fn process_files_running<T: Send>(
    image: &Path,
    mask: &Path,
    selection: LabelSelection,
    settings: &Settings,
    needs: ShapeNeeds,
    beside: &mut Option<impl FnOnce() -> T + Send>,
    done: &mut Option<T>,
) -> Result<(ProcessedCase, Option<Shape>), Error> {
    let early = early_shape(settings, needs);
    if needs_whole_image(settings) {
        // The profile's own grid reads only the part of the image it resamples, the label
        // map as the ROI's box (dropping non-finite voxels may move the box: read whole then).
        if settings.normalise.is_none()
            && !settings.exclude_nonfinite
            && let Some(processed) = process_files_on_own_grid(image, mask, selection, settings, needs)?
        {
            return Ok(processed);
        }
        let img = radx_io::read_volume_with(image, &settings.read_options(settings.max_memory))?;
        let left = settings.max_memory.saturating_sub((img.data.len() as u64).saturating_mul(8));
        let labels = radx_io::read_volume_with(mask, &settings.read_options(left))?;
        crate::timings::mark("image and label map read whole");
        let pixel = crate::VolumeSource::Path(image.to_path_buf()).pixel_type();
        let processed = process_typed(&img, pixel, &labels, selection, settings).map_err(core_err(image, mask))?;
        return Ok((processed, None));
    }
    let (image_grid, roi, shape) = read_roi(image, mask, selection, settings, early.then_some((needs, beside, done)))?;
    let case = process_roi(roi, image_grid, settings, true).map_err(core_err(image, mask))?;
    crate::timings::mark("processed (re-segmented, discretised)");
    Ok((case, shape))
}

/// Whether the ROI's shape is computed while the image is read: the mask alone determines
/// it (no interpolation, no re-segmentation of the morphological mask) and some is needed.
fn early_shape(settings: &Settings, needs: ShapeNeeds) -> bool {
    needs.any() && settings.resample.is_none() && !settings.resegment.shape
}

/// Run `beside`, then compute `needs` of `shape` and the mask's half of Moran's I / Geary's
/// C, on one thread, leaving the other cores to the thread that inflates the image (and, in
/// a batch, to the other cases). The shape's parts are computed only while the image is
/// still being read (`reading` is still set): what is left is computed with the features,
/// on every core, by the same functions, so the results do not depend on which happened.
/// `beside` comes first: the features need it as soon as the image is read.
fn prefetch_beside_reading<T: Send>(
    shape: &Shape,
    needs: ShapeNeeds,
    beside: impl FnOnce() -> T + Send,
    reading: &AtomicBool,
) -> T {
    let work = || {
        let done = beside();
        let still_reading = || reading.load(Ordering::Relaxed);
        if shape.prefetch_while(needs, still_reading) {
            crate::timings::mark("shape computed (while the image is read)");
            if needs.autocorrelation() && still_reading() {
                let _ = shape.autocorrelation_weights();
                crate::timings::mark("Moran/Geary weights computed (while the image is read)");
            }
        }
        done
    };
    on_one_thread(work)
}

/// Run `work` in a pool of one thread, so that its own parallel iterators keep to one core,
/// and wait for it. Called from a worker of another pool (a batch's), `install` would not
/// just wait: the worker would run that pool's other jobs meanwhile, i.e. start other cases
/// on top of this one's stack, case after case (a 1-job batch of 400 small cases overflowed
/// its stack, its memory growing all the way). A plain thread in between only waits.
fn on_one_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else { return work() };
    if rayon::current_thread_index().is_none() {
        return pool.install(work);
    }
    std::thread::scope(|scope| {
        scope.spawn(|| pool.install(work)).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Bytes of one voxel of `info`'s file (8 when the type is unknown).
fn disk_voxel_bytes(info: &radx_io::ImageInfo) -> u64 {
    VoxelType::ALL.into_iter().find(|t| t.name() == info.datatype).map_or(8, |t| t.size() as u64)
}

/// The budgets of the streamed readers: the image's reader charges its slices
/// ([`radx_io::region_reader_bytes`]), refused here already when they exceed the budget (a
/// header's absurd size is reported as such, before the grids are compared); the label
/// map's reader gets what they leave.
fn streamed_read_options(
    path: &Path,
    image: &radx_io::ImageInfo,
    settings: &Settings,
) -> Result<(radx_io::ReadOptions, radx_io::ReadOptions), radx_io::IoError> {
    let reader = radx_io::region_reader_bytes(image.grid.dims, disk_voxel_bytes(image));
    if reader > settings.max_memory {
        return Err(radx_io::IoError::TooLarge {
            path: path.to_path_buf(),
            needed: reader,
            budget: settings.max_memory,
        });
    }
    Ok((settings.read_options(settings.max_memory), settings.read_options(settings.max_memory - reader)))
}

/// Once the label map is read: the image's reader, the label map's rows and the box about
/// to be decoded ([`crate::memory::streamed_read`]) against the budget.
fn check_streamed_read(
    image: &radx_io::ImageInfo,
    labels: &radx_io::LabelMask,
    bbox: &BoundingBox,
    settings: &Settings,
) -> Result<(), CoreError> {
    let [x, y, z] = bbox.dims();
    let bytes = crate::memory::streamed_read(image.grid.dims, disk_voxel_bytes(image), labels.bytes(), bbox.dims());
    let what = format!("the ROI's {x} × {y} × {z} voxel box of a {:?} voxel image", image.grid.dims);
    crate::memory::Need::new(crate::memory::Phase::Read, bytes, what).check(settings.max_memory)
}

/// The cropped ROI of an (image, mask) pair and the image's whole grid, reading only the
/// voxels the chain needs. Applies what [`process`] does before cropping: the label-map
/// check and, with `exclude_nonfinite`, dropping NaN and infinite voxels from the ROI.
fn read_roi<T: Send>(
    image: &Path,
    mask: &Path,
    selection: LabelSelection,
    settings: &Settings,
    early: Option<(ShapeNeeds, &mut Option<impl FnOnce() -> T + Send>, &mut Option<T>)>,
) -> Result<(radx_core::Grid, Roi, Option<Shape>), Error> {
    let core = core_err(image, mask);
    let image_info = radx_io::read_info(image)?;
    let image_grid = image_info.grid;
    let mask_grid = radx_io::read_info(mask)?.grid;
    let (image_opts, mask_opts) = streamed_read_options(image, &image_info, settings)?;
    image_grid.check_matches(&mask_grid, settings.geometry_tolerance).map_err(|e| core(e.into()))?;
    let reach = Reach::of(settings, feature_spacing(&image_grid, settings));
    let margin = reach.margin(image_grid.spacing, settings.resample.is_some());
    let (sender, receiver) = std::sync::mpsc::channel();
    let reading = AtomicBool::new(true);
    let mut refused = None;
    // The image, whose inflation is the case's longest serial step, is read on this thread,
    // which is running already; the mask and the work beside it go to a new thread. The
    // other way round, the image waited for the new thread to be scheduled: on a 2-core VM,
    // a median 1.7 ms (up to 3 ms) for a thread started while this one keeps its core busy.
    let (region, (labels, shape)) = std::thread::scope(|scope| {
        let side = scope.spawn(|| {
            let labels = radx_io::read_label_mask(mask, selection, &mask_opts);
            crate::timings::mark("mask read");
            let mut shape = None;
            if let Ok(l @ radx_io::LabelMask { bbox: Some(b), fractional: None, .. }) = &labels {
                let bbox = b.grown(margin, image_grid.dims);
                if let Err(e) = check_streamed_read(&image_info, l, &bbox, settings) {
                    // Dropping the sender stops the image reader before it holds the box.
                    refused = Some(e);
                    return (labels, None);
                }
                // The receiver only goes away when the image reader failed; its error is reported below.
                let _ = sender.send(bbox);
                drop(sender);
                if let (Some((mut needs, beside, done)), Ok(l)) = (early, &labels) {
                    // The cropped mask as the ROI will hold it (see the crop below).
                    let cropped = l.crop(&bbox);
                    // Weights or a surface over the budget are left to the check after processing to refuse.
                    let weights = || radx_core::morphology::autocorrelation_bytes(&cropped.data);
                    if needs.autocorrelation() && weights() > settings.max_memory {
                        needs = needs.without_autocorrelation();
                    }
                    let surface = crate::limits::shape_need(&cropped.data, cropped.grid.spacing, needs);
                    if surface.is_some_and(|need| need.bytes > settings.max_memory) {
                        needs = needs.without_surface();
                    }
                    let s = Shape::new(cropped);
                    *done = beside.take().map(|f| prefetch_beside_reading(&s, needs, f, &reading));
                    shape = Some(s);
                }
            } else {
                drop(sender);
            }
            (labels, shape)
        });
        let region = radx_io::read_region_when_known(image, receiver, &image_opts);
        reading.store(false, Ordering::Relaxed);
        (region, side.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    crate::timings::mark("image region read");
    if let Some(e) = refused {
        return Err(core(e));
    }
    let (labels, region) = match (labels, region) {
        (_, Err(e)) | (Err(e), _) => return Err(e.into()),
        (Ok(l), Ok(region)) => {
            if let Some((value, [x, y, z])) = l.fractional {
                return Err(core(CoreError::NotLabelMap { value, x, y, z }));
            }
            match region {
                Some((_, region)) => (l, region),
                None => return Err(label_absent(mask, selection, &mask_opts, &core)),
            }
        }
    };
    let bbox = labels.bbox.ok_or_else(|| core(CoreError::EmptyRoi(String::new())))?.grown(margin, image_grid.dims);
    let cropped_mask = labels.crop(&bbox);
    drop(labels);
    let roi = roi_of_region(region, cropped_mask, &bbox, margin, settings).map_err(core)?;
    Ok((image_grid, roi, shape))
}

/// [`process`] for a profile's own resampling grid, reading what it needs only: the label
/// map as the selected ROI's box and, inflated meanwhile, the part of the image that the
/// profile's [`Profile::resampling_region`] names for that box. When the profile resamples
/// that part slice by slice ([`Profile::slice_resampling`]: PyRadiomics' B-spline), the
/// thread that read the label map takes the slices as they are inflated, so that the image
/// is resampled mostly by the time it is read. Checks and errors as [`process_typed`]'s:
/// grids that differ, a label map with fractional values, an absent label; a damaged image
/// gives its reader's error. The budget is charged as for [`process`]. `None` when the
/// profile has no grid of its own.
///
/// [`Profile::resampling_region`]: crate::profile::Profile::resampling_region
/// [`Profile::slice_resampling`]: crate::profile::Profile::slice_resampling
/// With a streamed region, the ROI's mask is put on the profile's grid and the `needs` of
/// its shape computed on a thread of their own while the image is read.
fn process_files_on_own_grid(
    image: &Path,
    mask: &Path,
    selection: LabelSelection,
    settings: &Settings,
    needs: ShapeNeeds,
) -> Result<Option<(ProcessedCase, Option<Shape>)>, Error> {
    let core = core_err(image, mask);
    let image_info = radx_io::read_info(image)?;
    let image_grid = image_info.grid;
    let mask_grid = radx_io::read_info(mask)?.grid;
    let (image_opts, mask_opts) = streamed_read_options(image, &image_info, settings)?;
    image_grid.check_matches(&mask_grid, settings.geometry_tolerance).map_err(|e| core(e.into()))?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let reading = AtomicBool::new(true);
    let (part, labels) = std::thread::scope(|scope| {
        let side = scope.spawn(|| {
            let labels = radx_io::read_label_mask(mask, selection, &mask_opts);
            crate::timings::mark("mask read");
            let request = labels.as_ref().ok().and_then(|l| request_region(&image_info, l, settings));
            let (request, resampling) = match request {
                Some(Ok(request)) => request,
                // Dropping the sender stops the image reader before it holds the box.
                Some(Err(refused)) => return (labels, Some(Err(refused))),
                None => return (labels, None),
            };
            let region = *request.bbox();
            // The receiver only goes away when the image reader failed; its error is reported below.
            let _ = sender.send(request);
            drop(sender);
            let roi_box = labels.as_ref().ok().and_then(|l| Some((l, l.bbox?)));
            let streamed = match (resampling, roi_box) {
                (Some((r, slices)), Some((l, bbox))) => {
                    let boxed = BoxedMask { bbox, inside: l.crop(&bbox) };
                    let onto = r.mask_onto_grid();
                    let shaped = scope.spawn(|| mask_and_shape_beside_reading(onto, boxed, needs, settings, &reading));
                    let resampling = resample_slices(r, &slices);
                    let mask = shaped.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    Some(Streamed { resampling, mask })
                }
                _ => None,
            };
            (labels, Some(Ok::<Sent, CoreError>((region, streamed))))
        });
        let part = radx_io::read_region_as_requested(image, receiver, &image_opts);
        reading.store(false, Ordering::Relaxed);
        (part, side.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let (labels, sent) = labels;
    let sent = sent.transpose().map_err(&core)?;
    let labels = labels?;
    if let Some((value, [x, y, z])) = labels.fractional {
        return Err(core(CoreError::NotLabelMap { value, x, y, z }));
    }
    let Some(bbox) = labels.bbox else { return Err(label_absent(mask, selection, &mask_opts, &core)) };
    let boxed = BoxedMask { bbox, inside: labels.crop(&bbox) };
    drop(labels);
    let Some((resampled, shape)) = resample_read_part(part?, sent, &image_info, &boxed, settings).map_err(&core)?
    else {
        return Ok(None);
    };
    process_resampled(resampled, settings).map(|p| Some((p, shape))).map_err(core)
}

/// What the side thread of [`process_files_on_own_grid`] sent the image's reader: the
/// region, with what it made of the slices when the region was streamed.
type Sent = (BoundingBox, Option<Streamed>);

/// A streamed region's side: the slice resampling fed every slice, and the ROI's mask on
/// its grid with the shape computed from it while the image was read.
struct Streamed {
    resampling: Result<Box<dyn SliceResampling>, CoreError>,
    mask: Result<(Volume<bool>, Option<Shape>), CoreError>,
}

/// Put the ROI's mask on the profile's grid, then compute `needs` of the shape the features
/// will see (the mask cropped as [`process_resampled`] crops it) while the image is read:
/// on the core the image's reader leaves (its parallel parts on one thread), what is left
/// computed with the features by the same functions. The features use the shape only if
/// their case's mask is this one ([`crate::host::CaseHost::with_shape`]): re-segmentation
/// may change it.
fn mask_and_shape_beside_reading(
    onto: crate::profile::contract::MaskOntoGrid,
    boxed: BoxedMask,
    needs: ShapeNeeds,
    settings: &Settings,
    reading: &AtomicBool,
) -> Result<(Volume<bool>, Option<Shape>), CoreError> {
    let mask = onto(&boxed)?;
    drop(boxed);
    let spacing = mask.grid.spacing;
    let margin = Reach::of(settings, spacing).margin(spacing, false);
    let shape = needs.any().then(|| roi::crop_box(&mask, margin)).flatten().map(|bbox| Shape::new(mask.crop(&bbox)));
    if let Some(shape) = &shape {
        let computed = on_one_thread(|| shape.prefetch_while(needs, || reading.load(Ordering::Relaxed)));
        if computed {
            crate::timings::mark("shape computed on the resampled mask (while the image is read)");
        }
    }
    Ok((mask, shape))
}

/// The image part read for the profile's own grid resampled there: finished by slice when
/// streamed, else given whole to [`crate::profile::Profile::resample`]. `None` when no region
/// was sent and the profile has no grid of its own (an error when it refuses the ROI's box).
fn resample_read_part(
    part: Option<RegionRead>,
    sent: Option<Sent>,
    image_info: &radx_io::ImageInfo,
    boxed: &BoxedMask,
    settings: &Settings,
) -> Result<Option<(Resampled, Option<Shape>)>, CoreError> {
    let profile = crate::profile::of(settings);
    match (part, sent) {
        (Some(RegionRead::Streamed(_)), Some((_, Some(Streamed { resampling: Ok(resampling), mask })))) => {
            crate::timings::mark("image region read and resampled by slice");
            let (mask, shape) = mask?;
            resampling.finish(mask).map(|r| Some((r, shape)))
        }
        // The resampling refused a slice (and so stopped the reader).
        (_, Some((_, Some(Streamed { resampling: Err(e), .. })))) => Err(e),
        (Some(RegionRead::Kept(_, part)), Some((region, None))) => {
            crate::timings::mark("image region read");
            let image_part = ImagePart { whole: &image_info.grid, offset: region.min, voxels: &part };
            let pixel = crate::case::pixel_type_of(image_info);
            Ok(profile.resample(image_part, pixel, boxed, settings).transpose()?.map(|r| (r, None)))
        }
        // No region was sent: the profile has no grid of its own, or it refuses the box.
        _ => match profile.resampling_region(&image_info.grid, &boxed.bbox, settings) {
            Some(Err(e)) => Err(e),
            _ => Ok(None),
        },
    }
}

/// Slices of the image's region in flight between its reader and the resampling: in the
/// channel, besides the one being decoded and the one being resampled.
const SLICES_IN_FLIGHT: usize = 2;

/// How the image's region is read for the profile's own grid, once the label map is read:
/// the region to keep, or to stream to the profile's [`crate::profile::contract::SliceResampling`]
/// with the receiving end of its slices. `None` when the label map has no box or fractional
/// values, or the profile has no grid of its own; an error when the profile or the budget
/// refuses the box.
fn request_region(
    image_info: &radx_io::ImageInfo,
    labels: &radx_io::LabelMask,
    settings: &Settings,
) -> Option<Result<(RegionRequest, Option<Feed>), CoreError>> {
    let radx_io::LabelMask { bbox: Some(b), fractional: None, .. } = labels else { return None };
    let profile = crate::profile::of(settings);
    let image_grid = &image_info.grid;
    let region = match profile.resampling_region(image_grid, b, settings)? {
        Ok(region) => region,
        // Reported after reading, as the profile's own refusal.
        Err(_) => return None,
    };
    let pixel = crate::case::pixel_type_of(image_info);
    let Some(resampling) = profile.slice_resampling(image_grid, b, pixel, settings) else {
        // The interpolation's need (the profile checks it) includes the part read; the
        // reader's slices and the label map's rows come on top.
        return Some(
            check_streamed_read(image_info, labels, &region, settings).map(|()| (RegionRequest::Keep(region), None)),
        );
    };
    let checked = resampling.and_then(|r| {
        let bytes = crate::memory::sliced_read(
            image_info.grid.dims,
            disk_voxel_bytes(image_info),
            labels.bytes(),
            r.bytes(),
            region.dims(),
            SLICES_IN_FLIGHT + 2,
        );
        let [x, y, z] = region.dims();
        let what = format!("the {x} × {y} × {z} voxel part of a {:?} voxel image resampled by slice", image_grid.dims);
        crate::memory::Need::new(crate::memory::Phase::Read, bytes, what).check(settings.max_memory).map(|()| r)
    });
    Some(checked.map(|r| {
        let (slices, received) = std::sync::mpsc::sync_channel(SLICES_IN_FLIGHT);
        (RegionRequest::Stream(region, slices), Some((r, received)))
    }))
}

/// A slice resampling and the receiving end of the slices the image's reader sends it.
type Feed = (Box<dyn SliceResampling>, Receiver<Vec<f64>>);

/// Give `resampling` the region's slices as the reader sends them, until it stops (the
/// last slice, or a read error, which the reader reports). A slice refused drops the
/// receiver, which stops the reader.
fn resample_slices(
    mut resampling: Box<dyn SliceResampling>,
    slices: &Receiver<Vec<f64>>,
) -> Result<Box<dyn SliceResampling>, CoreError> {
    for slice in slices.iter() {
        resampling.push_slice(&slice)?;
    }
    crate::timings::mark("image slices resampled in x and y (while the image is read)");
    Ok(resampling)
}

/// The error for a label map without the selected label, listing the labels it has (read
/// whole, once).
fn label_absent(
    mask: &Path,
    selection: LabelSelection,
    opts: &radx_io::ReadOptions,
    core: &impl Fn(CoreError) -> Error,
) -> Error {
    match radx_io::read_volume_with(mask, opts) {
        Ok(all) => core(CoreError::LabelAbsent { label: selection, present: roi::present_labels(&all) }),
        Err(e) => e.into(),
    }
}

/// Whether the chain cannot start from the ROI's box grown by a margin: whole-image
/// normalisation (both volumes are read whole), a profile's own resampling grid (from files
/// the part of the image it resamples is read: `process_files_on_own_grid`).
pub(crate) fn needs_whole_image(settings: &Settings) -> bool {
    settings.normalise.is_some() || resamples_on_own_grid(settings)
}

/// Whether the settings resample onto their profile's own grid ([`Profile::resample`]).
///
/// [`Profile::resample`]: crate::profile::Profile::resample
fn resamples_on_own_grid(settings: &Settings) -> bool {
    settings.resample.is_some() && crate::profile::of(settings).resamples_on_own_grid()
}

/// The ROI from the image's `region` (the ROI's box grown by `margin`, `bbox` in whole-image
/// indices) and the mask cropped to the same box: what [`process`] makes of the whole volumes.
fn roi_of_region(
    region: Volume<f64>,
    mut cropped_mask: Volume<bool>,
    bbox: &BoundingBox,
    margin: [usize; 3],
    settings: &Settings,
) -> Result<Roi, CoreError> {
    // Outside the box the mask is empty: dropping non-finite voxels there changes nothing.
    drop_nonfinite(&region, &mut cropped_mask, settings);
    if settings.exclude_nonfinite && radx_core::volume::count_true(&cropped_mask.data) == 0 {
        return Err(CoreError::EmptyRoi(" after excluding NaN and infinite voxels".into()));
    }
    // Cropping again with the same margin keeps the ROI's box plus margin (a sub-box of the
    // region) and applies crop_to_roi's checks (non-finite intensities, reported at whole-image
    // indices as `process` reports them).
    roi::into_roi(region, cropped_mask, margin, settings.geometry_tolerance).map_err(|e| match e {
        CoreError::NonFinite { count, x, y, z } => {
            CoreError::NonFinite { count, x: x + bbox.min[0], y: y + bbox.min[1], z: z + bbox.min[2] }
        }
        other => other,
    })
}

/// [`process`] on the caller's arrays (image and label map, as named in errors), reading
/// them as [`process_files`] reads files: the label map is scanned once in its own voxel
/// type, and only the ROI's box (plus the chain's margin) of the image becomes `f64`; the
/// same result. Settings that need the whole image are for [`process`].
pub(crate) fn process_arrays(
    (image_name, image): (&str, &dyn VoxelArray),
    (mask_name, mask): (&str, &dyn VoxelArray),
    selection: LabelSelection,
    settings: &Settings,
) -> Result<ProcessedCase, Error> {
    let context = format!("{image_name} with mask {mask_name}");
    let core = |source| Error::Core { context: context.clone(), source };
    let image_grid = image.grid();
    image_grid.check_matches(&mask.grid(), settings.geometry_tolerance).map_err(|e| core(e.into()))?;
    let scan = arrays::scan_labels(mask, selection);
    if let Some((value, [x, y, z])) = scan.fractional {
        return Err(core(CoreError::NotLabelMap { value, x, y, z }));
    }
    let Some(bbox) = scan.bbox else {
        return Err(core(CoreError::LabelAbsent { label: selection, present: arrays::labels_present(mask) }));
    };
    let margin = Reach::of(settings, feature_spacing(&image_grid, settings))
        .margin(image_grid.spacing, settings.resample.is_some());
    let bbox = bbox.grown(margin, image_grid.dims);
    // The caller's arrays are read in place: the box, as `f64` and its mask, is what is allocated.
    let [x, y, z] = bbox.dims();
    let what = format!("the ROI's {x} × {y} × {z} voxel box of a {:?} voxel array", image_grid.dims);
    let bytes = crate::memory::f64_bytes(bbox.dims()).saturating_add(crate::memory::f64_bytes(bbox.dims()) / 8);
    crate::memory::Need::new(crate::memory::Phase::Read, bytes, what).check(settings.max_memory).map_err(core)?;
    let region = arrays::region(image, &bbox);
    let cropped_mask = arrays::selected_in(mask, selection, &bbox);
    crate::timings::mark("image region converted");
    let roi = roi_of_region(region, cropped_mask, &bbox, margin, settings).map_err(core)?;
    process_roi(roi, image_grid, settings, true).map_err(core)
}

/// A label map holds whole numbers (within the 1e-3 that `select_label` allows for float
/// masks): a fractional value means a probability map, which would silently select nothing
/// or the wrong voxels.
fn check_label_map(labels: &Volume<f64>) -> Result<(), CoreError> {
    for ((x, y, z), &value) in labels.data.indexed_iter() {
        // NaN fails the comparison too.
        let whole = (value - value.round()).abs() < 1e-3;
        if !whole {
            return Err(CoreError::NotLabelMap { value, x, y, z });
        }
    }
    Ok(())
}

/// Name the settings key behind a discretisation error of the core.
fn name_binning_key(e: CoreError) -> CoreError {
    match e {
        CoreError::InvalidSetting { name: "bin width", reason } => {
            CoreError::InvalidSetting { name: "discretisation.texture.width", reason }
        }
        CoreError::InvalidSetting { name: "bin lower bound", reason } => {
            CoreError::InvalidSetting { name: "discretisation.texture.lower_bound", reason }
        }
        other => other,
    }
}

/// With `exclude_nonfinite`, take NaN and infinite voxels out of `mask` (IBSI 2.5 treats
/// re-segmentation the same way: voxels without a usable intensity leave the ROI).
fn drop_nonfinite(image: &Volume<f64>, mask: &mut Volume<bool>, settings: &Settings) {
    if settings.exclude_nonfinite {
        mask.data.zip_mut_with(&image.data, |m, v| *m &= v.is_finite());
    }
}

/// Run the processing chain on volumes already in memory (of unknown pixel type: see
/// [`process_typed`]).
pub fn process(
    image: &Volume<f64>,
    labels: &Volume<f64>,
    selection: LabelSelection,
    settings: &Settings,
) -> Result<ProcessedCase, CoreError> {
    process_typed(image, None, labels, selection, settings)
}

/// [`process`] of an image whose pixel type is `pixel` when known (its file's or array's:
/// [`crate::VolumeSource::pixel_type`]), which a profile's resampling may need.
pub fn process_typed(
    image: &Volume<f64>,
    pixel: Option<VoxelType>,
    labels: &Volume<f64>,
    selection: LabelSelection,
    settings: &Settings,
) -> Result<ProcessedCase, CoreError> {
    image.grid.check_matches(&labels.grid, settings.geometry_tolerance)?;
    check_label_map(labels)?;
    let mut mask = roi::select_label(labels, selection)?;
    drop_nonfinite(image, &mut mask, settings);
    if settings.exclude_nonfinite && radx_core::volume::count_true(&mask.data) == 0 {
        return Err(CoreError::EmptyRoi(" after excluding NaN and infinite voxels".into()));
    }
    let normalised;
    let (image, pixel) = match &settings.normalise {
        Some(n) => {
            normalised = crate::compat::pyradiomics::processing::normalise_image(image, n)?;
            // SimpleITK's Normalize gives float64 whatever the input.
            (&normalised, Some(VoxelType::F64))
        }
        None => (image, pixel),
    };
    if resamples_on_own_grid(settings) {
        let boxed = BoxedMask::of(&mask).ok_or_else(|| CoreError::EmptyRoi(String::new()))?;
        if let Some(resampled) = crate::profile::of(settings).resample(ImagePart::whole(image), pixel, &boxed, settings)
        {
            return process_resampled(resampled?, settings);
        }
    }
    let margin = Reach::of(settings, feature_spacing(&image.grid, settings))
        .margin(image.grid.spacing, settings.resample.is_some());
    let roi = roi::crop_to_roi(image, &mask, margin, settings.geometry_tolerance)?;
    process_roi(roi, image.grid, settings, true)
}

/// The chain after a profile's own resampling ([`resamples_on_own_grid`]): the resampled
/// image and ROI mask cropped, re-segmented and discretised.
fn process_resampled((img, m): Resampled, settings: &Settings) -> Result<ProcessedCase, CoreError> {
    crate::timings::mark("resampled onto the profile's grid");
    let margin = Reach::of(settings, img.grid.spacing).margin(img.grid.spacing, false);
    let roi = roi::crop_to_roi(&img, &m, margin, settings.geometry_tolerance)
        .map_err(|_| CoreError::EmptyRoi(" after interpolation".into()))?;
    process_roi(roi, img.grid, settings, false)
}

/// The chain after cropping: interpolation, re-segmentation, discretisation.
/// `image_grid` is the whole image's grid (the interpolation grid is aligned to it).
/// `interpolate` is false when the ROI was already interpolated (PyRadiomics' grid).
fn process_roi(
    mut roi: Roi,
    image_grid: radx_core::Grid,
    settings: &Settings,
    interpolate: bool,
) -> Result<ProcessedCase, CoreError> {
    let mut interpolated_grid = image_grid;
    if let Some(r) = settings.resample.as_ref().filter(|_| interpolate) {
        let full = resample::aligned_grid(&image_grid, r.spacing, r.in_plane_only)?;
        let reach = Reach::of(settings, full.spacing);
        interpolated_grid = full;
        // Resample only the part of the aligned grid that covers the (unmargined) ROI box;
        // the crop margin gives the kernels the same neighbours as the whole image.
        // Keep the local-intensity margin around the ROI in the resampled image too.
        let roi_box = BoundingBox::of_mask(&roi.morphological)
            .ok_or_else(|| CoreError::EmptyRoi(String::new()))?
            .grown(reach.margin(roi.image.grid.spacing, false), roi.image.grid.dims);
        let roi_region = resample::sub_grid(&roi.image.grid, &roi_box);
        crate::limits::check_resampling_extent(roi.image.grid.dims, &roi_region, &full, settings)?;
        let bbox = resample::covering_box(&full, &roi_region)
            .ok_or_else(|| CoreError::EmptyRoi(" after interpolation".into()))?;
        let target = resample::sub_grid(&full, &bbox);
        crate::limits::check_resampling(roi.image.grid.dims, &target, settings)?;
        let mut img = resample::resample_image(&roi.image, &target, r.image_interpolator.kernel())?;
        let cropped_mask = Volume { grid: roi.image.grid, data: roi.morphological.clone() };
        let mut m = resample::resample_mask(&cropped_mask, &target, r.mask_interpolator.kernel(), r.mask_threshold)?;
        // Interpolation spreads a NaN to its neighbours: drop those too.
        drop_nonfinite(&img, &mut m, settings);
        if r.round_intensities {
            resample::round_intensities(&mut img);
        }
        roi = roi::crop_to_roi(&img, &m, reach.margin(target.spacing, false), settings.geometry_tolerance)
            .map_err(|_| CoreError::EmptyRoi(" after interpolation".into()))?;
    }
    let interpolated_count = radx_core::volume::count_true(&roi.morphological);
    // Before re-segmentation, which may shrink the morphological mask whose box the crop is.
    let plugin_boxes = plugin_boxes(&roi, settings);

    let range = settings
        .resegment
        .range
        .map(|bounds| crate::compat::pyradiomics::processing::resegment_bounds(&roi, bounds, settings.resegment.mode))
        .map(|[lo, hi]| (lo.is_finite().then_some(lo), hi.is_finite().then_some(hi)));
    resegment::resegment(&mut roi, range, settings.resegment.outlier_sigma)?;
    if settings.resegment.shape {
        roi.morphological.clone_from(&roi.intensity);
    }
    let plugin_region = plugin_boxes.map(|[features, plugins]| {
        let region = crop_roi(&roi, &plugins);
        roi = crop_roi(&roi, &features);
        region
    });
    crate::profile::of(settings).check_roi(&roi, settings)?;
    if roi.intensity_count() == 0 {
        return Err(CoreError::EmptyRoi(" after re-segmentation".into()));
    }

    let resegment_min = settings.resegment.range.map(|r| r[0]).filter(|v| v.is_finite());
    let (levels, bin_lower_bound) = discretise_roi(&roi, &settings.discretisation.texture, resegment_min)?;
    Ok(ProcessedCase { roi, levels, bin_lower_bound, interpolated_grid, interpolated_count, plugin_region })
}

/// With a plugin margin, `roi` holds more than the features' crop: the box of that crop
/// (what the chain keeps without plugins) and the plugins' region's, both in `roi`'s
/// indices; `None` without a plugin margin.
fn plugin_boxes(roi: &Roi, settings: &Settings) -> Option<[BoundingBox; 2]> {
    let spacing = roi.image.grid.spacing;
    let dims = roi.image.grid.dims;
    let bbox = BoundingBox::of_mask(&roi.morphological)?;
    let plugins = match settings.plugin_margin {
        Margin::None => return None,
        Margin::Mm(mm) => bbox.grown(spacing.map(|s| voxels_within(mm, s)), dims),
        Margin::WholeImage => BoundingBox { min: [0; 3], max: dims.map(|d| d - 1) },
    };
    // The crop the chain makes without plugins: the same box grown by the same margin,
    // clamped to the image (the larger crop reaches the image's edge wherever this would).
    let features = bbox.grown(Reach::of_features(settings, spacing).margin(spacing, false), dims);
    Some([features, plugins])
}

/// Whole voxels of `spacing` within `mm` (capped: an absurd margin is the image anyway).
pub(crate) fn voxels_within(mm: f64, spacing: f64) -> usize {
    (mm / spacing).ceil().min(1e6) as usize
}

/// `roi` within `bbox`, x-fastest as the chain's arrays.
pub(crate) fn crop_roi(roi: &Roi, bbox: &BoundingBox) -> Roi {
    let mask = |m: &ndarray::Array3<bool>| {
        use ndarray::ShapeBuilder;
        let ([nx, ny, nz], o) = (bbox.dims(), bbox.min);
        ndarray::Array3::from_shape_fn((nx, ny, nz).f(), |(x, y, z)| m[[o[0] + x, o[1] + y, o[2] + z]])
    };
    Roi { image: roi.image.crop(bbox), morphological: mask(&roi.morphological), intensity: mask(&roi.intensity) }
}

/// Discretise the ROI's intensities (IBSI 2.7) with `binning`. A fixed bin size starts at
/// its own lower bound, else at `default_lower_bound`, else at the ROI's minimum; the
/// bound used is returned with the levels.
pub(crate) fn discretise_roi(
    roi: &Roi,
    binning: &Binning,
    default_lower_bound: Option<f64>,
) -> Result<(radx_core::matrix::DiscretisedRoi, Option<f64>), CoreError> {
    Ok(match binning {
        Binning::FixedBinNumber { bins } => (discretise::discretise_fixed_bin_number(roi, *bins)?, None),
        Binning::FixedBinSize { width, lower_bound } => {
            let lb = lower_bound
                .or(default_lower_bound)
                .unwrap_or_else(|| roi.intensities().into_iter().fold(f64::INFINITY, f64::min));
            (discretise::discretise_fixed_bin_size(roi, *width, lb).map_err(name_binning_key)?, Some(lb))
        }
        Binning::PyradiomicsBinWidth { width } => (discretise::discretise_pyradiomics_bin_width(roi, *width)?, None),
        Binning::PyradiomicsBinCount { bins } => (discretise::discretise_pyradiomics_bin_count(roi, *bins)?, None),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// From inside a pool, the work runs while the caller waits, and the caller starts none
    /// of its own pool's other jobs meanwhile: jobs never nest.
    #[test]
    fn one_thread_work_inside_a_pool_does_not_nest_that_pools_jobs() {
        use rayon::prelude::*;
        let outer = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let (depth, deepest, ran) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        outer.install(|| {
            (0..16).into_par_iter().for_each(|_| {
                let d = depth.fetch_add(1, Ordering::SeqCst) + 1;
                deepest.fetch_max(d, Ordering::SeqCst);
                let inner = super::on_one_thread(|| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    (0..100).into_par_iter().map(|k| k as u64).sum::<u64>()
                });
                assert_eq!(inner, 4950);
                ran.fetch_add(1, Ordering::SeqCst);
                depth.fetch_sub(1, Ordering::SeqCst);
            })
        });
        assert_eq!(ran.load(Ordering::SeqCst), 16);
        assert_eq!(deepest.load(Ordering::SeqCst), 1, "a job started inside another");
    }

    /// A 30×30×20 image of 1 × 1 × 2 mm voxels (intensity x + 30y + 900z) with a 2×2×2
    /// ROI at [14..=15, 14..=15, 9..=10].
    fn cube_case() -> (radx_core::Volume<f64>, radx_core::Volume<f64>) {
        use ndarray::ShapeBuilder;
        let grid = radx_core::Grid::new([30, 30, 20], [1.0, 1.0, 2.0]);
        let image = ndarray::Array3::from_shape_fn((30, 30, 20).f(), |(x, y, z)| (x + 30 * y + 900 * z) as f64);
        let inside = |i: usize, lo: usize| (lo..=lo + 1).contains(&i);
        let labels = ndarray::Array3::from_shape_fn((30, 30, 20).f(), |(x, y, z)| {
            f64::from(u8::from(inside(x, 14) && inside(y, 14) && inside(z, 9)))
        });
        (radx_core::Volume { grid, data: image }, radx_core::Volume { grid, data: labels })
    }

    /// A plugin margin keeps the ROI's box grown by that many mm beside the features' crop,
    /// which stays what it is without plugins; the whole-image margin keeps the image.
    #[test]
    fn a_plugin_margin_keeps_a_region_beside_an_unchanged_crop() {
        use radx_plugin_host::Margin;
        let (image, labels) = cube_case();
        let selection = radx_core::roi::LabelSelection::Label(1);
        let plain = super::process(&image, &labels, selection, &crate::Settings::default()).unwrap();
        assert!(plain.plugin_region.is_none());
        let settings = crate::Settings { plugin_margin: Margin::Mm(10.0), ..Default::default() };
        let with = super::process(&image, &labels, selection, &settings).unwrap();
        assert_eq!(with.roi.image.data, plain.roi.image.data);
        assert_eq!(with.roi.image.grid.dims, plain.roi.image.grid.dims);
        assert_eq!((&with.roi.morphological, &with.roi.intensity), (&plain.roi.morphological, &plain.roi.intensity));
        assert_eq!(with.levels.levels, plain.levels.levels);
        // 10 mm (more than the 6.2 mm the features keep): 10 voxels along x and y, 5 slices
        // of 2 mm along z → [4..=25, 4..=25, 4..=15].
        let region = with.plugin_region.expect("a region");
        assert_eq!(region.image.grid.dims, [22, 22, 12]);
        assert_eq!(region.image.data[[0, 0, 0]], (4 + 30 * 4 + 900 * 4) as f64);
        assert_eq!(radx_core::volume::count_true(&region.morphological), 8);
        assert!(region.morphological[[10, 10, 5]] && region.morphological[[11, 11, 6]]);
        let whole = crate::Settings { plugin_margin: Margin::WholeImage, ..Default::default() };
        let with = super::process(&image, &labels, selection, &whole).unwrap();
        assert_eq!(with.roi.image.data, plain.roi.image.data);
        assert_eq!(with.plugin_region.expect("a region").image.grid.dims, [30, 30, 20]);
    }
}
