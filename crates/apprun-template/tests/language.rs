//! The template language as CloudFormation reads it: transforms, the
//! language extensions, Rules, conditional Properties, YAML forms, and
//! reading past what cannot be read.

use apprun_template::{
    Format, Intrinsic, ParseError, Severity, Template, Value, parse_json, parse_template,
    parse_yaml, validate,
};

fn notes(t: &Template) -> Vec<(String, &'static str, String)> {
    t.notes
        .iter()
        .map(|n| (n.path.to_string(), n.code, n.message.to_string()))
        .collect()
}

fn codes(t: &Template) -> Vec<(&'static str, String)> {
    validate(t).into_iter().map(|f| (f.code, f.path)).collect()
}

fn prop<'t>(t: &'t Template, id: &str, key: &str) -> &'t Value {
    t.resources[id]
        .properties
        .get(key)
        .unwrap_or_else(|| panic!("{id}.{key}"))
}

#[test]
fn transform_is_a_string_or_a_list() {
    let t = parse_yaml("Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n").unwrap();
    assert_eq!(t.transforms, vec!["AWS::Serverless-2016-10-31"]);
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let t = parse_yaml(
        "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    assert_eq!(t.transforms.len(), 2);
    assert!(!t.has_macros());
    let rendered = parse_yaml(&t.render(Format::Yaml)).unwrap();
    assert_eq!(rendered.transforms, t.transforms, "Transform renders back");
}

const FOR_EACH: &str = r#"
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: "a-1,b"
Conditions:
  Fn::ForEach::Flags:
    - N
    - [x, y]
    - Is${N}: !Equals [!Ref "AWS::Region", !Ref N]
Resources:
  Fn::ForEach::Topics:
    - Name
    - !Ref Names
    - Topic&{Name}:
        Type: AWS::SNS::Topic
        Properties:
          TopicName: !Sub "t-${Name}"
          DisplayName: !Ref Name
      Fn::ForEach::Inner:
        - Kind
        - [P, Q]
        - Sub&{Name}${Kind}:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Sub "${Name}-${Kind}"
Outputs:
  Fn::ForEach::Arns:
    - Name
    - [a1, b]
    - Arn${Name}:
        Value: !GetAtt [!Sub "Topic${Name}", TopicArn]
"#;

#[test]
fn for_each_loops_expand_in_every_section() {
    let t = parse_yaml(FOR_EACH).unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    let ids: Vec<&str> = t.resources.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        vec!["Suba1P", "Suba1Q", "SubbP", "SubbQ", "Topica1", "Topicb"]
    );
    assert_eq!(prop(&t, "Topica1", "DisplayName"), &Value::from("a-1"));
    assert!(
        matches!(prop(&t, "SubbQ", "QueueName"), Value::Fn(f) if matches!(f.as_ref(), Intrinsic::Sub { template, .. } if template == "b-Q"))
    );
    assert_eq!(t.conditions.keys().collect::<Vec<_>>(), vec!["Isx", "Isy"]);
    let out = &t.outputs["Arna1"].value;
    assert!(
        matches!(out, Value::Fn(f) if matches!(f.as_ref(), Intrinsic::GetAtt { resource, attribute } if resource == "Topica1" && attribute == "TopicArn")),
        "{out:?}"
    );
    assert!(codes(&t).is_empty(), "{:?}", codes(&t));
}

#[test]
fn language_extension_functions_resolve_before_checks() {
    let t = parse_yaml(
        r#"
Transform: AWS::LanguageExtensions
Parameters:
  Subnets: {Type: CommaDelimitedList, Default: "a,b,c"}
  Policy: {Type: String, Default: Retain}
  Free: {Type: String}
Mappings:
  Sizes:
    small: {Cpu: "256"}
Resources:
  R:
    Type: AWS::SNS::Topic
    DeletionPolicy: !Ref Policy
    UpdateReplacePolicy: !If [Never, Delete, Retain]
    Properties:
      Count: !Length [1, 2]
      CountParam: !Length {Ref: Subnets}
      Json: !ToJsonString {A: 1, B: [x]}
      Found: !FindInMap [Sizes, small, Cpu, {DefaultValue: "512"}]
      Default: !FindInMap [Sizes, large, Cpu, {DefaultValue: "512"}]
      Unknown: !FindInMap [Sizes, !Ref Free, Cpu, {DefaultValue: "512"}]
      JsonLater: !ToJsonString {A: !Ref Free}
Conditions:
  Never: !Equals [a, b]
"#,
    )
    .unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert_eq!(prop(&t, "R", "Count"), &Value::Int(2));
    assert_eq!(prop(&t, "R", "CountParam"), &Value::Int(3));
    assert_eq!(prop(&t, "R", "Json"), &Value::from(r#"{"A":1,"B":["x"]}"#));
    assert_eq!(prop(&t, "R", "Found"), &Value::from("256"));
    assert_eq!(prop(&t, "R", "Default"), &Value::from("512"));
    for unknown in ["Unknown", "JsonLater"] {
        assert!(
            matches!(prop(&t, "R", unknown), Value::Fn(f) if matches!(f.as_ref(), Intrinsic::Other { .. })),
            "{unknown} stays a deploy-time value"
        );
    }
    let r = &t.resources["R"];
    assert_eq!(r.deletion_policy(), Some("Retain"));
    assert_eq!(r.update_replace_policy(), None, "known at deploy time only");
    assert!(codes(&t).is_empty(), "{:?}", codes(&t));
}

#[test]
fn language_extension_functions_need_the_transform() {
    let t = parse_yaml(
        "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    DeletionPolicy: !Ref P\n    Properties:\n      N: !Length [1]\n      M: !FindInMap [A, B, C, {DefaultValue: x}]\n",
    )
    .unwrap();
    let n = notes(&t);
    assert!(
        n.iter().any(|(p, c, m)| p == "Resources/R/Properties/N"
            && *c == "E-FN"
            && m.contains("AWS::LanguageExtensions")),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|(p, _, m)| p == "Resources/R/Properties/M" && m.contains("3 arguments")),
        "{n:?}"
    );
    // A function in DeletionPolicy needs no transform (the User Guide's
    // current page on policy attributes): only deploy time knows its value.
    assert!(
        !n.iter().any(|(p, _, _)| p == "Resources/R/DeletionPolicy"),
        "{n:?}"
    );
}

const RULES: &str = r#"
Parameters:
  Env: {Type: String}
  Subnets: {Type: "List<AWS::EC2::Subnet::Id>"}
Rules:
  ProdOnly:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert:
          Fn::Contains: [[m5.large, m5.xlarge], !Ref Env]
        AssertDescription: size
      - Assert:
          Fn::EachMemberEquals: [{Fn::ValueOfAll: ["AWS::EC2::Subnet::Id", VpcId]}, vpc-1]
      - Assert:
          Fn::EachMemberIn: [{Fn::RefAll: "AWS::EC2::VPC::Id"}, [vpc-1]]
      - Assert: !Not [{Fn::Equals: [{Fn::ValueOf: [Subnets, VpcId]}, x]}]
Resources:
  T: {Type: AWS::SNS::Topic}
"#;

#[test]
fn rules_section_and_its_functions_are_read_and_checked() {
    let t = parse_yaml(RULES).unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert_eq!(t.rules.keys().collect::<Vec<_>>(), vec!["ProdOnly"]);
    assert!(codes(&t).is_empty(), "{:?}", codes(&t));

    let bad = RULES
        .replace("AssertDescription: size", "Description: size")
        .replace("!Ref Env, prod", "!Ref T, prod")
        .replace("- Assert: !Not", "- Assert: yes\n      - Check: !Not");
    let t = parse_yaml(&bad).unwrap();
    let found = codes(&t);
    for expected in [
        ("E-RULES", "Rules/ProdOnly/Assertions/0/Description"),
        ("E-RULES", "Rules/ProdOnly/Assertions/3/Assert"),
        ("E-RULES", "Rules/ProdOnly/Assertions/4"),
        ("E-REF", "Rules/ProdOnly"),
    ] {
        assert!(
            found.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} in {found:?}"
        );
    }

    let t = parse_yaml("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: {Fn::Contains: [[a], a]}\n").unwrap();
    assert!(
        notes(&t)
            .iter()
            .any(|(_, c, m)| *c == "E-FN" && m.contains("only be used in the Rules section")),
        "{:?}",
        notes(&t)
    );
}

#[test]
fn whole_properties_block_may_be_conditional() {
    let t = parse_yaml(
        "Conditions:\n  C: !Equals [a, b]\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: !If\n      - C\n      - BucketName: x\n      - !Ref AWS::NoValue\n  N:\n    Type: AWS::S3::Bucket\n    Properties: !If [C, !Ref AWS::NoValue, !Ref AWS::NoValue]\n",
    )
    .unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert_eq!(prop(&t, "B", "BucketName"), &Value::from("x"));
    assert!(t.resources["N"].properties.is_empty());
}

#[test]
fn yaml_forms_cloudformation_reads() {
    // Non-specific tag on a key, quoted keys, BOM, explicit keys.
    let text = "\u{feff}Resources:\n  \"T\":\n    'Type': AWS::SNS::Topic\n    Properties:\n      DisplayName: {! \"Ref\": \"AWS::AccountId\"}\n      ? TopicName\n      : x\n";
    let t = parse_template(text).unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert_eq!(
        prop(&t, "T", "DisplayName"),
        &Value::from(Intrinsic::Ref("AWS::AccountId".into()))
    );
    assert_eq!(prop(&t, "T", "TopicName"), &Value::from("x"));

    // Merge keys: merged, with a warning that only packaging resolves them.
    let t = parse_yaml(
        "Resources:\n  A: &base\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: a}\n  B:\n    <<: *base\n    Properties: {DisplayName: b}\n",
    )
    .unwrap();
    assert_eq!(t.resources["B"].kind, "AWS::SNS::Topic");
    assert_eq!(prop(&t, "B", "DisplayName"), &Value::from("b"));
    assert!(
        t.notes
            .iter()
            .any(|n| n.code == "W-YAML-MERGE" && n.severity == Severity::Warning),
        "{:?}",
        notes(&t)
    );
    // A BOM before JSON too.
    let t = parse_template("\u{feff}{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}}}")
        .unwrap();
    assert!(t.resources.contains_key("T"));
}

#[test]
fn one_unreadable_construct_does_not_hide_the_rest() {
    let t = parse_yaml(
        "Resourcs: {}\nResources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Join [x]\n  B:\n    Properties: {}\n  C:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Missing\n",
    )
    .unwrap();
    let n = notes(&t);
    assert!(
        n.iter()
            .any(|(p, c, _)| p == "Resourcs" && *c == "E-SECTION"),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|(p, c, _)| p == "Resources/A/Properties/DisplayName" && *c == "E-FN"),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|(p, _, m)| p == "Resources/B" && m.contains("needs a Type")),
        "{n:?}"
    );
    assert!(t.resources.contains_key("A") && t.resources.contains_key("C"));
    assert!(
        codes(&t).contains(&("E-REF", "Resources/C".to_owned())),
        "later checks still run: {:?}",
        codes(&t)
    );
}

#[test]
fn parse_errors_say_where() {
    let err = parse_yaml("Resources:\n  A:\n    Type: [x\n").unwrap_err();
    assert!(err.line().is_some() && err.column().is_some(), "{err}");
    let err = parse_json("{\n  \"Resources\": {\n    \"A\": 1,\n  }\n}").unwrap_err();
    assert!(matches!(err, ParseError::Json { .. }));
    assert_eq!(err.line(), Some(4), "{err}");
    assert!(err.to_string().contains("line 4"), "{err}");
}

#[test]
fn json_duplicate_keys_are_noted_at_the_second_key() {
    let t = parse_json(
        "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::SNS::Topic\"},\n    \"A\": {\"Type\": \"AWS::SQS::Queue\"}\n  }\n}",
    )
    .unwrap();
    let dup: Vec<_> = t
        .notes
        .iter()
        .filter(|n| n.code == "E-DUPLICATE-KEY")
        .map(|n| (n.path.as_str(), n.line))
        .collect();
    assert_eq!(dup, vec![("Resources/A", Some(4))]);
    assert_eq!(
        t.resources["A"].kind, "AWS::SQS::Queue",
        "the last one wins, as in CloudFormation"
    );
}

#[test]
fn nesting_is_bounded_as_it_is_read() {
    let depth = 110;
    let text = format!(
        "{{\"Resources\": {{\"A\": {{\"Type\": \"AWS::SNS::Topic\", \"Metadata\": {}1{}}}}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let t = parse_json(&text).unwrap();
    assert!(
        t.notes
            .iter()
            .any(|n| n.message.contains("nested deeper than")),
        "{:?}",
        notes(&t)
    );
    // Deeper than the YAML reader's own limit: an error, never a crash.
    let deep = format!("Resources: {}1{}\n", "[".repeat(300), "]".repeat(300));
    assert!(parse_yaml(&deep).is_err());
}

#[test]
fn macros_and_generated_names_are_not_false_alarms() {
    // A macro may produce anything: nothing to check before expansion.
    let t = parse_yaml("Transform: MyMacro\nResources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: !Ref Nowhere\n      Y: {Fn::MyOwn: 1}\n").unwrap();
    assert!(t.has_macros());
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert!(validate(&t).is_empty());
    // SAM generates `<Function>Role` and `ServerlessRestApi`; a module
    // `<Module><Resource>`.
    let t = parse_yaml("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n  M:\n    Type: Org::Thing::Bucket::MODULE\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: !Ref FnRole\n      B: !Ref ServerlessRestApi\n      C: !GetAtt MBucket.Arn\n      D: !Ref Other\n").unwrap();
    assert_eq!(codes(&t), vec![("E-REF", "Resources/T".to_owned())]);
    // Fn::Transform (AWS::Include) stands for a value or a whole block.
    let t = parse_yaml("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName:\n        Fn::Sub:\n          Fn::Transform: {Name: M}\n  B:\n    Type: AWS::SNS::Topic\n    Properties:\n      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n").unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    // An include supplying entries of a section is a macro too.
    let t = parse_yaml("Resources:\n  Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Ref FromTheInclude\n").unwrap();
    assert!(t.notes.is_empty(), "{:?}", notes(&t));
    assert!(t.has_macros() && validate(&t).is_empty());
    assert_eq!(t.resources.keys().collect::<Vec<_>>(), vec!["T"]);
}
