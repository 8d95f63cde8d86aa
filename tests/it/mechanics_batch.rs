//! Mechanics: `radx batch` and `radx merge` end to end — failing cases reported while the
//! batch goes on, equality with single-case `radx extract`, thread-count independence,
//! resume after a kill, shards merged back, multi-label masks, and table round trips.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{radx, s};
use proptest::prelude::*;
use radx_cohort::batch::Shard;
use radx_cohort::table::{Row, Status, Table, TableFormat, read_table, write_table};
use radx_engine::core::{Grid, Volume};
use radx_engine::io::{NiftiType, write_nifti};

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Deterministic pseudo-random numbers (a 64-bit LCG, Knuth's constants).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A seeded image (integer intensities 0..=99 plus a smooth ramp) and a label map with
/// one ellipsoid blob per `(label, centre, radii)`.
fn write_case(
    dir: &Path,
    name: &str,
    seed: u64,
    dims: [usize; 3],
    blobs: &[(f64, [f64; 3], [f64; 3])],
) -> (PathBuf, PathBuf) {
    let mut rng = Lcg(seed.wrapping_add(0x9e37_79b9));
    let n = dims[0] * dims[1] * dims[2];
    let mut image = Vec::with_capacity(n);
    let mut mask = Vec::with_capacity(n);
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                image.push((rng.next() * 100.0).floor() + x as f64);
                let p = [x as f64, y as f64, z as f64];
                let label =
                    blobs.iter().find(|(_, c, r)| (0..3).map(|a| ((p[a] - c[a]) / r[a]).powi(2)).sum::<f64>() <= 1.0);
                mask.push(label.map_or(0.0, |b| b.0));
            }
        }
    }
    let (image_path, mask_path) = (dir.join(format!("{name}_image.nii.gz")), dir.join(format!("{name}_mask.nii.gz")));
    let grid = Grid::new(dims, [1.0, 1.0, 2.0]);
    write_nifti(&image_path, &Volume::from_x_fastest(grid, image), NiftiType::I16).unwrap();
    // Float 0/1 (and 2) masks, as many tools save them.
    write_nifti(&mask_path, &Volume::from_x_fastest(grid, mask), NiftiType::F32).unwrap();
    (image_path, mask_path)
}

const SMALL: [usize; 3] = [16, 16, 8];

fn blob() -> Vec<(f64, [f64; 3], [f64; 3])> {
    vec![(1.0, [7.5, 7.5, 3.5], [5.0, 5.0, 3.0])]
}

/// `n` good small cases `case00…`, listed with paths relative to the case list.
fn good_cases(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let id = format!("case{i:02}");
            write_case(dir, &id, i as u64, SMALL, &blob());
            format!("{id},{id}_image.nii.gz,{id}_mask.nii.gz,")
        })
        .collect()
}

fn write_list(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("id,image,mask,label\n{}\n", lines.join("\n"))).unwrap();
    path
}

fn read(path: &Path) -> Table {
    read_table(path, TableFormat::from_path(path).unwrap()).unwrap()
}

fn value_of(row: &Row, column: &str) -> Option<f64> {
    row.columns.iter().position(|c| c == column).map(|i| row.values[i])
}

/// 20 good cases and 3 broken ones: the batch completes (exit 0), the broken ones are
/// `error` rows with their reasons, every good row equals `radx extract` of that case
/// value for value, and the table is byte-identical for 1, 3 and RAYON_NUM_THREADS=2 threads.
#[test]
fn batch_reports_broken_cases_and_matches_single_case_extract() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = good_cases(dir.path(), 20);
    // Missing image file.
    lines.insert(3, "missing,nowhere_image.nii.gz,case00_mask.nii.gz,".into());
    // Mask on another grid (12×16×8 instead of 16×16×8).
    write_case(dir.path(), "other", 99, [12, 16, 8], &[(1.0, [5.0, 7.5, 3.5], [4.0, 5.0, 3.0])]);
    lines.insert(10, "mismatch,case01_image.nii.gz,other_mask.nii.gz,".into());
    // Empty mask.
    write_case(dir.path(), "empty", 7, SMALL, &[]);
    lines.push("empty,empty_image.nii.gz,empty_mask.nii.gz,".into());
    let list = write_list(dir.path(), "cases.csv", &lines);

    let out1 = dir.path().join("out1.csv");
    let stderr = ok(&radx(&["batch", &s(&list), "--jobs", "1", "-o", &s(&out1)]));
    assert!(stderr.contains("3 failed"), "{stderr}");
    assert!(stderr.contains("failed: missing label 1: ") && stderr.contains("failed: empty label 1: "), "{stderr}");
    let table = read(&out1);
    let ids: Vec<&str> = table.rows.iter().map(|r| r.id.as_str()).collect();
    let expected_ids: Vec<String> = lines.iter().map(|l| l.split(',').next().unwrap().to_string()).collect();
    assert_eq!(ids, expected_ids, "rows in case-list order");

    let by_id: HashMap<&str, &Row> = table.rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let missing = by_id["missing"];
    assert_eq!(missing.status, Status::Error);
    assert!(missing.error.contains("nowhere_image.nii.gz"), "{}", missing.error);
    let mismatch = by_id["mismatch"];
    assert_eq!(mismatch.status, Status::Error);
    assert!(mismatch.error.contains("size") && mismatch.error.contains("12"), "{}", mismatch.error);
    let empty = by_id["empty"];
    assert_eq!(empty.status, Status::Error);
    assert!(empty.error.contains("label 1") || empty.error.contains("none"), "{}", empty.error);
    assert_eq!(table.rows.iter().filter(|r| r.status == Status::Ok).count(), 20);

    // Every value of every good row equals the single-case long output.
    for row in table.rows.iter().filter(|r| r.status == Status::Ok) {
        assert_eq!(row.label, Some(1));
        let image = dir.path().join(format!("{}_image.nii.gz", row.id));
        let mask = dir.path().join(format!("{}_mask.nii.gz", row.id));
        let single = radx(&["extract", "--image", &s(&image), "--mask", &s(&mask)]);
        ok(&single);
        let text = String::from_utf8(single.stdout).unwrap();
        let mut compared = 0;
        for line in text.lines().skip(1) {
            // image_type,family,feature,tag,aggregation,value; the original image's columns
            // carry no image type.
            let cells: Vec<&str> = line.split(',').skip(1).collect();
            let column = if cells[3] == "-" {
                format!("{}.{}", cells[0], cells[1])
            } else {
                format!("{}.{}.{}", cells[0], cells[1], cells[3])
            };
            let expected: f64 = cells[4].parse().unwrap();
            let got = value_of(row, &column).unwrap_or_else(|| panic!("{}: no column {column}", row.id));
            assert!(
                got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                "{} {column}: batch {got} vs extract {expected}",
                row.id
            );
            compared += 1;
        }
        assert_eq!(compared, row.values.len(), "{}: every column compared", row.id);
    }

    // Thread count does not change a byte.
    let out3 = dir.path().join("out3.csv");
    ok(&radx(&["batch", &s(&list), "--jobs", "3", "-q", "-o", &s(&out3)]));
    let out_env = dir.path().join("out_env.csv");
    let env_run = Command::new(env!("CARGO_BIN_EXE_radx"))
        .args(["batch", &s(&list), "-q", "-o", &s(&out_env)])
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .unwrap();
    ok(&env_run);
    let bytes1 = std::fs::read(&out1).unwrap();
    assert_eq!(bytes1, std::fs::read(&out3).unwrap());
    assert_eq!(bytes1, std::fs::read(&out_env).unwrap());
    // The journal is gone once the table is written.
    assert!(!dir.path().join("out1.csv.partial.jsonl").exists());
}

/// Kill a `--jobs 1` run once its journal holds a few cases: the previous OUT is left
/// untouched, no temporary file remains, and `--resume` then produces exactly the table
/// of an uninterrupted run.
#[test]
fn resume_after_kill_equals_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    // Larger cases so that one takes long enough to interrupt the run between cases.
    let lines: Vec<String> = (0..30)
        .map(|i| {
            let id = format!("big{i:02}");
            write_case(dir.path(), &id, 100 + i as u64, [32, 32, 16], &[(1.0, [15.5, 15.5, 7.5], [11.0, 11.0, 6.0])]);
            format!("{id},{id}_image.nii.gz,{id}_mask.nii.gz,")
        })
        .collect();
    let full_list = write_list(dir.path(), "cases.csv", &lines);
    let first_list = write_list(dir.path(), "first.csv", &lines[..3]);
    let reference = dir.path().join("reference.csv");
    ok(&radx(&["batch", &s(&full_list), "--jobs", "2", "-q", "-o", &s(&reference)]));

    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("table.csv");
    // An older OUT (the first three cases) that the killed run must leave intact.
    ok(&radx(&["batch", &s(&first_list), "-q", "-o", &s(&out)]));
    let old = std::fs::read(&out).unwrap();

    let journal = out_dir.join("table.csv.partial.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_radx"))
        .args(["batch", &s(&full_list), "--jobs", "1", "-q", "-o", &s(&out)])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let lines = std::fs::read_to_string(&journal).map(|t| t.lines().count()).unwrap_or(0);
        if lines >= 4 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run finished before it could be interrupted");
        assert!(started.elapsed().as_secs() < 60, "no journal progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), old, "the killed run left the old OUT intact");
    let mut left: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["table.csv", "table.csv.partial.jsonl"], "no temporary or half-written file");
    let journaled = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(journaled < 30, "interrupted mid-way ({journaled} cases journaled)");

    let stderr = ok(&radx(&["batch", &s(&full_list), "--jobs", "2", "--resume", "-q", "-o", &s(&out)]));
    assert!(stderr.contains("kept from the previous run"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&reference).unwrap());
    assert!(!journal.exists());
}

/// While another process holds OUT's journal (as a running batch does), `radx batch` on the
/// same OUT stops at once (exit 2) naming OUT, and leaves the journal and OUT alone;
/// `--resume` over a journal of other settings and another radx version names both.
#[test]
fn a_second_batch_on_the_same_output_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let list = write_list(dir.path(), "cases.csv", &good_cases(dir.path(), 2));
    let out = dir.path().join("table.csv");
    let journal = dir.path().join("table.csv.partial.jsonl");
    std::fs::write(&journal, "a running batch's journal\n").unwrap();
    let holder = std::fs::OpenOptions::new().read(true).open(&journal).unwrap();
    holder.lock().unwrap();
    let run = radx(&["batch", &s(&list), "-q", "-o", &s(&out)]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains(&s(&out)) && stderr.contains("another radx batch"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "a running batch's journal\n", "left alone");
    assert!(!out.exists());
    drop(holder);

    // A journal a killed run of other settings and another radx left: --resume says so.
    let header = "{\"radx_journal\":1,\"fingerprint\":{\"settings\":\"0\",\"features\":\"cbf29ce484222325\",\
                  \"plugins\":\"cbf29ce484222325\",\"names\":\"radx\",\"version\":\"0\"}}\n";
    std::fs::write(&journal, header).unwrap();
    let run = radx(&["batch", &s(&list), "-q", "--resume", "-o", &s(&out)]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&s(&journal)) && stderr.contains("other settings") && stderr.contains("radx version"),
        "{stderr}"
    );
}

/// Two shards (one Parquet, one JSON lines, one of them with a failing case) merged back,
/// and the merge pushed through every format, equal the unsharded CSV byte for byte.
#[test]
fn shards_merged_equal_the_unsharded_run_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = good_cases(dir.path(), 5);
    lines.insert(2, "broken,nowhere.nii.gz,case00_mask.nii.gz,".into());
    let list = write_list(dir.path(), "cases.csv", &lines);
    let whole = dir.path().join("whole.csv");
    ok(&radx(&["batch", &s(&list), "-q", "-o", &s(&whole)]));
    let shard1 = dir.path().join("part_1.parquet");
    let shard2 = dir.path().join("part_2.jsonl");
    ok(&radx(&["batch", &s(&list), "-q", "--shard", "1/2", "-o", &s(&shard1)]));
    ok(&radx(&["batch", &s(&list), "-q", "--shard", "2/2", "-o", &s(&shard2)]));
    assert_eq!(read(&shard1).rows.len(), 3);
    assert_eq!(read(&shard2).rows.len(), 3);

    let merged = dir.path().join("merged.parquet");
    // Inputs in reverse order: --cases restores the case-list order.
    ok(&radx(&["merge", &s(&shard2), &s(&shard1), "--cases", &s(&list), "-o", &s(&merged)]));
    let as_jsonl = dir.path().join("merged.jsonl");
    ok(&radx(&["merge", &s(&merged), "-o", &s(&as_jsonl)]));
    let as_csv = dir.path().join("merged.csv");
    ok(&radx(&["merge", &s(&as_jsonl), "-o", &s(&as_csv)]));
    assert_eq!(std::fs::read_to_string(&as_csv).unwrap(), std::fs::read_to_string(&whole).unwrap());

    // Without --cases, rows keep their first appearance; a duplicate is warned about.
    let twice = dir.path().join("twice.csv");
    let stderr = ok(&radx(&["merge", &s(&shard1), &s(&shard2), &s(&shard1), "-o", &s(&twice)]));
    assert!(stderr.contains("warning: case \"case00\" label 1 appears 2 times"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&twice).unwrap(), std::fs::read_to_string(&whole).unwrap());
}

/// `--all-labels` gives one row per label present; a case's `label` cell selects one label;
/// `--label 2` selects label 2 for the others. Label-2 values equal `radx extract --label 2`.
#[test]
fn multi_label_masks_give_one_row_per_label() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = [(1.0, [4.5, 7.5, 3.5], [3.5, 5.0, 3.0]), (2.0, [11.5, 7.5, 3.5], [3.5, 5.0, 3.0])];
    let mut lines = Vec::new();
    for i in 0..3 {
        let id = format!("two{i}");
        write_case(dir.path(), &id, 50 + i, SMALL, &blobs);
        lines.push(format!("{id},{id}_image.nii.gz,{id}_mask.nii.gz,"));
    }
    let list = write_list(dir.path(), "cases.csv", &lines);
    let all = dir.path().join("all.jsonl");
    ok(&radx(&["batch", &s(&list), "-q", "--all-labels", "-o", &s(&all)]));
    let table = read(&all);
    let keys: Vec<(&str, Option<i64>)> = table.rows.iter().map(|r| (r.id.as_str(), r.label)).collect();
    assert_eq!(
        keys,
        [
            ("two0", Some(1)),
            ("two0", Some(2)),
            ("two1", Some(1)),
            ("two1", Some(2)),
            ("two2", Some(1)),
            ("two2", Some(2))
        ]
    );
    assert!(table.rows.iter().all(|r| r.status == Status::Ok));

    // Per-case label column overrides --label.
    lines[1] = "two1,two1_image.nii.gz,two1_mask.nii.gz,1".into();
    let list = write_list(dir.path(), "cases2.csv", &lines);
    let picked = dir.path().join("picked.csv");
    ok(&radx(&["batch", &s(&list), "-q", "--label", "2", "-o", &s(&picked)]));
    let labels: Vec<Option<i64>> = read(&picked).rows.iter().map(|r| r.label).collect();
    assert_eq!(labels, [Some(2), Some(1), Some(2)]);

    // Label-2 mean intensity (IBSI Q4LE) equals the single-case extraction of label 2.
    let single = radx(&[
        "extract",
        "--image",
        &s(&dir.path().join("two0_image.nii.gz")),
        "--mask",
        &s(&dir.path().join("two0_mask.nii.gz")),
        "--label",
        "2",
    ]);
    ok(&single);
    let text = String::from_utf8(single.stdout).unwrap();
    let mean: f64 = text.lines().find(|l| l.contains(",Q4LE,")).unwrap().split(',').nth(5).unwrap().parse().unwrap();
    let q4le_column =
        text.lines().find(|l| l.contains(",Q4LE,")).unwrap().split(',').skip(1).take(2).collect::<Vec<_>>().join(".");
    assert_eq!(value_of(&table.rows[1], &q4le_column), Some(mean));
}

#[test]
fn case_list_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cases.csv");
    std::fs::write(&list, "id,image,mask\na,x.nii,y.nii\na,z.nii,w.nii\n").unwrap();
    let out = radx(&["batch", &s(&list), "-o", &s(&dir.path().join("o.csv"))]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("already used on line 2"), "{stderr}");
    std::fs::write(&list, "name,image,segmentation\na,x.nii,y.nii\n").unwrap();
    let out = radx(&["batch", &s(&list), "-o", &s(&dir.path().join("o.csv"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("must name the columns image and mask"));
    let out = radx(&["batch", &s(&list), "--shard", "3/2", "-o", &s(&dir.path().join("o.csv"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected K/N"));
    std::fs::write(&list, "id,image,mask\na,x.nii,y.nii\n").unwrap();
    let out = radx(&["batch", &s(&list), "-o", &s(&dir.path().join("no/such/o.csv"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the output folder does not exist"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The N contiguous shards partition the case list: each index exactly once, in order,
    /// sizes differing by at most one.
    #[test]
    fn shards_partition_the_case_list(cases in 0usize..500, count in 1usize..40) {
        let mut next = 0;
        let mut sizes = Vec::new();
        for index in 1..=count {
            let range = format!("{index}/{count}").parse::<Shard>().unwrap().range(cases);
            prop_assert_eq!(range.start, next);
            next = range.end;
            sizes.push(range.len());
        }
        prop_assert_eq!(next, cases);
        prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }
}

fn arb_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        -1e6..1e6f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every format reads back what it wrote: ids and errors with commas, quotes and
    /// newlines, missing labels, error rows, NaN, ±inf, −0 and any finite value (bit-exact).
    #[test]
    fn tables_round_trip_in_every_format(
        values in proptest::collection::vec(proptest::collection::vec(arb_value(), 3), 1..6),
        fail_at in 0usize..6,
    ) {
        let columns: std::sync::Arc<[String]> =
            std::sync::Arc::from(vec!["glcm.joint_maximum.3d_avg".to_string(), "morph.volume".into(), "x\"y,z".into()]);
        let rows: Vec<Row> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i == fail_at {
                    Row::failed(&format!("id, \"{i}\""), None, "bad,\n\"mask\"".into())
                } else {
                    Row { id: format!("case {i}"), label: Some(i as i64 - 2), status: Status::Ok, error: String::new(), columns: columns.clone(), values: v.clone(), text: Vec::new(), notes: Vec::new() }
                }
            })
            .collect();
        let table = Table::new(rows);
        let dir = tempfile::tempdir().unwrap();
        for name in ["t.csv", "t.jsonl", "t.parquet"] {
            let path = dir.path().join(name);
            write_table(&path, &table, TableFormat::from_path(&path).unwrap()).unwrap();
            let back = read(&path);
            prop_assert_eq!(&back.columns, &table.columns);
            prop_assert_eq!(back.rows.len(), table.rows.len());
            for (a, b) in back.rows.iter().zip(&table.rows) {
                prop_assert_eq!((&a.id, a.label, a.status, &a.error), (&b.id, b.label, b.status, &b.error), "{}", name);
                prop_assert_eq!(a.values.len(), b.values.len());
                for (x, y) in a.values.iter().zip(&b.values) {
                    prop_assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()), "{}: {} vs {}", name, x, y);
                }
            }
        }
    }
}

/// Throughput fixture, run by hand: writes 100 cases of 64×64×32 voxels with an
/// ellipsoid ROI of about 5 000 voxels (radii 12, 12, 8.3 voxels: 4/3·π·12·12·8.3 ≈ 5 007)
/// and their case list into `$RADX_BENCH_DIR` (see the README's cohort section).
#[test]
#[ignore = "writes a 100-case benchmark cohort; run with RADX_BENCH_DIR=... --ignored"]
fn write_throughput_cohort() {
    let Some(dir) = std::env::var_os("RADX_BENCH_DIR").map(PathBuf::from) else {
        panic!("set RADX_BENCH_DIR to the folder to fill");
    };
    std::fs::create_dir_all(&dir).unwrap();
    let lines: Vec<String> = (0..100)
        .map(|i| {
            let id = format!("bench{i:03}");
            write_case(&dir, &id, 1000 + i as u64, [64, 64, 32], &[(1.0, [31.5, 31.5, 15.5], [12.0, 12.0, 8.3])]);
            format!("{id},{id}_image.nii.gz,{id}_mask.nii.gz,")
        })
        .collect();
    write_list(&dir, "cases.csv", &lines);
}
