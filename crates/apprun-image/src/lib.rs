//! Building and pushing the service image with whatever builder the machine
//! has: docker (needs a daemon), podman or buildah (no daemon). Everything
//! runs as child processes; nothing here talks to AWS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "no image builder found: install podman or buildah (no daemon needed), or docker with a running daemon; or pass --builder"
    )]
    NoBuilder,
    #[error("{builder} is not usable here: {reason}")]
    Unusable {
        builder: &'static str,
        reason: String,
    },
    #[error(
        "the working tree has uncommitted changes, so its commit does not describe the image; commit them, or pass --tag to choose a tag yourself"
    )]
    DirtyTree,
    #[error("cannot read the commit: {0}")]
    Git(String),
    #[error("`{command}` failed ({status}){}", if output.is_empty() { String::new() } else { format!(":\n{output}") })]
    Command {
        command: String,
        status: String,
        output: String,
    },
    #[error("cannot run `{command}`: {error}")]
    Spawn {
        command: String,
        error: std::io::Error,
    },
}

/// The tools that can build an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    Docker,
    Podman,
    Buildah,
}

impl Builder {
    pub fn name(self) -> &'static str {
        match self {
            Builder::Docker => "docker",
            Builder::Podman => "podman",
            Builder::Buildah => "buildah",
        }
    }

    pub fn parse(s: &str) -> Option<Builder> {
        match s {
            "docker" => Some(Builder::Docker),
            "podman" => Some(Builder::Podman),
            "buildah" => Some(Builder::Buildah),
            _ => None,
        }
    }

    /// The first builder that works here: docker only with a reachable
    /// daemon, then podman, then buildah.
    pub fn detect() -> Result<Builder, ImageError> {
        for b in [Builder::Docker, Builder::Podman, Builder::Buildah] {
            if b.check().is_ok() {
                return Ok(b);
            }
        }
        Err(ImageError::NoBuilder)
    }

    /// Whether this builder can work on this machine.
    pub fn check(self) -> Result<(), ImageError> {
        let probe = match self {
            Builder::Docker => vec!["info", "--format", "{{.ServerVersion}}"],
            Builder::Podman | Builder::Buildah => vec!["--version"],
        };
        let out = Command::new(self.name())
            .args(&probe)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(ImageError::Unusable {
                builder: self.name(),
                reason: String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            }),
            Err(e) => Err(ImageError::Unusable {
                builder: self.name(),
                reason: e.to_string(),
            }),
        }
    }

    /// Daemonless builders keep images in vfs storage with chroot isolation,
    /// which works in containers and CI runners without privileges.
    fn storage_args(self) -> Vec<String> {
        match self {
            Builder::Docker => vec![],
            Builder::Podman | Builder::Buildah => {
                let driver =
                    std::env::var("APPRUN_STORAGE_DRIVER").unwrap_or_else(|_| "vfs".into());
                vec![format!("--storage-driver={driver}")]
            }
        }
    }

    /// Builds `image` from `dockerfile` with `context` as build context.
    pub fn build(self, context: &Path, dockerfile: &Path, image: &str) -> Result<(), ImageError> {
        let mut args = self.storage_args();
        match self {
            Builder::Docker => args.extend(["build".into()]),
            Builder::Podman => args.extend(["build".into(), "--isolation=chroot".into()]),
            Builder::Buildah => args.extend(["bud".into(), "--isolation=chroot".into()]),
        }
        args.extend([
            "--file".into(),
            dockerfile.display().to_string(),
            "--tag".into(),
            image.to_owned(),
        ]);
        args.push(context.display().to_string());
        run(self.name(), &args, None)
    }

    /// Pushes `image`; `insecure` allows plain HTTP (loopback registries);
    /// `credentials` is `user:password` (ECR's token).
    pub fn push(
        self,
        image: &str,
        insecure: bool,
        credentials: Option<&str>,
    ) -> Result<(), ImageError> {
        let mut args = self.storage_args();
        args.push("push".into());
        match self {
            Builder::Docker => {
                if let Some(c) = credentials {
                    let (user, password) = c.split_once(':').unwrap_or((c, ""));
                    let registry = image.split('/').next().unwrap_or_default();
                    run(
                        "docker",
                        &[
                            "login".into(),
                            "--username".into(),
                            user.into(),
                            "--password-stdin".into(),
                            registry.into(),
                        ],
                        Some(password),
                    )?;
                }
            }
            Builder::Podman | Builder::Buildah => {
                if insecure {
                    args.push("--tls-verify=false".into());
                }
                if let Some(c) = credentials {
                    args.push(format!("--creds={c}"));
                }
            }
        }
        args.push(image.to_owned());
        run(self.name(), &args, None)
    }
}

fn run(program: &str, args: &[String], stdin: Option<&str>) -> Result<(), ImageError> {
    // Credentials never appear in error messages.
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.starts_with("--creds=") {
                "--creds=***".into()
            } else {
                a.clone()
            }
        })
        .collect();
    let command = format!("{program} {}", shown.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| ImageError::Spawn {
            command: command.clone(),
            error,
        })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        let _ = pipe.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|error| ImageError::Spawn {
            command: command.clone(),
            error,
        })?;
    if out.status.success() {
        return Ok(());
    }
    let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stdout));
    let tail: Vec<&str> = output.lines().rev().take(15).collect();
    Err(ImageError::Command {
        command,
        status: out.status.to_string(),
        output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Runs the service's prebuild command in `dir`, output shown as it comes.
pub fn prebuild(dir: &Path, command: &[String]) -> Result<(), ImageError> {
    let Some((program, args)) = command.split_first() else {
        return Ok(());
    };
    let shown = command.join(" ");
    let program = if program.contains('/') {
        dir.join(program).display().to_string()
    } else {
        program.clone()
    };
    let status = Command::new(&program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|error| ImageError::Spawn {
            command: shown.clone(),
            error,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(ImageError::Command {
            command: shown,
            status: status.to_string(),
            output: String::new(),
        })
    }
}

/// The 7-character id of HEAD in `dir`; refuses a dirty tree.
pub fn commit_tag(dir: &Path) -> Result<String, ImageError> {
    let git = |args: &[&str]| -> Result<String, ImageError> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| ImageError::Git(e.to_string()))?;
        if !out.status.success() {
            return Err(ImageError::Git(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let status = git(&["status", "--porcelain", "--untracked-files=no"])?;
    if !status.is_empty() {
        return Err(ImageError::DirtyTree);
    }
    let id = git(&["rev-parse", "HEAD"])?;
    Ok(id.chars().take(7).collect())
}

/// Where a registry reference points: `host[:port]/repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub registry: String,
    pub path: String,
}

impl Repository {
    pub fn parse(uri: &str) -> Option<Repository> {
        let uri = uri
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let (registry, path) = uri.split_once('/')?;
        (!registry.is_empty() && !path.is_empty()).then(|| Repository {
            registry: registry.into(),
            path: path.into(),
        })
    }

    /// Loopback registries speak plain HTTP.
    pub fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }

    pub fn image(&self, tag: &str) -> String {
        format!("{}/{}:{tag}", self.registry, self.path)
    }
}

/// Where the Dockerfile is, relative to the config's folder.
pub fn dockerfile_path(dir: &Path, dockerfile: &str) -> PathBuf {
    dir.join(dockerfile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories() {
        let r = Repository::parse("127.0.0.1:5000/apprunner-nuxt3-dev").unwrap();
        assert!(r.is_loopback());
        assert_eq!(
            r.image("abc1234"),
            "127.0.0.1:5000/apprunner-nuxt3-dev:abc1234"
        );
        let ecr = Repository::parse(
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/apprunner-nuxt3-dev",
        )
        .unwrap();
        assert!(!ecr.is_loopback());
        assert_eq!(
            ecr.registry,
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
        );
        assert!(Repository::parse("no-slash").is_none());
    }

    #[test]
    fn dirty_trees_are_refused_and_clean_ones_give_seven_characters() {
        let dir = std::env::temp_dir().join(format!("apprun-image-git-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let git = |args: &[&str]| {
            assert!(
                Command::new("git")
                    .args(args)
                    .current_dir(&dir)
                    .output()
                    .unwrap()
                    .status
                    .success()
            )
        };
        git(&["init", "-q"]);
        std::fs::write(dir.join("f"), "1").unwrap();
        git(&["add", "f"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "one",
        ]);
        let tag = commit_tag(&dir).unwrap();
        assert_eq!(tag.len(), 7);
        assert!(tag.chars().all(|c| c.is_ascii_hexdigit()));
        std::fs::write(dir.join("f"), "2").unwrap();
        assert!(matches!(commit_tag(&dir), Err(ImageError::DirtyTree)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
