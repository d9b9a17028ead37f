//! The per-env network stack: the reference's three-tier VPC over two zones.
//!
//! CIDRs, routes, NAT gateways, endpoints, security-group rules and export
//! names are exactly the reference's; only the VPC range comes from config.

use apprun_config::{Config, Env, Ingress, Names, Subnet, SubnetPlan, Tier};
use apprun_template::{Map, Output, Resource, Template, Value, get_att, import, map, r#ref, sub};
use serde::Serialize;

use crate::tags::{env_tags, subnet_tags};

pub(crate) const REQUESTS_ENDPOINT_EXPORT: &str = "AppRunnerRequestsEndpoint";
/// The extra security group of ECS Express tasks in the public tier.
pub(crate) const ECS_TASK_SG_EXPORT: &str = "EcsTaskSecurityGroup";

/// Interface endpoints ECS tasks in the public tier pull images and write
/// logs through: ECR's API and registry, CloudWatch Logs.
const ECS_INTERFACE_ENDPOINTS: &[(&str, &str)] = &[
    ("EcrApiEndpoint", "ecr.api"),
    ("EcrDockerEndpoint", "ecr.dkr"),
    ("LogsEndpoint", "logs"),
];

/// Gateway endpoints on the public route table: S3 (where ECR keeps image
/// layers) and DynamoDB (what the task role is for, as App Runner's
/// instance role). Gateway endpoints cost nothing.
const ECS_GATEWAY_ENDPOINTS: &[(&str, &str)] =
    &[("S3Endpoint", "s3"), ("DynamoDbEndpoint", "dynamodb")];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

/// One security-group rule of the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SgRule {
    /// `Public`, `Protect` or `Private`.
    pub group: &'static str,
    pub direction: Direction,
    pub protocol: &'static str,
    pub from_port: u16,
    pub to_port: u16,
    pub cidr: String,
    pub description: String,
}

fn cidrs(plan: &SubnetPlan, tier: Tier) -> Vec<(String, String)> {
    plan.tier(tier)
        .map(|s| (s.cidr.to_string(), s.logical_id()))
        .collect()
}

/// Every security-group rule of an env, in the reference's order.
pub fn security_group_rules(plan: &SubnetPlan) -> Vec<SgRule> {
    let c = TierCidrs {
        public: cidrs(plan, Tier::Public),
        protect: cidrs(plan, Tier::Protect),
        private: cidrs(plan, Tier::Private),
    };
    let mut rules = RuleList(Vec::new());
    public_rules(&mut rules, &c);
    protect_rules(&mut rules, &c);
    private_rules(&mut rules, &c);
    rules.0
}

/// HTTP(S) and QUIC.
const WEB: [(&str, u16); 4] = [("tcp", 80), ("tcp", 443), ("udp", 80), ("udp", 443)];

/// Each tier's subnets: (CIDR, subnet name).
struct TierCidrs {
    public: Vec<(String, String)>,
    protect: Vec<(String, String)>,
    private: Vec<(String, String)>,
}

struct RuleList(Vec<SgRule>);

impl RuleList {
    fn add(
        &mut self,
        group: Tier,
        direction: Direction,
        protocol: &'static str,
        ports: (u16, u16),
        cidr: &str,
        description: String,
    ) {
        self.0.push(SgRule {
            group: group.name(),
            direction,
            protocol,
            from_port: ports.0,
            to_port: ports.1,
            cidr: cidr.to_owned(),
            description,
        });
    }
}

/// Public: HTTP(S) and QUIC from anywhere, free traffic inside the tier.
fn public_rules(rules: &mut RuleList, c: &TierCidrs) {
    use Direction::{Egress, Ingress};
    for (proto, port) in WEB {
        rules.add(
            Tier::Public,
            Ingress,
            proto,
            (port, port),
            "0.0.0.0/0",
            format!("{proto} {port} from the internet"),
        );
    }
    for (cidr, name) in &c.public {
        rules.add(
            Tier::Public,
            Ingress,
            "tcp",
            (0, 65535),
            cidr,
            format!("tcp from {name}"),
        );
    }
    for (cidr, name) in &c.public {
        rules.add(
            Tier::Public,
            Egress,
            "tcp",
            (0, 65535),
            cidr,
            format!("tcp to {name}"),
        );
    }
    for (cidr, name) in &c.protect {
        for (proto, port) in WEB {
            rules.add(
                Tier::Public,
                Egress,
                proto,
                (port, port),
                cidr,
                format!("{proto} {port} to {name}"),
            );
        }
    }
}

/// Protect: web traffic from the load balancers, free inside the tier.
fn protect_rules(rules: &mut RuleList, c: &TierCidrs) {
    use Direction::{Egress, Ingress};
    for (cidr, name) in &c.public {
        for (proto, port) in WEB {
            rules.add(
                Tier::Protect,
                Ingress,
                proto,
                (port, port),
                cidr,
                format!("{proto} {port} from {name}"),
            );
        }
    }
    for (cidr, name) in &c.protect {
        rules.add(
            Tier::Protect,
            Ingress,
            "tcp",
            (0, 65535),
            cidr,
            format!("tcp from {name}"),
        );
    }
    for port in [80, 443] {
        rules.add(
            Tier::Protect,
            Egress,
            "tcp",
            (port, port),
            "0.0.0.0/0",
            format!("tcp {port} to the internet through NAT"),
        );
    }
    for (cidr, name) in &c.protect {
        rules.add(
            Tier::Protect,
            Egress,
            "tcp",
            (0, 65535),
            cidr,
            format!("tcp to {name}"),
        );
    }
    for (cidr, name) in &c.private {
        for port in [5432, 3306] {
            rules.add(
                Tier::Protect,
                Egress,
                "tcp",
                (port, port),
                cidr,
                format!("tcp {port} to {name}"),
            );
        }
    }
}

/// Private: databases reachable from the app tier only.
fn private_rules(rules: &mut RuleList, c: &TierCidrs) {
    use Direction::Ingress;
    for (cidr, name) in &c.protect {
        for port in [5432, 3306] {
            rules.add(
                Tier::Private,
                Ingress,
                "tcp",
                (port, port),
                cidr,
                format!("tcp {port} from {name}"),
            );
        }
    }
}

fn rule_value(r: &SgRule) -> Value {
    // Inline ingress and egress rules both name their range `CidrIp`.
    map! {
        "IpProtocol" => r.protocol,
        "FromPort" => r.from_port,
        "ToPort" => r.to_port,
        "CidrIp" => r.cidr.as_str(),
        "Description" => r.description.as_str(),
    }
    .into()
}

pub(crate) fn template(config: &Config, env: &Env) -> Template {
    let id = &config.system.id;
    let e = &env.name;
    let plan = &env.subnets;
    let mut t = Template {
        description: Some(format!("{id} {e}: three-tier VPC over two zones (apprun)")),
        ..Template::default()
    };
    let res = &mut t.resources;
    add_vpc(res, id, e, plan);
    for s in &plan.subnets {
        res.insert(s.logical_id(), subnet(id, e, s));
    }
    add_public_routing(res, id, e, plan);
    add_protect_routing(res, id, e, plan);
    // Private subnets keep the VPC's main route table: local traffic only.
    add_security_groups(res, id, e, plan);

    // The reference's App Runner endpoint (control-plane API), private DNS on.
    res.insert(
        "AppRunnerEndpoint".into(),
        endpoint(plan, "apprunner", true, id, e),
    );
    let public_ecs = public_ecs_tasks(config, env);
    if public_ecs {
        for (logical, service) in ECS_INTERFACE_ENDPOINTS {
            res.insert((*logical).into(), endpoint(plan, service, true, id, e));
        }
    }
    let private_app_runner =
        env.ingress == Ingress::Private && config.uses(apprun_config::Compute::AppRunner);
    if private_app_runner {
        // Private ingress needs the requests endpoint; it has no private DNS name.
        res.insert(
            "AppRunnerRequestsEndpoint".into(),
            endpoint(plan, "apprunner.requests", false, id, e),
        );
    }
    if public_ecs {
        ecs_public_egress(&mut t, id, e);
    }
    add_exports(&mut t, config, env, private_app_runner, public_ecs);
    crate::job_base::add_jobs_base(&mut t, config, env);
    t
}

type Resources = std::collections::BTreeMap<String, Resource>;

/// The VPC and its internet gateway.
fn add_vpc(res: &mut Resources, id: &str, e: &str, plan: &SubnetPlan) {
    res.insert(
        "VPC".into(),
        Resource::new(
            "AWS::EC2::VPC",
            map! {
                "CidrBlock" => plan.vpc.to_string(),
                "EnableDnsSupport" => true,
                "EnableDnsHostnames" => true,
                "Tags" => env_tags(id, e),
            },
        ),
    );
    res.insert(
        "InternetGateway".into(),
        Resource::new(
            "AWS::EC2::InternetGateway",
            map! { "Tags" => env_tags(id, e) },
        ),
    );
    res.insert(
        "InternetGatewayAttachment".into(),
        Resource::new(
            "AWS::EC2::VPCGatewayAttachment",
            map! { "VpcId" => r#ref("VPC"), "InternetGatewayId" => r#ref("InternetGateway") },
        ),
    );
}

/// Public routing: one table, default route to the internet gateway.
fn add_public_routing(res: &mut Resources, id: &str, e: &str, plan: &SubnetPlan) {
    res.insert(
        "PublicRouteTable".into(),
        Resource::new(
            "AWS::EC2::RouteTable",
            map! { "VpcId" => r#ref("VPC"), "Tags" => env_tags(id, e) },
        ),
    );
    res.insert(
        "PublicRoute".into(),
        Resource::new(
            "AWS::EC2::Route",
            map! {
                "RouteTableId" => r#ref("PublicRouteTable"),
                "DestinationCidrBlock" => "0.0.0.0/0",
                "GatewayId" => r#ref("InternetGateway"),
            },
        )
        .depends_on("InternetGatewayAttachment"),
    );
    for s in plan.tier(Tier::Public) {
        res.insert(
            format!("{}RouteTableAssociation", s.logical_id()),
            association(&s.logical_id(), "PublicRouteTable"),
        );
    }
}

/// Protect routing: one NAT gateway and route table per zone.
fn add_protect_routing(res: &mut Resources, id: &str, e: &str, plan: &SubnetPlan) {
    for s in plan.tier(Tier::Protect) {
        let z = &s.zone;
        let public = format!("PublicSubnetAZ{z}");
        res.insert(
            format!("NatGatewayEIPAZ{z}"),
            Resource::new(
                "AWS::EC2::EIP",
                map! { "Domain" => "vpc", "Tags" => env_tags(id, e) },
            )
            .depends_on("InternetGatewayAttachment"),
        );
        res.insert(
            format!("NatGatewayAZ{z}"),
            Resource::new(
                "AWS::EC2::NatGateway",
                map! {
                    "AllocationId" => get_att(format!("NatGatewayEIPAZ{z}"), "AllocationId"),
                    "SubnetId" => r#ref(&public),
                    "Tags" => env_tags(id, e),
                },
            ),
        );
        let table = format!("ProtectRouteTableAZ{z}");
        res.insert(
            table.clone(),
            Resource::new(
                "AWS::EC2::RouteTable",
                map! { "VpcId" => r#ref("VPC"), "Tags" => env_tags(id, e) },
            ),
        );
        res.insert(
            format!("ProtectRouteAZ{z}"),
            Resource::new(
                "AWS::EC2::Route",
                map! {
                    "RouteTableId" => r#ref(&table),
                    "DestinationCidrBlock" => "0.0.0.0/0",
                    "NatGatewayId" => r#ref(format!("NatGatewayAZ{z}")),
                },
            ),
        );
        res.insert(
            format!("{}RouteTableAssociation", s.logical_id()),
            association(&s.logical_id(), &table),
        );
    }
}

/// One security group per tier, with the rules of `security_group_rules`.
fn add_security_groups(res: &mut Resources, id: &str, e: &str, plan: &SubnetPlan) {
    let rules = security_group_rules(plan);
    for tier in Tier::ALL {
        let mut props = map! {
            "GroupDescription" => format!("{id} {e} {} tier", tier.name().to_lowercase()),
            "GroupName" => format!("{id}-{e}-{}", tier.name().to_lowercase()),
            "VpcId" => r#ref("VPC"),
        };
        for direction in [Direction::Ingress, Direction::Egress] {
            let list: Vec<Value> = rules
                .iter()
                .filter(|r| r.group == tier.name() && r.direction == direction)
                .map(rule_value)
                .collect();
            if !list.is_empty() {
                let key = match direction {
                    Direction::Ingress => "SecurityGroupIngress",
                    Direction::Egress => "SecurityGroupEgress",
                };
                props.insert(key.into(), Value::list(list));
            }
        }
        props.insert("Tags".into(), env_tags(id, e));
        res.insert(
            format!("{}SecurityGroup", tier.name()),
            Resource::new("AWS::EC2::SecurityGroup", props),
        );
    }
}

/// What other stacks import: the VPC, subnets, security groups, and the
/// endpoint or group a backend needs.
fn add_exports(
    t: &mut Template,
    config: &Config,
    env: &Env,
    private_app_runner: bool,
    public_ecs: bool,
) {
    let names = Names::new(&config.system.id);
    let e = &env.name;
    let plan = &env.subnets;
    let mut export = |logical: &str, value: Value, description: &str| {
        t.outputs.insert(
            logical.to_owned(),
            Output::new(description, value).exported_as(names.env_export(e, logical)),
        );
    };
    export("VPC", r#ref("VPC"), "VPC id");
    for s in &plan.subnets {
        export(
            &s.logical_id(),
            r#ref(s.logical_id()),
            &format!("{} subnet in zone {}", s.tier, s.zone),
        );
    }
    for tier in Tier::ALL {
        let logical = format!("{}SecurityGroup", tier.name());
        export(
            &logical,
            r#ref(&logical),
            &format!("{} tier security group", tier.name()),
        );
    }
    if private_app_runner {
        export(
            REQUESTS_ENDPOINT_EXPORT,
            r#ref("AppRunnerRequestsEndpoint"),
            "App Runner requests endpoint (private ingress)",
        );
    }
    if public_ecs {
        export(
            ECS_TASK_SG_EXPORT,
            r#ref(ECS_TASK_SG_EXPORT),
            "ECS Express tasks in the public tier: HTTPS to the VPC endpoints",
        );
    }
}

/// Whether ECS Express tasks of this env run in the public tier: they do
/// when a service uses ECS Express and the env's ingress is public (see
/// express.rs for why).
pub(crate) fn public_ecs_tasks(config: &Config, env: &Env) -> bool {
    env.ingress == Ingress::Public && config.uses(apprun_config::Compute::EcsExpress)
}

/// A path from ECS tasks in the public subnets to ECR and CloudWatch Logs.
/// Express gives its tasks no public IP (its API has no `assignPublicIp`)
/// and the public subnets route to the internet gateway, not through NAT,
/// so the tasks reach AWS through VPC endpoints (ECR user guide, "Amazon ECR
/// interface VPC endpoints": ecr.api, ecr.dkr, and the S3 gateway endpoint
/// for the layers; logs for the awslogs driver):
/// - interface endpoints in the protect subnets under the Protect group, as
///   the reference's App Runner endpoint: the reference's rules already let
///   the public tier send tcp 443 to the protect subnets and the Protect
///   group admit it;
/// - gateway endpoints on the public route table, reached through a
///   dedicated security group with tcp 443 egress (the Public group has
///   none to S3's addresses, and its rules stay the reference's). With no
///   public IP on the tasks, only the endpoints' routes carry that egress.
fn ecs_public_egress(t: &mut Template, id: &str, e: &str) {
    let res = &mut t.resources;
    res.insert(
        ECS_TASK_SG_EXPORT.into(),
        Resource::new(
            "AWS::EC2::SecurityGroup",
            map! {
                "GroupDescription" => format!("{id} {e} ECS tasks in the public tier"),
                "GroupName" => format!("{id}-{e}-ecs-tasks"),
                "VpcId" => r#ref("VPC"),
                "SecurityGroupEgress" => vec![Value::from(map! {
                    "IpProtocol" => "tcp",
                    "FromPort" => 443i64,
                    "ToPort" => 443i64,
                    "CidrIp" => "0.0.0.0/0",
                    "Description" => "tcp 443 to AWS APIs through the VPC endpoints (no public IP, no NAT)",
                })],
                "Tags" => env_tags(id, e),
            },
        ),
    );
    for (logical, service) in ECS_GATEWAY_ENDPOINTS {
        res.insert(
            (*logical).into(),
            Resource::new(
                "AWS::EC2::VPCEndpoint",
                map! {
                    "VpcId" => r#ref("VPC"),
                    "ServiceName" => sub(format!("com.amazonaws.${{AWS::Region}}.{service}")),
                    "VpcEndpointType" => "Gateway",
                    "RouteTableIds" => vec![r#ref("PublicRouteTable")],
                    "Tags" => env_tags(id, e),
                },
            ),
        );
    }
}

fn subnet(id: &str, env: &str, s: &Subnet) -> Resource {
    Resource::new(
        "AWS::EC2::Subnet",
        map! {
            "VpcId" => r#ref("VPC"),
            "CidrBlock" => s.cidr.to_string(),
            "AvailabilityZone" => sub(format!("${{AWS::Region}}{}", s.zone)),
            "MapPublicIpOnLaunch" => false,
            "Tags" => subnet_tags(id, env, &s.zone, s.tier.name()),
        },
    )
}

fn association(subnet: &str, table: &str) -> Resource {
    Resource::new(
        "AWS::EC2::SubnetRouteTableAssociation",
        map! { "SubnetId" => r#ref(subnet), "RouteTableId" => r#ref(table) },
    )
}

fn endpoint(plan: &SubnetPlan, service: &str, private_dns: bool, id: &str, env: &str) -> Resource {
    let subnets: Vec<Value> = plan
        .tier(Tier::Protect)
        .map(|s| r#ref(s.logical_id()))
        .collect();
    let props: Map = map! {
        "VpcId" => r#ref("VPC"),
        "ServiceName" => sub(format!("com.amazonaws.${{AWS::Region}}.{service}")),
        "VpcEndpointType" => "Interface",
        "PrivateDnsEnabled" => private_dns,
        "SubnetIds" => subnets,
        "SecurityGroupIds" => vec![r#ref("ProtectSecurityGroup")],
        "Tags" => env_tags(id, env),
    };
    Resource::new("AWS::EC2::VPCEndpoint", props)
}

/// The env's subnets of one tier, one per zone, as imports of the network
/// stack's exports: what a service or project placed in that tier names.
pub(crate) fn subnet_imports(names: &Names, env: &Env, tier: Tier) -> Vec<Value> {
    env.subnets
        .tier(tier)
        .map(|sn| import(names.env_export(&env.name, &sn.logical_id())))
        .collect()
}
