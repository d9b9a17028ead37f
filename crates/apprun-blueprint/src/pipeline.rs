//! The per-env pipeline stack: Source (the env's branch) → Build (image
//! tagged with the 7-character commit id, pushed, change set shown) →
//! manual Approval (where configured) → Deploy (the service stack at exactly
//! that tag).

use apprun_config::{Config, Env, Names, SourceKind};
use apprun_template::{Output, Resource, Template, Value, get_att, import, map, r#ref, sub};

use crate::iam::PIPELINE_ROLE_EXPORT;
use crate::ids::pascal;
use crate::policy::{allow, document, trust};
use crate::repository::PIPELINE_TEMPLATES_PREFIX;
use crate::service::IMAGE_TAG_PARAMETER;
use crate::tags::env_tags;

/// CodeBuild image with Docker, the AWS CLI v2 and bash.
const BUILD_IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";
const TEMPLATE_FILE: &str = "service.yaml";
const PARAMETERS_FILE: &str = "parameters.json";

/// The buildspec of a service's verify project: what `apprun release`
/// checks after a deploy. CloudFormation can report success while App
/// Runner rolled its deployment back (apprunner-roadmap #209), and an ECS
/// deployment can roll back the same way: App Runner's latest operation must
/// have SUCCEEDED (or the ECS service's current deployment be SUCCESSFUL),
/// and the health path answer 200.
pub fn verify_buildspec() -> String {
    r#"version: 0.2
env:
  shell: bash
phases:
  build:
    commands:
      - |
        out() { aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text; }
        ARN="$(out ServiceArn)"; URL="$(out ServiceUrl)"; STATUS=SUCCEEDED
        case "$ARN" in
          *:apprunner:*) STATUS=PENDING ;;
          *:ecs:*)
            # ECS Express: the service's current deployment must succeed.
            for i in $(seq 1 90); do
              DEPLOYMENT="$(aws ecs describe-express-gateway-service --service-arn "$ARN" --query 'service.currentDeployment' --output text)"
              if [ -z "$DEPLOYMENT" ] || [ "$DEPLOYMENT" = None ]; then break; fi
              DS="$(aws ecs describe-service-deployments --service-deployment-arns "$DEPLOYMENT" --query 'serviceDeployments[0].status' --output text)"
              case "$DS" in
                SUCCESSFUL) break ;;
                ROLLBACK_SUCCESSFUL|ROLLBACK_FAILED|STOPPED) echo "the ECS deployment ended $DS although the stack update succeeded"; exit 1 ;;
              esac
              sleep 10
            done
            test "$DS" = SUCCESSFUL || test -z "$DS" || { echo "the ECS deployment is still $DS"; exit 1; } ;;
        esac
        for i in $(seq 1 90); do
          test "$STATUS" = SUCCEEDED && break
          STATUS="$(aws apprunner list-operations --service-arn "$ARN" --max-results 1 --query 'OperationSummaryList[0].Status' --output text)"
          case "$STATUS" in
            SUCCEEDED) break ;;
            FAILED|ROLLBACK_SUCCEEDED|ROLLBACK_FAILED) echo "App Runner's latest operation ended $STATUS although the stack update succeeded"; exit 1 ;;
          esac
          sleep 10
        done
        test "$STATUS" = SUCCEEDED || { echo "App Runner's latest operation is still $STATUS"; exit 1; }
        curl --fail --silent --show-error --retry 10 --retry-delay 6 --retry-all-errors "$URL$HEALTH_PATH" >/dev/null
        echo "verified: the deployment succeeded and $URL$HEALTH_PATH answers"
"#
    .to_owned()
}

/// The buildspec of a service's build project. It reads everything
/// specific to the env and service from the project's environment variables,
/// so the same text serves every env.
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
      - aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${{REPOSITORY_URI%%/*}}"
  build:
    commands:
      - if [ -n "$PREBUILD" ]; then bash -c "$PREBUILD"; fi
      - |
        if aws ecr describe-images --repository-name "${{REPOSITORY_URI#*/}}" --image-ids imageTag="$IMAGE_TAG" >/dev/null 2>&1; then
          echo "image $REPOSITORY_URI:$IMAGE_TAG already pushed; tags are immutable, reusing it"
        else
          docker build --file "$DOCKERFILE" --tag "$REPOSITORY_URI:$IMAGE_TAG" .
          docker push "$REPOSITORY_URI:$IMAGE_TAG"
        fi
  post_build:
    commands:
      - test "$CODEBUILD_BUILD_SUCCEEDING" = 1
      - aws s3 cp "s3://$ARTIFACT_BUCKET/$TEMPLATE_PATH" {TEMPLATE_FILE}
      - printf '{{"Parameters":{{"{IMAGE_TAG_PARAMETER}":"%s"}}}}\n' "$IMAGE_TAG" > {PARAMETERS_FILE}
      - |
        # Show what the deploy stage will change, for the approver.
        if aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" >/dev/null 2>&1; then
          CHANGE_SET="review-$IMAGE_TAG-$CODEBUILD_BUILD_NUMBER"
          aws cloudformation create-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" \
            --template-body file://{TEMPLATE_FILE} --parameters "ParameterKey={IMAGE_TAG_PARAMETER},ParameterValue=$IMAGE_TAG" >/dev/null
          aws cloudformation wait change-set-create-complete --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" || true
          aws cloudformation describe-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" \
            --query 'Changes[].ResourceChange.[Action,LogicalResourceId,ResourceType,Replacement]' --output table || true
          aws cloudformation delete-change-set --stack-name "$SERVICE_STACK" --change-set-name "$CHANGE_SET" || true
        else
          echo "$SERVICE_STACK does not exist yet: the deploy stage will create it"
        fi
artifacts:
  files:
    - {TEMPLATE_FILE}
    - {PARAMETERS_FILE}
"#
    )
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
) -> Resource {
    Resource::new(
        "AWS::CodeBuild::Project",
        map! {
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
        },
    )
}

fn artifacts(names: &[&str]) -> Value {
    Value::List(names.iter().map(|n| map! { "Name" => *n }.into()).collect())
}

pub(crate) fn template(config: &Config, env: &Env) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let pipeline_name = names.pipeline(e);
    let role = import(names.account_export(PIPELINE_ROLE_EXPORT));
    let mut t = Template {
        description: Some(format!(
            "{id} {e}: pipeline {} → build → {}deploy (apprun)",
            env.branch,
            if env.approval { "approval → " } else { "" }
        )),
        ..Template::default()
    };

    let source = match config.source.kind {
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
    };

    let mut builds = Vec::new();
    let mut deploys = Vec::new();
    let mut verifies = Vec::new();
    for service in config.services.values() {
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
            ("DOCKERFILE", service.dockerfile.as_str().into()),
            (
                "ARTIFACT_BUCKET",
                import(names.env_export(e, "ArtifactBucketName")),
            ),
            (
                "TEMPLATE_PATH",
                format!("{PIPELINE_TEMPLATES_PREFIX}{stack}.yaml").into(),
            ),
            ("SERVICE_STACK", stack.as_str().into()),
            ("PREBUILD", service.prebuild.join(" ").into()),
        ]);
        t.resources.insert(
            project.clone(),
            codebuild_project(
                names.build_project(e, s),
                format!("Builds {s} for {e}, tags it with the commit id and pushes it"),
                &role,
                buildspec(),
                env_vars,
                // Docker builds need a privileged build container.
                true,
                30,
                env_tags(id, e),
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
        builds.push(Value::Map(build));

        let verify_project = format!("VerifyProject{p}");
        t.resources.insert(
            verify_project.clone(),
            codebuild_project(
                names.verify_project(e, s),
                format!("Checks that {s} in {e} runs the deployed tag: the backend's deployment and the health path"),
                &role,
                verify_buildspec(),
                plain_vars(&[("SERVICE_STACK", stack.as_str().into()), ("HEALTH_PATH", service.health.path.as_str().into())]),
                false,
                20,
                env_tags(id, e),
            ),
        );
        let mut verify = action(
            &format!("Verify-{s}"),
            "Test",
            "CodeBuild",
            map! { "ProjectName" => r#ref(&verify_project) }.into(),
            &[&output],
            &[],
        );
        verify.insert("RunOrder".into(), Value::Int(2));
        verifies.push(Value::Map(verify));

        let deploy = action(
            &format!("Deploy-{s}"),
            "Deploy",
            "CloudFormation",
            map! {
                "ActionMode" => "CREATE_UPDATE",
                "StackName" => stack.as_str(),
                "TemplatePath" => format!("{output}::{TEMPLATE_FILE}"),
                "TemplateConfiguration" => format!("{output}::{PARAMETERS_FILE}"),
                "RoleArn" => role.clone(),
            }
            .into(),
            &[&output],
            &[],
        );
        deploys.push(Value::Map(deploy));
    }

    let mut stages = vec![
        map! { "Name" => "Source", "Actions" => vec![Value::Map(source)] },
        map! { "Name" => "Build", "Actions" => builds },
    ];
    if env.approval {
        stages.push(map! {
            "Name" => "Approval",
            "Actions" => vec![Value::Map(action(
                "Approval",
                "Approval",
                "Manual",
                map! { "CustomData" => format!("Please review the change set in the build log before it deploys to {e}.") }.into(),
                &[],
                &[],
            ))],
        });
    }
    // Verify runs after the deploy actions of the same stage (RunOrder 2).
    deploys.extend(verifies);
    stages.push(map! { "Name" => "Deploy", "Actions" => deploys });

    t.resources.insert(
        "Pipeline".into(),
        Resource::new(
            "AWS::CodePipeline::Pipeline",
            map! {
                "Name" => pipeline_name.as_str(),
                "PipelineType" => "V2",
                "RoleArn" => role.clone(),
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

    t.outputs.insert(
        "PipelineName".into(),
        Output::new("Pipeline name", r#ref("Pipeline")),
    );
    t
}
