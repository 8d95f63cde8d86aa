//! A picture of feature maps for a person to look at (`radx map --preview`): the ROI's
//! middle slice ([`MiddleSlice`]), first the processed image in grey with the ROI's outline
//! in red, then each map in the viridis colours over the ROI, the image dimmed around it.
//! Under every panel, its name and a colour bar labelled with the lowest and highest value
//! shown. NaN map voxels are magenta. Voxel x runs to the right and y down, as stored.
//!
//! Each panel's colours span that map's values on the slice (not the whole map), so the
//! slice's contrast is visible whatever the other slices hold; the labels say the span.

use radx_io::RgbPicture;

use super::{FeatureMaps, MiddleSlice};

/// The panel's title and bar labels: 8×8 glyphs.
const GLYPH: u32 = 8;
/// Panels are at least this wide, so names of ~25 characters fit on a line.
const MIN_PANEL_WIDTH: u32 = 200;
/// A panel's image is scaled by a whole factor (1 to 16) to about this many pixels across.
const TARGET_IMAGE_SIDE: u32 = 200;
const GAP: u32 = 8;
const BAR_HEIGHT: u32 = 10;
const TITLE_LINES: u32 = 2;
const BACKGROUND: [u8; 3] = [255, 255, 255];
const TEXT: [u8; 3] = [0, 0, 0];
const OUTLINE: [u8; 3] = [230, 30, 30];
const NAN_COLOUR: [u8; 3] = [255, 0, 255];

/// Viridis (matplotlib's default colour map) at nine evenly spaced points; between them
/// the colour is interpolated linearly.
const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];

/// The picture of every map of `maps` (see the module's text).
pub fn preview(maps: &FeatureMaps) -> RgbPicture {
    let slice = &maps.middle_slice;
    let view = View::around_roi(slice);
    let panels = maps.keys.len() + 1;
    let columns = (panels as f64).sqrt().ceil() as u32;
    let rows = (panels as u32).div_ceil(columns);
    let cell = view.cell_size();
    let mut picture = RgbPicture::filled(columns * cell[0] + GAP, rows * cell[1] + GAP, BACKGROUND);
    let place = |k: u32| [GAP + (k % columns) * cell[0], GAP + (k / columns) * cell[1]];
    let image = view.grey_image(slice);
    draw_panel(&mut picture, place(0), &view, "image", &image, Some(slice));
    let on_slice = voxels_on_slice(maps);
    for feature in 0..maps.keys.len() {
        let values = on_slice.iter().map(|&(v, x, y)| (x, y, maps.values[v * maps.keys.len() + feature]));
        let panel = view.map_panel(&image, values);
        draw_panel(&mut picture, place(feature as u32 + 1), &view, &maps.name(feature), &panel, None);
    }
    picture
}

/// A panel's pixels before framing: one colour per voxel of the view, and its bar.
struct Panel {
    /// `colours[y * width + x]` for the view's voxel (x, y).
    colours: Vec<[u8; 3]>,
    /// The colour bar's ends and the values they stand for (`None`: nothing to show).
    bar: Option<Bar>,
}

struct Bar {
    low: f64,
    high: f64,
    colour: fn(f64) -> [u8; 3],
}

/// The part of the slice shown: the ROI's box on it grown by a quarter of its size (at
/// least 3 voxels), within the slice; each voxel a `scale`-pixel square.
struct View {
    min: [usize; 2],
    dims: [usize; 2],
    scale: u32,
}

impl View {
    fn around_roi(slice: &MiddleSlice) -> View {
        let (nx, ny) = slice.roi.dim();
        let mut lo = [usize::MAX; 2];
        let mut hi = [0usize; 2];
        for ((x, y), &inside) in slice.roi.indexed_iter() {
            if inside {
                lo = [lo[0].min(x), lo[1].min(y)];
                hi = [hi[0].max(x), hi[1].max(y)];
            }
        }
        if lo[0] == usize::MAX {
            // No ROI voxel on the slice (cannot happen for a median slice): show it whole.
            (lo, hi) = ([0, 0], [nx - 1, ny - 1]);
        }
        let limit = [nx - 1, ny - 1];
        let min = [0, 1].map(|a| lo[a].saturating_sub(((hi[a] - lo[a] + 1) / 4).max(3)));
        let max = [0, 1].map(|a| (hi[a] + ((hi[a] - lo[a] + 1) / 4).max(3)).min(limit[a]));
        let dims = [0, 1].map(|a| max[a] - min[a] + 1);
        let longest = dims[0].max(dims[1]) as u32;
        let scale = TARGET_IMAGE_SIDE.div_ceil(longest).clamp(1, 16);
        View { min, dims, scale }
    }

    /// Each panel's cell: the image, the title above, the bar and its labels below, gaps.
    fn cell_size(&self) -> [u32; 2] {
        let [w, h] = self.image_size();
        let width = w.max(MIN_PANEL_WIDTH) + GAP;
        let height = TITLE_LINES * GLYPH + 4 + h + 4 + BAR_HEIGHT + 2 + GLYPH + GAP;
        [width, height]
    }

    fn image_size(&self) -> [u32; 2] {
        [self.dims[0] as u32 * self.scale, self.dims[1] as u32 * self.scale]
    }

    /// The slice's intensities in grey: black at the view's 1st percentile, white at its 99th.
    fn grey_image(&self, slice: &MiddleSlice) -> Panel {
        let mut values: Vec<f64> = self.voxels().map(|[x, y]| slice.image[[x, y]]).filter(|v| v.is_finite()).collect();
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values.get(((values.len() as f64 - 1.0) * q).round() as usize).copied();
        let (low, high) = (at(0.01).unwrap_or(0.0), at(0.99).unwrap_or(1.0));
        let colours = self.voxels().map(|[x, y]| grey(unit(slice.image[[x, y]], low, high))).collect();
        Panel { colours, bar: Some(Bar { low, high, colour: grey }) }
    }

    /// A map's panel: its values (on the slice's ROI voxels, `(x, y, value)` on the slice)
    /// in viridis over the ROI, the grey `image` at half brightness elsewhere.
    fn map_panel(&self, image: &Panel, values: impl Iterator<Item = (usize, usize, f64)>) -> Panel {
        let mut colours: Vec<[u8; 3]> = image.colours.iter().map(|c| c.map(|v| v / 2)).collect();
        let shown: Vec<(usize, f64)> = values.filter_map(|(x, y, v)| Some((self.index(x, y)?, v))).collect();
        let finite = shown.iter().map(|&(_, v)| v).filter(|v| v.is_finite());
        let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        for &(at, v) in &shown {
            colours[at] = if v.is_finite() { viridis(unit(v, low, high)) } else { NAN_COLOUR };
        }
        let bar = (low <= high).then_some(Bar { low, high, colour: viridis });
        Panel { colours, bar }
    }

    /// The view's voxels, x-fastest, as slice indices.
    fn voxels(&self) -> impl Iterator<Item = [usize; 2]> + '_ {
        (0..self.dims[1]).flat_map(move |y| (0..self.dims[0]).map(move |x| [x + self.min[0], y + self.min[1]]))
    }

    /// The panel index of slice voxel (x, y), if the view shows it.
    fn index(&self, x: usize, y: usize) -> Option<usize> {
        let (vx, vy) = (x.checked_sub(self.min[0])?, y.checked_sub(self.min[1])?);
        (vx < self.dims[0] && vy < self.dims[1]).then_some(vy * self.dims[0] + vx)
    }
}

/// The maps' voxels on the middle slice: (voxel number, x, y on the slice).
fn voxels_on_slice(maps: &FeatureMaps) -> Vec<(usize, usize, usize)> {
    let slice = &maps.middle_slice;
    maps.voxels
        .iter()
        .enumerate()
        .filter(|(_, index)| index[2] == slice.z)
        .filter_map(|(v, index)| {
            Some((v, index[0].checked_sub(slice.origin[0])?, index[1].checked_sub(slice.origin[1])?))
        })
        .collect()
}

/// Draw `panel` with its `title` in the cell whose top-left corner is `at`; with `outline`,
/// the ROI's edge in red.
fn draw_panel(
    picture: &mut RgbPicture,
    at: [u32; 2],
    view: &View,
    title: &str,
    panel: &Panel,
    outline: Option<&MiddleSlice>,
) {
    let [x0, y0] = at.map(i64::from);
    let chars_per_line = (view.cell_size()[0] - GAP) / GLYPH;
    for (line, text) in wrap(title, chars_per_line as usize).iter().take(TITLE_LINES as usize).enumerate() {
        draw_text(picture, x0, y0 + line as i64 * i64::from(GLYPH), text);
    }
    let top = y0 + i64::from(TITLE_LINES * GLYPH + 4);
    let s = i64::from(view.scale);
    for (k, colour) in panel.colours.iter().enumerate() {
        let (vx, vy) = ((k % view.dims[0]) as i64, (k / view.dims[0]) as i64);
        fill(picture, x0 + vx * s, top + vy * s, s, s, *colour);
    }
    if let Some(slice) = outline {
        draw_outline(picture, [x0, top], view, slice);
    }
    let [w, h] = view.image_size().map(i64::from);
    let bar_top = top + h + 4;
    let bar_width = w.max(i64::from(MIN_PANEL_WIDTH));
    if let Some(bar) = &panel.bar {
        for i in 0..bar_width {
            let colour = (bar.colour)(i as f64 / (bar_width - 1).max(1) as f64);
            fill(picture, x0 + i, bar_top, 1, i64::from(BAR_HEIGHT), colour);
        }
        let labels_top = bar_top + i64::from(BAR_HEIGHT) + 2;
        draw_text(picture, x0, labels_top, &short(bar.low));
        let high = short(bar.high);
        draw_text(picture, x0 + bar_width - (high.len() as i64) * i64::from(GLYPH), labels_top, &high);
    } else {
        draw_text(picture, x0, bar_top, "no finite value here");
    }
}

/// The ROI's edge: each ROI voxel's sides that face a voxel outside it (or the view's edge),
/// drawn as a 1-pixel line (2 for voxels of 4 pixels or more) inside the voxel's square.
fn draw_outline(picture: &mut RgbPicture, [x0, y0]: [i64; 2], view: &View, slice: &MiddleSlice) {
    let s = i64::from(view.scale);
    let t = if s >= 4 { 2 } else { 1 };
    let inside = |x: i64, y: i64| {
        x >= 0 && y >= 0 && view.index(x as usize, y as usize).is_some() && slice.roi[[x as usize, y as usize]]
    };
    for [x, y] in view.voxels() {
        let (x, y) = (x as i64, y as i64);
        if !inside(x, y) {
            continue;
        }
        let (px, py) = (x0 + (x - view.min[0] as i64) * s, y0 + (y - view.min[1] as i64) * s);
        if !inside(x - 1, y) {
            fill(picture, px, py, t, s, OUTLINE);
        }
        if !inside(x + 1, y) {
            fill(picture, px + s - t, py, t, s, OUTLINE);
        }
        if !inside(x, y - 1) {
            fill(picture, px, py, s, t, OUTLINE);
        }
        if !inside(x, y + 1) {
            fill(picture, px, py + s - t, s, t, OUTLINE);
        }
    }
}

fn fill(picture: &mut RgbPicture, x: i64, y: i64, width: i64, height: i64, colour: [u8; 3]) {
    for dy in 0..height {
        for dx in 0..width {
            picture.set(x + dx, y + dy, colour);
        }
    }
}

/// `text` in 8×8 glyphs from (x, y); characters outside ASCII are drawn as `?`.
fn draw_text(picture: &mut RgbPicture, x: i64, y: i64, text: &str) {
    for (k, c) in text.chars().enumerate() {
        let code = if c.is_ascii() { c as usize } else { '?' as usize };
        let glyph = font8x8::legacy::BASIC_LEGACY[code];
        for (row, bits) in glyph.iter().enumerate() {
            for bit in 0..8 {
                if bits >> bit & 1 == 1 {
                    picture.set(x + k as i64 * i64::from(GLYPH) + bit, y + row as i64, TEXT);
                }
            }
        }
    }
}

/// `text` cut into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(width.max(1)).map(|line| line.iter().collect()).collect()
}

/// A bar label: up to 4 significant digits, in scientific notation when very small or large.
fn short(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        let text = format!("{v:.4}");
        let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
        text.to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// Where `v` lies between `low` (0) and `high` (1), clamped; the middle when they are equal.
fn unit(v: f64, low: f64, high: f64) -> f64 {
    if high > low { ((v - low) / (high - low)).clamp(0.0, 1.0) } else { 0.5 }
}

fn grey(t: f64) -> [u8; 3] {
    [(t * 255.0).round() as u8; 3]
}

fn viridis(t: f64) -> [u8; 3] {
    let position = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (position.floor() as usize).min(VIRIDIS.len() - 2);
    let f = position - i as f64;
    std::array::from_fn(|c| {
        let (a, b) = (f64::from(VIRIDIS[i][c]), f64::from(VIRIDIS[i + 1][c]));
        (a + (b - a) * f).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeatureKey;
    use radx_core::Grid;

    /// Maps on a 12×10×3 grid with a 4×3 ROI on slice 1 (x 4..8, y 3..6): map 0 is x + y,
    /// map 1 is NaN at (4, 3) and 7 elsewhere; the image is 100·x.
    fn maps() -> FeatureMaps {
        let grid = Grid::new([12, 10, 3], [1.0, 1.0, 1.0]);
        let mut voxels = Vec::new();
        let mut values = Vec::new();
        for y in 3..6 {
            for x in 4..8 {
                voxels.push([x, y, 1]);
                values.push((x + y) as f64);
                values.push(if (x, y) == (4, 3) { f64::NAN } else { 7.0 });
            }
        }
        let image = ndarray::Array2::from_shape_fn((12, 10), |(x, _)| 100.0 * x as f64);
        let roi = ndarray::Array2::from_shape_fn((12, 10), |(x, y)| (4..8).contains(&x) && (3..6).contains(&y));
        let key = |f: &str| FeatureKey::original("fam", f, None);
        FeatureMaps {
            keys: vec![key("sum"), key("flat")],
            tags: vec![None, None],
            grid,
            voxels,
            values,
            init_value: f64::NAN,
            notes: vec![None, None],
            middle_slice: MiddleSlice { z: 1, origin: [0, 0], image, roi },
        }
    }

    /// The colour at the centre of the view's voxel (x, y) in panel `k`.
    fn voxel_colour(picture: &RgbPicture, k: u32, x: usize, y: usize) -> [u8; 3] {
        let view = View::around_roi(&maps().middle_slice);
        let columns = 2; // three panels
        let cell = view.cell_size();
        let left = GAP + (k % columns) * cell[0];
        let top = GAP + (k / columns) * cell[1] + TITLE_LINES * GLYPH + 4;
        let s = view.scale;
        let px = left + (x - view.min[0]) as u32 * s + s / 2;
        let py = top + (y - view.min[1]) as u32 * s + s / 2;
        picture.get(px, py)
    }

    #[test]
    fn the_view_is_the_rois_box_grown_by_three_voxels_within_the_slice() {
        let view = View::around_roi(&maps().middle_slice);
        // ROI x 4..=7, y 3..=5; grown by max(3, extent / 4) = 3; y clipped at 0.
        assert_eq!((view.min, view.dims), ([1, 0], [10, 9]));
        assert_eq!(view.scale, 16, "200 px / 10 voxels = 20, at most 16");
    }

    #[test]
    fn maps_span_viridis_from_their_lowest_to_their_highest_value_on_the_slice() {
        let picture = preview(&maps());
        let view = View::around_roi(&maps().middle_slice);
        let cell = view.cell_size();
        assert_eq!((picture.width, picture.height), (2 * cell[0] + GAP, 2 * cell[1] + GAP));
        // Map 0 (panel 1): x + y from 7 at (4, 3) to 12 at (7, 5).
        assert_eq!(voxel_colour(&picture, 1, 4, 3), VIRIDIS[0]);
        assert_eq!(voxel_colour(&picture, 1, 7, 5), VIRIDIS[8]);
        assert_eq!(voxel_colour(&picture, 1, 5, 4), viridis(0.4), "9 is 2/5 of the way");
        // Outside the ROI, the image at half brightness: x = 2 is 200 in 100..=1000 (1st to 99th
        // percentile of the view), so grey 255 · 1/9 = 28, halved.
        assert_eq!(voxel_colour(&picture, 1, 2, 1), [14; 3]);
        // Map 1 (panel 2): NaN is magenta; a constant map takes viridis' middle.
        assert_eq!(voxel_colour(&picture, 2, 4, 3), NAN_COLOUR);
        assert_eq!(voxel_colour(&picture, 2, 6, 4), VIRIDIS[4]);
    }

    #[test]
    fn the_image_panel_outlines_the_roi_in_red() {
        let picture = preview(&maps());
        let view = View::around_roi(&maps().middle_slice);
        let top = GAP + TITLE_LINES * GLYPH + 4;
        let s = view.scale;
        // The ROI's left edge: the first pixel column of voxel x = 4 (the view starts at x = 1),
        // the middle row of y = 4 (the view starts at y = 0).
        let (x, y) = (GAP + 3 * s, top + 4 * s + s / 2);
        assert_eq!(picture.get(x, y), OUTLINE);
        // Inside the ROI, away from its edge: the grey image (x = 5: 500 → 255 · 4/9).
        assert_eq!(picture.get(x + s + s / 2, y), [113; 3]);
    }

    #[test]
    fn bar_labels_are_short() {
        assert_eq!(short(12.0), "12");
        assert_eq!(short(0.123456), "0.1235");
        assert_eq!(short(-3.5), "-3.5");
        assert_eq!(short(1.5e-7), "1.500e-7");
        assert_eq!(short(2.5e6), "2.500e6");
        assert_eq!(short(0.0), "0");
    }
}
