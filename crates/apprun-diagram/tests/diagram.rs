//! The diagram of the shipped config and of the ECS Express fixture: every
//! subnet CIDR and security-group rule of the synthesized templates is on
//! it, nothing overlaps, and headless Chromium renders it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apprun_blueprint::{StackKind, synthesize};
use apprun_config::Config;
use apprun_diagram::{Architecture, CHAR_WIDTH_TENTHS, DiagramFormat, render, render_architecture};
use apprun_template::{Map, Resource, Value, r#ref};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(relative: &str) -> Config {
    Config::load(&workspace().join(relative)).expect("the shipped config loads")
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    /// Interiors intersect (touching edges do not count).
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    fn contains(&self, o: &Rect) -> bool {
        self.x0 <= o.x0 && self.y0 <= o.y0 && o.x1 <= self.x1 && o.y1 <= self.y1
    }
}

#[derive(Debug)]
struct BoxEl {
    id: String,
    parent: Option<usize>,
    rect: Rect,
}

#[derive(Debug)]
struct TextEl {
    content: String,
    rect: Rect,
    /// Innermost box the text is written in.
    owner: Option<usize>,
    /// Innermost `<g class="flow">` the text is written in.
    flow: Option<usize>,
}

#[derive(Debug, Default)]
struct Svg {
    width: f64,
    height: f64,
    boxes: Vec<BoxEl>,
    texts: Vec<TextEl>,
    /// `<g class="flow">` attributes: (group, direction).
    flows: Vec<(String, String)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing in {tag}"))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Reads the geometry apprun writes: boxes are `<g class="box ...">` whose
/// first child is their `<rect>`; texts are one line each, start-anchored,
/// in the monospace font whose advance the crate publishes.
fn parse(svg: &str) -> Svg {
    let mut out = Svg::default();
    // Open <g>s: (is a box -> its index, is a flow -> its index).
    let mut stack: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    let mut pending_box: Option<(String, Option<usize>)> = None;
    let mut rest = svg;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        let gt = rest.find('>').expect("tag closes");
        let tag = &rest[..=gt];
        let after = &rest[gt + 1..];
        let innermost_box = stack.iter().rev().find_map(|(b, _)| *b);
        let innermost_flow = stack.iter().rev().find_map(|(_, f)| *f);
        if tag.starts_with("<svg") {
            out.width = num(tag, "width");
            out.height = num(tag, "height");
        } else if tag.starts_with("<g") {
            let class = attr(tag, "class").unwrap_or_default();
            let mut entry = (None, None);
            if class.split(' ').any(|c| c == "box") {
                pending_box = Some((attr(tag, "id").unwrap_or_default(), innermost_box));
                entry.0 = Some(usize::MAX); // fixed when its rect is read
            }
            if class == "flow" {
                out.flows.push((
                    attr(tag, "data-group").unwrap_or_default(),
                    attr(tag, "data-direction").unwrap_or_default(),
                ));
                entry.1 = Some(out.flows.len() - 1);
            }
            stack.push(entry);
        } else if tag.starts_with("</g") {
            stack.pop();
        } else if tag.starts_with("<rect") {
            if let Some((id, parent)) = pending_box.take() {
                let (x, y) = (num(tag, "x"), num(tag, "y"));
                let rect = Rect {
                    x0: x,
                    y0: y,
                    x1: x + num(tag, "width"),
                    y1: y + num(tag, "height"),
                };
                out.boxes.push(BoxEl { id, parent, rect });
                if let Some(top) = stack.last_mut() {
                    top.0 = Some(out.boxes.len() - 1);
                }
            }
        } else if tag.starts_with("<text") {
            let end = after.find("</text>").expect("text closes");
            let content = unescape(&after[..end]);
            let (x, y) = (num(tag, "x"), num(tag, "y"));
            let width = content.chars().count() as f64 * CHAR_WIDTH_TENTHS as f64 / 10.0;
            out.texts.push(TextEl {
                rect: Rect {
                    x0: x,
                    y0: y - 10.0,
                    x1: x + width,
                    y1: y + 3.0,
                },
                content,
                owner: innermost_box,
                flow: innermost_flow,
            });
        }
        rest = after;
    }
    out
}

/// No two texts overlap, no two boxes with the same parent overlap, every
/// box lies in its parent and every text in its box, all on the canvas.
fn assert_geometry(svg: &Svg) {
    assert!(svg.boxes.len() > 10, "boxes found: {}", svg.boxes.len());
    let canvas = Rect {
        x0: 0.0,
        y0: 0.0,
        x1: svg.width,
        y1: svg.height,
    };
    for (i, a) in svg.texts.iter().enumerate() {
        assert!(canvas.contains(&a.rect), "text off the canvas: {a:?}");
        for b in &svg.texts[i + 1..] {
            assert!(!a.rect.overlaps(&b.rect), "texts overlap: {a:?} / {b:?}");
        }
        if let Some(owner) = a.owner {
            let r = &svg.boxes[owner];
            assert!(
                r.rect.contains(&a.rect),
                "text {:?} outside its box {}",
                a.content,
                r.id
            );
        }
    }
    for (i, a) in svg.boxes.iter().enumerate() {
        assert!(canvas.contains(&a.rect), "box off the canvas: {}", a.id);
        if let Some(p) = a.parent {
            assert!(
                svg.boxes[p].rect.contains(&a.rect),
                "{} outside {}",
                a.id,
                svg.boxes[p].id
            );
        }
        for b in &svg.boxes[i + 1..] {
            if a.parent == b.parent {
                assert!(
                    !a.rect.overlaps(&b.rect),
                    "boxes overlap: {} / {}",
                    a.id,
                    b.id
                );
            }
        }
    }
}

/// (group, direction, protocol, ports, peer) of every security-group rule
/// in the env's templates, read straight from the synthesized stacks.
fn template_rules(config: &Config, env: &str) -> Vec<(String, String, String, String, String)> {
    let bp = synthesize(config, env).expect("synthesizes");
    let network = &bp.stack(&StackKind::Network).expect("network").template;
    let mut out = Vec::new();
    for (id, r) in &network.resources {
        if r.kind != "AWS::EC2::SecurityGroup" {
            continue;
        }
        for (key, dir) in [
            ("SecurityGroupIngress", "ingress"),
            ("SecurityGroupEgress", "egress"),
        ] {
            for rule in r
                .properties
                .get(key)
                .and_then(Value::as_list)
                .unwrap_or_default()
            {
                let s = |k: &str| match rule.get(k) {
                    Some(Value::String(s)) => s.to_string(),
                    Some(Value::Int(i)) => i.to_string(),
                    other => panic!("{id} {key} {k}: {other:?}"),
                };
                let (from, to) = (s("FromPort"), s("ToPort"));
                let ports = if from == to {
                    from
                } else {
                    format!("{from}-{to}")
                };
                out.push((
                    id.clone(),
                    dir.to_owned(),
                    s("IpProtocol"),
                    ports,
                    s("CidrIp"),
                ));
            }
        }
    }
    assert!(!out.is_empty());
    out
}

fn subnet_cidrs(config: &Config, env: &str) -> Vec<String> {
    let bp = synthesize(config, env).expect("synthesizes");
    let network = &bp.stack(&StackKind::Network).expect("network").template;
    let cidrs: Vec<String> = network
        .resources
        .values()
        .filter(|r| r.kind == "AWS::EC2::Subnet")
        .map(|r| {
            r.properties
                .get("CidrBlock")
                .and_then(Value::as_str)
                .expect("cidr")
                .to_owned()
        })
        .collect();
    assert_eq!(cidrs.len(), 6, "three tiers over two zones");
    cidrs
}

/// Each rule is on the label of an arrow of its group and direction: the
/// protocol with the port on the services line, the peer on a later line.
fn assert_rules_drawn(svg: &Svg, rules: &[(String, String, String, String, String)]) {
    for (group, dir, proto, ports, peer) in rules {
        let found = svg.flows.iter().enumerate().any(|(i, (g, d))| {
            if g != group || d != dir {
                return false;
            }
            let lines: Vec<&str> = svg
                .texts
                .iter()
                .filter(|t| t.flow == Some(i))
                .map(|t| t.content.as_str())
                .collect();
            let services = lines.get(1).copied().unwrap_or_default();
            let has_service = services.split(" · ").any(|part| {
                part.strip_prefix(&format!("{proto} "))
                    .is_some_and(|list| list.split(", ").any(|p| p == ports))
            });
            let has_peer = lines
                .iter()
                .skip(2)
                .any(|l| l.split([' ', ',']).any(|w| w == peer));
            lines
                .first()
                .is_some_and(|l| *l == format!("{group} {dir}"))
                && has_service
                && has_peer
        });
        assert!(
            found,
            "rule not drawn: {group} {dir} {proto} {ports} {peer}"
        );
    }
}

fn run_with_timeout(cmd: &mut Command, limit: Duration) -> std::process::ExitStatus {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts (install the chromium package)");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Renders an SVG file with headless Chromium to a PNG of the given size.
fn screenshot(svg: &Path, png: &Path, width: u32, height: u32, profile: &Path) {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "chromium is missing: apt-get install chromium"
    );
    let status = run_with_timeout(
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("file://{}", svg.display())),
        Duration::from_secs(120),
    );
    assert!(status.success(), "chromium failed: {status}");
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    (be(16), be(20))
}

#[test]
fn dev_diagram_shows_every_subnet_and_rule_without_overlap_and_renders_in_chromium() {
    let config = config("apprun.toml");
    let text = render(&config, "dev", DiagramFormat::Svg).expect("renders");
    assert_eq!(
        text,
        render(&config, "dev", DiagramFormat::Svg).expect("renders"),
        "deterministic"
    );
    let svg = parse(&text);
    assert_geometry(&svg);
    for cidr in subnet_cidrs(&config, "dev") {
        assert!(
            svg.texts.iter().any(|t| t.content == cidr),
            "subnet {cidr} missing"
        );
    }
    let rules = template_rules(&config, "dev");
    assert_eq!(rules.len(), 38, "the dev network's rules");
    assert_rules_drawn(&svg, &rules);
    for fact in [
        "AWS App Runner service",
        "App Runner VPC connector",
        "NAT gateway NatGatewayAZa",
        "route 0.0.0.0/0 -> NatGatewayAZc",
        "route 0.0.0.0/0 -> InternetGateway",
        "apprunner-nuxt3-dev",
        "Approval: Manual",
    ] {
        assert!(
            svg.texts.iter().any(|t| t.content.contains(fact)),
            "{fact} missing"
        );
    }

    // Headless Chromium draws it; a blank page of the same size is the
    // baseline the drawing's PNG must clearly exceed.
    let dir = tempfile::tempdir().expect("tempdir");
    let (w, h) = (svg.width as u32, svg.height as u32);
    let svg_path = dir.path().join("diagram-dev.svg");
    std::fs::write(&svg_path, &text).expect("write svg");
    let blank_path = dir.path().join("blank.svg");
    std::fs::write(
        &blank_path,
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/></svg>\n"),
    )
    .expect("write blank");
    let png = dir.path().join("diagram-dev.png");
    let blank_png = dir.path().join("blank.png");
    screenshot(&svg_path, &png, w, h, &dir.path().join("profile"));
    screenshot(&blank_path, &blank_png, w, h, &dir.path().join("profile"));
    let bytes = std::fs::read(&png).expect("the PNG exists");
    let blank = std::fs::read(&blank_png).expect("the blank PNG exists");
    assert_eq!(png_size(&bytes), (w, h), "the PNG has the SVG's size");
    assert!(
        bytes.len() > 40_000,
        "a PNG of {} bytes is too small to hold the drawing",
        bytes.len()
    );
    assert!(
        bytes.len() > 5 * blank.len(),
        "the PNG ({} bytes) is hardly bigger than a blank one ({} bytes)",
        bytes.len(),
        blank.len()
    );

    // scripts/render-diagram.sh sets this to refresh docs/diagram-dev.*.
    if let Some(out) = std::env::var_os("APPRUN_DIAGRAM_OUT") {
        let out = PathBuf::from(out);
        std::fs::copy(&svg_path, out.join("diagram-dev.svg")).expect("copy svg");
        std::fs::copy(&png, out.join("diagram-dev.png")).expect("copy png");
    }
}

#[test]
fn express_diagram_shows_its_load_balancer_and_every_rule() {
    let config = config("fixtures/express.toml");
    for (env, facing, tier) in [
        ("dev", "internet-facing", "Public"),
        ("prod", "internal", "Protect"),
    ] {
        let text = render(&config, env, DiagramFormat::Svg).expect("renders");
        let svg = parse(&text);
        assert_geometry(&svg);
        let lb = svg
            .boxes
            .iter()
            .position(|b| b.id == "lb-express-demo-".to_owned() + env + "-web")
            .unwrap_or_else(|| panic!("{env}: no load balancer box"));
        let lb_lines: Vec<&str> = svg
            .texts
            .iter()
            .filter(|t| t.owner == Some(lb))
            .map(|t| t.content.as_str())
            .collect();
        assert_eq!(lb_lines[0], "Application Load Balancer", "{env}");
        assert!(
            lb_lines.contains(&format!("{facing}, HTTPS").as_str()),
            "{env}: {lb_lines:?}"
        );
        assert!(
            lb_lines.contains(&format!("in {tier} subnets").as_str()),
            "{env}: {lb_lines:?}"
        );
        for cidr in subnet_cidrs(&config, env) {
            assert!(
                svg.texts.iter().any(|t| t.content == cidr),
                "{env}: subnet {cidr} missing"
            );
        }
        assert_rules_drawn(&svg, &template_rules(&config, env));
        assert!(
            svg.texts
                .iter()
                .any(|t| t.content.contains("Amazon ECS Express Mode service"))
        );
    }
}

#[test]
fn mermaid_and_dot_are_well_formed_and_deterministic() {
    let config = config("apprun.toml");
    let mermaid = render(&config, "dev", DiagramFormat::Mermaid).expect("renders");
    assert_eq!(
        mermaid,
        render(&config, "dev", DiagramFormat::Mermaid).expect("renders")
    );
    assert!(mermaid.starts_with("flowchart TB\n"));
    let mut depth = 0i32;
    let mut subgraphs = 0;
    for line in mermaid.lines() {
        let word = line
            .trim_start()
            .split([' ', '['])
            .next()
            .unwrap_or_default();
        match word {
            "subgraph" => {
                depth += 1;
                subgraphs += 1;
            }
            "end" => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "`end` without `subgraph`: {line}");
        assert_eq!(
            line.matches('"').count() % 2,
            0,
            "unbalanced quotes: {line}"
        );
    }
    assert_eq!(depth, 0, "every subgraph ends");
    assert_eq!(subgraphs, 5, "region, VPC, two zones, pipeline");
    for cidr in subnet_cidrs(&config, "dev") {
        assert!(mermaid.contains(&cidr), "{cidr} missing from Mermaid");
    }
    let flows = mermaid.lines().filter(|l| l.contains(" -->|\"")).count();
    assert!(flows >= 9, "security-group arrows: {flows}");

    let dot = render(&config, "dev", DiagramFormat::Dot).expect("renders");
    assert_eq!(
        dot,
        render(&config, "dev", DiagramFormat::Dot).expect("renders")
    );
    assert!(dot.starts_with("digraph "));
    assert_eq!(
        dot.matches('{').count(),
        dot.matches('}').count(),
        "balanced braces"
    );
    let names: BTreeSet<&str> = dot
        .lines()
        .filter_map(|l| l.trim().strip_prefix("subgraph "))
        .collect();
    assert_eq!(names.len(), 5, "clusters: {names:?}");
    for cidr in subnet_cidrs(&config, "dev") {
        assert!(dot.contains(&cidr), "{cidr} missing from DOT");
    }
}

fn rule(protocol: &str, port: i64, peer_key: &str, peer: Value) -> Value {
    let mut m = Map::new();
    m.insert("IpProtocol".into(), protocol.into());
    m.insert("FromPort".into(), Value::Int(port));
    m.insert("ToPort".into(), Value::Int(port));
    m.insert(peer_key.into(), peer);
    Value::Map(m)
}

/// Rules the shipped blueprint never writes (a CIDR outside every subnet, a
/// group reference, a standalone ingress resource, a group attached to no
/// tier) get nodes of their own, and the layout still keeps every label and
/// box apart.
#[test]
fn unexpected_rules_get_their_own_nodes_without_overlap() {
    let config = config("apprun.toml");
    let mut bp = synthesize(&config, "dev").expect("synthesizes");
    let network = &mut bp
        .stacks
        .iter_mut()
        .find(|s| s.kind == StackKind::Network)
        .expect("network")
        .template;
    let private = network
        .resources
        .get_mut("PrivateSecurityGroup")
        .expect("private SG");
    if let Some(Value::List(ingress)) = private.properties.get_mut("SecurityGroupIngress") {
        ingress.push(rule("tcp", 22, "CidrIp", "192.168.0.0/16".into()));
    }
    let mut standalone = rule(
        "tcp",
        6379,
        "SourceSecurityGroupId",
        r#ref("ProtectSecurityGroup"),
    );
    if let Value::Map(m) = &mut standalone {
        m.insert("GroupId".into(), r#ref("PrivateSecurityGroup"));
    }
    let Value::Map(props) = standalone else {
        unreachable!()
    };
    network.resources.insert(
        "CacheIngress".into(),
        Resource::new("AWS::EC2::SecurityGroupIngress", props),
    );
    let mut audit = Map::new();
    audit.insert("GroupDescription".into(), "audit".into());
    audit.insert("VpcId".into(), r#ref("VPC"));
    audit.insert(
        "SecurityGroupEgress".into(),
        Value::list(vec![rule("tcp", 443, "CidrIp", "10.0.0.0/24".into())]),
    );
    network.resources.insert(
        "AuditSecurityGroup".into(),
        Resource::new("AWS::EC2::SecurityGroup", audit),
    );

    let arch = Architecture::from_blueprint(&bp, "apprunner-nuxt3", "ap-northeast-1")
        .expect("reads the stacks");
    assert_eq!(
        arch.others,
        ["10.0.0.0/24", "192.168.0.0/16", "AuditSecurityGroup"]
    );
    let text = render_architecture(&arch, DiagramFormat::Svg);
    let svg = parse(&text);
    assert_geometry(&svg);
    let flows_of = |group: &str, dir: &str| -> Vec<Vec<String>> {
        svg.flows
            .iter()
            .enumerate()
            .filter(|(_, (g, d))| g == group && d == dir)
            .map(|(i, _)| {
                svg.texts
                    .iter()
                    .filter(|t| t.flow == Some(i))
                    .map(|t| t.content.clone())
                    .collect()
            })
            .collect()
    };
    let private_in = flows_of("PrivateSecurityGroup", "ingress");
    assert!(
        private_in
            .iter()
            .any(|l| l[1] == "tcp 22" && l[2] == "from 192.168.0.0/16"),
        "{private_in:?}"
    );
    assert!(
        private_in
            .iter()
            .any(|l| l[1] == "tcp 6379" && l[2] == "from ProtectSecurityGroup"),
        "{private_in:?}"
    );
    let audit_out = flows_of("AuditSecurityGroup", "egress");
    assert_eq!(
        audit_out,
        [["AuditSecurityGroup egress", "tcp 443", "to 10.0.0.0/24"]]
    );
    let mermaid = render_architecture(&arch, DiagramFormat::Mermaid);
    assert!(
        mermaid.contains("other2 -->|\"AuditSecurityGroup egress"),
        "{mermaid}"
    );
}
