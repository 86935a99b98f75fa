//! A Lambda-sized CPU for the benchmark: a cgroup (v1 `cpu` controller) whose quota is
//! the share of one vCPU that Lambda gives a function of a given memory size.
//!
//! "Lambda allocates CPU power in proportion to the amount of memory configured ...
//! at 1,769 MB, a function has the equivalent of one vCPU" (AWS Lambda Developer
//! Guide, "Configuring Lambda function memory"). A 128 MB function therefore gets
//! 128/1,769 ≈ 7.2% of one CPU: 7,236 µs in every 100,000 µs period.
//!
//! Each cold start gets a fresh group, so no start inherits another's spent quota,
//! and the process enters it before `exec` (nothing runs unthrottled).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// Memory at which a function has one full vCPU.
pub const FULL_VCPU_MB: u32 = 1_769;
/// The scheduler period of every group (the cgroup default, 100 ms).
pub const PERIOD_US: u64 = 100_000;
const HIERARCHY: &str = "/sys/fs/cgroup/cpu";

/// One cgroup with a memory size's CPU quota. Removed on drop, after killing any
/// process still in it (a benchmark that panicked mid-run).
pub struct CpuShare {
    procs: File,
    quota_us: u64,
    _dir: GroupDir,
}

impl CpuShare {
    /// A new group with `memory_mb`'s share of one CPU.
    pub fn new(memory_mb: u32) -> io::Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = PathBuf::from(HIERARCHY).join(format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot create the cgroup {} ({e}): the benchmark needs a writable \
                     cgroup v1 cpu hierarchy at {HIERARCHY} (run as root)",
                    path.display()
                ),
            )
        })?;
        // From here on the group is removed whatever fails.
        let dir = GroupDir(path);
        let quota_us = quota_us(memory_mb);
        std::fs::write(dir.0.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        std::fs::write(dir.0.join("cpu.cfs_quota_us"), quota_us.to_string())?;
        let procs = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.0.join("cgroup.procs"))?;
        Ok(Self {
            procs,
            quota_us,
            _dir: dir,
        })
    }

    /// The group's quota per period, in µs.
    pub fn quota_us(&self) -> u64 {
        self.quota_us
    }

    /// Makes `cmd`'s process join this group between `fork` and `exec`, then wait
    /// there for the returned [`Gate`]. Moving a process between v1 cgroups waits
    /// for an RCU grace period (tens of ms here): the gate keeps that out of the
    /// measured start, which begins when the gate opens and the process execs.
    pub fn confine(&self, cmd: &mut Command) -> io::Result<Gate> {
        let procs = self.procs.try_clone()?;
        let (ready_reader, ready_writer) = io::pipe()?;
        let (go_reader, go_writer) = io::pipe()?;
        // SAFETY: the closure runs in the forked child before exec. It only issues
        // write(2) and read(2) on descriptors opened beforehand (no allocation, no
        // lock). Writing "0" to cgroup.procs moves the writing process itself. The
        // pipes are close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                (&procs).write_all(b"0")?;
                (&ready_writer).write_all(b"r")?;
                let mut go = [0u8; 1];
                (&go_reader).read_exact(&mut go)
            });
        }
        Ok(Gate {
            ready: ready_reader,
            go: go_writer,
        })
    }
}

/// The confined process, held between joining its group and `exec`.
pub struct Gate {
    ready: io::PipeReader,
    go: io::PipeWriter,
}

impl Gate {
    /// Waits until the process is in its group, then lets it exec; returns when.
    /// Call while another thread is in `Command::spawn` (which returns only after
    /// exec).
    pub fn open(mut self) -> io::Result<std::time::Instant> {
        let mut ready = [0u8; 1];
        self.ready.read_exact(&mut ready)?;
        let now = std::time::Instant::now();
        self.go.write_all(b"g")?;
        Ok(now)
    }
}

/// Every group this module makes starts with this (`scripts/bench.sh` removes any
/// left behind by a killed run).
pub const PREFIX: &str = "blog-bench-";

struct GroupDir(PathBuf);

impl Drop for GroupDir {
    fn drop(&mut self) {
        // A group can only be removed once empty; a process killed just before may
        // take a moment to leave it, and one still running is killed.
        for attempt in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            if attempt == 10 {
                let pids = std::fs::read_to_string(self.0.join("cgroup.procs")).unwrap_or_default();
                for pid in pids.split_whitespace() {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", pid])
                        .status();
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        eprintln!("left behind: {}", self.0.display());
    }
}

/// `memory_mb`'s share of one CPU per [`PERIOD_US`].
pub fn quota_us(memory_mb: u32) -> u64 {
    (u64::from(memory_mb) * PERIOD_US + u64::from(FULL_VCPU_MB) / 2) / u64::from(FULL_VCPU_MB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_the_memory_share_of_one_cpu() {
        assert_eq!(quota_us(128), 7_236);
        assert_eq!(quota_us(1_769), PERIOD_US);
        assert_eq!(quota_us(1_024), 57_886);
    }
}
