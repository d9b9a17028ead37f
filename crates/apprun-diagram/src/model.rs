//! The facts a diagram shows, read from the synthesized templates.

use std::collections::{BTreeMap, BTreeSet};

use apprun_blueprint::{EnvBlueprint, StackKind, synthesize};
use apprun_config::Config;
use apprun_template::{Intrinsic, Resource, Template, Value};

use crate::DiagramError;

/// Everything drawn for one env.
#[derive(Debug, Clone)]
pub struct Architecture {
    pub system: String,
    pub env: String,
    pub region: String,
    pub vpc_id: String,
    pub vpc_cidr: String,
    /// VPC-wide facts: the internet gateway, gateway endpoints.
    pub vpc_notes: Vec<String>,
    /// Zone letters (or names) in sorted order.
    pub zones: Vec<String>,
    /// Tiers from the lowest address range up (public, protect, private).
    pub tiers: Vec<TierFacts>,
    pub subnets: Vec<SubnetFacts>,
    /// Ends of the security-group arrows other than tiers (CIDRs outside
    /// every subnet, prefix lists, groups attached to no subnet), sorted.
    pub others: Vec<String>,
    /// Every security-group rule, one per template entry.
    pub rules: Vec<Rule>,
    /// The rules grouped into arrows.
    pub flows: Vec<Flow>,
    pub services: Vec<ServiceFacts>,
    pub ecr: Vec<String>,
    pub source: Vec<String>,
    pub pipeline: PipelineFacts,
}

#[derive(Debug, Clone)]
pub struct TierFacts {
    pub name: String,
    /// Logical ids of the security groups attached to this tier's subnets.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SubnetFacts {
    pub id: String,
    pub tier: usize,
    pub zone: String,
    pub cidr: String,
    /// Routes and what lives in the subnet (NAT gateways, endpoints, ENIs).
    pub lines: Vec<String>,
}

/// One end of a security-group arrow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Internet,
    Tier(usize),
    /// Index into [`Architecture::others`].
    Other(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// One entry of a security group's ingress or egress list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub group: String,
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp` or `all`.
    pub protocol: String,
    /// `80`, `0-65535` or `all`.
    pub ports: String,
    /// The CIDR, prefix list or security group the rule names.
    pub peer: String,
}

/// Rules of one group, one direction and one peer node with the same
/// protocols and ports: one arrow in the direction traffic flows.
#[derive(Debug, Clone)]
pub struct Flow {
    pub from: Node,
    pub to: Node,
    pub group: String,
    pub direction: Direction,
    /// `tcp 80, 443 · udp 80, 443`.
    pub services: String,
    /// The peers (CIDRs, ...) the rules name, sorted.
    pub peers: Vec<String>,
}

impl Flow {
    /// The arrow's label, one line each.
    pub fn label(&self) -> Vec<String> {
        let word = match self.direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let mut lines = vec![
            format!("{} {}", self.group, self.direction.as_str()),
            self.services.clone(),
        ];
        // Two peers a line keeps labels narrow.
        for (i, chunk) in self.peers.chunks(2).enumerate() {
            let lead = if i == 0 { word } else { "" };
            let pad = " ".repeat(word.len().saturating_sub(lead.len()));
            lines.push(format!("{lead}{pad} {}", chunk.join(", ")));
        }
        lines
    }
}

#[derive(Debug, Clone)]
pub struct ServiceFacts {
    pub name: String,
    pub lines: Vec<String>,
    /// The load balancer in front of the service (ECS Express).
    pub load_balancer: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct PipelineFacts {
    pub lines: Vec<String>,
    pub stages: Vec<(String, Vec<String>)>,
}

impl Architecture {
    /// Reads the architecture of `env` from its synthesized stacks.
    pub fn of(config: &Config, env: &str) -> Result<Architecture, DiagramError> {
        let bp = synthesize(config, env)?;
        Self::from_blueprint(&bp, &config.system.id, &config.system.region)
    }

    /// Reads the architecture from stacks already synthesized (by
    /// [`synthesize`]) for the system `system` in `region`.
    pub fn from_blueprint(
        bp: &EnvBlueprint,
        system: &str,
        region: &str,
    ) -> Result<Architecture, DiagramError> {
        let missing = |what: &str| DiagramError::Missing {
            env: bp.env.clone(),
            what: what.to_owned(),
        };
        let network = &bp
            .stack(&StackKind::Network)
            .ok_or_else(|| missing("network stack"))?
            .template;
        let reader = Reader::new(network, region);
        let services: Vec<&Template> = bp
            .stacks
            .iter()
            .filter(|s| matches!(s.kind, StackKind::Service { .. }))
            .map(|s| &s.template)
            .collect();

        let (vpc_id, vpc) = of_kind(network, "AWS::EC2::VPC")
            .next()
            .ok_or_else(|| missing("VPC"))?;
        let vpc_cidr = reader
            .text(vpc.properties.get("CidrBlock"))
            .unwrap_or_default();

        // Subnets and their tiers, tiers ordered by their lowest address.
        let mut subnets = Vec::new();
        for (id, r) in of_kind(network, "AWS::EC2::Subnet") {
            let tier = tag(r, "Subnet").unwrap_or_else(|| id.to_owned());
            let zone = tag(r, "Az")
                .or_else(|| reader.text(r.properties.get("AvailabilityZone")))
                .unwrap_or_default();
            let cidr = reader
                .text(r.properties.get("CidrBlock"))
                .unwrap_or_default();
            subnets.push((id.to_owned(), tier, zone, cidr));
        }
        if subnets.is_empty() {
            return Err(missing("subnets"));
        }
        let mut tier_names: Vec<(u64, String)> = Vec::new();
        for (_, tier, _, cidr) in &subnets {
            let key = cidr_key(cidr);
            match tier_names.iter_mut().find(|(_, n)| n == tier) {
                Some(entry) => entry.0 = entry.0.min(key),
                None => tier_names.push((key, tier.clone())),
            }
        }
        tier_names.sort();
        let tier_of_name = |name: &str| tier_names.iter().position(|(_, n)| n == name).unwrap_or(0);
        let mut zones: Vec<String> = subnets.iter().map(|s| s.2.clone()).collect();
        zones.sort();
        zones.dedup();

        let attachments = attachments(&reader, network, &services);
        let subnet_tier: BTreeMap<String, usize> = subnets
            .iter()
            .map(|(id, tier, _, _)| (id.clone(), tier_of_name(tier)))
            .collect();

        // Security groups: the tier whose subnets they are attached to, or
        // the tier their logical id names.
        let mut group_tier: BTreeMap<String, Option<usize>> = BTreeMap::new();
        for (id, _) in of_kind(network, "AWS::EC2::SecurityGroup") {
            let used = attachments
                .iter()
                .filter(|a| a.groups.iter().any(|g| g == id))
                .flat_map(|a| a.subnets.iter().filter_map(|s| subnet_tier.get(s)))
                .min()
                .copied();
            let named = tier_names
                .iter()
                .position(|(_, n)| id.starts_with(n.as_str()));
            group_tier.insert(id.to_owned(), used.or(named));
        }
        let mut tiers: Vec<TierFacts> = tier_names
            .iter()
            .map(|(_, name)| TierFacts {
                name: name.clone(),
                groups: Vec::new(),
            })
            .collect();
        for (group, tier) in &group_tier {
            if let Some(t) = tier {
                tiers[*t].groups.push(group.clone());
            }
        }

        let rules = rules(&reader, network);
        let cidr_tier: BTreeMap<&str, usize> = subnets
            .iter()
            .map(|(id, _, _, cidr)| (cidr.as_str(), subnet_tier[id]))
            .collect();
        let mut others: BTreeSet<String> = BTreeSet::new();
        let node_name = |peer: &str| -> Result<usize, String> {
            if let Some(t) = cidr_tier.get(peer) {
                return Ok(*t);
            }
            match group_tier.get(peer) {
                Some(Some(t)) => Ok(*t),
                _ => Err(peer.to_owned()),
            }
        };
        for rule in &rules {
            if !is_world(&rule.peer)
                && let Err(other) = node_name(&rule.peer)
            {
                others.insert(other);
            }
            if let Some(None) = group_tier.get(&rule.group) {
                others.insert(rule.group.clone());
            }
        }
        let others: Vec<String> = others.into_iter().collect();
        let node_of = |peer: &str| -> Node {
            if is_world(peer) {
                return Node::Internet;
            }
            match node_name(peer) {
                Ok(t) => Node::Tier(t),
                Err(o) => Node::Other(others.iter().position(|x| *x == o).unwrap_or(0)),
            }
        };
        let flows = flows(&rules, &node_of, &|g: &str| match group_tier.get(g) {
            Some(Some(t)) => Node::Tier(*t),
            _ => Node::Other(others.iter().position(|x| x == g).unwrap_or(0)),
        });

        let subnets = subnets
            .iter()
            .map(|(id, tier, zone, cidr)| SubnetFacts {
                id: id.clone(),
                tier: tier_of_name(tier),
                zone: zone.clone(),
                cidr: cidr.clone(),
                lines: subnet_lines(&reader, network, id, &attachments),
            })
            .collect::<Vec<_>>();
        let mut subnets = subnets;
        subnets.sort_by(|a, b| (a.tier, &a.zone, &a.id).cmp(&(b.tier, &b.zone, &b.id)));

        let service_facts = services
            .iter()
            .flat_map(|t| service_facts(&reader, t, &subnet_tier, &tiers, network))
            .collect();
        let repository = bp.stack(&StackKind::Repository).map(|s| &s.template);
        let pipeline = bp.stack(&StackKind::Pipeline).map(|s| &s.template);
        Ok(Architecture {
            system: system.to_owned(),
            env: bp.env.clone(),
            region: region.to_owned(),
            vpc_id: vpc_id.to_owned(),
            vpc_cidr,
            vpc_notes: vpc_notes(&reader, network),
            zones,
            tiers,
            subnets,
            others,
            rules,
            flows,
            services: service_facts,
            ecr: repository
                .map(|t| ecr_lines(&reader, t))
                .unwrap_or_default(),
            source: repository
                .map(|t| source_lines(&reader, t))
                .unwrap_or_default(),
            pipeline: pipeline
                .map(|t| pipeline_facts(&reader, t))
                .unwrap_or(PipelineFacts {
                    lines: Vec::new(),
                    stages: Vec::new(),
                }),
        })
    }

    /// The subnet of `tier` in `zone`, if the network has one.
    pub fn subnet(&self, tier: usize, zone: &str) -> Option<&SubnetFacts> {
        self.subnets
            .iter()
            .find(|s| s.tier == tier && s.zone == zone)
    }

    /// A node's name as drawn.
    pub fn node_title(&self, node: &Node) -> String {
        match node {
            Node::Internet => "Internet".to_owned(),
            Node::Tier(t) => format!("{} tier", self.tiers[*t].name),
            Node::Other(i) => self.others[*i].clone(),
        }
    }

    /// Every node arrows can touch, in drawing order (top to bottom).
    pub fn nodes(&self) -> Vec<Node> {
        let mut nodes = vec![Node::Internet];
        nodes.extend((0..self.tiers.len()).map(Node::Tier));
        nodes.extend((0..self.others.len()).map(Node::Other));
        nodes
    }
}

fn is_world(peer: &str) -> bool {
    peer == "0.0.0.0/0" || peer == "::/0"
}

/// Sort key of an IPv4 CIDR (its address); non-IPv4 text sorts last.
fn cidr_key(cidr: &str) -> u64 {
    let addr = cidr.split('/').next().unwrap_or_default();
    let octets: Vec<u64> = addr.split('.').filter_map(|o| o.parse().ok()).collect();
    if octets.len() == 4 {
        octets.iter().fold(0, |acc, o| acc * 256 + o)
    } else {
        u64::MAX
    }
}

fn of_kind<'t>(t: &'t Template, kind: &'t str) -> impl Iterator<Item = (&'t str, &'t Resource)> {
    t.resources
        .iter()
        .filter(move |(_, r)| r.kind == kind)
        .map(|(id, r)| (id.as_str(), r))
}

fn tag(r: &Resource, key: &str) -> Option<String> {
    r.properties.get("Tags")?.as_list()?.iter().find_map(|t| {
        (t.get("Key")?.as_str()? == key).then(|| t.get("Value")?.as_str().map(str::to_owned))?
    })
}

/// Resolves values of the network template: literals, `Sub` of the region,
/// and references to its resources (directly, or through an export).
struct Reader<'t> {
    region: &'t str,
    /// Export name to the network resource it exports.
    exports: BTreeMap<String, String>,
}

impl<'t> Reader<'t> {
    fn new(network: &'t Template, region: &'t str) -> Self {
        let exports = network
            .outputs
            .values()
            .filter_map(|o| {
                let name = o.export.as_ref()?.as_str()?.to_owned();
                match o.value.as_fn()? {
                    Intrinsic::Ref(id) => Some((name, id.clone())),
                    _ => None,
                }
            })
            .collect();
        Reader { region, exports }
    }

    /// A literal value as text, `${AWS::Region}` substituted.
    fn text(&self, v: Option<&Value>) -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Sub {
                    template,
                    vars: None,
                } => Some(template.replace("${AWS::Region}", self.region)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The logical id a value refers to: `Ref`, `GetAtt` or an import of
    /// a network export.
    fn target(&self, v: &Value) -> Option<String> {
        match v.as_fn()? {
            Intrinsic::Ref(id) => Some(id.clone()),
            Intrinsic::GetAtt { resource, .. } => Some(resource.clone()),
            Intrinsic::ImportValue(name) => self.exports.get(name.as_str()?).cloned(),
            _ => None,
        }
    }

    fn targets(&self, v: Option<&Value>) -> Vec<String> {
        v.and_then(Value::as_list)
            .map(|l| l.iter().filter_map(|x| self.target(x)).collect())
            .unwrap_or_default()
    }
}

/// Something attached to subnets with security groups.
struct Attachment {
    what: String,
    subnets: Vec<String>,
    groups: Vec<String>,
}

/// Interface endpoints, VPC connectors and ECS Express tasks, with the
/// subnets and security groups they use.
fn attachments(reader: &Reader, network: &Template, services: &[&Template]) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (id, r) in of_kind(network, "AWS::EC2::VPCEndpoint") {
        let subnets = reader.targets(r.properties.get("SubnetIds"));
        if subnets.is_empty() {
            continue;
        }
        out.push(Attachment {
            what: format!("endpoint {} ({id})", endpoint_service(reader, r)),
            subnets,
            groups: reader.targets(r.properties.get("SecurityGroupIds")),
        });
    }
    for t in services {
        for (_, r) in of_kind(t, "AWS::AppRunner::VpcConnector") {
            out.push(Attachment {
                what: "App Runner VPC connector".to_owned(),
                subnets: reader.targets(r.properties.get("Subnets")),
                groups: reader.targets(r.properties.get("SecurityGroups")),
            });
        }
        for (_, r) in of_kind(t, "AWS::ECS::ExpressGatewayService") {
            let net = r.properties.get("NetworkConfiguration");
            out.push(Attachment {
                what: "ECS Express tasks + load balancer".to_owned(),
                subnets: reader.targets(net.and_then(|n| n.get("Subnets"))),
                groups: reader.targets(net.and_then(|n| n.get("SecurityGroups"))),
            });
        }
    }
    out
}

/// `com.amazonaws.<region>.ecr.api` drawn as `ecr.api`.
fn endpoint_service(reader: &Reader, r: &Resource) -> String {
    let name = reader
        .text(r.properties.get("ServiceName"))
        .unwrap_or_default();
    let prefix = format!("com.amazonaws.{}.", reader.region);
    name.strip_prefix(&prefix).unwrap_or(&name).to_owned()
}

fn vpc_notes(reader: &Reader, network: &Template) -> Vec<String> {
    let mut notes = Vec::new();
    for (id, _) in of_kind(network, "AWS::EC2::InternetGateway") {
        notes.push(format!("internet gateway {id}"));
    }
    for (id, r) in of_kind(network, "AWS::EC2::VPCEndpoint") {
        if r.properties.get("SubnetIds").is_none() {
            notes.push(format!(
                "gateway endpoint {} ({id})",
                endpoint_service(reader, r)
            ));
        }
    }
    notes
}

/// Routes of the subnet's route table, then what lives in the subnet.
fn subnet_lines(
    reader: &Reader,
    network: &Template,
    subnet: &str,
    attachments: &[Attachment],
) -> Vec<String> {
    let mut lines = Vec::new();
    let table = of_kind(network, "AWS::EC2::SubnetRouteTableAssociation").find_map(|(_, r)| {
        let s = r
            .properties
            .get("SubnetId")
            .and_then(|v| reader.target(v))?;
        (s == subnet)
            .then(|| {
                r.properties
                    .get("RouteTableId")
                    .and_then(|v| reader.target(v))
            })
            .flatten()
    });
    match table {
        Some(table) => {
            let mut routes: Vec<String> = of_kind(network, "AWS::EC2::Route")
                .filter(|(_, r)| {
                    r.properties
                        .get("RouteTableId")
                        .and_then(|v| reader.target(v))
                        == Some(table.clone())
                })
                .map(|(_, r)| {
                    let dest = reader
                        .text(r.properties.get("DestinationCidrBlock"))
                        .or_else(|| reader.text(r.properties.get("DestinationIpv6CidrBlock")))
                        .unwrap_or_default();
                    let via = [
                        "GatewayId",
                        "NatGatewayId",
                        "VpcEndpointId",
                        "TransitGatewayId",
                    ]
                    .iter()
                    .find_map(|k| r.properties.get(*k).and_then(|v| reader.target(v)))
                    .unwrap_or_else(|| "?".to_owned());
                    format!("route {dest} -> {via}")
                })
                .collect();
            routes.sort();
            if routes.is_empty() {
                routes.push("routes: VPC only".to_owned());
            }
            lines.extend(routes);
        }
        None => lines.push("routes: VPC only".to_owned()),
    }
    let mut items: Vec<String> = of_kind(network, "AWS::EC2::NatGateway")
        .filter(|(_, r)| {
            r.properties
                .get("SubnetId")
                .and_then(|v| reader.target(v))
                .as_deref()
                == Some(subnet)
        })
        .map(|(id, _)| format!("NAT gateway {id}"))
        .collect();
    items.extend(
        attachments
            .iter()
            .filter(|a| a.subnets.iter().any(|s| s == subnet))
            .map(|a| a.what.clone()),
    );
    lines.extend(items);
    lines
}

fn port_text(protocol: &str, from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        _ if protocol == "all" => "all".to_owned(),
        (Some(f), Some(t)) if f == t => f.to_string(),
        (Some(-1), _) | (None, _) => "all".to_owned(),
        (Some(f), Some(t)) => format!("{f}-{t}"),
        (Some(f), None) => f.to_string(),
    }
}

fn int(reader: &Reader, v: Option<&Value>) -> Option<i64> {
    reader.text(v)?.parse().ok()
}

/// Every rule of every security group of the network, inline or standalone.
fn rules(reader: &Reader, network: &Template) -> Vec<Rule> {
    let mut out = Vec::new();
    let mut push = |group: &str, direction: Direction, rule: &Value| {
        let get = |k: &str| rule.get(k);
        let protocol = match reader.text(get("IpProtocol")).as_deref() {
            Some("-1") | None => "all".to_owned(),
            Some(p) => p.to_owned(),
        };
        let ports = port_text(
            &protocol,
            int(reader, get("FromPort")),
            int(reader, get("ToPort")),
        );
        let peer = [
            "CidrIp",
            "CidrIpv6",
            "SourcePrefixListId",
            "DestinationPrefixListId",
        ]
        .iter()
        .find_map(|k| reader.text(get(k)))
        .or_else(|| {
            ["SourceSecurityGroupId", "DestinationSecurityGroupId"]
                .iter()
                .find_map(|k| get(k).and_then(|v| reader.target(v)))
        })
        .unwrap_or_else(|| "?".to_owned());
        out.push(Rule {
            group: group.to_owned(),
            direction,
            protocol,
            ports,
            peer,
        });
    };
    for (id, r) in of_kind(network, "AWS::EC2::SecurityGroup") {
        for (key, dir) in [
            ("SecurityGroupIngress", Direction::Ingress),
            ("SecurityGroupEgress", Direction::Egress),
        ] {
            for rule in r
                .properties
                .get(key)
                .and_then(Value::as_list)
                .unwrap_or_default()
            {
                push(id, dir, rule);
            }
        }
    }
    for (kind, dir) in [
        ("AWS::EC2::SecurityGroupIngress", Direction::Ingress),
        ("AWS::EC2::SecurityGroupEgress", Direction::Egress),
    ] {
        for (_, r) in of_kind(network, kind) {
            if let Some(group) = r.properties.get("GroupId").and_then(|v| reader.target(v)) {
                push(&group, dir, &Value::Map(r.properties.clone()));
            }
        }
    }
    out
}

/// Groups rules into arrows: same group, direction and peer node, and the
/// same protocols and ports for every peer of the arrow.
fn flows(
    rules: &[Rule],
    node_of: &dyn Fn(&str) -> Node,
    group_node: &dyn Fn(&str) -> Node,
) -> Vec<Flow> {
    // (group, direction, node, peer) -> protocol -> ports (numeric order).
    type Ports = BTreeMap<String, BTreeSet<(i64, String)>>;
    let mut per_peer: BTreeMap<(String, Direction, Node, String), Ports> = BTreeMap::new();
    for r in rules {
        let order = r
            .ports
            .split('-')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(-1);
        per_peer
            .entry((
                r.group.clone(),
                r.direction,
                node_of(&r.peer),
                r.peer.clone(),
            ))
            .or_default()
            .entry(r.protocol.clone())
            .or_default()
            .insert((order, r.ports.clone()));
    }
    let mut grouped: BTreeMap<(String, Direction, Node, String), Vec<String>> = BTreeMap::new();
    for ((group, dir, node, peer), ports) in per_peer {
        let services = ports
            .iter()
            .map(|(proto, ports)| {
                let list: Vec<&str> = ports.iter().map(|(_, p)| p.as_str()).collect();
                format!("{proto} {}", list.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" · ");
        grouped
            .entry((group, dir, node, services))
            .or_default()
            .push(peer);
    }
    grouped
        .into_iter()
        .map(|((group, direction, node, services), mut peers)| {
            peers.sort_by_key(|p| (cidr_key(p), p.clone()));
            let own = group_node(&group);
            let (from, to) = match direction {
                Direction::Ingress => (node, own),
                Direction::Egress => (own, node),
            };
            Flow {
                from,
                to,
                group,
                direction,
                services,
                peers,
            }
        })
        .collect()
}

/// The tiers the given subnets belong to, as `Public` or `Public, Protect`.
fn tier_list(
    subnets: &[String],
    subnet_tier: &BTreeMap<String, usize>,
    tiers: &[TierFacts],
) -> String {
    let set: BTreeSet<usize> = subnets
        .iter()
        .filter_map(|s| subnet_tier.get(s))
        .copied()
        .collect();
    set.iter()
        .map(|t| tiers[*t].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a subnet's route table sends 0.0.0.0/0 to an internet gateway.
fn routes_to_internet(network: &Template, reader: &Reader, subnet: &str) -> bool {
    subnet_lines(reader, network, subnet, &[]).iter().any(|l| {
        l.starts_with("route 0.0.0.0/0 -> ")
            && l.rsplit(' ')
                .next()
                .and_then(|gw| network.resources.get(gw))
                .map(|r| r.kind.as_str())
                == Some("AWS::EC2::InternetGateway")
    })
}

fn service_facts(
    reader: &Reader,
    t: &Template,
    subnet_tier: &BTreeMap<String, usize>,
    tiers: &[TierFacts],
    network: &Template,
) -> Vec<ServiceFacts> {
    let mut out = Vec::new();
    for (_, r) in of_kind(t, "AWS::AppRunner::Service") {
        let p = &r.properties;
        let name = reader.text(p.get("ServiceName")).unwrap_or_default();
        let inst = p.get("InstanceConfiguration");
        let image = p
            .get("SourceConfiguration")
            .and_then(|s| s.get("ImageRepository"));
        let port = reader
            .text(
                image
                    .and_then(|i| i.get("ImageConfiguration"))
                    .and_then(|c| c.get("Port")),
            )
            .unwrap_or_default();
        let mut lines = vec![
            "AWS App Runner service".to_owned(),
            format!(
                "{} · {} · port {port}",
                reader
                    .text(inst.and_then(|i| i.get("Cpu")))
                    .unwrap_or_default(),
                reader
                    .text(inst.and_then(|i| i.get("Memory")))
                    .unwrap_or_default(),
            ),
            format!(
                "image: {} repository, tag = ImageTag",
                reader
                    .text(image.and_then(|i| i.get("ImageRepositoryType")))
                    .unwrap_or_default()
            ),
        ];
        let net = p.get("NetworkConfiguration");
        let public = net
            .and_then(|n| n.get("IngressConfiguration"))
            .and_then(|i| i.get("IsPubliclyAccessible"));
        lines.push(match public {
            Some(Value::Bool(false)) => {
                let via = of_kind(t, "AWS::AppRunner::VpcIngressConnection")
                    .next()
                    .and_then(|(_, r)| {
                        r.properties
                            .get("IngressVpcConfiguration")
                            .and_then(|c| c.get("VpcEndpointId"))
                            .and_then(|v| reader.target(v))
                    })
                    .unwrap_or_else(|| "a VPC ingress connection".to_owned());
                format!("ingress: private, through {via}")
            }
            _ => "ingress: public HTTPS URL".to_owned(),
        });
        for (_, c) in of_kind(t, "AWS::AppRunner::VpcConnector") {
            let subnets = reader.targets(c.properties.get("Subnets"));
            let groups = reader.targets(c.properties.get("SecurityGroups"));
            lines.push(format!(
                "egress: VPC connector in {} subnets",
                tier_list(&subnets, subnet_tier, tiers)
            ));
            lines.push(format!("        SG {}", groups.join(", ")));
        }
        if let Some(h) = p.get("HealthCheckConfiguration") {
            lines.push(format!(
                "health: {} {} every {}s",
                reader.text(h.get("Protocol")).unwrap_or_default(),
                reader.text(h.get("Path")).unwrap_or_default(),
                reader.text(h.get("Interval")).unwrap_or_default(),
            ));
        }
        out.push(ServiceFacts {
            name,
            lines,
            load_balancer: None,
        });
    }
    for (_, r) in of_kind(t, "AWS::ECS::ExpressGatewayService") {
        let p = &r.properties;
        let name = reader.text(p.get("ServiceName")).unwrap_or_default();
        let container = p.get("PrimaryContainer");
        let scaling = p.get("ScalingTarget");
        let mut lines = vec![
            "Amazon ECS Express Mode service".to_owned(),
            format!(
                "cpu {} · memory {} MiB · port {}",
                reader.text(p.get("Cpu")).unwrap_or_default(),
                reader.text(p.get("Memory")).unwrap_or_default(),
                reader
                    .text(container.and_then(|c| c.get("ContainerPort")))
                    .unwrap_or_default(),
            ),
            "image: ECR repository, tag = ImageTag".to_owned(),
        ];
        if let Some(s) = scaling {
            lines.push(format!(
                "tasks {}-{}, {} target {}",
                reader.text(s.get("MinTaskCount")).unwrap_or_default(),
                reader.text(s.get("MaxTaskCount")).unwrap_or_default(),
                reader.text(s.get("AutoScalingMetric")).unwrap_or_default(),
                reader
                    .text(s.get("AutoScalingTargetValue"))
                    .unwrap_or_default(),
            ));
        }
        lines.push(format!(
            "health: {}",
            reader.text(p.get("HealthCheckPath")).unwrap_or_default()
        ));
        let net = p.get("NetworkConfiguration");
        let subnets = reader.targets(net.and_then(|n| n.get("Subnets")));
        let groups = reader.targets(net.and_then(|n| n.get("SecurityGroups")));
        let facing = if !subnets.is_empty()
            && subnets
                .iter()
                .all(|s| routes_to_internet(network, reader, s))
        {
            "internet-facing"
        } else {
            "internal"
        };
        let lb = vec![
            "Application Load Balancer".to_owned(),
            "(provisioned by ECS Express)".to_owned(),
            format!("{facing}, HTTPS"),
            format!("in {} subnets", tier_list(&subnets, subnet_tier, tiers)),
            format!("SG {}", groups.join(", ")),
        ];
        out.push(ServiceFacts {
            name,
            lines,
            load_balancer: Some(lb),
        });
    }
    out
}

fn ecr_lines(reader: &Reader, t: &Template) -> Vec<String> {
    of_kind(t, "AWS::ECR::Repository")
        .flat_map(|(_, r)| {
            let p = &r.properties;
            vec![
                "Amazon ECR repository".to_owned(),
                reader.text(p.get("RepositoryName")).unwrap_or_default(),
                format!(
                    "tags {} · scan on push {}",
                    reader
                        .text(p.get("ImageTagMutability"))
                        .unwrap_or_else(|| "MUTABLE".into()),
                    reader
                        .text(
                            p.get("ImageScanningConfiguration")
                                .and_then(|c| c.get("ScanOnPush"))
                        )
                        .unwrap_or_else(|| "false".into()),
                ),
            ]
        })
        .collect()
}

fn source_lines(reader: &Reader, t: &Template) -> Vec<String> {
    of_kind(t, "AWS::CodeCommit::Repository")
        .flat_map(|(_, r)| {
            vec![
                "AWS CodeCommit repository".to_owned(),
                reader
                    .text(r.properties.get("RepositoryName"))
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

fn pipeline_facts(reader: &Reader, t: &Template) -> PipelineFacts {
    let mut lines = Vec::new();
    let mut stages = Vec::new();
    for (_, r) in of_kind(t, "AWS::CodePipeline::Pipeline") {
        lines.push(format!(
            "AWS CodePipeline {} ({})",
            reader.text(r.properties.get("Name")).unwrap_or_default(),
            reader
                .text(r.properties.get("PipelineType"))
                .unwrap_or_else(|| "V1".into()),
        ));
        for stage in r
            .properties
            .get("Stages")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            let name = reader.text(stage.get("Name")).unwrap_or_default();
            let actions = stage
                .get("Actions")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .map(|a| action_line(reader, a))
                .collect();
            stages.push((name, actions));
        }
    }
    for (id, _) in of_kind(t, "AWS::Events::Rule") {
        lines.push(format!("started by EventBridge rule {id}"));
    }
    PipelineFacts { lines, stages }
}

fn action_line(reader: &Reader, action: &Value) -> String {
    let name = reader.text(action.get("Name")).unwrap_or_default();
    let provider = reader
        .text(action.get("ActionTypeId").and_then(|t| t.get("Provider")))
        .unwrap_or_default();
    let config = action.get("Configuration");
    match config.and_then(|c| reader.text(c.get("BranchName"))) {
        Some(branch) => format!("{name}: {provider} @ {branch}"),
        None => format!("{name}: {provider}"),
    }
}
