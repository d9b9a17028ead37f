//! The permission proof (APR-PERM-001 cannot, APR-PERM-002 cannot prove,
//! APR-PERM-003 not trusted): each defect of issue 9 on a small hand-made
//! set of templates, with and without the grant that fixes it, and the
//! stacks synthesized from the shipped configs.

use std::path::Path;

use apprun_blueprint::synthesize;
use apprun_check::{Context, Finding, Input, Severity, check, check_env};
use apprun_config::Config;
use apprun_template::parse_template;

/// A pipeline whose CloudFormation action deploys stack `app` with
/// `DeployRole`, which holds `STATEMENTS`.
const PIPELINE: &str = r#"
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: deployer
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: [cloudformation.amazonaws.com, codepipeline.amazonaws.com]}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Version: '2012-10-17'
            Statement: STATEMENTS
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: pipe
      RoleArn: !GetAtt DeployRole.Arn
      ArtifactStore: {Type: S3, Location: pipe-artifacts}
      Stages:
        - Name: Deploy
          Actions:
            - Name: Deploy
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: '1'}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: app
                TemplatePath: Build::app.yaml
                RoleArn: !GetAtt DeployRole.Arn
"#;

/// The roles the deployed stacks use, in a stack of their own (deployed
/// by hand, not by the pipeline).
const ROLES: &str = r#"
Resources:
  Access:
    Type: AWS::IAM::Role
    Properties:
      RoleName: access
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: build.apprunner.amazonaws.com}, Action: sts:AssumeRole}]
  Execution:
    Type: AWS::IAM::Role
    Properties:
      RoleName: execution
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]
  Infrastructure:
    Type: AWS::IAM::Role
    Properties:
      RoleName: infrastructure
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: ecs.amazonaws.com}, Action: sts:AssumeRole}]
Outputs:
  Access:
    Value: !GetAtt Access.Arn
    Export: {Name: access-role}
  Execution:
    Value: !GetAtt Execution.Arn
    Export: {Name: execution-role}
  Infrastructure:
    Value: !GetAtt Infrastructure.Arn
    Export: {Name: infrastructure-role}
"#;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";

fn ctx() -> Context {
    Context {
        region: Some(REGION.into()),
        account: Some(ACCOUNT.into()),
        ..Context::default()
    }
}

/// Checks the pipeline (with `statements` as YAML flow text) and the stack
/// it deploys; returns the CloudFormation actor's permission findings.
fn deploy_findings(statements: &str, app: &str) -> Vec<Finding> {
    let pipeline = PIPELINE.replace("STATEMENTS", statements);
    let a = parse_template(&pipeline).unwrap();
    let b = parse_template(app).unwrap();
    let c = parse_template(ROLES).unwrap();
    let inputs = [
        Input {
            file: "pipeline.yaml".into(),
            stack: Some("pipe".into()),
            template: &a,
            text: Some(pipeline.clone()),
        },
        Input {
            file: "app.yaml".into(),
            stack: Some("app".into()),
            template: &b,
            text: Some(app.to_owned()),
        },
        Input {
            file: "roles.yaml".into(),
            stack: Some("roles".into()),
            template: &c,
            text: Some(ROLES.to_owned()),
        },
    ];
    check(&inputs, &ctx(), None)
        .findings
        .into_iter()
        .filter(|f| {
            f.rule.starts_with("APR-PERM") && f.message.contains("CloudFormation (deploying app)")
        })
        .collect()
}

fn errors_naming<'a>(findings: &'a [Finding], action: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.rule == "APR-PERM-001" && f.message.contains(&format!(" {action} on ")))
        .collect()
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

const APPRUNNER: &str = r#"
Resources:
  Service:
    Type: AWS::AppRunner::Service
    Properties:
      ServiceName: web
      SourceConfiguration:
        AuthenticationConfiguration: {AccessRoleArn: !ImportValue access-role}
        ImageRepository:
          ImageIdentifier: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:abc1234
          ImageRepositoryType: ECR
"#;

/// Everything App Runner's handlers need, except what a test leaves out.
fn apprunner_grants(pass_values: &str, logs_and_events: bool) -> String {
    let mut s = format!(
        "[{{Effect: Allow, Action: ['apprunner:*'], Resource: ['arn:aws:apprunner:{REGION}:{ACCOUNT}:*']}}, \
         {{Effect: Allow, Action: [iam:PassRole], Resource: ['{}'], Condition: {{StringEquals: {{iam:PassedToService: [{pass_values}]}}}}}}, \
         {{Effect: Allow, Action: [iam:CreateServiceLinkedRole], Resource: ['arn:aws:iam::{ACCOUNT}:role/aws-service-role/apprunner.amazonaws.com/*'], Condition: {{StringEquals: {{iam:AWSServiceName: apprunner.amazonaws.com}}}}}}",
        role("access")
    );
    if logs_and_events {
        s.push_str(&format!(
            ", {{Effect: Allow, Action: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: ['arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apprunner/web/*']}}, \
             {{Effect: Allow, Action: ['events:PutRule', 'events:PutTargets'], Resource: ['arn:aws:events:{REGION}:{ACCOUNT}:rule/*']}}"
        ));
    }
    s.push(']');
    s
}

#[test]
fn passed_to_service_must_allow_every_value_app_runner_uses() {
    // apprunner.amazonaws.com alone (as AppRunnerFullAccess has it) is not enough.
    let f = deploy_findings(
        &apprunner_grants("apprunner.amazonaws.com", true),
        APPRUNNER,
    );
    let pass = errors_naming(&f, "iam:PassRole");
    assert!(
        pass.iter().any(|f| f
            .message
            .contains("iam:passedtoservice=bullet.amazonaws.com")),
        "{f:#?}"
    );
    assert!(
        pass.iter()
            .all(|f| f.logical_id == "DeployRole" && &*f.file == "pipeline.yaml")
    );
    let f = deploy_findings(
        &apprunner_grants("apprunner.amazonaws.com, bullet.amazonaws.com", true),
        APPRUNNER,
    );
    assert!(errors_naming(&f, "iam:PassRole").is_empty(), "{f:#?}");
    assert!(f.iter().all(|f| f.rule != "APR-PERM-001"), "{f:#?}");
}

#[test]
fn app_runner_create_handler_needs_logs_and_events() {
    let f = deploy_findings(
        &apprunner_grants("apprunner.amazonaws.com, bullet.amazonaws.com", false),
        APPRUNNER,
    );
    for action in [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "events:PutRule",
        "events:PutTargets",
    ] {
        let e = errors_naming(&f, action);
        assert!(!e.is_empty(), "{action}: {f:#?}");
        assert!(
            e[0].message
                .contains("Service's create handler in stack app"),
            "{}",
            e[0].message
        );
    }
}

#[test]
fn associate_web_acl_needs_the_web_acl_as_well_as_the_service() {
    let app = format!(
        "{APPRUNNER}
  Acl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Name: web
      Scope: REGIONAL
      DefaultAction: {{Allow: {{}}}}
      VisibilityConfig: {{CloudWatchMetricsEnabled: true, MetricName: web, SampledRequestsEnabled: true}}
  Association:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: !GetAtt Service.ServiceArn
      WebACLArn: !GetAtt Acl.Arn
"
    );
    let waf = format!(
        "{{Effect: Allow, Action: ['wafv2:*'], Resource: ['arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/*', 'arn:aws:apprunner:{REGION}:{ACCOUNT}:service/web/*']}}"
    );
    let base = apprunner_grants("apprunner.amazonaws.com, bullet.amazonaws.com", true);
    // The role grants AssociateWebAcl on the service only (apprunner:* above).
    let on_service_only = format!("{}, {waf}]", base.trim_end_matches(']'));
    let f = deploy_findings(&on_service_only, &app);
    let e = errors_naming(&f, "apprunner:AssociateWebAcl");
    assert!(
        e.iter().any(|f| f.message.contains(&format!(
            "arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/web/*"
        )) && f.message.contains("Association's create handler")),
        "{f:#?}"
    );
    let on_both = format!(
        "{}, {waf}, {{Effect: Allow, Action: [apprunner:AssociateWebAcl, apprunner:DisassociateWebAcl, apprunner:DescribeWebAclForService], Resource: ['arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/web/*']}}]",
        base.trim_end_matches(']')
    );
    let f = deploy_findings(&on_both, &app);
    assert!(
        errors_naming(&f, "apprunner:AssociateWebAcl").is_empty(),
        "{f:#?}"
    );
}

const ECS: &str = r#"
Resources:
  Service:
    Type: AWS::ECS::ExpressGatewayService
    Properties:
      ServiceName: web
      ExecutionRoleArn: !ImportValue execution-role
      InfrastructureRoleArn: !ImportValue infrastructure-role
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:abc1234
"#;

fn ecs_grants(extra: &str) -> String {
    format!(
        "[{{Effect: Allow, Action: [ecs:CreateExpressGatewayService, ecs:UpdateExpressGatewayService, ecs:DeleteExpressGatewayService, ecs:DescribeExpressGatewayService, ecs:DescribeServices, ecs:TagResource, ecs:UntagResource, ecs:ListTagsForResource, ecs:ListServiceDeployments], Resource: ['arn:aws:ecs:{REGION}:{ACCOUNT}:service/default/web']}}, \
          {{Effect: Allow, Action: [ecs:DescribeServiceDeployments, ecs:DescribeServiceRevisions], Resource: ['arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/default/web/*', 'arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/default/web/*']}}, \
          {{Effect: Allow, Action: [ecs:DescribeTaskDefinition], Resource: '*'}}{extra}]"
    )
}

#[test]
fn ecs_express_needs_its_dependent_actions_and_handler_permissions() {
    let f = deploy_findings(&ecs_grants(""), ECS);
    let dependent = errors_naming(&f, "ecs:RegisterTaskDefinition");
    assert!(
        dependent.iter().any(|f| f
            .message
            .contains("dependent action of ecs:CreateExpressGatewayService")),
        "{f:#?}"
    );
    assert!(!errors_naming(&f, "iam:PassRole").is_empty(), "{f:#?}");
    assert!(!errors_naming(&f, "ecs:CreateCluster").is_empty(), "{f:#?}");
    // DescribeServiceDeployments needs the service too, not only the deployment.
    let describe = errors_naming(&f, "ecs:DescribeServiceDeployments");
    assert!(
        describe.iter().any(|f| f.message.contains(&format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:service/default/web:"
        ))),
        "{f:#?}"
    );
    let fixed = ecs_grants(&format!(
        ", {{Effect: Allow, Action: [ecs:RegisterTaskDefinition], Resource: ['arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/*']}}, \
           {{Effect: Allow, Action: [ecs:CreateCluster], Resource: ['arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/default']}}, \
           {{Effect: Allow, Action: [ecs:DescribeServiceDeployments, ecs:DescribeServiceRevisions], Resource: ['arn:aws:ecs:{REGION}:{ACCOUNT}:service/default/web']}}, \
           {{Effect: Allow, Action: [iam:PassRole], Resource: ['{}', '{}'], Condition: {{StringEquals: {{iam:PassedToService: [ecs.amazonaws.com, ecs-tasks.amazonaws.com]}}}}}}",
        role("execution"),
        role("infrastructure")
    ));
    let f = deploy_findings(&fixed, ECS);
    let errors: Vec<&Finding> = f.iter().filter(|f| f.rule == "APR-PERM-001").collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn get_role_under_a_passed_to_service_condition_is_never_allowed() {
    let app = r#"
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: web
      ExecutionRoleArn: !ImportValue execution-role
"#;
    let grants = |get_role_apart: bool| {
        let condition = "Condition: {StringEquals: {iam:PassedToService: ecs-tasks.amazonaws.com}}";
        let mut s = format!(
            "[{{Effect: Allow, Action: ['ecs:*'], Resource: '*'}}, {{Effect: Allow, Action: [iam:PassRole{}], Resource: ['{}'], {condition}}}",
            if get_role_apart { "" } else { ", iam:GetRole" },
            role("execution")
        );
        if get_role_apart {
            s.push_str(&format!(
                ", {{Effect: Allow, Action: [iam:GetRole], Resource: ['{}']}}",
                role("execution")
            ));
        }
        s.push(']');
        s
    };
    let f = deploy_findings(&grants(false), app);
    let e = errors_naming(&f, "iam:GetRole");
    assert!(!e.is_empty(), "{f:#?}");
    assert!(errors_naming(&f, "iam:PassRole").is_empty(), "{f:#?}");
    let f = deploy_findings(&grants(true), app);
    assert!(errors_naming(&f, "iam:GetRole").is_empty(), "{f:#?}");
}

#[test]
fn a_role_must_trust_every_actor_that_uses_it() {
    let app = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
    let pipeline = PIPELINE
        .replace(
            "[cloudformation.amazonaws.com, codepipeline.amazonaws.com]",
            "[codepipeline.amazonaws.com]",
        )
        .replace(
            "STATEMENTS",
            "[{Effect: Allow, Action: 'sns:*', Resource: '*'}]",
        );
    let a = parse_template(&pipeline).unwrap();
    let b = parse_template(app).unwrap();
    let inputs = [
        Input {
            file: "pipeline.yaml".into(),
            stack: Some("pipe".into()),
            template: &a,
            text: Some(pipeline.clone()),
        },
        Input {
            file: "app.yaml".into(),
            stack: Some("app".into()),
            template: &b,
            text: None,
        },
    ];
    let r = check(&inputs, &ctx(), None);
    let trust: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "APR-PERM-003")
        .collect();
    assert_eq!(trust.len(), 1, "{:#?}", r.findings);
    assert_eq!(trust[0].logical_id, "DeployRole");
    assert_eq!(trust[0].severity, Severity::Error);
    assert!(
        trust[0]
            .message
            .contains("does not trust cloudformation.amazonaws.com")
    );
    assert!(
        trust[0].line.is_some(),
        "the finding points at the trust policy's line"
    );
}

#[test]
fn an_explicit_deny_wins_and_is_named() {
    let grants = format!(
        "{}, {{Effect: Deny, Action: ['events:Put*'], Resource: '*'}}]",
        apprunner_grants("apprunner.amazonaws.com, bullet.amazonaws.com", true)
            .trim_end_matches(']')
    );
    let f = deploy_findings(&grants, APPRUNNER);
    let e = errors_naming(&f, "events:PutRule");
    assert!(
        e.iter().any(|f| f
            .message
            .contains("explicitly denied by DeployRole policy deploy statement #6")),
        "{f:#?}"
    );
}

#[test]
fn an_unknown_condition_value_is_a_warning_not_an_error() {
    // iam:AWSServiceName for a type apprun has no service-linked role for.
    let app = r#"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: t
"#;
    let grants = format!(
        "[{{Effect: Allow, Action: ['sns:*'], Resource: ['arn:aws:sns:{REGION}:{ACCOUNT}:t']}}, {{Effect: Allow, Action: ['iam:*'], Resource: '*', Condition: {{StringEquals: {{aws:RequestTag/team: blue}}}}}}]"
    );
    let f = deploy_findings(&grants, app);
    assert!(
        f.iter()
            .all(|f| f.rule != "APR-PERM-001" || !f.message.contains(" iam:")),
        "{f:#?}"
    );
}

fn config(rel: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    Config::load(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The permission findings of every env of the shipped config and the fixtures.
fn shipped_findings() -> Vec<(String, Finding)> {
    let mut out = Vec::new();
    for rel in [
        "apprun.toml",
        "fixtures/express.toml",
        "fixtures/shop-api.toml",
        "fixtures/runtime.toml",
        "crates/apprun-blueprint/tests/fixtures/jobs.toml",
    ] {
        let cfg = config(rel);
        for env in cfg.envs.keys() {
            let bp = synthesize(&cfg, env).unwrap();
            for f in check_env(&cfg, &bp, None).findings {
                if f.rule.starts_with("APR-PERM") {
                    out.push((format!("{rel} {env}"), f));
                }
            }
        }
    }
    out
}

#[test]
fn every_env_of_the_shipped_configs_proves_its_permissions() {
    let errors: Vec<String> = shipped_findings()
        .into_iter()
        .filter(|(_, f)| f.is_error())
        .map(|(env, f)| format!("{env}: {} {}: {}", f.rule, f.file, f.message))
        .collect();
    assert!(
        errors.is_empty(),
        "{} errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn the_proof_names_file_line_and_role_of_each_finding() {
    for (env, f) in shipped_findings() {
        assert!(!f.logical_id.is_empty(), "{env}: {f:?}");
        assert!(f.line.is_some(), "{env}: {f:?}");
        assert!(f.stack.is_some(), "{env}: {f:?}");
    }
}

/// A service that reads secrets and traces, with its roles in the same
/// template; `GRANTS` is the instance role's and the execution role's
/// statements (YAML flow text).
const RUNNING: &str = r#"
Resources:
  Instance:
    Type: AWS::IAM::Role
    Properties:
      RoleName: web-run
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: tasks.apprunner.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: own
          PolicyDocument: {Version: '2012-10-17', Statement: GRANTS}
  Execution:
    Type: AWS::IAM::Role
    Properties:
      RoleName: api-run
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [!Sub 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy']
      Policies:
        - PolicyName: own
          PolicyDocument: {Version: '2012-10-17', Statement: GRANTS}
  Tracing:
    Type: AWS::AppRunner::ObservabilityConfiguration
    Properties:
      ObservabilityConfigurationName: web
      TraceConfiguration: {Vendor: AWSXRAY}
  Web:
    Type: AWS::AppRunner::Service
    Properties:
      ServiceName: web
      SourceConfiguration:
        ImageRepository:
          ImageIdentifier: public.ecr.aws/nginx/nginx:latest
          ImageRepositoryType: ECR_PUBLIC
          ImageConfiguration:
            RuntimeEnvironmentSecrets:
              - {Name: DB_PASSWORD, Value: /web/db-password}
              - {Name: TOKEN, Value: !Sub 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:web/api:token::'}
      InstanceConfiguration: {InstanceRoleArn: !GetAtt Instance.Arn}
      ObservabilityConfiguration:
        ObservabilityEnabled: true
        ObservabilityConfigurationArn: !GetAtt Tracing.ObservabilityConfigurationArn
  Api:
    Type: AWS::ECS::ExpressGatewayService
    Properties:
      ServiceName: api
      ExecutionRoleArn: !GetAtt Execution.Arn
      InfrastructureRoleArn: arn:aws:iam::111122223333:role/infrastructure
      PrimaryContainer:
        Image: public.ecr.aws/nginx/nginx:latest
        Secrets:
          - {Name: SEED, ValueFrom: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:api/seed-AbC123:key::'}
          - {Name: CACHE_URL, ValueFrom: 'arn:aws:ssm:eu-west-1:111122223333:parameter/api/cache-url'}
"#;

/// Every statement the two running roles need.
const RUNNING_GRANTS: &[&str] = &[
    "{Sid: Parameters, Effect: Allow, Action: [ssm:GetParameters], Resource: ['arn:aws:ssm:eu-west-1:111122223333:parameter/web/db-password', 'arn:aws:ssm:eu-west-1:111122223333:parameter/api/cache-url']}",
    "{Sid: Secrets, Effect: Allow, Action: [secretsmanager:GetSecretValue], Resource: ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:web/api-??????', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:api/seed-AbC123']}",
    "{Sid: Traces, Effect: Allow, Action: [xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSamplingRules, xray:GetSamplingTargets, xray:GetSamplingStatisticSummaries], Resource: '*'}",
];

/// The APR-PERM-001 messages of the running services with these grants.
fn running_errors(grants: &[String]) -> Vec<String> {
    let text = RUNNING.replace("GRANTS", &format!("[{}]", grants.join(", ")));
    let t = parse_template(&text).unwrap();
    let inputs = [Input {
        file: "app.yaml".into(),
        stack: Some("app".into()),
        template: &t,
        text: Some(text.clone()),
    }];
    check(&inputs, &ctx(), None)
        .findings
        .into_iter()
        .filter(|f| f.rule == "APR-PERM-001")
        .map(|f| f.message.to_string())
        .collect()
}

#[test]
fn running_services_need_exactly_their_secrets_and_the_trace_writes() {
    let all: Vec<String> = RUNNING_GRANTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(running_errors(&all), Vec::<String>::new());

    // Without the parameter grant: App Runner's instance role (a name is a
    // parameter of the service's account and region) and ECS's execution
    // role (before the container starts) cannot read theirs.
    let errors = running_errors(&all[1..]);
    assert!(
        errors.iter().any(|e| e.contains("instance role")
            && e.contains(
                "ssm:GetParameters on arn:aws:ssm:eu-west-1:111122223333:parameter/web/db-password"
            )
            && e.contains("variable DB_PASSWORD")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("execution role")
            && e.contains(
                "ssm:GetParameters on arn:aws:ssm:eu-west-1:111122223333:parameter/api/cache-url"
            )),
        "{errors:#?}"
    );

    // A secret named without its suffix is read as NAME-?????? (the six
    // characters Secrets Manager appends): a grant on the bare name does
    // not cover it; a JSON key reads the same secret.
    let mut bare = all.clone();
    bare[1] = bare[1].replace("web/api-??????", "web/api");
    let errors = running_errors(&bare);
    assert!(
        errors.iter().any(|e| e.contains(
            "secretsmanager:GetSecretValue on arn:aws:secretsmanager:eu-west-1:111122223333:secret:web/api-??????"
        )),
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");

    // Tracing with X-Ray: every write of AWSXRayDaemonWriteAccess, by the
    // instance role only (the ECS service does not trace).
    let errors = running_errors(&all[..2]);
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("instance role") && e.contains("xray:")),
        "{errors:#?}"
    );
}

/// The fixture's synthesized stacks with one statement (by Sid) removed
/// from the run role named `role`: the proof names what is missing.
fn fixture_without(env: &str, role: &str, sid: &str) -> Vec<String> {
    config_without("fixtures/runtime.toml", env, role, sid)
        .into_iter()
        .map(|(_, message)| message)
        .collect()
}

/// The APR-PERM-001 findings, as (logical id of the role, message), of a
/// config's env whose role named `role` lacks its statement `sid`.
fn config_without(rel: &str, env: &str, role: &str, sid: &str) -> Vec<(String, String)> {
    let cfg = config(rel);
    let mut bp = synthesize(&cfg, env).unwrap();
    let mut removed = false;
    for s in &mut bp.stacks {
        for r in s.template.resources.values_mut() {
            if r.properties.get("RoleName").and_then(|v| v.as_str()) != Some(role) {
                continue;
            }
            let Some(apprun_template::Value::List(policies)) = r.properties.get_mut("Policies")
            else {
                continue;
            };
            for p in policies {
                let Some(apprun_template::Value::Map(doc)) = (match p {
                    apprun_template::Value::Map(m) => m.get_mut("PolicyDocument"),
                    _ => None,
                }) else {
                    continue;
                };
                if let Some(apprun_template::Value::List(stmts)) = doc.get_mut("Statement") {
                    let before = stmts.len();
                    stmts.retain(|s| s.get("Sid").and_then(|v| v.as_str()) != Some(sid));
                    removed |= stmts.len() < before;
                }
            }
        }
    }
    assert!(removed, "{role} has no statement {sid}");
    check_env(&cfg, &bp, None)
        .findings
        .into_iter()
        .filter(|f| f.rule == "APR-PERM-001")
        .map(|f| (f.logical_id.to_string(), f.message.to_string()))
        .collect()
}

/// Whether one of `errors` is on the role `id` and says who cannot make
/// `call` (the action and the start of its resource).
fn names(errors: &[(String, String)], id: &str, who: &str, call: &str) -> bool {
    errors
        .iter()
        .any(|(at, m)| at == id && m.contains(who) && m.contains(&format!("cannot {call}")))
}

#[test]
fn what_starts_a_job_and_what_reads_its_secrets_must_be_allowed() {
    const JOBS: &str = "crates/apprun-blueprint/tests/fixtures/jobs.toml";
    let task_definition = "arn:aws:ecs:eu-west-1:{AccountId}:task-definition/jobsys-prod-job";
    let cluster = "ecs:cluster=arn:aws:ecs:eu-west-1:{AccountId}:cluster/jobsys-prod-jobs";
    // The schedule's, the EventBridge rule's and the pipe's role without RunTask.
    for (job, who) in [
        ("nightly", "EventBridge Scheduler (schedule Trigger)"),
        ("ingest", "EventBridge (rule Trigger, target 0)"),
        ("notify", "EventBridge Pipes (pipe Trigger)"),
    ] {
        let id = format!("Job{}{}InvokeRole", job[..1].to_uppercase(), &job[1..]);
        let errors = config_without(
            JOBS,
            "prod",
            &format!("jobsys-prod-job-{job}"),
            "RunJobTask",
        );
        let call = format!("ecs:RunTask on {task_definition}-{job}:*");
        assert!(names(&errors, &id, who, &call), "{job}: {errors:#?}");
        assert!(
            errors
                .iter()
                .any(|(_, m)| m.contains(&call) && m.contains(cluster)),
            "{job}: {errors:#?}"
        );
    }
    // Without PassRole: both roles the task definition names, to ECS tasks.
    let errors = config_without(JOBS, "prod", "jobsys-prod-job-nightly", "PassJobRoles");
    for passed in ["jobsys-prod-jobs-task", "jobsys-prod-jobs-execution"] {
        let call = format!("iam:PassRole on arn:aws:iam::{{AccountId}}:role/{passed}");
        assert!(
            names(&errors, "JobNightlyInvokeRole", "Scheduler", &call),
            "{passed}: {errors:#?}"
        );
    }
    assert!(
        errors.iter().all(|(_, m)| !m.contains("iam:PassRole")
            || m.contains("iam:passedtoservice=ecs-tasks.amazonaws.com")),
        "{errors:#?}"
    );
    // The schedule's dead letters go out with the schedule's role.
    let errors = config_without(JOBS, "prod", "jobsys-prod-job-nightly", "DeadLetters");
    assert!(
        names(
            &errors,
            "JobNightlyInvokeRole",
            "Scheduler",
            "sqs:SendMessage on arn:aws:sqs:eu-west-1:{AccountId}:jobsys-prod-job-nightly-dlq"
        ),
        "{errors:#?}"
    );
    // The pipe reads its inbox queue: each of the three SQS actions.
    let errors = config_without(JOBS, "prod", "jobsys-prod-job-notify", "ReadInbox");
    for action in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ] {
        let call =
            format!("{action} on arn:aws:sqs:eu-west-1:{{AccountId}}:jobsys-prod-job-notify-inbox");
        assert!(
            names(
                &errors,
                "JobNotifyInvokeRole",
                "Pipes (pipe Trigger)",
                &call
            ),
            "{action}: {errors:#?}"
        );
    }
    // The jobs' execution role reads the nightly job's parameter.
    let errors = config_without(JOBS, "prod", "jobsys-prod-jobs-execution", "ReadParameters");
    assert!(
        names(
            &errors,
            "JobsExecutionRole",
            "ECS (task definition TaskDefinition, execution role)",
            "ssm:GetParameters on arn:aws:ssm:eu-west-1:{AccountId}:parameter/jobsys/db-password"
        ),
        "{errors:#?}"
    );
}

#[test]
fn a_run_role_missing_a_grant_of_the_fixture_is_an_error() {
    let errors = fixture_without("prod", "runtime-demo-prod-web-run", "ReadSecrets");
    // Each Secrets Manager secret of web in prod, as IAM names it: the ARN
    // as given, or a name with the six characters Secrets Manager appends.
    let cfg = config("fixtures/runtime.toml");
    let settings = cfg.service_settings("prod", "web").unwrap();
    let secrets: Vec<String> = settings
        .runtime
        .secrets
        .values()
        .filter(|s| s.store == apprun_config::SecretStore::SecretsManager)
        .map(|s| match s.id.split_once(":secret:") {
            Some((_, name)) => name.to_owned(),
            None => format!("{}-??????", s.id),
        })
        .collect();
    assert_eq!(secrets.len(), 3, "{secrets:?}");
    for secret in &secrets {
        assert!(
            errors.iter().any(|e| e.contains("instance role")
                && e.contains("secretsmanager:GetSecretValue")
                && e.contains(&format!(":secret:{secret}: "))),
            "{secret}: {errors:#?}"
        );
    }
    let errors = fixture_without("prod", "runtime-demo-prod-api-run", "ReadParameters");
    assert!(
        errors.iter().any(|e| e.contains("execution role")
            && e.contains("ssm:GetParameters on arn:aws:ssm:eu-west-1:123456789012:parameter/runtime-demo/cache-url")),
        "{errors:#?}"
    );
    let errors = fixture_without("prod", "runtime-demo-prod-web-run", "WriteTraces");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("xray:PutTraceSegments on *")),
        "{errors:#?}"
    );
}
