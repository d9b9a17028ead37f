//! The per-env, per-service stack: the App Runner service with its VPC
//! connector, and optionally private ingress and a WAF web ACL.

use apprun_config::{Config, Env, Ingress, Names, Service};
use apprun_template::{
    Output, Parameter, Resource, Template, Value, get_att, import, join, map, r#ref, sub,
};

use crate::iam::{ACCESS_ROLE_EXPORT, INSTANCE_ROLE_EXPORT};
use crate::network::REQUESTS_ENDPOINT_EXPORT;
use crate::network::subnet_imports;
use crate::outputs;
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

/// What every service template starts from, on any backend: its
/// description and the image tag parameter.
pub(crate) fn service_shell(config: &Config, env: &Env, service: &Service, on: &str) -> Template {
    let mut t = Template {
        description: Some(format!(
            "{} {}: service {} on {on} (apprun)",
            config.system.id, env.name, service.name
        )),
        ..Template::default()
    };
    t.parameters
        .insert(IMAGE_TAG_PARAMETER.into(), image_tag_parameter());
    t
}

/// The image a service runs, on any backend: its ECR repository (imported
/// from the repository stack) at the `ImageTag` parameter.
pub(crate) fn image_uri(config: &Config, env: &Env, service: &Service) -> Value {
    let names = Names::new(&config.system.id);
    let primary = config.is_primary(&service.name);
    join(
        ":",
        vec![
            import(names.ecr_export(&env.name, &service.name, primary, "EcrRepositoryUri")),
            r#ref(IMAGE_TAG_PARAMETER),
        ],
    )
}

pub(crate) fn template(config: &Config, env: &Env, service: &Service) -> Template {
    let names = Names::new(&config.system.id);
    let service_name = names.apprunner_service(&env.name, &service.name);
    let mut t = service_shell(config, env, service, "App Runner");
    t.resources.insert(
        "VpcConnector".into(),
        vpc_connector(config, env, &service_name),
    );
    t.resources.insert(
        "Service".into(),
        app_runner_service(config, env, service, &service_name),
    );
    t.outputs.insert(
        outputs::SERVICE_ARN.into(),
        Output::new("App Runner service ARN", get_att("Service", "ServiceArn")),
    );
    t.outputs.insert(
        "ServiceId".into(),
        Output::new("App Runner service id", get_att("Service", "ServiceId")),
    );
    add_ingress(&mut t, config, env, &service_name);
    if env.waf {
        add_waf(&mut t, config, env, &service_name);
    }
    t
}

/// The connector spans the protect subnet of every configured zone.
fn vpc_connector(config: &Config, env: &Env, service_name: &str) -> Resource {
    let id = &config.system.id;
    let names = Names::new(id);
    Resource::new(
        "AWS::AppRunner::VpcConnector",
        map! {
            "VpcConnectorName" => service_name,
            "Subnets" => subnet_imports(&names, env, apprun_config::Tier::Protect),
            "SecurityGroups" => vec![import(names.env_export(&env.name, "ProtectSecurityGroup"))],
            "Tags" => env_tags(id, &env.name),
        },
    )
}

fn app_runner_service(
    config: &Config,
    env: &Env,
    service: &Service,
    service_name: &str,
) -> Resource {
    let id = &config.system.id;
    let names = Names::new(id);
    let h = &service.health;
    Resource::new(
        "AWS::AppRunner::Service",
        map! {
            "ServiceName" => service_name,
            "SourceConfiguration" => map! {
                "AuthenticationConfiguration" => map! {
                    "AccessRoleArn" => import(names.account_export(ACCESS_ROLE_EXPORT)),
                },
                "AutoDeploymentsEnabled" => false,
                "ImageRepository" => map! {
                    "ImageIdentifier" => image_uri(config, env, service),
                    "ImageRepositoryType" => "ECR",
                    "ImageConfiguration" => map! {
                        "Port" => service.port.to_string(),
                        "RuntimeEnvironmentVariables" => runtime_env_vars(id, &env.name),
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
            "Tags" => env_tags(id, &env.name),
        },
    )
}

/// The URL output, and for private ingress the connection to the VPC's
/// App Runner requests endpoint it is reached through.
fn add_ingress(t: &mut Template, config: &Config, env: &Env, service_name: &str) {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let url = match env.ingress {
        Ingress::Public => Output::new(
            "Public URL of the service",
            sub("https://${Service.ServiceUrl}"),
        ),
        Ingress::Private => {
            t.resources.insert(
                "VpcIngressConnection".into(),
                Resource::new(
                    "AWS::AppRunner::VpcIngressConnection",
                    map! {
                        "VpcIngressConnectionName" => service_name,
                        "ServiceArn" => get_att("Service", "ServiceArn"),
                        "IngressVpcConfiguration" => map! {
                            "VpcId" => import(names.env_export(e, "VPC")),
                            "VpcEndpointId" => import(names.env_export(e, REQUESTS_ENDPOINT_EXPORT)),
                        },
                        "Tags" => env_tags(id, e),
                    },
                ),
            );
            Output::new(
                "Private URL of the service (reachable from the VPC only)",
                sub("https://${VpcIngressConnection.DomainName}"),
            )
        }
    };
    t.outputs.insert(outputs::SERVICE_URL.into(), url);
}

/// A regional web ACL with AWS's managed rule groups, attached to the service.
fn add_waf(t: &mut Template, config: &Config, env: &Env, service_name: &str) {
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
                "Name" => service_name,
                "Scope" => "REGIONAL",
                "DefaultAction" => map! { "Allow" => map! {} },
                "Rules" => rules,
                "VisibilityConfig" => visibility(service_name),
                "Tags" => env_tags(&config.system.id, &env.name),
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

fn visibility(metric: &str) -> Value {
    map! {
        "CloudWatchMetricsEnabled" => true,
        "MetricName" => metric.replace('-', ""),
        "SampledRequestsEnabled" => true,
    }
    .into()
}
