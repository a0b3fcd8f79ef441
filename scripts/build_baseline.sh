#!/usr/bin/env bash
# Builds goldensignals-server and goldensignals-bench of an earlier commit, for before/after
# benchmarks (bench/seam.py --before DIR). The earlier server gets this checkout's load
# generator (cpp/apps/bench/bench_publisher.hpp, through bench/baseline/bench-kind.patch), so
# both sides publish the same load; its own code is as it was.
#   scripts/build_baseline.sh COMMIT OUT_DIR   -> OUT_DIR/bin/goldensignals-{server,bench}
set -euo pipefail
commit=${1:?usage: build_baseline.sh COMMIT OUT_DIR}
out=${2:?usage: build_baseline.sh COMMIT OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
if [[ -x $out/bin/goldensignals-server && -f $out/commit && $(cat "$out/commit") == "$commit" ]]; then
  echo "baseline $commit already built in $out/bin"
  exit 0
fi
rm -rf "$out/src"
mkdir -p "$out/src" "$out/bin"
git -C "$root" archive "$commit" | tar -x -C "$out/src"
cp "$root/cpp/apps/bench/bench_publisher.hpp" "$out/src/cpp/apps/bench/"
patch -d "$out/src" -p1 --quiet < "$root/bench/baseline/bench-kind.patch"
mkdir -p "$out/src/build"
ln -sfn "$root/build/deps" "$out/src/build/deps"  # the same Boost and JSON headers
PATH=$(dirname "$python"):$PATH cmake -S "$out/src" -B "$out/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DGS_BUILD_TESTS=OFF -DGS_BUILD_APPS=ON > "$out/cmake.log"
PATH=$(dirname "$python"):$PATH cmake --build "$out/build" -j"$(nproc)" \
  --target goldensignals-server goldensignals-bench > "$out/build.log"
cp "$out/build/cpp/goldensignals-server" "$out/build/cpp/goldensignals-bench" "$out/bin/"
echo "$commit" > "$out/commit"
echo "baseline $commit built in $out/bin"
