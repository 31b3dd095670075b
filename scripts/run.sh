#!/usr/bin/env bash
# Builds everything (web app included) and runs Livret: relay + app on an embedded SQLite
# database, on 127.0.0.1. Address and data directory can be changed:
#   LIVRET_ADDR=127.0.0.1:9000 LIVRET_DATA=~/livret scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-app.sh
cargo build --release --quiet -p livret-cli
exec target/release/livret serve --addr "${LIVRET_ADDR:-127.0.0.1:8080}" --data "${LIVRET_DATA:-livret-data}"
