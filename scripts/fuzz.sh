#!/usr/bin/env bash
# Fuzzes the netlink parser: libFuzzer when clang++ is installed, else g++ with AddressSanitizer
# and UndefinedBehaviorSanitizer over a seeded mutation driver. usage: scripts/fuzz.sh [iterations|seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sources=(test/fuzz/netlink_parser_fuzz.cc native/netlink_parser.cc)
if command -v clang++ >/dev/null 2>&1; then
  clang++ -std=c++17 -g -O1 -DROUTEBIND_LIBFUZZER -fsanitize=fuzzer,address,undefined "${sources[@]}" -o "$out/fuzz"
  "$out/fuzz" -max_total_time="${1:-60}"
else
  g++ -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all "${sources[@]}" -o "$out/fuzz"
  "$out/fuzz" "${1:-1000000}"
  echo "fuzz: ${1:-1000000} inputs, no sanitizer report"
fi
