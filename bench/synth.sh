#!/usr/bin/env bash
# Benchmark: `apprun synth --all` of the shipped apprun.toml (every stack of
# dev, stg and prod) as a whole process, side by side in one run with the
# peer, `cdk synth` of the reference's two CDK stacks for one environment.
# Installs what it needs (hyperfine, GNU time, the CDK peer's npm packages).
# Not part of the test suite: timings belong here, never in tests.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-30}"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need hyperfine || [ ! -x /usr/bin/time ]; then
    apt-get install -y -qq hyperfine time >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null; }
fi
( cd bench/cdk-peer && [ -d node_modules/aws-cdk-lib ] || npm install --no-audit --no-fund --loglevel=error )

cargo build --release --locked -q
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
apprun="$PWD/target/release/apprun"
cdk="$PWD/bench/cdk-peer/node_modules/.bin/cdk"
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1

echo "== time (hyperfine, whole processes)"
hyperfine --warmup 3 --runs "$runs" --export-json "$work/apprun.json" \
    "$apprun synth --all --out $work/apprun-out" >&2
hyperfine --warmup 1 --runs "${CDK_RUNS:-5}" --export-json "$work/cdk.json" \
    "cd bench/cdk-peer && $cdk synth --quiet --app 'node app.js' -c env=dev -o $work/cdk-out" >&2

echo "== peak memory (GNU time, max RSS)"
apprun_kb=$(/usr/bin/time -f %M "$apprun" synth --all --out "$work/apprun-out" 2>&1 >/dev/null | tail -1)
cdk_kb=$( (cd bench/cdk-peer && /usr/bin/time -f %M "$cdk" synth --quiet --app 'node app.js' -c env=dev -o "$work/cdk-out") 2>&1 >/dev/null | tail -1)

mean() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.1f ms (min %.1f ms)' % (r['mean']*1000, r['min']*1000))" "$1"; }
stacks=$(find "$work/apprun-out" -name '*.yaml' | wc -l)
echo
echo "apprun synth --all ($stacks templates, 3 envs): $(mean "$work/apprun.json"), peak RSS $((apprun_kb / 1024)) MB"
echo "cdk synth (2 stacks, 1 env):                 $(mean "$work/cdk.json"), peak RSS $((cdk_kb / 1024)) MB (the cdk CLI process; node app.js runs as its child)"
