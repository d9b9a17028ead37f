//! Mermaid flowchart (for READMEs): the same facts as the SVG, laid out by
//! Mermaid's renderer. Subgraphs nest region > VPC > zone.

use crate::model::{Architecture, Node};
use crate::text::ident;

/// A node label: lines joined with `<br/>`, quotes made entities.
fn label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| l.replace('"', "#quot;"))
        .collect::<Vec<_>>()
        .join("<br/>")
}

fn node_id(node: &Node) -> String {
    match node {
        Node::Internet => "internet".to_owned(),
        Node::Tier(t) => format!("tier{t}"),
        Node::Other(i) => format!("other{i}"),
    }
}

pub fn render(arch: &Architecture) -> String {
    let mut out = String::from("flowchart TB\n");
    out.push_str("  internet((\"Internet\"))\n");
    out.push_str(&format!("  ecr[\"{}\"]\n", label(&arch.ecr)));
    for s in &arch.services {
        let id = format!("svc_{}", ident(&s.name));
        match &s.load_balancer {
            Some(lb) => {
                out.push_str(&format!(
                    "  subgraph {id}_box[\"{}\"]\n",
                    label(std::slice::from_ref(&s.name))
                ));
                out.push_str(&format!("    {id}[\"{}\"]\n", label(&s.lines)));
                out.push_str(&format!("    {id}_lb[\"{}\"]\n", label(lb)));
                out.push_str("  end\n");
            }
            None => {
                let mut lines = vec![s.name.clone()];
                lines.extend(s.lines.iter().cloned());
                out.push_str(&format!("  {id}[\"{}\"]\n", label(&lines)));
            }
        }
        out.push_str(&format!("  ecr -->|image| {id}\n"));
    }
    out.push_str(&format!("  subgraph region[\"Region {}\"]\n", arch.region));
    let mut vpc = vec![format!("VPC {} {}", arch.vpc_id, arch.vpc_cidr)];
    vpc.extend(arch.vpc_notes.iter().cloned());
    out.push_str(&format!("    subgraph vpc[\"{}\"]\n", label(&vpc)));
    for zone in &arch.zones {
        out.push_str(&format!(
            "      subgraph zone_{}[\"zone {zone}\"]\n",
            ident(zone)
        ));
        out.push_str("        direction TB\n");
        for s in arch.subnets.iter().filter(|s| &s.zone == zone) {
            let mut lines = vec![s.id.clone(), s.cidr.clone()];
            lines.extend(s.lines.iter().cloned());
            out.push_str(&format!(
                "        {}[\"{}\"]\n",
                ident(&s.id),
                label(&lines)
            ));
        }
        out.push_str("      end\n");
    }
    for (t, tier) in arch.tiers.iter().enumerate() {
        let mut lines = vec![format!("{} tier", tier.name)];
        lines.extend(tier.groups.iter().map(|g| format!("SG {g}")));
        out.push_str(&format!("      tier{t}{{{{\"{}\"}}}}\n", label(&lines)));
    }
    for (i, o) in arch.others.iter().enumerate() {
        out.push_str(&format!(
            "      other{i}[\"{}\"]\n",
            label(std::slice::from_ref(o))
        ));
    }
    out.push_str("    end\n  end\n");
    out.push_str(&format!("  source[\"{}\"]\n", label(&arch.source)));
    out.push_str(&format!(
        "  subgraph pipeline[\"{}\"]\n    direction LR\n",
        label(&arch.pipeline.lines)
    ));
    let stage_ids: Vec<String> = arch
        .pipeline
        .stages
        .iter()
        .map(|(name, _)| format!("stage_{}", ident(name)))
        .collect();
    for ((name, actions), id) in arch.pipeline.stages.iter().zip(&stage_ids) {
        let mut lines = vec![name.clone()];
        lines.extend(actions.iter().cloned());
        out.push_str(&format!("    {id}[\"{}\"]\n", label(&lines)));
    }
    for pair in stage_ids.windows(2) {
        out.push_str(&format!("    {} --> {}\n", pair[0], pair[1]));
    }
    out.push_str("  end\n");
    if let Some(first) = stage_ids.first() {
        out.push_str(&format!("  source -->|push| {first}\n"));
    }
    for f in &arch.flows {
        out.push_str(&format!(
            "  {} -->|\"{}\"| {}\n",
            node_id(&f.from),
            label(&f.label()),
            node_id(&f.to)
        ));
    }
    out
}
