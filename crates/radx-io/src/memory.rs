//! The default memory budget: the least of half the physical memory, the memory limit of the
//! process's control group and its address-space limit (`RLIMIT_AS`), read from `/proc` and
//! `/sys/fs/cgroup` (Linux). Half the physical memory leaves room for the rest of the
//! machine; a container's or a batch scheduler's cgroup limit, or a `ulimit -v`, is a hard
//! ceiling that the kernel enforces by killing the process or failing its allocations, so
//! the budget must not exceed it. Where none is known (another system), 8 GiB.
//!
//! The files are parsed by pure functions over their text (tested on fixtures); only
//! [`MemoryLimits::of_this_process`] touches the file system. No environment variable is read.

use std::path::{Path, PathBuf};

/// Where cgroup hierarchies are mounted (the standard place; a cgroup namespace shows the
/// container's own cgroup as the root there).
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The budget when no limit is known.
const FALLBACK: u64 = 8 << 30;

/// The limits the default budget is the least of; `None` where unknown or unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryLimits {
    /// `MemTotal` of `/proc/meminfo`, bytes.
    pub physical: Option<u64>,
    /// The least `memory.max` (cgroup v2) or `memory.limit_in_bytes` (v1) of the process's
    /// cgroup and its ancestors, bytes.
    pub cgroup: Option<u64>,
    /// The soft `Max address space` of `/proc/self/limits` (`RLIMIT_AS`), bytes.
    pub address_space: Option<u64>,
}

impl MemoryLimits {
    /// The limits of the running process (unknown ones `None`).
    pub fn of_this_process() -> MemoryLimits {
        let read = |path: &Path| std::fs::read_to_string(path).ok();
        let cgroup = read(Path::new("/proc/self/cgroup"))
            .map(|text| cgroup_limit_files(&text, Path::new(CGROUP_ROOT)))
            .and_then(|files| files.iter().filter_map(|f| read(f).and_then(|t| parse_cgroup_limit(&t))).min());
        MemoryLimits {
            physical: read(Path::new("/proc/meminfo")).and_then(|t| parse_mem_total(&t)),
            cgroup,
            address_space: read(Path::new("/proc/self/limits")).and_then(|t| parse_address_space_limit(&t)),
        }
    }

    /// The budget: the least of half the physical memory (8 GiB when unknown), the cgroup
    /// limit and the address-space limit.
    pub fn budget(&self) -> u64 {
        let half = self.physical.map_or(FALLBACK, |m| m / 2);
        [Some(half), self.cgroup, self.address_space].into_iter().flatten().min().unwrap_or(FALLBACK).max(1)
    }
}

/// `MemTotal` of `/proc/meminfo`'s text, in bytes.
pub fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The files holding the memory limits of the cgroup that `/proc/self/cgroup`'s text names
/// and of its ancestors (each may be the tighter one), under `root`: for cgroup v2
/// (`0::/path`) `root/path/memory.max`, for v1's memory controller (`N:…memory…:/path`)
/// `root/memory/path/memory.limit_in_bytes`; innermost first.
pub fn cgroup_limit_files(proc_self_cgroup: &str, root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for line in proc_self_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let (base, file) = if id == "0" && controllers.is_empty() {
            (root.to_path_buf(), "memory.max")
        } else if controllers.split(',').any(|c| c == "memory") {
            (root.join("memory"), "memory.limit_in_bytes")
        } else {
            continue;
        };
        // `/a/b` → `a/b`, `a`, `` (the root's own limit last).
        let relative = Path::new(path.trim_start_matches('/'));
        files.extend(relative.ancestors().map(|dir| base.join(dir).join(file)));
    }
    files
}

/// A cgroup limit file's value: bytes, or `None` for `max` (v2's "no limit") or text that is
/// not a number. v1 writes "no limit" as a huge number (2^63 rounded to pages), which is
/// returned as it is and never the least.
pub fn parse_cgroup_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The soft limit of `Max address space` in `/proc/self/limits`' text, in bytes (`None` when
/// `unlimited`).
pub fn parse_address_space_limit(proc_self_limits: &str) -> Option<u64> {
    let line = proc_self_limits.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_in_bytes() {
        let meminfo = "MemTotal:       16318412 kB\nMemFree:         1234 kB\n";
        assert_eq!(parse_mem_total(meminfo), Some(16_318_412 * 1024));
        assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn cgroup_v2_files_from_the_cgroup_to_the_root() {
        let root = Path::new("/sys/fs/cgroup");
        let files = cgroup_limit_files("0::/user.slice/user-1000.slice/session-2.scope\n", root);
        let want: Vec<PathBuf> = [
            "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.max",
            "/sys/fs/cgroup/user.slice/user-1000.slice/memory.max",
            "/sys/fs/cgroup/user.slice/memory.max",
            "/sys/fs/cgroup/memory.max",
        ]
        .map(PathBuf::from)
        .to_vec();
        assert_eq!(files, want);
        // Inside a container's cgroup namespace the process sits at the root.
        assert_eq!(cgroup_limit_files("0::/\n", root), vec![PathBuf::from("/sys/fs/cgroup/memory.max")]);
    }

    #[test]
    fn cgroup_v1_memory_controller_only() {
        let text = "12:pids:/docker/abc\n\
                    4:memory:/docker/abc\n\
                    3:cpu,cpuacct:/docker/abc\n\
                    1:name=systemd:/docker/abc\n";
        let files = cgroup_limit_files(text, Path::new("/sys/fs/cgroup"));
        let want: Vec<PathBuf> = [
            "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/docker/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]
        .map(PathBuf::from)
        .to_vec();
        assert_eq!(files, want);
        // A combined controller list names memory too.
        assert_eq!(cgroup_limit_files("5:cpu,memory:/\n", Path::new("/c")).len(), 1);
    }

    #[test]
    fn cgroup_limit_values() {
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("2147483648\n"), Some(2 << 30));
        // v1's "no limit": never the least of the limits.
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), Some(9_223_372_036_854_771_712));
    }

    #[test]
    fn address_space_soft_limit() {
        let unlimited = "Limit                     Soft Limit           Hard Limit           Units     \n\
                         Max cpu time              unlimited            unlimited            seconds   \n\
                         Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(parse_address_space_limit(unlimited), None);
        let limited = "Max stack size            8388608              unlimited            bytes     \n\
                       Max address space         4294967296           unlimited            bytes     \n";
        assert_eq!(parse_address_space_limit(limited), Some(4 << 30));
    }

    #[test]
    fn the_budget_is_the_least_limit() {
        let gib = 1u64 << 30;
        let physical = |g: u64| MemoryLimits { physical: Some(g * gib), ..MemoryLimits::default() };
        assert_eq!(physical(16).budget(), 8 * gib);
        assert_eq!(MemoryLimits { cgroup: Some(2 * gib), ..physical(16) }.budget(), 2 * gib);
        assert_eq!(MemoryLimits { cgroup: Some(20 * gib), ..physical(16) }.budget(), 8 * gib);
        assert_eq!(
            MemoryLimits { address_space: Some(3 * gib), cgroup: Some(5 * gib), ..physical(16) }.budget(),
            3 * gib
        );
        // Nothing known: 8 GiB, unless a limit is lower.
        assert_eq!(MemoryLimits::default().budget(), 8 * gib);
        assert_eq!(MemoryLimits { cgroup: Some(gib), ..MemoryLimits::default() }.budget(), gib);
    }
}
