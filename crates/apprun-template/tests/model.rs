//! Round trips, short-form tags, quoting and the model's own checks.

use apprun_template::*;

/// A template that uses every intrinsic function at least once.
fn sample() -> Template {
    let mut t = Template {
        description: Some("sample: every function".into()),
        ..Template::default()
    };
    t.parameters.insert("Env".into(), {
        let mut p = Parameter::string("environment");
        p.allowed_values = vec!["dev".into(), "prod".into()];
        p.default = Some("dev".into());
        p
    });
    t.conditions
        .insert("IsProd".into(), equals(r#ref("Env"), "prod".into()));
    t.conditions.insert(
        "NotProd".into(),
        Intrinsic::Not(Intrinsic::Condition("IsProd".into()).into()).into(),
    );
    t.conditions.insert(
        "Both".into(),
        Intrinsic::And(vec![
            Intrinsic::Condition("IsProd".into()).into(),
            Intrinsic::Or(vec![
                Intrinsic::Condition("NotProd".into()).into(),
                Intrinsic::Condition("IsProd".into()).into(),
            ])
            .into(),
        ])
        .into(),
    );
    t.mappings.insert(
        "Sizes".into(),
        map! { "dev" => map! { "Cidr" => "10.0.0.0/24" } }.into(),
    );
    t.resources.insert(
        "Vpc".into(),
        Resource::new(
            "AWS::EC2::VPC",
            map! {
                "CidrBlock" => Value::from(Intrinsic::FindInMap(Box::new(FindInMapArgs {
                    map: "Sizes".into(),
                    top: r#ref("Env"),
                    second: "Cidr".into(),
                }))),
                "Tags" => tags([("Name", sub("${AWS::StackName}-vpc"))]),
            },
        ),
    );
    t.resources.insert(
        "Subnet".into(),
        Resource::new(
            "AWS::EC2::Subnet",
            map! {
                "VpcId" => r#ref("Vpc"),
                "AvailabilityZone" => select(0, get_azs("")),
                "CidrBlock" => select(0, Intrinsic::Cidr(Box::new(CidrArgs {
                    block: get_att("Vpc", "CidrBlock"),
                    count: Value::Int(4),
                    bits: Value::Int(5),
                })).into()),
                "MapPublicIpOnLaunch" => if_("IsProd", false.into(), true.into()),
            },
        )
        .depends_on("Vpc"),
    );
    let mut retained = Resource::new(
        "AWS::S3::Bucket",
        map! {
            "BucketName" => Value::from(Intrinsic::Sub {
                template: "${Prefix}-${AWS::Region}".into(),
                vars: Some(map! { "Prefix" => Value::from(Intrinsic::Split {
                    separator: "-".into(),
                    source: "a-b".into(),
                }) }),
            }),
            "Notes" => "line one\nline two\n",
            "Weird" => vec![
                Value::from("2012-10-17"), "yes".into(), "".into(), "it's".into(),
                Value::Null, Value::Float(1.5), Value::Int(-3), "tab\there".into(),
            ],
        },
    )
    .retained();
    retained.attributes_mut().condition = Some("IsProd".into());
    t.resources.insert("Bucket".into(), retained);
    t.resources.insert(
        "Instance".into(),
        Resource::new(
            "AWS::EC2::Instance",
            map! {
                // A function directly inside a short-form tag must be long form.
                "UserData" => Value::from(Intrinsic::Base64(sub("#!/bin/sh\necho ${AWS::Region}\n"))),
                "ImageId" => Value::from(Intrinsic::ImportValue(sub("${Env}-ami"))),
                "SubnetId" => join(",", vec![r#ref("Subnet"), "x".into()]),
            },
        ),
    );
    t.outputs.insert(
        "VpcId".into(),
        Output::new("the VPC", r#ref("Vpc")).exported_as("sample-VPC"),
    );
    t
}

#[test]
fn yaml_round_trip_is_lossless() {
    let t = sample();
    let yaml = t.render(Format::Yaml);
    let back = parse_yaml(&yaml).expect("our own YAML parses");
    assert_eq!(back, t);
    assert_eq!(back.render(Format::Yaml), yaml, "rendering is stable");
}

#[test]
fn json_round_trip_is_lossless() {
    let t = sample();
    let json = t.render(Format::Json);
    let back = parse_json(&json).expect("our own JSON parses");
    assert_eq!(back, t);
    assert_eq!(parse_template(&json).unwrap(), t, "format is detected");
    assert!(json.contains(r#""Fn::GetAtt": ["#) || json.contains("\"Fn::GetAtt\": [\n"));
}

#[test]
fn yaml_rendering_snapshot() {
    insta::assert_snapshot!(sample().render(Format::Yaml));
}

#[test]
fn yaml_quotes_what_yaml_1_1_would_misread() {
    let yaml = sample().render(Format::Yaml);
    assert!(
        yaml.contains("Weird: ['2012-10-17', 'yes', '', it's, null, 1.5, -3, \"tab\\there\"]"),
        "dates and YAML 1.1 booleans are quoted, control characters escaped:\n{yaml}"
    );
    assert!(yaml.contains("AWSTemplateFormatVersion: '2010-09-09'"));
}

#[test]
fn nested_function_under_a_tag_is_written_long_form() {
    let yaml = sample().render(Format::Yaml);
    assert!(
        yaml.contains("UserData: !Base64\n        Fn::Sub: |"),
        "{yaml}"
    );
    assert!(
        yaml.contains("ImageId: !ImportValue\n        Fn::Sub: ${Env}-ami"),
        "{yaml}"
    );
}

#[test]
fn short_forms_parse_to_typed_functions() {
    let text = r#"
Resources:
  A:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-${B}"
      DisplayName: !GetAtt B.TopicName
      Other: !Select [0, !GetAZs ""]
      Long: {"Fn::GetAtt": ["B", "TopicName"]}
      Cond: !If [C, !Ref "AWS::NoValue", x]
  B:
    Type: AWS::SNS::Topic
Conditions:
  C: !Equals [!Ref "AWS::Region", us-east-1]
"#;
    let t = parse_yaml(text).unwrap();
    let a = &t.resources["A"].properties;
    assert_eq!(a["DisplayName"], get_att("B", "TopicName"));
    assert_eq!(a["Long"], get_att("B", "TopicName"));
    assert_eq!(a["Other"], select(0, get_azs("")));
    assert_eq!(a["Cond"], if_("C", r#ref("AWS::NoValue"), "x".into()));
    assert!(validate(&t).is_empty(), "{:?}", validate(&t));
}

#[test]
fn malformed_functions_are_noted_with_their_path_and_reading_goes_on() {
    let t = parse_yaml(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Join [a]\n      Q: !Bogus x\n  B:\n    Type: Y\n",
    )
    .unwrap();
    let notes: Vec<(&str, &str)> = t
        .notes
        .iter()
        .map(|n| (n.path.as_str(), &*n.message))
        .collect();
    assert!(
        notes.contains(&(
            "Resources/A/Properties/P",
            "Fn::Join expects a list of 2 arguments"
        )),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|(p, m)| *p == "Resources/A/Properties/Q"
            && m.contains("unknown intrinsic function Fn::Bogus")),
        "{notes:?}"
    );
    assert!(
        t.resources.contains_key("B"),
        "the rest of the file is read"
    );
    let t = parse_yaml("Resourcs: {}\n").unwrap();
    assert!(
        t.notes
            .iter()
            .any(|n| n.path == "Resourcs" && n.message.contains("unknown template section")),
        "{:?}",
        t.notes
    );
    let err = parse_yaml("Resources:\n  A: x\n   B: y\n").unwrap_err();
    assert!(matches!(err, ParseError::Yaml { .. }));
    assert_eq!((err.line(), err.column()), (Some(3), Some(5)), "{err}");
    assert!(err.to_string().contains("at line 3 column 5"), "{err}");
}

fn codes(t: &Template) -> Vec<(&'static str, String)> {
    validate(t)
        .into_iter()
        .map(|f| (f.code, f.logical_id))
        .collect()
}

#[test]
fn validation_finds_dangling_references() {
    let mut t = Template::default();
    t.resources.insert(
        "A".into(),
        Resource::new(
            "AWS::SNS::Topic",
            map! {
                "P1" => r#ref("Missing"),
                "P2" => get_att("Nowhere", "Arn"),
                "P3" => sub("${AlsoMissing}-${Gone.Arn}-${!Literal}-${AWS::Region}"),
                "P4" => if_("NoSuchCondition", "a".into(), "b".into()),
            },
        )
        .depends_on("Ghost"),
    );
    let found = codes(&t);
    for code in ["E-REF", "E-GETATT", "E-CONDITION", "E-DEPENDS-ON"] {
        assert!(
            found.iter().any(|(c, id)| *c == code && id == "A"),
            "{code} missing in {found:?}"
        );
    }
    let messages: Vec<String> = validate(&t).into_iter().map(|f| f.message).collect();
    assert!(messages.iter().any(|m| m.contains("`AlsoMissing`")));
    assert!(messages.iter().any(|m| m.contains("Gone.Arn")));
    assert!(
        !messages.iter().any(|m| m.contains("Literal")),
        "${{!Literal}} is not a reference"
    );
}

#[test]
fn validation_finds_cycles_and_duplicate_exports() {
    let mut t = Template::default();
    t.resources.insert(
        "A".into(),
        Resource::new("AWS::SNS::Topic", map! { "P" => r#ref("B") }),
    );
    t.resources.insert(
        "B".into(),
        Resource::new("AWS::SNS::Topic", map! { "P" => sub("${C.Arn}") }),
    );
    t.resources.insert(
        "C".into(),
        Resource::new("AWS::SNS::Topic", map! {}).depends_on("A"),
    );
    t.outputs
        .insert("O1".into(), Output::new("x", r#ref("A")).exported_as("dup"));
    t.outputs
        .insert("O2".into(), Output::new("y", r#ref("B")).exported_as("dup"));
    let found = validate(&t);
    let cycle = found
        .iter()
        .find(|f| f.code == "E-CYCLE")
        .expect("cycle found");
    assert!(
        cycle.message.contains("A -> B -> C -> A"),
        "{}",
        cycle.message
    );
    assert!(
        found
            .iter()
            .any(|f| f.code == "E-EXPORT-DUPLICATE" && f.logical_id == "O2")
    );
    let empty = Template {
        description: Some("nothing".into()),
        ..Template::default()
    };
    assert_eq!(codes(&empty), vec![("E-EMPTY", String::new())]);
}
