//! `apprun release`: build once, tag by commit, push, deploy that tag,
//! verify. On an env where nothing is deployed yet it first stands up the
//! infrastructure (everything but the service), so that one command goes
//! from nothing to a verified running service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use apprun_config::{Config, Names, Service};
use apprun_deploy::{
    DeployError, DeployReport, DomainReport, ImageSource, ReleaseOptions, ReleaseReport, ecr_login,
    missing_infrastructure, verify_account,
};
use apprun_image::{Builder, ImageError, Repository, commit_tag};
use serde_json::{Value, json};

use crate::cli::ReleaseArgs;
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::{
    Session, config_dir, deferred_json, deferred_services, options, service, session, with_progress,
};

/// The steps of a release, as numbered on stderr.
const STEPS: usize = 4;

fn step(ctx: &Context, number: usize, text: impl AsRef<str>) {
    ctx.progress(format!("[{number}/{STEPS}] {}", text.as_ref()));
}

/// What a release works with, settled before any AWS call.
struct Release<'a> {
    ctx: &'a Context,
    args: &'a ReleaseArgs,
    config: Config,
    svc: Service,
    dir: PathBuf,
    tag: String,
    builder: Builder,
    /// `--registry`, instead of the env's ECR repository.
    registry: Option<Repository>,
}

/// An infrastructure deploy that ran: its report and the deferred services.
type Infrastructure = (DeployReport, Vec<(String, String)>);

pub fn run(ctx: &Context, args: &ReleaseArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    config.env(&args.env)?;
    let svc = service(&config, args.service.as_deref())?.clone();
    let dir = config_dir(&config);
    let tag = match &args.image_tag {
        Some(t) => t.clone(),
        None => commit_tag(&dir)?,
    };
    let builder = match args.builder {
        Some(b) => {
            let b = Builder::from(b);
            b.check()?;
            b
        }
        None => Builder::detect()?,
    };
    let registry = match &args.registry {
        Some(r) => Some(Repository::parse(r).ok_or_else(|| {
            Failure::Usage(format!("--registry {r}: expected HOST[:PORT]/REPOSITORY"))
        })?),
        None => None,
    };
    let release = Release {
        ctx,
        args,
        config,
        svc,
        dir,
        tag,
        builder,
        registry,
    };
    crate::shared::interrupted_if_stopped(crate::shared::aws_runtime()?.block_on(release.run()))
}

impl Release<'_> {
    async fn run(&self) -> Result<ExitCode, Failure> {
        let sess = self.connect().await?;
        let deploying = sess.as_ref().filter(|_| !self.args.skip_deploy);
        // 1. The infrastructure, when some of it is missing.
        let infrastructure = match deploying {
            Some(s) => self.infrastructure(s).await?,
            None => {
                step(self.ctx, 1, "infrastructure: not touched (--skip-deploy)");
                None
            }
        };
        // 2. The image: built once, pushed to --registry or the env's ECR repository.
        let repo = self
            .build_and_push(sess.as_ref(), infrastructure.is_some())
            .await?;
        let image = repo.image(&self.tag);
        let Some(s) = deploying else {
            if self.ctx.json() {
                print_json(
                    &json!({ "ok": true, "image": image, "tag": self.tag, "deployed": false }),
                );
            } else {
                outln!("{image}");
                self.ctx.progress("pushed; not deployed (--skip-deploy)");
            }
            return Ok(ExitCode::SUCCESS);
        };
        // 3 and 4. The service at that tag (checked in the registry first), verified.
        let (report, domains) = self
            .deploy_and_verify(s, &repo, &image, infrastructure.as_ref())
            .await?;
        if self.ctx.json() {
            print_json(&json!({
                "ok": true,
                "image": image,
                "tag": self.tag,
                "infrastructure": infrastructure.as_ref().map(infrastructure_json),
                "release": report,
                "domains": domains,
            }));
        } else {
            outln!("{image}");
            if let Some(url) = &report.service_url {
                outln!("{url}");
            }
            for line in domains.lines() {
                outln!("{line}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    /// AWS is needed to deploy, and to push to ECR; the account is checked
    /// before anything else.
    async fn connect(&self) -> Result<Option<Session>, Failure> {
        if self.args.skip_deploy && self.registry.is_some() {
            return Ok(None);
        }
        let s = session(self.ctx, &self.args.env, &self.args.aws).await?;
        let env = s.config.env(&self.args.env)?;
        verify_account(&s.clients, &self.args.env, env.account.as_deref()).await?;
        Ok(Some(s))
    }

    /// Step 1: deploys the env without its service when part of the
    /// infrastructure is missing (the repository must exist before the
    /// push). Returns the deploy's report when it ran.
    async fn infrastructure(&self, s: &Session) -> Result<Option<Infrastructure>, Failure> {
        // The same check as `apprun deploy`: nothing is deployed past an error.
        crate::checking::require_clean(self.ctx, &s.config, &s.bp)?;
        let missing = missing_infrastructure(&s.clients, &s.bp).await?;
        if missing.is_empty() {
            step(self.ctx, 1, "infrastructure: deployed already");
            return Ok(None);
        }
        step(
            self.ctx,
            1,
            format!(
                "infrastructure: {} not deployed yet; deploying env {} without the service first",
                missing.join(", "),
                self.args.env
            ),
        );
        let opts = options(s, &self.args.env, Vec::new(), None, self.args.yes);
        let mut report = with_progress(self.ctx, |observer, interrupt| {
            apprun_deploy::deploy(&s.clients, &s.bp, &opts, observer, interrupt)
        })
        .await;
        let deferred = deferred_services(s, &self.args.env, &report);
        match report.error.take() {
            None => Ok(Some((report, deferred))),
            Some(error) => Err(Failure::Deploy {
                error: Box::new(error),
                next: Some(
                    "the infrastructure could not be deployed, so no image was built or pushed"
                        .into(),
                ),
            }
            .with_result(json!({ "infrastructure": infrastructure_json(&(report, deferred)) }))),
        }
    }

    /// Step 2: prebuild, build and push. After step 1 stood up the
    /// infrastructure, a failure leaves an env without its service: the
    /// failure says so.
    async fn build_and_push(
        &self,
        sess: Option<&Session>,
        stood_up: bool,
    ) -> Result<Repository, Failure> {
        let (repo, creds) = self.target(sess).await?;
        let image = repo.image(&self.tag);
        let failed = |error: ImageError| {
            Failure::Image {
            error,
            state: stood_up.then(|| format!(
                "state: the infrastructure of env {} is deployed, the service is not; fix the build and run `apprun release --env {}` again",
                self.args.env, self.args.env
            )),
        }
        };
        let (dockerfile, prebuild) = self.svc.release_build();
        if !prebuild.is_empty() {
            step(self.ctx, 2, format!("prebuild: {}", prebuild.join(" ")));
            apprun_image::prebuild(&self.dir, prebuild).map_err(failed)?;
        }
        step(
            self.ctx,
            2,
            format!("building {image} with {}", self.builder.name()),
        );
        self.builder
            .build(&self.dir, &self.dir.join(dockerfile), &image)
            .map_err(failed)?;
        step(self.ctx, 2, format!("pushing {image}"));
        self.builder
            .push(&image, repo.is_loopback(), creds.as_deref())
            .map_err(failed)?;
        Ok(repo)
    }

    /// Where the image goes, with the credentials to push it.
    async fn target(
        &self,
        sess: Option<&Session>,
    ) -> Result<(Repository, Option<String>), Failure> {
        match (&self.registry, sess) {
            (Some(r), _) => Ok((r.clone(), None)),
            (None, Some(s)) => {
                let (host, creds) = ecr_login(&s.clients).await?;
                let path = Names::new(&self.config.system.id).ecr_repository(
                    &self.args.env,
                    &self.svc.name,
                    self.config.is_primary(&self.svc.name),
                );
                Ok((Repository { registry: host, path }, Some(creds)))
            }
            (None, None) => Err(Failure::Usage(
                "no registry: pass --registry, or drop --skip-deploy to push to the env's ECR repository".into(),
            )),
        }
    }

    /// Steps 3 and 4: deploys the service stack at the tag, verifies it,
    /// and rolls back (in the deploy crate) when verification fails; then
    /// the service's custom domain, as `apprun deploy` does it.
    async fn deploy_and_verify(
        &self,
        s: &Session,
        repo: &Repository,
        image: &str,
        infrastructure: Option<&Infrastructure>,
    ) -> Result<(ReleaseReport, DomainReport), Failure> {
        let stack = Names::new(&self.config.system.id).service_stack(
            &self.args.env,
            &self.svc.name,
            self.svc.compute,
        );
        // The service's custom domain: which one apprun associated (the
        // stack's `CustomDomain` output) and the planned writes, reviewed
        // before the release deploys the stack.
        let domain_step = crate::commands::aws::DomainStep::review(
            self.ctx,
            s,
            std::slice::from_ref(&stack),
            self.args.yes,
        )
        .await?;
        step(
            self.ctx,
            3,
            format!("service: deploying {stack} at image {}", self.tag),
        );
        let opts = self.release_options(s, repo);
        let (report, result) = with_progress(self.ctx, |observer, interrupt| {
            apprun_deploy::release(&s.clients, &s.bp, &opts, observer, interrupt)
        })
        .await;
        let error = match result {
            Ok(()) => {
                self.report_verified(&report);
                match domain_step.run(self.ctx, s).await {
                    Ok(domains) => return Ok((report, domains)),
                    // The release itself is deployed and verified: the
                    // failure says so, and the domain step alone is redone
                    // by `apprun deploy`.
                    Err(error) => {
                        return Err(Failure::Deploy {
                            error: Box::new(error),
                            next: Some(format!(
                                "state: {image} is deployed and verified; the custom domain step did not finish: `apprun deploy --env {} --image-tag {}` runs it again",
                                self.args.env, self.tag
                            )),
                        }
                        .with_result(self.release_result(image, infrastructure, &report)));
                    }
                }
            }
            Err(e) => e,
        };
        // A failed verification says itself what was rolled back; any other
        // failure leaves the pushed image and says how to deploy it again.
        let next = match &error {
            DeployError::ReleaseFailed { .. } => None,
            _ => Some(state_after_failure(
                &self.args.env,
                image,
                &self.tag,
                &stack,
            )),
        };
        Err(Failure::Deploy {
            error: Box::new(error),
            next,
        }
        .with_result(self.release_result(image, infrastructure, &report)))
    }

    /// Step 4's line: which operation verified the release, and the health
    /// answer it got.
    fn report_verified(&self, report: &ReleaseReport) {
        step(
            self.ctx,
            4,
            format!(
                "verified: {} answered {} on {}",
                report.operation.as_deref().unwrap_or("-"),
                report.health.map(|h| h.to_string()).unwrap_or_default(),
                self.svc.health.path
            ),
        );
    }

    /// The release's deploy options: the env's deploy at the tag, with the
    /// images pulled from `--registry` when one was given.
    fn release_options(&self, s: &Session, repo: &Repository) -> ReleaseOptions {
        let mut deploy = options(s, &self.args.env, Vec::new(), Some(self.tag.clone()), true);
        if self.registry.is_some() {
            let scheme = if repo.is_loopback() { "http" } else { "https" };
            deploy.images = ImageSource::Registry {
                base_url: format!("{scheme}://{}", repo.registry),
                repository: repo.path.clone(),
            };
        }
        ReleaseOptions {
            deploy,
            service: self.svc.name.clone(),
            health_path: self.svc.health.path.clone(),
            timeout: Duration::from_secs(self.args.timeout),
        }
    }

    /// The JSON result a failed release step carries: what was pushed and
    /// how far the release got.
    fn release_result(
        &self,
        image: &str,
        infrastructure: Option<&Infrastructure>,
        report: &ReleaseReport,
    ) -> Value {
        json!({
            "image": image,
            "tag": self.tag,
            "infrastructure": infrastructure.map(infrastructure_json),
            "release": report,
        })
    }
}

fn infrastructure_json((report, deferred): &Infrastructure) -> Value {
    json!({
        "stacks": report.stacks,
        "deferred": deferred_json(deferred),
        "calls": report.calls,
    })
}

/// What stands after a release that failed once the infrastructure and the
/// image were in place, and how to continue.
fn state_after_failure(env: &str, image: &str, tag: &str, stack: &str) -> String {
    format!(
        "state: the infrastructure of env {env} is deployed and {image} is pushed; the service stack {stack} did not come up as shown above. Once the cause is fixed, `apprun deploy --env {env} --image-tag {tag}` deploys that image again (a failed first create is deleted and created again), or `apprun release --env {env}` builds, pushes, deploys and verifies again."
    )
}
