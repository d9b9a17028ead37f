//! Memory of checking a template at the size limit (1 MiB) that has a
//! finding every few lines, measured as the peak of live heap bytes with a
//! counting allocator: deterministic, unlike a process's RSS
//! (bench/check-memory.sh measures that on the release binary). Parsing and
//! checking are measured together, from the text to the sorted report: what
//! `apprun check --template` holds at its peak, less the rules and schemas
//! loaded once whatever the input (loaded here before measuring).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use apprun_check::{Context, Input, check};
use apprun_template::parse_template;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the growth only: the system reallocates large blocks
        // in place (mremap), never holding both.
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const LIMIT: usize = 1024 * 1024;

/// `head`, then `item(0)`, `item(1)`, ... for as long as the text stays
/// within the limit.
fn fill(head: &str, item: impl Fn(usize) -> String) -> String {
    let mut text = head.to_owned();
    for i in 0.. {
        let next = item(i);
        if text.len() + next.len() > LIMIT {
            break;
        }
        text.push_str(&next);
    }
    text
}

/// Peak live heap bytes of parsing and checking `text`, as a multiple of
/// its size, with the number of findings.
fn peak_ratio(text: &str) -> (f64, usize) {
    // The rules, schemas and permission data are loaded once per process:
    // a first check of a tiny template loads them outside the measure.
    let tiny = parse_template("Resources:\n  B:\n    Type: AWS::S3::Bucket\n").unwrap();
    let warm = check(&[input(&tiny, None)], &Context::default(), None);
    assert_eq!(warm.checked, 1);
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let template = parse_template(text).unwrap();
    let report = check(
        &[input(&template, Some(text.to_owned()))],
        &Context::default(),
        None,
    );
    let peak = PEAK.load(Relaxed) - base;
    let ratio = peak as f64 / text.len() as f64;
    println!(
        "peak live heap {ratio:.2}x of {} bytes, {} findings",
        text.len(),
        report.findings.len()
    );
    (ratio, report.findings.len())
}

fn input(template: &apprun_template::Template, text: Option<String>) -> Input<'_> {
    Input {
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
    let (ratio, findings) = peak_ratio(&text);
    assert!(findings > 20_000, "{findings} findings");
    assert!(ratio < 17.0, "peak heap {ratio:.1}x the input");
}
