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
cp "$workspace/target/$target/release/hello-app" build/hello-app
