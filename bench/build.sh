#!/usr/bin/env bash
# Benchmark: apprun's clean release build against a reference crate's, in one
# run on the same machine, so that the ratio holds whatever else the machine
# is doing. Each build gets its own fresh target dir:
#   apprun     cargo build --release --locked            (this workspace)
#   reference  cargo install --locked ripgrep@14.1.1     (from crates.io)
# Sources are fetched before the clocks start (neither time counts downloads).
# Prints both wall and CPU times, their ratios, and the load average around
# the run (other work on the machine inflates wall times much more than CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
ref_crate="${REF_CRATE:-ripgrep}"
ref_version="${REF_VERSION:-14.1.1}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# CPU seconds (user + system) of a command's processes, from bash's `times`
# (its second line: the children's "XmY.YYYs XmY.YYYs"), printed on stdout;
# the command's own output goes to stderr. CPU time depends far less than
# wall time on what else the machine runs.
cpu_of() {
    ( "$@" >&2; times ) | tail -n 1 | tr 'ms' '  ' \
        | awk '{ printf "%.1f", $1 * 60 + $2 + $3 * 60 + $4 }'
}

# The reference is installed from a folder outside this workspace so that no
# .cargo/config.toml of ours applies to it.
install_ref() { # TARGET_DIR ROOT
    (cd "$work" && CARGO_TARGET_DIR="$1" cargo install --quiet --locked --force \
        --root "$2" "$ref_crate" --version "$ref_version")
}

echo "==> fetching sources (not timed)" >&2
cargo fetch --locked >/dev/null
# cargo install has no fetch-only mode: the first run on a machine builds the
# reference once, untimed, which leaves its sources in cargo's cache.
if ! compgen -G "${CARGO_HOME:-$HOME/.cargo}/registry/src/*/$ref_crate-$ref_version" >/dev/null; then
    echo "==> first run here: building $ref_crate $ref_version once to cache its sources (not timed)" >&2
    install_ref "$work/warm-target" "$work/warm-root"
    rm -rf "$work/warm-target" "$work/warm-root"
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> apprun: cargo build --release --locked (fresh target dir)" >&2
start="$(now)"
apprun_cpu="$(CARGO_TARGET_DIR="$work/apprun-target" cpu_of cargo build --quiet --release --locked)"
apprun_s="$(elapsed "$start" "$(now)")"
size="$(stat -c %s "$work/apprun-target/release/apprun")"
# The release profile strips symbols; say so if a profile override lost it.
case "$(file -b "$work/apprun-target/release/apprun" 2>/dev/null || true)" in
    *"not stripped"*) stripped="NOT stripped" ;;
    *", stripped"*) stripped="stripped" ;;
    *) stripped="stripped: unknown (no file(1))" ;;
esac
rm -rf "$work/apprun-target"

echo "==> reference: cargo install --locked $ref_crate --version $ref_version (fresh target dir)" >&2
start="$(now)"
ref_cpu="$(cpu_of install_ref "$work/ref-target" "$work/ref-root")"
ref_s="$(elapsed "$start" "$(now)")"

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

printf 'cores:            %s\n' "$(nproc)"
printf 'load average:     %s before, %s after\n' "$load_before" "$load_after"
printf '%-17s %8s  %8s\n' "" "wall" "CPU"
printf '%-17s %8.1f s %8.1f s  (target/release/apprun: %s bytes, %s)\n' "apprun:" "$apprun_s" "$apprun_cpu" "$size" "$stripped"
printf '%-17s %8.1f s %8.1f s\n' "$ref_crate $ref_version:" "$ref_s" "$ref_cpu"
awk -v a="$apprun_s" -v r="$ref_s" -v ac="$apprun_cpu" -v rc="$ref_cpu" \
    'BEGIN { printf "ratio:            %8.2f   %8.2f\n", a / r, ac / rc }'
