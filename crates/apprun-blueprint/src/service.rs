//! The per-env, per-service stack: the App Runner service with its VPC
//! connector, and optionally private ingress and a WAF web ACL.

use std::collections::BTreeMap;

use apprun_config::{
    Config, Env, Health, Ingress, Names, SecretRef, SecretStore, Service, ServiceSettings,
    runtime_names,
};
use apprun_template::{
    Map, Output, Parameter, Resource, Template, Value, get_att, import, join, map, r#ref, sub,
};

use crate::iam::{ACCESS_ROLE_EXPORT, INSTANCE_ROLE_EXPORT};
use crate::network::REQUESTS_ENDPOINT_EXPORT;
use crate::network::subnet_imports;
use crate::outputs;
use crate::tags::env_tags;

/// The template parameter that pins the image tag.
pub const IMAGE_TAG_PARAMETER: &str = "ImageTag";

/// The service stack's output naming its custom domain (App Runner only).
pub const CUSTOM_DOMAIN_OUTPUT: &str = "CustomDomain";

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

/// `ENV` and `SYSTEM_ID`, then the service's own variables, sorted by name
/// (the config layer refuses a variable named like apprun's).
pub(crate) fn service_env_vars(
    system_id: &str,
    env: &str,
    vars: &BTreeMap<String, String>,
) -> Vec<Value> {
    let mut out = runtime_env_vars(system_id, env);
    out.extend(
        vars.iter()
            .map(|(k, v)| map! { "Name" => k.as_str(), "Value" => v.as_str() }.into()),
    );
    out
}

/// What the backend reads a secret from: its ARN (built in this account and
/// region from a name), with `:KEY::` for a JSON key (the ECS form: key,
/// then the default version stage and id).
pub(crate) fn secret_value_from(secret: &SecretRef) -> Value {
    let key = secret
        .key
        .as_ref()
        .map(|k| format!(":{k}::"))
        .unwrap_or_default();
    if secret.is_arn() {
        return Value::from(format!("{}{key}", secret.id));
    }
    match secret.store {
        SecretStore::Ssm => sub(format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}{key}",
            secret.id.trim_start_matches('/')
        )),
        SecretStore::SecretsManager => sub(format!(
            "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{}{key}",
            secret.id
        )),
    }
}

/// `[{Name, <value field>}]` for every secret, sorted by variable name:
/// `Value` for App Runner's RuntimeEnvironmentSecrets, `ValueFrom` for an
/// ECS container's Secrets.
fn secret_list(secrets: &BTreeMap<String, SecretRef>, field: &str) -> Vec<Value> {
    secrets
        .iter()
        .map(|(name, s)| {
            let mut m = map! { "Name" => name.as_str() };
            m.insert(field.into(), secret_value_from(s));
            m.into()
        })
        .collect()
}

/// An ECS container's `Secrets`.
pub(crate) fn container_secrets(secrets: &BTreeMap<String, SecretRef>) -> Vec<Value> {
    secret_list(secrets, "ValueFrom")
}

/// What `service` runs with in `env` (the config layer computes it for
/// every env and service; the service's own keys if it somehow did not).
pub(crate) fn settings(config: &Config, env: &Env, service: &Service) -> ServiceSettings {
    config
        .service_settings(&env.name, &service.name)
        .cloned()
        .unwrap_or_else(|| ServiceSettings {
            runtime: service.runtime.clone(),
            domain: None,
            app_runner_scaling: service.app_runner_scaling,
            scaling: service.scaling,
            tracing: service.tracing,
        })
}

/// The role a service with its own settings runs with, by ARN: it is
/// created in the IAM stack (see `iam::service_roles`), and named rather
/// than imported so that removing it (the service's last secret gone)
/// never blocks on an export still in use.
pub(crate) fn own_role_arn(system_id: &str, env: &str, service: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{}",
        runtime_names::service_role(system_id, env, service)
    ))
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
    add_configurations(&mut t, config, env, service);
    add_ingress(&mut t, config, env, &service_name);
    add_domain_output(&mut t, config, env, service);
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
    let s = settings(config, env, service);
    let mut resource = Resource::new(
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
                    "ImageConfiguration" => image_configuration(id, env, service, &s),
                },
            },
            "InstanceConfiguration" => map! {
                "Cpu" => env.cpu.to_string(),
                "Memory" => env.memory.to_string(),
                "InstanceRoleArn" => instance_role_arn(config, env, service),
            },
            "HealthCheckConfiguration" => health_check_configuration(&service.health),
            "NetworkConfiguration" => network_configuration(env),
            "Tags" => env_tags(id, &env.name),
        },
    );
    if s.app_runner_scaling.is_some() {
        resource.properties.insert(
            "AutoScalingConfigurationArn".into(),
            get_att(AUTO_SCALING, "AutoScalingConfigurationArn"),
        );
    }
    resource.properties.insert(
        "ObservabilityConfiguration".into(),
        observability_configuration(&s).into(),
    );
    resource
}

/// The container's port, variables and secrets.
fn image_configuration(id: &str, env: &Env, service: &Service, s: &ServiceSettings) -> Map {
    let mut image_configuration = map! {
        "Port" => service.port.to_string(),
        "RuntimeEnvironmentVariables" => service_env_vars(id, &env.name, &s.runtime.env),
    };
    if !s.runtime.secrets.is_empty() {
        image_configuration.insert(
            "RuntimeEnvironmentSecrets".into(),
            secret_list(&s.runtime.secrets, "Value").into(),
        );
    }
    image_configuration
}

/// The service's own role when it has one, else the account's shared one.
fn instance_role_arn(config: &Config, env: &Env, service: &Service) -> Value {
    let id = &config.system.id;
    if config.runs_with_own_role(&env.name, &service.name) {
        own_role_arn(id, &env.name, &service.name)
    } else {
        import(Names::new(id).account_export(INSTANCE_ROLE_EXPORT))
    }
}

fn health_check_configuration(h: &Health) -> Map {
    map! {
        "Protocol" => "HTTP",
        "Path" => h.path.as_str(),
        "Interval" => h.interval,
        "Timeout" => h.timeout,
        "HealthyThreshold" => h.healthy,
        "UnhealthyThreshold" => h.unhealthy,
    }
}

/// Egress through the env's VPC connector; ingress public or private.
fn network_configuration(env: &Env) -> Map {
    map! {
        "EgressConfiguration" => map! {
            "EgressType" => "VPC",
            "VpcConnectorArn" => get_att("VpcConnector", "VpcConnectorArn"),
        },
        "IngressConfiguration" => map! {
            "IsPubliclyAccessible" => env.ingress == Ingress::Public,
        },
    }
}

/// Always stated, `false` without tracing: App Runner's UpdateService
/// changes only the fields it is given, so leaving the property out after
/// tracing was on could leave tracing on.
fn observability_configuration(s: &ServiceSettings) -> Map {
    if s.tracing {
        map! {
            "ObservabilityEnabled" => true,
            "ObservabilityConfigurationArn" => get_att(OBSERVABILITY, "ObservabilityConfigurationArn"),
        }
    } else {
        map! { "ObservabilityEnabled" => false }
    }
}

/// Logical ids of the service's App Runner configurations.
const AUTO_SCALING: &str = "AutoScaling";
const OBSERVABILITY: &str = "Observability";

/// The service's auto scaling configuration (when its keys ask for one) and
/// its observability configuration with X-Ray tracing (`tracing = true`),
/// per env and service: `${id}-${env}-${service}`, a name App Runner keeps
/// across revisions (each change of these create-only properties replaces
/// the resource with a new revision).
fn add_configurations(t: &mut Template, config: &Config, env: &Env, service: &Service) {
    let id = &config.system.id;
    let s = settings(config, env, service);
    let name = runtime_names::app_runner_configuration(id, &env.name, &service.name);
    if let Some(a) = s.app_runner_scaling {
        t.resources.insert(
            AUTO_SCALING.into(),
            Resource::new(
                "AWS::AppRunner::AutoScalingConfiguration",
                map! {
                    "AutoScalingConfigurationName" => name.as_str(),
                    "MinSize" => a.min_instances,
                    "MaxSize" => a.max_instances,
                    "MaxConcurrency" => a.max_concurrency,
                    "Tags" => env_tags(id, &env.name),
                },
            ),
        );
    }
    if s.tracing {
        t.resources.insert(
            OBSERVABILITY.into(),
            Resource::new(
                "AWS::AppRunner::ObservabilityConfiguration",
                map! {
                    "ObservabilityConfigurationName" => name.as_str(),
                    "TraceConfiguration" => map! { "Vendor" => "AWSXRAY" },
                    "Tags" => env_tags(id, &env.name),
                },
            ),
        );
    }
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

/// The custom domain apprun associates with the service after the stack
/// deploys (CloudFormation has no resource for it): an output, not exported,
/// so that the domain step reads from the deployed stack which domain the
/// service is meant to have.
fn add_domain_output(t: &mut Template, config: &Config, env: &Env, service: &Service) {
    if let Some(domain) = settings(config, env, service).domain {
        t.outputs.insert(
            CUSTOM_DOMAIN_OUTPUT.into(),
            Output::new(
                "Custom domain apprun associates with the service",
                Value::from(domain.name),
            ),
        );
    }
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
