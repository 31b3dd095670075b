#!/usr/bin/env bash
# Everything Livret's CI checks, in the order a failure is cheapest to see. Sets up what it
# needs first (scripts/toolchain.sh), so it works on a fresh machine with only rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts (seconds since the run began): where CI time goes.
step() { printf '\n\033[1m== %s\033[0m (at %ss)\n' "$*" "$SECONDS" >&2; }

step "toolchain"
bash scripts/toolchain.sh

step "cargo fmt --check"
cargo fmt --all --check

step "web app (wasm32)"
bash scripts/build-app.sh

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "cargo test (unit, seeds, CLI, relay and browser end to end)"
cargo test --workspace --all-features

step "fuzz smoke run"
bash scripts/fuzz.sh smoke

step "done"
