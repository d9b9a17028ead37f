//! Every AWS name apprun gives a resource, in one place, with the rules AWS
//! enforces on it. The config is checked against these rules so that a bad
//! system id fails at `apprun.toml`, not halfway through a deploy.

use crate::model::Config;

/// The kinds of names apprun creates, each with AWS's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Stack,
    Export,
    S3Bucket,
    EcrRepository,
    CodeCommitRepository,
    AppRunnerName,
    EcsServiceName,
    IamRole,
    CodeBuildProject,
    Pipeline,
    WebAcl,
    /// EventBridge Scheduler schedule, EventBridge rule or pipe name.
    EventsName,
    SqsQueue,
    /// ECS cluster or task definition family.
    EcsName,
}

impl NameKind {
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Stack => "CloudFormation stack name",
            NameKind::Export => "CloudFormation export name",
            NameKind::S3Bucket => "S3 bucket name",
            NameKind::EcrRepository => "ECR repository name",
            NameKind::CodeCommitRepository => "CodeCommit repository name",
            NameKind::AppRunnerName => "App Runner service / VPC connector name",
            NameKind::EcsServiceName => "ECS service name",
            NameKind::IamRole => "IAM role name",
            NameKind::CodeBuildProject => "CodeBuild project name",
            NameKind::Pipeline => "CodePipeline name",
            NameKind::WebAcl => "WAF web ACL name",
            NameKind::EventsName => "EventBridge schedule, rule or pipe name",
            NameKind::SqsQueue => "SQS queue name",
            NameKind::EcsName => "ECS cluster or task definition family name",
        }
    }

    fn limits(self) -> (usize, usize) {
        match self {
            NameKind::Stack => (1, 128),
            NameKind::Export => (1, 255),
            NameKind::S3Bucket => (3, 63),
            NameKind::EcrRepository => (2, 256),
            NameKind::CodeCommitRepository => (1, 100),
            NameKind::AppRunnerName => (4, 40),
            NameKind::EcsServiceName => (1, 255),
            NameKind::IamRole => (1, 64),
            NameKind::CodeBuildProject => (2, 255),
            NameKind::Pipeline => (1, 100),
            NameKind::WebAcl => (1, 128),
            NameKind::EventsName => (1, 64),
            NameKind::SqsQueue => (1, 80),
            NameKind::EcsName => (1, 255),
        }
    }

    fn allowed_char(self, c: char) -> bool {
        match self {
            NameKind::Stack | NameKind::Export => c.is_ascii_alphanumeric() || c == '-' || c == ':',
            NameKind::S3Bucket | NameKind::EcrRepository => {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')
            }
            NameKind::CodeCommitRepository => {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
            }
            NameKind::AppRunnerName
            | NameKind::EcsServiceName
            | NameKind::CodeBuildProject
            | NameKind::WebAcl
            | NameKind::SqsQueue
            | NameKind::EcsName => c.is_ascii_alphanumeric() || matches!(c, '-' | '_'),
            NameKind::EventsName => c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
            NameKind::IamRole => c.is_ascii_alphanumeric() || "+=,.@_-".contains(c),
            NameKind::Pipeline => c.is_ascii_alphanumeric() || ".@-_".contains(c),
        }
    }

    /// Checks `name` against this kind's rules; the error says what is allowed.
    pub fn check(self, name: &str) -> Result<(), String> {
        let (min, max) = self.limits();
        let len = name.chars().count();
        if len < min || len > max {
            return Err(format!(
                "the {} `{name}` is {len} characters; AWS allows {min} to {max}",
                self.describe()
            ));
        }
        if let Some(bad) = name.chars().find(|c| !self.allowed_char(*c)) {
            return Err(format!(
                "the {} `{name}` contains `{bad}`, which AWS does not allow there",
                self.describe()
            ));
        }
        let first = name.chars().next().unwrap_or(' ');
        let last = name.chars().last().unwrap_or(' ');
        let starts_ok = match self {
            NameKind::Stack => first.is_ascii_alphabetic(),
            _ => first.is_ascii_alphanumeric(),
        };
        let ends_ok = !matches!(self, NameKind::S3Bucket | NameKind::EcrRepository)
            || last.is_ascii_alphanumeric();
        if !starts_ok || !ends_ok {
            return Err(format!(
                "the {} `{name}` must start{} with a letter or digit",
                self.describe(),
                if ends_ok { "" } else { " and end" }
            ));
        }
        Ok(())
    }
}

/// Names of everything apprun creates for one system.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub id: &'a str,
}

impl<'a> Names<'a> {
    pub fn new(id: &'a str) -> Self {
        Names { id }
    }

    pub fn iam_stack(&self) -> String {
        format!("{}-iam", self.id)
    }
    pub fn repository_stack(&self, env: &str) -> String {
        format!("{}-{env}-repository", self.id)
    }
    pub fn network_stack(&self, env: &str) -> String {
        format!("{}-{env}-network", self.id)
    }
    /// App Runner keeps the reference's `${id}-${env}-service-${svc}`; an
    /// ECS Express service has its own name, so that both can run side by
    /// side while a service moves between backends (`apprun migrate`).
    pub fn service_stack(&self, env: &str, service: &str, compute: crate::Compute) -> String {
        match compute {
            crate::Compute::AppRunner => format!("{}-{env}-service-{service}", self.id),
            crate::Compute::EcsExpress => format!("{}-{env}-ecs-{service}", self.id),
        }
    }
    pub fn pipeline_stack(&self, env: &str) -> String {
        format!("{}-{env}-pipeline", self.id)
    }

    /// `${SystemId}-${Env}-<suffix>`: the reference's per-env export names.
    pub fn env_export(&self, env: &str, suffix: &str) -> String {
        format!("{}-{env}-{suffix}", self.id)
    }
    /// `${SystemId}-<suffix>`: exports of per-account stacks.
    pub fn account_export(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.id)
    }
    /// Export prefix of a service's image repository outputs.
    pub fn ecr_export(&self, env: &str, service: &str, primary: bool, suffix: &str) -> String {
        if primary {
            self.env_export(env, suffix)
        } else {
            self.env_export(env, &format!("{service}-{suffix}"))
        }
    }

    pub fn artifact_bucket(&self, env: &str) -> String {
        format!("{}-{env}-temporary", self.id)
    }
    /// The primary service keeps the reference's `${SystemId}-${Env}`.
    pub fn ecr_repository(&self, env: &str, service: &str, primary: bool) -> String {
        if primary {
            format!("{}-{env}", self.id)
        } else {
            format!("{}-{env}-{service}", self.id)
        }
    }
    pub fn apprunner_service(&self, env: &str, service: &str) -> String {
        format!("{}-{env}-{service}", self.id)
    }
    /// The ECS Express service's name (the same text as on App Runner, so
    /// that a migrated service keeps its name, but ECS's own rules).
    pub fn ecs_service(&self, env: &str, service: &str) -> String {
        format!("{}-{env}-{service}", self.id)
    }
    /// The service's name on its backend, with the rules that backend enforces.
    pub fn backend_service(
        &self,
        env: &str,
        service: &str,
        compute: crate::Compute,
    ) -> (NameKind, String) {
        match compute {
            crate::Compute::AppRunner => (
                NameKind::AppRunnerName,
                self.apprunner_service(env, service),
            ),
            crate::Compute::EcsExpress => {
                (NameKind::EcsServiceName, self.ecs_service(env, service))
            }
        }
    }
    pub fn access_role(&self) -> String {
        format!("{}-apprunner-access", self.id)
    }
    pub fn instance_role(&self) -> String {
        format!("{}-apprunner-instance", self.id)
    }
    pub fn pipeline_role(&self) -> String {
        format!("{}-pipeline", self.id)
    }
    pub fn pipeline_events_role(&self, env: &str) -> String {
        format!("{}-{env}-pipeline-events", self.id)
    }
    pub fn build_project(&self, env: &str, service: &str) -> String {
        format!("{}-{env}-{service}-build", self.id)
    }
    pub fn verify_project(&self, env: &str, service: &str) -> String {
        format!("{}-{env}-{service}-verify", self.id)
    }
    pub fn pipeline(&self, env: &str) -> String {
        format!("{}-{env}", self.id)
    }

    /// `${id}-${env}-job-${job}`: the job's stack, and the name of its
    /// task definition family, schedule (or rule, or pipe), topic and
    /// invoke role, so that each is found from the job's name alone.
    pub fn job_stack(&self, env: &str, job: &str) -> String {
        format!("{}-{env}-job-{job}", self.id)
    }
    pub fn job_family(&self, env: &str, job: &str) -> String {
        self.job_stack(env, job)
    }
    /// The schedule, EventBridge rule or pipe that starts the job.
    pub fn job_trigger(&self, env: &str, job: &str) -> String {
        self.job_stack(env, job)
    }
    /// The role the trigger starts the task with (per job: it may run only
    /// that job's task definition).
    pub fn job_invoke_role(&self, env: &str, job: &str) -> String {
        self.job_stack(env, job)
    }
    /// The job's dead-letter queue: failed starts and failed runs.
    pub fn job_dead_letter_queue(&self, env: &str, job: &str) -> String {
        format!("{}-dlq", self.job_stack(env, job))
    }
    /// The queue an SNS job's topic delivers to and its pipe reads.
    pub fn job_inbox_queue(&self, env: &str, job: &str) -> String {
        format!("{}-inbox", self.job_stack(env, job))
    }
    pub fn job_alarm(&self, env: &str, job: &str) -> String {
        format!("{}-failed", self.job_stack(env, job))
    }
    /// `/apprun/${id}/${env}/job-${job}`, under the prefix ECS Express
    /// services' log groups use.
    pub fn job_log_group(&self, env: &str, job: &str) -> String {
        format!("/apprun/{}/{env}/job-{job}", self.id)
    }
    /// The CodeBuild project that gathers the env's job templates for the
    /// pipeline's deploy stage.
    pub fn job_templates_project(&self, env: &str) -> String {
        format!("{}-{env}-job-templates", self.id)
    }
    /// The rule that sends the job's failed runs to its dead-letter queue.
    pub fn job_failed_runs_rule(&self, env: &str, job: &str) -> String {
        format!("{}-failed", self.job_stack(env, job))
    }
    /// The cluster every job of an env runs in.
    pub fn jobs_cluster(&self, env: &str) -> String {
        format!("{}-{env}-jobs", self.id)
    }
    /// The roles every job of an env shares: its tasks' own permissions
    /// and ECS's (pull the image, write the logs).
    pub fn jobs_task_role(&self, env: &str) -> String {
        format!("{}-{env}-jobs-task", self.id)
    }
    pub fn jobs_execution_role(&self, env: &str) -> String {
        format!("{}-{env}-jobs-execution", self.id)
    }

    /// Every name derived for one env, with its kind: what validation checks.
    pub fn all_for_env(&self, config: &Config, env: &str) -> Vec<(NameKind, String)> {
        let mut names = vec![
            (NameKind::Stack, self.iam_stack()),
            (NameKind::Stack, self.repository_stack(env)),
            (NameKind::Stack, self.network_stack(env)),
            (NameKind::Stack, self.pipeline_stack(env)),
            (NameKind::S3Bucket, self.artifact_bucket(env)),
            (NameKind::IamRole, self.access_role()),
            (NameKind::IamRole, self.instance_role()),
            (NameKind::IamRole, self.pipeline_role()),
            (NameKind::IamRole, self.pipeline_events_role(env)),
            (NameKind::Pipeline, self.pipeline(env)),
            (
                NameKind::Export,
                self.env_export(env, "PrivateSecurityGroup"),
            ),
        ];
        for (service, def) in &config.services {
            let primary = config.is_primary(service);
            names.extend([
                (
                    NameKind::Stack,
                    self.service_stack(env, service, def.compute),
                ),
                (
                    NameKind::EcrRepository,
                    self.ecr_repository(env, service, primary),
                ),
                self.backend_service(env, service, def.compute),
                (NameKind::CodeBuildProject, self.build_project(env, service)),
                (
                    NameKind::CodeBuildProject,
                    self.verify_project(env, service),
                ),
                (NameKind::WebAcl, self.apprunner_service(env, service)),
                (
                    NameKind::Export,
                    self.ecr_export(env, service, primary, "EcrRepositoryUri"),
                ),
            ]);
        }
        let jobs: Vec<&crate::Job> = config
            .jobs
            .values()
            // A job name that is not valid is reported at the job itself.
            .filter(|j| {
                j.runs_in(env)
                    && j.name.len() <= 24
                    && j.name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
            .collect();
        if !jobs.is_empty() {
            names.extend([
                (NameKind::EcsName, self.jobs_cluster(env)),
                (NameKind::IamRole, self.jobs_task_role(env)),
                (NameKind::IamRole, self.jobs_execution_role(env)),
                (NameKind::CodeBuildProject, self.job_templates_project(env)),
            ]);
        }
        for job in jobs {
            let j = job.name.as_str();
            names.extend([
                (NameKind::Stack, self.job_stack(env, j)),
                (NameKind::EcsName, self.job_family(env, j)),
                (NameKind::EventsName, self.job_trigger(env, j)),
                (NameKind::IamRole, self.job_invoke_role(env, j)),
                (NameKind::SqsQueue, self.job_dead_letter_queue(env, j)),
                (NameKind::SqsQueue, self.job_inbox_queue(env, j)),
                (NameKind::EventsName, self.job_failed_runs_rule(env, j)),
            ]);
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_reject_what_aws_rejects() {
        assert!(
            NameKind::S3Bucket
                .check("apprunner-nuxt3-dev-temporary")
                .is_ok()
        );
        assert!(
            NameKind::S3Bucket
                .check("Upper-temporary")
                .unwrap_err()
                .contains("`U`")
        );
        assert!(
            NameKind::S3Bucket
                .check("ab")
                .unwrap_err()
                .contains("3 to 63")
        );
        assert!(
            NameKind::AppRunnerName
                .check(&"x".repeat(41))
                .unwrap_err()
                .contains("4 to 40")
        );
        assert!(NameKind::Stack.check("1abc").unwrap_err().contains("start"));
        assert!(
            NameKind::EcrRepository
                .check("abc-")
                .unwrap_err()
                .contains("end")
        );
        assert!(NameKind::IamRole.check("a-b_c.d@e").is_ok());
    }
}
