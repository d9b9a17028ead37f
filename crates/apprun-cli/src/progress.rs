//! Showing deploy progress: a live line per stack on a terminal, plain
//! timestamped lines otherwise (pipes, CI, NO_COLOR), and the questions.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use apprun_deploy::{ChangeAction, Event, Observer, Replacement, Review, ReviewKind};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::shared::{Answer, NOT_ASKED, confirm};

pub struct Progress {
    started: Instant,
    /// `--quiet`: no progress lines (the questions still appear).
    quiet: bool,
    live: Option<MultiProgress>,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Progress {
    pub fn new(live: bool, quiet: bool) -> Self {
        Progress {
            started: Instant::now(),
            quiet,
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
        if self.quiet {
            return;
        }
        let t = self.started.elapsed().as_secs_f64();
        match &self.live {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("[{t:7.1}s] {text}"),
        }
    }
}

fn symbol(action: ChangeAction, replacement: Option<Replacement>) -> &'static str {
    match (action, replacement) {
        (ChangeAction::Add, _) => "+",
        (ChangeAction::Remove, _) => "-",
        (ChangeAction::Modify, Some(Replacement::True)) => "-/+",
        (ChangeAction::Modify, Some(Replacement::Conditional)) => "~?",
        (ChangeAction::Modify, Some(Replacement::False) | None) => "~",
        (ChangeAction::Other, _) => "=",
    }
}

/// The changes of each stack as text, one line per resource.
pub fn render_reviews(reviews: &[Review]) -> String {
    let mut out = String::new();
    for r in reviews {
        let n = r.changes.len();
        let noun = if n == 1 { "change" } else { "changes" };
        out.push_str(&format!("{} ({}, {n} {noun})\n", r.stack, r.kind.as_str()));
        for c in &r.changes {
            let replace = match c.replacement {
                Some(Replacement::True) => "  (replacement)",
                Some(Replacement::Conditional) => "  (may be replaced)",
                Some(Replacement::False) | None => "",
            };
            let kept = if r.kind == ReviewKind::Delete && c.action == ChangeAction::Other {
                "  (kept: DeletionPolicy Retain)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:<3} {:<40} {}{replace}{kept}\n",
                symbol(c.action, c.replacement),
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
            match confirm("Go ahead?") {
                Answer::Yes => true,
                Answer::No => false,
                Answer::NotAsked => {
                    eprintln!("{NOT_ASKED}");
                    false
                }
            }
        };
        match &self.live {
            Some(multi) => multi.suspend(ask),
            None => ask(),
        }
    }
}
