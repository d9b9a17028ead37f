//! Graphviz DOT: clusters for region, VPC and zones; security-group rules as
//! labelled edges between the Internet and the tiers.

use crate::model::{Architecture, Node};
use crate::text::ident;

/// A DOT string literal: lines joined with `\l` (left-justified).
fn quoted(lines: &[String]) -> String {
    let body: String = lines
        .iter()
        .map(|l| format!("{}\\l", l.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("\"{body}\"")
}

fn node_id(node: &Node) -> String {
    match node {
        Node::Internet => "internet".to_owned(),
        Node::Tier(t) => format!("tier{t}"),
        Node::Other(i) => format!("other{i}"),
    }
}

pub fn render(arch: &Architecture) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "digraph \"{}-{}\" {{\n  graph [rankdir=TB, fontname=\"DejaVu Sans Mono\", label={}, labelloc=t];\n",
        arch.system,
        arch.env,
        quoted(&[format!("{} · env {} · {}", arch.system, arch.env, arch.region)]),
    ));
    out.push_str("  node [shape=box, fontname=\"DejaVu Sans Mono\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"DejaVu Sans Mono\", fontsize=9];\n");
    out.push_str("  internet [shape=ellipse, label=\"Internet\"];\n");
    out.push_str(&format!("  ecr [label={}];\n", quoted(&arch.ecr)));
    for s in &arch.services {
        let id = format!("svc_{}", ident(&s.name));
        let mut lines = vec![s.name.clone()];
        lines.extend(s.lines.iter().cloned());
        out.push_str(&format!("  {id} [label={}];\n", quoted(&lines)));
        out.push_str(&format!("  ecr -> {id} [label=\"image\"];\n"));
        if let Some(lb) = &s.load_balancer {
            out.push_str(&format!(
                "  {id}_lb [label={}];\n  {id}_lb -> {id};\n",
                quoted(lb)
            ));
        }
    }
    out.push_str(&format!(
        "  subgraph cluster_region {{\n    label={};\n",
        quoted(&[format!("Region {}", arch.region)])
    ));
    let mut vpc = vec![format!("VPC {} {}", arch.vpc_id, arch.vpc_cidr)];
    vpc.extend(arch.vpc_notes.iter().cloned());
    out.push_str(&format!(
        "    subgraph cluster_vpc {{\n      label={};\n",
        quoted(&vpc)
    ));
    for zone in &arch.zones {
        out.push_str(&format!(
            "      subgraph cluster_zone_{} {{\n        label={};\n",
            ident(zone),
            quoted(&[format!("zone {zone}")])
        ));
        for s in arch.subnets.iter().filter(|s| &s.zone == zone) {
            let mut lines = vec![s.id.clone(), s.cidr.clone()];
            lines.extend(s.lines.iter().cloned());
            out.push_str(&format!(
                "        {} [label={}];\n",
                ident(&s.id),
                quoted(&lines)
            ));
        }
        out.push_str("      }\n");
    }
    for (t, tier) in arch.tiers.iter().enumerate() {
        let mut lines = vec![format!("{} tier", tier.name)];
        lines.extend(tier.groups.iter().map(|g| format!("SG {g}")));
        out.push_str(&format!(
            "      tier{t} [shape=hexagon, label={}];\n",
            quoted(&lines)
        ));
    }
    for (i, o) in arch.others.iter().enumerate() {
        out.push_str(&format!(
            "      other{i} [label={}];\n",
            quoted(std::slice::from_ref(o))
        ));
    }
    out.push_str("    }\n  }\n");
    out.push_str(&format!("  source [label={}];\n", quoted(&arch.source)));
    out.push_str(&format!(
        "  subgraph cluster_pipeline {{\n    label={};\n",
        quoted(&arch.pipeline.lines)
    ));
    let ids: Vec<String> = arch
        .pipeline
        .stages
        .iter()
        .map(|(n, _)| format!("stage_{}", ident(n)))
        .collect();
    for ((name, actions), id) in arch.pipeline.stages.iter().zip(&ids) {
        let mut lines = vec![name.clone()];
        lines.extend(actions.iter().cloned());
        out.push_str(&format!("    {id} [label={}];\n", quoted(&lines)));
    }
    for pair in ids.windows(2) {
        out.push_str(&format!("    {} -> {};\n", pair[0], pair[1]));
    }
    out.push_str("  }\n");
    if let Some(first) = ids.first() {
        out.push_str(&format!("  source -> {first} [label=\"push\"];\n"));
    }
    for f in &arch.flows {
        out.push_str(&format!(
            "  {} -> {} [label={}];\n",
            node_id(&f.from),
            node_id(&f.to),
            quoted(&f.label())
        ));
    }
    out.push_str("}\n");
    out
}
