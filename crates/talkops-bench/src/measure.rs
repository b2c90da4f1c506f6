//! Measures one process alone: its exit code, wall time, CPU time and peak RSS.
//!
//! The peak RSS must be the measured program's own. A child spawned straight from the
//! benchmark does not give it: std spawns with a vfork-style `clone` (or `fork`), and at
//! `exec` Linux records the high-water mark of the memory the child is leaving (the parent's,
//! or a copy of it) in the child's `ru_maxrss`. After a 50,000-agent run the benchmark holds
//! a large journal, so a 1,000-agent talkops would "peak" at 190 MiB. Reading
//! `/proc/PID/status` `VmHWM` after the child exits does not work either: a zombie has no
//! memory map left to report.
//!
//! So the benchmark re-executes itself as a small wrapper ([`WRAPPER_MODE`]) that spawns the
//! program, waits for it with `wait4(2)` and writes what it measured to a report file. The
//! wrapper is a fresh process of a few MiB, so the high-water mark its child inherits is a
//! few MiB, whatever the benchmark itself holds.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The hidden first argument that turns the benchmark binary into the measuring wrapper:
/// `talkops-bench __measure REPORT -- PROGRAM [ARGS...]`.
pub const WRAPPER_MODE: &str = "__measure";

/// What one run of a program cost.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Its exit code; -1 when a signal ended it.
    pub code: i32,
    /// From just before the spawn to just after the wait, taken in the wrapper.
    pub wall: Duration,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in KiB.
    pub max_rss_kib: u64,
}

/// One program to run under the wrapper.
pub struct Run<'a> {
    /// The program and its arguments.
    pub program: &'a Path,
    pub args: &'a [&'a OsStr],
    /// Its working directory; its stdout and stderr go to `stdout.log` and `stderr.log` there.
    pub dir: &'a Path,
    /// Environment variables added to the benchmark's own.
    pub env: &'a [(&'a str, &'a str)],
}

/// Runs `run` under `wrapper` (the benchmark binary itself, or its path in a test) and
/// returns what the wrapper measured.
pub fn measure(wrapper: &Path, run: &Run) -> Result<Measured, String> {
    let report = run.dir.join("measure-report.txt");
    let log = |name: &str| {
        let path = run.dir.join(name);
        File::create(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let status = Command::new(wrapper)
        .arg(WRAPPER_MODE)
        .arg(&report)
        .arg("--")
        .arg(run.program)
        .args(run.args)
        .current_dir(run.dir)
        .envs(run.env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log("stdout.log")?)
        .stderr(log("stderr.log")?)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", wrapper.display()))?;
    if !status.success() {
        let stderr = std::fs::read_to_string(run.dir.join("stderr.log")).unwrap_or_default();
        return Err(format!(
            "the measuring wrapper failed for {}: {}",
            run.program.display(),
            stderr.trim()
        ));
    }
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    let _ = std::fs::remove_file(&report);
    parse_report(&text).ok_or_else(|| format!("{}: unexpected report {text:?}", report.display()))
}

/// The wrapper's `main`: `REPORT -- PROGRAM [ARGS...]` (the arguments after [`WRAPPER_MODE`]).
/// Exits 0 when it measured the program, whatever the program's own exit code.
pub fn wrapper_main(args: &[OsString]) -> ExitCode {
    match wrap(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn wrap(args: &[OsString]) -> Result<(), String> {
    let [report, separator, program, rest @ ..] = args else {
        return Err(format!(
            "usage: talkops-bench {WRAPPER_MODE} REPORT -- PROGRAM [ARGS...]"
        ));
    };
    if separator != "--" {
        return Err(format!(
            "expected -- after the report path, got {separator:?}"
        ));
    }
    let started = Instant::now();
    // Stdio, working directory and environment are inherited from the benchmark's spawn.
    let child = Command::new(program)
        .args(rest)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(program).display()))?;
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| format!("pid: {e}"))?;
    let mut status = 0;
    // SAFETY: wait4 writes only into `status` and `usage`, both owned here; the pid is our
    // own child, which `Child` never waits for because it is forgotten below.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    std::mem::forget(child);
    if waited != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let cpu = timeval(usage.ru_utime) + timeval(usage.ru_stime);
    let report_path = PathBuf::from(report);
    let text = format!(
        "{code} {} {} {}\n",
        wall.as_micros(),
        cpu.as_micros(),
        // ru_maxrss is in KiB on Linux; it is never negative.
        u64::try_from(usage.ru_maxrss).unwrap_or(0)
    );
    std::fs::write(&report_path, text).map_err(|e| format!("{}: {e}", report_path.display()))
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// `CODE WALL_US CPU_US MAXRSS_KIB`, as [`wrap`] writes it.
fn parse_report(text: &str) -> Option<Measured> {
    let mut fields = text.split_whitespace();
    let code = fields.next()?.parse().ok()?;
    let wall = Duration::from_micros(fields.next()?.parse().ok()?);
    let cpu = Duration::from_micros(fields.next()?.parse().ok()?);
    let max_rss_kib = fields.next()?.parse().ok()?;
    fields.next().is_none().then_some(Measured {
        code,
        wall,
        cpu,
        max_rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back() {
        let m = parse_report("2 1500 700 12345\n").expect("a valid report");
        assert_eq!(m.code, 2);
        assert_eq!(m.wall, Duration::from_micros(1500));
        assert_eq!(m.cpu, Duration::from_micros(700));
        assert_eq!(m.max_rss_kib, 12345);
        assert!(parse_report("2 1500 700").is_none());
        assert!(parse_report("2 1500 700 1 9").is_none());
    }
}
