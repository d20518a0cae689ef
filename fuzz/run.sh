#!/usr/bin/env bash
# Runs the cargo-fuzz targets one after another, each for a fixed time, and prints libFuzzer's
# final statistics (executions, time) per target. Outside CI: run it by hand.
#
#   fuzz/run.sh                      # every target, 600 s each
#   fuzz/run.sh 60 selection         # one target, 60 s
#
# Needs `cargo install cargo-fuzz`. cargo-fuzz passes nightly-only flags to rustc; on a stable
# toolchain RUSTC_BOOTSTRAP=1 makes rustc accept them. The working corpus grows in
# fuzz/corpus/<target> (not committed); the committed seeds are read from fuzz/seeds/<target>.
# A crash stops the target and leaves its input in fuzz/artifacts/<target>/: reproduce it with
# `cargo fuzz run <target> fuzz/artifacts/<target>/crash-...`, fix it, and add a unit test.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(selection config agent_message)
export RUSTC_BOOTSTRAP=1
mkdir -p logs
status=0
for target in "${targets[@]}"; do
    case $target in
        agent_message) max_len=16384 ;;
        *) max_len=8192 ;;
    esac
    mkdir -p "corpus/$target"
    # Build first, so that the time below is fuzzing only.
    cargo fuzz build --sanitizer none "$target" >"logs/$target.build.log" 2>&1
    start=$(date +%s)
    # No sanitizer: the code under test is safe Rust, and libFuzzer still catches panics, aborts
    # (a stack overflow aborts), timeouts and memory blow-ups; about twice the executions.
    if cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
        -dict="dicts/$target.dict" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
        >"logs/$target.log" 2>&1; then
        result=ok
    else
        result="FAILED (see fuzz/logs/$target.log and fuzz/artifacts/$target/)"
        status=1
    fi
    elapsed=$(($(date +%s) - start))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$' || true)
    echo "$target: ${runs:-?} executions in $elapsed s (asked for $seconds s), $result"
done
exit $status
