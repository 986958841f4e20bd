#!/usr/bin/env bash
# What CI cannot run, on a machine with an NVIDIA GPU and the Python that has torch (no virtual environment:
# `make test` builds its own, which a GPU machine without network access cannot fill).
#
#   tools/gpu_check.sh build            configure + build into $T2T_GPU_BUILD (default /tmp/t2t-gpu)
#   tools/gpu_check.sh test             C++ harness and unit tests (GPU cases included) + every Python test
#   tools/gpu_check.sh bench [args]     benchmarks/bench.py with args (default: fp16, batch 1 and 32)
#   tools/gpu_check.sh probe [model]    batch-1 fp16 probes of one model (default bert_base): its kernels as
#                                       the CUDA profiler sees them, its slowest layers, the host time of a call
#   tools/gpu_check.sh all              build, test, bench
#   tools/gpu_check.sh verify [models]  build, test, then fp16 rows at batch 1 and 32 of the given models (default
#                                       efficientnet_b0,bert_base: the two batch-1 targets still missed), what the
#                                       builder timed and chose for them (tactic_report.py) and every squeeze-excite
#                                       launch of EfficientNet-B0: fits one device call (about 6 minutes)
#
# Logs and results go to $OUT (default build/gpu-logs): build.log, cpp_tests.log, operators.md (the support
# table with its CUDA column), py_tests.log, bench.json. GoogleTest: installed, or its source tree in
# $T2T_GTEST_SOURCE. Set T2T_COMMIT to the commit under test: bench.py records it with the results (a copied
# tree's .git may be stale). The build reuses $T2T_GPU_BUILD when it exists (a second call rebuilds what changed).
set -o pipefail
cd "$(dirname "$0")/.."
B=${T2T_GPU_BUILD:-/tmp/t2t-gpu}
OUT=${OUT:-build/gpu-logs}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}

build() {
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || { echo "no NVIDIA GPU visible"; return 1; }
  local t0=$(date +%s)
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DT2T_BUILD_PYTHON=ON -DT2T_BUILD_TESTS=ON \
    -DCMAKE_CUDA_ARCHITECTURES=native -DPython_EXECUTABLE="$(command -v "$PY")" \
    ${T2T_GTEST_SOURCE:+-DT2T_GTEST_SOURCE=$T2T_GTEST_SOURCE} >"$OUT/cmake.log" 2>&1 \
    || { tail -30 "$OUT/cmake.log"; return 1; }
  grep -q "CUDA backend enabled" "$OUT/cmake.log" || { echo "cmake did not enable the CUDA backend:"; grep torch2trt "$OUT/cmake.log"; return 1; }
  ninja -C "$B" >"$OUT/build.log" 2>&1 || { grep -B2 -A12 -m5 "error" "$OUT/build.log"; return 1; }
  cp -f "$B"/_C*.so python/torch2trt/
  echo "build: $(( $(date +%s) - t0 )) s"
}

test_all() {
  local t0=$(date +%s) rc=0
  T2T_OPERATORS_MD="$OUT/operators.md" "$B/t2t_tests" --gtest_brief=1 >"$OUT/cpp_tests.log" 2>&1 || rc=1
  echo "C++ tests: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$OUT/cpp_tests.log" | tr '\n' ' ')($(( $(date +%s) - t0 )) s)"
  t0=$(date +%s)
  "$PY" -m pytest tests/python -q -p no:cacheprovider >"$OUT/py_tests.log" 2>&1 || rc=1
  echo "Python tests: $(tail -1 "$OUT/py_tests.log") ($(( $(date +%s) - t0 )) s)"
  [ $rc = 0 ] || grep -E "FAILED|Failure" "$OUT/cpp_tests.log" "$OUT/py_tests.log" | head -30
  return $rc
}

bench() {
  local args=("$@")
  [ ${#args[@]} = 0 ] && args=(--batches 1,32 --precisions fp16 --compile-modes reduce-overhead)
  "$PY" benchmarks/bench.py "${args[@]}" --json "$OUT/bench.json" 2>&1 | grep -v -i warn
}

tactics() {
  local m
  for m in ${1//,/ }; do
    timeout 150 "$PY" benchmarks/tactic_report.py --model "$m" --batch 1 --fp16 2>&1 | grep -v -i warn | tee "$OUT/tactics_$m.txt" | cut -c1-220
  done
}

probe() {
  local m=${1:-bert_base}
  timeout 120 "$PY" benchmarks/profile_layers.py --model "$m" --batch 1 --fp16 --kernels --top 25 2>&1 | grep -v -i warn
  timeout 90 "$PY" benchmarks/profile_layers.py --model "$m" --batch 1 --fp16 --top 14 2>&1 | grep -v -i warn
  timeout 150 "$PY" benchmarks/host_overhead.py "$m" 2>&1 | grep -v -i warn | head -60
}

case "${1:-all}" in
  build) build ;;
  test) test_all ;;
  bench) shift; bench "$@" ;;
  probe) shift; probe "$@" ;;
  all) build && test_all; bench ;;
  verify) shift; build && { test_all; bench --models "${1:-efficientnet_b0,bert_base}" --batches 1,32 --precisions fp16 \
            --compile-modes reduce-overhead; tactics "${1:-efficientnet_b0,bert_base}";
            timeout 120 "$PY" benchmarks/profile_layers.py --model efficientnet_b0 --batch 1 --fp16 --kernels --top 12 \
              --each ::se_ 2>&1 | grep -v -i warn; } ;;
  *) sed -n 2,15p "$0"; exit 2 ;;
esac
