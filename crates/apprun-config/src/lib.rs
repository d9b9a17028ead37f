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
mod runtime;
mod size;
mod spans;
mod subnets;

pub use error::{ConfigError, LoadError};
pub use input::{
    MAX_CONFIG_SIZE, ReadError, SHOWN_CHARS, read_bounded, shorten, shorten_values, utf8_error_at,
};
pub use job::{EventPattern, Job, JobImage, JobTrigger, PatternValue, SnsTopic};
pub use model::{
    Allow, Compute, Config, Env, Health, Ingress, KeyLocation, Policy, ReleaseBuild, ScaleOn,
    Scaling, Service, Source, SourceKind, System,
};
pub use names::{NameKind, Names};
pub use runtime::{
    AppRunnerScaling, Domain, Runtime, SecretRef, SecretStore, ServiceSettings,
    names as runtime_names, secret_word,
};
pub use size::{Cpu, Memory, valid_pairs};
pub use subnets::{Subnet, SubnetPlan, Tier};

/// The file name apprun looks for in the current directory.
pub const CONFIG_FILE: &str = "apprun.toml";
