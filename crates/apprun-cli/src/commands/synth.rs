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

/// `out` may be replaced when it does not exist, is empty, or holds only
/// what an earlier synth wrote (its manifest lists every file). A file
/// apprun did not write is never deleted: such a folder is refused, naming
/// the file (carrying user files over would mix them into a folder apprun
/// owns and overwrites, and a later synth could clobber one of the same name).
fn ensure_replaceable(out: &Path) -> Result<(), Failure> {
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Failure::io(out.display().to_string())(e)),
    };
    if !meta.is_dir() {
        return Err(Failure::Usage(format!(
            "--out {} exists and is not a folder; choose another path",
            out.display()
        )));
    }
    let mut present = Vec::new();
    list_files(out, Path::new(""), &mut present).map_err(Failure::io(out.display().to_string()))?;
    if present.is_empty() {
        return Ok(());
    }
    let Some(written) = manifest_files(out) else {
        return Err(Failure::Usage(format!(
            "--out {} is not empty and was not written by apprun synth (no readable {MANIFEST}); choose another folder or empty it",
            out.display()
        )));
    };
    present.sort();
    if let Some(foreign) = present.iter().find(|p| !written.contains(*p)) {
        return Err(Failure::Usage(format!(
            "--out {} holds {}, which apprun synth did not write (not in {MANIFEST}); move it elsewhere so that it is not deleted, then run synth again",
            out.display(),
            out.join(foreign).display()
        )));
    }
    Ok(())
}

/// Every file under `dir` (folders themselves are not listed), relative.
fn list_files(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// The files an earlier synth wrote into `out`: the manifest and the file
/// of every stack it lists.
fn manifest_files(out: &Path) -> Option<std::collections::BTreeSet<PathBuf>> {
    let text = std::fs::read_to_string(out.join(MANIFEST)).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut files: std::collections::BTreeSet<PathBuf> = manifest["envs"]
        .as_array()?
        .iter()
        .filter_map(|env| env["stacks"].as_array())
        .flatten()
        .filter_map(|stack| stack["file"].as_str())
        .map(PathBuf::from)
        .collect();
    files.insert(PathBuf::from(MANIFEST));
    Some(files)
}

/// Marks the temporary siblings of `out`: `.<name>.apprun-tmp-<pid>`.
const TMP_MARK: &str = ".apprun-tmp-";
/// Where the old folder waits when no atomic exchange is available.
const OLD_SUFFIX: &str = "-old";

/// Removes temporary folders that an earlier run left beside `out` when it
/// was killed, but only those whose process is gone (a run still going
/// keeps its own).
fn remove_stale_temps(parent: &Path, name: &str) {
    let prefix = format!(".{name}{TMP_MARK}");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .map(|p| p.strip_suffix(OLD_SUFFIX).unwrap_or(p))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && (pid == std::process::id() || !crate::commands::local::process_alive(pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP held back (blocked) while alive, delivered
/// when dropped: a signal then acts as usual, but never between the first
/// write to a temporary folder and its removal or renaming. (SIGKILL cannot
/// be held back: what it leaves is removed by the next run.)
struct DeferredSignals(Option<libc::sigset_t>);

impl DeferredSignals {
    fn new() -> Self {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        let mut old = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises `set` before sigaddset and
        // pthread_sigmask read it; pthread_sigmask fully writes `old` when
        // it returns 0, the only case in which `old` is read.
        let saved = unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(set.as_mut_ptr(), signal);
            }
            (libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), old.as_mut_ptr()) == 0)
                .then(|| old.assume_init())
        };
        DeferredSignals(saved)
    }
}

impl Drop for DeferredSignals {
    fn drop(&mut self) {
        if let Some(old) = self.0.take() {
            // SAFETY: `old` is the mask pthread_sigmask returned; restoring
            // it delivers a held-back signal now.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            }
        }
    }
}

/// Removes the temporary folder unless it has been put in place.
struct Staging(Option<PathBuf>);

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes `files` into `out` so that `out` is, at every instant, either the
/// old complete folder or the new complete one: everything goes to a
/// temporary sibling first, which then takes `out`'s place in one atomic
/// exchange where the OS offers it (Linux `renameat2(RENAME_EXCHANGE)`);
/// elsewhere two renames leave a short window without `out`.
pub fn write_folder(out: &Path, files: &[(PathBuf, String)]) -> Result<(), Failure> {
    let parent = parent_dir(out);
    let name = out
        .file_name()
        .ok_or_else(|| Failure::Usage(format!("--out {} does not name a folder", out.display())))?
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(&parent).map_err(Failure::io(parent.display().to_string()))?;
    remove_stale_temps(&parent, &name);
    ensure_replaceable(out)?;
    // Ctrl-C (or SIGTERM, SIGHUP) while the folder is written waits until
    // the temporary folder is in place or removed; then it takes effect.
    let _deferred = DeferredSignals::new();
    // Same folder as `out`, so same filesystem: the exchange is atomic.
    let tmp = parent.join(format!(".{name}{TMP_MARK}{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(Failure::io(format!(
        "creating a folder in {}",
        parent.display()
    )))?;
    let mut staging = Staging(Some(tmp.clone()));
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
    write_all().map_err(Failure::io(format!("writing {}", out.display())))?;
    let replaced =
        replace(&tmp, out).map_err(Failure::io(format!("replacing {}", out.display())))?;
    // `tmp` now holds the old folder (or nothing): removing it is cleanup.
    if !replaced {
        staging.0 = None;
    }
    Ok(())
}

/// Puts `new` in place of `dest`. `Ok(true)`: `dest` existed and its old
/// content now sits at `new`; `Ok(false)`: `new` was simply renamed.
fn replace(new: &Path, dest: &Path) -> std::io::Result<bool> {
    if std::fs::symlink_metadata(dest).is_err() {
        std::fs::rename(new, dest)?;
        return Ok(false);
    }
    match exchange(new, dest) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP)
            ) =>
        {
            // No atomic exchange here (an old kernel, a filesystem without
            // it): two renames, the old folder moved aside first.
            // `.<out>.apprun-tmp-<pid>-old`: found by the next run like
            // the temporary folder itself.
            let mut aside = new.as_os_str().to_owned();
            aside.push(OLD_SUFFIX);
            let aside = PathBuf::from(aside);
            std::fs::rename(dest, &aside)?;
            if let Err(e) = std::fs::rename(new, dest) {
                let _ = std::fs::rename(&aside, dest);
                return Err(e);
            }
            std::fs::rename(&aside, new)?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // The system call itself, not glibc's wrapper: the musl C library of
    // the static build (scripts/build-static.sh) has no `renameat2`.
    // SAFETY: both pointers are NUL-terminated strings that live until the
    // call returns; AT_FDCWD makes relative paths relative to the current
    // folder, as std::fs::rename does; the arguments are those of
    // renameat2(2), each widened to the register size the call takes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::c_long::from(libc::AT_FDCWD),
            a.as_ptr(),
            libc::c_long::from(libc::AT_FDCWD),
            b.as_ptr(),
            libc::c_long::from(libc::RENAME_EXCHANGE),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from_raw_os_error(libc::ENOSYS))
}
