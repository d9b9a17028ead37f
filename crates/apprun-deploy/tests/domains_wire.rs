//! Custom domains of App Runner services against hand-written wire
//! responses: bodies written from the AWS API references, not recorded from
//! AWS. App Runner in awsJson1_0 (DescribeCustomDomains,
//! AssociateCustomDomain, DisassociateCustomDomain; the operation named by
//! `X-Amz-Target: AppRunner.<Op>`, errors as `{"__type", "message"}`), Route
//! 53 in REST-XML (GetHostedZone, ListResourceRecordSets,
//! ChangeResourceRecordSets: the operation named by method and path, errors
//! as `<ErrorResponse>` or `<InvalidChangeBatch>`). App Runner answers from
//! a script per operation (the last answer repeats); the hosted zone is a
//! small record store the Route 53 answers are written from, so a second run
//! sees what the first one created. Nothing leaves the test process.

mod common;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_deploy::{
    Clients, DeployError, DomainTarget, PlannedAction, RecordAction, Tuning, apply_domains_until,
    plan_domains, reconcile_domains,
};
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

const REGION: &str = "ap-northeast-1";
const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";
const DNS_TARGET: &str = "kjvp2ximbc.ap-northeast-1.awsapprunner.com";
const ZONE: &str = "Z0123456789ABCDEFGHIJ";
/// App Runner's alias hosted zone in ap-northeast-1 (AWS General Reference).
const APPRUNNER_ZONE: &str = "Z08491812XW6IPYLR6CCA";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// A record set in the fake zone: type, TTL, values, alias (zone, name).
#[derive(Clone, Debug, PartialEq)]
struct Rrset {
    ttl: Option<u32>,
    values: Vec<String>,
    alias: Option<(String, String)>,
}

/// App Runner answers queued per operation: (HTTP status, body).
type Script = HashMap<String, VecDeque<(u16, String)>>;

#[derive(Clone, Default)]
struct Fake {
    /// App Runner answers per operation: (HTTP status, body).
    script: Arc<Mutex<Script>>,
    /// The hosted zone's records by (name, type).
    zone: Arc<Mutex<BTreeMap<(String, String), Rrset>>>,
    /// The next ChangeResourceRecordSets answer, when it is an error.
    change_error: Arc<Mutex<Option<(u16, String)>>>,
    /// Every request: (operation, body).
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl common::Answers for Fake {
    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        Fake::answer(self, request)
    }
}

impl Fake {
    fn on(&self, operation: &str, status: u16, body: impl Into<String>) -> &Self {
        self.script
            .lock()
            .unwrap()
            .entry(operation.to_owned())
            .or_default()
            .push_back((status, body.into()));
        self
    }

    fn put(&self, name: &str, rtype: &str, set: Rrset) {
        self.zone
            .lock()
            .unwrap()
            .insert((name.to_owned(), rtype.to_owned()), set);
    }

    fn record(&self, name: &str, rtype: &str) -> Option<Rrset> {
        self.zone
            .lock()
            .unwrap()
            .get(&(name.to_owned(), rtype.to_owned()))
            .cloned()
    }

    fn operations(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(o, _)| o.clone())
            .collect()
    }

    fn bodies(&self, operation: &str) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(o, _)| o == operation)
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let body = std::str::from_utf8(req.body().bytes().unwrap_or_default())
            .unwrap_or_default()
            .to_owned();
        let target = req
            .headers()
            .get("x-amz-target")
            .map(|t| t.rsplit('.').next().unwrap_or_default().to_owned());
        let (operation, status, text, content_type) = match target {
            Some(op) => {
                let (status, text) = self.scripted(&op);
                (op, status, text, "application/x-amz-json-1.0")
            }
            None => {
                let (op, status, text) = self.route53(req.method(), req.uri(), &body);
                (op, status, text, "text/xml")
            }
        };
        self.requests.lock().unwrap().push((operation, body));
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
        response.headers_mut().insert("content-type", content_type);
        response
    }

    fn scripted(&self, operation: &str) -> (u16, String) {
        let mut script = self.script.lock().unwrap();
        match script.get_mut(operation) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap(),
            Some(q) if !q.is_empty() => q.front().cloned().unwrap(),
            _ => (
                400,
                json!({"__type": "UnexpectedCall", "message": operation}).to_string(),
            ),
        }
    }

    /// Route 53's REST-XML operations, answered from the zone.
    fn route53(&self, method: &str, uri: &str, body: &str) -> (String, u16, String) {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let path = path.trim_start_matches(|c| c != '/').to_owned();
        let path = path
            .find("/2013-04-01/")
            .map(|at| path[at..].to_owned())
            .unwrap_or(path);
        if method == "GET" && path == format!("/2013-04-01/hostedzone/{ZONE}") {
            let text = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<GetHostedZoneResponse xmlns="{XMLNS}">
  <HostedZone>
    <Id>/hostedzone/{ZONE}</Id>
    <Name>example.com.</Name>
    <CallerReference>apprun-test</CallerReference>
    <Config><PrivateZone>false</PrivateZone></Config>
    <ResourceRecordSetCount>2</ResourceRecordSetCount>
  </HostedZone>
  <DelegationSet><NameServers><NameServer>ns-1.awsdns-01.org</NameServer></NameServers></DelegationSet>
</GetHostedZoneResponse>"#
            );
            return ("GetHostedZone".into(), 200, text);
        }
        if method == "GET" && path == format!("/2013-04-01/hostedzone/{ZONE}/rrset") {
            return ("ListResourceRecordSets".into(), 200, self.list(query));
        }
        if method == "POST" && path == format!("/2013-04-01/hostedzone/{ZONE}/rrset/") {
            if let Some((status, text)) = self.change_error.lock().unwrap().take() {
                return ("ChangeResourceRecordSets".into(), status, text);
            }
            self.apply(body);
            let text = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsResponse xmlns="{XMLNS}">
  <ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status><SubmittedAt>2026-11-26T10:00:00.000Z</SubmittedAt><Comment>apprun</Comment></ChangeInfo>
</ChangeResourceRecordSetsResponse>"#
            );
            return ("ChangeResourceRecordSets".into(), 200, text);
        }
        let text = format!(
            r#"<?xml version="1.0"?><ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: {path}</Message></Error><RequestId>r-404</RequestId></ErrorResponse>"#
        );
        ("Unknown".into(), 404, text)
    }

    /// ListResourceRecordSets from (name, type): the record sets in name
    /// then type order from there (a simplification of Route 53's order
    /// by reversed labels, enough for exact look-ups), `maxitems` of them.
    fn list(&self, query: &str) -> String {
        let params: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), decode(v)))
            .collect();
        let start = (
            params.get("name").cloned().unwrap_or_default(),
            params.get("type").cloned().unwrap_or_default(),
        );
        let max: usize = params
            .get("maxitems")
            .and_then(|m| m.parse().ok())
            .unwrap_or(100);
        let zone = self.zone.lock().unwrap();
        let mut sets = String::new();
        let from: Vec<_> = zone.range(start..).collect();
        for ((name, rtype), set) in from.iter().take(max) {
            sets.push_str(&format!(
                "<ResourceRecordSet><Name>{name}</Name><Type>{rtype}</Type>"
            ));
            match &set.alias {
                Some((z, dns)) => sets.push_str(&format!(
                    "<AliasTarget><HostedZoneId>{z}</HostedZoneId><DNSName>{dns}</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>"
                )),
                None => {
                    if let Some(ttl) = set.ttl {
                        sets.push_str(&format!("<TTL>{ttl}</TTL>"));
                    }
                    sets.push_str("<ResourceRecords>");
                    for v in &set.values {
                        sets.push_str(&format!("<ResourceRecord><Value>{v}</Value></ResourceRecord>"));
                    }
                    sets.push_str("</ResourceRecords>");
                }
            }
            sets.push_str("</ResourceRecordSet>");
        }
        let truncated = from.len() > max;
        let next = match from.get(max) {
            Some(((n, t), _)) if truncated => {
                format!("<NextRecordName>{n}</NextRecordName><NextRecordType>{t}</NextRecordType>")
            }
            _ => String::new(),
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="{XMLNS}">
  <ResourceRecordSets>{sets}</ResourceRecordSets>
  <IsTruncated>{truncated}</IsTruncated>{next}
  <MaxItems>{max}</MaxItems>
</ListResourceRecordSetsResponse>"#
        )
    }

    /// Applies the UPSERTs of a ChangeResourceRecordSets request document.
    fn apply(&self, body: &str) {
        for change in body.split("<Change>").skip(1) {
            let field = |name: &str| {
                change
                    .split(&format!("<{name}>"))
                    .nth(1)
                    .and_then(|r| r.split(&format!("</{name}>")).next())
                    .map(str::to_owned)
            };
            assert_eq!(field("Action").as_deref(), Some("UPSERT"), "{change}");
            let set = Rrset {
                ttl: field("TTL").and_then(|t| t.parse().ok()),
                values: change
                    .split("<Value>")
                    .skip(1)
                    .filter_map(|r| r.split("</Value>").next())
                    .map(str::to_owned)
                    .collect(),
                alias: field("HostedZoneId").zip(field("DNSName")),
            };
            self.put(&field("Name").unwrap(), &field("Type").unwrap(), set);
        }
    }

    async fn clients(&self) -> Clients {
        let http = common::http_client(self.clone());
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new(REGION))
            .test_credentials()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        let tuning = Tuning {
            poll: Duration::from_millis(1),
            initial_backoff: Duration::from_millis(1),
            max_attempts: 1,
        };
        Clients::from_sdk_config(&config, tuning)
    }
}

/// Percent-decoding of a query value.
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

// ---- App Runner answers (App Runner API reference: CustomDomain,
// CertificateValidationRecord; statuses in lower case as the wire has them).

fn validation(status: &str) -> Value {
    json!([{
        "Name": "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
        "Type": "CNAME",
        "Value": "_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.mhbtsbpdnt.acm-validations.aws.",
        "Status": status
    }])
}

fn domain(name: &str, status: &str, records: Value) -> Value {
    json!({
        "DomainName": name,
        "EnableWWWSubdomain": false,
        "Status": status,
        "CertificateValidationRecords": records
    })
}

fn described(domains: Vec<Value>) -> String {
    json!({
        "DNSTarget": DNS_TARGET,
        "ServiceArn": SERVICE_ARN,
        "CustomDomains": domains,
        "VpcDNSTargets": []
    })
    .to_string()
}

fn associated(d: Value) -> String {
    json!({
        "DNSTarget": DNS_TARGET,
        "ServiceArn": SERVICE_ARN,
        "CustomDomain": d,
        "VpcDNSTargets": []
    })
    .to_string()
}

/// A target whose stack had no `CustomDomain` output before the run, or
/// had the configured domain (apprun associated nothing else).
fn target(domain: Option<&str>, zone: Option<&str>) -> DomainTarget {
    DomainTarget {
        service: "web".into(),
        service_arn: SERVICE_ARN.into(),
        domain: domain.map(str::to_owned),
        hosted_zone: zone.map(str::to_owned),
        managed: domain.map(str::to_owned),
    }
}

/// A target whose stack said, before the run, that apprun associated
/// `managed`.
fn owned(domain: Option<&str>, zone: Option<&str>, managed: &str) -> DomainTarget {
    DomainTarget {
        managed: Some(managed.to_owned()),
        ..target(domain, zone)
    }
}

/// A stop signal that never comes.
fn never() -> tokio::sync::watch::Receiver<bool> {
    let (signal, stop) = tokio::sync::watch::channel(false);
    std::mem::forget(signal);
    stop
}

fn writes(clients: &Clients) -> Vec<String> {
    clients
        .calls
        .mutating()
        .into_iter()
        .map(|c| c.operation)
        .collect()
}

#[tokio::test]
async fn associate_then_pending_validation_then_active_records_created_once() {
    let fake = Fake::default();
    fake.on("DescribeCustomDomains", 200, described(vec![]));
    // App Runner lists the validation records a few seconds after the
    // association: first `creating` without them, then pending validation.
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain("app.example.com", "creating", json!([]))]),
    );
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    fake.on(
        "AssociateCustomDomain",
        200,
        associated(domain("app.example.com", "creating", json!([]))),
    );
    let clients = fake.clients().await;
    let targets = [target(Some("app.example.com"), Some(ZONE))];

    let report = reconcile_domains(&clients, &targets).await.unwrap();
    let web = &report.services[0];
    assert!(web.associated);
    assert_eq!(
        web.status.as_deref(),
        Some("pending_certificate_dns_validation")
    );
    assert_eq!(web.certificate.as_deref(), Some("pending_validation"));
    let actions: Vec<_> = web
        .records
        .iter()
        .map(|r| {
            (
                r.record.name.as_str(),
                r.record.record_type.as_str(),
                r.action,
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (
                "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
                "CNAME",
                RecordAction::Created
            ),
            ("app.example.com.", "CNAME", RecordAction::Created),
        ]
    );
    assert_eq!(
        writes(&clients),
        ["AssociateCustomDomain", "ChangeResourceRecordSets"]
    );
    // The association asked for exactly the configured domain, no www.
    let sent: Value = serde_json::from_str(&fake.bodies("AssociateCustomDomain")[0]).unwrap();
    assert_eq!(
        sent,
        json!({"ServiceArn": SERVICE_ARN, "DomainName": "app.example.com", "EnableWWWSubdomain": false})
    );
    // One change batch, both UPSERTs; the zone now holds both records.
    assert_eq!(fake.bodies("ChangeResourceRecordSets").len(), 1);
    assert_eq!(
        fake.record("app.example.com.", "CNAME").unwrap(),
        Rrset {
            ttl: Some(300),
            values: vec![format!("{DNS_TARGET}.")],
            alias: None
        }
    );
    assert_eq!(
        fake.record(
            "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
            "CNAME"
        )
        .unwrap()
        .values,
        vec!["_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.mhbtsbpdnt.acm-validations.aws.".to_owned()]
    );
    assert!(report.lines().iter().any(|l| l.contains("app.example.com pending_certificate_dns_validation (associated now), certificate pending_validation")), "{:?}", report.lines());

    // A second run with nothing changed makes no write.
    let before = clients.calls.calls().len();
    let again = reconcile_domains(&clients, &targets).await.unwrap();
    assert!(!again.wrote());
    assert_eq!(
        writes(&clients),
        ["AssociateCustomDomain", "ChangeResourceRecordSets"]
    );
    assert!(
        again.services[0]
            .records
            .iter()
            .all(|r| r.action == RecordAction::Unchanged)
    );
    let reads: Vec<String> = clients.calls.calls()[before..]
        .iter()
        .map(|c| c.operation.clone())
        .collect();
    assert_eq!(
        reads,
        [
            "DescribeCustomDomains",
            "GetHostedZone",
            "ListResourceRecordSets",
            "ListResourceRecordSets"
        ]
    );

    // App Runner validated the certificate: active, still no write.
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "active",
            validation("SUCCESS"),
        )]),
    );
    fake.script
        .lock()
        .unwrap()
        .get_mut("DescribeCustomDomains")
        .unwrap()
        .pop_front();
    let active = reconcile_domains(&clients, &targets).await.unwrap();
    assert_eq!(active.services[0].status.as_deref(), Some("active"));
    assert_eq!(active.services[0].certificate.as_deref(), Some("success"));
    assert!(
        active.services[0].next.is_empty(),
        "{:?}",
        active.services[0].next
    );
    assert_eq!(writes(&clients).len(), 2);
}

#[tokio::test]
async fn only_missing_or_different_records_are_upserted() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    // The validation record is in place; the domain points elsewhere.
    fake.put(
        "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
        "CNAME",
        Rrset {
            ttl: Some(60),
            values: vec!["_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.mhbtsbpdnt.acm-validations.aws".into()],
            alias: None,
        },
    );
    fake.put(
        "app.example.com.",
        "CNAME",
        Rrset {
            ttl: Some(60),
            values: vec!["old-host.example.net.".into()],
            alias: None,
        },
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[target(Some("app.example.com"), Some(ZONE))])
        .await
        .unwrap();
    let web = &report.services[0];
    assert!(!web.associated);
    assert_eq!(web.records[0].action, RecordAction::Unchanged);
    assert_eq!(web.records[1].action, RecordAction::Updated);
    assert_eq!(web.records[1].was.as_deref(), Some("old-host.example.net."));
    let batch = &fake.bodies("ChangeResourceRecordSets")[0];
    assert_eq!(batch.matches("<Change>").count(), 1, "{batch}");
    assert!(batch.contains("<Name>app.example.com.</Name>"), "{batch}");
    assert_eq!(writes(&clients), ["ChangeResourceRecordSets"]);
}

#[tokio::test]
async fn an_apex_domain_gets_an_alias_to_app_runners_hosted_zone() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "example.com",
            "pending_certificate_dns_validation",
            json!([{
                "Name": "_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d.example.com.",
                "Type": "CNAME",
                "Value": "_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c.mhbtsbpdnt.acm-validations.aws.",
                "Status": "PENDING_VALIDATION"
            }]),
        )]),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[target(Some("example.com"), Some(ZONE))])
        .await
        .unwrap();
    let apex = report.services[0]
        .records
        .iter()
        .find(|r| r.record.name == "example.com.")
        .unwrap();
    assert_eq!(apex.record.record_type, "A");
    assert_eq!(apex.record.alias_zone.as_deref(), Some(APPRUNNER_ZONE));
    let batch = &fake.bodies("ChangeResourceRecordSets")[0];
    assert!(
        batch.contains(&format!(
            "<Name>example.com.</Name><Type>A</Type><AliasTarget><HostedZoneId>{APPRUNNER_ZONE}</HostedZoneId><DNSName>{DNS_TARGET}.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>"
        )),
        "{batch}"
    );
    assert_eq!(
        fake.record("example.com.", "A").unwrap().alias,
        Some((APPRUNNER_ZONE.to_owned(), format!("{DNS_TARGET}.")))
    );
    // Nothing to do the second time.
    let again = reconcile_domains(&clients, &[target(Some("example.com"), Some(ZONE))])
        .await
        .unwrap();
    assert!(!again.wrote());
    assert_eq!(writes(&clients), ["ChangeResourceRecordSets"]);
}

#[tokio::test]
async fn without_a_hosted_zone_the_records_are_printed_exactly() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[target(Some("app.example.com"), None)])
        .await
        .unwrap();
    assert!(
        report.services[0]
            .records
            .iter()
            .all(|r| r.action == RecordAction::ToCreate)
    );
    let lines = report.lines();
    assert!(lines.contains(&"  _5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com. CNAME _8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.mhbtsbpdnt.acm-validations.aws.: create it".to_owned()), "{lines:?}");
    assert!(
        lines.contains(&format!(
            "  app.example.com. CNAME {DNS_TARGET}.: create it"
        )),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("create these records at your DNS provider")),
        "{lines:?}"
    );
    // Only App Runner was asked; Route 53 not at all, nothing written.
    assert_eq!(fake.operations(), ["DescribeCustomDomains"]);
    assert!(writes(&clients).is_empty());
    // JSON carries the same records, names and types as printed.
    let doc = serde_json::to_value(&report).unwrap();
    assert_eq!(doc["services"][0]["records"][1]["type"], "CNAME");
    assert_eq!(doc["services"][0]["records"][1]["action"], "to_create");
}

#[tokio::test]
async fn removing_the_domain_apprun_associated_disassociates_it() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "active",
            validation("SUCCESS"),
        )]),
    );
    fake.on(
        "DisassociateCustomDomain",
        200,
        associated(domain("app.example.com", "deleting", validation("SUCCESS"))),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[owned(None, None, "app.example.com")])
        .await
        .unwrap();
    assert_eq!(report.services[0].disassociated, ["app.example.com"]);
    let sent: Value = serde_json::from_str(&fake.bodies("DisassociateCustomDomain")[0]).unwrap();
    assert_eq!(
        sent,
        json!({"ServiceArn": SERVICE_ARN, "DomainName": "app.example.com"})
    );
    assert_eq!(writes(&clients), ["DisassociateCustomDomain"]);
    assert!(
        report.lines()[0].starts_with("web: disassociated app.example.com"),
        "{:?}",
        report.lines()
    );

    // A domain App Runner is already deleting is left alone.
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "deleting",
            validation("SUCCESS"),
        )]),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[owned(None, None, "app.example.com")])
        .await
        .unwrap();
    assert!(report.services[0].disassociated.is_empty());
    assert!(writes(&clients).is_empty());
}

#[tokio::test]
async fn a_domain_apprun_associated_is_swapped_for_the_new_one_and_a_hand_made_one_kept() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![
            domain("old.example.com", "active", validation("SUCCESS")),
            domain("manual.example.com", "active", validation("SUCCESS")),
        ]),
    );
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![
            domain("manual.example.com", "active", validation("SUCCESS")),
            domain(
                "app.example.com",
                "pending_certificate_dns_validation",
                validation("PENDING_VALIDATION"),
            ),
        ]),
    );
    fake.on(
        "DisassociateCustomDomain",
        200,
        associated(domain("old.example.com", "deleting", validation("SUCCESS"))),
    );
    fake.on(
        "AssociateCustomDomain",
        200,
        associated(domain("app.example.com", "creating", json!([]))),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(
        &clients,
        &[owned(Some("app.example.com"), None, "old.example.com")],
    )
    .await
    .unwrap();
    let web = &report.services[0];
    assert_eq!(web.disassociated, ["old.example.com"]);
    assert!(web.associated);
    assert_eq!(web.not_managed, ["manual.example.com"]);
    assert_eq!(
        writes(&clients),
        ["DisassociateCustomDomain", "AssociateCustomDomain"]
    );
    let sent: Value = serde_json::from_str(&fake.bodies("DisassociateCustomDomain")[0]).unwrap();
    assert_eq!(sent["DomainName"], "old.example.com");
}

#[tokio::test]
async fn a_domain_associated_elsewhere_is_reported_with_what_to_do() {
    let fake = Fake::default();
    fake.on("DescribeCustomDomains", 200, described(vec![]));
    fake.on(
        "AssociateCustomDomain",
        400,
        json!({
            "__type": "InvalidRequestException",
            "message": "Domain app.example.com is already associated with another App Runner service"
        })
        .to_string(),
    );
    let clients = fake.clients().await;
    let err = reconcile_domains(&clients, &[target(Some("app.example.com"), Some(ZONE))])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(
        err,
        DeployError::Aws {
            operation: "AssociateCustomDomain",
            ..
        }
    ));
    assert!(
        text.contains("InvalidRequestException: Domain app.example.com is already associated"),
        "{text}"
    );
    assert!(text.contains("disassociate it there"), "{text}");
    assert!(
        !fake
            .operations()
            .contains(&"ChangeResourceRecordSets".to_owned())
    );
}

#[tokio::test]
async fn an_invalid_change_batch_is_reported_with_what_to_do() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    *fake.change_error.lock().unwrap() = Some((
        400,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<InvalidChangeBatch xmlns="{XMLNS}"><Messages><Message>RRSet of type CNAME with DNS name app.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.</Message></Messages><RequestId>b25f48e8-84fd-11e6-80d9-574e0c4664cb</RequestId></InvalidChangeBatch>"#
        ),
    ));
    let clients = fake.clients().await;
    let err = reconcile_domains(&clients, &[target(Some("app.example.com"), Some(ZONE))])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "ChangeResourceRecordSets failed: InvalidChangeBatch: RRSet of type CNAME"
        ),
        "{text}"
    );
    assert!(
        text.contains("no record was changed in hosted zone"),
        "{text}"
    );
    assert!(text.contains("delete the conflicting record"), "{text}");
    assert!(fake.record("app.example.com.", "CNAME").is_none());
}

#[tokio::test]
async fn a_domain_outside_the_hosted_zone_is_refused_before_any_record() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.org",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    let clients = fake.clients().await;
    let err = reconcile_domains(&clients, &[target(Some("app.example.org"), Some(ZONE))])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("is not in hosted zone {ZONE} (example.com)")),
        "{err}"
    );
    assert!(writes(&clients).is_empty());
}

#[tokio::test]
async fn a_domain_associated_by_hand_is_left_alone_and_reported() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![
            domain("manual.example.com", "active", validation("SUCCESS")),
            domain("app.example.com", "active", validation("SUCCESS")),
        ]),
    );
    let clients = fake.clients().await;
    let report = reconcile_domains(&clients, &[target(Some("app.example.com"), None)])
        .await
        .unwrap();
    let web = &report.services[0];
    assert!(web.disassociated.is_empty());
    assert_eq!(web.not_managed, ["manual.example.com"]);
    assert!(!web.associated);
    assert_eq!(web.status.as_deref(), Some("active"));
    assert!(writes(&clients).is_empty());
    assert!(
        report
            .lines()
            .iter()
            .any(|l| l.starts_with("web: manual.example.com is not managed by apprun")),
        "{:?}",
        report.lines()
    );
    // The same without any domain in the config, and none apprun
    // associated: still left alone.
    let report = reconcile_domains(&clients, &[target(None, None)])
        .await
        .unwrap();
    assert!(report.services[0].disassociated.is_empty());
    assert!(writes(&clients).is_empty());
}

#[tokio::test]
async fn the_plan_reads_only_and_shows_an_overwrite_before_it_happens() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![
            domain("old.example.com", "active", validation("SUCCESS")),
            domain(
                "app.example.com",
                "pending_certificate_dns_validation",
                validation("PENDING_VALIDATION"),
            ),
        ]),
    );
    fake.on(
        "DisassociateCustomDomain",
        200,
        associated(domain("old.example.com", "deleting", validation("SUCCESS"))),
    );
    fake.put(
        "app.example.com.",
        "CNAME",
        Rrset {
            ttl: Some(60),
            values: vec!["old-host.example.net.".into()],
            alias: None,
        },
    );
    let clients = fake.clients().await;
    let targets = [owned(
        Some("app.example.com"),
        Some(ZONE),
        "old.example.com",
    )];
    let plan = plan_domains(&clients, &targets).await.unwrap();
    // Reading only: no write yet, and the plan says what will be written.
    assert!(writes(&clients).is_empty());
    assert!(plan.writes());
    let web = &plan.services[0];
    assert_eq!(web.disassociate.as_deref(), Some("old.example.com"));
    assert!(!web.associate);
    let own = web
        .records
        .iter()
        .find(|r| r.record.name == "app.example.com.")
        .unwrap();
    assert_eq!(own.action, PlannedAction::Overwrite);
    assert_eq!(own.was.as_deref(), Some("old-host.example.net."));
    let lines = plan.lines();
    assert!(
        lines.contains(&format!(
            "  app.example.com. CNAME {DNS_TARGET}.: OVERWRITE (now old-host.example.net.)"
        )),
        "{lines:?}"
    );
    assert!(
        lines[0].starts_with("web: disassociate old.example.com"),
        "{lines:?}"
    );
    let doc = serde_json::to_value(&plan).unwrap();
    assert_eq!(doc["services"][0]["records"][1]["action"], "overwrite");
    // Applying the reviewed plan writes exactly that, reading nothing again.
    let reads_before = fake.operations().len();
    let report = apply_domains_until(&clients, &targets, &plan, never())
        .await
        .unwrap();
    assert_eq!(
        writes(&clients),
        ["DisassociateCustomDomain", "ChangeResourceRecordSets"]
    );
    assert_eq!(
        fake.operations()[reads_before..],
        ["DisassociateCustomDomain", "ChangeResourceRecordSets"]
    );
    assert_eq!(report.services[0].records[1].action, RecordAction::Updated);
}

#[tokio::test]
async fn a_record_pointing_elsewhere_that_the_plan_did_not_show_is_kept() {
    // The domain is new: its validation records are listed only after the
    // association, so the plan could not show them; one of them is in the
    // zone with another value.
    let fake = Fake::default();
    fake.on("DescribeCustomDomains", 200, described(vec![]));
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "app.example.com",
            "pending_certificate_dns_validation",
            validation("PENDING_VALIDATION"),
        )]),
    );
    fake.on(
        "AssociateCustomDomain",
        200,
        associated(domain("app.example.com", "creating", json!([]))),
    );
    fake.put(
        "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
        "CNAME",
        Rrset {
            ttl: Some(60),
            values: vec!["_elsewhere.acm-validations.aws.".into()],
            alias: None,
        },
    );
    let clients = fake.clients().await;
    let targets = [target(Some("app.example.com"), Some(ZONE))];
    let plan = plan_domains(&clients, &targets).await.unwrap();
    assert!(plan.services[0].associate);
    assert!(plan.services[0].validation_records_pending);
    let report = apply_domains_until(&clients, &targets, &plan, never())
        .await
        .unwrap();
    let web = &report.services[0];
    let kept = web
        .records
        .iter()
        .find(|r| r.record.name.starts_with("_5f3c"))
        .unwrap();
    assert_eq!(kept.action, RecordAction::Kept);
    assert!(
        web.next
            .iter()
            .any(|n| n.contains("was not in the reviewed plan")),
        "{:?}",
        web.next
    );
    // The domain's own CNAME (missing, shown in the plan) is created; the
    // validation record keeps its value.
    let batch = &fake.bodies("ChangeResourceRecordSets")[0];
    assert_eq!(batch.matches("<Change>").count(), 1, "{batch}");
    assert_eq!(
        fake.record(
            "_5f3c1ad2e7b9a8c6d4e2f0a1b3c5d7e9.app.example.com.",
            "CNAME"
        )
        .unwrap()
        .values,
        vec!["_elsewhere.acm-validations.aws.".to_owned()]
    );
}

#[tokio::test]
async fn after_a_stop_signal_nothing_is_written() {
    let fake = Fake::default();
    fake.on(
        "DescribeCustomDomains",
        200,
        described(vec![domain(
            "manual.example.com",
            "active",
            validation("SUCCESS"),
        )]),
    );
    let clients = fake.clients().await;
    let (_signal, stopped) = tokio::sync::watch::channel(true);
    let err = apprun_deploy::reconcile_domains_until(
        &clients,
        &[owned(
            Some("app.example.com"),
            Some(ZONE),
            "manual.example.com",
        )],
        stopped,
    )
    .await
    .unwrap_err();
    let DeployError::Interrupted { states } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        states,
        &[(
            "custom domain of service web".to_owned(),
            "nothing sent; its DNS records not changed; `apprun deploy` again finishes it"
                .to_owned()
        )]
    );
    // It read what is there (the plan), and sent nothing.
    assert_eq!(
        fake.operations(),
        [
            "DescribeCustomDomains",
            "GetHostedZone",
            "ListResourceRecordSets"
        ]
    );
    assert!(writes(&clients).is_empty());
}
