//! Instance sizes in the human forms App Runner uses ("1 vCPU", "2 GB").

use std::fmt;

use crate::model::Compute;

/// CPU in units of 1/1024 vCPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cpu(pub u32);

/// Memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Memory(pub u32);

fn parse_amount(s: &str, unit: &str, per_unit: u32) -> Option<u32> {
    let t = s.trim();
    let number = t
        .strip_suffix(unit)
        .or_else(|| t.strip_suffix(&unit.to_lowercase()))?
        .trim();
    let value: f64 = number.parse().ok()?;
    let scaled = value * f64::from(per_unit);
    (scaled.fract() == 0.0 && scaled > 0.0 && scaled <= f64::from(u32::MAX))
        .then_some(scaled as u32)
}

impl Cpu {
    /// Accepts `1 vCPU`, `0.25 vCPU`, `1vcpu`, or CPU units (`1024`).
    pub fn parse(s: &str) -> Option<Cpu> {
        parse_amount(s, "vCPU", 1024)
            .or_else(|| s.trim().parse::<u32>().ok().filter(|n| *n > 0))
            .map(Cpu)
    }
}

impl Memory {
    /// Accepts `2 GB`, `0.5 GB`, `512 MB`, or MiB (`2048`).
    pub fn parse(s: &str) -> Option<Memory> {
        parse_amount(s, "GB", 1024)
            .or_else(|| parse_amount(s, "MB", 1))
            .or_else(|| s.trim().parse::<u32>().ok().filter(|n| *n > 0))
            .map(Memory)
    }
}

fn trim_float(units: u32) -> String {
    let v = f64::from(units) / 1024.0;
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} vCPU", trim_float(self.0))
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} GB", trim_float(self.0))
    }
}

/// App Runner's supported (cpu units, memory MiB) pairs.
const APP_RUNNER: &[(u32, u32)] = &[
    (256, 512),
    (256, 1024),
    (512, 1024),
    (1024, 2048),
    (1024, 3072),
    (1024, 4096),
    (2048, 4096),
    (2048, 6144),
    (4096, 8192),
    (4096, 10240),
    (4096, 12288),
];

/// Fargate's (cpu units, memory MiB) pairs, which ECS Express Mode uses.
fn fargate_pairs() -> Vec<(u32, u32)> {
    let mut pairs = vec![(256, 512), (256, 1024), (256, 2048)];
    let ranges: &[(u32, u32, u32, u32)] = &[
        (512, 1024, 4096, 1024),
        (1024, 2048, 8192, 1024),
        (2048, 4096, 16384, 1024),
        (4096, 8192, 30720, 1024),
        (8192, 16384, 61440, 4096),
        (16384, 32768, 122880, 8192),
    ];
    for &(cpu, lo, hi, step) in ranges {
        pairs.extend((lo..=hi).step_by(step as usize).map(|m| (cpu, m)));
    }
    pairs
}

/// The valid (cpu, memory) pairs of a compute backend.
pub fn valid_pairs(compute: Compute) -> Vec<(Cpu, Memory)> {
    let raw = match compute {
        Compute::AppRunner => APP_RUNNER.to_vec(),
        Compute::EcsExpress => fargate_pairs(),
    };
    raw.into_iter().map(|(c, m)| (Cpu(c), Memory(m))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_and_unit_forms() {
        assert_eq!(Cpu::parse("1 vCPU"), Some(Cpu(1024)));
        assert_eq!(Cpu::parse("0.25 vCPU"), Some(Cpu(256)));
        assert_eq!(Cpu::parse("2vcpu"), Some(Cpu(2048)));
        assert_eq!(Cpu::parse("512"), Some(Cpu(512)));
        assert_eq!(Cpu::parse("one"), None);
        assert_eq!(Memory::parse("2 GB"), Some(Memory(2048)));
        assert_eq!(Memory::parse("512 MB"), Some(Memory(512)));
        assert_eq!(Memory::parse("0.5 GB"), Some(Memory(512)));
        assert_eq!(Memory::parse("-1 GB"), None);
        assert_eq!(Cpu(256).to_string(), "0.25 vCPU");
        assert_eq!(Memory(4096).to_string(), "4 GB");
    }

    #[test]
    fn pairs_differ_per_backend() {
        let ar = valid_pairs(Compute::AppRunner);
        assert!(ar.contains(&(Cpu(1024), Memory(2048))));
        assert!(!ar.contains(&(Cpu(1024), Memory(8192))));
        let ecs = valid_pairs(Compute::EcsExpress);
        assert!(ecs.contains(&(Cpu(1024), Memory(8192))));
        assert!(!ecs.contains(&(Cpu(256), Memory(4096))));
    }
}
