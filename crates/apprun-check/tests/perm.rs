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
            .all(|f| f.logical_id == "DeployRole" && f.file == "pipeline.yaml")
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

/// The permission findings of every env of the three configs.
fn shipped_findings() -> Vec<(String, Finding)> {
    let mut out = Vec::new();
    for rel in [
        "apprun.toml",
        "fixtures/express.toml",
        "fixtures/shop-api.toml",
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
