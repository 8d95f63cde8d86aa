//! Mechanics: no command path of the `radx` binary panics. Every subcommand is run with
//! bad arguments and bad inputs; each must end with exit status 2 and a message, never a
//! "panicked" on standard error (radx installs no panic hook that could hide one). A closed
//! standard output (`radx … | head`) must not panic either.

use crate::common::{data_arg, radx};
use std::process::{Command, Stdio};

#[track_caller]
fn fails_cleanly(args: &[&str]) {
    let out = radx(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "radx {args:?} panicked: {stderr}");
    assert_eq!(out.status.code(), Some(2), "radx {args:?}: {stderr}");
    assert!(!stderr.trim().is_empty(), "radx {args:?} failed silently");
}

fn join(parts: &[&[&str]]) -> Vec<String> {
    parts.iter().flat_map(|p| p.iter().map(|s| s.to_string())).collect()
}

#[test]
fn every_subcommand_refuses_bad_arguments_and_inputs_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let garbage_path = dir.path().join("garbage.nii");
    std::fs::write(&garbage_path, [0xde, 0xad, 0xbe, 0xef].repeat(200)).unwrap();
    let garbage = garbage_path.to_string_lossy().into_owned();
    let junk_radx = dir.path().join("junk.radx");
    std::fs::write(&junk_radx, [0u8, 159, 146, 150, b'{', b'}'].repeat(100)).unwrap();
    let junk_radx = junk_radx.to_string_lossy().into_owned();
    let folder = dir.path().to_string_lossy().into_owned();
    let image = data_arg("ibsi/digital_phantom/image.nii.gz");
    let mask = data_arg("ibsi/digital_phantom/mask.nii.gz");
    let img = ["--image", image.as_str(), "--mask", mask.as_str()];
    let with = |head: &[&str], tail: &[&str]| join(&[head, &img, tail]);
    let mut cases: Vec<Vec<String>> = [
        vec![],
        vec!["no-such-command"],
        vec!["--no-such-flag"],
        vec!["info"],
        vec!["info", "/no/such/image.nii.gz"],
        vec!["info", &folder],
        vec!["info", &garbage],
        vec!["info", "image.mha"],
        vec!["info", &image, "--max-memory", "1"],
        vec!["info", &image, "--max-memory", "-5"],
        vec!["matrix"],
        vec!["matrix", "glcm"],
        vec!["matrix", "no-such-family", "--image", &image, "--mask", &mask],
        vec!["extract"],
        vec!["extract", "--image", &image],
        vec!["extract", "--image", &garbage, "--mask", &mask],
        vec!["extract", "--image", &image, "--mask", &folder],
        vec!["features"],
        vec!["features", "show"],
        vec!["features", "show", "no_such_feature"],
        vec!["features", "list", "--features", "/no/such/file.radx"],
        vec!["features", "list", "--features", &junk_radx],
        vec!["features", "explain"],
        vec!["features", "explain", "glcm", "--features", &junk_radx],
        vec!["check"],
        vec!["check", "/no/such/file.radx"],
        vec!["check", &junk_radx],
        vec!["check", &garbage],
        vec!["ibsi", "--phantom", "no-such-phantom"],
        vec!["ibsi", "--phantom", "ct", "--ct-phantom", "/no/such/dir"],
        vec!["ibsi", "--phantom", "ct", "--config", "Z"],
        vec!["ibsi", "--format", "no-such-format"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(String::from).collect())
    .collect();
    cases.extend([
        with(&["matrix", "glcm"], &["--slice", "0"]),
        with(&["matrix", "glcm"], &["--slice", "99"]),
        with(&["matrix", "glcm"], &["--slice", "18446744073709551615"]),
        with(&["matrix", "glcm"], &["--slice", "-1"]),
        with(&["matrix", "glcm"], &["--direction", "1,0"]),
        with(&["matrix", "glcm"], &["--direction", "a,b,c"]),
        with(&["matrix", "glcm"], &["--direction", "2,0,0"]),
        with(&["matrix", "glszm"], &["--direction", "1,0,0"]),
        with(&["matrix", "ngtdm"], &["--aggregation", "2d_smrg"]),
        with(&["matrix", "glcm"], &["--aggregation", "4d_avg"]),
        with(&["matrix", "glcm"], &["--label", "7"]),
        with(&["matrix", "glcm"], &["--settings", "/no/such/settings.toml"]),
        with(&["matrix", "glcm"], &["--max-memory", "10"]),
        with(&["extract"], &["--label", "7"]),
        with(&["extract"], &["--label", "99999999999999999999"]),
        with(&["extract"], &["--format", "xml"]),
        with(&["extract"], &["--features", "/no/such"]),
        with(&["extract"], &["--features", &junk_radx]),
        with(&["extract"], &["--settings", &garbage]),
        with(&["extract"], &["--max-memory", "0"]),
        with(&["extract"], &["--max-memory", "1e999G"]),
        with(&["extract"], &["-o", "/no/such/dir/out.csv"]),
        with(&["extract"], &["-o", &folder]),
    ]);
    for case in &cases {
        fails_cleanly(&case.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

/// `radx … | head -1`: the reader goes away; radx must stop quietly, not panic on EPIPE.
#[test]
fn closed_standard_output_does_not_panic() {
    let image = data_arg("ibsi/digital_phantom/image.nii.gz");
    let mask = data_arg("ibsi/digital_phantom/mask.nii.gz");
    let commands: [&[&str]; 5] = [
        &["features", "list"],
        &["features", "show", "GYBY"],
        &["info", &image],
        &["extract", "--image", &image, "--mask", &mask],
        &["matrix", "glcm", "--image", &image, "--mask", &mask],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before radx writes a byte
        let out = Command::new(env!("CARGO_BIN_EXE_radx"))
            .args(args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "radx {args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "radx {args:?}: {stderr}");
    }
}
