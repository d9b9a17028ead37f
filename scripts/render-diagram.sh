#!/usr/bin/env bash
# Regenerates docs/diagram-dev.svg and docs/diagram-dev.png, the architecture
# of the shipped config's dev env, through the diagram test's own code path:
# the test renders the SVG, checks it (every subnet CIDR and security-group
# rule, no overlapping boxes or labels), screenshots it with headless
# Chromium and, with APPRUN_DIAGRAM_OUT set, copies both files there.
# Needs chromium (/usr/bin/chromium).
set -euo pipefail
workspace="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$workspace/docs"
APPRUN_DIAGRAM_OUT="$workspace/docs" cargo test --locked -q \
    --manifest-path "$workspace/Cargo.toml" -p apprun-diagram --test diagram \
    dev_diagram_shows_every_subnet_and_rule
ls -l "$workspace/docs/diagram-dev.svg" "$workspace/docs/diagram-dev.png"
