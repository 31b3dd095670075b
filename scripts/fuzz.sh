#!/usr/bin/env bash
# Fuzzes the référentiel readers, the network readers and the PDF export's readers of
# annexed files with cargo-fuzz (libFuzzer).
#   scripts/fuzz.sh smoke          # every target for a bounded time (CI)
#   scripts/fuzz.sh run TARGET     # one target until stopped
#   scripts/fuzz.sh campaign       # every target for FUZZ_MINUTES (10) each, one after the
#                                  # other; a line per target in target/fuzz-campaign.txt
# New corpus entries go to a scratch directory; crashers land in fuzz/artifacts/TARGET: keep
# them (they are replayed by `cargo test`, see shared/tests/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --quiet cargo-fuzz
fi
# libFuzzer's instrumentation flags need unstable options; this is the stable toolchain
# allowing them, for this build only.
export RUSTC_BOOTSTRAP=1

targets=(referentiel_text referentiel_xml relay_frames annex_files automerge_chunks catchup_frames snapshots)
mode=${1:-smoke}
case "$mode" in
smoke)
    # Built in 16 codegen units: cargo-fuzz's default is one per crate, so one core works
    # while the other waits (452 s → 335 s here; opt-level 1 would save 28 s more and run a
    # quarter as many inputs). The campaign keeps one unit: the fastest runs.
    smoke_build=(--fuzz-dir fuzz --sanitizer none --codegen-units 16)
    cargo fuzz build "${smoke_build[@]}"
    for t in "${targets[@]}"; do
        scratch=$(mktemp -d)
        log=$(mktemp)
        status=0
        cargo fuzz run "${smoke_build[@]}" "$t" "$scratch" "fuzz/corpus/$t" -- \
            -max_total_time="${FUZZ_SECONDS:-20}" -max_len=16384 -print_final_stats=1 >"$log" 2>&1 || status=$?
        grep -E '^stat::number_of_executed_units|^Done' "$log" | sed "s/^/fuzz $t: /" || true
        rm -rf "$scratch"
        if [ "$status" -ne 0 ]; then
            grep -v "^Output of\|^\s*\[" "$log" | cut -c1-300 | tail -n 30 >&2
            echo "fuzz: $t failed (exit $status); the input is in fuzz/artifacts/$t" >&2
            exit 1
        fi
        rm -f "$log"
    done
    ;;
campaign)
    minutes=${FUZZ_MINUTES:-10}
    report=target/fuzz-campaign.txt
    mkdir -p target
    echo "# fuzz campaign $(date -u +%FT%TZ), ${minutes} min per target, $(nproc) cores" >"$report"
    failed=0
    for t in "${targets[@]}"; do
        log=$(mktemp)
        status=0
        # New inputs go to a scratch corpus (kept seeds stay small); crashers to fuzz/artifacts.
        scratch=$(mktemp -d)
        cargo fuzz run --fuzz-dir fuzz --sanitizer none "$t" "$scratch" "fuzz/corpus/$t" -- \
            -max_total_time=$((minutes * 60)) -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
            -print_final_stats=1 >"$log" 2>&1 || status=$?
        execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
        corpus=$(find "$scratch" -type f | wc -l)
        printf '%-18s exit %-3s %12s runs  coverage %6s  new inputs %6s\n' \
            "$t" "$status" "${execs:-?}" "${cov:-?}" "$corpus" | tee -a "$report"
        if [ "$status" -ne 0 ]; then
            failed=1
            grep -v "^Output of\|^\s*\[" "$log" | cut -c1-300 | tail -n 30 >>"$report"
        fi
        rm -rf "$scratch" "$log"
    done
    exit "$failed"
    ;;
run)
    t=${2:?target}
    cargo fuzz run --fuzz-dir fuzz --sanitizer none "$t" "fuzz/corpus/$t"
    ;;
*)
    echo "usage: scripts/fuzz.sh smoke | campaign | run TARGET" >&2
    exit 2
    ;;
esac
