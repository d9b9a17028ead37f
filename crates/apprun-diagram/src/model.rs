//! The facts a diagram shows, read from the synthesized templates.

use std::collections::{BTreeMap, BTreeSet};

use apprun_blueprint::{EnvBlueprint, StackKind, synthesize};
use apprun_config::Config;
use apprun_template::{Intrinsic, Map, Resource, Template, Value};

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
        let network = &bp
            .stack(&StackKind::Network)
            .ok_or_else(|| missing(bp, "network stack"))?
            .template;
        let reader = Reader::new(network, region);
        let (vpc_id, vpc) = of_kind(network, "AWS::EC2::VPC")
            .next()
            .ok_or_else(|| missing(bp, "VPC"))?;
        let declared = declared_subnets(&reader, network);
        if declared.is_empty() {
            return Err(missing(bp, "subnets"));
        }
        let services = service_templates(bp);
        let attachments = attachments(&reader, network, &services);
        let tier_names = tier_names(&declared);
        let subnet_tier: BTreeMap<String, usize> = declared
            .iter()
            .map(|s| (s.id.clone(), tier_index(&tier_names, &s.tier)))
            .collect();
        let group_tier = group_tiers(network, &attachments, &subnet_tier, &tier_names);
        let tiers = tier_facts(&tier_names, &group_tier);
        let rules = rules(&reader, network);
        let peers = PeerNodes::new(&declared, &subnet_tier, &group_tier, &rules);
        let flows = flows(&rules, &peers);
        let view = NetworkView {
            reader: &reader,
            network,
            subnet_tier: &subnet_tier,
            tiers: &tiers,
        };
        let services = services
            .iter()
            .flat_map(|t| service_facts(&view, t))
            .collect();
        let repository = bp.stack(&StackKind::Repository).map(|s| &s.template);
        let pipeline = bp.stack(&StackKind::Pipeline).map(|s| &s.template);
        Ok(Architecture {
            system: system.to_owned(),
            env: bp.env.clone(),
            region: region.to_owned(),
            vpc_id: vpc_id.to_owned(),
            vpc_cidr: reader.shown(vpc.properties.get("CidrBlock")),
            vpc_notes: vpc_notes(&reader, network),
            zones: zones(&declared),
            subnets: subnet_facts(&reader, network, &declared, &subnet_tier, &attachments),
            tiers,
            others: peers.others,
            rules,
            flows,
            services,
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

/// The error for something every env's stacks have.
fn missing(bp: &EnvBlueprint, what: &str) -> DiagramError {
    DiagramError::Missing {
        env: bp.env.clone(),
        what: what.to_owned(),
    }
}

/// The templates of the env's services (one a backend stack).
fn service_templates(bp: &EnvBlueprint) -> Vec<&Template> {
    bp.stacks
        .iter()
        .filter(|s| matches!(s.kind, StackKind::Service { .. }))
        .map(|s| &s.template)
        .collect()
}

/// A subnet as the network template declares it, its tier still a name.
struct DeclaredSubnet {
    id: String,
    /// The `Subnet` tag (the tier's name), else the logical id.
    tier: String,
    zone: String,
    cidr: String,
}

/// The network's subnets, in logical-id order.
fn declared_subnets(reader: &Reader, network: &Template) -> Vec<DeclaredSubnet> {
    of_kind(network, "AWS::EC2::Subnet")
        .map(|(id, r)| DeclaredSubnet {
            id: id.to_owned(),
            tier: tag(r, "Subnet").unwrap_or_else(|| id.to_owned()),
            zone: tag(r, "Az")
                .or_else(|| reader.text(r.properties.get("AvailabilityZone")))
                .unwrap_or_default(),
            cidr: reader.shown(r.properties.get("CidrBlock")),
        })
        .collect()
}

/// Tier names ordered by the lowest address of their subnets, so that rows
/// read public, protect, private whatever the tags are called.
fn tier_names(subnets: &[DeclaredSubnet]) -> Vec<String> {
    let mut lowest: Vec<(u64, String)> = Vec::new();
    for s in subnets {
        let key = cidr_key(&s.cidr);
        match lowest.iter_mut().find(|(_, n)| *n == s.tier) {
            Some(entry) => entry.0 = entry.0.min(key),
            None => lowest.push((key, s.tier.clone())),
        }
    }
    lowest.sort();
    lowest.into_iter().map(|(_, name)| name).collect()
}

/// A tier's row; a name no subnet carries (none can) falls to the first.
fn tier_index(tier_names: &[String], name: &str) -> usize {
    tier_names.iter().position(|n| n == name).unwrap_or(0)
}

/// Zone letters (or names), sorted, each once.
fn zones(subnets: &[DeclaredSubnet]) -> Vec<String> {
    let mut zones: Vec<String> = subnets.iter().map(|s| s.zone.clone()).collect();
    zones.sort();
    zones.dedup();
    zones
}

/// The tier of each security group: the lowest tier whose subnets it is
/// attached to, else the tier its logical id starts with, else none (it
/// becomes a node of its own).
fn group_tiers(
    network: &Template,
    attachments: &[Attachment],
    subnet_tier: &BTreeMap<String, usize>,
    tier_names: &[String],
) -> BTreeMap<String, Option<usize>> {
    of_kind(network, "AWS::EC2::SecurityGroup")
        .map(|(id, _)| {
            let used = attachments
                .iter()
                .filter(|a| a.groups.iter().any(|g| g == id))
                .flat_map(|a| a.subnets.iter().filter_map(|s| subnet_tier.get(s)))
                .min()
                .copied();
            let named = tier_names.iter().position(|n| id.starts_with(n.as_str()));
            (id.to_owned(), used.or(named))
        })
        .collect()
}

/// Each tier with the security groups drawn on it.
fn tier_facts(
    tier_names: &[String],
    group_tier: &BTreeMap<String, Option<usize>>,
) -> Vec<TierFacts> {
    let mut tiers: Vec<TierFacts> = tier_names
        .iter()
        .map(|name| TierFacts {
            name: name.clone(),
            groups: Vec::new(),
        })
        .collect();
    for (group, tier) in group_tier {
        if let Some(t) = tier {
            tiers[*t].groups.push(group.clone());
        }
    }
    tiers
}

/// Where the ends of security-group arrows are drawn: a tier (a subnet's
/// CIDR or a group on the tier), the Internet, or a node of its own.
struct PeerNodes<'a> {
    cidr_tier: BTreeMap<&'a str, usize>,
    group_tier: &'a BTreeMap<String, Option<usize>>,
    /// Peers and groups that are no tier, sorted ([`Architecture::others`]).
    others: Vec<String>,
}

impl<'a> PeerNodes<'a> {
    fn new(
        subnets: &'a [DeclaredSubnet],
        subnet_tier: &BTreeMap<String, usize>,
        group_tier: &'a BTreeMap<String, Option<usize>>,
        rules: &[Rule],
    ) -> Self {
        let cidr_tier = subnets
            .iter()
            .map(|s| (s.cidr.as_str(), subnet_tier[&s.id]))
            .collect();
        let mut nodes = PeerNodes {
            cidr_tier,
            group_tier,
            others: Vec::new(),
        };
        let mut others: BTreeSet<String> = BTreeSet::new();
        for rule in rules {
            if !is_world(&rule.peer)
                && let Err(other) = nodes.tier_of_peer(&rule.peer)
            {
                others.insert(other);
            }
            if let Some(None) = group_tier.get(&rule.group) {
                others.insert(rule.group.clone());
            }
        }
        nodes.others = others.into_iter().collect();
        nodes
    }

    /// The tier a peer belongs to, or the peer itself when it is no tier.
    fn tier_of_peer(&self, peer: &str) -> Result<usize, String> {
        if let Some(t) = self.cidr_tier.get(peer) {
            return Ok(*t);
        }
        match self.group_tier.get(peer) {
            Some(Some(t)) => Ok(*t),
            _ => Err(peer.to_owned()),
        }
    }

    fn other(&self, name: &str) -> Node {
        Node::Other(self.others.iter().position(|x| x == name).unwrap_or(0))
    }

    /// The node of a rule's peer.
    fn of_peer(&self, peer: &str) -> Node {
        if is_world(peer) {
            return Node::Internet;
        }
        match self.tier_of_peer(peer) {
            Ok(t) => Node::Tier(t),
            Err(o) => self.other(&o),
        }
    }

    /// The node of the group that owns a rule.
    fn of_group(&self, group: &str) -> Node {
        match self.group_tier.get(group) {
            Some(Some(t)) => Node::Tier(*t),
            _ => self.other(group),
        }
    }
}

/// The subnets' facts, ordered by tier, zone and id.
fn subnet_facts(
    reader: &Reader,
    network: &Template,
    declared: &[DeclaredSubnet],
    subnet_tier: &BTreeMap<String, usize>,
    attachments: &[Attachment],
) -> Vec<SubnetFacts> {
    let mut subnets: Vec<SubnetFacts> = declared
        .iter()
        .map(|s| SubnetFacts {
            id: s.id.clone(),
            tier: subnet_tier[&s.id],
            zone: s.zone.clone(),
            cidr: s.cidr.clone(),
            lines: subnet_lines(reader, network, &s.id, attachments),
        })
        .collect();
    subnets.sort_by(|a, b| (a.tier, &a.zone, &a.id).cmp(&(b.tier, &b.zone, &b.id)));
    subnets
}

/// The whole IPv4 or IPv6 internet.
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

/// The resources of one type, in logical-id order.
fn of_kind<'t>(t: &'t Template, kind: &'t str) -> impl Iterator<Item = (&'t str, &'t Resource)> {
    t.resources
        .iter()
        .filter(move |(_, r)| r.kind == kind)
        .map(|(id, r)| (id.as_str(), r))
}

/// The value of the tag `key`, if it is a literal.
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
                    Intrinsic::Ref(id) => Some((name, id.to_string())),
                    _ => None,
                }
            })
            .collect();
        Reader { region, exports }
    }

    /// A literal value as text, `${AWS::Region}` substituted.
    fn text(&self, v: Option<&Value>) -> Option<String> {
        match v? {
            Value::String(s) => Some(s.as_str().into()),
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

    /// A literal value as text, empty when the template has none (the
    /// diagram still draws the line, with a blank where the fact is).
    fn shown(&self, v: Option<&Value>) -> String {
        self.text(v).unwrap_or_default()
    }

    /// The values of `keys` in the map `v`, each as [`Reader::shown`].
    fn fields<const N: usize>(&self, v: &Value, keys: [&str; N]) -> [String; N] {
        keys.map(|k| self.shown(v.get(k)))
    }

    /// The logical id a value refers to: `Ref`, `GetAtt` or an import of
    /// a network export.
    fn target(&self, v: &Value) -> Option<String> {
        match v.as_fn()? {
            Intrinsic::Ref(id) => Some(id.to_string()),
            Intrinsic::GetAtt { resource, .. } => Some(resource.to_string()),
            Intrinsic::ImportValue(name) => self.exports.get(name.as_str()?).cloned(),
            _ => None,
        }
    }

    /// [`Reader::target`] of a value that may be absent.
    fn target_of(&self, v: Option<&Value>) -> Option<String> {
        self.target(v?)
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
    let name = reader.shown(r.properties.get("ServiceName"));
    let prefix = format!("com.amazonaws.{}.", reader.region);
    name.strip_prefix(&prefix).unwrap_or(&name).to_owned()
}

/// VPC-wide facts: internet gateways and gateway endpoints (no subnets).
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
    let mut lines = route_lines(reader, network, subnet);
    lines.extend(residents(reader, network, subnet, attachments));
    lines
}

/// The logical id of the route table associated with the subnet.
fn route_table(reader: &Reader, network: &Template, subnet: &str) -> Option<String> {
    of_kind(network, "AWS::EC2::SubnetRouteTableAssociation").find_map(|(_, r)| {
        let s = reader.target_of(r.properties.get("SubnetId"))?;
        (s == subnet)
            .then(|| reader.target_of(r.properties.get("RouteTableId")))
            .flatten()
    })
}

/// The subnet's routes, sorted; `routes: VPC only` when it has no route
/// beyond the VPC's own (no route table, or an empty one).
fn route_lines(reader: &Reader, network: &Template, subnet: &str) -> Vec<String> {
    let mut routes: Vec<String> = match route_table(reader, network, subnet) {
        Some(table) => of_kind(network, "AWS::EC2::Route")
            .filter(|(_, r)| {
                reader.target_of(r.properties.get("RouteTableId")) == Some(table.clone())
            })
            .map(|(_, r)| route_line(reader, r))
            .collect(),
        None => Vec::new(),
    };
    routes.sort();
    if routes.is_empty() {
        routes.push("routes: VPC only".to_owned());
    }
    routes
}

/// `route 0.0.0.0/0 -> InternetGateway`.
fn route_line(reader: &Reader, route: &Resource) -> String {
    let p = &route.properties;
    let dest = reader
        .text(p.get("DestinationCidrBlock"))
        .or_else(|| reader.text(p.get("DestinationIpv6CidrBlock")))
        .unwrap_or_default();
    let via = [
        "GatewayId",
        "NatGatewayId",
        "VpcEndpointId",
        "TransitGatewayId",
    ]
    .iter()
    .find_map(|k| reader.target_of(p.get(*k)))
    .unwrap_or_else(|| "?".to_owned());
    format!("route {dest} -> {via}")
}

/// What lives in the subnet: NAT gateways, then endpoints, connectors and
/// tasks attached to it.
fn residents(
    reader: &Reader,
    network: &Template,
    subnet: &str,
    attachments: &[Attachment],
) -> Vec<String> {
    let nat = of_kind(network, "AWS::EC2::NatGateway")
        .filter(|(_, r)| reader.target_of(r.properties.get("SubnetId")).as_deref() == Some(subnet))
        .map(|(id, _)| format!("NAT gateway {id}"));
    let attached = attachments
        .iter()
        .filter(|a| a.subnets.iter().any(|s| s == subnet))
        .map(|a| a.what.clone());
    nat.chain(attached).collect()
}

/// A rule's ports as drawn: `80`, `1024-65535` or `all`.
fn port_text(protocol: &str, from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        _ if protocol == "all" => "all".to_owned(),
        (Some(f), Some(t)) if f == t => f.to_string(),
        (Some(-1), _) | (None, _) => "all".to_owned(),
        (Some(f), Some(t)) => format!("{f}-{t}"),
        (Some(f), None) => f.to_string(),
    }
}

/// A literal number.
fn int(reader: &Reader, v: Option<&Value>) -> Option<i64> {
    reader.text(v)?.parse().ok()
}

/// Every rule of every security group of the network, inline or standalone.
fn rules(reader: &Reader, network: &Template) -> Vec<Rule> {
    let mut out = Vec::new();
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
                // An item that is not a mapping names nothing: all, `?`.
                let empty = Map::new();
                out.push(rule_of(reader, id, dir, rule.as_map().unwrap_or(&empty)));
            }
        }
    }
    for (kind, dir) in [
        ("AWS::EC2::SecurityGroupIngress", Direction::Ingress),
        ("AWS::EC2::SecurityGroupEgress", Direction::Egress),
    ] {
        for (_, r) in of_kind(network, kind) {
            if let Some(group) = reader.target_of(r.properties.get("GroupId")) {
                out.push(rule_of(reader, &group, dir, &r.properties));
            }
        }
    }
    out
}

/// One entry of `group`'s rules: an inline entry, or the properties of a
/// standalone rule resource (the same keys).
fn rule_of(reader: &Reader, group: &str, direction: Direction, rule: &Map) -> Rule {
    let protocol = match reader.text(rule.get("IpProtocol")).as_deref() {
        Some("-1") | None => "all".to_owned(),
        Some(p) => p.to_owned(),
    };
    let ports = port_text(
        &protocol,
        int(reader, rule.get("FromPort")),
        int(reader, rule.get("ToPort")),
    );
    Rule {
        group: group.to_owned(),
        direction,
        protocol,
        ports,
        peer: rule_peer(reader, rule),
    }
}

/// The CIDR, prefix list or security group a rule names (`?` if none).
fn rule_peer(reader: &Reader, rule: &Map) -> String {
    [
        "CidrIp",
        "CidrIpv6",
        "SourcePrefixListId",
        "DestinationPrefixListId",
    ]
    .iter()
    .find_map(|k| reader.text(rule.get(k)))
    .or_else(|| {
        ["SourceSecurityGroupId", "DestinationSecurityGroupId"]
            .iter()
            .find_map(|k| reader.target_of(rule.get(k)))
    })
    .unwrap_or_else(|| "?".to_owned())
}

/// A rule's group, direction, peer node and peer.
type PeerKey = (String, Direction, Node, String);
/// Protocol to ports, ports in numeric order.
type Ports = BTreeMap<String, BTreeSet<(i64, String)>>;

/// Groups rules into arrows: same group, direction and peer node, and the
/// same protocols and ports for every peer of the arrow.
fn flows(rules: &[Rule], nodes: &PeerNodes) -> Vec<Flow> {
    let mut grouped: BTreeMap<(String, Direction, Node, String), Vec<String>> = BTreeMap::new();
    for ((group, dir, node, peer), ports) in ports_per_peer(rules, nodes) {
        grouped
            .entry((group, dir, node, services_text(&ports)))
            .or_default()
            .push(peer);
    }
    grouped
        .into_iter()
        .map(|((group, direction, node, services), mut peers)| {
            peers.sort_by_key(|p| (cidr_key(p), p.clone()));
            let own = nodes.of_group(&group);
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

/// The protocols and ports the rules allow, per group, direction and peer.
fn ports_per_peer(rules: &[Rule], nodes: &PeerNodes) -> BTreeMap<PeerKey, Ports> {
    let mut per_peer: BTreeMap<PeerKey, Ports> = BTreeMap::new();
    for r in rules {
        // Ranges sort by their first port; `all` sorts first.
        let order = r
            .ports
            .split('-')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(-1);
        let key = (
            r.group.clone(),
            r.direction,
            nodes.of_peer(&r.peer),
            r.peer.clone(),
        );
        per_peer
            .entry(key)
            .or_default()
            .entry(r.protocol.clone())
            .or_default()
            .insert((order, r.ports.clone()));
    }
    per_peer
}

/// `tcp 80, 443 · udp 53`.
fn services_text(ports: &Ports) -> String {
    ports
        .iter()
        .map(|(proto, ports)| {
            let list: Vec<&str> = ports.iter().map(|(_, p)| p.as_str()).collect();
            format!("{proto} {}", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// What a service's facts need from the network: each subnet's tier, and
/// the routes that tell an internet-facing load balancer from an internal one.
struct NetworkView<'a> {
    reader: &'a Reader<'a>,
    network: &'a Template,
    subnet_tier: &'a BTreeMap<String, usize>,
    tiers: &'a [TierFacts],
}

impl NetworkView<'_> {
    /// The tiers the given subnets belong to, as `Public` or `Public, Protect`.
    fn tier_list(&self, subnets: &[String]) -> String {
        let set: BTreeSet<usize> = subnets
            .iter()
            .filter_map(|s| self.subnet_tier.get(s))
            .copied()
            .collect();
        set.iter()
            .map(|t| self.tiers[*t].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a subnet's route table sends 0.0.0.0/0 to an internet gateway.
    fn routes_to_internet(&self, subnet: &str) -> bool {
        subnet_lines(self.reader, self.network, subnet, &[])
            .iter()
            .any(|l| {
                l.starts_with("route 0.0.0.0/0 -> ")
                    && l.rsplit(' ')
                        .next()
                        .and_then(|gw| self.network.resources.get(gw))
                        .map(|r| r.kind.as_str())
                        == Some("AWS::EC2::InternetGateway")
            })
    }
}

/// The services of one service stack: App Runner ones first, then ECS Express.
fn service_facts(view: &NetworkView, t: &Template) -> Vec<ServiceFacts> {
    let app_runner =
        of_kind(t, "AWS::AppRunner::Service").map(|(_, r)| app_runner_service(view, t, r));
    let express = of_kind(t, "AWS::ECS::ExpressGatewayService")
        .map(|(_, r)| express_service(view, &r.properties));
    app_runner.chain(express).collect()
}

/// An App Runner service: size, port, image, ingress, VPC egress, health check.
fn app_runner_service(view: &NetworkView, t: &Template, r: &Resource) -> ServiceFacts {
    let reader = view.reader;
    let p = &r.properties;
    let inst = p.get("InstanceConfiguration");
    let image = p
        .get("SourceConfiguration")
        .and_then(|s| s.get("ImageRepository"));
    let port = reader.shown(
        image
            .and_then(|i| i.get("ImageConfiguration"))
            .and_then(|c| c.get("Port")),
    );
    let mut lines = vec![
        "AWS App Runner service".to_owned(),
        format!(
            "{} · {} · port {port}",
            reader.shown(inst.and_then(|i| i.get("Cpu"))),
            reader.shown(inst.and_then(|i| i.get("Memory"))),
        ),
        format!(
            "image: {} repository, tag = ImageTag",
            reader.shown(image.and_then(|i| i.get("ImageRepositoryType")))
        ),
        app_runner_ingress(reader, t, p),
    ];
    lines.extend(app_runner_connectors(view, t));
    if let Some(h) = p.get("HealthCheckConfiguration") {
        let [protocol, path, interval] = reader.fields(h, ["Protocol", "Path", "Interval"]);
        lines.push(format!("health: {protocol} {path} every {interval}s"));
    }
    ServiceFacts {
        name: reader.shown(p.get("ServiceName")),
        lines,
        load_balancer: None,
    }
}

/// How requests reach an App Runner service: its public URL, or the VPC
/// endpoint of its ingress connection when it is private.
fn app_runner_ingress(reader: &Reader, t: &Template, service: &Map) -> String {
    let public = service
        .get("NetworkConfiguration")
        .and_then(|n| n.get("IngressConfiguration"))
        .and_then(|i| i.get("IsPubliclyAccessible"));
    if public != Some(&Value::Bool(false)) {
        return "ingress: public HTTPS URL".to_owned();
    }
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

/// The VPC connectors the service's outbound traffic leaves through.
fn app_runner_connectors(view: &NetworkView, t: &Template) -> Vec<String> {
    of_kind(t, "AWS::AppRunner::VpcConnector")
        .flat_map(|(_, c)| {
            let subnets = view.reader.targets(c.properties.get("Subnets"));
            let groups = view.reader.targets(c.properties.get("SecurityGroups"));
            [
                format!(
                    "egress: VPC connector in {} subnets",
                    view.tier_list(&subnets)
                ),
                format!("        SG {}", groups.join(", ")),
            ]
        })
        .collect()
}

/// An ECS Express service: size, port, image, scaling, health check; its
/// load balancer drawn apart.
fn express_service(view: &NetworkView, p: &Map) -> ServiceFacts {
    let reader = view.reader;
    let container = p.get("PrimaryContainer");
    let mut lines = vec![
        "Amazon ECS Express Mode service".to_owned(),
        format!(
            "cpu {} · memory {} MiB · port {}",
            reader.shown(p.get("Cpu")),
            reader.shown(p.get("Memory")),
            reader.shown(container.and_then(|c| c.get("ContainerPort"))),
        ),
        "image: ECR repository, tag = ImageTag".to_owned(),
    ];
    if let Some(s) = p.get("ScalingTarget") {
        let [min, max, metric, target] = reader.fields(
            s,
            [
                "MinTaskCount",
                "MaxTaskCount",
                "AutoScalingMetric",
                "AutoScalingTargetValue",
            ],
        );
        lines.push(format!("tasks {min}-{max}, {metric} target {target}"));
    }
    lines.push(format!(
        "health: {}",
        reader.shown(p.get("HealthCheckPath"))
    ));
    ServiceFacts {
        name: reader.shown(p.get("ServiceName")),
        lines,
        load_balancer: Some(express_load_balancer(view, p)),
    }
}

/// The load balancer ECS Express provisions in the service's subnets: it
/// faces the internet when every one of them routes to an internet gateway.
fn express_load_balancer(view: &NetworkView, service: &Map) -> Vec<String> {
    let net = service.get("NetworkConfiguration");
    let subnets = view.reader.targets(net.and_then(|n| n.get("Subnets")));
    let groups = view
        .reader
        .targets(net.and_then(|n| n.get("SecurityGroups")));
    let facing = if !subnets.is_empty() && subnets.iter().all(|s| view.routes_to_internet(s)) {
        "internet-facing"
    } else {
        "internal"
    };
    vec![
        "Application Load Balancer".to_owned(),
        "(provisioned by ECS Express)".to_owned(),
        format!("{facing}, HTTPS"),
        format!("in {} subnets", view.tier_list(&subnets)),
        format!("SG {}", groups.join(", ")),
    ]
}

/// The image repository the services pull from.
fn ecr_lines(reader: &Reader, t: &Template) -> Vec<String> {
    of_kind(t, "AWS::ECR::Repository")
        .flat_map(|(_, r)| {
            let p = &r.properties;
            vec![
                "Amazon ECR repository".to_owned(),
                reader.shown(p.get("RepositoryName")),
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

/// The source repository the pipeline starts from.
fn source_lines(reader: &Reader, t: &Template) -> Vec<String> {
    of_kind(t, "AWS::CodeCommit::Repository")
        .flat_map(|(_, r)| {
            vec![
                "AWS CodeCommit repository".to_owned(),
                reader.shown(r.properties.get("RepositoryName")),
            ]
        })
        .collect()
}

/// The pipeline, what starts it, and each stage with its actions.
fn pipeline_facts(reader: &Reader, t: &Template) -> PipelineFacts {
    let mut lines = Vec::new();
    let mut stages = Vec::new();
    for (_, r) in of_kind(t, "AWS::CodePipeline::Pipeline") {
        lines.push(format!(
            "AWS CodePipeline {} ({})",
            reader.shown(r.properties.get("Name")),
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
            let name = reader.shown(stage.get("Name"));
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

/// `Build: CodeBuild`, or `Source: CodeCommit @ main` for a branch.
fn action_line(reader: &Reader, action: &Value) -> String {
    let name = reader.shown(action.get("Name"));
    let provider = reader.shown(action.get("ActionTypeId").and_then(|t| t.get("Provider")));
    let config = action.get("Configuration");
    match config.and_then(|c| reader.text(c.get("BranchName"))) {
        Some(branch) => format!("{name}: {provider} @ {branch}"),
        None => format!("{name}: {provider}"),
    }
}
