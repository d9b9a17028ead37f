//! The blueprint: one validated `apprun.toml` in, every CloudFormation stack
//! of the reference architecture out.
//!
//! Stacks talk to each other only through exports named as in the reference
//! (`${SystemId}-${Env}-VPC`, ...). The order in which they deploy is derived
//! from those imports and exports, never written down by hand.

mod express;
mod graph;
mod iam;
mod iam_jobs;
mod ids;
mod job;
mod job_base;
mod network;
mod pipeline;
mod policy;
mod prebuild;
mod repository;
mod service;
mod tags;

use std::collections::BTreeMap;

use apprun_config::{Compute, Config, Names};
use apprun_template::{Finding, Template};

pub use graph::{GraphError, waves};
pub use network::{Direction, SgRule, security_group_rules};
pub use pipeline::{BUILD_IMAGE, buildspec, jobs_buildspec, verify_buildspec};
pub use prebuild::{BuildImage, GapKind, PrebuildGap, pipeline_prebuild_gaps};
pub use repository::{PIPELINE_TEMPLATES_PREFIX, STAGING_PREFIX};

/// Names of the outputs and parameters other crates read from the stacks
/// (the deploy crate, the pipeline's scripts): defined once, here.
pub mod outputs {
    /// The service stack's parameter that pins the image tag.
    pub const IMAGE_TAG: &str = crate::service::IMAGE_TAG_PARAMETER;
    /// The service stack's output with the service's ARN on its backend.
    pub const SERVICE_ARN: &str = "ServiceArn";
    /// The service stack's output with the URL the service answers at.
    pub const SERVICE_URL: &str = "ServiceUrl";
    /// The App Runner service stack's output naming the custom domain apprun
    /// associated (only when the env's service has `domain`).
    pub const CUSTOM_DOMAIN: &str = crate::service::CUSTOM_DOMAIN_OUTPUT;
    /// The outputs of a job stack.
    pub use crate::job::outputs as job;
}

/// Which part of the architecture a stack holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StackKind {
    /// Roles shared by every env of an account.
    Iam,
    Repository,
    Network,
    /// One service, on the compute backend it runs on.
    Service {
        name: String,
        backend: Compute,
    },
    /// One `[jobs.NAME]`: its task definition and trigger.
    Job {
        name: String,
    },
    Pipeline,
}

impl StackKind {
    /// The file name (without extension) under `apprun synth --out`.
    pub fn file_stem(&self) -> String {
        match self {
            StackKind::Iam => "iam".into(),
            StackKind::Repository => "repository".into(),
            StackKind::Network => "network".into(),
            StackKind::Service { name, .. } => format!("service-{name}"),
            StackKind::Job { name } => format!("job-{name}"),
            StackKind::Pipeline => "pipeline".into(),
        }
    }

    /// Whether the stack runs the image at an `ImageTag` parameter (a
    /// service or a job): it needs an image in the repository to be
    /// created, takes `--image-tag`, and the pipeline deploys it with the
    /// tag it built.
    pub fn takes_image(&self) -> bool {
        matches!(self, StackKind::Service { .. } | StackKind::Job { .. })
    }

    /// Whether the stack is shared by all envs of an account.
    pub fn per_account(&self) -> bool {
        matches!(self, StackKind::Iam)
    }
}

/// One synthesized stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub kind: StackKind,
    /// CloudFormation stack name.
    pub name: String,
    pub template: Template,
}

impl Stack {
    pub fn exports(&self) -> Vec<String> {
        self.template
            .export_names()
            .into_iter()
            .map(|(n, _)| n.to_owned())
            .collect()
    }
    pub fn imports(&self) -> Vec<String> {
        self.template.import_names()
    }
}

/// Every stack of one environment, in deployment order.
#[derive(Debug, Clone)]
pub struct EnvBlueprint {
    pub env: String,
    /// Stacks ordered wave by wave, each wave sorted by name.
    pub stacks: Vec<Stack>,
    /// Indices into `stacks`: stacks of one wave can deploy in parallel.
    pub waves: Vec<Vec<usize>>,
    /// For each stack name, the stack names it imports from.
    pub dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlueprintError {
    #[error("stack {stack}: {}", findings.iter().map(|f| format!("{} {}: {}", f.code, f.path, f.message)).collect::<Vec<_>>().join("; "))]
    InvalidTemplate {
        stack: String,
        findings: Vec<Finding>,
    },
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Config(#[from] apprun_config::LoadError),
}

/// Synthesizes every stack of `env`.
pub fn synthesize(config: &Config, env_name: &str) -> Result<EnvBlueprint, BlueprintError> {
    let env = config.env(env_name)?;
    let names = Names::new(&config.system.id);
    let mut stacks = vec![
        Stack {
            kind: StackKind::Iam,
            name: names.iam_stack(),
            template: iam::template(config, env),
        },
        Stack {
            kind: StackKind::Repository,
            name: names.repository_stack(env_name),
            template: repository::template(config, env),
        },
        Stack {
            kind: StackKind::Network,
            name: names.network_stack(env_name),
            template: network::template(config, env),
        },
        Stack {
            kind: StackKind::Pipeline,
            name: names.pipeline_stack(env_name),
            template: pipeline::template(config, env),
        },
    ];
    for service in config.services.values() {
        stacks.push(Stack {
            kind: StackKind::Service {
                name: service.name.clone(),
                backend: service.compute,
            },
            name: names.service_stack(env_name, &service.name, service.compute),
            template: match service.compute {
                apprun_config::Compute::AppRunner => service::template(config, env, service),
                apprun_config::Compute::EcsExpress => express::template(config, env, service),
            },
        });
    }
    for job in job::jobs_in(config, env) {
        stacks.push(Stack {
            kind: StackKind::Job {
                name: job.name.clone(),
            },
            name: names.job_stack(env_name, &job.name),
            template: job::template(config, env, job),
        });
    }
    let order = waves(&stacks)?;
    let dependencies = graph::dependencies(&stacks);
    let mut ordered = Vec::with_capacity(stacks.len());
    let mut wave_indices = Vec::new();
    let mut slots: Vec<Option<Stack>> = stacks.into_iter().map(Some).collect();
    for wave in order {
        let mut idx = Vec::new();
        for i in wave {
            if let Some(stack) = slots[i].take() {
                idx.push(ordered.len());
                ordered.push(stack);
            }
        }
        wave_indices.push(idx);
    }
    Ok(EnvBlueprint {
        env: env_name.to_owned(),
        stacks: ordered,
        waves: wave_indices,
        dependencies,
    })
}

impl EnvBlueprint {
    /// The model's own findings for every stack, with the stack's name.
    pub fn findings(&self) -> Vec<(&Stack, Finding)> {
        self.stacks
            .iter()
            .flat_map(|s| {
                apprun_template::validate(&s.template)
                    .into_iter()
                    .map(move |f| (s, f))
            })
            .collect()
    }

    /// Fails when any stack has an error: a blueprint bug, never user input.
    pub fn ensure_valid(&self) -> Result<(), BlueprintError> {
        match self.stacks.iter().find_map(|s| {
            let errors: Vec<Finding> = apprun_template::validate(&s.template)
                .into_iter()
                .filter(|f| f.severity == apprun_template::Severity::Error)
                .collect();
            (!errors.is_empty()).then(|| (s.name.clone(), errors))
        }) {
            Some((stack, findings)) => Err(BlueprintError::InvalidTemplate { stack, findings }),
            None => Ok(()),
        }
    }

    pub fn stack(&self, kind: &StackKind) -> Option<&Stack> {
        self.stacks.iter().find(|s| &s.kind == kind)
    }

    /// The stack of the job named `job`.
    pub fn job_stack(&self, job: &str) -> Option<&Stack> {
        self.stack(&StackKind::Job {
            name: job.to_owned(),
        })
    }

    /// The stack of the service named `service`, whatever its backend.
    pub fn service_stack(&self, service: &str) -> Option<&Stack> {
        self.stacks
            .iter()
            .find(|s| matches!(&s.kind, StackKind::Service { name, .. } if name == service))
    }
}
