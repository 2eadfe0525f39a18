#!/usr/bin/env bash
# Build the config-loader fuzz harness with clang's libFuzzer + ASan + UBSan and run a fixed
# number of inputs (default 50,000, about 20 s) with a fixed seed from a corpus of the
# repository's configs, so every run of the suite tries the same inputs. Exits non-zero on any
# crash, sanitizer report, leak or timeout, leaving the input that caused it in WORK_DIR.
#   tests/fuzz/run_fuzz.sh [RUNS] [WORK_DIR] [SEED]
# For a longer search: tests/fuzz/run_fuzz.sh 5000000 /tmp/fuzz $RANDOM
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-50000}"
work="${2:-$(mktemp -d)}"
seed="${3:-1}"
mkdir -p "$work/corpus"
clang=$(command -v clang-14 || command -v clang || true)
if [[ -z "$clang" ]]; then
  echo "run_fuzz.sh: clang is not installed (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi
mpi_flags=$(mpicc --showme:compile)
# shellcheck disable=SC2086
"$clang" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_POSIX_C_SOURCE=200809L $mpi_flags -Iinclude -Isrc/util -Isrc/config -Ikernels \
  tests/fuzz/fuzz_config.c src/config/*.c src/util/mf_error.c \
  $(pkg-config --cflags --libs yaml-0.1) -lm -o "$work/fuzz_config"
# Seed corpus: every YAML config in the repository (valid and deliberately broken ones).
for f in configs/*.yaml tests/configs/*.yaml tests/fixtures/config/*.yaml; do
  cp "$f" "$work/corpus/$(basename "$f")"
done
cd "$work"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ./fuzz_config -runs="$runs" -seed="$seed" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then
  echo "run_fuzz.sh: the fuzzer found a failing input (exit $status); see $work" >&2
  exit "$status"
fi
echo "run_fuzz.sh: no failure in ${runs} inputs (seed ${seed})"
