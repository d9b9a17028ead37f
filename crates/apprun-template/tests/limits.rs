//! What a template read from a file keeps when it has more to say than
//! anyone reads: the first `MAX_NOTES` notes and `validate_limited`'s
//! findings, the others counted by code; and a `DependsOn` list kept once
//! per id.

use apprun_template::{MAX_NOTES, Severity, parse_template, validate, validate_limited};

#[test]
fn notes_past_the_limit_are_counted_not_kept() {
    let mut text = String::from("Resources:\n");
    for i in 0..MAX_NOTES + 500 {
        text.push_str(&format!("  T{i}:\n    Type: AWS::SNS::Topic\n    Bad: 1\n"));
    }
    let t = parse_template(&text).expect("readable");
    assert_eq!(t.notes.len(), MAX_NOTES, "the first notes are kept");
    assert!(t.notes.iter().all(|n| n.code == "E-RESOURCE-KEY"));
    let counted = t.notes_overflow.by_code["E-RESOURCE-KEY"];
    assert_eq!((counted.found, counted.errors), (500, 500));
    assert_eq!(t.notes_overflow.errors(), 500);
    // Every resource is still read.
    assert_eq!(t.resources.len(), MAX_NOTES + 500);
}

#[test]
fn a_template_within_the_limit_counts_nothing() {
    let t = parse_template("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Bad: 1\n").unwrap();
    assert_eq!(t.notes.len(), 1);
    assert!(t.notes_overflow.is_empty());
}

#[test]
fn validate_limited_keeps_the_first_findings_and_counts_the_rest() {
    let mut text = String::from("Resources:\n  B:\n    Type: AWS::S3::Bucket\nOutputs:\n");
    for i in 0..30 {
        text.push_str(&format!("  O{i:02}:\n    Value: !Ref Missing{i}\n"));
    }
    let t = parse_template(&text).unwrap();
    assert_eq!(validate(&t).len(), 30, "unlimited: every finding");
    let (kept, overflow) = validate_limited(&t, 10);
    assert_eq!(kept.len(), 10);
    assert!(
        kept.iter()
            .all(|f| f.code == "E-REF" && f.severity == Severity::Error)
    );
    // Sorted by path, as validate's are.
    assert!(kept.windows(2).all(|w| w[0].path <= w[1].path));
    assert_eq!(overflow.by_code["E-REF"].found, 20);
    assert_eq!(overflow.errors(), 20);
}

#[test]
fn depends_on_keeps_each_id_once_sorted() {
    let t = parse_template(
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: AWS::SNS::Topic\n  \
         T:\n    Type: AWS::SNS::Topic\n    DependsOn: [B, A, B, B]\n",
    )
    .unwrap();
    let deps: Vec<&str> = t.resources["T"]
        .dependencies()
        .iter()
        .map(|d| d.as_str())
        .collect();
    assert_eq!(deps, ["A", "B"]);
    assert!(validate(&t).is_empty());
}

#[test]
fn json_duplicate_keys_past_the_limit_are_counted_not_kept() {
    let mut text =
        String::from(r#"{"Resources":{"B":{"Type":"AWS::S3::Bucket"}},"Metadata":{"a":1"#);
    for _ in 0..MAX_NOTES + 499 {
        text.push_str(r#","a":1"#);
    }
    text.push_str("}}");
    let t = parse_template(&text).expect("readable");
    assert_eq!(t.notes.len(), MAX_NOTES);
    assert!(
        t.notes
            .iter()
            .all(|n| n.code == "E-DUPLICATE-KEY" && n.line == Some(1))
    );
    let counted = t.notes_overflow.by_code["E-DUPLICATE-KEY"];
    assert_eq!((counted.found, counted.errors), (499, 499));
}

#[test]
fn notes_dropped_with_a_collection_key_are_not_counted_either() {
    // Past the limit, the notes made inside a key CloudFormation cannot
    // read are dropped with it, counted or not: only the key's own note
    // counts.
    let mut text = String::from("Resources:\n  B:\n    Type: AWS::S3::Bucket\nMetadata:\n  L: [");
    text.push_str(&vec!["!Foo a"; MAX_NOTES].join(", "));
    text.push_str("]\n  ? [!Foo a, !Foo b, !Foo c]\n  : 1\n");
    let t = parse_template(&text).expect("readable");
    assert_eq!(t.notes.len(), MAX_NOTES);
    let codes: Vec<(&str, usize)> = t
        .notes_overflow
        .by_code
        .iter()
        .map(|(code, c)| (*code, c.found))
        .collect();
    assert_eq!(codes, [("E-TEMPLATE", 1)]);
}
