//! Carving a VPC into the reference's three tiers over two zones.
//!
//! In the reference (a /24) each public subnet is 1/8 of the VPC, each
//! protect subnet 1/4 and each private subnet 1/16, laid out in this order:
//! public a, public c, protect a, protect c, private a, private c. The same
//! proportions apply to any VPC from /16 to /24.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Public,
    Protect,
    Private,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Protect, Tier::Private];

    /// The tier's name as used in logical ids, export names and tags.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Public => "Public",
            Tier::Protect => "Protect",
            Tier::Private => "Private",
        }
    }

    /// Offset of the zone's subnet and its prefix growth, in 1/16 of the VPC.
    fn layout(self, zone_index: usize) -> (u32, u8) {
        let z = zone_index as u32;
        match self {
            Tier::Public => (2 * z, 3),
            Tier::Protect => (4 + 4 * z, 2),
            Tier::Private => (12 + z, 4),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub tier: Tier,
    /// Zone letter, e.g. `a`.
    pub zone: String,
    pub cidr: Ipv4Net,
}

impl Subnet {
    /// Logical id and export suffix, e.g. `ProtectSubnetAZa`.
    pub fn logical_id(&self) -> String {
        format!("{}SubnetAZ{}", self.tier.name(), self.zone)
    }
}

/// Every subnet of one VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetPlan {
    pub vpc: Ipv4Net,
    pub subnets: Vec<Subnet>,
}

/// The prefix lengths a VPC may have.
pub const MIN_PREFIX: u8 = 16;
pub const MAX_PREFIX: u8 = 24;
/// The layout fits exactly two zones (14 of 16 sixteenths are used).
pub const ZONES: usize = 2;

impl SubnetPlan {
    /// Carves `vpc` for the given zones. The caller has checked the prefix
    /// (16..=24) and the zone count (2).
    pub fn carve(vpc: Ipv4Net, zones: &[String]) -> SubnetPlan {
        let base = u32::from(vpc.network());
        let sixteenth = 1u32 << (32 - u32::from(vpc.prefix_len()) - 4);
        let mut subnets = Vec::new();
        for tier in Tier::ALL {
            for (i, zone) in zones.iter().enumerate() {
                let (offset, growth) = tier.layout(i);
                let addr = Ipv4Addr::from(base + offset * sixteenth);
                let cidr = Ipv4Net::new(addr, vpc.prefix_len() + growth).unwrap_or(vpc);
                subnets.push(Subnet {
                    tier,
                    zone: zone.clone(),
                    cidr,
                });
            }
        }
        SubnetPlan { vpc, subnets }
    }

    pub fn tier(&self, tier: Tier) -> impl Iterator<Item = &Subnet> {
        self.subnets.iter().filter(move |s| s.tier == tier)
    }

    /// Pairs of subnets that overlap each other or leave the VPC.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, a) in self.subnets.iter().enumerate() {
            if !self.vpc.contains(&a.cidr) {
                out.push(format!(
                    "{} {} is outside the VPC {}",
                    a.logical_id(),
                    a.cidr,
                    self.vpc
                ));
            }
            for b in &self.subnets[i + 1..] {
                if a.cidr.contains(&b.cidr.network()) || b.cidr.contains(&a.cidr.network()) {
                    out.push(format!(
                        "{} {} overlaps {} {}",
                        a.logical_id(),
                        a.cidr,
                        b.logical_id(),
                        b.cidr
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<String> {
        vec!["a".into(), "c".into()]
    }

    #[test]
    fn reference_slash_24_layout() {
        let plan = SubnetPlan::carve("10.0.0.0/24".parse().unwrap(), &zones());
        let got: Vec<(String, String)> = plan
            .subnets
            .iter()
            .map(|s| (s.logical_id(), s.cidr.to_string()))
            .collect();
        let want = [
            ("PublicSubnetAZa", "10.0.0.0/27"),
            ("PublicSubnetAZc", "10.0.0.32/27"),
            ("ProtectSubnetAZa", "10.0.0.64/26"),
            ("ProtectSubnetAZc", "10.0.0.128/26"),
            ("PrivateSubnetAZa", "10.0.0.192/28"),
            ("PrivateSubnetAZc", "10.0.0.208/28"),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
        assert!(plan.problems().is_empty());
    }

    #[test]
    fn slash_16_keeps_proportions() {
        let plan = SubnetPlan::carve("172.20.0.0/16".parse().unwrap(), &zones());
        let cidrs: Vec<String> = plan.subnets.iter().map(|s| s.cidr.to_string()).collect();
        assert_eq!(
            cidrs,
            [
                "172.20.0.0/19",
                "172.20.32.0/19",
                "172.20.64.0/18",
                "172.20.128.0/18",
                "172.20.192.0/20",
                "172.20.208.0/20"
            ]
        );
        assert!(plan.problems().is_empty());
    }

    #[test]
    fn overlap_is_reported() {
        let mut plan = SubnetPlan::carve("10.0.0.0/24".parse().unwrap(), &zones());
        plan.subnets[1].cidr = "10.0.0.16/28".parse().unwrap();
        plan.subnets[5].cidr = "10.0.1.0/28".parse().unwrap();
        let problems = plan.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("PublicSubnetAZa 10.0.0.0/27 overlaps PublicSubnetAZc"))
        );
        assert!(problems.iter().any(|p| p.contains("outside the VPC")));
    }
}
