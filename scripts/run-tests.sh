#!/usr/bin/env bash
# Runs every test: the GoogleTest unit tests through CTest, then the integration tests, which
# start the real binary and drive it with the AWS SDK for JavaScript.
set -uo pipefail

build_dir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

cmake --build "$build_dir" -j "$(nproc)" --target sluice_unit_tests || exit 1

echo "== unit tests"
(cd "$build_dir" && ctest --output-on-failure --timeout 120 -j "$(nproc)")
unit_status=$?

echo "== integration tests"
(cd tests/integration && SLUICE_BIN="$top/$build_dir/sluice" node --test)
integration_status=$?

if ((unit_status != 0 || integration_status != 0)); then
  echo "tests failed: unit=$unit_status integration=$integration_status"
  exit 1
fi
echo "all tests passed"
