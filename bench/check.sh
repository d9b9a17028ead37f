#!/usr/bin/env bash
# Benchmark: `apprun check` of every template of the shipped config's dev env
# as a whole process, side by side in one run with cfn-lint on the same files,
# and `apprun check --env dev` with and without the permission proof
# (APPRUN_BENCH_SKIP_PERM=1, which only this bench sets); and the whole
# cfn-lint fixture set (crates/apprun-check/tests/cfn-lint-fixtures, ~200
# templates nobody here wrote), one process each, side by side with cfn-lint.
# Installs what it needs (hyperfine; cfn-lint into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v hyperfine >/dev/null 2>&1; then
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
cargo build --release --locked -q
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
apprun="$PWD/target/release/apprun"
"$apprun" synth --env dev --out "$work/dev" >/dev/null 2>&1
files=$(ls "$work"/dev/*.yaml | tr '\n' ' ')

hyperfine --warmup 3 --runs "${RUNS:-20}" --export-json "$work/apprun.json" \
    -n "apprun check --template (5 files)" "$apprun check --template $files" \
    -n "apprun check --env dev (synth + check)" "$apprun check --env dev" \
    -n "apprun check --env dev without the permission proof" "APPRUN_BENCH_SKIP_PERM=1 $apprun check --env dev" >&2
hyperfine --warmup 1 --runs "${LINT_RUNS:-5}" --export-json "$work/lint.json" \
    -n "cfn-lint (same 5 files)" ".venv/bin/cfn-lint -- $files" >&2

# The fixture set: both exit non-zero (the bad fixtures), hence -i.
fixtures="$PWD/crates/apprun-check/tests/cfn-lint-fixtures"
fixture_files=$(cd "$fixtures" && find good bad -type f | sort | tr '\n' ' ')
count=$(echo "$fixture_files" | wc -w)
hyperfine -i --warmup 2 --runs "${RUNS:-20}" --export-json "$work/fixtures-apprun.json" \
    -n "apprun check --template ($count fixtures)" "cd $fixtures && $apprun check --format json --template $fixture_files" >&2
hyperfine -i --warmup 1 --runs "${LINT_RUNS:-5}" --export-json "$work/fixtures-lint.json" \
    -n "cfn-lint (same $count fixtures)" "cd $fixtures && $PWD/.venv/bin/cfn-lint --format json -- $fixture_files" >&2

python3 - "$work/apprun.json" "$work/lint.json" "$work/fixtures-apprun.json" "$work/fixtures-lint.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["results"]; l = json.load(open(sys.argv[2]))["results"][0]
fa = json.load(open(sys.argv[3]))["results"][0]; fl = json.load(open(sys.argv[4]))["results"][0]
for r in a + [l, fa, fl]:
    print(f"{r['command']:48} {r['mean']*1000:9.1f} ms (min {r['min']*1000:.1f})")
print(f"speed-up of apprun check --template over cfn-lint: {l['mean']/a[0]['mean']:.0f}x")
print(f"speed-up on the cfn-lint fixture set: {fl['mean']/fa['mean']:.0f}x (required: at least 100x)")
print(f"the permission proof adds {(a[1]['mean']-a[2]['mean'])*1000:.1f} ms to apprun check --env dev (budget 5 ms)")
PY
