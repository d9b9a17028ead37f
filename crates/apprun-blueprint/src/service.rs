//! The per-env, per-service stack: the App Runner service with its VPC
//! connector, and optionally private ingress and a WAF web ACL.

use apprun_config::{Config, Env, Ingress, Names, Service};
use apprun_template::{
    Output, Parameter, Resource, Template, Value, get_att, import, join, map, r#ref, sub,
};

use crate::iam::{ACCESS_ROLE_EXPORT, INSTANCE_ROLE_EXPORT};
use crate::network::REQUESTS_ENDPOINT_EXPORT;
use crate::network::subnet_imports;
use crate::tags::env_tags;

/// The template parameter that pins the image tag.
pub const IMAGE_TAG_PARAMETER: &str = "ImageTag";

/// AWS managed rule groups attached when `waf = true`, in priority order.
const MANAGED_RULE_GROUPS: &[&str] = &[
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
];

/// The variables the service sees on either backend: `ENV` and `SYSTEM_ID`.
pub(crate) fn runtime_env_vars(system_id: &str, env: &str) -> Vec<Value> {
    [("ENV", env), ("SYSTEM_ID", system_id)]
        .into_iter()
        .map(|(k, v)| map! { "Name" => k, "Value" => v }.into())
        .collect()
}

/// The parameter that pins the image: always explicit, never a default.
pub(crate) fn image_tag_parameter() -> Parameter {
    let mut tag =
        Parameter::string("Image tag to deploy: the 7-character commit id the pipeline pushed");
    tag.allowed_pattern = Some("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$".into());
    tag.constraint_description = Some("a Docker image tag".into());
    tag
}

pub(crate) fn template(config: &Config, env: &Env, service: &Service) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let s = &service.name;
    let primary = config.is_primary(s);
    let service_name = names.apprunner_service(e, s);
    let mut t = Template {
        description: Some(format!("{id} {e}: service {s} on App Runner (apprun)")),
        ..Template::default()
    };
    t.parameters
        .insert(IMAGE_TAG_PARAMETER.into(), image_tag_parameter());

    // The connector spans the protect subnet of every configured zone.
    let subnets = subnet_imports(&names, env, apprun_config::Tier::Protect);
    t.resources.insert(
        "VpcConnector".into(),
        Resource::new(
            "AWS::AppRunner::VpcConnector",
            map! {
                "VpcConnectorName" => service_name.as_str(),
                "Subnets" => subnets,
                "SecurityGroups" => vec![import(names.env_export(e, "ProtectSecurityGroup"))],
                "Tags" => env_tags(id, e),
            },
        ),
    );

    let env_vars = runtime_env_vars(id, e);
    let h = &service.health;
    t.resources.insert(
        "Service".into(),
        Resource::new(
            "AWS::AppRunner::Service",
            map! {
                "ServiceName" => service_name.as_str(),
                "SourceConfiguration" => map! {
                    "AuthenticationConfiguration" => map! {
                        "AccessRoleArn" => import(names.account_export(ACCESS_ROLE_EXPORT)),
                    },
                    "AutoDeploymentsEnabled" => false,
                    "ImageRepository" => map! {
                        "ImageIdentifier" => join(":", vec![
                            import(names.ecr_export(e, s, primary, "EcrRepositoryUri")),
                            r#ref(IMAGE_TAG_PARAMETER),
                        ]),
                        "ImageRepositoryType" => "ECR",
                        "ImageConfiguration" => map! {
                            "Port" => service.port.to_string(),
                            "RuntimeEnvironmentVariables" => env_vars,
                        },
                    },
                },
                "InstanceConfiguration" => map! {
                    "Cpu" => env.cpu.to_string(),
                    "Memory" => env.memory.to_string(),
                    "InstanceRoleArn" => import(names.account_export(INSTANCE_ROLE_EXPORT)),
                },
                "HealthCheckConfiguration" => map! {
                    "Protocol" => "HTTP",
                    "Path" => h.path.as_str(),
                    "Interval" => h.interval,
                    "Timeout" => h.timeout,
                    "HealthyThreshold" => h.healthy,
                    "UnhealthyThreshold" => h.unhealthy,
                },
                "NetworkConfiguration" => map! {
                    "EgressConfiguration" => map! {
                        "EgressType" => "VPC",
                        "VpcConnectorArn" => get_att("VpcConnector", "VpcConnectorArn"),
                    },
                    "IngressConfiguration" => map! {
                        "IsPubliclyAccessible" => env.ingress == Ingress::Public,
                    },
                },
                "Tags" => env_tags(id, e),
            },
        ),
    );

    t.outputs.insert(
        "ServiceArn".into(),
        Output::new("App Runner service ARN", get_att("Service", "ServiceArn")),
    );
    t.outputs.insert(
        "ServiceId".into(),
        Output::new("App Runner service id", get_att("Service", "ServiceId")),
    );

    match env.ingress {
        Ingress::Public => {
            t.outputs.insert(
                "ServiceUrl".into(),
                Output::new(
                    "Public URL of the service",
                    sub("https://${Service.ServiceUrl}"),
                ),
            );
        }
        Ingress::Private => {
            t.resources.insert(
                "VpcIngressConnection".into(),
                Resource::new(
                    "AWS::AppRunner::VpcIngressConnection",
                    map! {
                        "VpcIngressConnectionName" => service_name.as_str(),
                        "ServiceArn" => get_att("Service", "ServiceArn"),
                        "IngressVpcConfiguration" => map! {
                            "VpcId" => import(names.env_export(e, "VPC")),
                            "VpcEndpointId" => import(names.env_export(e, REQUESTS_ENDPOINT_EXPORT)),
                        },
                        "Tags" => env_tags(id, e),
                    },
                ),
            );
            t.outputs.insert(
                "ServiceUrl".into(),
                Output::new(
                    "Private URL of the service (reachable from the VPC only)",
                    sub("https://${VpcIngressConnection.DomainName}"),
                ),
            );
        }
    }

    if env.waf {
        let rules: Vec<Value> = MANAGED_RULE_GROUPS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                map! {
                    "Name" => *name,
                    "Priority" => i as i64,
                    "OverrideAction" => map! { "None" => map! {} },
                    "Statement" => map! {
                        "ManagedRuleGroupStatement" => map! { "VendorName" => "AWS", "Name" => *name },
                    },
                    "VisibilityConfig" => visibility(name),
                }
                .into()
            })
            .collect();
        t.resources.insert(
            "WebAcl".into(),
            Resource::new(
                "AWS::WAFv2::WebACL",
                map! {
                    "Name" => service_name.as_str(),
                    "Scope" => "REGIONAL",
                    "DefaultAction" => map! { "Allow" => map! {} },
                    "Rules" => rules,
                    "VisibilityConfig" => visibility(&service_name),
                    "Tags" => env_tags(id, e),
                },
            ),
        );
        t.resources.insert(
            "WebAclAssociation".into(),
            Resource::new(
                "AWS::WAFv2::WebACLAssociation",
                map! {
                    "ResourceArn" => get_att("Service", "ServiceArn"),
                    "WebACLArn" => get_att("WebAcl", "Arn"),
                },
            ),
        );
    }
    t
}

fn visibility(metric: &str) -> Value {
    map! {
        "CloudWatchMetricsEnabled" => true,
        "MetricName" => metric.replace('-', ""),
        "SampledRequestsEnabled" => true,
    }
    .into()
}
