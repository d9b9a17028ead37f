//! The SVG rendering: nested boxes on a grid, arrows routed orthogonally.
//!
//! Layout (every size computed from the text it holds, with a fixed-width
//! font, so that nothing depends on the machine that renders):
//!
//! ```text
//!  [ECR] --image--> [service]                         [Internet]  | |  [label]
//!  Region                                                          | |  [label]
//!   VPC                                                            | |
//!    [zone a]        [zone c]        [Public tier  (its SGs)]  ----+ |  [label]
//!     [subnet]        [subnet]       [Protect tier          ]  ------+
//!     ...
//!  [source] --> Pipeline [stage] --> [stage] --> ...
//! ```
//!
//! Zones are columns and tiers rows; each tier's security groups form one
//! node in the column right of the zones, the Internet node sits above it.
//! A security-group arrow leaves its node on the right edge at a port of its
//! own, runs to a vertical lane of its own right of the region, and enters
//! the other node the same way. Its label sits in a label column right of
//! all lanes, joined to the lane by a horizontal leader. No label can meet a
//! box or another label: boxes are left of the lanes, labels right of them,
//! and labels are stacked without overlap.

use std::collections::BTreeMap;

use crate::model::{Architecture, Node};
use crate::text::xml;

/// Font size of every text, in pixels.
pub const FONT_SIZE: i32 = 12;
/// Advance width of one character of the monospace font at [`FONT_SIZE`],
/// in tenths of a pixel (DejaVu Sans Mono: 0.602 em), rounded up.
pub const CHAR_WIDTH_TENTHS: i32 = 73;
const LINE: i32 = 16;
const PAD: i32 = 10;
const MARGIN: i32 = 20;
const GAP: i32 = 40;
const PORT_GAP: i32 = 10;
const LANE_GAP: i32 = 14;
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#e67e00", "#17becf", "#8c564b", "#d6339b",
];

/// Rendered width of a text line.
fn text_width(s: &str) -> i32 {
    (s.chars().count() as i32 * CHAR_WIDTH_TENTHS + 9) / 10
}

#[derive(Debug, Clone)]
struct Line {
    text: String,
    bold: bool,
}

/// A title line in bold, then plain lines.
fn titled(title: &str, rest: &[String]) -> Vec<Line> {
    let mut v = vec![Line {
        text: title.to_owned(),
        bold: true,
    }];
    v.extend(rest.iter().map(|t| Line {
        text: t.clone(),
        bold: false,
    }));
    v
}

/// A box with its text at the top left and boxes nested in it.
#[derive(Debug, Clone)]
struct Frame {
    id: String,
    class: &'static str,
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    lines: Vec<Line>,
    children: Vec<Frame>,
}

impl Frame {
    /// A box just big enough for its text.
    fn leaf(id: &str, class: &'static str, lines: Vec<Line>) -> Frame {
        let w = lines.iter().map(|l| text_width(&l.text)).max().unwrap_or(0) + 2 * PAD;
        let h = lines.len() as i32 * LINE + 2 * PAD;
        Frame {
            id: id.to_owned(),
            class,
            x: 0,
            y: 0,
            w,
            h,
            lines,
            children: Vec::new(),
        }
    }

    /// Where nested boxes may start, below the text.
    fn content_top(&self) -> i32 {
        self.y + PAD + self.lines.len() as i32 * LINE + 6
    }

    fn text_w(&self) -> i32 {
        self.lines
            .iter()
            .map(|l| text_width(&l.text))
            .max()
            .unwrap_or(0)
            + 2 * PAD
    }

    fn right(&self) -> i32 {
        self.x + self.w
    }

    fn bottom(&self) -> i32 {
        self.y + self.h
    }

    fn at(mut self, x: i32, y: i32) -> Frame {
        self.x = x;
        self.y = y;
        self
    }

    /// Grows the box around its children (and its own text).
    fn wrap(&mut self) {
        let right = self
            .children
            .iter()
            .map(Frame::right)
            .max()
            .unwrap_or(self.x);
        let bottom = self
            .children
            .iter()
            .map(Frame::bottom)
            .max()
            .unwrap_or(self.content_top());
        self.w = self.w.max(right + PAD - self.x).max(self.text_w());
        self.h = self.h.max(bottom + PAD - self.y);
    }

    fn emit(&self, out: &mut String) {
        out.push_str(&format!(
            "<g class=\"box {}\" id=\"{}\">\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\"/>\n",
            self.class,
            xml(&self.id),
            self.x,
            self.y,
            self.w,
            self.h
        ));
        for (i, line) in self.lines.iter().enumerate() {
            emit_text(out, self.x + PAD, self.y + PAD + i as i32 * LINE + 12, line);
        }
        for child in &self.children {
            child.emit(out);
        }
        out.push_str("</g>\n");
    }
}

fn emit_text(out: &mut String, x: i32, baseline: i32, line: &Line) {
    let class = if line.bold { " class=\"b\"" } else { "" };
    out.push_str(&format!(
        "<text x=\"{x}\" y=\"{baseline}\"{class}>{}</text>\n",
        xml(&line.text)
    ));
}

/// A plain arrow between two boxes side by side, its label above it.
fn emit_link(out: &mut String, x1: i32, x2: i32, y: i32, label: &str) {
    out.push_str(&format!(
        "<path class=\"link\" d=\"M{x1},{y} H{}\" marker-end=\"url(#link)\"/>\n",
        x2 - 2
    ));
    if !label.is_empty() {
        let x = (x1 + x2 - text_width(label)) / 2;
        emit_text(
            out,
            x,
            y - 6,
            &Line {
                text: label.to_owned(),
                bold: false,
            },
        );
    }
}

/// What an arrow end outside the tiers is, from how the template names it.
fn other_kind(peer: &str) -> &'static str {
    if peer.contains('/') {
        "CIDR of no subnet"
    } else if peer.starts_with("pl-") {
        "prefix list"
    } else {
        "SG on no subnet"
    }
}

/// Horizontal space for a link whose label is `label`.
fn link_gap(label: &str) -> i32 {
    (text_width(label) + 24).max(GAP)
}

pub fn render(arch: &Architecture) -> String {
    let mut links = String::new();
    let title = format!(
        "{} · env {} · {} — drawn from the synthesized stacks",
        arch.system, arch.env, arch.region
    );

    // Top row: ECR, then the services, pulling their image from it.
    let y0 = MARGIN + 30;
    let mut top: Vec<Frame> = Vec::new();
    let ecr = Frame::leaf("ecr", "store", titled("ECR", &arch.ecr)).at(MARGIN, y0);
    let mut x = ecr.right();
    top.push(ecr);
    for (i, service) in arch.services.iter().enumerate() {
        let label = if i == 0 { "image" } else { "" };
        let gap = link_gap(label);
        let mut frame = Frame::leaf(
            &format!("service-{}", service.name),
            "service",
            titled(&service.name, &service.lines),
        )
        .at(x + gap, y0);
        if i == 0 {
            emit_link(&mut links, x, frame.x, y0 + 20, label);
        }
        if let Some(lb) = &service.load_balancer {
            let (cx, cy) = (frame.x + PAD, frame.content_top());
            let (title, rest) = lb
                .split_first()
                .map(|(t, r)| (t.as_str(), r))
                .unwrap_or(("", &[]));
            frame.children.push(
                Frame::leaf(&format!("lb-{}", service.name), "lb", titled(title, rest)).at(cx, cy),
            );
            frame.wrap();
        }
        x = frame.right();
        top.push(frame);
    }
    let top_right = x;
    let top_bottom = top.iter().map(Frame::bottom).max().unwrap_or(y0);

    // The nodes security-group arrows join, and their ports.
    let nodes = arch.nodes();
    let index: BTreeMap<Node, usize> = nodes
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, n)| (n, i))
        .collect();
    let node_index = |n: &Node| index.get(n).copied().unwrap_or(0);
    // Lanes: short arrows nearest the nodes (fewer crossings).
    let mut order: Vec<usize> = (0..arch.flows.len()).collect();
    order.sort_by_key(|&k| {
        let f = &arch.flows[k];
        let (a, b) = (node_index(&f.from), node_index(&f.to));
        (
            a.abs_diff(b),
            a.min(b),
            a.max(b),
            f.group.clone(),
            f.direction,
            k,
        )
    });
    // Ports of each node: (lane, is the arrow's start), in lane order.
    let mut ports: Vec<Vec<(usize, bool)>> = vec![Vec::new(); nodes.len()];
    for (lane, &k) in order.iter().enumerate() {
        let f = &arch.flows[k];
        ports[node_index(&f.from)].push((lane, true));
        ports[node_index(&f.to)].push((lane, false));
    }
    let mut node_frames: Vec<Frame> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let rest: Vec<String> = match n {
                Node::Internet => vec!["0.0.0.0/0, ::/0".to_owned()],
                Node::Tier(t) => arch.tiers[*t]
                    .groups
                    .iter()
                    .map(|g| format!("SG {g}"))
                    .collect(),
                Node::Other(o) => vec![other_kind(&arch.others[*o]).to_owned()],
            };
            let mut f = Frame::leaf(
                &format!("node-{i}"),
                "node",
                titled(&arch.node_title(n), &rest),
            );
            f.h = f.h.max(2 * PAD + ports[i].len() as i32 * PORT_GAP);
            f
        })
        .collect();
    let node_w = node_frames.iter().map(|f| f.w).max().unwrap_or(0);
    for f in &mut node_frames {
        f.w = node_w;
    }

    // Subnet boxes: one column per zone, one row per tier.
    let mut subnet_frames: BTreeMap<(usize, usize), Frame> = BTreeMap::new();
    for (z, zone) in arch.zones.iter().enumerate() {
        for t in 0..arch.tiers.len() {
            if let Some(s) = arch.subnet(t, zone) {
                let mut rest = vec![s.cidr.clone()];
                rest.extend(s.lines.iter().cloned());
                subnet_frames.insert((z, t), Frame::leaf(&s.id, "subnet", titled(&s.id, &rest)));
            }
        }
    }
    let col_w: Vec<i32> = (0..arch.zones.len())
        .map(|z| {
            subnet_frames
                .iter()
                .filter(|((zz, _), _)| *zz == z)
                .map(|(_, f)| f.w)
                .max()
                .unwrap_or(0)
                .max(text_width(&format!("zone {}", arch.zones[z])) + 2 * PAD)
        })
        .collect();
    let rows = nodes.len() - 1;
    let row_h: Vec<i32> = (0..rows)
        .map(|r| {
            let subnets = subnet_frames
                .iter()
                .filter(|((_, t), _)| *t == r)
                .map(|(_, f)| f.h)
                .max()
                .unwrap_or(0);
            subnets.max(node_frames[r + 1].h)
        })
        .collect();

    // Region, VPC and zones, from the outside in.
    let mut region = Frame::leaf(
        "region",
        "region",
        titled(&format!("Region {}", arch.region), &[]),
    )
    .at(MARGIN, top_bottom + GAP);
    let mut vpc_lines = vec![format!("{} · {}", arch.vpc_id, arch.vpc_cidr)];
    vpc_lines.extend(arch.vpc_notes.iter().cloned());
    let mut vpc = Frame::leaf("vpc", "vpc", titled("VPC", &vpc_lines))
        .at(region.x + PAD, region.content_top());
    let zone_top = vpc.content_top();
    let row0 = zone_top + PAD + LINE + 6;
    let mut row_top = vec![row0];
    for r in 1..rows {
        row_top.push(row_top[r - 1] + row_h[r - 1] + 24);
    }
    let mut zx = vpc.x + PAD;
    let mut zones_right = zx;
    let tier_rows = arch.tiers.len();
    for (z, zone) in arch.zones.iter().enumerate() {
        let mut frame = Frame::leaf(
            &format!("zone-{zone}"),
            "zone",
            titled(&format!("zone {zone}"), &[]),
        )
        .at(zx, zone_top);
        for t in 0..tier_rows {
            if let Some(mut s) = subnet_frames.remove(&(z, t)) {
                s.w = col_w[z];
                s.h = row_h[t];
                frame.children.push(s.at(zx + PAD, row_top[t]));
            }
        }
        frame.wrap();
        frame.w = frame.w.max(col_w[z] + 2 * PAD);
        zx = frame.right() + 16;
        zones_right = frame.right();
        vpc.children.push(frame);
    }
    let node_x = (zones_right + 24).max(top_right + GAP);
    for (i, f) in node_frames.iter_mut().enumerate() {
        let y = if i == 0 { y0 } else { row_top[i - 1] };
        f.x = node_x;
        f.y = y;
    }
    let mut node_iter = node_frames.into_iter();
    let internet = node_iter.next();
    vpc.children.extend(node_iter);
    vpc.wrap();
    region.children.push(vpc);
    region.wrap();

    // Arrows: ports on the right edge of the nodes, one lane each.
    let node_right = node_x + node_w;
    let node_tops: Vec<i32> = (0..nodes.len())
        .map(|i| if i == 0 { y0 } else { row_top[i - 1] })
        .collect();
    let port_y = |node: usize, lane: usize, start: bool| -> i32 {
        let i = ports[node]
            .iter()
            .position(|p| *p == (lane, start))
            .unwrap_or(0);
        node_tops[node] + PAD + 5 + i as i32 * PORT_GAP
    };
    let lane0 = region.right() + 30;
    let lane_x = |lane: usize| lane0 + lane as i32 * LANE_GAP;
    let label_x = lane_x(order.len()) + 20;
    struct Placed {
        lane: usize,
        ys: (i32, i32),
        top: i32,
        h: i32,
        lines: Vec<String>,
    }
    let mut placed: Vec<Placed> = order
        .iter()
        .enumerate()
        .map(|(lane, &k)| {
            let f = &arch.flows[k];
            let ys = (
                port_y(node_index(&f.from), lane, true),
                port_y(node_index(&f.to), lane, false),
            );
            let lines = f.label();
            let h = lines.len() as i32 * LINE + 8;
            Placed {
                lane,
                ys,
                top: 0,
                h,
                lines,
            }
        })
        .collect();
    // Labels stacked top to bottom, each as near its arrow as the ones above allow.
    placed.sort_by_key(|p| (p.ys.0 + p.ys.1, p.lane));
    let mut next_free = y0;
    for p in &mut placed {
        let want = (p.ys.0 + p.ys.1) / 2 - p.h / 2;
        p.top = want.max(next_free);
        next_free = p.top + p.h + 8;
    }
    let labels_bottom = next_free;
    // Every port's y, by lane: a leader must not run along another arrow's stub.
    let stub_ys: Vec<(usize, i32)> = placed
        .iter()
        .flat_map(|p| [(p.lane, p.ys.0), (p.lane, p.ys.1)])
        .collect();
    let mut flows_svg = String::new();
    placed.sort_by_key(|p| p.lane);
    for p in &placed {
        let k = order[p.lane];
        let f = &arch.flows[k];
        let color = PALETTE[p.lane % PALETTE.len()];
        let lx = lane_x(p.lane);
        let (lo, hi) = (p.ys.0.min(p.ys.1), p.ys.0.max(p.ys.1));
        // The leader: inside the label, as near its middle as possible, on
        // the lane's span if the label reaches it, clear of later stubs.
        let mid = p.top + p.h / 2;
        let lead = (p.top + 6..=p.top + p.h - 6)
            .filter(|y| {
                !stub_ys
                    .iter()
                    .any(|(lane, sy)| *lane > p.lane && (sy - y).abs() < 4)
            })
            .min_by_key(|y| {
                let outside = if *y < lo {
                    lo - y
                } else if *y > hi {
                    y - hi
                } else {
                    0
                };
                (outside, (y - mid).abs(), *y)
            })
            .unwrap_or(mid);
        let (vlo, vhi) = (lo.min(lead), hi.max(lead));
        flows_svg.push_str(&format!(
            "<g class=\"flow\" data-group=\"{}\" data-direction=\"{}\" data-from=\"{}\" data-to=\"{}\">\n",
            xml(&f.group),
            f.direction.as_str(),
            xml(&arch.node_title(&f.from)),
            xml(&arch.node_title(&f.to)),
        ));
        flows_svg.push_str(&format!(
            "<path class=\"arrow\" stroke=\"{color}\" d=\"M{node_right},{} H{lx} V{} H{}\" marker-end=\"url(#a{})\"/>\n",
            p.ys.0,
            p.ys.1,
            node_right + 2,
            p.lane % PALETTE.len()
        ));
        if vlo < lo || vhi > hi {
            flows_svg.push_str(&format!(
                "<path class=\"arrow\" stroke=\"{color}\" d=\"M{lx},{vlo} V{vhi}\"/>\n"
            ));
        }
        flows_svg.push_str(&format!(
            "<path class=\"leader\" stroke=\"{color}\" d=\"M{lx},{lead} H{label_x}\"/>\n"
        ));
        let w = p.lines.iter().map(|l| text_width(l)).max().unwrap_or(0) + 2 * PAD;
        flows_svg.push_str(&format!(
            "<g class=\"box label\" id=\"label-{}\">\n<rect x=\"{label_x}\" y=\"{}\" width=\"{w}\" height=\"{}\" rx=\"3\" stroke=\"{color}\"/>\n",
            p.lane, p.top, p.h
        ));
        for (i, line) in p.lines.iter().enumerate() {
            emit_text(
                &mut flows_svg,
                label_x + PAD,
                p.top + 4 + i as i32 * LINE + 12,
                &Line {
                    text: line.clone(),
                    bold: i == 0,
                },
            );
        }
        flows_svg.push_str("</g>\n</g>\n");
    }
    let labels_right = placed
        .iter()
        .map(|p| label_x + p.lines.iter().map(|l| text_width(l)).max().unwrap_or(0) + 2 * PAD)
        .max()
        .unwrap_or(label_x);

    // Bottom row: the source repository feeding the pipeline's stages.
    let y_p = region.bottom().max(labels_bottom) + GAP;
    let source = Frame::leaf("source", "store", titled("Source", &arch.source)).at(MARGIN, y_p);
    let mut pipeline = Frame::leaf(
        "pipeline",
        "pipeline",
        titled("Pipeline", &arch.pipeline.lines),
    )
    .at(source.right() + link_gap("push"), y_p);
    emit_link(&mut links, source.right(), pipeline.x, y_p + 20, "push");
    let mut sx = pipeline.x + PAD;
    let sy = pipeline.content_top();
    let mut stages: Vec<Frame> = arch
        .pipeline
        .stages
        .iter()
        .map(|(name, actions)| {
            Frame::leaf(&format!("stage-{name}"), "stage", titled(name, actions))
        })
        .collect();
    let stage_h = stages.iter().map(|s| s.h).max().unwrap_or(0);
    for (i, stage) in stages.iter_mut().enumerate() {
        if i > 0 {
            emit_link(&mut links, sx, sx + 30, sy + 20, "");
            sx += 30;
        }
        stage.x = sx;
        stage.y = sy;
        stage.h = stage_h;
        sx = stage.right();
    }
    pipeline.children = stages;
    pipeline.wrap();

    let width = [region.right(), labels_right, pipeline.right(), top_right]
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(MARGIN + text_width(&title))
        + MARGIN;
    let height = pipeline.bottom().max(source.bottom()) + MARGIN;

    let mut out = String::new();
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"{FONT_SIZE}\">\n"
    ));
    out.push_str("<defs>\n<style>\n");
    out.push_str(
        "rect { fill: #ffffff; stroke: #5f6b7a; stroke-width: 1; }\n\
         .region > rect { fill: #f7f9fc; stroke-dasharray: 6 3; }\n\
         .vpc > rect { fill: #eef6ee; stroke: #3c8d40; }\n\
         .zone > rect { fill: #f4fbf4; stroke: #3c8d40; stroke-dasharray: 4 3; }\n\
         .subnet > rect { fill: #ffffff; stroke: #3c8d40; }\n\
         .node > rect { fill: #fff7e6; stroke: #c77700; }\n\
         .service > rect, .lb > rect { fill: #fdf0f6; stroke: #b0306e; }\n\
         .store > rect { fill: #eef3fb; stroke: #2f5fa8; }\n\
         .pipeline > rect, .stage > rect { fill: #f3f0fb; stroke: #5a3fa8; }\n\
         .label > rect { fill: #ffffff; stroke-width: 1.5; }\n\
         text { fill: #1b1f24; white-space: pre; }\n\
         text.b { font-weight: bold; }\n\
         path.arrow, path.link, path.leader { fill: none; stroke-width: 1.5; }\n\
         path.link { stroke: #5f6b7a; }\n\
         path.leader { stroke-width: 1; stroke-dasharray: 3 2; }\n",
    );
    out.push_str("</style>\n");
    out.push_str("<marker id=\"link\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5f6b7a\"/></marker>\n");
    for (i, color) in PALETTE.iter().enumerate() {
        out.push_str(&format!(
            "<marker id=\"a{i}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>\n"
        ));
    }
    out.push_str("</defs>\n");
    out.push_str(&format!(
        "<rect class=\"background\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" style=\"fill:#ffffff;stroke:none\"/>\n"
    ));
    emit_text(
        &mut out,
        MARGIN,
        MARGIN + 12,
        &Line {
            text: title,
            bold: true,
        },
    );
    for frame in &top {
        frame.emit(&mut out);
    }
    if let Some(internet) = &internet {
        internet.emit(&mut out);
    }
    region.emit(&mut out);
    source.emit(&mut out);
    pipeline.emit(&mut out);
    out.push_str(&links);
    out.push_str(&flows_svg);
    out.push_str("</svg>\n");
    out
}
