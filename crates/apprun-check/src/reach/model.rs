//! The network as the checked templates declare it: VPCs, subnets, route
//! tables and their routes, internet and NAT gateways, security groups with
//! every rule (inline or separate), and VPC endpoints. References are
//! followed across templates: an `ImportValue` resolves through the export of
//! another checked template to the resource its output names.

use std::collections::{BTreeMap, BTreeSet};

use apprun_template::{Intrinsic, Map, Template, Value};
use ipnet::Ipv4Net;

use crate::Input;

/// A resource of the checked set: template index and logical id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rid<'a> {
    pub t: usize,
    pub id: &'a str,
}

/// What a property value points at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// `Ref` of a resource (possibly through an import).
    Res(Rid<'a>),
    /// `GetAtt` of a resource attribute (possibly through an import).
    Att(Rid<'a>),
    /// A literal, e.g. `subnet-0abc` or an ARN: something outside the set.
    Lit,
    /// An import no checked template exports, a parameter, or a function
    /// the proof does not evaluate.
    Unknown,
}

impl<'a> Target<'a> {
    /// The resource, whether referenced by `Ref` or by an attribute.
    pub(crate) fn rid(self) -> Option<Rid<'a>> {
        match self {
            Target::Res(r) | Target::Att(r) => Some(r),
            _ => None,
        }
    }
}

pub(crate) struct Subnet<'a> {
    pub vpc: Option<Rid<'a>>,
    pub cidr: Option<Ipv4Net>,
}

/// Where a route sends its traffic.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hop<'a> {
    Gateway(Target<'a>),
    Nat(Target<'a>),
    /// Transit gateway, peering, instance, ...: not modelled.
    Other(&'static str),
}

pub(crate) struct Route<'a> {
    pub dest: &'a str,
    pub hop: Hop<'a>,
}

pub(crate) struct Nat<'a> {
    pub subnet: Option<Target<'a>>,
    pub eip: bool,
    pub private: bool,
}

/// The protocol of a security-group rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    All,
    Tcp,
    Other,
}

/// The other side of a security-group rule.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Peer<'a> {
    Cidr(Ipv4Net),
    Sg(Rid<'a>),
    /// A prefix list, or a group outside the checked set: it may match.
    Unknown(&'a str),
    /// IPv6 only: irrelevant to the IPv4 paths proven here.
    V6,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule<'a> {
    pub proto: Proto,
    /// Port range; `None` when the template leaves it out or computes it.
    pub ports: Option<(i64, i64)>,
    pub peer: Peer<'a>,
}

#[derive(Default)]
pub(crate) struct Sg<'a> {
    pub ingress: Vec<Rule<'a>>,
    pub egress: Vec<Rule<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointKind {
    Interface,
    Gateway,
    Other,
}

pub(crate) struct Endpoint<'a> {
    pub rid: Rid<'a>,
    /// The service part after `com.amazonaws.<region>.`, e.g. `ecr.api`.
    pub service: Option<String>,
    pub kind: EndpointKind,
    pub vpc: Option<Rid<'a>>,
    pub subnets: Vec<Rid<'a>>,
    /// Some subnet of the endpoint is outside the checked set.
    pub subnets_unknown: bool,
    pub sgs: Vec<Target<'a>>,
    pub private_dns: bool,
    pub route_tables: Vec<Rid<'a>>,
}

/// Everything the proof knows about the network of the checked set.
pub(crate) struct Model<'a> {
    pub templates: Vec<&'a Template>,
    exports: BTreeMap<&'a str, (usize, &'a Value)>,
    pub subnets: BTreeMap<Rid<'a>, Subnet<'a>>,
    pub routes: BTreeMap<Rid<'a>, Vec<Route<'a>>>,
    pub assoc: BTreeMap<Rid<'a>, Rid<'a>>,
    /// (internet gateway, VPC or None when the VPC is not resolved)
    pub igw_attached: BTreeSet<(Rid<'a>, Option<Rid<'a>>)>,
    pub nats: BTreeMap<Rid<'a>, Nat<'a>>,
    pub sgs: BTreeMap<Rid<'a>, Sg<'a>>,
    pub endpoints: Vec<Endpoint<'a>>,
    /// Subnets with a network ACL of their own, and its name.
    pub nacls: BTreeMap<Rid<'a>, &'a str>,
}

impl<'a> Model<'a> {
    pub(crate) fn new(inputs: &'a [Input<'_>]) -> Self {
        let templates: Vec<&'a Template> = inputs.iter().map(|i| i.template).collect();
        let exports = crate::cross::exported_values(templates.iter().copied());
        let mut m = Model {
            templates,
            exports,
            subnets: BTreeMap::new(),
            routes: BTreeMap::new(),
            assoc: BTreeMap::new(),
            igw_attached: BTreeSet::new(),
            nats: BTreeMap::new(),
            sgs: BTreeMap::new(),
            endpoints: Vec::new(),
            nacls: BTreeMap::new(),
        };
        // Security groups first, so separate rule resources find their group.
        for t in 0..m.templates.len() {
            let tpl = m.templates[t];
            for (id, r) in &tpl.resources {
                if r.kind == "AWS::EC2::SecurityGroup" {
                    let sg = m.security_group(t, &r.properties);
                    m.sgs.insert(Rid { t, id }, sg);
                }
            }
        }
        for t in 0..m.templates.len() {
            let tpl = m.templates[t];
            for (id, r) in &tpl.resources {
                m.add(t, id, &r.kind, &r.properties);
            }
        }
        m
    }

    fn add(&mut self, t: usize, id: &'a str, kind: &str, p: &'a Map) {
        let rid = Rid { t, id };
        match kind {
            "AWS::EC2::Subnet" => {
                let subnet = Subnet {
                    vpc: self.rid_of(t, p.get("VpcId")),
                    cidr: cidr(p.get("CidrBlock")),
                };
                self.subnets.insert(rid, subnet);
            }
            "AWS::EC2::RouteTable" => {
                self.routes.entry(rid).or_default();
            }
            "AWS::EC2::Route" => self.add_route(t, p),
            "AWS::EC2::SubnetRouteTableAssociation" => {
                if let (Some(s), Some(rt)) = (
                    self.rid_of(t, p.get("SubnetId")),
                    self.rid_of(t, p.get("RouteTableId")),
                ) {
                    self.assoc.entry(s).or_insert(rt);
                }
            }
            "AWS::EC2::SubnetNetworkAclAssociation" => {
                if let Some(s) = self.rid_of(t, p.get("SubnetId")) {
                    let acl = p.get("NetworkAclId").map_or("a network ACL", describe);
                    self.nacls.insert(s, acl);
                }
            }
            "AWS::EC2::VPCGatewayAttachment" => {
                if let Some(igw) = self.rid_of(t, p.get("InternetGatewayId")) {
                    let vpc = self.rid_of(t, p.get("VpcId"));
                    self.igw_attached.insert((igw, vpc));
                }
            }
            "AWS::EC2::NatGateway" => {
                let nat = Nat {
                    subnet: p.get("SubnetId").map(|v| self.resolve(t, v)),
                    eip: p.contains_key("AllocationId"),
                    private: p.get("ConnectivityType").and_then(Value::as_str) == Some("private"),
                };
                self.nats.insert(rid, nat);
            }
            "AWS::EC2::SecurityGroupIngress" => self.add_rule(t, p, false),
            "AWS::EC2::SecurityGroupEgress" => self.add_rule(t, p, true),
            "AWS::EC2::VPCEndpoint" => {
                let endpoint = self.endpoint(t, id, p);
                self.endpoints.push(endpoint);
            }
            _ => {}
        }
    }

    /// A route of a route table, with the kind of its next hop.
    fn add_route(&mut self, t: usize, p: &'a Map) {
        let Some(table) = self.rid_of(t, p.get("RouteTableId")) else {
            return;
        };
        let Some(dest) = p.get("DestinationCidrBlock").and_then(Value::as_str) else {
            return;
        };
        let hop = if let Some(v) = p.get("NatGatewayId") {
            Hop::Nat(self.resolve(t, v))
        } else if let Some(v) = p.get("GatewayId") {
            Hop::Gateway(self.resolve(t, v))
        } else {
            let other = [
                ("TransitGatewayId", "transit gateway"),
                ("VpcPeeringConnectionId", "VPC peering connection"),
                ("InstanceId", "instance"),
                ("NetworkInterfaceId", "network interface"),
                ("VpcEndpointId", "gateway load balancer endpoint"),
            ];
            let target = other
                .iter()
                .find(|(key, _)| p.contains_key(*key))
                .map_or("target", |(_, what)| what);
            Hop::Other(target)
        };
        self.routes
            .entry(table)
            .or_default()
            .push(Route { dest, hop });
    }

    /// A standalone ingress or egress rule, added to its group.
    fn add_rule(&mut self, t: usize, p: &'a Map, egress: bool) {
        let Some(group) = self.rid_of(t, p.get("GroupId")) else {
            return;
        };
        let rule = self.rule(t, p, egress);
        if let Some(sg) = self.sgs.get_mut(&group) {
            if egress {
                sg.egress.push(rule);
            } else {
                sg.ingress.push(rule);
            }
        }
    }

    fn security_group(&self, t: usize, p: &'a Map) -> Sg<'a> {
        let rules = |key: &str, egress: bool| -> Vec<Rule<'a>> {
            p.get(key)
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_map)
                .map(|m| self.rule(t, m, egress))
                .collect()
        };
        let mut egress = rules("SecurityGroupEgress", true);
        // AWS::EC2::SecurityGroup: without egress rules of its own, EC2 adds
        // one allowing all outbound traffic (separate SecurityGroupEgress
        // resources do not remove it, they are added after the group).
        if egress.is_empty() {
            egress.push(Rule {
                proto: Proto::All,
                ports: None,
                peer: Peer::Cidr(Ipv4Net::default()),
            });
        }
        Sg {
            ingress: rules("SecurityGroupIngress", false),
            egress,
        }
    }

    fn rule(&self, t: usize, m: &'a Map, egress: bool) -> Rule<'a> {
        let proto = match m.get("IpProtocol") {
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "-1" | "all" => Proto::All,
                "tcp" | "6" => Proto::Tcp,
                _ => Proto::Other,
            },
            Some(Value::Int(-1)) => Proto::All,
            Some(Value::Int(6)) => Proto::Tcp,
            _ => Proto::Other,
        };
        let port = |k: &str| match m.get(k) {
            Some(Value::Int(n)) => Some(*n),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let ports = port("FromPort").zip(port("ToPort"));
        let (group_key, list_key) = if egress {
            ("DestinationSecurityGroupId", "DestinationPrefixListId")
        } else {
            ("SourceSecurityGroupId", "SourcePrefixListId")
        };
        let peer = if let Some(c) = m.get("CidrIp") {
            match cidr(Some(c)) {
                Some(net) => Peer::Cidr(net),
                None => Peer::Unknown("a computed CIDR"),
            }
        } else if let Some(v) = m.get(group_key) {
            match self.resolve(t, v).rid() {
                Some(r) => Peer::Sg(r),
                None => Peer::Unknown(describe(v)),
            }
        } else if let Some(v) = m.get(list_key) {
            Peer::Unknown(describe(v))
        } else if m.contains_key("CidrIpv6") {
            Peer::V6
        } else {
            Peer::Unknown("an unnamed peer")
        };
        Rule { proto, ports, peer }
    }

    fn endpoint(&self, t: usize, id: &'a str, p: &'a Map) -> Endpoint<'a> {
        let kind = match p.get("VpcEndpointType").and_then(Value::as_str) {
            // CloudFormation's default endpoint type is Gateway.
            None | Some("Gateway") => EndpointKind::Gateway,
            Some("Interface") => EndpointKind::Interface,
            Some(_) => EndpointKind::Other,
        };
        let mut subnets = Vec::new();
        let mut subnets_unknown = false;
        for v in p
            .get("SubnetIds")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            match self.resolve(t, v).rid() {
                Some(r) if self.subnet_declared(r) => subnets.push(r),
                _ => subnets_unknown = true,
            }
        }
        Endpoint {
            rid: Rid { t, id },
            service: service_suffix(p.get("ServiceName")),
            kind,
            vpc: self.rid_of(t, p.get("VpcId")),
            subnets,
            subnets_unknown,
            sgs: p
                .get("SecurityGroupIds")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .map(|v| self.resolve(t, v))
                .collect(),
            private_dns: crate::rules::is_true(p.get("PrivateDnsEnabled")),
            route_tables: p
                .get("RouteTableIds")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .filter_map(|v| self.resolve(t, v).rid())
                .collect(),
        }
    }

    fn subnet_declared(&self, r: Rid<'a>) -> bool {
        self.kind_of(r) == Some("AWS::EC2::Subnet")
    }

    /// The resource type of a resource of the set.
    pub(crate) fn kind_of(&self, r: Rid<'a>) -> Option<&'a str> {
        self.templates
            .get(r.t)
            .and_then(|tpl| tpl.resources.get(r.id))
            .map(|res| res.kind.as_str())
    }

    /// The properties of a resource of the set.
    pub(crate) fn props(&self, r: Rid<'a>) -> Option<&'a Map> {
        self.templates
            .get(r.t)
            .and_then(|tpl| tpl.resources.get(r.id))
            .map(|res| &res.properties)
    }

    /// What `v`, written in template `t`, points at.
    pub(crate) fn resolve(&self, t: usize, v: &'a Value) -> Target<'a> {
        self.resolve_at(t, v, 0)
    }

    fn resolve_at(&self, t: usize, v: &'a Value, depth: u8) -> Target<'a> {
        // Imports cannot chain in CloudFormation; the bound only guards
        // against hand-written templates exporting each other in a loop.
        if depth > 4 {
            return Target::Unknown;
        }
        let Some(tpl) = self.templates.get(t) else {
            return Target::Unknown;
        };
        match v {
            Value::String(_) => Target::Lit,
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Ref(name) => match tpl.resources.get_key_value(name.as_str()) {
                    Some((id, _)) => Target::Res(Rid { t, id }),
                    None => Target::Unknown,
                },
                Intrinsic::GetAtt { resource, .. } => {
                    match tpl.resources.get_key_value(resource.as_str()) {
                        Some((id, _)) => Target::Att(Rid { t, id }),
                        None => Target::Unknown,
                    }
                }
                Intrinsic::ImportValue(Value::String(name)) => {
                    match self.exports.get(name.as_str()) {
                        Some((t2, value)) => self.resolve_at(*t2, value, depth + 1),
                        None => Target::Unknown,
                    }
                }
                _ => Target::Unknown,
            },
            _ => Target::Unknown,
        }
    }

    pub(crate) fn rid_of(&self, t: usize, v: Option<&'a Value>) -> Option<Rid<'a>> {
        v.and_then(|v| self.resolve(t, v).rid())
    }

    /// The route table a subnet uses; `None` means the VPC's main table.
    pub(crate) fn route_table(&self, s: Rid<'a>) -> Option<Rid<'a>> {
        self.assoc.get(&s).copied()
    }

    /// The route of a table for one destination block.
    pub(crate) fn route(&self, table: Rid<'a>, dest: &str) -> Option<&Route<'a>> {
        self.routes
            .get(&table)
            .and_then(|rs| rs.iter().find(|r| r.dest == dest))
    }

    /// Whether an internet gateway is attached to the VPC (or to some VPC,
    /// when either side is not resolved).
    pub(crate) fn igw_attached_to(&self, igw: Rid<'a>, vpc: Option<Rid<'a>>) -> bool {
        self.igw_attached
            .iter()
            .any(|(g, v)| *g == igw && (vpc.is_none() || v.is_none() || *v == vpc))
    }
}

/// A literal IPv4 CIDR.
fn cidr(v: Option<&Value>) -> Option<Ipv4Net> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// `com.amazonaws.<region>.<service>` (literal or `Fn::Sub`) to `<service>`.
fn service_suffix(v: Option<&Value>) -> Option<String> {
    let text = match v? {
        Value::String(s) => s.as_str(),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => template.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    let rest = text.strip_prefix("com.amazonaws.")?;
    let (_region, service) = rest.split_once('.')?;
    Some(service.to_owned())
}

/// A short text for a value the proof cannot follow.
pub(crate) fn describe(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::ImportValue(Value::String(name)) => name,
            Intrinsic::Ref(name) => name,
            Intrinsic::GetAtt { resource, .. } => resource,
            _ => "a computed value",
        },
        _ => "a computed value",
    }
}
