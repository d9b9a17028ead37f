#!/usr/bin/env bash
# Benchmark: the deploy engine's own overhead on a local CloudFormation
# endpoint (moto_server), as whole processes, side by side in one run with
# the reference's manual path: `aws cloudformation deploy` of the same
# templates, one stack after the other.
#
# Measured per tool: a first deploy of the dev env on a fresh endpoint (iam,
# repository, network, pipeline; `apprun deploy` without a tag defers the
# service, which has no image yet and which moto could not create anyway: it
# has no App Runner; apprun also stages the service template for the
# pipeline), and an unchanged redeploy; wall time (median of RUNS) and the
# HTTP requests that reached the endpoint (from moto's access log).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
stacks=(iam repository network pipeline)

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
cargo build --release --locked -q
apprun="$PWD/target/release/apprun"
work="$(mktemp -d)"
moto_pid=""
cleanup() { [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$apprun" synth --env dev --out "$work/templates" >/dev/null 2>&1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=ap-northeast-1 \
    AWS_EC2_METADATA_DISABLED=true APPRUN_POLL_MS=200 NO_COLOR=1

start_moto() {
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null || true
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    moto_pid=$!
    until python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; do sleep 0.1; done
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
}
requests() { grep -c '"\(POST\|GET\|PUT\|HEAD\|DELETE\) /' "$work/moto.log" || true; }
now_ms() { date +%s%3N; }

apprun_deploy() { "$apprun" deploy --env dev --yes --output json >/dev/null 2>&1; }
cli_deploy() {
    for s in "${stacks[@]}"; do
        name="apprunner-nuxt3-dev-$s"; [ "$s" = iam ] && name="apprunner-nuxt3-iam"
        .venv/bin/aws cloudformation deploy --template-file "$work/templates/$s.yaml" --stack-name "$name" \
            --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset >/dev/null
    done
}

measure() { # tool phase -> "ms requests"
    local tool=$1 before after t0 t1
    before=$(requests); t0=$(now_ms)
    "${tool}_deploy"
    t1=$(now_ms); after=$(requests)
    echo "$((t1 - t0)) $((after - before))"
}

: >"$work/results"
for i in $(seq "$runs"); do
    for tool in apprun cli; do
        start_moto
        echo "$tool full $(measure $tool)" >>"$work/results"
        echo "$tool unchanged $(measure $tool)" >>"$work/results"
    done
done

python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tool, phase, ms, req = line.split()
    rows.setdefault((tool, phase), []).append((int(ms), int(req)))
names = {"apprun": "apprun deploy (4 stacks, 2 waves, service deferred)", "cli": "aws cloudformation deploy x4 (sequential)"}
print(f"{'':44} {'full deploy':>22} {'unchanged redeploy':>22}")
for tool in ("apprun", "cli"):
    cells = []
    for phase in ("full", "unchanged"):
        v = rows[(tool, phase)]
        cells.append(f"{statistics.median(m for m, _ in v):7.0f} ms {statistics.median(r for _, r in v):4.0f} req")
    print(f"{names[tool]:44} {cells[0]:>22} {cells[1]:>22}")
PY
