//! Memory of parsing a template at the size limit (1 MiB), measured as the
//! peak of live heap bytes with a counting allocator: deterministic, unlike
//! a process's RSS (bench/check-memory.sh measures that, and time, on the
//! release binary). The bounds hold each reader to what the event-streaming
//! readers reach: one tree, built once, no buffered copy of the document.
//! A reader that buffered its events or built a second tree (what the
//! serde_norway and serde_json::Value readers did: 31x to 233x) fails here,
//! and so does the model before it was made compact (72-byte values with an
//! `IndexMap` inline, a heap allocation per string and per one-entry map):
//! the bounds are the compact model's figures (noted at each test) with a
//! margin well short of the old ones.

use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;

use apprun_template::{Intrinsic, Map, Value, parse_json_value, parse_template};

mod support {
    pub mod counting;
}
use support::counting::{LIVE, fill, peak_since, start};

/// Tests run one at a time, from their first line (the counters are
/// global: a test building its 1 MiB text while another measures would be
/// counted in the other's peak).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Peak live heap bytes while parsing `text`, as a multiple of its size
/// (the caller holds [`one_at_a_time`]).
fn peak_ratio(text: &str) -> f64 {
    let base = start();
    let parsed = parse_template(text);
    let peak = peak_since(base);
    assert!(parsed.is_ok(), "{:?}", parsed.err());
    drop(parsed);
    let ratio = peak as f64 / text.len() as f64;
    println!("peak live heap {ratio:.2}x of {} bytes", text.len());
    ratio
}

fn resource(i: usize) -> String {
    format!(
        "  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${{AWS::StackName}}-q{i}'\n      DelaySeconds: 5\n      Tags:\n        - Key: team\n          Value: core\n"
    )
}

#[test]
fn many_resources_parse_within_six_times_their_size() {
    let _one = one_at_a_time();
    // 5.1x with compact maps and inline strings.
    let text = fill("Resources:\n", resource);
    let ratio = peak_ratio(&text);
    assert!(ratio < 6.0, "peak heap {ratio:.1}x the input");
}

#[test]
fn json_resources_parse_within_seven_times_their_size() {
    let _one = one_at_a_time();
    // 5.7x with compact maps and inline strings.
    let text = fill("{\"Resources\":{", |i| {
        format!(
            "{}\"Queue{i}\":{{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{{\"QueueName\":{{\"Fn::Sub\":\"${{AWS::StackName}}-q{i}\"}},\"DelaySeconds\":5,\"Tags\":[{{\"Key\":\"team\",\"Value\":\"core\"}}]}}}}",
            if i == 0 { "" } else { "," }
        )
    }) + "}}";
    let ratio = peak_ratio(&text);
    assert!(ratio < 7.0, "peak heap {ratio:.1}x the input");
}

#[test]
fn nested_flow_lists_hold_no_spare_room() {
    let _one = one_at_a_time();
    // 95 levels of one-item lists, two bytes of text each: a list is one
    // exact allocation of one 32-byte value (15.7x). Lists kept with the
    // room their growth left (four items for one) took 70x, 72-byte
    // values 35x.
    let text = fill(
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\nMetadata:\n",
        |i| format!("  f{i}: {}x{}\n", "[".repeat(95), "]".repeat(95)),
    );
    let ratio = peak_ratio(&text);
    assert!(ratio < 17.0, "peak heap {ratio:.1}x the input");
}

#[test]
fn flat_maps_hold_their_short_keys_inline() {
    let _one = one_at_a_time();
    // `k123: v`: entries of an inline key and an inline string value, a
    // hash index past eight keys (8.1x, the index's growth included); a
    // heap string per key and per value and 72-byte values took twice that.
    let text = fill(
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\nMetadata:\n",
        |i| format!("  k{i}: v\n"),
    );
    let ratio = peak_ratio(&text);
    assert!(ratio < 9.0, "peak heap {ratio:.1}x the input");
}

#[test]
fn nested_one_key_objects_are_one_allocation_each() {
    let _one = one_at_a_time();
    // `{"k":` six bytes a level: one 56-byte entry per object (9.3x); an
    // IndexMap of one entry held a table and an entries vector (35x).
    let text = fill(
        "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}, \"Metadata\": {",
        |i| {
            format!(
                "{}\"n{i}\":{}\"leaf\"{}",
                if i == 0 { "" } else { "," },
                "{\"k\":".repeat(95),
                "}".repeat(95)
            )
        },
    );
    let text = text + "}}";
    let ratio = peak_ratio(&text);
    assert!(ratio < 10.0, "peak heap {ratio:.1}x the input");
}

#[test]
fn long_strings_are_held_once() {
    let _one = one_at_a_time();
    let text = fill(
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\nMetadata:\n",
        |i| format!("  s{i}: {}\n", "x".repeat(65536)),
    );
    let ratio = peak_ratio(&text);
    assert!(ratio < 1.5, "peak heap {ratio:.1}x the input");
}

#[test]
fn aliases_cannot_multiply_the_document() {
    let _one = one_at_a_time();
    // Each level repeats the one above ten times: nine levels are 10^9
    // nodes from a few hundred bytes.
    let mut text = String::from(
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\nMetadata:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for level in 1..10 {
        let above = level - 1;
        let items = vec![format!("*l{above}"); 10].join(", ");
        text.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
    }
    let base = start();
    let err = parse_template(&text).expect_err("a YAML bomb must be refused");
    let peak = peak_since(base);
    assert!(err.to_string().contains("repetition limit"), "{err}");
    assert!(err.line().is_some(), "{err}");
    assert!(
        peak < 1024 * 1024,
        "{peak} bytes for a {}-byte text",
        text.len()
    );
}

#[test]
fn aliases_within_the_document_size_are_read() {
    let _one = one_at_a_time();
    let text = "Resources:\n  A: &a\n    Type: AWS::SNS::Topic\n  B: *a\n";
    let t = parse_template(text).unwrap();
    assert_eq!(t.resources["B"].kind, "AWS::SNS::Topic");
}

/// Live heap bytes `make`'s result holds (what it allocated and kept; the
/// caller holds [`one_at_a_time`]).
fn held<T>(make: impl FnOnce() -> T) -> (usize, T) {
    let base = LIVE.load(Relaxed);
    let made = make();
    (LIVE.load(Relaxed) - base, made)
}

#[test]
fn a_value_is_two_words_and_a_function_four() {
    let _one = one_at_a_time();
    // 72 bytes while a map held its hash table and hasher inline: every
    // node of every tree paid for it.
    assert_eq!(std::mem::size_of::<Value>(), 16);
    assert_eq!(std::mem::size_of::<Map>(), 16);
    // A function's box: `!Ref x` in a list was 16 + 80 bytes (a 64-byte
    // enum with its name on the heap) for its 7 bytes of text.
    assert_eq!(std::mem::size_of::<Intrinsic>(), 32);
}

#[test]
fn small_containers_cost_one_exact_allocation() {
    let _one = one_at_a_time();
    // `{"k": ...}`: one entry, no hash table (an IndexMap of one entry
    // held an entries vector, a table of four buckets and its hasher).
    let (bytes, map) = held(|| {
        let mut m = Map::new();
        m.insert(String::new().into(), Value::Null);
        m.shrink_to_fit();
        m
    });
    println!("one-entry map: {bytes} bytes");
    // The entry: a 12-byte key (inline), padding, a 16-byte value.
    assert_eq!(bytes, 32, "{map:?}");
    // `{"l": [[[[1]]]]}` as read: a one-entry map (its short key inline)
    // and four one-item lists, each exactly one 16-byte value, no room
    // left over from growth (they were 32 bytes each with `Vec` values).
    let (bytes, value) = held(|| parse_json_value(r#"{"l": [[[[1]]]]}"#));
    println!("one key and four nested one-item lists: {bytes} bytes");
    assert_eq!(bytes, 32 + 4 * 16, "{value:?}");
}
