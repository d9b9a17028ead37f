//! The README's binary install path: `scripts/build-static.sh` builds one
//! static Linux binary, and that binary, run with an empty environment in a
//! folder holding only the shipped apprun.toml, prints the same dev plan as
//! the binary under test.
//!
//! The script builds in the dev profile here (`--profile dev`): the shipped
//! `dist` profile (full LTO, one codegen unit) would add minutes to the test
//! command for no difference in behaviour; the linking, which is what makes
//! the binary static, is the same in every profile.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// ELF program header type of the dynamic loader's path (`PT_INTERP`).
const PT_INTERP: u32 = 3;
/// ELF machine number of x86-64 (`EM_X86_64`).
const EM_X86_64: u16 = 62;

/// Runs the script and returns the binary it reports.
fn build_static() -> PathBuf {
    let o = Command::new("bash")
        .args(["scripts/build-static.sh", "--profile", "dev"])
        .current_dir(workspace())
        .output()
        .expect("bash runs");
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "build-static.sh failed:\n{}\n{out}",
        stderr(&o)
    );
    let path = out
        .lines()
        .find_map(|l| l.strip_prefix("binary: "))
        .unwrap_or_else(|| panic!("no `binary:` line in\n{out}"));
    let size = out
        .lines()
        .find_map(|l| l.strip_prefix("size: "))
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no `size: N bytes` line in\n{out}"));
    let path = PathBuf::from(path);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        size,
        "the size printed is the binary's"
    );
    path
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The ELF program header types of a little-endian 64-bit x86-64 executable.
fn program_header_types(elf: &[u8]) -> Vec<u32> {
    assert_eq!(&elf[..4], b"\x7fELF", "an ELF file");
    assert_eq!(elf[4], 2, "64-bit");
    assert_eq!(elf[5], 1, "little-endian");
    assert_eq!(u16_at(elf, 0x12), EM_X86_64, "x86-64");
    let phoff = usize::try_from(u64_at(elf, 0x20)).unwrap();
    let phentsize = usize::from(u16_at(elf, 0x36));
    let phnum = usize::from(u16_at(elf, 0x38));
    (0..phnum)
        .map(|i| u32_at(elf, phoff + i * phentsize))
        .collect()
}

/// `plan --env dev` by `binary` in `dir`, with nothing in the environment
/// but NO_COLOR (no PATH, no HOME, no Rust).
fn plan(binary: &Path, dir: &Path) -> String {
    let o = Command::new(binary)
        .args(["plan", "--env", "dev"])
        .current_dir(dir)
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "{} plan --env dev failed:\n{}",
        binary.display(),
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn static_binary_prints_the_dev_plan() {
    let binary = build_static();

    // Static: no dynamic loader named, so it runs without the build
    // machine's libc (a dynamically linked executable always has PT_INTERP).
    let types = program_header_types(&std::fs::read(&binary).unwrap());
    assert!(!types.is_empty(), "program headers read");
    assert!(
        !types.contains(&PT_INTERP),
        "{} names a dynamic loader",
        binary.display()
    );

    let project = project();
    let out = plan(&binary, project.path());
    for needle in [
        "Plan for env dev of apprunner-nuxt3 in ap-northeast-1 (zones a, c), VPC 10.0.0.0/24",
        "1     apprunner-nuxt3-dev-network",
        "1     apprunner-nuxt3-dev-repository",
        "1     apprunner-nuxt3-iam (shared by the account)",
        "2     apprunner-nuxt3-dev-pipeline",
        "2     apprunner-nuxt3-dev-service-web",
        "Protect  ap-northeast-1c  10.0.0.128/26",
        "Validation: 6 stacks, 0 findings",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // Byte for byte what the binary under test prints: same program.
    assert_eq!(
        out,
        plan(Path::new(env!("CARGO_BIN_EXE_apprun")), project.path())
    );
}
