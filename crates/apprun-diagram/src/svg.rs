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

use crate::model::{Architecture, Flow, Node, ServiceFacts};
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
        let mut frame = Frame {
            id: id.to_owned(),
            class,
            x: 0,
            y: 0,
            w: 0,
            h: lines.len() as i32 * LINE + 2 * PAD,
            lines,
            children: Vec::new(),
        };
        frame.w = frame.text_w();
        frame
    }

    /// Where nested boxes may start, below the text.
    fn content_top(&self) -> i32 {
        self.y + PAD + self.lines.len() as i32 * LINE + 6
    }

    /// The width its text needs.
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

/// The SVG document of the architecture.
pub fn render(arch: &Architecture) -> String {
    let title = format!(
        "{} · env {} · {} — drawn from the synthesized stacks",
        arch.system, arch.env, arch.region
    );
    // Plain arrows between boxes, drawn above every box.
    let mut links = String::new();
    let top = top_row(arch, &mut links);
    let lanes = Lanes::new(arch);
    let nodes = node_frames(arch, &lanes);
    let grid = Grid::measure(arch, &nodes);
    let network = network_frames(arch, grid, nodes, top.bottom + GAP, top.right);
    let arrows = arrows(arch, &lanes, &network);
    let pipeline_y = network.region.bottom().max(arrows.labels_bottom) + GAP;
    let (source, pipeline) = pipeline_row(arch, pipeline_y, &mut links);

    let width = [
        network.region.right(),
        arrows.labels_right,
        pipeline.right(),
        top.right,
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
    .max(MARGIN + text_width(&title))
        + MARGIN;
    let height = pipeline.bottom().max(source.bottom()) + MARGIN;

    let mut out = String::new();
    emit_prologue(&mut out, width, height);
    emit_text(
        &mut out,
        MARGIN,
        MARGIN + 12,
        &Line {
            text: title,
            bold: true,
        },
    );
    let frames = top.frames.iter().chain(&network.internet);
    for frame in frames.chain([&network.region, &source, &pipeline]) {
        frame.emit(&mut out);
    }
    out.push_str(&links);
    out.push_str(&arrows.svg);
    out.push_str("</svg>\n");
    out
}

/// Where the top row (ECR and the services) stands; the Internet node and
/// the first label may start there too.
const TOP_Y: i32 = MARGIN + 30;

/// The top row: ECR, then the services, pulling their image from it.
struct TopRow {
    frames: Vec<Frame>,
    right: i32,
    bottom: i32,
}

fn top_row(arch: &Architecture, links: &mut String) -> TopRow {
    let ecr = Frame::leaf("ecr", "store", titled("ECR", &arch.ecr)).at(MARGIN, TOP_Y);
    let mut x = ecr.right();
    let mut frames = vec![ecr];
    for (i, service) in arch.services.iter().enumerate() {
        // One labelled arrow, to the first service, says where images come
        // from; the other services stand beside it without one.
        let label = if i == 0 { "image" } else { "" };
        let frame = service_frame(service, x + link_gap(label), TOP_Y);
        if i == 0 {
            emit_link(links, x, frame.x, TOP_Y + 20, label);
        }
        x = frame.right();
        frames.push(frame);
    }
    let bottom = frames.iter().map(Frame::bottom).max().unwrap_or(TOP_Y);
    TopRow {
        frames,
        right: x,
        bottom,
    }
}

/// A service's box at (x, y), with the load balancer in front of it (ECS
/// Express) nested inside.
fn service_frame(service: &ServiceFacts, x: i32, y: i32) -> Frame {
    let mut frame = Frame::leaf(
        &format!("service-{}", service.name),
        "service",
        titled(&service.name, &service.lines),
    )
    .at(x, y);
    if let Some(lb) = &service.load_balancer {
        let (title, rest) = lb
            .split_first()
            .map(|(t, r)| (t.as_str(), r))
            .unwrap_or(("", &[]));
        let lb = Frame::leaf(&format!("lb-{}", service.name), "lb", titled(title, rest))
            .at(frame.x + PAD, frame.content_top());
        frame.children.push(lb);
        frame.wrap();
    }
    frame
}

/// The nodes security-group arrows join, the lane of each arrow, and the
/// ports on each node's right edge.
struct Lanes {
    nodes: Vec<Node>,
    index: BTreeMap<Node, usize>,
    /// The flow drawn in each lane.
    order: Vec<usize>,
    /// Ports of each node: (lane, is the arrow's start), in lane order.
    ports: Vec<Vec<(usize, bool)>>,
}

impl Lanes {
    fn new(arch: &Architecture) -> Lanes {
        let nodes = arch.nodes();
        let index = nodes
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        let mut lanes = Lanes {
            ports: vec![Vec::new(); nodes.len()],
            nodes,
            index,
            order: (0..arch.flows.len()).collect(),
        };
        // Short arrows nearest the nodes (fewer crossings).
        let mut order = std::mem::take(&mut lanes.order);
        order.sort_by_key(|&k| {
            let f = &arch.flows[k];
            let (a, b) = (lanes.node_index(&f.from), lanes.node_index(&f.to));
            (
                a.abs_diff(b),
                a.min(b),
                a.max(b),
                f.group.clone(),
                f.direction,
                k,
            )
        });
        for (lane, &k) in order.iter().enumerate() {
            let f = &arch.flows[k];
            let (from, to) = (lanes.node_index(&f.from), lanes.node_index(&f.to));
            lanes.ports[from].push((lane, true));
            lanes.ports[to].push((lane, false));
        }
        lanes.order = order;
        lanes
    }

    fn node_index(&self, node: &Node) -> usize {
        self.index.get(node).copied().unwrap_or(0)
    }

    /// The y of the port of `lane` on `node`, whose box starts at `node_top`.
    fn port_y(&self, node: usize, node_top: i32, lane: usize, start: bool) -> i32 {
        let i = self.ports[node]
            .iter()
            .position(|p| *p == (lane, start))
            .unwrap_or(0);
        node_top + PAD + 5 + i as i32 * PORT_GAP
    }
}

/// One box per node, tall enough for its ports, all as wide as the widest
/// so that every port sits on one vertical line.
fn node_frames(arch: &Architecture, lanes: &Lanes) -> Vec<Frame> {
    let mut frames: Vec<Frame> = lanes
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut f = Frame::leaf(
                &format!("node-{i}"),
                "node",
                titled(&arch.node_title(n), &node_lines(arch, n)),
            );
            f.h = f.h.max(2 * PAD + lanes.ports[i].len() as i32 * PORT_GAP);
            f
        })
        .collect();
    let width = frames.iter().map(|f| f.w).max().unwrap_or(0);
    for f in &mut frames {
        f.w = width;
    }
    frames
}

/// The lines under a node's title: what the Internet covers, a tier's
/// security groups, or what kind of thing another end is.
fn node_lines(arch: &Architecture, node: &Node) -> Vec<String> {
    match node {
        Node::Internet => vec!["0.0.0.0/0, ::/0".to_owned()],
        Node::Tier(t) => arch.tiers[*t]
            .groups
            .iter()
            .map(|g| format!("SG {g}"))
            .collect(),
        Node::Other(o) => vec![other_kind(&arch.others[*o]).to_owned()],
    }
}

/// Subnet boxes by (zone, tier), the width of each zone's column and the
/// height of each row. A row holds a tier's subnets and, right of the
/// zones, the node of the same index (tiers first, then the other ends).
struct Grid {
    subnets: BTreeMap<(usize, usize), Frame>,
    col_w: Vec<i32>,
    row_h: Vec<i32>,
}

impl Grid {
    fn measure(arch: &Architecture, nodes: &[Frame]) -> Grid {
        let mut subnets: BTreeMap<(usize, usize), Frame> = BTreeMap::new();
        for (z, zone) in arch.zones.iter().enumerate() {
            for t in 0..arch.tiers.len() {
                if let Some(s) = arch.subnet(t, zone) {
                    let mut rest = vec![s.cidr.clone()];
                    rest.extend(s.lines.iter().cloned());
                    subnets.insert((z, t), Frame::leaf(&s.id, "subnet", titled(&s.id, &rest)));
                }
            }
        }
        let col_w = (0..arch.zones.len())
            .map(|z| {
                subnets
                    .iter()
                    .filter(|((zz, _), _)| *zz == z)
                    .map(|(_, f)| f.w)
                    .max()
                    .unwrap_or(0)
                    .max(text_width(&format!("zone {}", arch.zones[z])) + 2 * PAD)
            })
            .collect();
        // Row r is the row of node r + 1 (node 0, the Internet, is above).
        let row_h = (0..nodes.len() - 1)
            .map(|r| {
                let tallest = subnets
                    .iter()
                    .filter(|((_, t), _)| *t == r)
                    .map(|(_, f)| f.h)
                    .max()
                    .unwrap_or(0);
                tallest.max(nodes[r + 1].h)
            })
            .collect();
        Grid {
            subnets,
            col_w,
            row_h,
        }
    }

    /// The top of each row, the first at `first`.
    fn row_tops(&self, first: i32) -> Vec<i32> {
        let mut tops = vec![first];
        for r in 1..self.row_h.len() {
            tops.push(tops[r - 1] + self.row_h[r - 1] + 24);
        }
        tops
    }
}

/// The region box (VPC, zones, subnets and every node but the Internet
/// inside), the Internet node above, and where the node boxes stand.
struct Network {
    region: Frame,
    internet: Option<Frame>,
    node_x: i32,
    node_w: i32,
    node_tops: Vec<i32>,
}

fn network_frames(
    arch: &Architecture,
    mut grid: Grid,
    nodes: Vec<Frame>,
    y: i32,
    top_right: i32,
) -> Network {
    let mut region = Frame::leaf(
        "region",
        "region",
        titled(&format!("Region {}", arch.region), &[]),
    )
    .at(MARGIN, y);
    let mut vpc_lines = vec![format!("{} · {}", arch.vpc_id, arch.vpc_cidr)];
    vpc_lines.extend(arch.vpc_notes.iter().cloned());
    let mut vpc = Frame::leaf("vpc", "vpc", titled("VPC", &vpc_lines))
        .at(region.x + PAD, region.content_top());
    let zone_top = vpc.content_top();
    let row_top = grid.row_tops(zone_top + PAD + LINE + 6);
    let zones = zone_frames(arch, &mut grid, vpc.x + PAD, zone_top, &row_top);
    let zones_right = zones.last().map_or(vpc.x + PAD, Frame::right);
    vpc.children.extend(zones);
    // Nodes right of the zones and of the top row, so that no arrow from
    // their right edge crosses a box.
    let node_x = (zones_right + 24).max(top_right + GAP);
    let node_w = nodes.iter().map(|f| f.w).max().unwrap_or(0);
    let node_tops: Vec<i32> = (0..nodes.len())
        .map(|i| if i == 0 { TOP_Y } else { row_top[i - 1] })
        .collect();
    let mut placed = nodes
        .into_iter()
        .zip(&node_tops)
        .map(|(f, y)| f.at(node_x, *y));
    let internet = placed.next();
    vpc.children.extend(placed);
    vpc.wrap();
    region.children.push(vpc);
    region.wrap();
    Network {
        region,
        internet,
        node_x,
        node_w,
        node_tops,
    }
}

/// One column per zone from `x`, each subnet in its tier's row.
fn zone_frames(
    arch: &Architecture,
    grid: &mut Grid,
    x: i32,
    top: i32,
    row_top: &[i32],
) -> Vec<Frame> {
    let mut zx = x;
    let mut frames = Vec::new();
    for (z, zone) in arch.zones.iter().enumerate() {
        let mut frame = Frame::leaf(
            &format!("zone-{zone}"),
            "zone",
            titled(&format!("zone {zone}"), &[]),
        )
        .at(zx, top);
        // Rows past the tiers hold only nodes.
        for (t, top) in row_top.iter().enumerate().take(arch.tiers.len()) {
            if let Some(mut s) = grid.subnets.remove(&(z, t)) {
                s.w = grid.col_w[z];
                s.h = grid.row_h[t];
                frame.children.push(s.at(zx + PAD, *top));
            }
        }
        frame.wrap();
        frame.w = frame.w.max(grid.col_w[z] + 2 * PAD);
        zx = frame.right() + 16;
        frames.push(frame);
    }
    frames
}

/// An arrow's label: its lane, the y of its two ports and its box.
struct Placed {
    lane: usize,
    ys: (i32, i32),
    top: i32,
    h: i32,
    lines: Vec<String>,
}

/// Where lanes and labels stand, left to right.
struct Columns {
    /// The nodes' right edge, where every arrow starts and ends.
    node_right: i32,
    lane0: i32,
    label_x: i32,
}

impl Columns {
    fn lane_x(&self, lane: usize) -> i32 {
        self.lane0 + lane as i32 * LANE_GAP
    }
}

/// The security-group arrows drawn, and the space their labels take.
struct Arrows {
    svg: String,
    labels_bottom: i32,
    labels_right: i32,
}

fn arrows(arch: &Architecture, lanes: &Lanes, network: &Network) -> Arrows {
    let lane0 = network.region.right() + 30;
    let columns = Columns {
        node_right: network.node_x + network.node_w,
        lane0,
        label_x: lane0 + lanes.order.len() as i32 * LANE_GAP + 20,
    };
    let mut placed = labels(arch, lanes, &network.node_tops);
    let labels_bottom = stack_labels(&mut placed);
    // Every port's y, by lane: a leader must not run along another arrow's stub.
    let stub_ys: Vec<(usize, i32)> = placed
        .iter()
        .flat_map(|p| [(p.lane, p.ys.0), (p.lane, p.ys.1)])
        .collect();
    let mut svg = String::new();
    placed.sort_by_key(|p| p.lane);
    for p in &placed {
        let f = &arch.flows[lanes.order[p.lane]];
        emit_flow(&mut svg, arch, f, p, &stub_ys, &columns);
    }
    let labels_right = placed
        .iter()
        .map(|p| columns.label_x + label_width(&p.lines))
        .max()
        .unwrap_or(columns.label_x);
    Arrows {
        svg,
        labels_bottom,
        labels_right,
    }
}

/// Each lane's label, its ports found and its box not yet placed.
fn labels(arch: &Architecture, lanes: &Lanes, node_tops: &[i32]) -> Vec<Placed> {
    let port_y = |node: &Node, lane: usize, start: bool| {
        let i = lanes.node_index(node);
        lanes.port_y(i, node_tops[i], lane, start)
    };
    lanes
        .order
        .iter()
        .enumerate()
        .map(|(lane, &k)| {
            let f = &arch.flows[k];
            let lines = f.label();
            Placed {
                lane,
                ys: (port_y(&f.from, lane, true), port_y(&f.to, lane, false)),
                top: 0,
                h: lines.len() as i32 * LINE + 8,
                lines,
            }
        })
        .collect()
}

/// Stacks the labels top to bottom, each as near its arrow as the ones
/// above allow; returns where the next label could start.
fn stack_labels(placed: &mut [Placed]) -> i32 {
    placed.sort_by_key(|p| (p.ys.0 + p.ys.1, p.lane));
    let mut next_free = TOP_Y;
    for p in placed.iter_mut() {
        let want = (p.ys.0 + p.ys.1) / 2 - p.h / 2;
        p.top = want.max(next_free);
        next_free = p.top + p.h + 8;
    }
    next_free
}

/// The y of the leader from the lane to the label: inside the label, as
/// near its middle as possible, on the lane's span if the label reaches
/// it, clear of the stubs of later lanes (which the leader crosses).
fn leader_y(p: &Placed, stub_ys: &[(usize, i32)]) -> i32 {
    let (lo, hi) = (p.ys.0.min(p.ys.1), p.ys.0.max(p.ys.1));
    let mid = p.top + p.h / 2;
    (p.top + 6..=p.top + p.h - 6)
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
        .unwrap_or(mid)
}

/// One arrow: from its start port to its lane, along it and into its end
/// port; the lane extended to the leader if needed; the leader; the label.
fn emit_flow(
    out: &mut String,
    arch: &Architecture,
    f: &Flow,
    p: &Placed,
    stub_ys: &[(usize, i32)],
    columns: &Columns,
) {
    let color = PALETTE[p.lane % PALETTE.len()];
    let (lx, label_x, node_right) = (columns.lane_x(p.lane), columns.label_x, columns.node_right);
    let (lo, hi) = (p.ys.0.min(p.ys.1), p.ys.0.max(p.ys.1));
    let lead = leader_y(p, stub_ys);
    let (vlo, vhi) = (lo.min(lead), hi.max(lead));
    out.push_str(&format!(
        "<g class=\"flow\" data-group=\"{}\" data-direction=\"{}\" data-from=\"{}\" data-to=\"{}\">\n",
        xml(&f.group),
        f.direction.as_str(),
        xml(&arch.node_title(&f.from)),
        xml(&arch.node_title(&f.to)),
    ));
    out.push_str(&format!(
        "<path class=\"arrow\" stroke=\"{color}\" d=\"M{node_right},{} H{lx} V{} H{}\" marker-end=\"url(#a{})\"/>\n",
        p.ys.0,
        p.ys.1,
        node_right + 2,
        p.lane % PALETTE.len()
    ));
    if vlo < lo || vhi > hi {
        out.push_str(&format!(
            "<path class=\"arrow\" stroke=\"{color}\" d=\"M{lx},{vlo} V{vhi}\"/>\n"
        ));
    }
    out.push_str(&format!(
        "<path class=\"leader\" stroke=\"{color}\" d=\"M{lx},{lead} H{label_x}\"/>\n"
    ));
    emit_label(out, p, label_x, color);
    out.push_str("</g>\n");
}

/// A label's width: its longest line and the padding.
fn label_width(lines: &[String]) -> i32 {
    lines.iter().map(|l| text_width(l)).max().unwrap_or(0) + 2 * PAD
}

/// A label's box at `x`, its first line (the group and direction) in bold.
fn emit_label(out: &mut String, p: &Placed, x: i32, color: &str) {
    out.push_str(&format!(
        "<g class=\"box label\" id=\"label-{}\">\n<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" stroke=\"{color}\"/>\n",
        p.lane,
        p.top,
        label_width(&p.lines),
        p.h
    ));
    for (i, line) in p.lines.iter().enumerate() {
        emit_text(
            out,
            x + PAD,
            p.top + 4 + i as i32 * LINE + 12,
            &Line {
                text: line.clone(),
                bold: i == 0,
            },
        );
    }
    out.push_str("</g>\n");
}

/// The bottom row at `y`: the source repository feeding the pipeline,
/// whose stages stand side by side inside it.
fn pipeline_row(arch: &Architecture, y: i32, links: &mut String) -> (Frame, Frame) {
    let source = Frame::leaf("source", "store", titled("Source", &arch.source)).at(MARGIN, y);
    let mut pipeline = Frame::leaf(
        "pipeline",
        "pipeline",
        titled("Pipeline", &arch.pipeline.lines),
    )
    .at(source.right() + link_gap("push"), y);
    emit_link(links, source.right(), pipeline.x, y + 20, "push");
    pipeline.children = stage_frames(arch, pipeline.x + PAD, pipeline.content_top(), links);
    pipeline.wrap();
    (source, pipeline)
}

/// The pipeline's stages from (x, y), all as tall as the tallest, linked
/// left to right.
fn stage_frames(arch: &Architecture, x: i32, y: i32, links: &mut String) -> Vec<Frame> {
    let mut stages: Vec<Frame> = arch
        .pipeline
        .stages
        .iter()
        .map(|(name, actions)| {
            Frame::leaf(&format!("stage-{name}"), "stage", titled(name, actions))
        })
        .collect();
    let stage_h = stages.iter().map(|s| s.h).max().unwrap_or(0);
    let mut sx = x;
    for (i, stage) in stages.iter_mut().enumerate() {
        if i > 0 {
            emit_link(links, sx, sx + 30, y + 20, "");
            sx += 30;
        }
        stage.x = sx;
        stage.y = y;
        stage.h = stage_h;
        sx = stage.right();
    }
    stages
}

/// The style of every box, text and arrow class.
const STYLE: &str = "rect { fill: #ffffff; stroke: #5f6b7a; stroke-width: 1; }\n\
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
     path.leader { stroke-width: 1; stroke-dasharray: 3 2; }\n";

/// An arrowhead in `color`.
fn marker(id: &str, color: &str) -> String {
    format!(
        "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>\n"
    )
}

/// The document's start: its size, the styles, the arrowheads (one for
/// plain links, one per palette colour) and a white background.
fn emit_prologue(out: &mut String, width: i32, height: i32) {
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"{FONT_SIZE}\">\n"
    ));
    out.push_str("<defs>\n<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n");
    out.push_str(&marker("link", "#5f6b7a"));
    for (i, color) in PALETTE.iter().enumerate() {
        out.push_str(&marker(&format!("a{i}"), color));
    }
    out.push_str("</defs>\n");
    out.push_str(&format!(
        "<rect class=\"background\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" style=\"fill:#ffffff;stroke:none\"/>\n"
    ));
}
