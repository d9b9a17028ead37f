#!/usr/bin/env bash
# Builds apprun as one static Linux binary (x86_64, musl libc linked in) that
# runs on any x86_64 Linux machine, with no Rust toolchain and no particular
# libc: copy it anywhere and run it.
#
#   scripts/build-static.sh                  # the `dist` profile (full LTO): what to ship
#   scripts/build-static.sh --profile dev    # quick to build, same behaviour (the tests use it)
#
# Needs the Rust target (added here through rustup when missing) and musl-gcc
# (Debian: musl-tools) for the C code of ring, the TLS crypto provider.
# Prints the binary's path and size; fails if the binary is not static.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
profile=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) profile="${2:?--profile needs a name}"; shift 2 ;;
        --profile=*) profile="${1#--profile=}"; shift ;;
        -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (usage: $0 [--profile NAME])" >&2; exit 2 ;;
    esac
done

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null && ! command -v x86_64-linux-musl-gcc >/dev/null; then
    echo "musl-gcc not found: install musl-tools (Debian/Ubuntu: apt-get install musl-tools)" >&2
    exit 1
fi

# cargo names the binary it built in its JSON messages: this finds it whatever
# the target dir (CARGO_TARGET_DIR, .cargo/config.toml) and the profile.
messages="$(cargo build --locked --profile "$profile" --target "$target" \
    -p apprun-cli --bin apprun --message-format=json-render-diagnostics)"
binary="$(printf '%s\n' "$messages" \
    | grep -o '"executable":"[^"]*/apprun"' | tail -n 1 | cut -d'"' -f4)"
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "cargo reported no apprun executable" >&2
    exit 1
fi

# Static means: no program interpreter (dynamic loader) and no shared library.
description="$(file -b "$binary")"
case "$description" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "not a static binary: $description" >&2; exit 1 ;;
esac
if ldd "$binary" 2>&1 | grep -q '=>'; then
    echo "links shared libraries:" >&2
    ldd "$binary" >&2
    exit 1
fi

# The shipped profile strips symbols (Cargo.toml): a binary that kept them
# means a profile override lost `strip` (Cargo resets it for a package with
# its own override), and ships megabytes of symbol names.
if [ "$profile" = dist ] && [[ "$description" == *"not stripped"* ]]; then
    echo "not stripped: $binary (see the strip settings of [profile.dist] in Cargo.toml)" >&2
    exit 1
fi

size="$(stat -c %s "$binary")"
printf 'binary: %s\n' "$binary"
printf 'size: %s bytes (%s MiB)\n' "$size" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
printf 'file: %s\n' "$description"
