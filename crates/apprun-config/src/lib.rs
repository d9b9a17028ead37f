//! `apprun.toml`: reading, validating and explaining what is wrong with it.
//!
//! [`Config::load`] either returns a fully validated [`Config`] or every
//! problem found, each naming the file, line, key and what is allowed.

mod error;
mod input;
mod job;
mod load;
mod model;
mod names;
mod raw;
mod size;
mod spans;
mod subnets;

pub use error::{ConfigError, LoadError};
pub use job::Job;
pub use input::{
    MAX_CONFIG_SIZE, ReadError, SHOWN_CHARS, read_bounded, shorten, shorten_values, utf8_error_at,
};
pub use model::{
    Allow, Compute, Config, Env, Health, Ingress, KeyLocation, Policy, ReleaseBuild, Service,
    Source, SourceKind, System,
};
pub use names::{NameKind, Names};
pub use size::{Cpu, Memory, valid_pairs};
pub use subnets::{Subnet, SubnetPlan, Tier};

/// The file name apprun looks for in the current directory.
pub const CONFIG_FILE: &str = "apprun.toml";
