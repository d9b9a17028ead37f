//! The facts of the reference system (a Nuxt 3 app on App Runner built with
//! raw CloudFormation plus CDK: CIDRs, zones, routes, NAT per zone,
//! security-group rules, export names, trust principals), asserted on the
//! stacks synthesized from the shipped apprun.toml, and the second config's
//! extras (private ingress, WAF, GitHub, /16, two services).

use std::collections::BTreeSet;
use std::path::Path;

use apprun_blueprint::{EnvBlueprint, StackKind, synthesize};
use apprun_config::Config;
use apprun_template::{Format, Intrinsic, Template, Value, get_att, import, r#ref, sub};

fn config(rel: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    Config::load(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn shipped(env: &str) -> EnvBlueprint {
    synthesize(&config("apprun.toml"), env).unwrap()
}

fn template(bp: &EnvBlueprint, kind: StackKind) -> &Template {
    &bp.stack(&kind)
        .unwrap_or_else(|| panic!("no {kind:?} stack"))
        .template
}

fn service_template<'a>(bp: &'a EnvBlueprint, name: &str) -> &'a Template {
    &bp.service_stack(name)
        .unwrap_or_else(|| panic!("no stack for service {name}"))
        .template
}

fn prop<'a>(t: &'a Template, resource: &str, path: &str) -> &'a Value {
    let r = t
        .resources
        .get(resource)
        .unwrap_or_else(|| panic!("no resource {resource}"));
    let mut v = r
        .properties
        .get(path.split('.').next().unwrap())
        .unwrap_or_else(|| panic!("{resource}: no {path}"));
    for key in path.split('.').skip(1) {
        v = v
            .get(key)
            .unwrap_or_else(|| panic!("{resource}: no {path}"));
    }
    v
}

fn s(v: &str) -> Value {
    Value::from(v)
}

#[test]
fn vpc_subnets_and_zones_are_the_references() {
    for (env, seg) in [("dev", "10.0.0"), ("stg", "10.0.1"), ("prod", "10.0.0")] {
        let bp = shipped(env);
        let net = template(&bp, StackKind::Network);
        assert_eq!(prop(net, "VPC", "CidrBlock"), &s(&format!("{seg}.0/24")));
        assert_eq!(prop(net, "VPC", "EnableDnsSupport"), &Value::Bool(true));
        assert_eq!(prop(net, "VPC", "EnableDnsHostnames"), &Value::Bool(true));
        for (subnet, cidr, zone, tier) in [
            ("PublicSubnetAZa", "0/27", "a", "Public"),
            ("PublicSubnetAZc", "32/27", "c", "Public"),
            ("ProtectSubnetAZa", "64/26", "a", "Protect"),
            ("ProtectSubnetAZc", "128/26", "c", "Protect"),
            ("PrivateSubnetAZa", "192/28", "a", "Private"),
            ("PrivateSubnetAZc", "208/28", "c", "Private"),
        ] {
            assert_eq!(
                prop(net, subnet, "CidrBlock"),
                &s(&format!("{seg}.{cidr}")),
                "{env} {subnet}"
            );
            assert_eq!(
                prop(net, subnet, "AvailabilityZone"),
                &sub(format!("${{AWS::Region}}{zone}"))
            );
            let tags = prop(net, subnet, "Tags").as_list().unwrap();
            let pairs: BTreeSet<(String, String)> = tags
                .iter()
                .map(|t| {
                    (
                        t.get("Key").unwrap().as_str().unwrap().to_owned(),
                        t.get("Value").unwrap().as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let want: BTreeSet<(String, String)> = [
                ("SystemId", "apprunner-nuxt3"),
                ("Env", env),
                ("Az", zone),
                ("Subnet", tier),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            assert_eq!(pairs, want);
        }
    }
}

#[test]
fn routing_gateways_and_nat_per_zone() {
    let bp = shipped("dev");
    let net = template(&bp, StackKind::Network);
    assert_eq!(
        prop(net, "InternetGatewayAttachment", "InternetGatewayId"),
        &r#ref("InternetGateway")
    );
    assert_eq!(
        prop(net, "PublicRoute", "DestinationCidrBlock"),
        &s("0.0.0.0/0")
    );
    assert_eq!(
        prop(net, "PublicRoute", "GatewayId"),
        &r#ref("InternetGateway")
    );
    for z in ["a", "c"] {
        assert_eq!(
            prop(
                net,
                &format!("PublicSubnetAZ{z}RouteTableAssociation"),
                "RouteTableId"
            ),
            &r#ref("PublicRouteTable")
        );
        assert_eq!(
            prop(net, &format!("NatGatewayAZ{z}"), "SubnetId"),
            &r#ref(format!("PublicSubnetAZ{z}"))
        );
        assert_eq!(
            prop(net, &format!("NatGatewayAZ{z}"), "AllocationId"),
            &get_att(format!("NatGatewayEIPAZ{z}"), "AllocationId")
        );
        assert_eq!(
            prop(net, &format!("NatGatewayEIPAZ{z}"), "Domain"),
            &s("vpc")
        );
        let table = format!("ProtectRouteTableAZ{z}");
        assert_eq!(
            prop(net, &format!("ProtectRouteAZ{z}"), "RouteTableId"),
            &r#ref(&table)
        );
        assert_eq!(
            prop(net, &format!("ProtectRouteAZ{z}"), "NatGatewayId"),
            &r#ref(format!("NatGatewayAZ{z}"))
        );
        assert_eq!(
            prop(net, &format!("ProtectRouteAZ{z}"), "DestinationCidrBlock"),
            &s("0.0.0.0/0")
        );
        assert_eq!(
            prop(
                net,
                &format!("ProtectSubnetAZ{z}RouteTableAssociation"),
                "SubnetId"
            ),
            &r#ref(format!("ProtectSubnetAZ{z}"))
        );
        assert_eq!(
            prop(
                net,
                &format!("ProtectSubnetAZ{z}RouteTableAssociation"),
                "RouteTableId"
            ),
            &r#ref(&table)
        );
        assert!(
            !net.resources
                .contains_key(&format!("PrivateSubnetAZ{z}RouteTableAssociation")),
            "private keeps the main table"
        );
    }
    let count = |kind: &str| net.resources.values().filter(|r| r.kind == kind).count();
    assert_eq!(count("AWS::EC2::NatGateway"), 2);
    assert_eq!(count("AWS::EC2::EIP"), 2);
    assert_eq!(count("AWS::EC2::RouteTable"), 3);
    assert_eq!(count("AWS::EC2::Route"), 3);
    assert_eq!(count("AWS::EC2::SubnetRouteTableAssociation"), 4);
    assert_eq!(count("AWS::EC2::InternetGateway"), 1);
}

#[test]
fn apprunner_endpoint_is_the_references() {
    let net = template(&shipped("dev"), StackKind::Network).clone();
    assert_eq!(
        prop(&net, "AppRunnerEndpoint", "ServiceName"),
        &sub("com.amazonaws.${AWS::Region}.apprunner")
    );
    assert_eq!(
        prop(&net, "AppRunnerEndpoint", "VpcEndpointType"),
        &s("Interface")
    );
    assert_eq!(
        prop(&net, "AppRunnerEndpoint", "PrivateDnsEnabled"),
        &Value::Bool(true)
    );
    assert_eq!(
        prop(&net, "AppRunnerEndpoint", "SubnetIds"),
        &Value::List(vec![r#ref("ProtectSubnetAZa"), r#ref("ProtectSubnetAZc")])
    );
    assert_eq!(
        prop(&net, "AppRunnerEndpoint", "SecurityGroupIds"),
        &Value::List(vec![r#ref("ProtectSecurityGroup")])
    );
    assert!(
        !net.resources.contains_key("AppRunnerRequestsEndpoint"),
        "public ingress needs no requests endpoint"
    );
}

type Rule = (String, String, i64, i64, String);

fn rules(t: &Template, group: &str, key: &str) -> BTreeSet<Rule> {
    let Some(list) = t.resources[group].properties.get(key) else {
        return BTreeSet::new();
    };
    list.as_list()
        .unwrap()
        .iter()
        .map(|r| {
            let int = |k: &str| match r.get(k) {
                Some(Value::Int(n)) => *n,
                other => panic!("{k}: {other:?}"),
            };
            (
                String::new(),
                r.get("IpProtocol").unwrap().as_str().unwrap().to_owned(),
                int("FromPort"),
                int("ToPort"),
                r.get("CidrIp").unwrap().as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expect(entries: &[(&str, i64, i64, &[&str])]) -> BTreeSet<Rule> {
    entries
        .iter()
        .flat_map(|(proto, from, to, cidrs)| {
            cidrs
                .iter()
                .map(move |c| (String::new(), proto.to_string(), *from, *to, c.to_string()))
        })
        .collect()
}

#[test]
fn security_group_rules_are_exactly_the_references() {
    let net = template(&shipped("dev"), StackKind::Network).clone();
    let world: &[&str] = &["0.0.0.0/0"];
    let public: &[&str] = &["10.0.0.0/27", "10.0.0.32/27"];
    let protect: &[&str] = &["10.0.0.64/26", "10.0.0.128/26"];
    let private: &[&str] = &["10.0.0.192/28", "10.0.0.208/28"];

    assert_eq!(
        rules(&net, "PublicSecurityGroup", "SecurityGroupIngress"),
        expect(&[
            ("tcp", 80, 80, world),
            ("tcp", 443, 443, world),
            ("udp", 80, 80, world),
            ("udp", 443, 443, world),
            ("tcp", 0, 65535, public)
        ])
    );
    assert_eq!(
        rules(&net, "PublicSecurityGroup", "SecurityGroupEgress"),
        expect(&[
            ("tcp", 0, 65535, public),
            ("tcp", 80, 80, protect),
            ("tcp", 443, 443, protect),
            ("udp", 80, 80, protect),
            ("udp", 443, 443, protect)
        ])
    );
    assert_eq!(
        rules(&net, "ProtectSecurityGroup", "SecurityGroupIngress"),
        expect(&[
            ("tcp", 80, 80, public),
            ("tcp", 443, 443, public),
            ("udp", 80, 80, public),
            ("udp", 443, 443, public),
            ("tcp", 0, 65535, protect)
        ])
    );
    assert_eq!(
        rules(&net, "ProtectSecurityGroup", "SecurityGroupEgress"),
        expect(&[
            ("tcp", 80, 80, world),
            ("tcp", 443, 443, world),
            ("tcp", 0, 65535, protect),
            ("tcp", 5432, 5432, private),
            ("tcp", 3306, 3306, private)
        ])
    );
    assert_eq!(
        rules(&net, "PrivateSecurityGroup", "SecurityGroupIngress"),
        expect(&[("tcp", 5432, 5432, protect), ("tcp", 3306, 3306, protect)])
    );
    assert!(
        rules(&net, "PrivateSecurityGroup", "SecurityGroupEgress").is_empty(),
        "private keeps the default egress"
    );
}

#[test]
fn export_names_are_the_references() {
    let bp = shipped("stg");
    let mut exports = template(&bp, StackKind::Network)
        .export_names()
        .into_iter()
        .map(|(n, _)| n.to_owned())
        .collect::<Vec<_>>();
    exports.sort();
    let mut want: Vec<String> = [
        "VPC",
        "PublicSubnetAZa",
        "ProtectSubnetAZa",
        "PrivateSubnetAZa",
        "PublicSubnetAZc",
        "ProtectSubnetAZc",
        "PrivateSubnetAZc",
        "PublicSecurityGroup",
        "ProtectSecurityGroup",
        "PrivateSecurityGroup",
        // The shipped config's scheduled job: the env's jobs cluster and roles,
        // and the job's invoke role and dead-letter queue.
        "JobsCluster",
        "JobsTaskRoleArn",
        "JobsExecutionRoleArn",
        "JobDailyAnalysisInvokeRoleArn",
        "JobDailyAnalysisDeadLetterQueueArn",
    ]
    .iter()
    .map(|x| format!("apprunner-nuxt3-stg-{x}"))
    .collect();
    want.sort();
    assert_eq!(exports, want);
    let iam: BTreeSet<&str> = template(&bp, StackKind::Iam)
        .export_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        iam,
        BTreeSet::from([
            "apprunner-nuxt3-AppRunnerAccessRoleArn",
            "apprunner-nuxt3-AppRunnerInstanceRoleArn",
            "apprunner-nuxt3-PipelineRoleArn"
        ])
    );
}

fn trust_principals(t: &Template, role: &str) -> Vec<String> {
    let doc = prop(t, role, "AssumeRolePolicyDocument");
    assert_eq!(doc.get("Version"), Some(&s("2012-10-17")));
    let stmt = &doc.get("Statement").unwrap().as_list().unwrap()[0];
    stmt.get("Principal")
        .unwrap()
        .get("Service")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn iam_roles_trust_and_permissions() {
    let bp = shipped("dev");
    let iam = template(&bp, StackKind::Iam);
    assert_eq!(
        trust_principals(iam, "AppRunnerAccessRole"),
        ["build.apprunner.amazonaws.com"]
    );
    assert_eq!(
        trust_principals(iam, "AppRunnerInstanceRole"),
        ["tasks.apprunner.amazonaws.com"]
    );
    assert_eq!(
        trust_principals(iam, "PipelineRole"),
        [
            "cloudformation.amazonaws.com",
            "codebuild.amazonaws.com",
            "codepipeline.amazonaws.com"
        ]
    );
    assert_eq!(
        prop(iam, "AppRunnerAccessRole", "ManagedPolicyArns"),
        &Value::List(vec![sub(
            "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSAppRunnerServicePolicyForECRAccess"
        )])
    );
    let policy = &prop(iam, "AppRunnerInstanceRole", "Policies")
        .as_list()
        .unwrap()[0];
    let stmt = &policy
        .get("PolicyDocument")
        .unwrap()
        .get("Statement")
        .unwrap()
        .as_list()
        .unwrap()[0];
    let actions: Vec<&str> = stmt
        .get("Action")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "BatchGetItem",
        "DescribeStream",
        "DescribeTable",
        // The reference's `Get*`, spelled out (see iam.rs).
        "GetItem",
        "GetRecords",
        "GetShardIterator",
        "Query",
        "Scan",
        "BatchWriteItem",
        "DeleteItem",
        "UpdateItem",
        "PutItem",
    ] {
        assert!(actions.contains(&format!("dynamodb:{a}").as_str()), "{a}");
    }
    assert_eq!(actions.len(), 12);
    assert_eq!(
        stmt.get("Resource").unwrap(),
        &Value::List(vec![sub(
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/apprunner-nuxt3*"
        )])
    );
}

#[test]
fn pipeline_role_is_least_privilege() {
    let iam = template(&shipped("dev"), StackKind::Iam).clone();
    assert!(
        !iam.resources["PipelineRole"]
            .properties
            .contains_key("ManagedPolicyArns"),
        "no *FullAccess managed policies"
    );
    let policy = &prop(&iam, "PipelineRole", "Policies").as_list().unwrap()[0];
    for stmt in policy
        .get("PolicyDocument")
        .unwrap()
        .get("Statement")
        .unwrap()
        .as_list()
        .unwrap()
    {
        let actions: Vec<&str> = stmt
            .get("Action")
            .unwrap()
            .as_list()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let star = stmt
            .get("Resource")
            .unwrap()
            .as_list()
            .unwrap()
            .contains(&s("*"));
        assert!(
            !actions.iter().any(|a| a.ends_with(":*") || *a == "*"),
            "wildcard action in {stmt:?}"
        );
        if star {
            assert!(
                actions.iter().all(|a| a.contains(":Describe")
                    || a.contains(":List")
                    || *a == "ecr:GetAuthorizationToken"),
                "only lookups may use Resource *: {actions:?}"
            );
            assert!(!actions.contains(&"iam:PassRole"), "PassRole on *");
        }
        if actions.contains(&"iam:PassRole") {
            assert!(
                stmt.get("Condition").is_some(),
                "PassRole is limited to the service it is passed to"
            );
        }
    }
}

#[test]
fn repositories_bucket_and_retention() {
    let dev = shipped("dev");
    let repo = template(&dev, StackKind::Repository);
    let cc = &repo.resources["SourceRepository"];
    assert_eq!(cc.kind, "AWS::CodeCommit::Repository");
    assert_eq!(cc.properties["RepositoryName"], s("apprunner-nuxt3"));
    assert_eq!(
        (cc.deletion_policy(), cc.update_replace_policy()),
        (Some("Retain"), Some("Retain"))
    );
    // The first env of each account creates it: dev for the default
    // account, prod (account 123456789012) for its own.
    for (env, creates) in [("stg", false), ("prod", true)] {
        let bp = shipped(env);
        assert_eq!(
            template(&bp, StackKind::Repository)
                .resources
                .contains_key("SourceRepository"),
            creates,
            "{env}: only the first env of an account creates it"
        );
    }
    assert_eq!(
        prop(repo, "EcrRepositoryWeb", "RepositoryName"),
        &s("apprunner-nuxt3-dev")
    );
    assert_eq!(
        prop(repo, "EcrRepositoryWeb", "ImageTagMutability"),
        &s("IMMUTABLE")
    );
    assert_eq!(
        prop(
            repo,
            "EcrRepositoryWeb",
            "ImageScanningConfiguration.ScanOnPush"
        ),
        &Value::Bool(true)
    );
    assert_eq!(
        prop(repo, "ArtifactBucket", "BucketName"),
        &s("apprunner-nuxt3-dev-temporary")
    );
    for key in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            prop(
                repo,
                "ArtifactBucket",
                &format!("PublicAccessBlockConfiguration.{key}")
            ),
            &Value::Bool(true)
        );
    }
    let rules = prop(repo, "ArtifactBucket", "LifecycleConfiguration.Rules")
        .as_list()
        .unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r.get("ExpirationInDays") == Some(&Value::Int(7)))
    );
    let exports: BTreeSet<&str> = repo.export_names().into_iter().map(|(n, _)| n).collect();
    for e in [
        "apprunner-nuxt3-dev-EcrRepositoryUri",
        "apprunner-nuxt3-dev-EcrRepositoryArn",
        "apprunner-nuxt3-dev-EcrRepositoryName",
        "apprunner-nuxt3-dev-ArtifactBucketName",
        "apprunner-nuxt3-SourceRepositoryName",
    ] {
        assert!(exports.contains(e), "{e} in {exports:?}");
    }
}

#[test]
fn service_runs_the_pinned_tag_with_the_references_settings() {
    for (env, cpu, mem) in [
        ("dev", "1 vCPU", "2 GB"),
        ("stg", "2 vCPU", "4 GB"),
        ("prod", "2 vCPU", "4 GB"),
    ] {
        let bp = shipped(env);
        let svc = service_template(&bp, "web");
        assert!(svc.parameters.contains_key("ImageTag"));
        assert!(
            svc.parameters["ImageTag"].default.is_none(),
            "the tag is always explicit"
        );
        assert_eq!(
            prop(svc, "Service", "ServiceName"),
            &s(&format!("apprunner-nuxt3-{env}-web"))
        );
        assert_eq!(
            prop(
                svc,
                "Service",
                "SourceConfiguration.ImageRepository.ImageIdentifier"
            ),
            &apprun_template::join(
                ":",
                vec![
                    import(format!("apprunner-nuxt3-{env}-EcrRepositoryUri")),
                    r#ref("ImageTag")
                ]
            )
        );
        assert_eq!(
            prop(svc, "Service", "SourceConfiguration.AutoDeploymentsEnabled"),
            &Value::Bool(false)
        );
        assert_eq!(
            prop(
                svc,
                "Service",
                "SourceConfiguration.ImageRepository.ImageConfiguration.Port"
            ),
            &s("3000")
        );
        let vars = prop(
            svc,
            "Service",
            "SourceConfiguration.ImageRepository.ImageConfiguration.RuntimeEnvironmentVariables",
        );
        assert_eq!(vars.as_list().unwrap().len(), 2);
        assert_eq!(vars.as_list().unwrap()[0].get("Name"), Some(&s("ENV")));
        assert_eq!(vars.as_list().unwrap()[0].get("Value"), Some(&s(env)));
        assert_eq!(
            vars.as_list().unwrap()[1].get("Name"),
            Some(&s("SYSTEM_ID"))
        );
        assert_eq!(prop(svc, "Service", "InstanceConfiguration.Cpu"), &s(cpu));
        assert_eq!(
            prop(svc, "Service", "InstanceConfiguration.Memory"),
            &s(mem)
        );
        assert_eq!(
            prop(svc, "Service", "InstanceConfiguration.InstanceRoleArn"),
            &import("apprunner-nuxt3-AppRunnerInstanceRoleArn")
        );
        assert_eq!(
            prop(
                svc,
                "Service",
                "SourceConfiguration.AuthenticationConfiguration.AccessRoleArn"
            ),
            &import("apprunner-nuxt3-AppRunnerAccessRoleArn")
        );
        for (k, v) in [
            ("Interval", 10),
            ("Timeout", 3),
            ("HealthyThreshold", 1),
            ("UnhealthyThreshold", 3),
        ] {
            assert_eq!(
                prop(svc, "Service", &format!("HealthCheckConfiguration.{k}")),
                &Value::Int(v)
            );
        }
        assert_eq!(
            prop(svc, "Service", "HealthCheckConfiguration.Path"),
            &s("/")
        );
        assert_eq!(
            prop(svc, "Service", "HealthCheckConfiguration.Protocol"),
            &s("HTTP")
        );
        assert_eq!(
            prop(
                svc,
                "Service",
                "NetworkConfiguration.EgressConfiguration.EgressType"
            ),
            &s("VPC")
        );
        assert_eq!(
            prop(
                svc,
                "Service",
                "NetworkConfiguration.IngressConfiguration.IsPubliclyAccessible"
            ),
            &Value::Bool(true)
        );
        assert_eq!(
            prop(svc, "VpcConnector", "Subnets"),
            &Value::List(vec![
                import(format!("apprunner-nuxt3-{env}-ProtectSubnetAZa")),
                import(format!("apprunner-nuxt3-{env}-ProtectSubnetAZc"))
            ])
        );
        assert_eq!(
            prop(svc, "VpcConnector", "SecurityGroups"),
            &Value::List(vec![import(format!(
                "apprunner-nuxt3-{env}-ProtectSecurityGroup"
            ))])
        );
    }
}

fn stage_names(pipeline: &Template) -> Vec<String> {
    prop(pipeline, "Pipeline", "Stages")
        .as_list()
        .unwrap()
        .iter()
        .map(|s| s.get("Name").unwrap().as_str().unwrap().to_owned())
        .collect()
}

fn first_action<'a>(pipeline: &'a Template, stage: &str) -> &'a Value {
    let stages = prop(pipeline, "Pipeline", "Stages").as_list().unwrap();
    let st = stages
        .iter()
        .find(|s| s.get("Name") == Some(&Value::from(stage)))
        .unwrap();
    &st.get("Actions").unwrap().as_list().unwrap()[0]
}

#[test]
fn pipeline_builds_once_waits_and_deploys_that_tag() {
    for (env, branch) in [("dev", "main"), ("stg", "stg"), ("prod", "prod")] {
        let bp = shipped(env);
        let p = template(&bp, StackKind::Pipeline);
        assert_eq!(stage_names(p), ["Source", "Build", "Approval", "Deploy"]);
        let source = first_action(p, "Source");
        assert_eq!(
            source.get("Configuration").unwrap().get("BranchName"),
            Some(&s(branch))
        );
        assert_eq!(
            source.get("Configuration").unwrap().get("RepositoryName"),
            Some(&s("apprunner-nuxt3"))
        );
        assert_eq!(
            first_action(p, "Approval")
                .get("ActionTypeId")
                .unwrap()
                .get("Provider"),
            Some(&s("Manual"))
        );
        assert_eq!(
            prop(p, "BuildProjectWeb", "Environment.PrivilegedMode"),
            &Value::Bool(true)
        );
        let spec = prop(p, "BuildProjectWeb", "Source.BuildSpec")
            .as_str()
            .unwrap();
        assert!(
            spec.contains("cut -c1-7")
                && spec.contains("docker push \"$REPOSITORY_URI:$IMAGE_TAG\""),
            "{spec}"
        );
        assert!(
            spec.contains("create-change-set"),
            "the build shows the service stack's diff"
        );
        let deploy = first_action(p, "Deploy").get("Configuration").unwrap();
        assert_eq!(
            deploy.get("StackName"),
            Some(&s(&format!("apprunner-nuxt3-{env}-service-web")))
        );
        assert_eq!(
            deploy.get("TemplateConfiguration"),
            Some(&s("BuildWeb::parameters.json"))
        );
        assert_eq!(
            prop(p, "Pipeline", "ArtifactStore.Location"),
            &import(format!("apprunner-nuxt3-{env}-ArtifactBucketName"))
        );
        assert_eq!(
            prop(p, "Pipeline", "RoleArn"),
            &import("apprunner-nuxt3-PipelineRoleArn")
        );
        let stages = prop(p, "Pipeline", "Stages").as_list().unwrap();
        let deploy_actions = stages
            .last()
            .unwrap()
            .get("Actions")
            .unwrap()
            .as_list()
            .unwrap();
        let verify = &deploy_actions[1];
        assert_eq!(verify.get("Name"), Some(&s("Verify-web")));
        assert_eq!(
            verify.get("RunOrder"),
            Some(&Value::Int(2)),
            "after the deploy action"
        );
        let check = prop(p, "VerifyProjectWeb", "Source.BuildSpec")
            .as_str()
            .unwrap();
        assert!(
            check.contains("list-operations")
                && check.contains("SUCCEEDED) break")
                && check.contains("$URL$HEALTH_PATH")
                && check.contains("set -euo pipefail"),
            "{check}"
        );
        let trigger = prop(p, "PipelineTrigger", "EventPattern.detail.referenceName");
        assert_eq!(trigger, &Value::List(vec![s(branch)]));
    }
}

#[test]
fn stacks_deploy_in_waves_from_their_imports() {
    let bp = shipped("dev");
    let waves: Vec<Vec<&str>> = bp
        .waves
        .iter()
        .map(|w| w.iter().map(|&i| bp.stacks[i].name.as_str()).collect())
        .collect();
    assert_eq!(
        waves,
        vec![
            vec![
                "apprunner-nuxt3-dev-network",
                "apprunner-nuxt3-dev-repository",
                "apprunner-nuxt3-iam"
            ],
            vec![
                "apprunner-nuxt3-dev-job-daily-analysis",
                "apprunner-nuxt3-dev-pipeline",
                "apprunner-nuxt3-dev-service-web"
            ],
        ]
    );
    assert_eq!(
        bp.dependencies["apprunner-nuxt3-dev-service-web"],
        [
            "apprunner-nuxt3-dev-network",
            "apprunner-nuxt3-dev-repository",
            "apprunner-nuxt3-iam"
        ]
    );
    assert!(bp.findings().is_empty(), "{:?}", bp.findings());
}

#[test]
fn second_config_private_ingress_waf_github_two_services() {
    let cfg = config("fixtures/shop-api.toml");
    let prod = synthesize(&cfg, "prod").unwrap();
    let net = template(&prod, StackKind::Network);
    assert_eq!(
        prop(net, "AppRunnerRequestsEndpoint", "ServiceName"),
        &sub("com.amazonaws.${AWS::Region}.apprunner.requests")
    );
    assert_eq!(
        prop(net, "AppRunnerRequestsEndpoint", "PrivateDnsEnabled"),
        &Value::Bool(false)
    );
    assert_eq!(
        prop(net, "PublicSubnetAZb", "CidrBlock"),
        &s("172.21.32.0/19")
    );
    assert_eq!(
        prop(net, "PrivateSubnetAZb", "CidrBlock"),
        &s("172.21.208.0/20")
    );
    for service in ["web", "admin"] {
        let svc = service_template(&prod, service);
        assert_eq!(
            prop(
                svc,
                "Service",
                "NetworkConfiguration.IngressConfiguration.IsPubliclyAccessible"
            ),
            &Value::Bool(false)
        );
        assert_eq!(
            prop(
                svc,
                "VpcIngressConnection",
                "IngressVpcConfiguration.VpcEndpointId"
            ),
            &import("shop-api-prod-AppRunnerRequestsEndpoint")
        );
        assert_eq!(
            prop(svc, "WebAclAssociation", "ResourceArn"),
            &get_att("Service", "ServiceArn")
        );
        assert_eq!(prop(svc, "WebAcl", "Scope"), &s("REGIONAL"));
        assert_eq!(
            prop(svc, "Service", "InstanceConfiguration.Cpu"),
            &s("4 vCPU")
        );
        assert_eq!(
            svc.outputs["ServiceUrl"].value,
            sub("https://${VpcIngressConnection.DomainName}")
        );
    }
    let admin = service_template(&prod, "admin");
    let image = prop(
        admin,
        "Service",
        "SourceConfiguration.ImageRepository.ImageIdentifier",
    );
    assert!(matches!(image, Value::Fn(f) if matches!(f.as_ref(), Intrinsic::Join { .. })));
    assert_eq!(
        image,
        &apprun_template::join(
            ":",
            vec![
                import("shop-api-prod-admin-EcrRepositoryUri"),
                r#ref("ImageTag")
            ]
        )
    );
    let repo = template(&prod, StackKind::Repository);
    assert_eq!(
        prop(repo, "EcrRepositoryAdmin", "RepositoryName"),
        &s("shop-api-prod-admin")
    );
    assert!(
        !repo.resources.contains_key("SourceRepository"),
        "GitHub needs no CodeCommit repository"
    );
    let p = template(&prod, StackKind::Pipeline);
    let source = first_action(p, "Source");
    assert_eq!(
        source.get("ActionTypeId").unwrap().get("Provider"),
        Some(&s("CodeStarSourceConnection"))
    );
    assert_eq!(
        source.get("Configuration").unwrap().get("FullRepositoryId"),
        Some(&s("acme/shop-api"))
    );
    assert!(
        !p.resources.contains_key("PipelineTrigger"),
        "the connection triggers on push itself"
    );
    let dev = synthesize(&cfg, "dev").unwrap();
    assert_eq!(
        stage_names(template(&dev, StackKind::Pipeline)),
        ["Source", "Build", "Deploy"],
        "approval = false"
    );
    assert!(
        !service_template(&dev, "web")
            .resources
            .contains_key("WebAcl")
    );
}

#[test]
fn ecs_express_maps_onto_the_three_tiers() {
    let cfg = config("fixtures/express.toml");
    let dev = synthesize(&cfg, "dev").unwrap();
    let svc = service_template(&dev, "web");
    assert_eq!(
        svc.resources["Service"].kind,
        "AWS::ECS::ExpressGatewayService"
    );
    // Public ingress: internet-facing balancer in the public subnets, Public SG.
    assert_eq!(
        prop(svc, "Service", "NetworkConfiguration.Subnets"),
        &Value::List(vec![
            import("express-demo-dev-PublicSubnetAZa"),
            import("express-demo-dev-PublicSubnetAZb")
        ])
    );
    // Plus the network stack's task group: tcp 443 to the VPC endpoints
    // that carry the image pull and logs (tasks there get no public IP).
    assert_eq!(
        prop(svc, "Service", "NetworkConfiguration.SecurityGroups"),
        &Value::List(vec![
            import("express-demo-dev-PublicSecurityGroup"),
            import("express-demo-dev-EcsTaskSecurityGroup")
        ])
    );
    assert_eq!(
        (prop(svc, "Service", "Cpu"), prop(svc, "Service", "Memory")),
        (&s("512"), &s("2048")),
        "ECS units"
    );
    assert_eq!(prop(svc, "Service", "HealthCheckPath"), &s("/healthz"));
    assert_eq!(
        prop(svc, "Service", "PrimaryContainer.ContainerPort"),
        &Value::Int(3000)
    );
    assert_eq!(
        prop(svc, "Service", "ScalingTarget.MaxTaskCount"),
        &Value::Int(4)
    );
    assert_eq!(
        prop(svc, "Service", "ScalingTarget.AutoScalingMetric"),
        &s("AVERAGE_CPU")
    );
    assert_eq!(prop(svc, "LogGroup", "RetentionInDays"), &Value::Int(30));
    assert_eq!(
        prop(svc, "Service", "TaskRoleArn"),
        &import("express-demo-EcsTaskRoleArn")
    );
    // Private ingress: internal balancer and tasks in the protect subnets, Protect SG.
    let prod = synthesize(&cfg, "prod").unwrap();
    let svc = service_template(&prod, "web");
    assert_eq!(
        prop(svc, "Service", "NetworkConfiguration.Subnets"),
        &Value::List(vec![
            import("express-demo-prod-ProtectSubnetAZa"),
            import("express-demo-prod-ProtectSubnetAZb")
        ])
    );
    assert_eq!(
        prop(svc, "Service", "NetworkConfiguration.SecurityGroups"),
        &Value::List(vec![import("express-demo-prod-ProtectSecurityGroup")])
    );
    assert!(
        !template(&prod, StackKind::Network)
            .resources
            .contains_key("AppRunnerRequestsEndpoint"),
        "no App Runner endpoint needed for ECS"
    );
    let iam = template(&prod, StackKind::Iam);
    assert_eq!(
        trust_principals(iam, "EcsInfrastructureRole"),
        ["ecs.amazonaws.com"]
    );
    assert_eq!(
        trust_principals(iam, "EcsExecutionRole"),
        ["ecs-tasks.amazonaws.com"]
    );
    assert!(
        !config("apprun.toml")
            .services
            .values()
            .any(|s| s.compute == apprun_config::Compute::EcsExpress)
    );
    assert!(
        !template(&shipped("dev"), StackKind::Iam)
            .resources
            .contains_key("EcsTaskRole"),
        "App Runner configs carry no ECS roles"
    );
}

#[test]
fn templates_are_deterministic_and_snapshotted() {
    for (file, envs) in [
        ("apprun.toml", &["dev", "stg", "prod"][..]),
        ("fixtures/shop-api.toml", &["dev", "prod"][..]),
        ("fixtures/express.toml", &["dev", "prod"][..]),
    ] {
        let cfg = config(file);
        for env in envs {
            let a = synthesize(&cfg, env).unwrap();
            let b = synthesize(&cfg, env).unwrap();
            for (x, y) in a.stacks.iter().zip(&b.stacks) {
                let yaml = x.template.render(Format::Yaml);
                assert_eq!(yaml, y.template.render(Format::Yaml));
                assert_eq!(
                    apprun_template::parse_yaml(&yaml).unwrap(),
                    x.template,
                    "YAML parses back"
                );
                let json = x.template.render(Format::Json);
                assert_eq!(
                    apprun_template::parse_json(&json).unwrap(),
                    x.template,
                    "JSON parses back"
                );
                insta::assert_snapshot!(
                    format!("{}-{env}-{}", cfg.system.id, x.kind.file_stem()),
                    yaml
                );
            }
        }
    }
}

/// The generated buildspecs are valid YAML and their shell parses (`bash -n`):
/// a typo here would only show in CodeBuild.
#[test]
fn buildspecs_are_valid_yaml_and_shell() {
    for (name, spec) in [
        ("build", apprun_blueprint::buildspec()),
        ("verify", apprun_blueprint::verify_buildspec()),
    ] {
        let doc: serde_norway::Value =
            serde_norway::from_str(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc["version"].as_f64(), Some(0.2), "{name}");
        let mut script = String::new();
        for phase in doc["phases"].as_mapping().unwrap().values() {
            for c in phase["commands"].as_sequence().unwrap() {
                script.push_str(c.as_str().unwrap());
                script.push('\n');
            }
        }
        let mut bash = std::process::Command::new("bash")
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(bash.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
        let out = bash.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(script.len() > 200, "{name} has its commands");
    }
    // The checker itself catches a broken script.
    let broken = std::process::Command::new("bash")
        .args(["-n", "-c", "if true; then"])
        .output()
        .unwrap();
    assert!(!broken.status.success());
}
