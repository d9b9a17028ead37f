//! The reachability proof (APR-NET-010 no path, APR-NET-011 cannot prove):
//! on the stacks synthesized from the shipped configs, and on small
//! hand-made templates that each break one hop of a path.

use std::path::Path;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_check::{Context, Finding, Input, Severity, check, check_env, env_context};
use apprun_config::Config;
use apprun_template::{Format, Template, Value, parse_template};

const NO_PATH: &str = "APR-NET-010";
const CANNOT_PROVE: &str = "APR-NET-011";

fn config(rel: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    Config::load(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn reach_findings(findings: &[Finding]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| f.rule == NO_PATH || f.rule == CANNOT_PROVE)
        .cloned()
        .collect()
}

/// Checks an env's stacks after `edit` changed their templates.
fn check_edited(
    cfg: &Config,
    env: &str,
    edit: impl FnOnce(&mut Vec<(String, String, Template)>),
) -> Vec<Finding> {
    let bp: EnvBlueprint = synthesize(cfg, env).unwrap();
    let mut stacks: Vec<(String, String, Template)> = bp
        .stacks
        .iter()
        .map(|s| {
            (
                format!("{env}/{}.yaml", s.kind.file_stem()),
                s.name.clone(),
                s.template.clone(),
            )
        })
        .collect();
    edit(&mut stacks);
    let texts: Vec<String> = stacks
        .iter()
        .map(|(_, _, t)| t.render(Format::Yaml))
        .collect();
    let inputs: Vec<Input<'_>> = stacks
        .iter()
        .zip(texts)
        .map(|((file, stack, t), text)| Input {
            file: file.clone(),
            stack: Some(stack.clone()),
            template: t,
            text: Some(text),
        })
        .collect();
    reach_findings(&check(&inputs, &env_context(cfg, env), None).findings)
}

fn stack_mut<'a>(stacks: &'a mut [(String, String, Template)], file_end: &str) -> &'a mut Template {
    &mut stacks
        .iter_mut()
        .find(|(f, _, _)| f.ends_with(file_end))
        .unwrap_or_else(|| panic!("no stack {file_end}"))
        .2
}

/// One value, written as YAML (flow style is fine).
fn val(yaml: &str) -> Value {
    let t = parse_template(&format!(
        "Resources:\n  X:\n    Type: AWS::SNS::Topic\n    Properties:\n      V: {yaml}\n"
    ))
    .unwrap_or_else(|e| panic!("{yaml}: {e}"));
    t.resources["X"].properties["V"].clone()
}

fn set(t: &mut Template, resource: &str, key: &str, yaml: &str) {
    t.resources
        .get_mut(resource)
        .unwrap_or_else(|| panic!("no resource {resource}"))
        .properties
        .insert(key.into(), val(yaml));
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}: {}",
                f.rule, f.file, f.logical_id, f.path, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------
// The shipped configs.

/// The reference system: App Runner's VPC connector in the protect subnets,
/// whose route tables send 0.0.0.0/0 to a NAT gateway per zone, under the
/// protect group that allows 443 out: every path is proven.
#[test]
fn reference_system_paths_are_proven() {
    let cfg = config("apprun.toml");
    for env in ["dev", "stg", "prod"] {
        let bp = synthesize(&cfg, env).unwrap();
        let found = reach_findings(&check_env(&cfg, &bp, None).findings);
        assert!(found.is_empty(), "{env}:\n{}", show(&found));
    }
}

/// The same system with the NAT route of zone c removed: the connector's
/// subnet in that zone loses its path, the other keeps it.
#[test]
fn reference_system_without_one_nat_route() {
    let cfg = config("apprun.toml");
    let found = check_edited(&cfg, "dev", |stacks| {
        stack_mut(stacks, "/network.yaml")
            .resources
            .remove("ProtectRouteAZc");
    });
    assert_eq!(found.len(), 1, "{}", show(&found));
    let f = &found[0];
    assert_eq!((f.rule.as_str(), f.severity), (NO_PATH, Severity::Error));
    assert_eq!(f.logical_id, "VpcConnector");
    assert_eq!(&*f.file, "dev/service-web.yaml");
    assert_eq!(f.path, "Resources/VpcConnector/Properties/Subnets");
    assert!(f.line.is_some());
    assert!(
        f.message.starts_with(
            "App Runner service Service's outbound traffic in subnet ProtectSubnetAZc cannot reach DynamoDB (tcp 443 to the internet): route table ProtectRouteTableAZc has no route to 0.0.0.0/0"
        ),
        "{}",
        f.message
    );
}

/// The known gap of issue 9: ECS Express with public ingress as first
/// synthesized, tasks in the public subnets under the Public group, whose
/// egress allows no 443 to the internet, and no VPC endpoints. Whether
/// Express gives the tasks a public IP, and what its own group allows out,
/// the docs do not say: so the proof cannot prove the path and names every
/// hop it cannot pass.
#[test]
fn express_tasks_in_public_subnets_cannot_be_proven() {
    let cfg = config("fixtures/express.toml");
    let found = check_edited(&cfg, "dev", |stacks| {
        stack_mut(stacks, "/network.yaml")
            .resources
            .retain(|_, r| r.kind != "AWS::EC2::VPCEndpoint");
        let t = stack_mut(stacks, "/service-web.yaml");
        set(
            t,
            "Service",
            "NetworkConfiguration",
            "{Subnets: [!ImportValue express-demo-dev-PublicSubnetAZa, !ImportValue express-demo-dev-PublicSubnetAZb], SecurityGroups: [!ImportValue express-demo-dev-PublicSecurityGroup]}",
        );
    });
    let on_service: Vec<&Finding> = found.iter().filter(|f| f.logical_id == "Service").collect();
    assert_eq!(on_service.len(), 1, "{}", show(&found));
    let f = on_service[0];
    assert_eq!(
        (f.rule.as_str(), f.severity),
        (CANNOT_PROVE, Severity::Warning)
    );
    assert_eq!(
        f.path,
        "Resources/Service/Properties/NetworkConfiguration/Subnets"
    );
    for part in [
        "ECS tasks in subnets PublicSubnetAZa, PublicSubnetAZb reach ECR API, ECR registry, S3 (image layers), CloudWatch Logs",
        "(tcp 443 to the internet)",
        "route table PublicRouteTable sends 0.0.0.0/0 straight to internet gateway InternetGateway, which needs a public IP",
        "security group PublicSecurityGroup allows no egress to 0.0.0.0/0 on 443",
        "ECS Express Mode adds",
    ] {
        assert!(
            f.message.contains(part),
            "missing `{part}` in {}",
            f.message
        );
    }
}

/// The same tasks in the protect subnets under the protect group: NAT per
/// zone and 443 out, so ECR, S3 and CloudWatch Logs are proven reachable.
#[test]
fn express_tasks_in_protect_subnets_are_proven() {
    let cfg = config("fixtures/express.toml");
    let found = check_edited(&cfg, "dev", |stacks| {
        let t = stack_mut(stacks, "/service-web.yaml");
        set(
            t,
            "Service",
            "NetworkConfiguration",
            "{Subnets: [!ImportValue express-demo-dev-ProtectSubnetAZa, !ImportValue express-demo-dev-ProtectSubnetAZb], SecurityGroups: [!ImportValue express-demo-dev-ProtectSecurityGroup]}",
        );
    });
    assert!(
        found.iter().all(|f| f.logical_id != "Service"),
        "{}",
        show(&found)
    );
}

/// A private App Runner service verified by a CodeBuild project outside any
/// VPC: the service's domain resolves only inside the VPC.
#[test]
fn verify_outside_the_vpc_cannot_reach_a_private_service() {
    let cfg = config("fixtures/shop-api.toml");
    let found = check_edited(&cfg, "prod", |stacks| {
        let t = stack_mut(stacks, "/pipeline.yaml");
        t.resources
            .get_mut("VerifyProjectWeb")
            .unwrap()
            .properties
            .shift_remove("VpcConfig");
    });
    // The build project names the service stack too (for its change set),
    // but only the pipeline's Test action must reach the service.
    assert!(
        found.iter().all(|f| f.logical_id != "BuildProjectWeb"),
        "{}",
        show(&found)
    );
    let f = found
        .iter()
        .find(|f| f.logical_id == "VerifyProjectWeb")
        .unwrap_or_else(|| panic!("{}", show(&found)));
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message.starts_with(
            "CodeBuild builds run outside any VPC (no VpcConfig) and cannot reach the service URL of Service (through endpoint AppRunnerRequestsEndpoint)"
        ),
        "{}",
        f.message
    );
}

/// Verify in the protect subnets under the protect group: its egress covers
/// the protect subnets (where the apprunner.requests endpoint's interfaces
/// are) and the endpoint's group admits the protect subnets, so the private
/// URL is reached; the AWS APIs go out through NAT.
#[test]
fn verify_in_the_protect_tier_reaches_the_private_service() {
    let cfg = config("fixtures/shop-api.toml");
    let found = check_edited(&cfg, "prod", |stacks| {
        let t = stack_mut(stacks, "/pipeline.yaml");
        set(
            t,
            "VerifyProjectWeb",
            "VpcConfig",
            "{VpcId: !ImportValue shop-api-prod-VPC, Subnets: [!ImportValue shop-api-prod-ProtectSubnetAZa, !ImportValue shop-api-prod-ProtectSubnetAZb], SecurityGroupIds: [!ImportValue shop-api-prod-ProtectSecurityGroup]}",
        );
    });
    assert!(
        found.iter().all(|f| f.logical_id != "VerifyProjectWeb"),
        "{}",
        show(&found)
    );
}

/// Verify in the public subnets: the endpoint is reachable (public group
/// egress 443 to the protect subnets, protect group ingress 443 from the
/// public subnets), but the AWS APIs are not: the public route table goes
/// straight to the internet gateway and CodeBuild's interfaces get no
/// public IP.
#[test]
fn verify_in_public_subnets_has_no_path_to_the_aws_apis() {
    let cfg = config("fixtures/shop-api.toml");
    let found = check_edited(&cfg, "prod", |stacks| {
        let t = stack_mut(stacks, "/pipeline.yaml");
        set(
            t,
            "VerifyProjectWeb",
            "VpcConfig",
            "{VpcId: !ImportValue shop-api-prod-VPC, Subnets: [!ImportValue shop-api-prod-PublicSubnetAZa, !ImportValue shop-api-prod-PublicSubnetAZb], SecurityGroupIds: [!ImportValue shop-api-prod-PublicSecurityGroup]}",
        );
    });
    let verify: Vec<&Finding> = found
        .iter()
        .filter(|f| f.logical_id == "VerifyProjectWeb")
        .collect();
    assert_eq!(verify.len(), 1, "{}", show(&found));
    let f = verify[0];
    assert_eq!(f.rule, NO_PATH);
    assert!(f.message.contains("CloudWatch Logs, S3"), "{}", f.message);
    assert!(
        !f.message.contains("the service URL"),
        "the endpoint path is open: {}",
        f.message
    );
    assert!(
        f.message.contains(
            "route table PublicRouteTable sends 0.0.0.0/0 straight to internet gateway InternetGateway, which needs a public IP, and CodeBuild's build interfaces get none"
        ),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("security group PublicSecurityGroup allows no egress to 0.0.0.0/0 on 443"),
        "{}",
        f.message
    );
}

/// Every finding of the proof on every env of the three configs, as the
/// blueprint synthesizes them now (printed for the record); each names a
/// placement resource of the env and a path under it.
#[test]
fn findings_on_every_env_name_their_placement() {
    for (rel, envs) in [
        ("apprun.toml", &["dev", "stg", "prod"][..]),
        ("fixtures/express.toml", &["dev", "stg", "prod"][..]),
        ("fixtures/shop-api.toml", &["dev", "prod"][..]),
    ] {
        let cfg = config(rel);
        for env in envs {
            let bp = synthesize(&cfg, env).unwrap();
            let found = reach_findings(&check_env(&cfg, &bp, None).findings);
            for f in &found {
                println!(
                    "{rel} {env}: {}[{}] {} {}: {}",
                    if f.severity == Severity::Error {
                        "error"
                    } else {
                        "warning"
                    },
                    f.rule,
                    f.file,
                    f.logical_id,
                    f.message
                );
                let stack = bp
                    .stacks
                    .iter()
                    .find(|s| Some(s.name.as_str()) == f.stack.as_deref())
                    .unwrap_or_else(|| panic!("{}", f.message));
                let kind = &stack.template.resources[f.logical_id.as_str()].kind;
                assert!(
                    [
                        "AWS::AppRunner::VpcConnector",
                        "AWS::ECS::ExpressGatewayService",
                        "AWS::CodeBuild::Project"
                    ]
                    .contains(&kind.as_str()),
                    "{kind}"
                );
                assert!(
                    f.path
                        .starts_with(&format!("Resources/{}/Properties", f.logical_id)),
                    "{}",
                    f.path
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-made templates, one hop at a time. The base: a VPC with a public
// subnet (route to the internet gateway, NAT gateway with an EIP) and a
// private subnet (route to the NAT gateway), a CodeBuild project in the
// private subnet under BuildSg (443 out to the world).

const BASE: &str = r#"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Igw:
    Type: AWS::EC2::InternetGateway
  IgwAttach:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}
  PublicSubnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}
  PrivateSubnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}
  PublicTable:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  PublicDefault:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref PublicTable, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw}
  PublicAssoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref PublicSubnet, RouteTableId: !Ref PublicTable}
  Eip:
    Type: AWS::EC2::EIP
    Properties: {Domain: vpc}
  Nat:
    Type: AWS::EC2::NatGateway
    Properties: {SubnetId: !Ref PublicSubnet, AllocationId: !GetAtt Eip.AllocationId}
  PrivateTable:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  PrivateDefault:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref PrivateTable, DestinationCidrBlock: 0.0.0.0/0, NatGatewayId: !Ref Nat}
  PrivateAssoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref PrivateSubnet, RouteTableId: !Ref PrivateTable}
  BuildSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: build
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: arn:aws:iam::123456789012:role/build
      Artifacts: {Type: NO_ARTIFACTS}
      Source: {Type: NO_SOURCE, BuildSpec: "version: 0.2"}
      Environment: {Type: LINUX_CONTAINER, ComputeType: BUILD_GENERAL1_SMALL, Image: aws/codebuild/standard:7.0}
      VpcConfig:
        VpcId: !Ref Vpc
        Subnets: [!Ref PrivateSubnet]
        SecurityGroupIds: [!Ref BuildSg]
"#;

fn base() -> Template {
    parse_template(BASE).unwrap()
}

/// Reach findings of one hand-made template (no stack, as with --template).
fn run(t: &Template) -> Vec<Finding> {
    run_set(&[("vpc.yaml", t)])
}

fn run_set(set: &[(&str, &Template)]) -> Vec<Finding> {
    let inputs: Vec<Input<'_>> = set
        .iter()
        .map(|(file, t)| Input {
            file: (*file).to_owned(),
            stack: None,
            template: t,
            text: Some(t.render(Format::Yaml)),
        })
        .collect();
    reach_findings(&check(&inputs, &Context::default(), None).findings)
}

fn only(found: &[Finding]) -> &Finding {
    assert_eq!(found.len(), 1, "{}", show(found));
    &found[0]
}

#[test]
fn base_is_proven() {
    let found = run(&base());
    assert!(found.is_empty(), "{}", show(&found));
}

#[test]
fn missing_nat_route() {
    let mut t = base();
    t.resources.remove("PrivateDefault");
    let f = only(&run(&t)).clone();
    assert_eq!((f.rule.as_str(), f.severity), (NO_PATH, Severity::Error));
    assert_eq!(f.logical_id, "Build");
    assert_eq!(f.path, "Resources/Build/Properties/VpcConfig/Subnets");
    assert_eq!(
        &*f.message,
        "CodeBuild builds in subnet PrivateSubnet cannot reach CloudWatch Logs, S3, the AWS APIs its role is for (tcp 443 to the internet): route table PrivateTable has no route to 0.0.0.0/0"
    );
}

#[test]
fn subnet_without_route_table_uses_the_main_table() {
    let mut t = base();
    t.resources.remove("PrivateAssoc");
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message.ends_with(
            "subnet PrivateSubnet has no route table association, so it uses the VPC's main route table, which routes only inside the VPC"
        ),
        "{}",
        f.message
    );
}

#[test]
fn nat_in_a_subnet_without_internet_gateway_route() {
    let mut t = base();
    t.resources.remove("PublicDefault");
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message.ends_with(
            "NAT gateway Nat sits in subnet PublicSubnet, whose route table PublicTable has no route to an internet gateway"
        ),
        "{}",
        f.message
    );
}

#[test]
fn nat_without_elastic_ip_or_private() {
    let mut t = base();
    t.resources
        .get_mut("Nat")
        .unwrap()
        .properties
        .shift_remove("AllocationId");
    let f = only(&run(&t)).clone();
    assert!(
        f.message
            .ends_with("NAT gateway Nat has no Elastic IP (AllocationId)"),
        "{}",
        f.message
    );

    let mut t = base();
    set(&mut t, "Nat", "ConnectivityType", "private");
    let f = only(&run(&t)).clone();
    assert!(
        f.message.contains("NAT gateway Nat is private"),
        "{}",
        f.message
    );
}

#[test]
fn internet_gateway_not_attached() {
    let mut t = base();
    t.resources.remove("IgwAttach");
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message
            .contains("internet gateway Igw, which is not attached to the VPC"),
        "{}",
        f.message
    );
}

#[test]
fn security_group_egress_missing() {
    let mut t = base();
    set(
        &mut t,
        "BuildSg",
        "SecurityGroupEgress",
        "[{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0}, {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8}]",
    );
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert_eq!(
        f.path,
        "Resources/Build/Properties/VpcConfig/SecurityGroupIds"
    );
    assert!(
        f.message.ends_with(
            "(tcp 443 to the internet): security group BuildSg allows no egress to 0.0.0.0/0 on 443"
        ),
        "{}",
        f.message
    );
}

#[test]
fn egress_rule_forms_that_open_443() {
    // All protocols, a port range, a separate egress resource, no egress
    // rules at all (EC2's default allow-all): each proves the path.
    for rules in [
        Some("[{IpProtocol: '-1', CidrIp: 0.0.0.0/0}]"),
        Some("[{IpProtocol: tcp, FromPort: 0, ToPort: 65535, CidrIp: 0.0.0.0/0}]"),
        None,
    ] {
        let mut t = base();
        match rules {
            Some(r) => set(&mut t, "BuildSg", "SecurityGroupEgress", r),
            None => {
                t.resources
                    .get_mut("BuildSg")
                    .unwrap()
                    .properties
                    .shift_remove("SecurityGroupEgress");
            }
        }
        let found = run(&t);
        assert!(found.is_empty(), "{rules:?}: {}", show(&found));
    }
    let mut t = base();
    set(
        &mut t,
        "BuildSg",
        "SecurityGroupEgress",
        "[{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0}]",
    );
    let extra = parse_template(
        "Resources:\n  Out:\n    Type: AWS::EC2::SecurityGroupEgress\n    Properties: {GroupId: !GetAtt BuildSg.GroupId, IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}\n",
    )
    .unwrap();
    t.resources.extend(extra.resources);
    let found = run(&t);
    assert!(found.is_empty(), "separate egress: {}", show(&found));
}

#[test]
fn public_subnet_without_public_ip_for_codebuild() {
    let mut t = base();
    set(
        &mut t,
        "Build",
        "VpcConfig",
        "{VpcId: !Ref Vpc, Subnets: [!Ref PublicSubnet], SecurityGroupIds: [!Ref BuildSg]}",
    );
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message.contains("sends 0.0.0.0/0 straight to internet gateway Igw, which needs a public IP, and CodeBuild's build interfaces get none"),
        "{}",
        f.message
    );
}

/// An isolated subnet (no default route) reaches an AWS API through an
/// interface endpoint with private DNS: the endpoint is the path.
const ENDPOINT: &str = r#"
Resources:
  SqsEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs
      VpcEndpointType: Interface
      PrivateDnsEnabled: true
      SubnetIds: [!Ref PublicSubnet]
      SecurityGroupIds: [!Ref EndpointSg]
  EndpointSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: endpoint
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, SourceSecurityGroupId: !Ref AppSg}
  AppSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, DestinationSecurityGroupId: !Ref EndpointSg}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: tasks.apprunner.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: queue
          PolicyDocument: {Statement: [{Effect: Allow, Action: [sqs:SendMessage], Resource: '*'}]}
  Connector:
    Type: AWS::AppRunner::VpcConnector
    Properties:
      Subnets: [!Ref PrivateSubnet]
      SecurityGroups: [!Ref AppSg]
  App:
    Type: AWS::AppRunner::Service
    Properties:
      SourceConfiguration: {ImageRepository: {ImageIdentifier: public.ecr.aws/x/y:1, ImageRepositoryType: ECR_PUBLIC}}
      InstanceConfiguration: {InstanceRoleArn: !GetAtt Role.Arn}
      NetworkConfiguration:
        EgressConfiguration: {EgressType: VPC, VpcConnectorArn: !GetAtt Connector.VpcConnectorArn}
"#;

fn with_endpoint() -> Template {
    let mut t = base();
    t.resources.remove("PrivateDefault");
    t.resources.remove("Build");
    t.resources
        .extend(parse_template(ENDPOINT).unwrap().resources);
    t
}

#[test]
fn interface_endpoint_makes_a_path_without_nat() {
    let found = run(&with_endpoint());
    assert!(found.is_empty(), "{}", show(&found));

    // Without the endpoint the isolated subnet has no way out.
    let mut t = with_endpoint();
    t.resources.remove("SqsEndpoint");
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert_eq!(f.logical_id, "Connector");
    assert_eq!(
        &*f.message,
        "App Runner service App's outbound traffic in subnet PrivateSubnet cannot reach SQS (tcp 443 to the internet): route table PrivateTable has no route to 0.0.0.0/0; security group AppSg allows no egress to 0.0.0.0/0 on 443"
    );

    // Without private DNS the endpoint does not answer for sqs's public name.
    let mut t = with_endpoint();
    set(&mut t, "SqsEndpoint", "PrivateDnsEnabled", "false");
    assert_eq!(only(&run(&t)).rule, NO_PATH);
}

#[test]
fn endpoint_security_group_not_admitting_the_caller() {
    let mut t = with_endpoint();
    set(
        &mut t,
        "EndpointSg",
        "SecurityGroupIngress",
        "[{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/24}]",
    );
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert_eq!(f.path, "Resources/Connector/Properties/SecurityGroups");
    assert_eq!(
        &*f.message,
        "App Runner service App's outbound traffic in subnet PrivateSubnet cannot reach SQS (tcp 443 to interface endpoint SqsEndpoint): endpoint SqsEndpoint's security group EndpointSg admits no tcp 443 from subnet PrivateSubnet or the caller's security groups"
    );

    // The caller's subnet by CIDR is as good as its group.
    set(
        &mut t,
        "EndpointSg",
        "SecurityGroupIngress",
        "[{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/16}]",
    );
    assert!(run(&t).is_empty());
}

#[test]
fn gateway_endpoint_on_the_route_table_makes_a_path() {
    let mut t = base();
    t.resources.remove("PrivateDefault");
    set(
        &mut t,
        "Build",
        "ServiceRole",
        "arn:aws:iam::123456789012:role/build",
    );
    // CodeBuild needs CloudWatch Logs too; give it an interface endpoint,
    // and S3 a gateway endpoint on the private route table.
    let extra = parse_template(
        r#"
Resources:
  S3Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties: {VpcId: !Ref Vpc, ServiceName: com.amazonaws.eu-west-1.s3, RouteTableIds: [!Ref PrivateTable]}
  LogsEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: com.amazonaws.eu-west-1.logs
      VpcEndpointType: Interface
      PrivateDnsEnabled: true
      SubnetIds: [!Ref PrivateSubnet]
      SecurityGroupIds: [!Ref LogsSg]
  LogsSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: logs
      VpcId: !Ref Vpc
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.1.0/24}]
"#,
    )
    .unwrap();
    t.resources.extend(extra.resources);
    let found = run(&t);
    // The role is outside the set: its APIs stay on the internet and fail;
    // CloudWatch Logs and S3 are proven through their endpoints.
    let f = only(&found);
    assert!(
        f.message.starts_with("CodeBuild builds in subnet PrivateSubnet cannot reach the AWS APIs its role is for (tcp 443 to the internet)"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("S3"), "{}", f.message);
    assert!(!f.message.contains("CloudWatch Logs"), "{}", f.message);
}

/// With --template on a file whose subnets are imported from a stack that
/// is not in the set, the placement cannot be resolved: no finding.
#[test]
fn unresolved_imports_give_no_finding() {
    let t = parse_template(
        r#"
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: arn:aws:iam::123456789012:role/build
      Artifacts: {Type: NO_ARTIFACTS}
      Source: {Type: NO_SOURCE, BuildSpec: "version: 0.2"}
      Environment: {Type: LINUX_CONTAINER, ComputeType: BUILD_GENERAL1_SMALL, Image: aws/codebuild/standard:7.0}
      VpcConfig:
        VpcId: !ImportValue net-VPC
        Subnets: [!ImportValue net-PrivateSubnet]
        SecurityGroupIds: [!ImportValue net-BuildSg]
"#,
    )
    .unwrap();
    assert!(run(&t).is_empty());

    // The same file with the network stack in the set is resolved through
    // the network template's exports, and its missing route is found.
    let mut net = base();
    net.resources.remove("Build");
    net.resources.remove("PrivateDefault");
    for (name, id) in [
        ("net-VPC", "Vpc"),
        ("net-PrivateSubnet", "PrivateSubnet"),
        ("net-BuildSg", "BuildSg"),
    ] {
        net.outputs.insert(
            id.into(),
            apprun_template::Output::new(id, apprun_template::r#ref(id)).exported_as(name),
        );
    }
    let found = run_set(&[("net.yaml", &net), ("build.yaml", &t)]);
    let f = only(&found);
    assert_eq!(&*f.file, "build.yaml");
    assert!(
        f.message
            .ends_with("route table PrivateTable has no route to 0.0.0.0/0"),
        "{}",
        f.message
    );
}

/// A placement that names no security group gets the VPC's default group,
/// whose rules no template describes: with the route proven, the proof
/// cannot tell. An endpoint that admits only a named group still blocks.
#[test]
fn no_security_group_means_the_default_group() {
    let mut t = base();
    set(
        &mut t,
        "Build",
        "VpcConfig",
        "{VpcId: !Ref Vpc, Subnets: [!Ref PrivateSubnet], SecurityGroupIds: []}",
    );
    let f = only(&run(&t)).clone();
    assert_eq!(
        (f.rule.as_str(), f.severity),
        (CANNOT_PROVE, Severity::Warning)
    );
    assert!(
        f.message.ends_with(
            "no security group is named, so the VPC's default security group applies, which no template describes"
        ),
        "{}",
        f.message
    );

    let mut t = with_endpoint();
    t.resources
        .get_mut("Connector")
        .unwrap()
        .properties
        .shift_remove("SecurityGroups");
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, NO_PATH);
    assert!(
        f.message
            .contains("endpoint SqsEndpoint's security group EndpointSg admits no tcp 443"),
        "{}",
        f.message
    );
}

/// Findings attach where the blocking hop is declared, with its line.
#[test]
fn findings_carry_file_line_and_path() {
    let mut t = base();
    t.resources.remove("PrivateDefault");
    let text = t.render(Format::Yaml);
    let inputs = [Input {
        file: "net.yaml".into(),
        stack: Some("net".into()),
        template: &t,
        text: Some(text.clone()),
    }];
    let report = check(&inputs, &Context::default(), None);
    let f = only(&reach_findings(&report.findings)).clone();
    assert_eq!(f.stack.as_deref(), Some("net"));
    let line = f.line.expect("a line");
    let at = text.lines().nth(line as usize - 1).unwrap_or_default();
    assert!(at.trim_start().starts_with("Subnets:"), "line {line}: {at}");
}

/// Network ACLs are not evaluated: a placement subnet with its own ACL
/// turns a proven path into "cannot prove", naming the ACL.
#[test]
fn network_acl_is_named_as_unknown() {
    let mut t = base();
    let extra = parse_template(
        "Resources:\n  Acl:\n    Type: AWS::EC2::NetworkAcl\n    Properties: {VpcId: !Ref Vpc}\n  AclAssoc:\n    Type: AWS::EC2::SubnetNetworkAclAssociation\n    Properties: {SubnetId: !Ref PrivateSubnet, NetworkAclId: !Ref Acl}\n",
    )
    .unwrap();
    t.resources.extend(extra.resources);
    let f = only(&run(&t)).clone();
    assert_eq!(f.rule, CANNOT_PROVE);
    assert!(
        f.message.ends_with(
            "subnet PrivateSubnet has network ACL Acl, which the proof does not evaluate"
        ),
        "{}",
        f.message
    );
}
