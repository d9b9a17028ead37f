//! CloudFormation template model.
//!
//! A [`Template`] holds typed sections; property values are [`Value`]s whose
//! intrinsic functions are typed ([`Intrinsic`]). Templates render to YAML
//! (short-form tags, conservative quoting) and JSON (long-form functions),
//! byte-for-byte deterministic, and parse back from either format.
//!
//! This crate knows nothing about AWS accounts or SDKs: it is pure data.

mod build;
mod dupkeys;
mod json;
mod lang;
mod limits;
mod map;
mod packed;
mod parse;
mod refs;
mod template;
mod validate;
mod value;
mod yaml;

pub use build::*;
pub use dupkeys::json_key_lines;
pub use map::MapEntry;
pub use parse::{
    LANGUAGE_EXTENSION_FUNCTIONS, LANGUAGE_EXTENSIONS, MAX_DEPTH, ParseError, RULE_FUNCTIONS,
    SECTIONS, SERVERLESS, parse_json, parse_json_value, parse_template, parse_yaml,
};
pub use refs::References;
pub use template::{
    Attributes, Counted, Generators, MAX_NOTES, Note, Output, Overflow, Parameter, Resource,
    Template,
};
pub use validate::{Finding, Severity, validate, validate_limited};
pub use value::{
    CidrArgs, CompactString, FindInMapArgs, IfArgs, Intrinsic, List, Map, PackedSlice, SelectArgs,
    Str, Value,
};

/// Output format of a rendered template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

impl Template {
    /// Renders the template in the given format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Yaml => yaml::to_yaml(&self.to_value()),
            Format::Json => json::to_json(&self.to_value()),
        }
    }
}
