//! Memory of checking a template at the size limit (1 MiB) that has a
//! finding every few lines, measured as the peak of live heap bytes with a
//! counting allocator: deterministic, unlike a process's RSS
//! (bench/check-memory.sh measures that on the release binary). Parsing and
//! checking are measured together, from the text to the sorted report: what
//! `apprun check --template` holds at its peak, less the rules and schemas
//! loaded once whatever the input (loaded here before measuring).

use apprun_check::{Context, TemplateFile, check_templates};
use apprun_template::parse_template;

#[path = "../../apprun-template/tests/support/counting.rs"]
mod counting;
use counting::{fill, peak_since, start};

/// Peak live heap bytes of parsing and checking `text`, as a multiple of
/// its size, with the number of findings. The text and the template are
/// handed over as `apprun check --template` hands them.
fn peak_ratio(text: String) -> (f64, usize) {
    // The rules, schemas and permission data are loaded once per process:
    // a first check of a tiny template loads them outside the measure.
    let tiny = parse_template("Resources:\n  B:\n    Type: AWS::S3::Bucket\n").unwrap();
    let warm = check_templates(vec![file(tiny, None)], &Context::default(), None);
    assert_eq!(warm.checked, 1);
    let size = text.len();
    let base = start();
    let template = parse_template(&text).unwrap();
    let report = check_templates(vec![file(template, Some(text))], &Context::default(), None);
    let peak = peak_since(base);
    let ratio = peak as f64 / size as f64;
    println!(
        "peak live heap {ratio:.2}x of {size} bytes, {} findings",
        report.findings.len()
    );
    (ratio, report.findings.len())
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
    // bytes. Each finding holds its path and ids inline and shares its
    // file name and its message (the parser's note's, made once).
    let text = fill("Resources:\n", |i| {
        format!("  T{i}:\n    Type: AWS::SNS::Topic\n    Bad: 1\n")
    });
    let (ratio, findings) = peak_ratio(text);
    assert!(findings > 20_000, "{findings} findings");
    assert!(ratio < 7.5, "peak heap {ratio:.1}x the input");
}
