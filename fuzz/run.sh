#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 300) on its corpus in fuzz/corpus/<target>,
# keeping new interesting inputs there. A crash stops that target and leaves the input in
# fuzz/artifacts/<target>/: add it as a regression test beside the code it broke, fix, re-run.
# Needs the nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz`).
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O >/dev/null
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "fuzz: $target for ${seconds}s"
    if ! cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 2>"artifacts/$target/log.txt"; then
        echo "fuzz: $target FOUND A CRASH: see fuzz/artifacts/$target/" >&2
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^Done' "artifacts/$target/log.txt" || true
done
exit "$status"
