#!/usr/bin/env bash
# Builds the reference app as one static binary into ./build/hello-app (in the
# current folder: where apprun runs its prebuild), for the FROM scratch
# Dockerfile. No base image is pulled, so it builds offline. It needs cargo,
# so it is the workstation's prebuild ([services.web.release] in apprun.toml);
# the pipeline compiles in Dockerfile.multistage instead.
set -euo pipefail
workspace="$(cd "$(dirname "$0")/.." && pwd)"
target=x86_64-unknown-linux-gnu
# --target keeps the static flag off build scripts and proc macros.
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q \
    --manifest-path "$workspace/Cargo.toml" -p hello-app --target "$target"
mkdir -p build
# Where cargo put it: CARGO_TARGET_DIR when set (relative to the current
# folder, as cargo reads it), else the workspace's target folder.
target_dir="${CARGO_TARGET_DIR:-$workspace/target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
cp "$target_dir/$target/release/hello-app" build/hello-app
