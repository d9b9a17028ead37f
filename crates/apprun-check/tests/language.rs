//! Structural checks on the whole template language: SAM resources against
//! SAM's schema, modules and registry types, every public type against the
//! vendored index, macros, parser notes as findings.

use apprun_check::{Context, Input, Report, Severity, check};
use apprun_template::parse_template;

fn run(text: &str) -> Report {
    let t = parse_template(text).unwrap_or_else(|e| panic!("{e}"));
    let json = text.trim_start().starts_with('{');
    let inputs = [Input {
        file: "t.yaml".into(),
        stack: None,
        template: &t,
        text: (!json).then(|| text.to_owned()),
    }];
    check(&inputs, &Context::default(), None)
}

/// (rule, path, severity) of every structural finding (policy rules aside).
fn structural(r: &Report) -> Vec<(String, String, Severity)> {
    r.findings
        .iter()
        .filter(|f| !f.rule.starts_with("APR-") && !f.rule.starts_with("E-VALUE-"))
        .map(|f| (f.rule.to_string(), f.path.to_string(), f.severity))
        .collect()
}

fn errors(r: &Report) -> Vec<(String, String)> {
    structural(r)
        .into_iter()
        .filter(|(_, _, s)| *s == Severity::Error)
        .map(|(rule, path, _)| (rule, path))
        .collect()
}

const SAM: &str = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      Events:
        Api:
          Type: Api
          Properties: {Path: /, Method: get}
      Policies:
        - S3ReadPolicy: {BucketName: b}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !GetAtt FnRole.Arn
"#;

#[test]
fn serverless_resources_are_checked_against_sams_schema() {
    let r = run(SAM);
    assert!(errors(&r).is_empty(), "{:?}", structural(&r));

    let r = run(&SAM.replace("CodeUri: src/", "CodeUri: src/\n      Handlr: x"));
    assert_eq!(
        errors(&r),
        vec![(
            "E-PROP-UNKNOWN".to_owned(),
            "Resources/Fn/Properties/Handlr".to_owned()
        )]
    );
    let r = run(&SAM.replace("Timeout: 10", "Timeout: 10\n    Bogus: 1"));
    assert_eq!(
        errors(&r),
        vec![(
            "E-PROP-UNKNOWN".to_owned(),
            "Globals/Function/Bogus".to_owned()
        )]
    );
    // A value shape SAM's schema refuses but its translator may take: a warning.
    let r = run(&SAM.replace(
        "Handler: app.handler",
        "Handler: app.handler\n      AutoPublishAlias: [1]",
    ));
    assert!(errors(&r).is_empty(), "{:?}", structural(&r));
    assert!(
        structural(&r)
            .iter()
            .any(|(rule, path, s)| rule == "W-SAM-VALUE"
                && path == "Resources/Fn/Properties/AutoPublishAlias"
                && *s == Severity::Warning),
        "{:?}",
        structural(&r)
    );
    // Without the transform, a serverless type is unknown and says why.
    let r = run(&SAM.replace(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Timeout: 10\n",
        "",
    ));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "E-TYPE-UNKNOWN")
        .expect("unknown type");
    assert!(
        f.message.contains("Transform: AWS::Serverless-2016-10-31"),
        "{}",
        f.message
    );
}

#[test]
fn modules_and_registry_types_are_accepted_with_a_warning() {
    let r = run(
        "Resources:\n  M:\n    Type: My::S3::Bucket::MODULE\n    Properties: {Anything: 1}\n  X:\n    Type: Initech::TPS::Report\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Ref MBucket\n  Y:\n    Type: AWS::Nope::Thing\n",
    );
    assert_eq!(
        errors(&r),
        vec![("E-TYPE-UNKNOWN".to_owned(), "Resources/Y/Type".to_owned())]
    );
    let warned: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "W-TYPE-REGISTRY")
        .map(|f| f.logical_id.as_str())
        .collect();
    assert_eq!(warned, vec!["M", "X"]);
}

#[test]
fn every_public_type_is_checked_against_the_index() {
    // AWS::SNS::Subscription has no full vendored schema: its index line
    // still knows its properties, required ones and attributes.
    let r = run(
        "Resources:\n  S:\n    Type: AWS::SNS::Subscription\n    Properties:\n      Protocol: sqs\n      Endpoitn: x\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !GetAtt S.Nope\n      TopicName: !GetAtt S.Arn\n  C:\n    Type: Custom::Thing\n    Properties: {ServiceToken: x}\n  U:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !GetAtt C.Whatever\n",
    );
    let mut found = errors(&r);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "E-GETATT-ATTR".to_owned(),
                "Resources/T/Properties".to_owned()
            ),
            (
                "E-PROP-REQUIRED".to_owned(),
                "Resources/S/Properties".to_owned()
            ),
            (
                "E-PROP-UNKNOWN".to_owned(),
                "Resources/S/Properties/Endpoitn".to_owned()
            ),
        ]
    );
}

#[test]
fn yaml_1_1_booleans_are_booleans() {
    let r = run(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: yes\n      ContentBasedDeduplication: Off\n      QueueName: q.fifo\n",
    );
    assert!(errors(&r).is_empty(), "{:?}", structural(&r));
    let r = run(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: maybe\n",
    );
    assert_eq!(
        errors(&r),
        vec![(
            "E-PROP-TYPE".to_owned(),
            "Resources/Q/Properties/FifoQueue".to_owned()
        )]
    );
}

#[test]
fn a_macro_defers_every_structural_check() {
    let r = run(
        "Transform: MyOrg::Expander\nResources:\n  A:\n    Type: Not::A::Type::At::All\n    Properties:\n      X: !Ref Nothing\n",
    );
    assert!(errors(&r).is_empty(), "{:?}", structural(&r));
}

#[test]
fn parser_notes_are_findings_and_the_rest_is_still_checked() {
    let r = run(
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Join [only-one]\n  B:\n    Type: AWS::SNS::Topic\n    Properties:\n      Bogus: 1\n",
    );
    let found = errors(&r);
    assert!(
        found.contains(&(
            "E-FN".to_owned(),
            "Resources/A/Properties/DisplayName".to_owned()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "E-PROP-UNKNOWN".to_owned(),
            "Resources/B/Properties/Bogus".to_owned()
        )),
        "{found:?}"
    );
    let f = r.findings.iter().find(|f| f.rule == "E-FN").unwrap();
    assert_eq!((f.logical_id.as_str(), f.line), ("A", Some(5)));
}

#[test]
fn json_duplicate_keys_are_findings() {
    let r = run(
        "{\n \"Resources\": {\n  \"A\": {\"Type\": \"AWS::SNS::Topic\"},\n  \"A\": {\"Type\": \"AWS::SNS::Topic\"}\n }\n}",
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "E-DUPLICATE-KEY")
        .expect("duplicate key finding");
    assert_eq!(
        (f.path.as_str(), f.logical_id.as_str()),
        ("Resources/A", "A")
    );
}

#[test]
fn language_extensions_template_is_checked_after_expansion() {
    let r = run(
        "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Topics:\n    - N\n    - [a, b]\n    - Topic${N}:\n        Type: AWS::SNS::Topic\n        Properties:\n          TopicName: !Ref N\n          Bogus${N}: 1\nOutputs:\n  Out:\n    Value: !GetAtt Topica.TopicArn\n",
    );
    let mut found = errors(&r);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "E-PROP-UNKNOWN".to_owned(),
                "Resources/Topica/Properties/Bogusa".to_owned()
            ),
            (
                "E-PROP-UNKNOWN".to_owned(),
                "Resources/Topicb/Properties/Bogusb".to_owned()
            ),
        ]
    );
}
