//! The per-env repository stack: image repositories, the artifact bucket and,
//! with the first env of each account, that account's CodeCommit source
//! repository (retained).

use apprun_config::{Config, Env, Names, SourceKind};
use apprun_template::{Output, Resource, Template, Value, get_att, map, r#ref, sub};

use crate::ids::pascal;
use crate::tags::env_tags;

/// Prefix under which `apprun deploy` stages the templates the pipeline
/// deploys. Not expired: the pipeline reads them at every run.
pub const PIPELINE_TEMPLATES_PREFIX: &str = "apprun/";
/// Prefix for templates over 51,200 bytes staged for a single deploy.
pub const STAGING_PREFIX: &str = "staging/";
/// How long pipeline artifacts and staged templates live (the reference: 7 days).
const EXPIRE_DAYS: i64 = 7;
/// Images kept per repository; older ones are expired.
const KEEP_IMAGES: u32 = 30;

pub(crate) fn template(config: &Config, env: &Env) -> Template {
    let id = &config.system.id;
    let e = &env.name;
    let mut t = Template {
        description: Some(format!(
            "{id} {e}: image repositories and pipeline artifact bucket (apprun)"
        )),
        ..Template::default()
    };
    // A pipeline's CodeCommit source must be in its own account (its Source
    // action and push rule name the repository in `${AWS::AccountId}`), so
    // every account gets the repository, with its first env.
    if config.source.kind == SourceKind::CodeCommit && config.is_first_env_of_account(e) {
        add_source_repository(&mut t, config, env);
    }
    for service in config.services.keys() {
        add_image_repository(&mut t, config, env, service);
    }
    add_artifact_bucket(&mut t, config, env);
    t
}

/// The CodeCommit repository (kept on delete) and its exports.
fn add_source_repository(t: &mut Template, config: &Config, env: &Env) {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    t.resources.insert(
        "SourceRepository".into(),
        Resource::new(
            "AWS::CodeCommit::Repository",
            map! {
                "RepositoryName" => config.source.repository.as_str(),
                "RepositoryDescription" => format!("{id} application source (shared by this account's environments)"),
                "Tags" => env_tags(id, e),
            },
        )
        .retained(),
    );
    // Derived from the name exactly as AWS forms them, rather than by
    // GetAtt: the same values, and endpoints that do not model CodeCommit
    // (moto) can still create the stack.
    let repo = &config.source.repository;
    for (suffix, value, description) in [
        ("Name", Value::from(repo.as_str()), "Source repository name"),
        (
            "Arn",
            sub(format!(
                "arn:${{AWS::Partition}}:codecommit:${{AWS::Region}}:${{AWS::AccountId}}:{repo}"
            )),
            "Source repository ARN",
        ),
        (
            "CloneUrlHttp",
            sub(format!(
                "https://git-codecommit.${{AWS::Region}}.${{AWS::URLSuffix}}/v1/repos/{repo}"
            )),
            "Source repository HTTPS clone URL",
        ),
    ] {
        t.outputs.insert(
            format!("SourceRepository{suffix}"),
            Output::new(description, value)
                .exported_as(names.account_export(&format!("SourceRepository{suffix}"))),
        );
    }
}

/// A service's ECR repository (immutable tags, scan on push) and its exports.
fn add_image_repository(t: &mut Template, config: &Config, env: &Env, service: &str) {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let primary = config.is_primary(service);
    let logical = format!("EcrRepository{}", pascal(service));
    t.resources.insert(
        logical.clone(),
        Resource::new(
            "AWS::ECR::Repository",
            map! {
                "RepositoryName" => names.ecr_repository(e, service, primary),
                // Tags are commit ids: a pushed tag must never change.
                "ImageTagMutability" => "IMMUTABLE",
                "ImageScanningConfiguration" => map! { "ScanOnPush" => true },
                "EncryptionConfiguration" => map! { "EncryptionType" => "AES256" },
                "LifecyclePolicy" => map! { "LifecyclePolicyText" => lifecycle_policy() },
                "Tags" => env_tags(id, e),
            },
        ),
    );
    for (suffix, value, description) in [
        (
            "EcrRepositoryName",
            r#ref(&logical),
            "Image repository name",
        ),
        (
            "EcrRepositoryArn",
            get_att(&logical, "Arn"),
            "Image repository ARN",
        ),
        (
            "EcrRepositoryUri",
            get_att(&logical, "RepositoryUri"),
            "Image repository URI",
        ),
    ] {
        t.outputs.insert(
            format!("{logical}{}", suffix.trim_start_matches("EcrRepository")),
            Output::new(format!("{description} ({service})"), value)
                .exported_as(names.ecr_export(e, service, primary, suffix)),
        );
    }
}

/// The pipeline's artifact bucket: private, encrypted, expiring, TLS only.
fn add_artifact_bucket(t: &mut Template, config: &Config, env: &Env) {
    let id = &config.system.id;
    let names = Names::new(id);
    let e = &env.name;
    let pipeline_prefix: String = names.pipeline(e).chars().take(20).collect();
    t.resources.insert(
        "ArtifactBucket".into(),
        Resource::new(
            "AWS::S3::Bucket",
            map! {
                "BucketName" => names.artifact_bucket(e),
                "PublicAccessBlockConfiguration" => map! {
                    "BlockPublicAcls" => true,
                    "BlockPublicPolicy" => true,
                    "IgnorePublicAcls" => true,
                    "RestrictPublicBuckets" => true,
                },
                "BucketEncryption" => map! {
                    "ServerSideEncryptionConfiguration" => vec![map! {
                        "ServerSideEncryptionByDefault" => map! { "SSEAlgorithm" => "AES256" },
                    }],
                },
                "OwnershipControls" => map! {
                    "Rules" => vec![map! { "ObjectOwnership" => "BucketOwnerEnforced" }],
                },
                "LifecycleConfiguration" => map! {
                    "Rules" => vec![
                        expire_rule("expire-pipeline-artifacts", &format!("{pipeline_prefix}/")),
                        expire_rule("expire-staged-templates", STAGING_PREFIX),
                    ],
                },
                "Tags" => env_tags(id, e),
            },
        ),
    );
    t.resources.insert(
        "ArtifactBucketPolicy".into(),
        Resource::new(
            "AWS::S3::BucketPolicy",
            map! {
                "Bucket" => r#ref("ArtifactBucket"),
                "PolicyDocument" => crate::policy::document(vec![map! {
                    "Sid" => "DenyInsecureTransport",
                    "Effect" => "Deny",
                    "Principal" => "*",
                    "Action" => "s3:*",
                    "Resource" => vec![get_att("ArtifactBucket", "Arn"), sub("${ArtifactBucket.Arn}/*")],
                    "Condition" => map! { "Bool" => map! { "aws:SecureTransport" => "false" } },
                }.into()]),
            },
        ),
    );
    t.outputs.insert(
        "ArtifactBucketName".into(),
        Output::new("Pipeline artifact bucket", r#ref("ArtifactBucket"))
            .exported_as(names.env_export(e, "ArtifactBucketName")),
    );
    t.outputs.insert(
        "ArtifactBucketArn".into(),
        Output::new(
            "Pipeline artifact bucket ARN",
            get_att("ArtifactBucket", "Arn"),
        )
        .exported_as(names.env_export(e, "ArtifactBucketArn")),
    );
}

fn expire_rule(id: &str, prefix: &str) -> Value {
    map! {
        "Id" => id,
        "Status" => "Enabled",
        "Prefix" => prefix,
        "ExpirationInDays" => EXPIRE_DAYS,
        "AbortIncompleteMultipartUpload" => map! { "DaysAfterInitiation" => 1i64 },
    }
    .into()
}

fn lifecycle_policy() -> String {
    format!(
        r#"{{"rules":[{{"rulePriority":1,"description":"keep the last {KEEP_IMAGES} images","selection":{{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":{KEEP_IMAGES}}},"action":{{"type":"expire"}}}}]}}"#
    )
}
