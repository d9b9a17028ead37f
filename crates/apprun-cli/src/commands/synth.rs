//! `apprun synth`: templates on disk, all or nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_template::Format;
use serde_json::json;

use crate::cli::{SynthArgs, TemplateFormat};
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::parent_dir;
use crate::views::{in_order, stack_json};

/// Written beside the templates; also marks the folder as apprun's own.
pub const MANIFEST: &str = "apprun.manifest.json";

pub fn run(ctx: &Context, args: &SynthArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let format = match args.format {
        TemplateFormat::Yaml => Format::Yaml,
        TemplateFormat::Json => Format::Json,
    };
    let envs: Vec<String> = match &args.env {
        Some(env) => {
            config.env(env)?;
            vec![env.clone()]
        }
        None => config.envs.keys().cloned().collect(),
    };
    let mut files = Vec::new();
    let mut manifest_envs = Vec::new();
    for env in &envs {
        let blueprint = synthesize(&config, env)?;
        blueprint.ensure_valid()?;
        let dir = if args.all {
            PathBuf::from(env)
        } else {
            PathBuf::new()
        };
        manifest_envs.push(manifest_entry(&blueprint, &dir, format));
        for stack in &blueprint.stacks {
            let file = dir.join(format!("{}.{}", stack.kind.file_stem(), format.extension()));
            files.push((file, stack.template.render(format)));
        }
    }
    let manifest = json!({
        "system": config.system.id,
        "region": config.system.region,
        "format": format.extension(),
        "envs": manifest_envs,
    });
    let mut manifest_text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    manifest_text.push('\n');
    files.push((PathBuf::from(MANIFEST), manifest_text));

    write_folder(&args.out, &files)?;
    let written: Vec<String> = files
        .iter()
        .map(|(p, _)| args.out.join(p).display().to_string())
        .collect();
    if ctx.json() {
        print_json(&json!({ "ok": true, "out": args.out.display().to_string(), "files": written }));
    } else {
        for f in &written {
            outln!("{f}");
        }
        ctx.progress(format!(
            "wrote {} templates for {} to {}",
            files.len() - 1,
            envs.join(", "),
            args.out.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn manifest_entry(bp: &EnvBlueprint, dir: &Path, format: Format) -> serde_json::Value {
    let stacks: Vec<_> = in_order(bp)
        .into_iter()
        .map(|(wave, s)| {
            let file = dir.join(format!("{}.{}", s.kind.file_stem(), format.extension()));
            stack_json(bp, wave, s, file.display().to_string())
        })
        .collect();
    json!({ "env": bp.env, "stacks": stacks })
}

/// `out` may be replaced when it does not exist, is empty, or holds an
/// earlier synth's output (its manifest says so).
fn ensure_replaceable(out: &Path) -> Result<(), Failure> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(Failure::Usage(format!(
            "--out {} exists and is not a folder; choose another path",
            out.display()
        )));
    }
    let empty = std::fs::read_dir(out)
        .map_err(Failure::io(out.display().to_string()))?
        .next()
        .is_none();
    if !empty && !out.join(MANIFEST).exists() {
        return Err(Failure::Usage(format!(
            "--out {} is not empty and was not written by apprun synth (no {MANIFEST}); choose another folder or empty it",
            out.display()
        )));
    }
    Ok(())
}

/// Writes `files` into `out` so that `out` ends up either complete or as it
/// was: everything goes to a temporary sibling folder first, which then
/// replaces `out` by rename.
pub fn write_folder(out: &Path, files: &[(PathBuf, String)]) -> Result<(), Failure> {
    let parent = parent_dir(out);
    let name = out
        .file_name()
        .ok_or_else(|| Failure::Usage(format!("--out {} does not name a folder", out.display())))?
        .to_string_lossy()
        .into_owned();
    ensure_replaceable(out)?;
    std::fs::create_dir_all(&parent).map_err(Failure::io(parent.display().to_string()))?;
    let pid = std::process::id();
    // A fresh, unique sibling (same filesystem, so the rename is atomic); it
    // is removed if anything below fails before the rename.
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.apprun-tmp-");
    builder.prefix(&prefix);
    // A folder like any other (mode 0777 less the umask), not a private 0700 one.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
    let staging = builder.tempdir_in(&parent).map_err(Failure::io(format!(
        "creating a folder in {}",
        parent.display()
    )))?;
    let tmp = staging.path().to_path_buf();
    let write_all = || -> std::io::Result<()> {
        for (rel, text) in files {
            let path = tmp.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, text)?;
        }
        Ok(())
    };
    if let Err(e) = write_all() {
        return Err(Failure::Io {
            what: format!("writing {}", out.display()),
            error: e,
        });
    }
    let old = parent.join(format!(".{name}.apprun-old-{pid}"));
    let had_old = out.exists();
    if had_old && let Err(e) = std::fs::rename(out, &old) {
        return Err(Failure::Io {
            what: format!("replacing {}", out.display()),
            error: e,
        });
    }
    if let Err(e) = std::fs::rename(&tmp, out) {
        if had_old {
            let _ = std::fs::rename(&old, out);
        }
        return Err(Failure::Io {
            what: format!("replacing {}", out.display()),
            error: e,
        });
    }
    // The folder now lives at `out`: nothing is left to clean up.
    let _ = staging.keep();
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}
