//! Showing deploy progress: a live line per stack on a terminal, plain
//! timestamped lines otherwise (pipes, CI, NO_COLOR), and the questions.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use apprun_deploy::{ChangeAction, Event, Observer, Review};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    started: Instant,
    live: Option<MultiProgress>,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new(live: bool) -> Self {
        Progress {
            started: Instant::now(),
            live: live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    fn bar(&self, stack: &str) -> Option<ProgressBar> {
        let multi = self.live.as_ref()?;
        let mut bars = self.bars.lock().ok()?;
        Some(
            bars.entry(stack.to_owned())
                .or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner:.cyan} {prefix:<40} {elapsed:>4} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(stack.to_owned());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                })
                .clone(),
        )
    }

    /// Stops the spinners (before the final table is printed).
    pub fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values() {
                bar.finish();
            }
        }
    }

    fn line(&self, text: &str) {
        let t = self.started.elapsed().as_secs_f64();
        match &self.live {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("[{t:7.1}s] {text}"),
        }
    }
}

fn symbol(action: ChangeAction, replacement: Option<&str>) -> &'static str {
    match (action, replacement) {
        (ChangeAction::Add, _) => "+",
        (ChangeAction::Remove, _) => "-",
        (ChangeAction::Modify, Some("True")) => "-/+",
        (ChangeAction::Modify, Some("Conditional")) => "~?",
        (ChangeAction::Modify, _) => "~",
        (ChangeAction::Other, _) => "=",
    }
}

/// The changes of each stack as text, one line per resource.
pub fn render_reviews(reviews: &[Review]) -> String {
    let mut out = String::new();
    for r in reviews {
        out.push_str(&format!(
            "{} ({}, {} changes)\n",
            r.stack,
            r.kind,
            r.changes.len()
        ));
        for c in &r.changes {
            let replace = match c.replacement.as_deref() {
                Some("True") => "  (replacement)",
                Some("Conditional") => "  (may be replaced)",
                _ => "",
            };
            let kept = if r.kind == "delete" && c.action == ChangeAction::Other {
                "  (kept: DeletionPolicy Retain)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:<3} {:<40} {}{replace}{kept}\n",
                symbol(c.action, c.replacement.as_deref()),
                c.logical_id,
                c.resource_type
            ));
        }
    }
    out
}

impl Observer for Progress {
    fn event(&self, event: Event) {
        match event {
            Event::Wave { number, stacks } => {
                self.line(&format!("wave {number}: {}", stacks.join(", ")))
            }
            Event::Progress {
                stack,
                status,
                detail,
            } => {
                let text = if detail.is_empty() {
                    status.clone()
                } else {
                    format!("{status}  {detail}")
                };
                match self.bar(&stack) {
                    Some(bar) => bar.set_message(text),
                    None => self.line(&format!("{stack}  {text}")),
                }
            }
            Event::Note(note) => self.line(&note),
        }
    }

    fn confirm(&self, reviews: &[Review]) -> bool {
        let text = render_reviews(reviews);
        let ask = || {
            eprint!("{text}");
            if !std::io::stdin().is_terminal() {
                eprintln!(
                    "not asking: stdin is not a terminal. Pass --yes to go ahead without a question."
                );
                return false;
            }
            eprint!("Go ahead? [y/N] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
        };
        match &self.live {
            Some(multi) => multi.suspend(ask),
            None => ask(),
        }
    }
}
