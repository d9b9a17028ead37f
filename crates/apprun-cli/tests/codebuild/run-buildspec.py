"""Runs a CodeBuild buildspec (version 0.2) locally, phase by phase, the way
CodeBuild's agent does, and writes a JSON report of every phase and command.

Used by crates/apprun-cli/tests/buildspec.rs; run with the workspace's
.venv/bin/python (PyYAML comes with the pinned test tools).

    run-buildspec.py --buildspec FILE --src DIR --env FILE --report FILE [--timeout S]

--env is a JSON object: the complete environment of the build container (the
test sets CodeBuild's own variables and the project's variables there).

The semantics modelled, from the CodeBuild user guide:
- "Build specification reference": `version: 0.2`; `env.shell` picks the
  shell (`bash` here); `env.variables` have the lowest precedence (project
  variables win); phases `install`, `pre_build`, `build`, `post_build` run in
  that order; each entry of `commands` is ONE command, run one at a time in
  order, and the first failing command skips the rest of the phase; a
  `finally` block runs even when a command of `commands` failed; the phase
  fails if any command fails. A command fails by its exit status: a `- |`
  block is one command, so only its final status counts unless it sets
  `-e` itself.
- Same page, phases note: in version 0.2 (unlike 0.1) commands do not run in
  isolation: variables and the working directory carry over from command to
  command and from phase to phase. The agent starts each command in a new
  shell; the runner does the same and carries the shell variables (exported
  or not, as they were) and the working directory across. Functions and
  shell options (`set -e`) do not carry over.
- "Build phase transitions": a failed INSTALL or PRE_BUILD phase ends the
  build (later phases are skipped); after a failed BUILD phase, POST_BUILD
  still runs, with CODEBUILD_BUILD_SUCCEEDING=0 ("Environment variables in
  build environments": 1 while the build succeeds, 0 once it failed).
  UPLOAD_ARTIFACTS is attempted even when BUILD failed, and fails when a path
  of `artifacts.files` matches nothing.
- TimeoutInMinutes: the build is stopped when it runs longer (TIMED_OUT);
  the test passes a shorter timeout of its own.

Anything in the buildspec this runner does not model (other keys, other
shells, `on-failure`, secrets) is refused with exit status 2, so that a
change of the generated buildspec cannot pass unnoticed.
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

PHASES = ["install", "pre_build", "build", "post_build"]
TOP_KEYS = {"version", "env", "phases", "artifacts"}
ENV_KEYS = {"shell", "variables"}
PHASE_KEYS = {"commands", "finally"}
ARTIFACT_KEYS = {"files"}

# Bash's own variables: never carried from one command to the next (the new
# shell sets them itself, and several are read-only).
BASH_OWN = {
    "BASH", "BASHOPTS", "BASHPID", "BASH_ALIASES", "BASH_ARGC", "BASH_ARGV",
    "BASH_ARGV0", "BASH_CMDS", "BASH_COMMAND", "BASH_EXECUTION_STRING",
    "BASH_LINENO", "BASH_LOADABLES_PATH", "BASH_REMATCH", "BASH_SOURCE",
    "BASH_SUBSHELL", "BASH_VERSINFO", "BASH_VERSION", "COLUMNS", "COMP_WORDBREAKS",
    "DIRSTACK", "EPOCHREALTIME", "EPOCHSECONDS", "EUID", "FUNCNAME", "GROUPS",
    "HISTCMD", "HISTFILE", "HOSTNAME", "HOSTTYPE", "IFS", "LINENO", "LINES",
    "MACHTYPE", "OLDPWD", "OPTARG", "OPTERR", "OPTIND", "OSTYPE", "PIPESTATUS",
    "PPID", "PS4", "PWD", "RANDOM", "SECONDS", "SHELLOPTS", "SHLVL", "SRANDOM",
    "UID", "_",
    # Set by the agent for every command, never by the previous command.
    "CODEBUILD_BUILD_SUCCEEDING",
}

# Each command runs in a new bash: restore the previous command's variables
# and directory, then run the command text as it stands (sourced, so that
# its status is the status of its last command, and `exit` ends it); on
# exit, whatever the status, save variables and directory for the next one.
PRELUDE = r"""
__apprun_state="$1"
source "$__apprun_state/vars.sh"
cd "$(cat "$__apprun_state/cwd")" || exit 1
__apprun_save() {
    local __apprun_name __apprun_decl
    {
        for __apprun_name in $(compgen -v); do
            case " $__APPRUN_SKIP " in *" $__apprun_name "*) continue ;; esac
            case "$__apprun_name" in __apprun_*|__APPRUN_*) continue ;; esac
            __apprun_decl="$(declare -p "$__apprun_name" 2>/dev/null)" || continue
            case "${__apprun_decl%% *}" in declare) ;; *) continue ;; esac
            __apprun_decl="${__apprun_decl#declare }"
            case "${__apprun_decl%% *}" in *r*) continue ;; esac
            printf 'declare %s\n' "$__apprun_decl"
        done
    } > "$__apprun_state/vars.next"
    mv "$__apprun_state/vars.next" "$__apprun_state/vars.sh"
    pwd > "$__apprun_state/cwd"
}
trap __apprun_save EXIT
source "$__apprun_state/command"
"""


class Refused(Exception):
    """The buildspec uses something this runner does not model."""


def check_keys(where, value, allowed):
    if not isinstance(value, dict):
        raise Refused(f"{where} must be a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise Refused(f"{where}: keys not modelled by the runner: {', '.join(unknown)}")


def load(path):
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    check_keys("buildspec", spec, TOP_KEYS)
    if str(spec.get("version")) != "0.2":
        raise Refused(f"version {spec.get('version')!r}: only 0.2 is modelled")
    env = spec.get("env") or {}
    check_keys("env", env, ENV_KEYS)
    if env.get("shell", "bash") != "bash":
        raise Refused(f"env.shell {env.get('shell')!r}: only bash is modelled")
    phases = spec.get("phases") or {}
    check_keys("phases", phases, set(PHASES))
    for name, phase in phases.items():
        check_keys(f"phases.{name}", phase, PHASE_KEYS)
        for block in PHASE_KEYS:
            commands = phase.get(block) or []
            if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
                raise Refused(f"phases.{name}.{block} must be a list of strings")
    artifacts = spec.get("artifacts") or {}
    check_keys("artifacts", artifacts, ARTIFACT_KEYS)
    return spec


class Build:
    def __init__(self, env, src, deadline):
        self.env = env
        self.src = src
        self.deadline = deadline
        self.state = tempfile.mkdtemp(prefix="codebuild-state-")
        with open(os.path.join(self.state, "vars.sh"), "w") as f:
            f.write("")
        with open(os.path.join(self.state, "cwd"), "w") as f:
            f.write(src + "\n")
        self.succeeding = "1"
        self.timed_out = False
        self.log = []

    def say(self, line):
        # The agent's log lines, as CodeBuild shows them.
        self.log.append(f"[Container] {line}")
        print(f"[Container] {line}", flush=True)

    def run_command(self, text):
        with open(os.path.join(self.state, "command"), "w", encoding="utf-8") as f:
            f.write(text)
            if not text.endswith("\n"):
                f.write("\n")
        env = dict(self.env)
        env["CODEBUILD_BUILD_SUCCEEDING"] = self.succeeding
        env["__APPRUN_SKIP"] = " ".join(sorted(BASH_OWN))
        self.say(f"Running command {text.strip()}")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            return None, ""
        proc = subprocess.Popen(
            ["bash", "-c", PRELUDE, "codebuild", self.state],
            cwd=self.src,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            self.timed_out = True
            output = out.decode("utf-8", "replace")
            self.log.append(output)
            sys.stdout.write(output)
            self.say("Build timed out")
            return None, output
        output = out.decode("utf-8", "replace")
        self.log.append(output)
        sys.stdout.write(output)
        if proc.returncode != 0:
            self.say(f"Command did not exit successfully {text.strip()} exit status {proc.returncode}")
        return proc.returncode, output

    def run_phase(self, name, phase):
        self.say(f"Entering phase {name.upper()}")
        record = {"name": name.upper(), "status": "SUCCEEDED", "commands": []}
        failed = False
        for block in ("commands", "finally"):
            for text in phase.get(block) or []:
                if failed and block == "commands":
                    record["commands"].append({"block": block, "command": text, "exit": None, "output": "", "skipped": True})
                    continue
                code, output = self.run_command(text)
                record["commands"].append({"block": block, "command": text, "exit": code, "output": output, "skipped": False})
                if self.timed_out:
                    record["status"] = "TIMED_OUT"
                    return record
                if code != 0:
                    failed = True
        if failed:
            record["status"] = "FAILED"
        self.say(f"Phase complete: {name.upper()} State: {record['status']}")
        return record


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buildspec", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    try:
        spec = load(args.buildspec)
    except Refused as e:
        print(f"run-buildspec: refused: {e}", file=sys.stderr)
        return 2
    with open(args.env, encoding="utf-8") as f:
        env = json.load(f)
    # Buildspec variables have the lowest precedence.
    for key, value in ((spec.get("env") or {}).get("variables") or {}).items():
        env.setdefault(key, str(value))
    src = os.path.realpath(args.src)
    env["CODEBUILD_SRC_DIR"] = src
    build = Build(env, src, time.monotonic() + args.timeout)
    try:
        report = run(spec, build, src)
    finally:
        shutil.rmtree(build.state, ignore_errors=True)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    return 0


def run(spec, build, src):
    """Runs the phases and the artifact check; returns the report."""
    phases = spec.get("phases") or {}
    records = []
    status = "SUCCEEDED"
    failed_phase = None
    reached_build = False
    for name in PHASES:
        # A failed INSTALL or PRE_BUILD ends the build; a failed BUILD still
        # lets POST_BUILD run; a timeout stops everything.
        runs = status == "SUCCEEDED" or (
            status == "FAILED" and failed_phase == "build" and name == "post_build"
        )
        if not runs:
            records.append({"name": name.upper(), "status": "SKIPPED", "commands": []})
            continue
        if name == "build":
            reached_build = True
        if name not in phases:
            continue
        record = build.run_phase(name, phases[name])
        records.append(record)
        if record["status"] == "TIMED_OUT":
            status = "TIMED_OUT"
        elif record["status"] == "FAILED" and status == "SUCCEEDED":
            status = "FAILED"
            failed_phase = name
            build.succeeding = "0"
    # UPLOAD_ARTIFACTS is attempted once the build got to BUILD, even if that
    # failed; a path that matches nothing fails it.
    missing = []
    files = ((spec.get("artifacts") or {}).get("files")) or []
    if reached_build and status != "TIMED_OUT":
        build.say("Entering phase UPLOAD_ARTIFACTS")
        for pattern in files:
            if not glob.glob(os.path.join(src, pattern), recursive=True):
                missing.append(pattern)
                build.say(f"CLIENT_ERROR: no matching artifact paths found: {pattern}")
        upload = "FAILED" if missing else "SUCCEEDED"
        records.append({"name": "UPLOAD_ARTIFACTS", "status": upload, "commands": []})
        if missing and status == "SUCCEEDED":
            status = "FAILED"
    else:
        records.append({"name": "UPLOAD_ARTIFACTS", "status": "SKIPPED", "commands": []})
    build.say(f"Build {status}")
    log = "".join(line if line.endswith("\n") else line + "\n" for line in build.log)
    return {"status": status, "phases": records, "missing_artifacts": missing, "log": log}


if __name__ == "__main__":
    sys.exit(main())
