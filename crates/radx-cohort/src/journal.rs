//! The checkpoint journal beside a batch's output, `OUT.partial.jsonl`: a header line with
//! the run's [`Fingerprint`], then one line per finished case. A run holds an exclusive
//! advisory lock on it from start to end (two runs on one output would otherwise interleave
//! their rows); `--resume` refuses a journal whose fingerprint differs from its own run's
//! (its rows were computed with other settings, feature files, plugins, names or radx) and
//! any line it cannot account for (a row that does not parse, a case not in the case list),
//! rather than reusing it silently.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::cases::LabelChoice;
use crate::table::{OrderedObject, Row, RowError, Status, row_from_json, row_json};
use radx_engine::Extractor;

/// Finished cases read back from a journal: (case id, its rows), in file order.
pub(crate) type Entries = Vec<(String, Vec<Row>)>;

/// The journal's layout version, in its header.
const JOURNAL_FORMAT: u32 = 1;

/// The checkpoint journal beside `output`: `OUT.partial.jsonl`.
pub fn journal_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial.jsonl");
    output.with_file_name(name)
}

/// A journal that cannot be used: locked by another run, or not this run's.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another process holds the lock on the journal.
    #[error(
        "{}: another radx batch is writing this output (it holds the lock on {}); wait for it to finish, \
         or write to another output (-o)",
        output.display(),
        journal.display()
    )]
    Locked {
        /// The batch's output.
        output: PathBuf,
        /// Its journal.
        journal: PathBuf,
    },
    /// The journal could not be opened, locked or read.
    #[error("{}: cannot open, lock or read the journal: {source}", path.display())]
    Open {
        /// Journal file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file the run's fingerprint covers could not be read.
    #[error("{}: cannot read it to fingerprint this batch: {source}", path.display())]
    Input {
        /// Settings, feature or plugin file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The effective settings could not be serialised for the fingerprint.
    #[error("cannot fingerprint the settings: {0}")]
    SettingsValue(serde_json::Error),
    /// `--resume` with a journal written by a run with other inputs.
    #[error(
        "{}: written by a batch with other {}; resuming would mix its rows with this run's: \
         resume with the same inputs, or rerun without --resume to start over",
        journal.display(),
        FingerprintPart::list(changed)
    )]
    Changed {
        /// Journal file.
        journal: PathBuf,
        /// What differs (never empty).
        changed: Vec<FingerprintPart>,
    },
    /// `--resume` with a journal from a radx that wrote no fingerprint.
    #[error(
        "{}: a journal from an older radx, without the fingerprint of its settings, so its rows cannot be \
         checked against this run's: rerun without --resume (or delete it to resume from the output table alone)",
        journal.display()
    )]
    NoFingerprint {
        /// Journal file.
        journal: PathBuf,
    },
    /// A line `--resume` cannot account for.
    #[error(
        "{}, line {line}: {problem}; radx did not write this: rerun without --resume, or delete the journal",
        journal.display()
    )]
    Line {
        /// Journal file.
        journal: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
}

/// What is wrong with one journal line.
#[derive(Debug, thiserror::Error)]
pub enum LineProblem {
    /// Not JSON of a journal header or entry.
    #[error("not a journal entry ({0})")]
    Unparsed(serde_json::Error),
    /// A header of a journal layout this radx does not know.
    #[error("journal layout {0}, this radx writes layout {JOURNAL_FORMAT}")]
    Format(u32),
    /// A row that is not a table row.
    #[error("{0}")]
    Row(RowError),
    /// An entry with no rows.
    #[error("an entry without rows")]
    NoRows,
    /// A row under another case's entry.
    #[error("the entry of case {entry:?} holds a row of case {row:?}")]
    OtherCase {
        /// The entry's case.
        entry: String,
        /// The row's case.
        row: String,
    },
    /// A case the case list does not have.
    #[error("case {0:?} is not in the case list")]
    UnknownCase(String),
}

/// One part of a [`Fingerprint`], named when `--resume` finds it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FingerprintPart {
    /// The settings file, and the options that change values (`--library`, `--exclude-nonfinite`, labels).
    Settings,
    /// The `--features` files.
    Features,
    /// The plugin libraries loaded.
    Plugins,
    /// `--names`.
    Names,
    /// radx's version.
    Version,
}

impl std::fmt::Display for FingerprintPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FingerprintPart::Settings => {
                "settings (the settings file, --library, --exclude-nonfinite, --label or --all-labels)"
            }
            FingerprintPart::Features => "feature files (--features)",
            FingerprintPart::Plugins => "plugin libraries (--plugin, RADX_PLUGIN_PATH)",
            FingerprintPart::Names => "feature names (--names)",
            FingerprintPart::Version => "radx version",
        })
    }
}

impl FingerprintPart {
    fn list(parts: &[FingerprintPart]) -> String {
        parts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// The files a batch's extractor was made from, which its fingerprint covers.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    /// The settings file, if any.
    pub settings: Option<PathBuf>,
    /// The `--features` files or folders, in order.
    pub features: Vec<PathBuf>,
}

/// What produced a batch's rows, as 64-bit FNV-1a hashes (hex) of each part's bytes. It
/// detects changed inputs, it does not authenticate them: a forged journal could copy a
/// header, which is why every entry is checked too.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// The settings file's bytes, the effective settings (command-line overrides included)
    /// and the label choice.
    pub settings: String,
    /// Each feature file's path and bytes (a folder: its `.radx` files, sorted).
    pub features: String,
    /// Each loaded plugin library's path and bytes (its bytes, not its modification time:
    /// a rebuilt library of the same size is another plugin, a copied tree the same one).
    pub plugins: String,
    /// `radx` or `pyradiomics`.
    pub names: String,
    /// radx's version.
    pub version: String,
}

impl Fingerprint {
    /// The fingerprint of a batch run by `extractor`, made from `files`, with `labels`.
    pub fn new(extractor: &Extractor, files: &RunFiles, labels: LabelChoice) -> Result<Fingerprint, JournalError> {
        let mut settings = Fnv::default();
        if let Some(path) = &files.settings {
            settings.chunk(&read(path)?);
        }
        settings.chunk(&serde_json::to_vec(&extractor.settings).map_err(JournalError::SettingsValue)?);
        settings.chunk(
            match labels {
                LabelChoice::All => "all".to_string(),
                LabelChoice::One(None) => "default".to_string(),
                LabelChoice::One(Some(label)) => label.to_string(),
            }
            .as_bytes(),
        );
        let mut features = Fnv::default();
        for path in &files.features {
            let listed = radx_engine::library::feature_files(path)
                .map_err(|e| JournalError::Input { path: path.clone(), source: std::io::Error::other(e) })?;
            for file in listed {
                features.file(&file)?;
            }
        }
        let mut plugins = Fnv::default();
        for plugin in extractor.plugins.plugins() {
            plugins.file(&plugin.path)?;
        }
        Ok(Fingerprint {
            settings: settings.hex(),
            features: features.hex(),
            plugins: plugins.hex(),
            names: if extractor.pyradiomics_names { "pyradiomics" } else { "radx" }.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// The parts in which `other` differs from this one.
    pub fn changes(&self, other: &Fingerprint) -> Vec<FingerprintPart> {
        [
            (FingerprintPart::Settings, self.settings != other.settings),
            (FingerprintPart::Features, self.features != other.features),
            (FingerprintPart::Plugins, self.plugins != other.plugins),
            (FingerprintPart::Names, self.names != other.names),
            (FingerprintPart::Version, self.version != other.version),
        ]
        .into_iter()
        .filter_map(|(part, changed)| changed.then_some(part))
        .collect()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, JournalError> {
    std::fs::read(path).map_err(|source| JournalError::Input { path: path.to_path_buf(), source })
}

/// 64-bit FNV-1a: fixed by its definition, so a journal's fingerprint means the same to
/// every radx build (std's `DefaultHasher` may change between Rust releases).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Length-prefixed, so that two parts cannot run into each other ("ab"+"c" vs "a"+"bc").
    fn chunk(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }

    fn file(&mut self, path: &Path) -> Result<(), JournalError> {
        self.chunk(path.to_string_lossy().as_bytes());
        self.chunk(&read(path)?);
        Ok(())
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The first line of a journal.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    radx_journal: u32,
    fingerprint: Fingerprint,
}

/// One journal line: every row of one finished case.
#[derive(serde::Deserialize)]
struct JournalEntry {
    id: String,
    rows: Vec<OrderedObject>,
    /// Each row's text cells (PyRadiomics' layout), absent in radx's.
    #[serde(default)]
    text: Vec<Vec<(String, String)>>,
    /// Each row's notes (column, note), absent when no row has any.
    #[serde(default)]
    notes: Vec<Vec<(String, String)>>,
}

/// An output's journal, locked for as long as this value lives (the OS releases the lock
/// when a killed run's process dies).
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Open (creating it) and lock `output`'s journal; another run holding it is an error
    /// at once, not a wait. Nothing is truncated before the lock is held, so a second run
    /// cannot wipe the first one's checkpoint.
    pub(crate) fn lock(output: &Path) -> Result<Journal, JournalError> {
        let path = journal_path(output);
        let open_err = |source| JournalError::Open { path: path.clone(), source };
        let file = std::fs::OpenOptions::new().read(true).append(true).create(true).open(&path).map_err(open_err)?;
        match file.try_lock() {
            Ok(()) => Ok(Journal { path, file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(JournalError::Locked { output: output.to_path_buf(), journal: path })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(open_err(e)),
        }
    }

    /// The journal's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh run: empty the journal and write `fingerprint` as its header.
    pub(crate) fn start(&mut self, fingerprint: &Fingerprint) -> Result<(), JournalError> {
        self.file.set_len(0).map_err(|source| JournalError::Open { path: self.path.clone(), source })?;
        let header = Header { radx_journal: JOURNAL_FORMAT, fingerprint: fingerprint.clone() };
        let line = serde_json::to_string(&header).map_err(JournalError::SettingsValue)? + "\n";
        self.append(&line).map_err(|source| JournalError::Open { path: self.path.clone(), source })
    }

    /// `--resume`: the finished cases of a journal written with `fingerprint`, in file order,
    /// each a case of `cases`. An empty journal starts afresh; a last line cut short by a kill
    /// is dropped (its case runs again) and cut off, so that the next entry starts a line.
    pub(crate) fn resume(&mut self, fingerprint: &Fingerprint, cases: &HashSet<&str>) -> Result<Entries, JournalError> {
        let path = self.path.clone();
        let open_err = |source| JournalError::Open { path: path.clone(), source };
        let mut text = String::new();
        self.file.read_to_string(&mut text).map_err(open_err)?;
        let (entries, kept) = parse(&text, &self.path, fingerprint, cases)?;
        if kept == 0 {
            self.start(fingerprint)?;
        } else if kept < text.len() {
            self.file.set_len(kept as u64).map_err(open_err)?;
        }
        Ok(entries)
    }

    /// Add one line (one write, then a flush, so a kill loses at most the case being written).
    pub(crate) fn append(&mut self, line: &str) -> std::io::Result<()> {
        self.file.write_all(line.as_bytes()).and_then(|_| self.file.flush())
    }

    /// The output is written: remove the journal, while still holding its lock so that no
    /// other run can lock the file being removed.
    pub(crate) fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The entries of a journal's text and how many of its bytes are whole lines worth keeping
/// (0: empty, or only a cut-short header).
fn parse(
    text: &str,
    path: &Path,
    fingerprint: &Fingerprint,
    cases: &HashSet<&str>,
) -> Result<(Entries, usize), JournalError> {
    let line_err = |line, problem| JournalError::Line { journal: path.to_path_buf(), line, problem };
    let mut intern = HashMap::new();
    let mut entries = Vec::new();
    let mut kept = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let whole = line.ends_with('\n');
        let parsed = if index == 0 {
            check_header(line, path, fingerprint).map(|()| None)
        } else {
            entry_rows(line, cases, &mut intern).map(Some).map_err(|problem| line_err(index + 1, problem))
        };
        match parsed {
            Ok(rows) => entries.extend(rows),
            // A kill mid-write leaves a last line without its newline: that case runs again.
            Err(_) if !whole => break,
            Err(e) => return Err(e),
        }
        kept += line.len();
    }
    Ok((entries, kept))
}

fn check_header(line: &str, path: &Path, fingerprint: &Fingerprint) -> Result<(), JournalError> {
    let header = match serde_json::from_str::<Header>(line) {
        Ok(header) => header,
        Err(_) if serde_json::from_str::<JournalEntry>(line).is_ok() => {
            return Err(JournalError::NoFingerprint { journal: path.to_path_buf() });
        }
        Err(e) => {
            return Err(JournalError::Line { journal: path.to_path_buf(), line: 1, problem: LineProblem::Unparsed(e) });
        }
    };
    if header.radx_journal != JOURNAL_FORMAT {
        let problem = LineProblem::Format(header.radx_journal);
        return Err(JournalError::Line { journal: path.to_path_buf(), line: 1, problem });
    }
    let changed = header.fingerprint.changes(fingerprint);
    if !changed.is_empty() {
        return Err(JournalError::Changed { journal: path.to_path_buf(), changed });
    }
    Ok(())
}

/// One entry line as (case id, rows): each row of that case, the case in the case list.
fn entry_rows(
    line: &str,
    cases: &HashSet<&str>,
    intern: &mut HashMap<Vec<String>, std::sync::Arc<[String]>>,
) -> Result<(String, Vec<Row>), LineProblem> {
    let entry: JournalEntry = serde_json::from_str(line).map_err(LineProblem::Unparsed)?;
    let mut rows: Vec<Row> = entry
        .rows
        .into_iter()
        .map(|object| row_from_json(object, intern))
        .collect::<Result<_, _>>()
        .map_err(LineProblem::Row)?;
    if rows.is_empty() {
        return Err(LineProblem::NoRows);
    }
    if let Some(other) = rows.iter().find(|r| r.id != entry.id) {
        return Err(LineProblem::OtherCase { entry: entry.id, row: other.id.clone() });
    }
    if !cases.contains(entry.id.as_str()) {
        return Err(LineProblem::UnknownCase(entry.id));
    }
    for (row, text) in rows.iter_mut().zip(entry.text) {
        row.text = text;
    }
    for (row, notes) in rows.iter_mut().zip(entry.notes) {
        row.notes = notes;
    }
    Ok((entry.id, rows))
}

/// The journal line of one finished case.
pub(crate) fn journal_line(id: &str, rows: &[Row]) -> String {
    let objects: Vec<String> =
        rows.iter().map(|r| row_json(r, &r.columns, (r.status == Status::Ok).then_some(&r.values[..]))).collect();
    let (id, objects) = (serde_json::Value::String(id.to_string()), objects.join(","));
    let mut line = format!("{{\"id\":{id},\"rows\":[{objects}]");
    if rows.iter().any(|r| !r.text.is_empty()) {
        let text: Vec<&Vec<(String, String)>> = rows.iter().map(|r| &r.text).collect();
        line.push_str(",\"text\":");
        line.push_str(&serde_json::to_string(&text).unwrap_or_else(|_| "[]".into()));
    }
    if rows.iter().any(|r| !r.notes.is_empty()) {
        let notes: Vec<&Vec<(String, String)>> = rows.iter().map(|r| &r.notes).collect();
        line.push_str(",\"notes\":");
        line.push_str(&serde_json::to_string(&notes).unwrap_or_else(|_| "[]".into()));
    }
    line.push_str("}\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint() -> Fingerprint {
        Fingerprint {
            settings: "1".into(),
            features: "2".into(),
            plugins: "3".into(),
            names: "radx".into(),
            version: "0".into(),
        }
    }

    /// PyRadiomics' layout keeps its text cells through the journal, so `--resume` writes them.
    #[test]
    fn the_journal_keeps_text_cells() {
        let mut row = Row::failed("a", Some(2), "bad".into());
        row.text =
            vec![("Image".into(), "/i, \"x\".nrrd".into()), ("diagnostics_Versions_Python".into(), String::new())];
        let plain = Row::failed("b", None, "worse".into());
        let header = serde_json::to_string(&Header { radx_journal: JOURNAL_FORMAT, fingerprint: fingerprint() })
            .expect("a header")
            + "\n";
        let text = header
            + &journal_line("a", std::slice::from_ref(&row))
            + &journal_line("b", std::slice::from_ref(&plain))
            + "{\"id\":\"c\",\"ro";
        let cases: HashSet<&str> = ["a", "b", "c"].into();
        let (entries, kept) = parse(&text, Path::new("j"), &fingerprint(), &cases).expect("parsed");
        assert_eq!(entries, vec![("a".to_string(), vec![row]), ("b".to_string(), vec![plain])]);
        assert_eq!(kept, text.len() - "{\"id\":\"c\",\"ro".len(), "the cut-short line is cut off");
    }
}
