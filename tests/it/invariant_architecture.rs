//! Architecture invariant: no circle of imports between files of different modules.
//!
//! A cycle such as `extract.rs -> pipeline.rs -> pyradiomics.rs -> extract.rs` means none of
//! those files can be read, tested or moved alone. This test rebuilds each crate's file graph
//! from the source text (std only, no parser) and fails on such cycles, printing what to break.
//!
//! Rules:
//! - Crates: the root package (`src/`) and every `crates/*/src/`. A file is a module:
//!   `lib.rs`/`main.rs` = crate root, `a.rs` or `a/mod.rs` = `a`, `a/b.rs` = `a::b`. When both
//!   `lib.rs` and `main.rs` exist, files reached from `main.rs` through `mod x;` form a separate
//!   "bin" crate (e.g. `src/cli/`); all other files belong to the "lib".
//! - Edges: `crate::…`, `super::…`, `self::…` paths, in `use` trees (nested braces too) or
//!   inline in code, and paths through a child the file declares (`mod x;` then `x::…`), each
//!   resolved to the deepest module that is a file (`crate::a::Item` -> `a`). Comments and
//!   string/char literals are skipped. `super` inside an inline `mod tests { … }` is the file
//!   itself, and a file's references to itself are not edges (but test code's references to
//!   other files are). `#[path]` attributes are not followed.
//! - Edges INTO the crate root (`lib.rs`/`main.rs`) do not count: the root only declares
//!   modules and re-exports (`crate::Error`, `pub use a::B`); counting them would put every
//!   root in a cycle with all its children.
//! - A strongly connected component of several files is allowed only inside one module
//!   directory: all its files lie in one top-level module `x` (`x.rs` or `x/mod.rs` and every
//!   file under `x/`, e.g. `src/zones/a.rs` <-> `src/zones/b.rs`, or `src/zones.rs` <->
//!   `src/zones/a.rs`). Files directly in `src/` are separate modules, so a cycle among them fails.
//!
//! Set `RADX_ARCH_ROOT` to check another checkout than this package's directory.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;
type Tokens = Vec<(String, usize)>;

/// Identifiers, `::` and single punctuation characters with their line numbers; comments and
/// string/char literals are dropped, so an edge mentioned only there never counts.
fn tokenize(src: &str) -> Tokens {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let word = |ch: char| ch == '_' || ch.is_alphanumeric();
    // The first index at or after `from` where `stop` holds (or the end).
    let find = |from: usize, stop: &dyn Fn(usize) -> bool| (from..c.len()).find(|&j| stop(j)).unwrap_or(c.len());
    let (mut i, mut line, mut counted, mut out) = (0, 1, 0, Vec::new());
    while i < c.len() {
        let (start, ch, next) = (i, c[i], at(i + 1));
        let raw = if matches!(ch, 'b' | 'c') && next == 'r' { i + 1 } else { i };
        let hashes = c[(raw + 1).min(c.len())..].iter().take_while(|&&x| x == '#').count();
        let is_token = if at(raw) == 'r' && at(raw + 1 + hashes) == '"' {
            // r#"…"#, br"…": ends at a quote followed by as many hashes.
            i = find(raw + 2 + hashes, &|j| c[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#')) + 1 + hashes;
            false
        } else if ch == '"' || (matches!(ch, 'b' | 'c') && next == '"') {
            let escaped = |j: usize| c[..j].iter().rev().take_while(|&&x| x == '\\').count() % 2 == 1;
            i = find(i + if ch == '"' { 1 } else { 2 }, &|j| c[j] == '"' && !escaped(j)) + 1;
            false
        } else if ch == '\'' && (next == '\\' || at(i + 2) == '\'') {
            // A char literal ('a', '\'', '\u{1F600}'); a lone quote starts a lifetime or label.
            i = find(i + if next == '\\' { 3 } else { 2 }, &|j| c[j] == '\'') + 1;
            false
        } else if ch == '/' && next == '/' {
            i = find(i, &|j| c[j] == '\n');
            false
        } else if ch == '/' && next == '*' {
            let mut depth = 0; // block comments nest
            while i < c.len() {
                match (c[i], at(i + 1)) {
                    ('/', '*') => (depth, i) = (depth + 1, i + 2),
                    ('*', '/') => (depth, i) = (depth - 1, i + 2),
                    _ => i += 1,
                }
                if depth == 0 {
                    break;
                }
            }
            false
        } else if word(ch) {
            i = find(i, &|j| !word(c[j]));
            true
        } else {
            i += if ch == ':' && next == ':' { 2 } else { 1 };
            !ch.is_whitespace()
        };
        if is_token {
            line += c[counted..start].iter().filter(|&&x| x == '\n').count();
            counted = start;
            out.push((c[start..i].iter().collect(), line));
        }
    }
    out
}

fn is_word(t: &str) -> bool {
    t.starts_with(|ch: char| ch == '_' || ch.is_alphabetic())
}

/// Names declared as `mod name;` (child module files).
fn child_decls(toks: &Tokens) -> BTreeSet<String> {
    toks.windows(3).filter(|w| w[0].0 == "mod" && is_word(&w[1].0) && w[2].0 == ";").map(|w| w[1].0.clone()).collect()
}

/// Reads the path or `use` tree at `k` (after `prefix::`), appending each full path with the
/// `line` it is on to `out`; returns the index after it. Groups nest: `{a, b::{c, self}}`.
fn parse_tree(toks: &Tokens, mut k: usize, mut path: ModPath, line: usize, out: &mut Vec<(ModPath, usize)>) -> usize {
    let tok = |k: usize| toks.get(k).map_or("", |t| t.0.as_str());
    loop {
        match tok(k) {
            "{" => {
                k += 1;
                while k < toks.len() && tok(k) != "}" {
                    k = if tok(k) == "," { k + 1 } else { parse_tree(toks, k, path.clone(), line, out) };
                }
                return k + 1;
            }
            "self" => {}
            "super" => drop(path.pop()),
            t if is_word(t) => path.push(t.to_string()),
            _ => break, // `*`, generics, end of input
        }
        if tok(k + 1) != "::" {
            break;
        }
        k += 2;
    }
    out.push((path, line));
    k + if tok(k + 1) == "as" { 3 } else { 1 } // `b::X as Y`: skip the alias
}

/// Module paths (absolute within the crate) that a file at module `here` refers to, with lines.
fn references(src: &str, here: &ModPath) -> Vec<(ModPath, usize)> {
    let toks = tokenize(src);
    let children = child_decls(&toks);
    let (mut depth, mut inline, mut skip_to, mut refs) = (0, Vec::<(String, usize)>::new(), 0, Vec::new());
    for k in 0..toks.len() {
        let tok = |n: usize| toks.get(k + n).map_or("", |t| t.0.as_str());
        match tok(0) {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
            }
            "mod" if is_word(tok(1)) && tok(2) == "{" => inline.push((tok(1).to_string(), depth)),
            _ => {}
        }
        if k < skip_to || tok(1) != "::" || (k > 0 && toks[k - 1].0 == "::") {
            continue;
        }
        // The module this token is in: the file's, plus the inline `mod x { }` blocks around it.
        let scope: ModPath = here.iter().cloned().chain(inline.iter().map(|m| m.0.clone())).collect();
        let base = match tok(0) {
            "crate" => Vec::new(),
            "self" => scope,
            "super" if !scope.is_empty() => scope[..scope.len() - 1].to_vec(),
            t if inline.is_empty() && children.contains(t) => [here.clone(), vec![t.to_string()]].concat(),
            _ => continue,
        };
        skip_to = parse_tree(&toks, k + 2, base, toks[k].1, &mut refs);
    }
    refs
}

fn module_path(rel: &Path) -> ModPath {
    let mut parts: ModPath = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    if last != "mod.rs" && !(parts.is_empty() && (last == "lib.rs" || last == "main.rs")) {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    entries.sort();
    entries
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let all = sorted_entries(dir).into_iter().flat_map(|p| if p.is_dir() { rust_files(&p) } else { vec![p] });
    all.filter(|p| p.extension().is_some_and(|e| e == "rs")).collect()
}

/// One crate (lib or bin) to check: a label, its files and their module paths.
type Unit = (String, Vec<PathBuf>, Vec<ModPath>);

/// The lib and bin crates of the root package and of each `crates/*/`.
fn find_units(root: &Path) -> Vec<Unit> {
    let mut units = Vec::new();
    for dir in [vec![root.to_path_buf()], sorted_entries(&root.join("crates"))].concat() {
        let src = dir.join("src");
        let files = rust_files(&src);
        let mut bin = BTreeSet::new(); // files reached from main.rs by `mod x;`, if there is a lib
        let mut todo = if src.join("lib.rs").exists() { vec![src.join("main.rs")] } else { vec![] };
        while let Some(f) = todo.pop().filter(|f| f.exists()) {
            let is_dir_module = ["mod.rs", "lib.rs", "main.rs"].iter().any(|n| f.ends_with(n));
            let dir = if is_dir_module { f.parent().unwrap().to_path_buf() } else { f.with_extension("") };
            for name in child_decls(&tokenize(&fs::read_to_string(&f).unwrap_or_default())) {
                let child = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")].into_iter();
                todo.extend(child.filter(|p| p.exists() && !bin.contains(p)));
            }
            bin.insert(f);
        }
        let name = dir.strip_prefix(root).map_or(String::new(), |p| p.display().to_string());
        let name = if name.is_empty() { "root package".to_string() } else { name };
        for (kind, is_bin) in [("lib", false), ("bin", true)] {
            let members: Vec<PathBuf> = files.iter().filter(|f| bin.contains(*f) == is_bin).cloned().collect();
            let mods = members.iter().map(|f| module_path(f.strip_prefix(&src).unwrap())).collect();
            let kind = if src.join("lib.rs").exists() { kind } else { "bin" };
            if !members.is_empty() {
                units.push((format!("{name} ({kind})"), members, mods));
            }
        }
    }
    units
}

/// Tarjan's strongly connected components (files are few, so `stack.contains` is fine).
fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    /// `seen[v]` = [visit index, lowest index reachable] once `v` is visited.
    fn visit(v: usize, adj: &[Vec<usize>], seen: &mut [Option<[usize; 2]>], stack: &mut Vec<usize>) -> Vec<Vec<usize>> {
        let (i, mut sccs) = (seen.iter().flatten().count(), Vec::new());
        seen[v] = Some([i, i]);
        stack.push(v);
        for &w in &adj[v] {
            if seen[w].is_none() {
                sccs.extend(visit(w, adj, seen, stack));
            }
            if stack.contains(&w) {
                seen[v] = Some([i, seen[v].unwrap()[1].min(seen[w].unwrap()[1])]);
            }
        }
        if seen[v] == Some([i, i]) {
            let mut scc = stack.split_off(stack.iter().position(|&x| x == v).unwrap());
            scc.sort();
            sccs.push(scc);
        }
        sccs
    }
    let (mut seen, mut stack) = (vec![None; adj.len()], Vec::new());
    (0..adj.len()).flat_map(|v| if seen[v].is_none() { visit(v, adj, &mut seen, &mut stack) } else { vec![] }).collect()
}

/// Per crate: a one-line summary and a description of each forbidden cycle.
fn check_repo(root: &Path) -> Vec<(String, Vec<String>)> {
    let mut reports = Vec::new();
    for (label, files, mods) in find_units(root) {
        let index: BTreeMap<&ModPath, usize> = mods.iter().enumerate().map(|(i, m)| (m, i)).collect();
        let mut edges: BTreeMap<(usize, usize), usize> = BTreeMap::new(); // (from, to) -> first line
        for (from, file) in files.iter().enumerate() {
            for (path, line) in references(&fs::read_to_string(file).unwrap_or_default(), &mods[from]) {
                let to = (0..=path.len()).rev().find_map(|n| index.get(&path[..n].to_vec()).copied());
                if let Some(to) = to.filter(|&to| to != from && !mods[to].is_empty()) {
                    edges.entry((from, to)).or_insert(line);
                }
            }
        }
        let mut adj = vec![Vec::new(); files.len()];
        edges.keys().for_each(|&(a, b)| adj[a].push(b));
        let sccs = tarjan(&adj);
        // The top-level module a file is in: `x` for `x.rs`, `x/mod.rs` and everything in `x/`.
        let top = |i: usize| &mods[i][0];
        let show = |i: usize| files[i].strip_prefix(root).unwrap_or(&files[i]).display().to_string();
        let mut failures = Vec::new();
        for scc in sccs.iter().filter(|s| s.len() > 1) {
            let inside = |i: &usize| scc.contains(i);
            if scc.iter().all(|&i| top(i) == top(scc[0])) {
                continue; // a cycle inside one module directory is that module's own business
            }
            // One concrete cycle: an edge between two top-level modules, then the shortest way back.
            let (u, v) = *edges.keys().find(|(a, b)| inside(a) && inside(b) && top(*a) != top(*b)).unwrap();
            let (mut paths, mut queue) = (BTreeMap::from([(v, vec![u, v])]), VecDeque::from([v]));
            while let Some(x) = queue.pop_front() {
                for &y in adj[x].iter().filter(|y| inside(y)) {
                    if !paths.contains_key(&y) {
                        paths.insert(y, [paths[&x].clone(), vec![y]].concat());
                        queue.push_back(y);
                    }
                }
            }
            let chain = &paths[&u]; // u -> v -> … -> u
            let steps: Vec<String> =
                chain.windows(2).map(|w| format!("{}:{}", show(w[0]), edges[&(w[0], w[1])])).collect();
            let inner = edges.iter().filter(|((a, b), _)| inside(a) && inside(b));
            failures.push(format!(
                "{label}: import cycle across modules among {} files:\n  {}\n  \
                 one cycle (file:line of each import): {} -> {}\n  all {} edges inside it (break some):\n{}",
                scc.len(),
                scc.iter().map(|&i| show(i)).collect::<Vec<_>>().join(", "),
                steps.join(" -> "),
                show(u),
                inner.clone().count(),
                inner.map(|((a, b), l)| format!("    {}:{l} -> {}", show(*a), show(*b))).collect::<Vec<_>>().join("\n"),
            ));
        }
        let largest = sccs.iter().map(Vec::len).max().unwrap_or(0);
        let summary = format!("{label}: {} files, {} edges, largest SCC {largest} files", files.len(), edges.len());
        reports.push((summary, failures));
    }
    reports
}

#[test]
fn invariant_no_import_cycles_across_modules() {
    let root = std::env::var_os("RADX_ARCH_ROOT").map_or(PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let reports = check_repo(&root);
    assert!(!reports.is_empty(), "no crate found under {}", root.display());
    reports.iter().for_each(|(summary, _)| eprintln!("{summary}"));
    let failures: Vec<&str> = reports.iter().flat_map(|r| &r.1).map(String::as_str).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn checker_reports_only_cross_module_cycles() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let root = std::env::temp_dir().join(format!("radx_arch_{}_{nanos}", std::process::id()));
    let files = [
        ("lib.rs", "pub mod a; pub mod b; pub mod c; pub mod d; pub mod zones;\npub struct Error;"),
        ("a.rs", "use crate::{b::{self, X}, Error};\nuse crate::d::D;\n#[cfg(test)]\nmod tests { use super::*; }"),
        ("b.rs", "pub struct X;\npub fn f() { let _ = crate::c::g(); }\nuse super::{zones::P as a, d};"),
        ("c.rs", "pub fn g() {}\nfn h() { super::a::run(); }"),
        // d -> a only in a comment, a string, a raw string: no cycle a <-> d.
        ("d.rs", "// use crate::a;\n/* crate::a::x() */ pub struct D;\nconst S: &str = \"crate::a::y\";"),
        ("d.rs", "const R: &str = r#\"\" crate::a\"#;\nfn l<'a>(_: &'a str) -> char { '\"' }\n/*! crate::a */"),
        ("zones/mod.rs", "mod p; mod q;\npub use p::P;"),
        ("zones/p.rs", "pub struct P;\nuse super::q::Q;"),
        ("zones/q.rs", "pub struct Q;\nuse super::p::P;"),
    ];
    for (name, text) in files {
        let path = root.join("src").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = fs::read_to_string(&path).unwrap_or_default();
        fs::write(path, old + text + "\n").unwrap();
    }
    let reports = check_repo(&root);
    fs::remove_dir_all(&root).ok();
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.1).collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let f = failures[0];
    assert!(f.contains("among 3 files") && ["src/a.rs", "src/b.rs", "src/c.rs"].iter().all(|n| f.contains(n)), "{f}");
    assert!(!f.contains("d.rs") && !f.contains("zones"), "{f}");
    assert!(reports[0].0.contains("9 edges, largest SCC 3"), "{}", reports[0].0);
}
