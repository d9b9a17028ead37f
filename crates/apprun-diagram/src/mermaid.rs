//! Mermaid flowchart (for READMEs): the same facts as the SVG, laid out by
//! Mermaid's renderer. Subgraphs nest region > VPC > zone.

use crate::graph::{Group, Label, Shape, Syntax, draw, indent};
use crate::model::{Architecture, ServiceFacts};

/// A node label: lines joined with `<br/>`, quotes made entities.
fn escaped(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| l.replace('"', "#quot;"))
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// A label's text: fixed words as they are, template lines escaped.
fn text(label: Label) -> String {
    match label {
        Label::Word(w) => w.to_owned(),
        Label::Lines(lines) => escaped(lines),
    }
}

struct Mermaid;

impl Syntax for Mermaid {
    fn open(&self, out: &mut String, _: &Architecture) {
        out.push_str("flowchart TB\n");
    }

    fn close(&self, _: &mut String) {}

    fn node(&self, out: &mut String, depth: usize, id: &str, shape: Shape, label: Label) {
        let (open, close) = match shape {
            Shape::Box => ("[", "]"),
            Shape::Round => ("((", "))"),
            Shape::Hexagon => ("{{", "}}"),
        };
        out.push_str(&format!(
            "{}{id}{open}\"{}\"{close}\n",
            indent(depth),
            text(label)
        ));
    }

    /// Fixed words go bare between the bars; template text is quoted.
    fn edge(&self, out: &mut String, depth: usize, from: &str, to: &str, label: Option<Label>) {
        let label = match label {
            None => String::new(),
            Some(Label::Word(w)) => format!("|{w}|"),
            Some(lines) => format!("|\"{}\"|", text(lines)),
        };
        out.push_str(&format!("{}{from} -->{label} {to}\n", indent(depth)));
    }

    fn open_group(&self, out: &mut String, depth: usize, group: Group) {
        let label = escaped(group.label);
        out.push_str(&format!(
            "{}subgraph {}[\"{label}\"]\n",
            indent(depth),
            group.id
        ));
        if let Some(direction) = group.direction {
            out.push_str(&format!("{}direction {direction}\n", indent(depth + 1)));
        }
    }

    fn close_group(&self, out: &mut String, depth: usize) {
        out.push_str(&format!("{}end\n", indent(depth)));
    }

    /// A service behind a load balancer is a box holding both.
    fn service(&self, out: &mut String, id: &str, service: &ServiceFacts) {
        match &service.load_balancer {
            Some(lb) => {
                let box_id = format!("{id}_box");
                let name = std::slice::from_ref(&service.name);
                self.open_group(out, 1, Group::new(&box_id, name, None));
                self.node(out, 2, id, Shape::Box, Label::Lines(&service.lines));
                self.node(out, 2, &format!("{id}_lb"), Shape::Box, Label::Lines(lb));
                self.close_group(out, 1);
            }
            None => {
                let mut lines = vec![service.name.clone()];
                lines.extend(service.lines.iter().cloned());
                self.node(out, 1, id, Shape::Box, Label::Lines(&lines));
            }
        }
        self.edge(out, 1, "ecr", id, Some(Label::Word("image")));
    }
}

pub fn render(arch: &Architecture) -> String {
    draw(arch, &Mermaid)
}
