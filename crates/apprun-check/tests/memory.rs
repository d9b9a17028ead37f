//! Memory of checking a template at the size limit (1 MiB) that has a
//! finding every few lines, measured as the peak of live heap bytes with a
//! counting allocator: deterministic, unlike a process's RSS
//! (bench/check-memory.sh measures that on the release binary). Measured
//! from the text to the sorted report, the text included: what `apprun
//! check --template` holds at its peak, less the rules and schemas loaded
//! once whatever the input (loaded here before measuring).

use apprun_check::{Context, MAX_FINDINGS_PER_TEMPLATE, TemplateFile, check_templates};
use apprun_template::parse_template;

#[path = "../../apprun-template/tests/support/counting.rs"]
mod counting;
use counting::{fill, peak_since, start};

/// Peaks of live heap bytes, as multiples of the input's size.
struct Peaks {
    /// Of the whole run, the text read included.
    whole: f64,
    /// Of the check alone, above what the parsed template held before it.
    check: f64,
    findings: usize,
    /// The message of the finding that counts the ones not kept.
    summary: Option<String>,
}

/// The peaks of parsing and checking `text`. The text and the template are
/// handed over as `apprun check --template` hands them.
fn peaks(mut text: String) -> Peaks {
    // The rules, schemas and permission data are loaded once per process:
    // a first check of a tiny template loads them outside the measure.
    let tiny = parse_template("Resources:\n  B:\n    Type: AWS::S3::Bucket\n").unwrap();
    let warm = check_templates(vec![file(tiny, None)], &Context::default(), None);
    assert_eq!(warm.checked, 1);
    // The text counts as read: its exact size, held from the start.
    text.shrink_to_fit();
    let size = text.len();
    let base = start() - size;
    let template = parse_template(&text).unwrap();
    let parsed = peak_since(base);
    let before_check = start();
    let report = check_templates(vec![file(template, Some(text))], &Context::default(), None);
    let check = peak_since(before_check);
    let whole = parsed.max(before_check - base + check);
    let ratio = |bytes: usize| bytes as f64 / size as f64;
    let peaks = Peaks {
        whole: ratio(whole),
        check: ratio(check),
        findings: report.findings.len(),
        summary: report
            .findings
            .iter()
            .find(|f| f.rule.as_str().ends_with("-FINDINGS-LIMIT"))
            .map(|f| f.message.to_string()),
    };
    println!(
        "peak live heap {:.2}x of {size} bytes (parse {:.2}x, check {:.2}x above the parsed template), {} findings",
        peaks.whole,
        ratio(parsed),
        peaks.check,
        peaks.findings
    );
    peaks
}

fn file(template: apprun_template::Template, text: Option<String>) -> TemplateFile {
    TemplateFile {
        file: "templates/many-findings.yaml".into(),
        stack: None,
        template,
        text,
    }
}

#[test]
fn a_finding_every_three_lines_stays_within_bounds() {
    // What bench/check-memory.sh's many-findings.yaml holds: every resource
    // carries an attribute CloudFormation does not know, one finding per 46
    // bytes. The first MAX_FINDINGS_PER_TEMPLATE are kept (the parser
    // counts the notes past them without making them), and one finding
    // counts the rest by rule.
    let text = fill("Resources:\n", |i| {
        format!("  T{i}:\n    Type: AWS::SNS::Topic\n    Bad: 1\n")
    });
    let peaks = peaks(text);
    assert_eq!(peaks.findings, MAX_FINDINGS_PER_TEMPLATE + 1);
    let summary = peaks.summary.expect("a finding counts the ones not kept");
    assert!(
        summary.starts_with("21546 more findings") && summary.contains("E-RESOURCE-KEY 21546"),
        "{summary}"
    );
    assert!(peaks.whole < 6.5, "peak heap {:.1}x the input", peaks.whole);
    // The template and its text are given back before its notes become
    // findings: the check adds little to what the parse left.
    assert!(
        peaks.check < 1.5,
        "the check's peak {:.1}x the input above the parsed template",
        peaks.check
    );
}
