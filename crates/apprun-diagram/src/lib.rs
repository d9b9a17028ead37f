//! The architecture of one env, drawn from the stacks `apprun synth` writes.
//!
//! Every fact on the diagram (subnets and CIDRs, routes, NAT gateways,
//! endpoints, security-group rules, the service and its network attachment,
//! ECR, the pipeline's stages) is read from the synthesized templates, never
//! re-derived from the config: what is drawn is what deploys.
//!
//! Three renderings of one [`model::Architecture`]: SVG (laid out here on a
//! grid in the `svg` module), Mermaid (a flowchart for READMEs) and DOT (Graphviz).

mod dot;
mod graph;
mod mermaid;
pub mod model;
mod svg;
mod text;

use apprun_config::Config;

pub use model::Architecture;
pub use svg::{CHAR_WIDTH_TENTHS, FONT_SIZE};

/// The output formats of `apprun diagram`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagramFormat {
    Svg,
    Mermaid,
    Dot,
}

impl DiagramFormat {
    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            DiagramFormat::Svg => "svg",
            DiagramFormat::Mermaid => "mmd",
            DiagramFormat::Dot => "dot",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiagramError {
    #[error(transparent)]
    Blueprint(#[from] apprun_blueprint::BlueprintError),
    /// The stacks lack something every env has (a blueprint bug).
    #[error("the synthesized stacks of env {env} have no {what}")]
    Missing { env: String, what: String },
}

/// Draws the architecture of `env` in `format`. Same input, same bytes.
pub fn render(config: &Config, env: &str, format: DiagramFormat) -> Result<String, DiagramError> {
    let arch = Architecture::of(config, env)?;
    Ok(render_architecture(&arch, format))
}

/// Draws an architecture already read (from [`Architecture::of`] or
/// [`Architecture::from_blueprint`]) in `format`.
pub fn render_architecture(arch: &Architecture, format: DiagramFormat) -> String {
    match format {
        DiagramFormat::Svg => svg::render(arch),
        DiagramFormat::Mermaid => mermaid::render(arch),
        DiagramFormat::Dot => dot::render(arch),
    }
}
