//! Case lists: radx's (`id,image,mask[,label][,roi][,segment][,series]`) and PyRadiomics'
//! batch lists (`Image,Mask[,Label]`, any other columns), one reader for both.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use radx_engine::Extractor;
use radx_input::{CaseInput, MaskChoice, ResolveOptions, Resolved};

/// A case list that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CaseListError {
    /// The case list.
    pub path: PathBuf,
    /// What is wrong, with the line.
    pub message: String,
}

/// One line of the case list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEntry {
    /// Unique id: the `id` column, else the line's number among the cases (1, 2, …), as
    /// PyRadiomics numbers the cases of a list without one.
    pub id: String,
    /// Image: a NIfTI/NRRD file, a DICOM series folder or a DICOM file (absolute, or
    /// relative to the working directory).
    pub image: PathBuf,
    /// Mask: a NIfTI/NRRD label map, an RTSTRUCT or a DICOM SEG.
    pub mask: PathBuf,
    /// ROI label for this case (the `label` column); overrides `--label`.
    pub label: Option<i64>,
    /// ROI name in an RTSTRUCT mask (the `roi` column).
    pub roi: Option<String>,
    /// Segment (number or label) of a SEG mask (the `segment` column).
    pub segment: Option<String>,
    /// SeriesInstanceUID to read from a DICOM folder holding several (the `series` column).
    pub series: Option<String>,
    /// Every cell of the line under its column's name, in the list's order, the image and
    /// mask cells made absolute: PyRadiomics' batch output starts with these.
    pub cells: Vec<(String, String)>,
}

impl CaseEntry {
    /// The case's inputs resolved into an engine case (DICOM read, an RTSTRUCT or SEG mask
    /// placed on the image's grid; NIfTI/NRRD kept as paths), its ROI the case's label or the
    /// settings' (see [`radx_input::resolve`]).
    pub fn resolve(&self, extractor: &Extractor) -> Result<Resolved, radx_input::InputError> {
        let input = CaseInput {
            image: self.image.clone(),
            mask: self.mask.clone(),
            choice: MaskChoice { label: self.label, roi: self.roi.clone(), segment: self.segment.clone() },
            series: self.series.clone(),
        };
        let opts = ResolveOptions { default_label: extractor.settings.label, max_bytes: extractor.settings.max_memory };
        radx_input::resolve(&input, &opts)
    }
}

/// Read a case list: a CSV with a header naming the columns `image` and `mask`, and
/// optionally `id`, `label`, `roi` (an RTSTRUCT's ROI name), `segment` (a SEG's segment
/// number or label) and `series` (a DICOM SeriesInstanceUID) (any case, any order; other
/// columns are carried in [`CaseEntry::cells`]). Relative paths are relative to the case
/// list's folder. Ids must be unique; without an `id` column the cases are numbered from 1.
/// An empty `label` cell means "the batch's label", an empty `roi` or `segment` cell "the
/// mask's only one".
pub fn read_cases(path: &Path) -> Result<Vec<CaseEntry>, CaseListError> {
    let bad = |message: String| CaseListError { path: path.to_path_buf(), message };
    // Bounded while reading: a case list may be a pipe or a device.
    let text =
        radx_io::read_text_limited(path, radx_io::TEXT_INPUT_LIMIT).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let columns = Columns::of(&header).ok_or_else(|| {
        bad(format!(
            "the header must name the columns image and mask, optionally id, label, roi, segment and series \
             (radx's id,image,mask[,label] or PyRadiomics' Image,Mask[,Label]; found: {})",
            header.iter().collect::<Vec<_>>().join(",")
        ))
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut cases = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
        let case = columns.case(&header, &record, n + 1, base).map_err(|m| bad(format!("line {line}: {m}")))?;
        if let Some(first) = seen.insert(case.id.clone(), line) {
            return Err(bad(format!(
                "line {line}: id {:?} is already used on line {first}; ids must be unique",
                case.id
            )));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Where the known columns are.
struct Columns {
    id: Option<usize>,
    image: usize,
    mask: usize,
    label: Option<usize>,
    roi: Option<usize>,
    segment: Option<usize>,
    series: Option<usize>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Option<Columns> {
        let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        Some(Columns {
            id: column("id"),
            image: column("image")?,
            mask: column("mask")?,
            label: column("label"),
            roi: column("roi"),
            segment: column("segment"),
            series: column("series"),
        })
    }

    /// The case of one line (`number` counts the cases from 1).
    fn case(
        &self,
        header: &csv::StringRecord,
        record: &csv::StringRecord,
        number: usize,
        base: &Path,
    ) -> Result<CaseEntry, String> {
        let cell = |at: usize| record.get(at).unwrap_or("");
        let id = self.id.map_or_else(|| number.to_string(), |at| cell(at).to_string());
        if id.is_empty() {
            return Err("empty id".into());
        }
        let (image, mask) = (cell(self.image), cell(self.mask));
        if image.is_empty() || mask.is_empty() {
            return Err(format!("case {id:?} needs both an image and a mask"));
        }
        let label = match self.label.map(cell).unwrap_or("") {
            "" => None,
            l => Some(l.parse::<i64>().map_err(|_| format!("label {l:?} is not an integer"))?),
        };
        let text = |at: Option<usize>| at.map(cell).filter(|c| !c.is_empty()).map(str::to_string);
        let (roi, segment, series) = (text(self.roi), text(self.segment), text(self.series));
        let (image, mask) = (base.join(image), base.join(mask));
        let cells = header
            .iter()
            .enumerate()
            .map(|(at, name)| {
                let text = match at {
                    _ if at == self.image => absolute(&image),
                    _ if at == self.mask => absolute(&mask),
                    _ => cell(at).to_string(),
                };
                (name.to_string(), text)
            })
            .collect();
        Ok(CaseEntry { id, image, mask, label, roi, segment, series, cells })
    }
}

/// The path made absolute and normalised without touching the file system (Python's
/// `os.path.abspath`, which PyRadiomics writes the image and mask columns with).
fn absolute(path: &Path) -> String {
    let joined = std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path));
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.display().to_string()
}

/// Which ROI label(s) each case is extracted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelChoice {
    /// The settings' label, or `--label N`; a case's `label` cell overrides it.
    One(Option<i64>),
    /// Every non-zero label present in the mask, one row each (a case's `label` cell
    /// still selects just that label).
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<CaseEntry>, CaseListError> {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("cases.csv");
        std::fs::write(&path, text).expect("written");
        read_cases(&path)
    }

    #[test]
    fn pyradiomics_lists_are_numbered_and_carry_their_columns() {
        let cases = read("Image,Mask,Label,Site\na/img.nrrd,a/../a/seg.nrrd,2,x\nb.nrrd,c.nrrd,,y\n").expect("read");
        assert_eq!(cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!((cases[0].label, cases[1].label), (Some(2), None));
        let names: Vec<&str> = cases[0].cells.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Image", "Mask", "Label", "Site"]);
        let mask = &cases[0].cells[1].1;
        assert!(mask.starts_with('/') && mask.ends_with("/a/seg.nrrd") && !mask.contains(".."), "{mask}");
        assert_eq!(cases[1].cells[3].1, "y");
    }

    #[test]
    fn dicom_columns_roi_segment_and_series_are_read() {
        let cases =
            read("id,image,mask,roi,Segment,series\na,ct,rs.dcm,GTV-1,,\nb,ct,seg.dcm,,liver,1.2.3\n").expect("read");
        assert_eq!((cases[0].roi.as_deref(), cases[0].segment.as_deref()), (Some("GTV-1"), None));
        assert_eq!((cases[1].roi.as_deref(), cases[1].segment.as_deref()), (None, Some("liver")));
        assert_eq!((cases[0].series.as_deref(), cases[1].series.as_deref()), (None, Some("1.2.3")));
    }

    #[test]
    fn a_list_without_image_or_mask_is_refused() {
        let err = read("id,Image,Segmentation\na,x,y\n").expect_err("no mask column").to_string();
        assert!(err.contains("must name the columns image and mask") && err.contains("Image,Mask[,Label]"), "{err}");
        let err = read("ID,Image,Mask\na,x,y\na,z,w\n").expect_err("ids repeat").to_string();
        assert!(err.contains("line 3") && err.contains("already used on line 2"), "{err}");
    }
}
