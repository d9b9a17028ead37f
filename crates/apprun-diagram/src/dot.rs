//! Graphviz DOT: clusters for region, VPC and zones; security-group rules as
//! labelled edges between the Internet and the tiers.

use crate::graph::{Group, Label, Shape, Syntax, draw, indent};
use crate::model::{Architecture, ServiceFacts};

/// A DOT string literal: lines joined with `\l` (left-justified).
fn quoted(lines: &[String]) -> String {
    let body: String = lines
        .iter()
        .map(|l| format!("{}\\l", l.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("\"{body}\"")
}

/// A label: fixed words as a plain string, template lines left-justified.
fn label(label: Label) -> String {
    match label {
        Label::Word(w) => format!("\"{w}\""),
        Label::Lines(lines) => quoted(lines),
    }
}

struct Dot;

impl Syntax for Dot {
    fn open(&self, out: &mut String, arch: &Architecture) {
        let title = format!("{} · env {} · {}", arch.system, arch.env, arch.region);
        out.push_str(&format!(
            "digraph \"{}-{}\" {{\n  graph [rankdir=TB, fontname=\"DejaVu Sans Mono\", label={}, labelloc=t];\n",
            arch.system,
            arch.env,
            quoted(&[title]),
        ));
        out.push_str("  node [shape=box, fontname=\"DejaVu Sans Mono\", fontsize=10];\n");
        out.push_str("  edge [fontname=\"DejaVu Sans Mono\", fontsize=9];\n");
    }

    fn close(&self, out: &mut String) {
        out.push_str("}\n");
    }

    fn node(&self, out: &mut String, depth: usize, id: &str, shape: Shape, text: Label) {
        let shape = match shape {
            Shape::Box => "",
            Shape::Round => "shape=ellipse, ",
            Shape::Hexagon => "shape=hexagon, ",
        };
        out.push_str(&format!(
            "{}{id} [{shape}label={}];\n",
            indent(depth),
            label(text)
        ));
    }

    fn edge(&self, out: &mut String, depth: usize, from: &str, to: &str, text: Option<Label>) {
        let attrs = text.map(|t| format!(" [label={}]", label(t)));
        out.push_str(&format!(
            "{}{from} -> {to}{};\n",
            indent(depth),
            attrs.unwrap_or_default()
        ));
    }

    fn open_group(&self, out: &mut String, depth: usize, group: Group) {
        out.push_str(&format!(
            "{}subgraph cluster_{} {{\n{}label={};\n",
            indent(depth),
            group.id,
            indent(depth + 1),
            quoted(group.label)
        ));
    }

    fn close_group(&self, out: &mut String, depth: usize) {
        out.push_str(&format!("{}}}\n", indent(depth)));
    }

    /// The load balancer as a node of its own, with an edge into the service.
    fn service(&self, out: &mut String, id: &str, service: &ServiceFacts) {
        let mut lines = vec![service.name.clone()];
        lines.extend(service.lines.iter().cloned());
        self.node(out, 1, id, Shape::Box, Label::Lines(&lines));
        self.edge(out, 1, "ecr", id, Some(Label::Word("image")));
        if let Some(lb) = &service.load_balancer {
            let lb_id = format!("{id}_lb");
            self.node(out, 1, &lb_id, Shape::Box, Label::Lines(lb));
            self.edge(out, 1, &lb_id, id, None);
        }
    }
}

pub fn render(arch: &Architecture) -> String {
    draw(arch, &Dot)
}
