//! The service stack on Amazon ECS Express Mode (`AWS::ECS::ExpressGatewayService`).
//!
//! Express Mode creates the load balancer, target groups and scaling itself
//! from one subnet list. Tier mapping (see README): with public ingress the
//! service gets the public subnets and the Public security group (an
//! internet-facing load balancer; the Public group already admits 80/443
//! from anywhere and all TCP between the public subnets, which carries the
//! balancer-to-task traffic); with private ingress it gets the protect
//! subnets and the Protect security group (an internal load balancer, tasks
//! leaving through the NAT gateways, as App Runner's VPC connector does).

use apprun_config::{Config, Env, Ingress, Names, Service, Tier};
use apprun_template::{Output, Resource, Template, Value, import, join, map, r#ref, sub};

use crate::iam::{ECS_EXECUTION_ROLE_EXPORT, ECS_INFRASTRUCTURE_ROLE_EXPORT, ECS_TASK_ROLE_EXPORT};
use crate::service::{IMAGE_TAG_PARAMETER, image_tag_parameter, runtime_env_vars};
use crate::tags::env_tags;

/// Days the service's logs are kept.
const LOG_RETENTION_DAYS: i64 = 30;

pub(crate) fn template(config: &Config, env: &Env, service: &Service) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let s = &service.name;
    let primary = config.is_primary(s);
    let mut t = Template {
        description: Some(format!(
            "{id} {e}: service {s} on ECS Express Mode (apprun)"
        )),
        ..Template::default()
    };
    t.parameters
        .insert(IMAGE_TAG_PARAMETER.into(), image_tag_parameter());

    let (tier, group) = match env.ingress {
        Ingress::Public => (Tier::Public, "PublicSecurityGroup"),
        Ingress::Private => (Tier::Protect, "ProtectSecurityGroup"),
    };
    let subnets: Vec<Value> = env
        .subnets
        .tier(tier)
        .map(|sn| import(names.env_export(e, &sn.logical_id())))
        .collect();
    let mut logs = Resource::new(
        "AWS::Logs::LogGroup",
        map! {
            "LogGroupName" => format!("/apprun/{id}/{e}/{s}"),
            "RetentionInDays" => LOG_RETENTION_DAYS,
            "Tags" => env_tags(id, e),
        },
    );
    // Stated, not defaulted: the logs go with the service when it is removed.
    logs.deletion_policy = Some("Delete".into());
    logs.update_replace_policy = Some("Delete".into());
    t.resources.insert("LogGroup".into(), logs);
    let env_vars = runtime_env_vars(id, e);
    let scaling = &service.scaling;
    t.resources.insert(
        "Service".into(),
        Resource::new(
            "AWS::ECS::ExpressGatewayService",
            map! {
                "ServiceName" => names.apprunner_service(e, s),
                "ExecutionRoleArn" => import(names.account_export(ECS_EXECUTION_ROLE_EXPORT)),
                "InfrastructureRoleArn" => import(names.account_export(ECS_INFRASTRUCTURE_ROLE_EXPORT)),
                "TaskRoleArn" => import(names.account_export(ECS_TASK_ROLE_EXPORT)),
                // ECS units: 1024 per vCPU, MiB.
                "Cpu" => env.cpu.0.to_string(),
                "Memory" => env.memory.0.to_string(),
                "HealthCheckPath" => service.health.path.as_str(),
                "PrimaryContainer" => map! {
                    "Image" => join(":", vec![import(names.ecr_export(e, s, primary, "EcrRepositoryUri")), r#ref(IMAGE_TAG_PARAMETER)]),
                    "ContainerPort" => service.port,
                    "Environment" => env_vars,
                    "AwsLogsConfiguration" => map! { "LogGroup" => r#ref("LogGroup"), "LogStreamPrefix" => s.as_str() },
                },
                "NetworkConfiguration" => map! {
                    "Subnets" => subnets,
                    "SecurityGroups" => vec![import(names.env_export(e, group))],
                },
                "ScalingTarget" => map! {
                    "MinTaskCount" => scaling.min_tasks,
                    "MaxTaskCount" => scaling.max_tasks,
                    "AutoScalingMetric" => scaling.on.metric(),
                    "AutoScalingTargetValue" => scaling.target,
                },
                "Tags" => env_tags(id, e),
            },
        ),
    );
    t.outputs.insert(
        "ServiceArn".into(),
        Output::new(
            "ECS Express service ARN",
            apprun_template::get_att("Service", "ServiceArn"),
        ),
    );
    t.outputs.insert(
        "ServiceUrl".into(),
        Output::new(
            "URL of the service's load balancer endpoint",
            sub("https://${Service.Endpoint}"),
        ),
    );
    t
}
