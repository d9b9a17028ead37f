pub mod aws;
pub mod check;
pub mod local;
pub mod migrate;
pub mod plan;
pub mod release;
pub mod synth;
