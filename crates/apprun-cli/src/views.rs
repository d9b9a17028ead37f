//! Views shared by several commands: the one JSON view of a blueprint's
//! stacks (`plan --output json` and the manifest `synth` writes), the
//! pipeline part of `status`, and the text of a diff (`diff`, `approve`).

use apprun_blueprint::{EnvBlueprint, Stack};
use serde_json::{Map, Value, json};

/// The stacks in deploy order, each with its wave (from 1).
pub fn in_order(bp: &EnvBlueprint) -> Vec<(usize, &Stack)> {
    bp.waves
        .iter()
        .enumerate()
        .flat_map(|(w, wave)| wave.iter().map(move |&i| (w + 1, &bp.stacks[i])))
        .collect()
}

/// One stack: name, file, wave, whether the account shares it, and the
/// stacks it imports from.
pub fn stack_json(bp: &EnvBlueprint, wave: usize, s: &Stack, file: String) -> Map<String, Value> {
    let mut view = Map::new();
    view.insert("name".into(), json!(s.name));
    view.insert("file".into(), json!(file));
    view.insert("wave".into(), json!(wave));
    view.insert("per_account".into(), json!(s.kind.per_account()));
    view.insert(
        "depends_on".into(),
        json!(bp.dependencies.get(&s.name).cloned().unwrap_or_default()),
    );
    view
}

/// The pipeline part of `apprun status`: the pending approval, then each of
/// the last runs (newest first) with its commit, image tag and stages.
pub fn pipeline_text(env: &str, p: &apprun_deploy::PipelineStatus) -> String {
    if !p.exists {
        return format!(
            "pipeline {}: not deployed (`apprun deploy --env {env}` creates it)\n",
            p.pipeline
        );
    }
    let mut out = format!("pipeline {}", p.pipeline);
    match &p.pending_approval {
        Some(a) => out.push_str(&format!(
            ": approval pending at {}{} (`apprun approve --env {env}`)\n",
            a.stage,
            a.execution_id
                .as_deref()
                .map(|id| format!(" for run {}", short_id(id)))
                .unwrap_or_default()
        )),
        None => out.push('\n'),
    }
    if p.runs.is_empty() {
        out.push_str("  no runs yet\n");
        return out;
    }
    out.push_str(&format!(
        "  {:<10} {:<11} {:<21} {:<8} {:<8} MESSAGE\n",
        "RUN", "STATUS", "STARTED", "COMMIT", "IMAGE"
    ));
    for r in &p.runs {
        out.push_str(&format!(
            "  {:<10} {:<11} {:<21} {:<8} {:<8} {}\n",
            short_id(&r.execution_id),
            r.status,
            r.started.as_deref().unwrap_or("-"),
            r.commit.as_deref().map(short_commit).unwrap_or("-"),
            r.image_tag.as_deref().unwrap_or("-"),
            r.message.as_deref().unwrap_or("")
        ));
        let stages: Vec<String> = r.stages.iter().map(stage_text).collect();
        out.push_str(&format!("  {:<10} {}\n", "", stages.join("  ")));
    }
    out
}

/// `Build Succeeded 4m10s`, `Deploy -` for a stage the run never reached.
fn stage_text(s: &apprun_deploy::StageRun) -> String {
    match (&s.status, s.seconds) {
        (None, _) => format!("{} -", s.name),
        (Some(status), Some(secs)) if status != "InProgress" => {
            format!("{} {status} {}", s.name, duration(secs))
        }
        (Some(status), _) => format!("{} {status}", s.name),
    }
}

/// `45s`, `4m10s`, `1h02m`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The first 8 characters of a run id (a UUID): enough to tell runs apart.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn short_commit(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// A diff's result as text: per stack "no changes", or its changes one line
/// per resource (as the deploy's review shows them).
pub fn diff_text(results: &[apprun_deploy::StackResult]) -> String {
    use apprun_deploy::{Outcome, Review, ReviewKind};
    let mut out = String::new();
    for r in results {
        if r.outcome == Outcome::Unchanged {
            out.push_str(&format!("{}: no changes\n", r.stack));
            continue;
        }
        let review = Review {
            stack: r.stack.clone(),
            kind: if r.outcome == Outcome::New {
                ReviewKind::Create
            } else {
                ReviewKind::Update
            },
            changes: r.changes.clone(),
        };
        out.push_str(&crate::progress::render_reviews(&[review]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use apprun_deploy::{PipelineRun, PipelineStatus, StageRun};

    fn stage(name: &str, status: Option<&str>, seconds: Option<f64>) -> StageRun {
        StageRun {
            name: name.into(),
            status: status.map(str::to_owned),
            started: None,
            updated: None,
            seconds,
        }
    }

    #[test]
    fn pipeline_runs_with_stages_and_the_pending_approval() {
        let p = PipelineStatus {
            pipeline: "apprunner-nuxt3-dev".into(),
            exists: true,
            pending_approval: None,
            runs: vec![PipelineRun {
                execution_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7".into(),
                status: "InProgress".into(),
                started: Some("2026-11-26T09:00:00Z".into()),
                updated: None,
                commit: Some("3f2a1bc9d8e7f6a5".into()),
                message: Some("Fix the footer".into()),
                image_tag: Some("3f2a1bc".into()),
                stages: vec![
                    stage("Source", Some("Succeeded"), Some(3.0)),
                    stage("Build", Some("Succeeded"), Some(250.0)),
                    stage("Deploy", Some("InProgress"), Some(10.0)),
                    stage("Verify", None, None),
                ],
            }],
        };
        assert_eq!(
            pipeline_text("dev", &p),
            "pipeline apprunner-nuxt3-dev\n  RUN        STATUS      STARTED               COMMIT   IMAGE    MESSAGE\n  7c9e6679   InProgress  2026-11-26T09:00:00Z  3f2a1bc  3f2a1bc  Fix the footer\n             Source Succeeded 3s  Build Succeeded 4m10s  Deploy InProgress  Verify -\n"
        );
        let absent = PipelineStatus {
            exists: false,
            runs: Vec::new(),
            ..p
        };
        assert_eq!(
            pipeline_text("dev", &absent),
            "pipeline apprunner-nuxt3-dev: not deployed (`apprun deploy --env dev` creates it)\n"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(59.6), "1m00s");
        assert_eq!(duration(3725.0), "1h02m");
    }
}
