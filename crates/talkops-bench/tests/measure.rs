//! The measuring wrapper reports the measured program's own peak RSS, not the benchmark's.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use talkops_bench::measure::{measure, Run};

const MIB: usize = 1024 * 1024;

/// A fresh directory for the wrapper's logs and report.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("talkops-bench-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// The peak RSS in MiB that a plain spawn and wait4 from this process report for `program`:
/// how the benchmark measured before it had the wrapper.
fn direct_peak_mib(program: &Path) -> u64 {
    let child = Command::new(program).spawn().expect("spawn");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: wait4 writes only into locals; the child is forgotten so nothing else reaps it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    assert_eq!(waited, pid, "wait4");
    u64::try_from(usage.ru_maxrss).expect("a peak") / 1024
}

#[test]
fn a_tiny_program_after_a_big_allocation_reports_a_small_peak() {
    // 300 MiB, every page written, held until the end: the benchmark after a 50k-agent run.
    let big = vec![1u8; 300 * MIB];
    let program = Path::new("/bin/true");

    // The problem the wrapper solves: a direct child inherits this process's high-water mark.
    let direct = direct_peak_mib(program);
    assert!(
        direct >= 250,
        "a direct child reports {direct} MiB; expected the parent's 300"
    );

    let dir = scratch("tiny");
    let measured = measure(
        Path::new(env!("CARGO_BIN_EXE_talkops-bench")),
        &Run {
            program,
            args: &[],
            dir: &dir,
            env: &[],
        },
    )
    .expect("measure /bin/true");
    let peak_mib = measured.max_rss_kib / 1024;
    assert_eq!(measured.code, 0);
    assert!(
        peak_mib < 50,
        "/bin/true measured at {peak_mib} MiB through the wrapper"
    );
    assert!(measured.max_rss_kib > 0, "a peak is reported");
    std::hint::black_box(&big);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_exit_code_and_arguments_pass_through() {
    let dir = scratch("code");
    let args = [
        OsStr::new("-c"),
        OsStr::new("echo out; echo err >&2; exit 3"),
    ];
    let measured = measure(
        Path::new(env!("CARGO_BIN_EXE_talkops-bench")),
        &Run {
            program: Path::new("/bin/sh"),
            args: &args,
            dir: &dir,
            env: &[("TALKOPS_BENCH_TEST", "1")],
        },
    )
    .expect("measure /bin/sh");
    assert_eq!(measured.code, 3);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("a log");
    assert_eq!(read("stdout.log"), "out\n");
    assert_eq!(read("stderr.log"), "err\n");
    let _ = std::fs::remove_dir_all(&dir);
}
