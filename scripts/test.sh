#!/usr/bin/env bash
# Everything Livret's CI checks, in the order a failure is cheapest to see. Sets up what it
# needs first (scripts/toolchain.sh), so it works on a fresh machine with only rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts (seconds since the run began): where CI time goes.
step() { printf '\n\033[1m== %s\033[0m (at %ss)\n' "$*" "$SECONDS" >&2; }
# What the run has left on disk, at each step's end: a CI run ran out of space once.
disk() { printf '[disk] %s: %s in this checkout, %s free\n' "$*" \
    "$(du -sh . 2>/dev/null | cut -f1)" "$(df -h --output=avail . | tail -1 | tr -d ' ')" >&2; }

# A CI run builds once, from a clean clone: the incremental caches would never be read again
# and took a third of the test build's disk (measured: 844 MB of 2.4 GB for livret-shared
# alone). Kept on a developer's machine, where they speed up the next build.
if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
fi

step "toolchain"
bash scripts/toolchain.sh

step "cargo fmt --check"
cargo fmt --all --check

# The fuzz smoke run needs nothing the other steps make: it runs beside the web app's build,
# whose long single-threaded link (fat LTO, one codegen unit) leaves a core idle. Its output
# is shown, and its verdict taken, before the tests run (they are not run beside it).
step "fuzz smoke run, in the background"
fuzz_log=$(mktemp)
# Ten seconds a target (the smoke run's own default is twenty): every target still runs
# thousands of inputs, and the seven targets' time is taken from the builds beside it (the
# clean-clone run was at 26 minutes, over the 25 it aims at).
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/fuzz.sh smoke >"$fuzz_log" 2>&1 &
fuzz_pid=$!
trap 'kill "$fuzz_pid" 2>/dev/null || true' EXIT

step "web app (wasm32)"
bash scripts/build-app.sh
# In CI the wasm build's intermediate files are not needed again: the app is in target/app-dist.
if [ "${CI:-}" = true ]; then
    rm -rf target-wasm
fi
disk "after the web app"

# Clippy and the tests share one build: clippy's driver, as the compiler of the workspace's
# own crates, lints them and compiles them too (what `cargo clippy` would say, -D warnings,
# every target and feature). `cargo clippy` then `cargo test` checked every dependency for
# clippy and compiled it again for the tests (both runs took 6.5 and 10.5 minutes here).
# The variables stay set for the run below, or cargo would compile the workspace again.
export RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "cargo clippy -D warnings, with the test build (every target and feature)"
cargo test --workspace --all-targets --all-features --no-run --quiet

step "fuzz smoke run: its result"
fuzz_status=0
wait "$fuzz_pid" || fuzz_status=$?
cat "$fuzz_log"
if [ "$fuzz_status" -ne 0 ]; then
    echo "fuzz smoke run failed (exit $fuzz_status)" >&2
    exit 1
fi
# The fuzzers' own build (instrumented, another target directory) is not needed again.
if [ "${CI:-}" = true ]; then
    rm -rf fuzz/target
fi
disk "after the test build"

step "cargo test (unit, seeds, CLI, relay and browser end to end)"
cargo test --workspace --all-features

disk "after the tests"
step "done"
