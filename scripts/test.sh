#!/usr/bin/env bash
# Runs every test of apprun on a fresh machine: installs what the tests need
# (pinned Python tools in .venv), checks formatting and lints, then runs the
# whole workspace's tests. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '==> %s\n' "$*" >&2; }

step "Debian packages the tests run (buildah, podman, docker-registry, chromium, git, curl, musl-tools, file)"
packages=(buildah podman docker-registry chromium git curl musl-tools file)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

step "Rust target of the static binary (scripts/build-static.sh, tested)"
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl

step "Python tools (requirements-test.txt) into .venv"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
export APPRUN_CFN_LINT="$PWD/.venv/bin/cfn-lint"
"$APPRUN_CFN_LINT" --version >&2

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
    # nextest closes with one summary line counting every test of the workspace.
    cargo nextest run --workspace --locked --no-fail-fast
else
    log="$(mktemp)"
    status=0
    cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
    passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
    failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
    rm -f "$log"
    echo "$passed passed, $failed failed"
    exit "$status"
fi
