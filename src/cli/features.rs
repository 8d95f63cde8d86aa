//! `radx features list|show` and `radx check`.

use std::path::PathBuf;
use std::process::ExitCode;

use radx::Error;
use radx::library::{Library, registry};

use super::extract::load;

pub fn list(features: &[PathBuf]) -> Result<ExitCode, Error> {
    let library = load(None, features)?.library;
    let mut out = String::new();
    outln!(out, "{:<28} {:<42} {:<10} source", "family", "feature", "tag");
    for f in &library {
        for feature in f.family.features() {
            outln!(out, "{:<28} {:<42} {:<10} {}", f.family.name(), feature.name, feature.tag, f.origin);
        }
    }
    radx::output::write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn show(name: &str, features: &[PathBuf]) -> Result<ExitCode, Error> {
    let library = load(None, features)?.library;
    let mut out = String::new();
    let mut found = false;
    for f in &library {
        for feature in f.family.features() {
            let qualified = format!("{}.{}", f.family.name(), feature.name);
            if feature.name == name || feature.tag.eq_ignore_ascii_case(name) || qualified == name {
                found = true;
                outln!(out, "{qualified} [{}]  ({} over {})", feature.tag, f.origin, f.family.source().name);
                if let Some(doc) = &feature.doc {
                    outln!(out, "  {doc}");
                }
                outln!(out, "  {}", feature.text.trim());
                outln!(out);
            }
        }
    }
    if found {
        radx::output::write_stdout(&out)?;
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Usage(format!("no feature named or tagged `{name}` (see `radx features list`)")))
    }
}

pub fn check(files: &[PathBuf]) -> Result<ExitCode, Error> {
    let mut library = Library::default();
    for f in files {
        library.add_path(f)?;
    }
    let compiled = library.compile(&registry(&radx::Settings::default()))?;
    let n: usize = compiled.iter().map(|f| f.family.features().count()).sum();
    let families = if compiled.len() == 1 { "y" } else { "ies" };
    radx::output::write_stdout(&format!("ok: {} famil{families}, {n} feature(s)\n", compiled.len()))?;
    Ok(ExitCode::SUCCESS)
}
