//! Property-based tests of the template reader (issue 16): whatever the
//! bytes, reading never panics and finishes quickly, and nesting beyond the
//! limit is refused with a location.

use std::time::{Duration, Instant};

use apprun_template::{MAX_DEPTH, ParseError, parse_template};
use proptest::prelude::*;

/// A template using most of the syntax a mutation can break.
const SEED: &str = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\nParameters:\n  Env:\n    Type: String\n    Default: dev\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Tags:\n        - Key: Name\n          Value: !Sub '${AWS::StackName}-vpc'\n  Subnet:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: !Ref Vpc\n      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]\n      AvailabilityZone: !Select [0, !GetAZs '']\n  Fn::ForEach::Topics:\n    - Name\n    - [a, b]\n    - Topic${Name}:\n        Type: AWS::SNS::Topic\n        Condition: IsProd\nOutputs:\n  Id:\n    Value: {\"Fn::GetAtt\": [Vpc, VpcId]}\n    Export: {Name: !Sub '${AWS::StackName}-vpc'}\n";

/// Where the bound of one read is generous: the test profile is unoptimized.
const QUICK: Duration = Duration::from_secs(1);

fn read_within_bound(text: &str) {
    let start = Instant::now();
    let _ = parse_template(text);
    let took = start.elapsed();
    assert!(took < QUICK, "{} bytes took {took:?}", text.len());
}

/// Characters that matter to YAML and JSON, and a few that should not.
fn syntax_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '[', ']', '{', '}', ':', '-', ' ', '\n', '\'', '"', '!', '&', '*', '#', '|', '>', ',',
            '?', '\t', '\\', '\u{feff}', '\u{1b}', '\u{0}', '\u{202e}',
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in prop::collection::vec(syntax_char(), 0..2000)) {
        let text: String = text.into_iter().collect();
        read_within_bound(&text);
    }

    #[test]
    fn mutated_templates_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), syntax_char(), 0u8..3), 1..20)
    ) {
        let mut chars: Vec<char> = SEED.chars().collect();
        for (at, c, op) in edits {
            let i = at.index(chars.len().max(1)).min(chars.len());
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        let text: String = chars.into_iter().collect();
        read_within_bound(&text);
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_with_a_line(
        open in prop::sample::select(vec!["[", "{a: ", "- ", "[{a: "]),
        depth in (MAX_DEPTH + 1)..20_000usize,
        prefix_lines in 0usize..5,
    ) {
        let text = format!("{}Resources: {}", "# c\n".repeat(prefix_lines), open.repeat(depth));
        let start = Instant::now();
        let result = parse_template(&text);
        prop_assert!(start.elapsed() < QUICK);
        match result {
            Err(ParseError::Yaml { line, message, .. }) => {
                prop_assert_eq!(line, Some(prefix_lines + 1));
                prop_assert!(message.contains("nested deeper"), "{}", message);
            }
            other => prop_assert!(false, "not refused: {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn large_flat_templates_read_in_time(resources in 1usize..3000) {
        let mut text = String::from("Resources:\n");
        for i in 0..resources {
            text.push_str(&format!("  Topic{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub '${{AWS::StackName}}-{i}'\n"));
        }
        read_within_bound(&text);
    }
}
