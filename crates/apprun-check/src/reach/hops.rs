//! One hop of a path at a time: the route out of a subnet, a security
//! group's egress, an endpoint's ingress. Each answers yes, no (with the hop
//! that blocks) or unknown (with what the proof cannot know).

use ipnet::Ipv4Net;

use super::model::{Endpoint, EndpointKind, Hop, Model, Peer, Proto, Rid, Rule, Target};

/// The port every path is proven for: HTTPS.
pub(crate) const PORT: i64 = 443;

/// Which property of the placement a blocking hop is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Part {
    Subnets,
    SecurityGroups,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Reason {
    pub part: Part,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Yes,
    No(Vec<Reason>),
    Unknown(Vec<Reason>),
}

impl Verdict {
    fn no(part: Part, text: String) -> Self {
        Verdict::No(vec![Reason { part, text }])
    }
    fn unknown(part: Part, text: String) -> Self {
        Verdict::Unknown(vec![Reason { part, text }])
    }

    /// Both hops must pass: any blocking hop decides; otherwise any unknown.
    pub(crate) fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Yes, v) | (v, Verdict::Yes) => v,
            (Verdict::No(mut a), Verdict::No(b)) => {
                merge(&mut a, b);
                Verdict::No(a)
            }
            (Verdict::No(a), Verdict::Unknown(_)) | (Verdict::Unknown(_), Verdict::No(a)) => {
                Verdict::No(a)
            }
            (Verdict::Unknown(mut a), Verdict::Unknown(b)) => {
                merge(&mut a, b);
                Verdict::Unknown(a)
            }
        }
    }
}

fn merge(into: &mut Vec<Reason>, more: Vec<Reason>) {
    for r in more {
        if !into.contains(&r) {
            into.push(r);
        }
    }
}

/// Whether the placement's network interfaces carry a public IP address.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PublicIp {
    /// Never: reaching the internet needs a NAT gateway. The text says whose.
    No(&'static str),
    /// The documentation does not say; the text says so.
    Unknown(&'static str),
}

/// Where traffic is headed, for a security group's rules.
pub(crate) enum Dest<'a> {
    /// Public addresses of AWS services or the internet: only `0.0.0.0/0`
    /// proves it, since their ranges are not fixed.
    Internet,
    /// Network interfaces in one subnet, carrying these security groups.
    Inside {
        net: Option<Ipv4Net>,
        name: &'a str,
        sgs: &'a [Target<'a>],
    },
}

fn allows_port(rule: &Rule<'_>) -> Option<bool> {
    match rule.proto {
        Proto::All => Some(true),
        Proto::Tcp => rule.ports.map(|(a, b)| a <= PORT && PORT <= b),
        Proto::Other => Some(false),
    }
}

/// Yes / no / unknown for one rule against one destination.
fn rule_matches(rule: &Rule<'_>, dest: &Dest<'_>) -> Option<bool> {
    let port = allows_port(rule)?;
    if !port {
        return Some(false);
    }
    match (&rule.peer, dest) {
        (Peer::V6, _) => Some(false),
        (Peer::Unknown(_), _) => None,
        (Peer::Cidr(n), Dest::Internet) => Some(n.prefix_len() == 0),
        (Peer::Sg(_), Dest::Internet) => Some(false),
        (Peer::Cidr(n), Dest::Inside { net, .. }) => match net {
            Some(net) => Some(n.contains(net)),
            None if n.prefix_len() == 0 => Some(true),
            None => None,
        },
        (Peer::Sg(g), Dest::Inside { sgs, .. }) => Some(sgs.iter().any(|s| s.rid() == Some(*g))),
    }
}

/// A group the placement carries: one of the set, or one it cannot see.
pub(crate) enum Group<'a> {
    Known(Rid<'a>),
    Unseen(String),
}

impl<'a> Model<'a> {
    /// The route out of subnet `s` to the internet, for interfaces whose
    /// public IP is as `ip` says.
    pub(crate) fn internet_route(&self, s: Rid<'a>, ip: PublicIp) -> Verdict {
        let vpc = self.subnets.get(&s).and_then(|x| x.vpc);
        let Some(table) = self.route_table(s) else {
            return Verdict::no(
                Part::Subnets,
                format!(
                    "subnet {} has no route table association, so it uses the VPC's main route table, which routes only inside the VPC",
                    s.id
                ),
            );
        };
        let Some(route) = self.route(table, "0.0.0.0/0") else {
            return Verdict::no(
                Part::Subnets,
                format!("route table {} has no route to 0.0.0.0/0", table.id),
            );
        };
        match route.hop {
            Hop::Gateway(g) => {
                let Some(igw) = g.rid() else {
                    return Verdict::unknown(
                        Part::Subnets,
                        format!(
                            "route table {} sends 0.0.0.0/0 to a gateway outside the checked templates",
                            table.id
                        ),
                    );
                };
                if self.kind_of(igw) != Some("AWS::EC2::InternetGateway") {
                    return Verdict::unknown(
                        Part::Subnets,
                        format!(
                            "route table {} sends 0.0.0.0/0 to {}, which is not an internet gateway",
                            table.id, igw.id
                        ),
                    );
                }
                if !self.igw_attached_to(igw, vpc) {
                    return Verdict::no(
                        Part::Subnets,
                        format!(
                            "internet gateway {} is not attached to the VPC (no VPCGatewayAttachment)",
                            igw.id
                        ),
                    );
                }
                match ip {
                    PublicIp::No(why) => Verdict::no(
                        Part::Subnets,
                        format!(
                            "route table {} sends 0.0.0.0/0 straight to internet gateway {}, which needs a public IP, and {why}; route through a NAT gateway instead",
                            table.id, igw.id
                        ),
                    ),
                    PublicIp::Unknown(why) => Verdict::unknown(
                        Part::Subnets,
                        format!(
                            "route table {} sends 0.0.0.0/0 straight to internet gateway {}, which needs a public IP, and {why}",
                            table.id, igw.id
                        ),
                    ),
                }
            }
            Hop::Nat(n) => self.nat_route(table, n, vpc),
            Hop::Other(what) => Verdict::unknown(
                Part::Subnets,
                format!(
                    "route table {} sends 0.0.0.0/0 to a {what}, which the proof does not model",
                    table.id
                ),
            ),
        }
    }

    fn nat_route(&self, table: Rid<'a>, n: Target<'a>, vpc: Option<Rid<'a>>) -> Verdict {
        let Some((rid, nat)) = n.rid().and_then(|r| self.nats.get(&r).map(|x| (r, x))) else {
            return Verdict::unknown(
                Part::Subnets,
                format!(
                    "route table {} sends 0.0.0.0/0 to a NAT gateway outside the checked templates",
                    table.id
                ),
            );
        };
        if nat.private {
            return Verdict::no(
                Part::Subnets,
                format!(
                    "NAT gateway {} is private (ConnectivityType private) and cannot reach the internet",
                    rid.id
                ),
            );
        }
        if !nat.eip {
            return Verdict::no(
                Part::Subnets,
                format!("NAT gateway {} has no Elastic IP (AllocationId)", rid.id),
            );
        }
        let Some(home) = nat.subnet.and_then(|s| s.rid()) else {
            return Verdict::unknown(
                Part::Subnets,
                format!(
                    "NAT gateway {} sits in a subnet outside the checked templates",
                    rid.id
                ),
            );
        };
        let home_table = self.route_table(home);
        let via_igw = home_table
            .and_then(|rt| self.route(rt, "0.0.0.0/0"))
            .and_then(|r| match r.hop {
                Hop::Gateway(g) => g.rid(),
                _ => None,
            })
            .filter(|g| self.kind_of(*g) == Some("AWS::EC2::InternetGateway"));
        match via_igw {
            Some(igw) if self.igw_attached_to(igw, vpc) => Verdict::Yes,
            Some(igw) => Verdict::no(
                Part::Subnets,
                format!(
                    "NAT gateway {} routes through internet gateway {}, which is not attached to the VPC",
                    rid.id, igw.id
                ),
            ),
            None => Verdict::no(
                Part::Subnets,
                format!(
                    "NAT gateway {} sits in subnet {}, whose route table {} has no route to an internet gateway",
                    rid.id,
                    home.id,
                    home_table.map_or("(the VPC's main table)", |t| t.id)
                ),
            ),
        }
    }

    /// The egress of the groups a placement carries, towards `dest`.
    /// `hidden` names a group the placement may carry that no template
    /// describes (its rules are unknown).
    pub(crate) fn egress(
        &self,
        groups: &[Group<'a>],
        hidden: Option<&str>,
        dest: &Dest<'_>,
    ) -> Verdict {
        if groups.is_empty() {
            return Verdict::unknown(
                Part::SecurityGroups,
                "no security group is named, so the VPC's default security group applies, which no template describes".into(),
            );
        }
        let mut unknown: Vec<String> = Vec::new();
        let mut known: Vec<&str> = Vec::new();
        for g in groups {
            match g {
                Group::Known(r) => {
                    known.push(r.id);
                    let Some(sg) = self.sgs.get(r) else {
                        unknown.push(format!("security group {} is not an AWS::EC2::SecurityGroup of the checked templates", r.id));
                        continue;
                    };
                    for rule in &sg.egress {
                        match rule_matches(rule, dest) {
                            Some(true) => return Verdict::Yes,
                            Some(false) => {}
                            None => unknown.push(format!(
                                "an egress rule of {} names {}, which the proof cannot evaluate",
                                r.id,
                                peer_name(&rule.peer)
                            )),
                        }
                    }
                }
                Group::Unseen(name) => unknown.push(format!(
                    "security group {name} is outside the checked templates"
                )),
            }
        }
        if let Some(h) = hidden {
            unknown.push(h.to_owned());
        }
        let target = match dest {
            Dest::Internet => "0.0.0.0/0".to_owned(),
            Dest::Inside { name, .. } => (*name).to_owned(),
        };
        let text = match known.as_slice() {
            [] => format!(
                "no security group of the checked templates allows egress to {target} on {PORT}"
            ),
            [one] => format!("security group {one} allows no egress to {target} on {PORT}"),
            many => format!(
                "security groups {} allow no egress to {target} on {PORT}",
                many.join(", ")
            ),
        };
        blocked_by_groups(text, unknown)
    }

    /// The ingress of an endpoint's groups from a placement in subnet `from`.
    pub(crate) fn endpoint_ingress(
        &self,
        e: &Endpoint<'a>,
        from: Rid<'a>,
        groups: &[Group<'a>],
    ) -> Verdict {
        let from_net = self.subnets.get(&from).and_then(|s| s.cidr);
        if e.sgs.is_empty() {
            return Verdict::unknown(
                Part::SecurityGroups,
                format!(
                    "endpoint {} names no security group, so it has the VPC's default group, which no template describes",
                    e.rid.id
                ),
            );
        }
        let mut unknown: Vec<String> = Vec::new();
        let mut known: Vec<&str> = Vec::new();
        for g in &e.sgs {
            let Some(r) = g.rid() else {
                unknown.push(
                    "a security group of the endpoint is outside the checked templates".into(),
                );
                continue;
            };
            known.push(r.id);
            let Some(sg) = self.sgs.get(&r) else {
                unknown.push(format!(
                    "{} is not a security group of the checked templates",
                    r.id
                ));
                continue;
            };
            for rule in &sg.ingress {
                let Some(port) = allows_port(rule) else {
                    unknown.push(format!("an ingress rule of {} has no port range", r.id));
                    continue;
                };
                if !port {
                    continue;
                }
                let hit = match rule.peer {
                    Peer::Cidr(n) => match from_net {
                        Some(f) => Some(n.contains(&f)),
                        None if n.prefix_len() == 0 => Some(true),
                        None => None,
                    },
                    Peer::Sg(src) => Some(
                        groups
                            .iter()
                            .any(|g| matches!(g, Group::Known(k) if *k == src)),
                    ),
                    Peer::Unknown(_) => None,
                    Peer::V6 => Some(false),
                };
                match hit {
                    Some(true) => return Verdict::Yes,
                    Some(false) => {}
                    None => unknown.push(format!(
                        "an ingress rule of {} names {}, which the proof cannot evaluate",
                        r.id,
                        peer_name(&rule.peer)
                    )),
                }
            }
        }
        let text = format!(
            "endpoint {}'s security group{} {} admit{} no tcp {PORT} from subnet {} or the caller's security groups",
            e.rid.id,
            if known.len() == 1 { "" } else { "s" },
            known.join(", "),
            if known.len() == 1 { "s" } else { "" },
            from.id
        );
        blocked_by_groups(text, unknown)
    }

    /// An interface endpoint's network interfaces, reached from subnet `s`:
    /// each of its subnets, since DNS may answer with any of them.
    pub(crate) fn to_endpoint(
        &self,
        e: &Endpoint<'a>,
        s: Rid<'a>,
        groups: &[Group<'a>],
        hidden: Option<&str>,
    ) -> Verdict {
        if e.kind != EndpointKind::Interface {
            return Verdict::unknown(
                Part::Subnets,
                format!("endpoint {} is not an interface endpoint", e.rid.id),
            );
        }
        let mut v = Verdict::Yes;
        if e.subnets_unknown || e.subnets.is_empty() {
            v = v.and(Verdict::unknown(
                Part::Subnets,
                format!(
                    "a subnet of endpoint {} is outside the checked templates",
                    e.rid.id
                ),
            ));
        }
        let same_vpc = match (self.subnets.get(&s).and_then(|x| x.vpc), e.vpc) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        if !same_vpc {
            return Verdict::no(
                Part::Subnets,
                format!(
                    "endpoint {} is in another VPC than subnet {}",
                    e.rid.id, s.id
                ),
            );
        }
        for sub in &e.subnets {
            let dest = Dest::Inside {
                net: self.subnets.get(sub).and_then(|x| x.cidr),
                name: sub.id,
                sgs: &e.sgs,
            };
            v = v.and(self.egress(groups, hidden, &dest));
        }
        v.and(self.endpoint_ingress(e, s, groups))
    }

    /// The endpoint that carries traffic for an AWS service from subnet `s`,
    /// if any: an interface endpoint with private DNS in the subnet's VPC
    /// (it answers for the service's public name), or a gateway endpoint
    /// on the subnet's route table (its prefix-list route is more specific
    /// than any default route).
    pub(crate) fn endpoint_for(&self, service: &str, s: Rid<'a>) -> Option<&Endpoint<'a>> {
        let vpc = self.subnets.get(&s).and_then(|x| x.vpc);
        let table = self.route_table(s);
        self.endpoints.iter().find(|e| {
            e.service.as_deref() == Some(service)
                && match e.kind {
                    EndpointKind::Interface => {
                        e.private_dns && (vpc.is_none() || e.vpc.is_none() || e.vpc == vpc)
                    }
                    EndpointKind::Gateway => table.is_some_and(|t| e.route_tables.contains(&t)),
                    EndpointKind::Other => false,
                }
        })
    }
}

fn peer_name<'a>(p: &Peer<'a>) -> &'a str {
    match p {
        Peer::Unknown(what) => what,
        Peer::Sg(r) => r.id,
        Peer::Cidr(_) => "a CIDR",
        Peer::V6 => "an IPv6 range",
    }
}

/// A security-group hop that no known rule opens: blocked, or unknown when
/// some group's rules are not known (named after the known ones).
fn blocked_by_groups(mut text: String, mut unknown: Vec<String>) -> Verdict {
    if unknown.is_empty() {
        return Verdict::no(Part::SecurityGroups, text);
    }
    unknown.dedup();
    text.push_str(", and ");
    text.push_str(&unknown.join(", "));
    Verdict::unknown(Part::SecurityGroups, text)
}
