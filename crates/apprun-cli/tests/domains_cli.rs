//! The custom domain step of `apprun diff` and `apprun deploy`, end to end
//! through the binary, against a fake AWS endpoint on a free loopback port
//! that answers hand-written wire responses: bodies written from the AWS
//! API references (CloudFormation query XML, App Runner awsJson1_0, Route
//! 53 REST-XML), not recorded from AWS.
//!
//! The env's service stack is deployed and unchanged (its template is the
//! one apprun synthesizes), and its `CustomDomain` output says apprun
//! associated `old.example.com`; App Runner also lists `manual.example.com`,
//! associated by hand. apprun.toml now names `app.example.com` in a hosted
//! zone where that name points elsewhere. So a deploy would disassociate
//! the old domain, associate the new one and overwrite the record, and
//! leave the hand-made domain alone.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::faults::apprun_at;
use common::*;

const STACK: &str = "apprunner-nuxt3-dev-service-web";
const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";
const DNS_TARGET: &str = "kjvp2ximbc.ap-northeast-1.awsapprunner.com";
const ZONE: &str = "Z0123456789ABCDEFGHIJ";
const R53: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const CFN: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// The operations that change something at AWS.
const WRITES: &[&str] = &[
    "AssociateCustomDomain",
    "DisassociateCustomDomain",
    "ChangeResourceRecordSets",
    "CreateChangeSet",
    "ExecuteChangeSet",
    "UpdateStack",
    "CreateStack",
];

#[derive(Default)]
struct State {
    /// Every operation asked, in order.
    log: Vec<String>,
    associated: bool,
    disassociated: bool,
}

struct FakeAws {
    endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FakeAws {
    /// Serves until the test process ends (one thread per connection).
    fn start(template: String) -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let template = Arc::new(template);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (st, template) = (st.clone(), template.clone());
                std::thread::spawn(move || serve(conn, &st, &template));
            }
        });
        FakeAws { endpoint, state }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    fn writes(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|op| WRITES.contains(&op.as_str()))
            .collect()
    }
}

fn serve(mut conn: TcpStream, state: &Mutex<State>, template: &str) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = vec![
        0;
        header("content-length")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    ];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut request_line = head[0].split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let (status, content_type, text) = match header("x-amz-target") {
        Some(target) => app_runner(state, target.rsplit('.').next().unwrap_or_default()),
        None if path.starts_with("/2013-04-01/") => route53(state, &method, &path),
        // S3 PutObject: the deploy stages the service template for the
        // pipeline (S3 API reference: an empty 200 with the ETag).
        None if method == "PUT" => {
            state.lock().unwrap().log.push("PutObject".to_owned());
            (200, "application/xml", String::new())
        }
        None => query(state, &body, template),
    };
    let answer = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = conn.write_all(answer.as_bytes());
}

fn form_field(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.replace("%2F", "/").replace("%3A", ":"))
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// CloudFormation and STS (query protocol, XML answers).
fn query(state: &Mutex<State>, body: &str, template: &str) -> (u16, &'static str, String) {
    let action = form_field(body, "Action").unwrap_or_default();
    state.lock().unwrap().log.push(action.clone());
    let ok = |x: String| (200, "text/xml", x);
    match action.as_str() {
        "DescribeStacks" if form_field(body, "StackName").as_deref() == Some(STACK) => ok(format!(
            r#"<DescribeStacksResponse xmlns="{CFN}"><DescribeStacksResult><Stacks><member><StackName>{STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Parameters><member><ParameterKey>ImageTag</ParameterKey><ParameterValue>3f2a1bc</ParameterValue></member></Parameters><Outputs><member><OutputKey>ServiceArn</OutputKey><OutputValue>{SERVICE_ARN}</OutputValue></member><member><OutputKey>ServiceUrl</OutputKey><OutputValue>https://{DNS_TARGET}</OutputValue></member><member><OutputKey>CustomDomain</OutputKey><OutputValue>old.example.com</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
        )),
        "GetTemplate" => ok(format!(
            r#"<GetTemplateResponse xmlns="{CFN}"><GetTemplateResult><TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member></StagesAvailable></GetTemplateResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetTemplateResponse>"#,
            xml_escape(template)
        )),
        "GetCallerIdentity" => ok(
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/deployer</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#.to_owned(),
        ),
        "DescribeStacks" => (
            400,
            "text/xml",
            format!(
                r#"<ErrorResponse xmlns="{CFN}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id x does not exist</Message></Error><RequestId>4</RequestId></ErrorResponse>"#
            ),
        ),
        other => (
            400,
            "text/xml",
            format!(
                r#"<ErrorResponse xmlns="{CFN}"><Error><Type>Sender</Type><Code>UnexpectedCall</Code><Message>{other}</Message></Error><RequestId>5</RequestId></ErrorResponse>"#
            ),
        ),
    }
}

fn custom_domain(name: &str, status: &str, validated: bool) -> serde_json::Value {
    let record_status = if validated {
        "SUCCESS"
    } else {
        "PENDING_VALIDATION"
    };
    serde_json::json!({
        "DomainName": name,
        "EnableWWWSubdomain": false,
        "Status": status,
        "CertificateValidationRecords": [{
            "Name": format!("_0f1e2d3c4b5a69788796a5b4c3d2e1f0.{name}."),
            "Type": "CNAME",
            "Value": "_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d.mhbtsbpdnt.acm-validations.aws.",
            "Status": record_status
        }]
    })
}

/// App Runner (awsJson1_0).
fn app_runner(state: &Mutex<State>, op: &str) -> (u16, &'static str, String) {
    let mut st = state.lock().unwrap();
    st.log.push(op.to_owned());
    let json = "application/x-amz-json-1.0";
    match op {
        "DescribeCustomDomains" => {
            let mut domains = vec![custom_domain("manual.example.com", "active", true)];
            if !st.disassociated {
                domains.push(custom_domain("old.example.com", "active", true));
            }
            if st.associated {
                domains.push(custom_domain(
                    "app.example.com",
                    "pending_certificate_dns_validation",
                    false,
                ));
            }
            let doc = serde_json::json!({
                "DNSTarget": DNS_TARGET,
                "ServiceArn": SERVICE_ARN,
                "CustomDomains": domains,
                "VpcDNSTargets": []
            });
            (200, json, doc.to_string())
        }
        "AssociateCustomDomain" | "DisassociateCustomDomain" => {
            let name = if op == "AssociateCustomDomain" {
                st.associated = true;
                "app.example.com"
            } else {
                st.disassociated = true;
                "old.example.com"
            };
            let mut d = custom_domain(name, "creating", false);
            d["CertificateValidationRecords"] = serde_json::json!([]);
            let doc = serde_json::json!({
                "DNSTarget": DNS_TARGET,
                "ServiceArn": SERVICE_ARN,
                "CustomDomain": d,
                "VpcDNSTargets": []
            });
            (200, json, doc.to_string())
        }
        other => (
            400,
            json,
            serde_json::json!({"__type": "UnexpectedCall", "message": other}).to_string(),
        ),
    }
}

/// Route 53 (REST-XML): the zone example.com, where app.example.com is a
/// CNAME to another host.
fn route53(state: &Mutex<State>, method: &str, path: &str) -> (u16, &'static str, String) {
    let xml = "text/xml";
    let op = match (method, path.contains("/rrset")) {
        ("GET", false) => "GetHostedZone",
        ("GET", true) => "ListResourceRecordSets",
        _ => "ChangeResourceRecordSets",
    };
    state.lock().unwrap().log.push(op.to_owned());
    match op {
        "GetHostedZone" => (
            200,
            xml,
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><GetHostedZoneResponse xmlns="{R53}"><HostedZone><Id>/hostedzone/{ZONE}</Id><Name>example.com.</Name><CallerReference>ref</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>3</ResourceRecordSetCount></HostedZone><DelegationSet><NameServers><NameServer>ns-1.awsdns-01.org</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>"#
            ),
        ),
        "ListResourceRecordSets" => {
            let sets = if path.contains("name=app.example.com") {
                "<ResourceRecordSet><Name>app.example.com.</Name><Type>CNAME</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>old-host.example.net.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
            } else {
                ""
            };
            (
                200,
                xml,
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><ListResourceRecordSetsResponse xmlns="{R53}"><ResourceRecordSets>{sets}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>"#
                ),
            )
        }
        _ => (
            200,
            xml,
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsResponse xmlns="{R53}"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status><SubmittedAt>2026-11-26T12:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>"#
            ),
        ),
    }
}

/// A project with the shipped config plus the dev domain, and the service
/// template apprun synthesizes from it (what the fake says is deployed).
fn project_and_template() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(workspace().join("apprun.toml")).unwrap();
    std::fs::write(
        dir.path().join("apprun.toml"),
        format!(
            "{shipped}\n[env.dev.services.web]\ndomain = \"app.example.com\"\nhosted_zone = \"{ZONE}\"\n"
        ),
    )
    .unwrap();
    std::fs::copy(
        workspace().join("Dockerfile"),
        dir.path().join("Dockerfile"),
    )
    .unwrap();
    let out = dir.path().join("synth");
    let o = apprun(
        dir.path(),
        &["synth", "--env", "dev", "--out", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let template = std::fs::read_to_string(out.join("service-web.yaml")).unwrap();
    (dir, template)
}

fn run(fake: &FakeAws, dir: &Path, args: &[&str]) -> std::process::Output {
    apprun_at(&fake.endpoint, dir, args)
        .env("AWS_REGION", "ap-northeast-1")
        .output()
        .unwrap()
}

#[test]
fn diff_shows_the_domain_plan_after_the_stacks_and_writes_nothing() {
    let (dir, template) = project_and_template();
    let fake = FakeAws::start(template);
    let o = run(
        &fake,
        dir.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--stack",
            "service-web",
            "--exit-code",
        ],
    );
    let out = stdout(&o);
    // The stack is unchanged; the domain writes are pending: exit 2.
    assert_eq!(o.status.code(), Some(2), "{out}\n{}", stderr(&o));
    let section = out
        .split("Custom domains (after the stacks):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no domain plan in:\n{out}"));
    for wanted in [
        "  web: disassociate old.example.com",
        "  web: manual.example.com is not managed by apprun",
        &format!("  web: associate app.example.com (hosted zone {ZONE})"),
        &format!("    app.example.com. CNAME {DNS_TARGET}.: OVERWRITE (now old-host.example.net.)"),
        "    certificate validation records: created in the zone once App Runner lists them",
    ] {
        assert!(section.contains(wanted), "{wanted:?} not in:\n{out}");
    }
    assert!(fake.writes().is_empty(), "{:?}", fake.log());
    assert!(fake.log().contains(&"ListResourceRecordSets".to_owned()));

    // The same as JSON.
    let o = run(
        &fake,
        dir.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--stack",
            "service-web",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    let web = &doc["domains"]["services"][0];
    assert_eq!(web["associate"], true);
    assert_eq!(web["disassociate"], "old.example.com");
    assert_eq!(
        web["not_managed"],
        serde_json::json!(["manual.example.com"])
    );
    assert_eq!(web["records"][0]["action"], "overwrite");
    assert_eq!(doc["changes"], true);
    assert!(fake.writes().is_empty(), "{:?}", fake.log());
}

#[test]
fn deploy_shows_the_domain_writes_and_without_yes_and_a_terminal_refuses() {
    let (dir, template) = project_and_template();
    let fake = FakeAws::start(template);
    let o = run(
        &fake,
        dir.path(),
        &["deploy", "--env", "dev", "--stack", "service-web"],
    );
    let err = stderr(&o);
    // Refused like a stacks' review nobody could answer: exit 4.
    assert_eq!(o.status.code(), Some(4), "{}\n{err}", stdout(&o));
    let review = err
        .find("Custom domains (App Runner and Route 53, written after the stacks):")
        .unwrap_or_else(|| panic!("no review in:\n{err}"));
    let refused = err.find("not asking").unwrap_or_else(|| panic!("{err}"));
    assert!(review < refused, "{err}");
    assert!(
        err.contains("OVERWRITE (now old-host.example.net.)"),
        "{err}"
    );
    assert!(
        err.contains("no custom domain or DNS record was changed"),
        "{err}"
    );
    assert!(fake.writes().is_empty(), "{:?}", fake.log());
    // Asked before the stacks: the refusal came before the engine even
    // compared the service's template.
    assert!(
        !fake.log().contains(&"GetTemplate".to_owned()),
        "{:?}",
        fake.log()
    );

    // With --yes: exactly the reviewed writes, the hand-made domain kept.
    let o = run(
        &fake,
        dir.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--stack",
            "service-web",
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fake.writes(),
        [
            "DisassociateCustomDomain",
            "AssociateCustomDomain",
            "ChangeResourceRecordSets"
        ]
    );
    let doc = json(&o);
    let web = &doc["domains"]["services"][0];
    assert_eq!(web["disassociated"], serde_json::json!(["old.example.com"]));
    assert_eq!(
        web["not_managed"],
        serde_json::json!(["manual.example.com"])
    );
    assert_eq!(web["associated"], true);
}
