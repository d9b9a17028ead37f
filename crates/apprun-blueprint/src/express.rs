//! The service stack on Amazon ECS Express Mode (`AWS::ECS::ExpressGatewayService`).
//!
//! Express Mode creates the load balancer, target groups and scaling itself
//! from one subnet list (`NetworkConfiguration.Subnets`, the tasks' subnets;
//! no separate load-balancer placement, no `assignPublicIp`). It makes the
//! load balancer internet-facing in public subnets (ECS developer guide,
//! "Create your first Express Mode service": by default an internet-facing
//! load balancer in the default VPC's public subnets). Tier mapping (see
//! README):
//!
//! - public ingress: the public subnets, the Public security group (it
//!   admits 80/443 from anywhere and all TCP between the public subnets,
//!   which carries the balancer-to-task traffic) and the network stack's
//!   `EcsTaskSecurityGroup`. The tasks get no public IP there (the Express
//!   API cannot ask for one; AWS's own Aspire integration,
//!   aws/integrations-on-dotnet-aspire-for-aws#200, reports Express tasks
//!   in public subnets failing to pull images for that reason), and the
//!   public subnets route to the internet gateway, not through NAT. So the
//!   network stack adds VPC endpoints: ECR (api, dkr) and CloudWatch Logs as
//!   interface endpoints in the protect subnets (the reference's Public
//!   rules already allow tcp 443 to the protect subnets and the Protect
//!   group admits it), S3 (image layers) and DynamoDB as gateway endpoints
//!   on the public route table, reached through `EcsTaskSecurityGroup`'s
//!   tcp 443 egress. The reference's rules are unchanged; App Runner never
//!   uses the new group.
//! - private ingress: the protect subnets and the Protect security group
//!   (an internal load balancer, tasks leaving through the NAT gateways, as
//!   App Runner's VPC connector does; the Protect group allows tcp 443 to
//!   the internet).
//!
//! WAF: an Express service's load balancer is shared by up to 25 services
//! and managed by ECS, so a web ACL on it would filter other services'
//! traffic too. apprun does not synthesize one: the config layer refuses
//! `waf = true` for an env with an ECS Express service, so nothing here
//! reads `env.waf`.

use apprun_config::{Config, Env, Ingress, Names, Service, ServiceSettings, Tier};
use apprun_template::{Map, Output, Resource, Template, Value, import, map, r#ref, sub};

use crate::iam::{ECS_EXECUTION_ROLE_EXPORT, ECS_INFRASTRUCTURE_ROLE_EXPORT, ECS_TASK_ROLE_EXPORT};
use crate::network::ECS_TASK_SG_EXPORT;
use crate::network::subnet_imports;
use crate::outputs;
use crate::service::{
    container_secrets, image_uri, own_role_arn, service_env_vars, service_shell, settings,
};
use crate::tags::env_tags;

/// Days the service's logs are kept.
const LOG_RETENTION_DAYS: i64 = 30;

pub(crate) fn template(config: &Config, env: &Env, service: &Service) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let mut t = service_shell(config, env, service, "ECS Express Mode");
    t.resources
        .insert("LogGroup".into(), log_group(config, env, service));
    let settings = settings(config, env, service);
    t.resources.insert(
        "Service".into(),
        Resource::new(
            "AWS::ECS::ExpressGatewayService",
            map! {
                "ServiceName" => names.ecs_service(e, &service.name),
                "ExecutionRoleArn" => execution_role_arn(config, env, service),
                "InfrastructureRoleArn" => import(names.account_export(ECS_INFRASTRUCTURE_ROLE_EXPORT)),
                "TaskRoleArn" => import(names.account_export(ECS_TASK_ROLE_EXPORT)),
                // ECS units: 1024 per vCPU, MiB.
                "Cpu" => env.cpu.0.to_string(),
                "Memory" => env.memory.0.to_string(),
                "HealthCheckPath" => service.health.path.as_str(),
                "PrimaryContainer" => primary_container(config, env, service, &settings),
                "NetworkConfiguration" => network_configuration(&names, env),
                "ScalingTarget" => scaling_target(&settings),
                "Tags" => env_tags(id, e),
            },
        ),
    );
    add_service_outputs(&mut t);
    t
}

/// The tasks' subnets and security groups for the env's ingress (see the
/// tier mapping above).
fn network_configuration(names: &Names, env: &Env) -> Map {
    let (tier, groups) = match env.ingress {
        Ingress::Public => (
            Tier::Public,
            vec!["PublicSecurityGroup", ECS_TASK_SG_EXPORT],
        ),
        Ingress::Private => (Tier::Protect, vec!["ProtectSecurityGroup"]),
    };
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|g| import(names.env_export(&env.name, g)))
        .collect();
    map! {
        "Subnets" => subnet_imports(names, env, tier),
        "SecurityGroups" => groups,
    }
}

/// A service with secrets (in an env of this account) pulls them with a
/// role of its own; the others share the account's execution role.
fn execution_role_arn(config: &Config, env: &Env, service: &Service) -> Value {
    let (id, e, s) = (&config.system.id, &env.name, &service.name);
    if config.runs_with_own_role(e, s) {
        own_role_arn(id, e, s)
    } else {
        import(Names::new(id).account_export(ECS_EXECUTION_ROLE_EXPORT))
    }
}

/// The container: image, port, variables, logs and secrets.
fn primary_container(
    config: &Config,
    env: &Env,
    service: &Service,
    settings: &ServiceSettings,
) -> Map {
    let mut container = map! {
        "Image" => image_uri(config, env, service),
        "ContainerPort" => service.port,
        "Environment" => service_env_vars(&config.system.id, &env.name, &settings.runtime.env),
        "AwsLogsConfiguration" => map! { "LogGroup" => r#ref("LogGroup"), "LogStreamPrefix" => service.name.as_str() },
    };
    if !settings.runtime.secrets.is_empty() {
        container.insert(
            "Secrets".into(),
            container_secrets(&settings.runtime.secrets).into(),
        );
    }
    container
}

fn scaling_target(settings: &ServiceSettings) -> Map {
    let scaling = &settings.scaling;
    map! {
        "MinTaskCount" => scaling.min_tasks,
        "MaxTaskCount" => scaling.max_tasks,
        "AutoScalingMetric" => scaling.on.metric(),
        "AutoScalingTargetValue" => scaling.target,
    }
}

fn add_service_outputs(t: &mut Template) {
    t.outputs.insert(
        outputs::SERVICE_ARN.into(),
        Output::new(
            "ECS Express service ARN",
            apprun_template::get_att("Service", "ServiceArn"),
        ),
    );
    t.outputs.insert(
        outputs::SERVICE_URL.into(),
        Output::new(
            "URL of the service's load balancer endpoint",
            sub("https://${Service.Endpoint}"),
        ),
    );
}

/// The service's log group, `/apprun/<system>/<env>/<service>`.
fn log_group(config: &Config, env: &Env, service: &Service) -> Resource {
    let (id, e, s) = (&config.system.id, &env.name, &service.name);
    let mut logs = Resource::new(
        "AWS::Logs::LogGroup",
        map! {
            "LogGroupName" => format!("/apprun/{id}/{e}/{s}"),
            "RetentionInDays" => LOG_RETENTION_DAYS,
            "Tags" => env_tags(id, e),
        },
    );
    // Stated, not defaulted: the logs go with the service when it is removed.
    logs.attributes_mut().deletion_policy = Some("Delete".into());
    logs.attributes_mut().update_replace_policy = Some("Delete".into());
    logs
}
