//! One broken template per structural check and per policy rule, each
//! asserting exactly which rule fires on which resource (and nothing else).

use std::collections::BTreeSet;
use std::path::Path;

use apprun_check::{Context, GuardRules, Input, Report, Severity, check};
use apprun_template::parse_template;

fn corpus(name: &str) -> (String, apprun_template::Template) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let t = parse_template(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    (text, t)
}

fn run(names: &[&str], ctx: &Context, guard: Option<&GuardRules>) -> Report {
    let parsed: Vec<(String, String, apprun_template::Template)> = names
        .iter()
        .map(|n| {
            let (text, t) = corpus(n);
            (n.to_string(), text, t)
        })
        .collect();
    let inputs: Vec<Input<'_>> = parsed
        .iter()
        .map(|(file, text, t)| Input {
            file: file.clone(),
            stack: None,
            template: t,
            text: Some(text.clone()),
        })
        .collect();
    check(&inputs, ctx, guard)
}

fn found(report: &Report) -> BTreeSet<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| (f.rule.to_string(), f.logical_id.to_string()))
        .collect()
}

fn expect(name: &str, want: &[(&str, &str)]) -> Report {
    let report = run(&[name], &Context::default(), None);
    let want: BTreeSet<(String, String)> = want
        .iter()
        .map(|(r, id)| (r.to_string(), id.to_string()))
        .collect();
    assert_eq!(found(&report), want, "{name}: {:#?}", report.findings);
    report
}

#[test]
fn structural_checks() {
    expect("unknown-type.yaml", &[("E-TYPE-UNKNOWN", "Vpc")]);
    let r = expect("unknown-property.yaml", &[("E-PROP-UNKNOWN", "Vpc")]);
    assert!(
        r.findings[0]
            .message
            .contains("`CidrBlok` is not a property here; allowed: CidrBlock"),
        "{}",
        r.findings[0].message
    );
    assert_eq!(r.findings[0].path, "Resources/Vpc/Properties/CidrBlok");
    assert_eq!(
        r.findings[0].line,
        Some(5),
        "YAML findings carry their line"
    );
    let r = expect("missing-required.yaml", &[("E-PROP-REQUIRED", "Service")]);
    assert!(r.findings[0].message.contains("`SourceConfiguration`"));
    let r = expect("wrong-type.yaml", &[("E-PROP-TYPE", "Subnet")]);
    assert_eq!(
        r.findings[0].path,
        "Resources/Subnet/Properties/MapPublicIpOnLaunch"
    );
    let r = expect("bad-enum.yaml", &[("E-PROP-ENUM", "Repo")]);
    assert!(
        r.findings[0]
            .message
            .contains("allowed: MUTABLE, IMMUTABLE"),
        "{}",
        r.findings[0].message
    );
    let r = expect("bad-cpu.yaml", &[("E-PROP-PATTERN", "Service")]);
    assert_eq!(
        r.findings[0].path,
        "Resources/Service/Properties/InstanceConfiguration/Cpu"
    );
    assert_eq!(r.findings[0].line, Some(10));
    let r = expect("bad-getatt-attribute.yaml", &[("E-GETATT-ATTR", "VpcArn")]);
    assert!(
        r.findings[0].message.contains("has no attribute `Arn`")
            && r.findings[0].message.contains("VpcId")
    );
    expect(
        "undefined-references.yaml",
        &[("E-REF", "Topic"), ("E-GETATT", "Other")],
    );
    expect("circular.yaml", &[("E-CYCLE", "A")]);
    expect("subnet-outside.yaml", &[("E-SUBNET-OUTSIDE", "Outside")]);
    expect("subnet-overlap.yaml", &[("E-SUBNET-OVERLAP", "Second")]);
    let r = expect(
        "limits.yaml",
        &[
            ("E-PROP-LENGTH", "ShortName"),
            ("E-PROP-PATTERN", "UpperName"),
            ("E-PROP-RANGE", "Service"),
        ],
    );
    let range = r
        .findings
        .iter()
        .find(|f| f.rule == "E-PROP-RANGE")
        .unwrap();
    assert_eq!(
        range.path,
        "Resources/Service/Properties/HealthCheckConfiguration/Interval"
    );
    assert!(
        range.message.contains("25 is above the maximum 20"),
        "{}",
        range.message
    );
}

#[test]
fn exports_across_templates() {
    let open = run(
        &["exports-a.yaml", "exports-b.json"],
        &Context::default(),
        None,
    );
    assert_eq!(
        found(&open),
        BTreeSet::from([
            ("E-EXPORT-DUPLICATE".to_owned(), "QueueArn".to_owned()),
            ("E-IMPORT-UNRESOLVED".to_owned(), String::new())
        ])
    );
    let unresolved = open
        .findings
        .iter()
        .find(|f| f.rule == "E-IMPORT-UNRESOLVED")
        .unwrap();
    assert_eq!(
        unresolved.severity,
        Severity::Warning,
        "hand-written templates may import from elsewhere"
    );
    assert_eq!(&*unresolved.file, "exports-b.json");
    let closed = run(
        &["exports-a.yaml", "exports-b.json"],
        &Context {
            closed_world: true,
            ..Context::default()
        },
        None,
    );
    assert_eq!(
        closed.errors(),
        2,
        "in an env every import must resolve: {:#?}",
        closed.findings
    );
}

#[test]
fn the_references_flaws_get_the_findings_they_deserve() {
    let r = expect(
        "reference-pipeline-role.yaml",
        &[
            ("APR-IAM-001", "CodePipelineServiceRole"),
            ("APR-IAM-002", "CodePipelineServiceRole"),
            ("APR-IAM-003", "CodePipelineServiceRole"),
        ],
    );
    let managed: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "APR-IAM-003")
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        managed,
        [
            "Resources/CodePipelineServiceRole/Properties/ManagedPolicyArns/0",
            "Resources/CodePipelineServiceRole/Properties/ManagedPolicyArns/2"
        ],
        "FullAccess policies, including through !Sub; the Deny statement is not flagged"
    );
    let r = expect(
        "ecr-flaws.yaml",
        &[
            ("APR-ECR-001", "ContainerRepository"),
            ("APR-ECR-002", "ContainerRepository"),
        ],
    );
    assert!(r.findings.iter().all(|f| f.severity == Severity::Warning));
}

#[test]
fn network_and_storage_rules() {
    let r = expect("open-ports.yaml", &[("APR-SG-001", "Sg")]);
    let paths: Vec<&str> = r.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Resources/Sg/Properties/SecurityGroupIngress/1",
            "Resources/Sg/Properties/SecurityGroupIngress/2"
        ],
        "443 and private ranges pass"
    );
    assert!(r.findings[1].message.contains("::/0 on port 3389"));
    assert_eq!(r.findings[0].line, Some(11), "the list item's line");
    let r = expect(
        "public-bucket.yaml",
        &[("APR-S3-001", "Bucket"), ("APR-S3-002", "Bucket")],
    );
    let public = |id: &str| {
        r.findings
            .iter()
            .find(|f| f.rule == "APR-S3-001" && f.logical_id == id)
            .unwrap()
    };
    assert!(
        public("Bucket")
            .message
            .contains("BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets not true")
    );
    assert_eq!(public("Bucket").severity, Severity::Error);
    // No configuration: S3's default for new buckets blocks public access.
    let r = expect("implicit-bucket.yaml", &[("APR-S3-001", "Implicit")]);
    assert_eq!(r.findings[0].severity, Severity::Warning);
    assert!(r.findings[0].message.contains("since April 2023"));
}

/// One finding per value rule, on the resource that breaks it, and none
/// on the resources that follow the rule.
#[test]
fn value_rules() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/values/values.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let t = parse_template(&text).unwrap();
    let file = path.display().to_string();
    let input = Input {
        file: file.clone(),
        stack: None,
        template: &t,
        text: Some(text.clone()),
    };
    let report = check(&[input], &Context::default(), None);
    let values: BTreeSet<(String, String)> = found(&report)
        .into_iter()
        .filter(|(rule, _)| rule.starts_with("E-VALUE-"))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("E-VALUE-DYNAMODB-KEYS", "Table"),
        ("E-VALUE-FORMAT", "Image"),
        ("E-VALUE-FORMAT", "Server"),
        ("E-VALUE-IAM-POLICY", "Policy"),
        ("E-VALUE-IMPORT", "Imported"),
        ("E-VALUE-IMPORT", "Subnet"),
        ("E-VALUE-LAMBDA-RUNTIME", "OldRuntime"),
        ("E-VALUE-LAMBDA-ZIPFILE", "Inline"),
        ("E-VALUE-LIST-DUPLICATE", "Role"),
        ("E-VALUE-LOGICAL-ID", "my_Bad"),
        ("E-VALUE-NAME-CLASH", "Topic"),
        ("E-VALUE-NESTED-STACK", "Child"),
        ("E-VALUE-PARAMETER-DEFAULT", "Env"),
        ("E-VALUE-ROUTE53", "Record"),
        ("E-VALUE-SUB-NEEDED", "my_Bad"),
    ]
    .iter()
    .map(|(r, id)| (r.to_string(), id.to_string()))
    .collect();
    assert_eq!(values, want, "{:#?}", report.findings);
    let messages = |rule: &str| -> Vec<&str> {
        report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| &*f.message)
            .collect()
    };
    let nested = messages("E-VALUE-NESTED-STACK");
    assert_eq!(nested.len(), 2, "{nested:?}");
    assert!(
        nested
            .iter()
            .any(|m| m.contains("`Unknown` is not declared"))
    );
    assert!(
        nested
            .iter()
            .any(|m| m.contains("requires parameter `Required`"))
    );
    let iam = messages("E-VALUE-IAM-POLICY");
    assert!(iam.iter().any(|m| m.contains("Effect `Permit`")), "{iam:?}");
    assert!(
        iam.iter().any(|m| m.contains("`arn` is not an ARN")),
        "{iam:?}"
    );
    let runtime = report
        .findings
        .iter()
        .find(|f| f.rule == "E-VALUE-LAMBDA-RUNTIME")
        .unwrap();
    assert_eq!(runtime.severity, Severity::Error);
    assert_eq!(runtime.path, "Resources/OldRuntime/Properties/Runtime");
    assert!(runtime.line.is_some(), "YAML findings carry their line");
}

#[test]
fn public_service_in_a_private_env() {
    let ctx = Context {
        private_env: Some("prod".into()),
        ..Context::default()
    };
    let r = run(&["public-service.yaml"], &ctx, None);
    assert_eq!(
        found(&r),
        BTreeSet::from([("APR-NET-001".to_owned(), "Service".to_owned())])
    );
    assert!(
        r.findings[0]
            .message
            .contains("env `prod` is listed in [policy] private_envs")
    );
    expect("public-service.yaml", &[]);
}

#[test]
fn secrets_in_plain_environment_variables() {
    let r = expect(
        "secrets.yaml",
        &[("APR-SECRET-001", "Service"), ("APR-SECRET-001", "Build")],
    );
    let names: Vec<&str> = r
        .findings
        .iter()
        .map(|f| f.path.rsplit('/').nth(1).unwrap())
        .collect();
    assert_eq!(
        r.findings.len(),
        2,
        "NPM_TOKEN from Secrets Manager passes: {:#?}",
        r.findings
    );
    assert!(names.contains(&"1") && names.contains(&"0"));
}

#[test]
fn silenced_findings_stay_in_the_report_but_do_not_fail() {
    let ctx = Context {
        allow: vec![(
            "APR-ECR-002".into(),
            "ContainerRepository".into(),
            None,
            "tags are re-pushed by the legacy job".into(),
        )],
        ..Context::default()
    };
    let r = run(&["ecr-flaws.yaml"], &ctx, None);
    let silenced = r.findings.iter().find(|f| f.rule == "APR-ECR-002").unwrap();
    assert_eq!(
        silenced.suppressed.as_ref().unwrap().reason,
        "tags are re-pushed by the legacy job"
    );
    assert_eq!(r.suppressed(), 1);
    assert_eq!(r.warnings(), 1, "the other rule still counts");
}

#[test]
fn cfn_guard_rules_run_in_process() {
    let guard =
        GuardRules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guard")).unwrap();
    let r = run(&["public-bucket.yaml"], &Context::default(), Some(&guard));
    let guard_findings: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("GUARD-"))
        .collect();
    assert!(!guard_findings.is_empty(), "{:#?}", r.findings);
    assert!(
        guard_findings
            .iter()
            .all(|f| f.rule == "GUARD-s3_buckets_versioned")
    );
    let ids: BTreeSet<&str> = guard_findings
        .iter()
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["Bucket", "Good"]),
        "{guard_findings:#?}"
    );
    assert!(
        guard_findings[0]
            .message
            .contains("Artifact buckets must be versioned")
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.guard"),
        "rule broken {\n  Resources.*.Type ==\n}\n",
    )
    .unwrap();
    let err = GuardRules::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("bad.guard"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    assert!(
        GuardRules::load(empty.path())
            .unwrap_err()
            .to_string()
            .contains("no .guard files")
    );
}
