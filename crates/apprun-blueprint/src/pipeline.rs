//! The per-env pipeline stack: Source (the env's branch) → Build (image
//! tagged with the 7-character commit id, pushed, change set shown) →
//! manual Approval (where configured) → Deploy (the service stack at exactly
//! that tag).

use apprun_config::{Config, Env, Ingress, Names, SourceKind, Tier};
use apprun_template::{Map, Output, Resource, Template, Value, get_att, import, map, r#ref, sub};

use crate::iam::PIPELINE_ROLE_EXPORT;
use crate::ids::pascal;
use crate::network::subnet_imports;
use crate::policy::{allow, document, trust};
use crate::repository::PIPELINE_TEMPLATES_PREFIX;
use crate::service::IMAGE_TAG_PARAMETER;
use crate::tags::env_tags;

/// The CodeBuild image of every build and verify project: AWS's stock
/// Amazon Linux 2023 image with Docker, the AWS CLI v2 and bash (no Rust;
/// see `data/codebuild-amazonlinux-x86_64-standard-5.0.programs`).
pub const BUILD_IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";
const TEMPLATE_FILE: &str = "service.yaml";
const PARAMETERS_FILE: &str = "parameters.json";

/// The buildspec of a service's verify project: what `apprun release`
/// checks after a deploy. CloudFormation can report success while App
/// Runner rolled its deployment back (apprunner-roadmap #209), and an ECS
/// deployment can roll back the same way: App Runner's latest operation must
/// have SUCCEEDED (or the ECS Express service be ACTIVE and its current
/// deployment SUCCESSFUL), and the health path answer 200.
///
/// The backend comes from the project's `BACKEND` variable (`apprunner` or
/// `ecs-express`). CodeBuild judges a command by its exit status as a whole,
/// so the one command runs under `set -euo pipefail` and reads every status
/// through `value`, which fails on a failed call (denied, throttled, not
/// found) and on an empty or `None` answer: nothing unread counts as success.
pub fn verify_buildspec() -> String {
    r#"version: 0.2
env:
  shell: bash
phases:
  build:
    commands:
      - |
        set -euo pipefail
        fail() { echo "verify failed: $*" >&2; exit 1; }
        case "$BACKEND" in
          apprunner|ecs-express) ;;
          *) fail "BACKEND is '$BACKEND'; expected apprunner or ecs-express" ;;
        esac
        # Prints what a call answers; a failed call, an empty answer or None fails.
        value() {
          local answer
          answer="$("$@")" || fail "no answer from: ${*:1:3}"
          case "$answer" in
            ""|None|null) fail "empty answer from: ${*:1:3}" ;;
          esac
          printf '%s\n' "$answer"
        }
        output() {
          aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" \
            --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text
        }
        ARN="$(value output @SERVICE_ARN@)"
        URL="$(value output @SERVICE_URL@)"
        STATUS=""
        case "$BACKEND" in
          apprunner)
            for _ in $(seq 1 90); do
              STATUS="$(value aws apprunner list-operations --service-arn "$ARN" --max-results 1 \
                --query 'OperationSummaryList[0].Status' --output text)"
              case "$STATUS" in
                SUCCEEDED) break ;;
                PENDING|IN_PROGRESS) sleep 10 ;;
                *) fail "App Runner's latest operation ended $STATUS although the stack update succeeded" ;;
              esac
            done
            test "$STATUS" = SUCCEEDED || fail "App Runner's latest operation is still $STATUS after 15 minutes"
            ;;
          ecs-express)
            for _ in $(seq 1 90); do
              SERVICE="$(value aws ecs describe-express-gateway-service --service-arn "$ARN" \
                --query 'service.status.statusCode' --output text)"
              test "$SERVICE" = ACTIVE || fail "the ECS Express service is $SERVICE, not ACTIVE"
              DEPLOYMENT="$(value aws ecs describe-express-gateway-service --service-arn "$ARN" \
                --query 'service.currentDeployment' --output text)"
              STATUS="$(value aws ecs describe-service-deployments --service-deployment-arns "$DEPLOYMENT" \
                --query 'serviceDeployments[0].status' --output text)"
              case "$STATUS" in
                SUCCESSFUL) break ;;
                PENDING|IN_PROGRESS) sleep 10 ;;
                *) fail "the ECS deployment ended $STATUS although the stack update succeeded" ;;
              esac
            done
            test "$STATUS" = SUCCESSFUL || fail "the ECS deployment is still $STATUS after 15 minutes"
            ;;
        esac
        CODE=""
        for _ in $(seq 1 20); do
          CODE="$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 10 "$URL$HEALTH_PATH" || true)"
          test "$CODE" = 200 && break
          sleep 6
        done
        test "$CODE" = 200 || fail "$URL$HEALTH_PATH answered ${CODE:-nothing}, not 200"
        echo "verified: the $BACKEND deployment succeeded and $URL$HEALTH_PATH answers 200"
"#
    .replace("@SERVICE_ARN@", crate::outputs::SERVICE_ARN)
    .replace("@SERVICE_URL@", crate::outputs::SERVICE_URL)
}

/// The buildspec of a service's build project. It reads everything
/// specific to the env and service from the project's environment variables,
/// so the same text serves every env. Every failure fails its phase: the
/// multi-line commands run under `set -euo pipefail`, and the two reads that
/// decide something (is the tag pushed? does the stack exist?) tell "not
/// found" apart from any other error, which stops the build.
pub fn buildspec() -> String {
    format!(
        r#"version: 0.2
env:
  shell: bash
phases:
  pre_build:
    commands:
      - IMAGE_TAG="$(printf '%s' "$CODEBUILD_RESOLVED_SOURCE_VERSION" | cut -c1-7)"
      - test ${{#IMAGE_TAG}} -eq 7 || {{ echo "no commit id to tag the image with"; exit 1; }}
      - |
        set -euo pipefail
        aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${{REPOSITORY_URI%%/*}}"
  build:
    commands:
      - if [ -n "$PREBUILD" ]; then bash -c "$PREBUILD"; fi
      - |
        set -euo pipefail
        # Tags are immutable: build only when ECR says this one is not there.
        if ERROR="$(aws ecr describe-images --repository-name "${{REPOSITORY_URI#*/}}" --image-ids imageTag="$IMAGE_TAG" 2>&1 >/dev/null)"; then
          echo "image $REPOSITORY_URI:$IMAGE_TAG already pushed; tags are immutable, reusing it"
        elif [[ "$ERROR" == *ImageNotFoundException* ]]; then
          docker build --file "$DOCKERFILE" --tag "$REPOSITORY_URI:$IMAGE_TAG" .
          docker push "$REPOSITORY_URI:$IMAGE_TAG"
        else
          echo "cannot tell whether $REPOSITORY_URI:$IMAGE_TAG is pushed: $ERROR" >&2
          exit 1
        fi
  post_build:
    commands:
      - test "$CODEBUILD_BUILD_SUCCEEDING" = 1
      - aws s3 cp "s3://$ARTIFACT_BUCKET/$TEMPLATE_PATH" {TEMPLATE_FILE}
      - printf '{{"Parameters":{{"{IMAGE_TAG_PARAMETER}":"%s"}}}}\n' "$IMAGE_TAG" > {PARAMETERS_FILE}
      - |
        set -euo pipefail
        # Show what the deploy stage will change, for the approver.
        if ERROR="$(aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" 2>&1 >/dev/null)"; then
          CHANGE_SET="review-$IMAGE_TAG-$CODEBUILD_BUILD_NUMBER"
          aws cloudformation create-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" \
            --template-body file://{TEMPLATE_FILE} --parameters "ParameterKey={IMAGE_TAG_PARAMETER},ParameterValue=$IMAGE_TAG" >/dev/null
          if aws cloudformation wait change-set-create-complete --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET"; then
            aws cloudformation describe-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" \
              --query 'Changes[].ResourceChange.[Action,LogicalResourceId,ResourceType,Replacement]' --output table
          else
            # A change set without changes fails to create; anything else is an error.
            REASON="$(aws cloudformation describe-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" \
              --query 'StatusReason' --output text)"
            case "$REASON" in
              *"didn't contain changes"*|*"No updates are to be performed"*) echo "no changes to $SERVICE_STACK besides the image tag" ;;
              *) echo "the change set for $SERVICE_STACK failed: $REASON" >&2; exit 1 ;;
            esac
          fi
          aws cloudformation delete-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET"
        elif [[ "$ERROR" == *"does not exist"* ]]; then
          echo "$SERVICE_STACK does not exist yet: the deploy stage will create it"
        else
          echo "cannot read $SERVICE_STACK: $ERROR" >&2
          exit 1
        fi
artifacts:
  files:
    - {TEMPLATE_FILE}
    - {PARAMETERS_FILE}
"#
    )
}

/// The buildspec of an env's job-templates project: it copies the job
/// stacks' templates (`JOB_STACKS`, staged by apprun in the artifact bucket
/// like the service templates) into its output artifact, next to the
/// `parameters.json` (the image tag) of the build it takes as input. Every
/// service image of a run carries the same tag (the commit id), so that
/// file pins every job stack. Nothing else is built; a template that is not
/// staged fails the copy, and so the action, before any deploy.
pub fn jobs_buildspec() -> String {
    format!(
        r#"version: 0.2
env:
  shell: bash
phases:
  build:
    commands:
      - |
        set -euo pipefail
        test -s {PARAMETERS_FILE} || {{ echo "no {PARAMETERS_FILE} in the build's output" >&2; exit 1; }}
        for STACK in $JOB_STACKS; do
          aws s3 cp "s3://$ARTIFACT_BUCKET/$TEMPLATES_PREFIX$STACK.yaml" "$STACK.yaml"
        done
artifacts:
  files:
    - '*.yaml'
    - {PARAMETERS_FILE}
"#
    )
}

/// A command line for `bash -c` that runs exactly `argv` (each word quoted).
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A pipeline action with its input and output artifacts (omitted when none).
fn action(
    name: &str,
    category: &str,
    provider: &str,
    configuration: Value,
    inputs: &[&str],
    outputs: &[&str],
) -> apprun_template::Map {
    let mut a = map! {
        "Name" => name,
        "ActionTypeId" => map! {
            "Category" => category,
            "Owner" => "AWS",
            "Provider" => provider,
            "Version" => "1",
        },
        "Configuration" => configuration,
        "RunOrder" => 1i64,
    };
    if !inputs.is_empty() {
        a.insert("InputArtifacts".into(), artifacts(inputs));
    }
    if !outputs.is_empty() {
        a.insert("OutputArtifacts".into(), artifacts(outputs));
    }
    a
}

/// CodeBuild environment variables, all PLAINTEXT (nothing secret goes here).
fn plain_vars(vars: &[(&str, Value)]) -> Vec<Value> {
    vars.iter()
        .map(|(k, v)| map! { "Name" => *k, "Type" => "PLAINTEXT", "Value" => v.clone() }.into())
        .collect()
}

/// A CodeBuild project that runs inside the pipeline with the pipeline role.
#[allow(clippy::too_many_arguments)]
fn codebuild_project(
    name: String,
    description: String,
    role: &Value,
    buildspec: String,
    env_vars: Vec<Value>,
    privileged: bool,
    timeout_minutes: i64,
    tags: Value,
    vpc: Option<Value>,
) -> Resource {
    let mut properties = map! {
            "Name" => name,
            "Description" => description,
            "ServiceRole" => role.clone(),
            "Artifacts" => map! { "Type" => "CODEPIPELINE" },
            "Source" => map! { "Type" => "CODEPIPELINE", "BuildSpec" => buildspec },
            "Environment" => map! {
                "Type" => "LINUX_CONTAINER",
                "ComputeType" => "BUILD_GENERAL1_SMALL",
                "Image" => BUILD_IMAGE,
                "PrivilegedMode" => privileged,
                "EnvironmentVariables" => env_vars,
            },
            "TimeoutInMinutes" => timeout_minutes,
            "Tags" => tags,
    };
    if let Some(vpc) = vpc {
        properties.insert("VpcConfig".into(), vpc);
    }
    Resource::new("AWS::CodeBuild::Project", properties)
}

/// Where the verify project of a private env runs: the protect subnets under
/// the Protect group, as the service's own VPC connector (App Runner) or
/// tasks (ECS Express). From there the private URL is reachable (the
/// requests endpoint or the internal load balancer sits in those subnets,
/// and the Protect group admits the tier), and the AWS APIs are reached
/// through the NAT gateways (the Protect group allows 443 out).
fn verify_vpc(names: &Names, env: &Env) -> Option<Value> {
    if env.ingress != Ingress::Private {
        return None;
    }
    let e = &env.name;
    let subnets = subnet_imports(names, env, Tier::Protect);
    Some(
        map! {
            "VpcId" => import(names.env_export(e, "VPC")),
            "Subnets" => subnets,
            "SecurityGroupIds" => vec![import(names.env_export(e, "ProtectSecurityGroup"))],
        }
        .into(),
    )
}

fn artifacts(names: &[&str]) -> Value {
    Value::List(names.iter().map(|n| map! { "Name" => *n }.into()).collect())
}

pub(crate) fn template(config: &Config, env: &Env) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let role = import(names.account_export(PIPELINE_ROLE_EXPORT));
    let mut t = Template {
        description: Some(format!(
            "{id} {e}: pipeline {} → build → {}deploy (apprun)",
            env.branch,
            if env.approval { "approval → " } else { "" }
        )),
        ..Template::default()
    };
    let stages = stages(&mut t, config, env, &role);
    t.resources.insert(
        "Pipeline".into(),
        Resource::new(
            "AWS::CodePipeline::Pipeline",
            map! {
                "Name" => names.pipeline(e).as_str(),
                "PipelineType" => "V2",
                "RoleArn" => role,
                "ArtifactStore" => map! {
                    "Type" => "S3",
                    "Location" => import(names.env_export(e, "ArtifactBucketName")),
                },
                "Stages" => stages,
                "RestartExecutionOnUpdate" => false,
                "Tags" => env_tags(id, e),
            },
        ),
    );
    if config.source.kind == SourceKind::CodeCommit {
        add_push_trigger(&mut t, config, env);
    }
    t.outputs.insert(
        "PipelineName".into(),
        Output::new("Pipeline name", r#ref("Pipeline")),
    );
    t
}

/// Source, Build, the optional Approval and Deploy; adds the build and
/// verify projects the actions run to `t`.
fn stages(t: &mut Template, config: &Config, env: &Env, role: &Value) -> Vec<Map> {
    let source = source_action(config, env);
    let mut builds = Vec::new();
    let mut deploys = Vec::new();
    let mut verifies = Vec::new();
    for service in config.services.values() {
        let [build, deploy, verify] = service_actions(t, config, env, service, role);
        builds.push(Value::Map(build));
        deploys.push(Value::Map(deploy));
        verifies.push(Value::Map(verify));
    }
    let jobs = job_actions(t, config, env, role);
    if let Some((build, _)) = &jobs {
        builds.push(Value::Map(build.clone()));
    }
    let mut stages = vec![
        map! { "Name" => "Source", "Actions" => vec![Value::Map(source)] },
        map! { "Name" => "Build", "Actions" => builds },
    ];
    if env.approval {
        stages.push(approval_stage(&env.name));
    }
    // Verify runs after the deploy actions of the same stage (RunOrder 2).
    deploys.extend(verifies);
    // The jobs deploy beside the services (RunOrder 1), listed last.
    if let Some((_, job_deploys)) = jobs {
        deploys.extend(job_deploys.into_iter().map(Value::Map));
    }
    stages.push(map! { "Name" => "Deploy", "Actions" => deploys });
    stages
}

/// The manual approval before `e` deploys.
fn approval_stage(e: &str) -> Map {
    map! {
        "Name" => "Approval",
        "Actions" => vec![Value::Map(action(
            "Approval",
            "Approval",
            "Manual",
            map! { "CustomData" => format!("Please review the change set in the build log before it deploys to {e}.") }.into(),
            &[],
            &[],
        ))],
    }
}

/// Where the pipeline takes the code from: CodeCommit, or GitHub through a
/// CodeConnections connection.
fn source_action(config: &Config, env: &Env) -> apprun_template::Map {
    match config.source.kind {
        SourceKind::CodeCommit => action(
            "Source",
            "Source",
            "CodeCommit",
            map! {
                "RepositoryName" => config.source.repository.as_str(),
                "BranchName" => env.branch.as_str(),
                // An EventBridge rule starts the pipeline on push instead.
                "PollForSourceChanges" => "false",
                "OutputArtifactFormat" => "CODE_ZIP",
            }
            .into(),
            &[],
            &["Source"],
        ),
        SourceKind::GitHub => action(
            "Source",
            "Source",
            "CodeStarSourceConnection",
            map! {
                "ConnectionArn" => config.source.connection.clone().unwrap_or_default(),
                "FullRepositoryId" => config.source.repository.as_str(),
                "BranchName" => env.branch.as_str(),
                "OutputArtifactFormat" => "CODE_ZIP",
            }
            .into(),
            &[],
            &["Source"],
        ),
    }
}

/// A service's build project and action, its deploy action, and its verify
/// project and action (which runs after the deploy, RunOrder 2).
fn service_actions(
    t: &mut Template,
    config: &Config,
    env: &Env,
    service: &apprun_config::Service,
    role: &Value,
) -> [apprun_template::Map; 3] {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let s = &service.name;
    let p = pascal(s);
    let project = format!("BuildProject{p}");
    let output = format!("Build{p}");
    let stack = names.service_stack(e, s, service.compute);
    let env_vars = plain_vars(&[
        (
            "REPOSITORY_URI",
            import(names.ecr_export(e, s, config.is_primary(s), "EcrRepositoryUri")),
        ),
        ("DOCKERFILE", service.pipeline_build().0.into()),
        (
            "ARTIFACT_BUCKET",
            import(names.env_export(e, "ArtifactBucketName")),
        ),
        (
            "TEMPLATE_PATH",
            format!("{PIPELINE_TEMPLATES_PREFIX}{stack}.yaml").into(),
        ),
        ("SERVICE_STACK", stack.as_str().into()),
        ("PREBUILD", shell_words(service.pipeline_build().1).into()),
    ]);
    t.resources.insert(
        project.clone(),
        codebuild_project(
            names.build_project(e, s),
            format!("Builds {s} for {e}, tags it with the commit id and pushes it"),
            role,
            buildspec(),
            env_vars,
            // Docker builds need a privileged build container.
            true,
            30,
            env_tags(id, e),
            None,
        ),
    );
    let build = action(
        &format!("Build-{s}"),
        "Build",
        "CodeBuild",
        map! { "ProjectName" => r#ref(&project) }.into(),
        &["Source"],
        &[&output],
    );

    let verify = verify_action(t, config, env, service, role, &output);

    let deploy = deploy_action(&format!("Deploy-{s}"), &stack, &output, TEMPLATE_FILE, role);

    [build, deploy, verify]
}

/// The env's jobs (none: nothing): a project that gathers their templates
/// after the primary service's build (Build stage, RunOrder 2), and one
/// deploy action per job beside the services' (the same image tag, with the
/// same CloudFormation role).
fn job_actions(
    t: &mut Template,
    config: &Config,
    env: &Env,
    role: &Value,
) -> Option<(apprun_template::Map, Vec<apprun_template::Map>)> {
    let jobs = crate::job::jobs_in(config, env);
    let primary = config.primary_service()?;
    if jobs.is_empty() {
        return None;
    }
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let stacks: Vec<String> = jobs.iter().map(|j| names.job_stack(e, &j.name)).collect();
    t.resources.insert(
        "JobTemplatesProject".into(),
        codebuild_project(
            names.job_templates_project(e),
            format!("Gathers the job templates of {e} with the image tag of the build"),
            role,
            jobs_buildspec(),
            plain_vars(&[
                (
                    "ARTIFACT_BUCKET",
                    import(names.env_export(e, "ArtifactBucketName")),
                ),
                ("TEMPLATES_PREFIX", PIPELINE_TEMPLATES_PREFIX.into()),
                ("JOB_STACKS", stacks.join(" ").into()),
            ]),
            false,
            10,
            env_tags(id, e),
            None,
        ),
    );
    let input = format!("Build{}", pascal(&primary.name));
    let mut gather = action(
        "Jobs",
        "Build",
        "CodeBuild",
        map! { "ProjectName" => r#ref("JobTemplatesProject") }.into(),
        &[&input],
        &["Jobs"],
    );
    gather.insert("RunOrder".into(), Value::Int(2));
    let deploys = jobs
        .iter()
        .zip(&stacks)
        .map(|(job, stack)| {
            deploy_action(
                &format!("Deploy-job-{}", job.name),
                stack,
                "Jobs",
                &format!("{stack}.yaml"),
                role,
            )
        })
        .collect();
    Some((gather, deploys))
}

/// A CloudFormation deploy action (`CREATE_UPDATE` with the pipeline's
/// CloudFormation role) of `stack`, from `template` and the build's
/// parameters file in the artifact `input`.
fn deploy_action(name: &str, stack: &str, input: &str, template: &str, role: &Value) -> Map {
    action(
        name,
        "Deploy",
        "CloudFormation",
        map! {
            "ActionMode" => "CREATE_UPDATE",
            "StackName" => stack,
            "TemplatePath" => format!("{input}::{template}"),
            "TemplateConfiguration" => format!("{input}::{PARAMETERS_FILE}"),
            "RoleArn" => role.clone(),
        }
        .into(),
        &[input],
        &[],
    )
}

/// The verify project of a service and its action, after the deploy
/// (RunOrder 2): the backend's deployment and the health path.
fn verify_action(
    t: &mut Template,
    config: &Config,
    env: &Env,
    service: &apprun_config::Service,
    role: &Value,
    output: &str,
) -> apprun_template::Map {
    let id = &config.system.id;
    let names = Names::new(id);
    let (e, s) = (&env.name, &service.name);
    let stack = names.service_stack(e, s, service.compute);
    let verify_project = format!("VerifyProject{}", pascal(s));
    t.resources.insert(
        verify_project.clone(),
        codebuild_project(
            names.verify_project(e, s),
            format!("Checks that {s} in {e} runs the deployed tag: the backend's deployment and the health path"),
            role,
            verify_buildspec(),
            plain_vars(&[
                ("SERVICE_STACK", stack.as_str().into()),
                ("HEALTH_PATH", service.health.path.as_str().into()),
                ("BACKEND", service.compute.as_str().into()),
            ]),
            false,
            20,
            env_tags(id, e),
            verify_vpc(&names, env),
        ),
    );
    let mut verify = action(
        &format!("Verify-{s}"),
        "Test",
        "CodeBuild",
        map! { "ProjectName" => r#ref(&verify_project) }.into(),
        &[output],
        &[],
    );
    verify.insert("RunOrder".into(), Value::Int(2));
    verify
}

/// CodeCommit pushes reach the pipeline through an EventBridge rule (the
/// source action does not poll).
fn add_push_trigger(t: &mut Template, config: &Config, env: &Env) {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let pipeline_name = names.pipeline(e);
    let pipeline_arn =
        sub("arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${Pipeline}");
    t.resources.insert(
        "PipelineTriggerRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.pipeline_events_role(e),
                "Description" => format!("EventBridge starts the {e} pipeline on a push to {}", env.branch),
                "AssumeRolePolicyDocument" => trust(&["events.amazonaws.com"]),
                "Policies" => vec![map! {
                    "PolicyName" => "start-pipeline",
                    "PolicyDocument" => document(vec![allow(
                        "StartPipeline",
                        &["codepipeline:StartPipelineExecution"],
                        vec![pipeline_arn.clone()],
                    ).into()]),
                }],
                "Tags" => env_tags(id, e),
            },
        ),
    );
    t.resources.insert(
        "PipelineTrigger".into(),
        Resource::new(
            "AWS::Events::Rule",
            map! {
                "Description" => format!("Start {pipeline_name} on a push to {}", env.branch),
                "State" => "ENABLED",
                "EventPattern" => map! {
                    "source" => vec!["aws.codecommit"],
                    "detail-type" => vec!["CodeCommit Repository State Change"],
                    "resources" => vec![sub(format!(
                        "arn:${{AWS::Partition}}:codecommit:${{AWS::Region}}:${{AWS::AccountId}}:{}",
                        config.source.repository
                    ))],
                    "detail" => map! {
                        "event" => vec!["referenceCreated", "referenceUpdated"],
                        "referenceType" => vec!["branch"],
                        "referenceName" => vec![env.branch.as_str()],
                    },
                },
                "Targets" => vec![map! {
                    "Id" => "pipeline",
                    "Arn" => pipeline_arn,
                    "RoleArn" => get_att("PipelineTriggerRole", "Arn"),
                }],
            },
        ),
    );
}
