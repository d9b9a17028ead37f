pub mod aws;
pub mod check;
pub mod plan;
pub mod synth;
