#!/usr/bin/env bash
# Builds every fuzz/*_fuzz.cpp as a libFuzzer binary with clang and runs each for a bounded time.
#
# Each target declares, in comment lines of its own source:
#   // fuzz-link: <src/ files to compile in, relative to the repository root>
#   // fuzz-seeds: <seed files or folders, relative to the shared data folder, or fuzz/... for
#   //              folders in this repository>
#   // fuzz-libs: <libraries to link, without -l (zlib is always linked)>
# so adding a target needs no change here. Missing seed paths are skipped.
#
# Usage: scripts/fuzz.sh [target ...]   (target = file name without _fuzz.cpp, e.g. event_stream)
# Environment:
#   FUZZ_SECONDS            run time per target, default 30
#   FUZZ_BUILD_DIR          binaries and crash artifacts, default build-fuzz/
#   FUZZ_CORPUS_DIR         corpus the fuzzers grow, kept between runs, default fuzz/corpus-work/
#   SLUICE_SHARED_DATA_DIR  shared conformance data, default ../shared/data
#   FUZZ_CXX                compiler, default clang++ (libFuzzer needs clang)
# Exits non-zero if a build fails or any target finds a crash.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-30}
build_dir=${FUZZ_BUILD_DIR:-$top/build-fuzz}
corpus_root=${FUZZ_CORPUS_DIR:-$top/fuzz/corpus-work}
shared_data=${SLUICE_SHARED_DATA_DIR:-$top/../shared/data}
cxx=${FUZZ_CXX:-clang++}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: $cxx not found; install clang (Debian package clang)" >&2
  exit 1
fi

# Prints the words after "// <key>:" in a target's source, one per line.
directive() {
  sed -n "s|^// $2:[[:space:]]*||p" "$1" | tr -s ' \t' '\n' | sed '/^$/d'
}

wanted() {
  local name=$1
  shift
  (($# == 0)) && return 0
  local target
  for target in "$@"; do
    [[ $target == "$name" ]] && return 0
  done
  return 1
}

shopt -s nullglob
sources=("$top"/fuzz/*_fuzz.cpp)
if ((${#sources[@]} == 0)); then
  echo "fuzz: no fuzz/*_fuzz.cpp targets"
  exit 0
fi

mkdir -p "$build_dir"
failed=()
for source in "${sources[@]}"; do
  name=$(basename "$source" _fuzz.cpp)
  wanted "$name" "$@" || continue

  links=()
  while IFS= read -r file; do
    links+=("$top/$file")
  done < <(directive "$source" fuzz-link)
  libs=(-lz)
  while IFS= read -r lib; do
    libs+=("-l$lib")
  done < <(directive "$source" fuzz-libs)
  binary="$build_dir/${name}_fuzz"
  echo "fuzz: building $name"
  if ! "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/src" "$source" "${links[@]}" "${libs[@]}" -o "$binary"; then
    failed+=("$name (build)")
    continue
  fi

  # The first folder is where libFuzzer saves new inputs; the seed paths are only read.
  corpus="$corpus_root/$name"
  mkdir -p "$corpus"
  # libFuzzer reads folders only, so single seed files are gathered into one folder of their own.
  seeds=()
  seed_files="$build_dir/${name}_seed_files"
  rm -rf "$seed_files"
  while IFS= read -r seed; do
    if [[ $seed == fuzz/* && -d "$top/$seed" ]]; then
      seeds+=("$top/$seed")  # seeds kept in the repository
    elif [[ -d "$shared_data/$seed" ]]; then
      seeds+=("$shared_data/$seed")
    elif [[ -f "$shared_data/$seed" ]]; then
      mkdir -p "$seed_files"
      cp "$shared_data/$seed" "$seed_files/"
    else
      echo "fuzz: seed path $shared_data/$seed missing, skipped"
    fi
  done < <(directive "$source" fuzz-seeds)
  if [[ -d "$seed_files" ]]; then
    seeds+=("$seed_files")
  fi

  echo "fuzz: running $name for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build_dir/${name}-" "$corpus" "${seeds[@]}"; then
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]} (artifacts in $build_dir)" >&2
  exit 1
fi
echo "fuzz: all targets ran clean"
