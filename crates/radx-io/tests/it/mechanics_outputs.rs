//! Mechanics tests of output files (issue 27): never over an input, only regular files
//! replaced (devices and FIFOs written in place, directories refused, symbolic links
//! followed), the replaced file's mode kept, no temporary files left by killed writes.
//!
//! No test writes to a real device node: a regression would replace it (as root, /dev/null).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use radx_io::{IoError, check_not_input, write_atomic};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umasks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table.csv");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&out, b"new").unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
    assert_eq!(mode(&out), 0o640);
    // A new file: the mode any other new file of this process gets (0666 & ~umask).
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let fresh = dir.path().join("fresh.csv");
    write_atomic(&fresh, b"x").unwrap();
    assert_eq!(mode(&fresh), mode(&reference));
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.nii");
    std::fs::write(&image, "voxels").unwrap();
    let hard = dir.path().join("hard.nii");
    std::fs::hard_link(&image, &hard).unwrap();
    let soft = dir.path().join("soft.nii");
    std::os::unix::fs::symlink(&image, &soft).unwrap();
    let dotted = dir.path().join(".").join("image.nii");
    for output in [&image, &hard, &soft, &dotted] {
        let err = check_not_input(output, &[Path::new("/no/such/input"), &image]).unwrap_err();
        assert!(matches!(&err, IoError::OutputIsInput { input, .. } if input == &image), "{err}");
        let text = err.to_string();
        assert!(text.contains(&*output.to_string_lossy()) && text.contains("another output name"), "{text}");
    }
    // Another file, or one that does not exist yet, is fine.
    std::fs::write(dir.path().join("other.csv"), "").unwrap();
    check_not_input(&dir.path().join("other.csv"), &[&image]).unwrap();
    check_not_input(&dir.path().join("new.csv"), &[&image]).unwrap();
}

#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    // A dangling link names no file to replace.
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
    let err = write_atomic(&dangling, b"x").unwrap_err();
    assert!(err.to_string().contains("symbolic link to nothing"), "{err}");
    assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
}

#[test]
fn a_fifo_is_written_in_place_and_a_directory_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        // Checked before joining: a replaced FIFO would leave the reader blocked for ever.
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
        assert_eq!(reader.join().unwrap(), "through the pipe");
    }
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let err = write_atomic(&folder, b"x").unwrap_err();
    assert!(matches!(&err, IoError::Write { path, .. } if path == &folder), "{err}");
    assert!(err.to_string().contains("a directory"), "{err}");
    assert!(folder.is_dir());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), if fifo.exists() { 2 } else { 1 }, "temporary files left: {left:?}");
}

#[test]
fn temporaries_of_killed_writes_are_removed_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    // pid_max is at most 2^22 on Linux: no process has this id.
    let stale = dir.path().join(".out.csv.4999999-0.part");
    std::fs::write(&stale, "half").unwrap();
    // One of this process (a write in progress elsewhere) and another output's stay.
    let live = dir.path().join(format!(".out.csv.{}-999999.part", std::process::id()));
    std::fs::write(&live, "writing").unwrap();
    let other = dir.path().join(".other.csv.4999999-0.part");
    std::fs::write(&other, "not ours to judge").unwrap();
    write_atomic(&dir.path().join("out.csv"), b"done").unwrap();
    assert!(!stale.exists(), "the killed write's temporary file is still there");
    assert!(live.exists() && other.exists());
}
