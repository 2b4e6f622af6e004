#!/usr/bin/env bash
# Measures realnvp on this machine's GPU and keeps every figure as JSON lines:
#
#   scripts/gpu-bench.sh [OUT]            # OUT defaults to bench-results/
#
# It builds the release binary (or takes REALNVP_BIN, for a machine without a Rust
# toolchain or network), lists the adapters, then runs on the preferred one (or the one
# REALNVP_ADAPTER names): the kernel benchmark (the fma roof, matmul and every conv2d
# variant, tuned kernels included) and the training and sampling benchmark with each
# memory policy, the first with empty kernel and shader caches so that its first step
# counts tuning and compilation. Each command's JSON goes to its own file in OUT;
# nothing is sent anywhere. docs/PERFORMANCE.md says how to read the figures.
set -euo pipefail

out=${1:-bench-results}
bin=${REALNVP_BIN:-}
if [[ -z $bin ]]; then
    cargo build --release --locked -p realnvp
    bin=target/release/realnvp
fi
if [[ ! -x $bin ]]; then
    echo "error: $bin is not an executable realnvp binary" >&2
    exit 1
fi
mkdir -p "$out"

run() {
    local name=$1
    shift
    echo "== $name: $*" >&2
    "$@" > "$out/$name.jsonl"
}

"$bin" adapters | tee "$out/adapters.txt"
fresh_cache=$(mktemp -d)
trap 'rm -rf "$fresh_cache"' EXIT
run step-store env XDG_CACHE_HOME="$fresh_cache" "$bin" bench --memory store --steps 5
run step-recompute "$bin" bench --steps 5
run kernels "$bin" bench kernels --reps 5
echo "figures in $out/" >&2
