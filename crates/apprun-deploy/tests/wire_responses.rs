//! Failure handling that moto cannot produce (it has no rollback states, no
//! throttling, and applies change sets loosely), tested at the HTTP layer:
//! the SDK talks to a fake endpoint that answers each CloudFormation/STS
//! action with a hand-written wire response: written from the AWS API
//! reference in AWS's own wire format (awsQuery XML bodies and error
//! envelopes, real HTTP status codes), not recorded from AWS. Each test says
//! which real behaviour it stands for.

mod common;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_config::Config;
use apprun_deploy::{
    Clients, DeployError, DeployOptions, Event, Observer, Outcome, Review, Tuning, deploy,
};
use apprun_template::Format;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;

const CFN_NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK: &str = "apprunner-nuxt3-dev-network";

/// Responses queued per action: (HTTP status, body).
type Script = HashMap<String, VecDeque<(u16, String)>>;

/// Scripted responses per action; the last response of an action repeats.
#[derive(Clone, Default)]
struct FakeAws {
    script: Arc<Mutex<Script>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl common::Answers for FakeAws {
    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        FakeAws::answer(self, request)
    }
}

impl FakeAws {
    fn new() -> Self {
        let fake = FakeAws::default();
        fake.on(
            "GetCallerIdentity",
            200,
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#.to_owned(),
        );
        fake.on(
            "DescribeStackEvents",
            200,
            ok("DescribeStackEvents", "<StackEvents/>"),
        );
        // Every tag asked for is in the repository unless a test says otherwise.
        fake.on("DescribeImages", 200, image_found("new5678"));
        fake
    }

    fn on(&self, action: &str, status: u16, body: String) -> &Self {
        self.script
            .lock()
            .unwrap()
            .entry(action.to_owned())
            .or_default()
            .push_back((status, body));
        self
    }

    fn replace(&self, action: &str, status: u16, body: String) -> &Self {
        self.script.lock().unwrap().remove(action);
        self.on(action, status, body)
    }

    /// Actions as they reached the endpoint (retries included).
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn count(&self, action: &str) -> usize {
        self.requests().iter().filter(|a| *a == action).count()
    }

    /// Answers one request from the script.
    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let body = std::str::from_utf8(req.body().bytes().unwrap_or_default())
            .unwrap_or_default()
            .to_owned();
        // awsQuery services name the action in the body, JSON services
        // (App Runner, ECR, ECS) in X-Amz-Target; S3 is REST: its method.
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .map(str::to_owned);
        let action = target
            .or_else(|| {
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| format!("S3:{}", req.method()));
        self.requests.lock().unwrap().push(action.clone());
        let mut script = self.script.lock().unwrap();
        // A script entry "Action:StackName" answers for that stack only.
        let stack = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("StackName="))
            .unwrap_or_default();
        let keyed = format!("{action}:{stack}");
        let action = if script.contains_key(&keyed) {
            keyed
        } else {
            action
        };
        let (status, text) = match script.get_mut(&action) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap(),
            Some(q) if !q.is_empty() => q.front().cloned().unwrap(),
            _ => (500, format!("unexpected call {action}")),
        };
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
        response.headers_mut().insert("content-type", "text/xml");
        response
    }

    async fn clients(&self) -> Clients {
        let http = common::http_client(self.clone());
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new("ap-northeast-1"))
            .test_credentials()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .load()
            .await;
        let tuning = Tuning {
            poll: Duration::from_millis(5),
            initial_backoff: Duration::from_millis(1),
            max_attempts: 4,
        };
        Clients::from_sdk_config(&config, tuning)
    }
}

/// A one-route HTTP server on loopback answering every request with `status`.
async fn health_server(status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

fn operations(status: &str) -> String {
    format!(
        r#"{{"OperationSummaryList":[{{"Id":"17fe9f55-7e91-4097-b243-fcabbb69a4cf","Type":"UPDATE_SERVICE","Status":"{status}","TargetArn":"arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa","StartedAt":1.7e9,"EndedAt":1.7e9,"UpdatedAt":1.7e9}}]}}"#
    )
}

/// ECR DescribeImages (awsJson1.1) finding one image with `tag`.
fn image_found(tag: &str) -> String {
    format!(
        r#"{{"imageDetails":[{{"registryId":"123456789012","repositoryName":"apprunner-nuxt3-dev","imageDigest":"sha256:8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","imageTags":["{tag}"],"imageSizeInBytes":1048576,"imagePushedAt":1.7e9,"imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"}}]}}"#
    )
}

/// An ECR error (awsJson1.1): HTTP 400 with `__type` naming the exception.
fn ecr_error(kind: &str, message: &str) -> String {
    format!(r#"{{"__type":"{kind}","message":"{message}"}}"#)
}

fn ok(action: &str, inner: &str) -> String {
    format!(
        r#"<{action}Response xmlns="{CFN_NS}"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>5ccc7dcd-744c-11e5-be70-1b08c228efb3</RequestId></ResponseMetadata></{action}Response>"#
    )
}

fn ok_empty(action: &str) -> String {
    format!(
        r#"<{action}Response xmlns="{CFN_NS}"><ResponseMetadata><RequestId>5ccc7dcd-744c-11e5-be70-1b08c228efb3</RequestId></ResponseMetadata></{action}Response>"#
    )
}

fn error(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="{CFN_NS}"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ErrorResponse>"#
    )
}

fn now() -> String {
    DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

fn stack(status: &str) -> String {
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>{STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/6b6ee4a0-7e9c-11e5-9a2c-50fa5262a89e</StackId><StackStatus>{status}</StackStatus><CreationTime>2026-11-20T10:00:00.000Z</CreationTime><Parameters/><Outputs/></member></Stacks>"
        ),
    )
}

fn missing() -> String {
    error(
        "ValidationError",
        &format!("Stack with id {STACK} does not exist"),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn template_body(body: &str) -> String {
    ok(
        "GetTemplate",
        &format!(
            "<TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>",
            escape(body)
        ),
    )
}

fn change_set_status(status: &str, reason: &str, changes: &str) -> String {
    ok(
        "DescribeChangeSet",
        &format!(
            "<ChangeSetName>apprun-x</ChangeSetName><ChangeSetId>arn:aws:cloudformation:ap-northeast-1:123456789012:changeSet/apprun-x/1a2b</ChangeSetId><StackName>{STACK}</StackName><Status>{status}</Status><StatusReason>{reason}</StatusReason><ExecutionStatus>UNAVAILABLE</ExecutionStatus><Changes>{changes}</Changes>"
        ),
    )
}

fn created_change_set() -> String {
    ok(
        "CreateChangeSet",
        "<Id>arn:aws:cloudformation:ap-northeast-1:123456789012:changeSet/apprun-x/1a2b</Id><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/x/1</StackId>",
    )
}

fn events(list: &[(&str, &str, &str, &str)]) -> String {
    let members: String = list
        .iter()
        .enumerate()
        .map(|(i, (logical, kind, status, reason))| {
            format!(
                "<member><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/1</StackId><EventId>e{i}</EventId><StackName>{STACK}</StackName><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{kind}</ResourceType><Timestamp>{}</Timestamp><ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>",
                now()
            )
        })
        .collect();
    ok(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>"),
    )
}

fn blueprint() -> (Config, EnvBlueprint) {
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apprun.toml")).unwrap();
    let bp = synthesize(&config, "dev").unwrap();
    (config, bp)
}

fn network_body(bp: &EnvBlueprint) -> String {
    bp.stacks
        .iter()
        .find(|s| s.name == STACK)
        .unwrap()
        .template
        .render(Format::Yaml)
}

#[derive(Default)]
struct Answer {
    yes: bool,
    reviews: Mutex<Vec<Review>>,
    events: Mutex<Vec<Event>>,
}

impl Observer for Answer {
    fn event(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
    fn confirm(&self, reviews: &[Review]) -> bool {
        self.reviews.lock().unwrap().extend(reviews.iter().cloned());
        self.yes
    }
}

fn options(only: &str) -> DeployOptions {
    DeployOptions {
        env: "dev".into(),
        only: vec![only.into()],
        image_tag: None,
        yes: false,
        account: None,
        artifact_bucket: "apprunner-nuxt3-dev-temporary".into(),
        images: apprun_deploy::ImageSource::Ecr(
            [("web".to_owned(), "apprunner-nuxt3-dev".to_owned())].into(),
        ),
    }
}

async fn run(
    fake: &FakeAws,
    opts: DeployOptions,
    answer: Arc<Answer>,
) -> apprun_deploy::DeployReport {
    let (_, bp) = blueprint();
    let clients = fake.clients().await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    deploy(&clients, &bp, &opts, answer, rx).await
}

fn mutating(report: &apprun_deploy::DeployReport) -> Vec<String> {
    report
        .calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| c.operation.clone())
        .collect()
}

/// Records: a first create that fails leaves the stack in ROLLBACK_COMPLETE,
/// which CloudFormation cannot update; the only way on is to delete it
/// (DescribeStacks then says "does not exist") and create it again.
#[tokio::test]
async fn rollback_complete_is_deleted_and_recreated_after_asking() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("ROLLBACK_COMPLETE"))
        .on("DescribeStacks", 400, missing())
        .on("DescribeStacks", 200, stack("CREATE_COMPLETE"))
        .on("DeleteStack", 200, ok_empty("DeleteStack"))
        .on(
            "CreateStack",
            200,
            ok(
                "CreateStack",
                "<StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/x/2</StackId>",
            ),
        );
    let answer = Arc::new(Answer {
        yes: true,
        ..Default::default()
    });
    let report = run(&fake, options("network"), answer.clone()).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.stacks[0].outcome, Outcome::Recreated);
    assert_eq!(report.stacks[0].status, "CREATE_COMPLETE");
    assert_eq!(mutating(&report), ["DeleteStack", "CreateStack"]);
    let reviews = answer.reviews.lock().unwrap();
    assert_eq!(
        reviews[0].kind,
        apprun_deploy::ReviewKind::Recreate,
        "the user was asked first"
    );
}

#[tokio::test]
async fn rollback_complete_is_left_alone_when_the_answer_is_no() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("ROLLBACK_COMPLETE"));
    let report = run(&fake, options("network"), Arc::new(Answer::default())).await;
    assert!(
        matches!(report.error, Some(DeployError::Declined(_))),
        "{:?}",
        report.error
    );
    assert!(mutating(&report).is_empty());
}

/// Records: UPDATE_ROLLBACK_FAILED accepts no update until the rollback is
/// continued (ContinueUpdateRollback); apprun must not guess.
#[tokio::test]
async fn update_rollback_failed_stops_with_the_way_out() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("UPDATE_ROLLBACK_FAILED"));
    let report = run(
        &fake,
        options("network"),
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let err = report.error.as_ref().expect("blocked").to_string();
    assert!(
        err.contains("apprunner-nuxt3-dev-network is UPDATE_ROLLBACK_FAILED"),
        "{err}"
    );
    assert!(
        err.contains("continue-update-rollback --stack-name apprunner-nuxt3-dev-network"),
        "{err}"
    );
    assert!(mutating(&report).is_empty(), "nothing is written");
}

/// Records: while an operation runs (*_IN_PROGRESS) CloudFormation rejects
/// any other; apprun stops before writing and says so.
#[tokio::test]
async fn in_progress_stack_stops_the_deploy() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("UPDATE_IN_PROGRESS"));
    let report = run(
        &fake,
        options("network"),
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let err = report.error.as_ref().expect("blocked").to_string();
    assert!(
        err.contains("UPDATE_IN_PROGRESS") && err.contains("Wait until it finishes"),
        "{err}"
    );
    assert!(mutating(&report).is_empty());
}

/// Records: CloudFormation marks a change set that changes nothing as
/// FAILED with this exact reason, and keeps it until it is deleted.
#[tokio::test]
async fn no_changes_change_set_is_deleted_and_the_stack_is_unchanged() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("UPDATE_COMPLETE"))
        .on("GetTemplate", 200, template_body("Description: formatted differently\n"))
        .on("CreateChangeSet", 200, created_change_set())
        .on("DescribeChangeSet", 200, change_set_status("CREATE_PENDING", "", ""))
        .on(
            "DescribeChangeSet",
            200,
            change_set_status("FAILED", "The submitted information didn't contain changes. Submit different information to create a change set.", ""),
        )
        .on("DeleteChangeSet", 200, ok_empty("DeleteChangeSet"));
    let report = run(&fake, options("network"), Arc::new(Answer::default())).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.stacks[0].outcome, Outcome::Unchanged);
    assert_eq!(
        mutating(&report),
        ["CreateChangeSet", "DeleteChangeSet"],
        "never left behind, never executed"
    );
}

/// Records: a change set can fail to create (here an unresolved reference);
/// the reason is CloudFormation's StatusReason.
#[tokio::test]
async fn failed_change_set_reports_its_reason_and_is_cleaned_up() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 200, stack("CREATE_COMPLETE"))
        .on("GetTemplate", 200, template_body("old"))
        .on("CreateChangeSet", 200, created_change_set())
        .on("DescribeChangeSet", 200, change_set_status("FAILED", "Template format error: Unresolved resource dependencies [Vpc] in the Resources block of the template", ""))
        .on("DeleteChangeSet", 200, ok_empty("DeleteChangeSet"));
    let report = run(
        &fake,
        options("network"),
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let err = report.error.as_ref().expect("failed").to_string();
    assert!(err.contains("the change set for apprunner-nuxt3-dev-network failed: Template format error: Unresolved resource dependencies [Vpc]"), "{err}");
    assert_eq!(fake.count("DeleteChangeSet"), 1);
    assert_eq!(fake.count("ExecuteChangeSet"), 0);
}

/// Records: an update that fails mid-way rolls back (UPDATE_ROLLBACK_COMPLETE)
/// and the resource events carry the reasons, newest first.
#[tokio::test]
async fn failed_update_shows_the_first_failing_events() {
    let fake = FakeAws::new();
    let change = "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>PublicSubnetAZa</LogicalResourceId><ResourceType>AWS::EC2::Subnet</ResourceType><Replacement>True</Replacement></ResourceChange></member>";
    fake.on("DescribeStacks", 200, stack("CREATE_COMPLETE"))
        .on("DescribeStacks", 200, stack("UPDATE_IN_PROGRESS"))
        .on("DescribeStacks", 200, stack("UPDATE_ROLLBACK_COMPLETE"))
        .on("GetTemplate", 200, template_body("old"))
        .on("CreateChangeSet", 200, created_change_set())
        .on(
            "DescribeChangeSet",
            200,
            change_set_status("CREATE_COMPLETE", "", change),
        )
        .on("ExecuteChangeSet", 200, ok("ExecuteChangeSet", ""));
    fake.replace(
        "DescribeStackEvents",
        200,
        events(&[
            (
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            ),
            (
                "PublicSubnetAZa",
                "AWS::EC2::Subnet",
                "UPDATE_FAILED",
                "The CIDR '10.0.0.0/27' conflicts with another subnet",
            ),
            (
                "ProtectSubnetAZa",
                "AWS::EC2::Subnet",
                "UPDATE_FAILED",
                "Resource update cancelled",
            ),
            (
                STACK,
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "User Initiated",
            ),
        ]),
    );
    let answer = Arc::new(Answer {
        yes: true,
        ..Default::default()
    });
    let report = run(&fake, options("network"), answer.clone()).await;
    let err = report.error.as_ref().expect("failed").to_string();
    assert!(err.contains("ended in UPDATE_ROLLBACK_COMPLETE"), "{err}");
    assert!(err.contains("UPDATE_FAILED PublicSubnetAZa (AWS::EC2::Subnet): The CIDR '10.0.0.0/27' conflicts with another subnet"), "{err}");
    assert!(err.contains("runs its previous template"), "{err}");
    assert_eq!(report.stacks[0].outcome, Outcome::Failed);
    let reviews = answer.reviews.lock().unwrap();
    assert_eq!(
        reviews[0].changes[0].replacement,
        Some(apprun_deploy::Replacement::True),
        "the replacement flag was shown"
    );
}

/// Records: CloudFormation throttles with HTTP 400 `Throttling` and fails
/// transiently with 5xx; both are retried with backoff, and the operation is
/// counted once.
#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let (_, bp) = blueprint();
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 400, error("Throttling", "Rate exceeded"))
        .on(
            "DescribeStacks",
            503,
            "<html>Service Unavailable</html>".into(),
        )
        .on("DescribeStacks", 200, stack("CREATE_COMPLETE"))
        .on("GetTemplate", 200, template_body(&network_body(&bp)));
    let report = run(&fake, options("network"), Arc::new(Answer::default())).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(
        report.stacks[0].outcome,
        Outcome::Unchanged,
        "same template: skipped without a write"
    );
    assert_eq!(
        fake.count("DescribeStacks"),
        3,
        "two retries reached the endpoint"
    );
    let describes = report
        .calls
        .iter()
        .filter(|c| c.operation == "DescribeStacks")
        .count();
    assert_eq!(describes, 1, "one operation, retried inside the SDK");
    assert!(mutating(&report).is_empty());
}

/// Records: STS GetCallerIdentity names the account of the credentials.
#[tokio::test]
async fn wrong_account_is_refused_before_any_stack_call() {
    let fake = FakeAws::new();
    let mut opts = options("network");
    opts.account = Some("999999999999".into());
    let report = run(
        &fake,
        opts,
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let err = report.error.as_ref().expect("refused").to_string();
    assert!(
        err.contains("pinned to account 999999999999") && err.contains("account 123456789012"),
        "{err}"
    );
    assert_eq!(fake.requests(), ["GetCallerIdentity"]);
}

/// Records: a new service stack has no previous ImageTag to reuse, and no
/// image can be in a repository that was just created: without a tag it is
/// deferred (left for the pipeline or `apprun release`), nothing is written.
#[tokio::test]
async fn new_service_without_image_tag_is_deferred_without_a_write() {
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 400, missing());
    let report = run(
        &fake,
        options("service-web"),
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.stacks.len(), 1);
    assert_eq!(report.stacks[0].stack, SERVICE);
    assert_eq!(report.stacks[0].outcome, Outcome::Deferred);
    assert!(mutating(&report).is_empty());
    assert_eq!(fake.count("CreateStack"), 0);
}

/// Records: ECR DescribeImages answers ImageNotFoundException for a tag that
/// was never pushed; the deploy stops before its first write and names the
/// tag and the repository.
#[tokio::test]
async fn a_tag_that_is_not_in_the_repository_is_refused_before_any_write() {
    let fake = FakeAws::new();
    fake.replace(
        "DescribeImages",
        400,
        ecr_error(
            "ImageNotFoundException",
            "The image with imageId {imageDigest:'null', imageTag:'abc1234'} does not exist within the repository with name 'apprunner-nuxt3-dev' in the registry with id '123456789012'",
        ),
    );
    let mut opts = options("service-web");
    opts.image_tag = Some("abc1234".into());
    let report = run(
        &fake,
        opts,
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let err = report.error.as_ref().expect("refused");
    assert!(
        matches!(err, DeployError::ImageTagMissing { tag, repository, .. } if tag == "abc1234" && repository == "apprunner-nuxt3-dev"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("apprun release --env dev") && text.contains("nothing was deployed"),
        "{text}"
    );
    assert!(mutating(&report).is_empty());
    assert_eq!(fake.requests(), ["GetCallerIdentity", "DescribeImages"]);
}

/// Records: before the repository stack is deployed, DescribeImages answers
/// RepositoryNotFoundException: the tag cannot exist either.
#[tokio::test]
async fn a_tag_for_a_repository_that_does_not_exist_yet_is_refused() {
    let fake = FakeAws::new();
    fake.replace(
        "DescribeImages",
        400,
        ecr_error(
            "RepositoryNotFoundException",
            "The repository with name 'apprunner-nuxt3-dev' does not exist in the registry with id '123456789012'",
        ),
    );
    let mut opts = options("service-web");
    opts.only.clear();
    opts.image_tag = Some("abc1234".into());
    let report = run(
        &fake,
        opts,
        Arc::new(Answer {
            yes: true,
            ..Default::default()
        }),
    )
    .await;
    let text = report.error.as_ref().expect("refused").to_string();
    assert!(
        text.contains("image tag abc1234 is not in repository apprunner-nuxt3-dev (the repository does not exist yet"),
        "{text}"
    );
    assert!(mutating(&report).is_empty());
    assert!(
        report
            .stacks
            .iter()
            .all(|s| s.outcome == Outcome::NotStarted),
        "no stack was touched"
    );
}

/// Records: Ctrl-C while CloudFormation works; nothing is cancelled and the
/// state is reported as CloudFormation last showed it.
#[tokio::test]
async fn ctrl_c_during_a_wait_leaves_aws_as_it_is() {
    let (_, bp) = blueprint();
    let fake = FakeAws::new();
    fake.on("DescribeStacks", 400, missing())
        .on("DescribeStacks", 200, stack("CREATE_IN_PROGRESS"))
        .on(
            "CreateStack",
            200,
            ok(
                "CreateStack",
                "<StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/x/2</StackId>",
            ),
        );
    let clients = fake.clients().await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _ = tx.send(true);
    });
    let mut opts = options("network");
    opts.yes = true;
    let report = deploy(&clients, &bp, &opts, Arc::new(Answer::default()), rx).await;
    let err = report.error.as_ref().expect("interrupted");
    assert!(matches!(err, DeployError::Interrupted { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("apprunner-nuxt3-dev-network: CREATE_IN_PROGRESS")
            && text.contains("nothing was cancelled"),
        "{text}"
    );
    assert_eq!(mutating(&report), ["CreateStack"], "no delete, no cancel");
    assert_eq!(report.stacks[0].outcome, Outcome::Interrupted);
}

/// A declined update deletes the change set it created.
#[tokio::test]
async fn declined_update_deletes_its_change_set() {
    let fake = FakeAws::new();
    let change = "<member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>X</LogicalResourceId><ResourceType>AWS::EC2::Subnet</ResourceType></ResourceChange></member>";
    fake.on("DescribeStacks", 200, stack("CREATE_COMPLETE"))
        .on("GetTemplate", 200, template_body("old"))
        .on("CreateChangeSet", 200, created_change_set())
        .on(
            "DescribeChangeSet",
            200,
            change_set_status("CREATE_COMPLETE", "", change),
        )
        .on("DeleteChangeSet", 200, ok_empty("DeleteChangeSet"));
    let report = run(&fake, options("network"), Arc::new(Answer::default())).await;
    assert!(matches!(report.error, Some(DeployError::Declined(_))));
    assert_eq!(mutating(&report), ["CreateChangeSet", "DeleteChangeSet"]);
}

const SERVICE: &str = "apprunner-nuxt3-dev-service-web";
const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";

fn service_stack(tag: &str, url: &str) -> String {
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>{SERVICE}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{SERVICE}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T10:00:00.000Z</CreationTime><Parameters><member><ParameterKey>ImageTag</ParameterKey><ParameterValue>{tag}</ParameterValue></member></Parameters><Outputs><member><OutputKey>ServiceArn</OutputKey><OutputValue>{SERVICE_ARN}</OutputValue></member><member><OutputKey>ServiceUrl</OutputKey><OutputValue>{url}</OutputValue></member></Outputs></member></Stacks>"
        ),
    )
}

/// A deployed service stack at tag `old1234` whose update to `new5678`
/// CloudFormation accepts; App Runner then reports `operation`.
async fn release_with(
    operation: &str,
    health: u16,
) -> (
    FakeAws,
    apprun_deploy::ReleaseReport,
    Result<(), DeployError>,
) {
    let (_, bp) = blueprint();
    let body = bp
        .stacks
        .iter()
        .find(|s| s.name == SERVICE)
        .unwrap()
        .template
        .render(Format::Yaml);
    let url = health_server(health).await;
    let fake = FakeAws::new();
    let change = "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Service</LogicalResourceId><ResourceType>AWS::AppRunner::Service</ResourceType><Replacement>False</Replacement></ResourceChange></member>";
    fake.on("DescribeStacks", 200, service_stack("old1234", &url))
        .on("GetTemplate", 200, template_body(&body))
        .on("CreateChangeSet", 200, created_change_set())
        .on("DescribeChangeSet", 200, change_set_status("CREATE_COMPLETE", "", change))
        .on("ExecuteChangeSet", 200, ok("ExecuteChangeSet", ""))
        .on("ListOperations", 200, operations(operation))
        .on("S3:GET", 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>".into())
        .on("S3:PUT", 200, String::new());
    let clients = fake.clients().await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut deploy_opts = options("service-web");
    deploy_opts.image_tag = Some("new5678".into());
    let opts = apprun_deploy::ReleaseOptions {
        deploy: deploy_opts,
        service: "web".into(),
        health_path: "/".into(),
        timeout: Duration::from_millis(300),
    };
    let (report, result) =
        apprun_deploy::release(&clients, &bp, &opts, Arc::new(Answer::default()), rx).await;
    (fake, report, result)
}

/// Records: App Runner's ListOperations shows the update SUCCEEDED and the
/// service answers its health path: the release stands.
#[tokio::test]
async fn release_is_verified_by_app_runner_and_the_health_path() {
    let (fake, report, result) = release_with("SUCCEEDED", 200).await;
    assert!(result.is_ok(), "{result:?} {:?}", fake.requests());
    assert_eq!(report.operation.as_deref(), Some("SUCCEEDED"));
    assert_eq!(report.health, Some(200));
    assert_eq!(report.previous_tag.as_deref(), Some("old1234"));
    assert!(!report.rolled_back);
    assert_eq!(fake.count("ExecuteChangeSet"), 1);
    assert!(fake.count("ListOperations") >= 1);
}

/// Records apprunner-roadmap #209: the stack update succeeded, but App
/// Runner rolled its own deployment back (ROLLBACK_SUCCEEDED). apprun does
/// not trust the stack: it deploys the previous tag again and fails.
#[tokio::test]
async fn app_runner_rollback_behind_a_successful_stack_update_is_caught() {
    let (_fake, report, result) = release_with("ROLLBACK_SUCCEEDED", 200).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("ended ROLLBACK_SUCCEEDED although CloudFormation reported success"),
        "{err}"
    );
    assert!(
        err.contains("rolled back: the service stack runs old1234 again"),
        "{err}"
    );
    assert!(report.rolled_back);
    assert_eq!(report.deploys, ["new5678", "old1234"]);
}

/// Records: App Runner reports success but the health path answers 503.
#[tokio::test]
async fn failing_health_path_rolls_back_to_the_previous_tag() {
    let (_fake, report, result) = release_with("SUCCEEDED", 503).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("the health check failed") && err.contains("HTTP 503"),
        "{err}"
    );
    assert!(report.rolled_back);
}

/// A release onto an env whose service stack does not exist yet (the
/// infrastructure is deployed, the image was just pushed): the stack is
/// created at the tag, then App Runner's CREATE_SERVICE operation reports
/// `operation` and the health path answers `health`.
async fn first_release_with(
    operation: &str,
    health: u16,
) -> (
    FakeAws,
    apprun_deploy::ReleaseReport,
    Result<(), DeployError>,
) {
    let (_, bp) = blueprint();
    let url = health_server(health).await;
    let fake = FakeAws::new();
    let created = stack_named(
        SERVICE,
        "CREATE_COMPLETE",
        &[("ImageTag", "new5678")],
        &[("ServiceArn", SERVICE_ARN), ("ServiceUrl", &url)],
    );
    fake.on("DescribeStacks", 400, missing_stack(SERVICE))
        .on("DescribeStacks", 400, missing_stack(SERVICE))
        .on("DescribeStacks", 200, created)
        .on(
            "CreateStack",
            200,
            ok(
                "CreateStack",
                &format!("<StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{SERVICE}/2</StackId>"),
            ),
        )
        .on(
            "ListOperations",
            200,
            operations(operation).replace("UPDATE_SERVICE", "CREATE_SERVICE"),
        )
        .on("S3:GET", 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>".into())
        .on("S3:PUT", 200, String::new());
    let clients = fake.clients().await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut deploy_opts = options("service-web");
    deploy_opts.image_tag = Some("new5678".into());
    let opts = apprun_deploy::ReleaseOptions {
        deploy: deploy_opts,
        service: "web".into(),
        health_path: "/".into(),
        timeout: Duration::from_millis(300),
    };
    let (report, result) =
        apprun_deploy::release(&clients, &bp, &opts, Arc::new(Answer::default()), rx).await;
    (fake, report, result)
}

/// Records the last step of the one command from nothing (what moto cannot
/// show): the service stack is created at the pushed tag, App Runner's
/// CREATE_SERVICE operation SUCCEEDED and the health path answers 200.
#[tokio::test]
async fn first_release_creates_the_service_and_verifies_it() {
    let (fake, report, result) = first_release_with("SUCCEEDED", 200).await;
    assert!(result.is_ok(), "{result:?} {:?}", fake.requests());
    assert_eq!(report.previous_tag, None);
    assert_eq!(report.deploys, ["new5678"]);
    assert_eq!(report.operation.as_deref(), Some("SUCCEEDED"));
    assert_eq!(report.health, Some(200));
    let requests = fake.requests();
    let position = |action: &str| requests.iter().position(|r| r == action).unwrap();
    assert!(
        position("DescribeImages") < position("CreateStack")
            && position("CreateStack") < position("ListOperations"),
        "tag checked, stack created, then App Runner asked: {requests:?}"
    );
    assert_eq!(fake.count("CreateStack"), 1);
}

/// Records: App Runner's first CREATE_SERVICE operation FAILED although the
/// stack was created. There is no earlier tag, so nothing is rolled back and
/// the error says so.
#[tokio::test]
async fn first_release_that_fails_verification_has_nothing_to_roll_back_to() {
    let (fake, report, result) = first_release_with("FAILED", 200).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            DeployError::ReleaseFailed {
                rolled_back_to: None,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("CREATE_SERVICE operation ended FAILED")
            && text.contains("nothing to roll back to"),
        "{text}"
    );
    assert!(!report.rolled_back);
    assert_eq!(report.deploys, ["new5678"]);
    assert_eq!(fake.count("CreateStack"), 1, "no second deploy");
}

const ECS_STACK: &str = "apprunner-nuxt3-dev-ecs-web";

/// DescribeExpressGatewayService and DescribeServiceDeployments in ECS's
/// JSON wire format: an ACTIVE service whose current deployment has `status`.
fn ecs_deployment(fake: &FakeAws, status: &str) {
    let service = "arn:aws:ecs:ap-northeast-1:123456789012:service/default/apprunner-nuxt3-dev-web";
    let deployment = "arn:aws:ecs:ap-northeast-1:123456789012:service-deployment/default/apprunner-nuxt3-dev-web/Qa7zkx4mwRn";
    fake.on(
        "DescribeExpressGatewayService",
        200,
        format!(r#"{{"service":{{"serviceArn":"{service}","serviceName":"apprunner-nuxt3-dev-web","status":{{"statusCode":"ACTIVE"}},"currentDeployment":"{deployment}"}}}}"#),
    )
    .on(
        "DescribeServiceDeployments",
        200,
        format!(r#"{{"serviceDeployments":[{{"serviceDeploymentArn":"{deployment}","serviceArn":"{service}","status":"{status}"}}],"failures":[]}}"#),
    );
}

fn stack_named(
    name: &str,
    status: &str,
    params: &[(&str, &str)],
    outputs: &[(&str, &str)],
) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| format!("<member><ParameterKey>{k}</ParameterKey><ParameterValue>{v}</ParameterValue></member>"))
        .collect();
    let outputs: String = outputs
        .iter()
        .map(|(k, v)| {
            format!("<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>")
        })
        .collect();
    ok(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>{name}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{name}/1</StackId><StackStatus>{status}</StackStatus><CreationTime>2026-11-20T10:00:00.000Z</CreationTime><Parameters>{params}</Parameters><Outputs>{outputs}</Outputs></member></Stacks>"
        ),
    )
}

fn missing_stack(name: &str) -> String {
    error(
        "ValidationError",
        &format!("Stack with id {name} does not exist"),
    )
}

/// Records: the App Runner stack runs tag old1234; the ECS Express stack does
/// not exist yet (DescribeStacks: "does not exist"), is created and reaches
/// CREATE_COMPLETE with its endpoint; with --remove-old the App Runner stack
/// is deleted after the new service answers its health path.
#[tokio::test]
async fn migrate_to_ecs_express_side_by_side_then_remove_the_old_service() {
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apprun.toml")).unwrap();
    let mut target_config = config.clone();
    target_config.services.get_mut("web").unwrap().compute = apprun_config::Compute::EcsExpress;
    let target = synthesize(&target_config, "dev").unwrap();
    let iam = target
        .stacks
        .iter()
        .find(|s| s.name == "apprunner-nuxt3-iam")
        .unwrap();
    assert!(
        iam.template.resources.contains_key("EcsTaskRole"),
        "the target blueprint carries the ECS roles"
    );
    let url = health_server(200).await;
    let fake = FakeAws::new();
    let ecs_arn = "arn:aws:ecs:ap-northeast-1:123456789012:service/default/apprunner-nuxt3-dev-web";
    fake.on(&format!("DescribeStacks:{SERVICE}"), 200, stack_named(SERVICE, "UPDATE_COMPLETE", &[("ImageTag", "old1234")], &[("ServiceUrl", "https://old.awsapprunner.com")]))
        .on(&format!("DescribeStacks:{SERVICE}"), 400, missing_stack(SERVICE))
        .on("DescribeStacks:apprunner-nuxt3-iam", 200, stack_named("apprunner-nuxt3-iam", "UPDATE_COMPLETE", &[], &[]))
        .on("GetTemplate:apprunner-nuxt3-iam", 200, template_body("old iam"))
        .on("CreateChangeSet", 200, created_change_set())
        .on("DescribeChangeSet", 200, change_set_status("CREATE_COMPLETE", "", "<member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>EcsTaskRole</LogicalResourceId><ResourceType>AWS::IAM::Role</ResourceType></ResourceChange></member>"))
        .on("ExecuteChangeSet", 200, ok("ExecuteChangeSet", ""))
        .on(&format!("DescribeStacks:{ECS_STACK}"), 400, missing_stack(ECS_STACK))
        .on(&format!("DescribeStacks:{ECS_STACK}"), 200, stack_named(ECS_STACK, "CREATE_COMPLETE", &[("ImageTag", "old1234")], &[("ServiceArn", ecs_arn), ("ServiceUrl", &url)]))
        .on("CreateStack", 200, ok("CreateStack", "<StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/x/3</StackId>"))
        .on("DeleteStack", 200, ok_empty("DeleteStack"))
        .on("S3:GET", 404, "<Error><Code>NoSuchKey</Code><Message>none</Message></Error>".into())
        .on("S3:PUT", 200, String::new());
    ecs_deployment(&fake, "SUCCESSFUL");
    let clients = fake.clients().await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let opts = apprun_deploy::MigrateOptions {
        deploy: options("network"),
        service: "web".into(),
        old_stack: SERVICE.into(),
        health_path: "/".into(),
        timeout: Duration::from_millis(500),
        remove_old: true,
    };
    let (report, result) =
        apprun_deploy::migrate(&clients, &target, &opts, Arc::new(Answer::default()), rx).await;
    assert!(result.is_ok(), "{result:?} {:?}", fake.requests());
    assert_eq!(
        report.image_tag, "old1234",
        "the new backend runs the same image"
    );
    assert_eq!(report.new_stack, ECS_STACK);
    assert_eq!(
        report.old_url.as_deref(),
        Some("https://old.awsapprunner.com")
    );
    assert_eq!(report.new_url.as_deref(), Some(url.as_str()));
    assert!(report.removed_old);
    assert_eq!(fake.count("CreateStack"), 1, "the ECS stack is new");
    assert_eq!(
        fake.count("ListOperations"),
        0,
        "ECS services are judged by their health path"
    );
    let requests = fake.requests();
    let delete = requests.iter().position(|r| r == "DeleteStack").unwrap();
    let create = requests.iter().position(|r| r == "CreateStack").unwrap();
    assert!(
        create < delete,
        "the old service goes only after the new one is up: {requests:?}"
    );
}

thread_local! {
    static ECS_DEPLOYMENT_STATUS: std::cell::RefCell<String> = std::cell::RefCell::new("SUCCESSFUL".into());
}

/// An unhealthy new service leaves the old one untouched.
#[tokio::test]
async fn migrate_keeps_the_old_service_when_the_new_one_is_unhealthy() {
    migrate_failing(
        502,
        "SUCCESSFUL",
        &["apprunner-nuxt3-dev-service-web stays as it is", "HTTP 502"],
    )
    .await;
}

/// Records: an ECS Express deployment can roll back (ROLLBACK_SUCCESSFUL)
/// behind a stack operation CloudFormation reports as complete.
#[tokio::test]
async fn migrate_catches_an_ecs_deployment_that_rolled_back() {
    migrate_failing(
        200,
        "ROLLBACK_SUCCESSFUL",
        &["the ECS deployment ended ROLLBACK_SUCCESSFUL although CloudFormation reported success"],
    )
    .await;
}

async fn migrate_failing(health: u16, deployment: &str, expected: &[&str]) {
    ECS_DEPLOYMENT_STATUS.with(|s| *s.borrow_mut() = deployment.to_owned());
    let config =
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../apprun.toml")).unwrap();
    let mut target_config = config.clone();
    target_config.services.get_mut("web").unwrap().compute = apprun_config::Compute::EcsExpress;
    let target = synthesize(&target_config, "dev").unwrap();
    let iam_body = target
        .stacks
        .iter()
        .find(|s| s.name == "apprunner-nuxt3-iam")
        .unwrap()
        .template
        .render(Format::Yaml);
    let url = health_server(health).await;
    let fake = FakeAws::new();
    fake.on(&format!("DescribeStacks:{SERVICE}"), 200, stack_named(SERVICE, "UPDATE_COMPLETE", &[("ImageTag", "old1234")], &[]))
        .on("DescribeStacks:apprunner-nuxt3-iam", 200, stack_named("apprunner-nuxt3-iam", "UPDATE_COMPLETE", &[], &[]))
        .on("GetTemplate:apprunner-nuxt3-iam", 200, template_body(&iam_body))
        .on(&format!("DescribeStacks:{ECS_STACK}"), 200, stack_named(ECS_STACK, "CREATE_COMPLETE", &[("ImageTag", "old1234")], &[("ServiceArn", "arn:aws:ecs:ap-northeast-1:123456789012:service/default/x"), ("ServiceUrl", &url)]))
        .on("GetTemplate", 200, template_body("older ecs template"))
        .on("CreateChangeSet", 200, created_change_set())
        .on("DescribeChangeSet", 200, change_set_status("FAILED", "The submitted information didn't contain changes. Submit different information to create a change set.", ""))
        .on("DeleteChangeSet", 200, ok_empty("DeleteChangeSet"))
        .on("S3:GET", 404, "<Error><Code>NoSuchKey</Code><Message>none</Message></Error>".into())
        .on("S3:PUT", 200, String::new());
    ecs_deployment(
        &fake,
        ECS_DEPLOYMENT_STATUS.with(|s| s.borrow().clone()).as_str(),
    );
    let clients = fake.clients().await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let opts = apprun_deploy::MigrateOptions {
        deploy: options("network"),
        service: "web".into(),
        old_stack: SERVICE.into(),
        health_path: "/".into(),
        timeout: Duration::from_millis(300),
        remove_old: true,
    };
    let (report, result) =
        apprun_deploy::migrate(&clients, &target, &opts, Arc::new(Answer::default()), rx).await;
    let err = result.unwrap_err().to_string();
    for needle in expected {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert!(err.contains("nothing was removed"), "{err}");
    assert!(!report.removed_old);
    assert_eq!(fake.count("DeleteStack"), 0);
}
