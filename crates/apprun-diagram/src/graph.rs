//! The graph both text formats draw: one walk over the architecture, in
//! which Mermaid and DOT each supply only their syntax, so that a fact added
//! to the diagram reaches both and their statements keep one order.

use crate::model::{Architecture, Node, ServiceFacts};
use crate::text::ident;

/// A node's or an edge's text.
#[derive(Clone, Copy)]
pub enum Label<'a> {
    /// A fixed word of ours (`image`, `push`, `Internet`): written bare
    /// where the format allows.
    Word(&'a str),
    /// Lines read from the templates, escaped by the format.
    Lines(&'a [String]),
}

#[derive(Clone, Copy)]
pub enum Shape {
    Box,
    /// The Internet.
    Round,
    /// A tier with its security groups.
    Hexagon,
}

/// A box of nodes (region, VPC, zone, pipeline).
#[derive(Clone, Copy)]
pub struct Group<'a> {
    pub id: &'a str,
    pub label: &'a [String],
    /// The layout direction inside the box, where the format has one.
    pub direction: Option<&'a str>,
}

impl<'a> Group<'a> {
    pub fn new(id: &'a str, label: &'a [String], direction: Option<&'a str>) -> Self {
        Group {
            id,
            label,
            direction,
        }
    }
}

/// How one format writes the statements of the walk. `depth` is the
/// nesting level (two spaces each).
pub trait Syntax {
    /// Everything before the first node.
    fn open(&self, out: &mut String, arch: &Architecture);
    /// Everything after the last edge.
    fn close(&self, out: &mut String);
    fn node(&self, out: &mut String, depth: usize, id: &str, shape: Shape, label: Label);
    fn edge(&self, out: &mut String, depth: usize, from: &str, to: &str, label: Option<Label>);
    /// A box around the statements up to the matching `close_group`.
    fn open_group(&self, out: &mut String, depth: usize, group: Group);
    fn close_group(&self, out: &mut String, depth: usize);
    /// A service, its load balancer and the arrow from ECR: the formats
    /// nest the load balancer differently.
    fn service(&self, out: &mut String, id: &str, service: &ServiceFacts);
}

/// `depth` levels of indentation.
pub fn indent(depth: usize) -> String {
    "  ".repeat(depth)
}

/// The id of a security-group arrow's end.
fn node_id(node: &Node) -> String {
    match node {
        Node::Internet => "internet".to_owned(),
        Node::Tier(t) => format!("tier{t}"),
        Node::Other(i) => format!("other{i}"),
    }
}

/// The architecture in `syntax`: stores and services, the region with its
/// VPC, zones, subnets and tiers, the pipeline, then the security-group
/// arrows.
pub fn draw(arch: &Architecture, syntax: &dyn Syntax) -> String {
    let mut out = String::new();
    syntax.open(&mut out, arch);
    syntax.node(
        &mut out,
        1,
        "internet",
        Shape::Round,
        Label::Word("Internet"),
    );
    syntax.node(&mut out, 1, "ecr", Shape::Box, Label::Lines(&arch.ecr));
    for s in &arch.services {
        syntax.service(&mut out, &format!("svc_{}", ident(&s.name)), s);
    }
    draw_region(&mut out, arch, syntax);
    draw_pipeline(&mut out, arch, syntax);
    for f in &arch.flows {
        let (from, to) = (node_id(&f.from), node_id(&f.to));
        syntax.edge(&mut out, 1, &from, &to, Some(Label::Lines(&f.label())));
    }
    syntax.close(&mut out);
    out
}

/// Region > VPC > zones with their subnets; the tiers and the other arrow
/// ends inside the VPC.
fn draw_region(out: &mut String, arch: &Architecture, syntax: &dyn Syntax) {
    let region = [format!("Region {}", arch.region)];
    syntax.open_group(out, 1, Group::new("region", &region, None));
    let mut vpc = vec![format!("VPC {} {}", arch.vpc_id, arch.vpc_cidr)];
    vpc.extend(arch.vpc_notes.iter().cloned());
    syntax.open_group(out, 2, Group::new("vpc", &vpc, None));
    for zone in &arch.zones {
        let id = format!("zone_{}", ident(zone));
        let label = [format!("zone {zone}")];
        syntax.open_group(out, 3, Group::new(&id, &label, Some("TB")));
        for s in arch.subnets.iter().filter(|s| &s.zone == zone) {
            let mut lines = vec![s.id.clone(), s.cidr.clone()];
            lines.extend(s.lines.iter().cloned());
            syntax.node(out, 4, &ident(&s.id), Shape::Box, Label::Lines(&lines));
        }
        syntax.close_group(out, 3);
    }
    for (t, tier) in arch.tiers.iter().enumerate() {
        let mut lines = vec![format!("{} tier", tier.name)];
        lines.extend(tier.groups.iter().map(|g| format!("SG {g}")));
        let id = node_id(&Node::Tier(t));
        syntax.node(out, 3, &id, Shape::Hexagon, Label::Lines(&lines));
    }
    for (i, other) in arch.others.iter().enumerate() {
        let id = node_id(&Node::Other(i));
        let label = Label::Lines(std::slice::from_ref(other));
        syntax.node(out, 3, &id, Shape::Box, label);
    }
    syntax.close_group(out, 2);
    syntax.close_group(out, 1);
}

/// The source repository, then the pipeline's stages left to right.
fn draw_pipeline(out: &mut String, arch: &Architecture, syntax: &dyn Syntax) {
    syntax.node(out, 1, "source", Shape::Box, Label::Lines(&arch.source));
    let pipeline = Group::new("pipeline", &arch.pipeline.lines, Some("LR"));
    syntax.open_group(out, 1, pipeline);
    let ids: Vec<String> = arch
        .pipeline
        .stages
        .iter()
        .map(|(name, _)| format!("stage_{}", ident(name)))
        .collect();
    for ((name, actions), id) in arch.pipeline.stages.iter().zip(&ids) {
        let mut lines = vec![name.clone()];
        lines.extend(actions.iter().cloned());
        syntax.node(out, 2, id, Shape::Box, Label::Lines(&lines));
    }
    for pair in ids.windows(2) {
        syntax.edge(out, 2, &pair[0], &pair[1], None);
    }
    syntax.close_group(out, 1);
    if let Some(first) = ids.first() {
        syntax.edge(out, 1, "source", first, Some(Label::Word("push")));
    }
}
