#!/usr/bin/env bash
# Fuzzes the netlink parser under AddressSanitizer and UndefinedBehaviorSanitizer: first every file
# of test/fuzz/corpus/ as it is (the regression cases), then mutations of them.
#
# usage: scripts/fuzz.sh [iterations] [seed]
#   iterations  mutated inputs after the corpus (default 2,000,000: `npm run fuzz` is the long run)
#   seed        a fixed seed repeats a run exactly; without one a random seed is drawn and printed
#
# Exits non-zero on any sanitizer report: the binary is built with -fno-sanitize-recover=all (UBSan
# would otherwise print and carry on), and its output is checked for reports as well.
# ROUTEBIND_FUZZ_CANARY=ub|asan makes the binary commit one such error on purpose (tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."

iterations=${1:-2000000}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cxx=${CXX:-$(command -v g++ || command -v clang++)}

sources=(test/fuzz/netlink_parser_fuzz.cc native/linux/netlink_parser.cc)
headers=(native/linux/netlink_parser.h native/route.h)
binary=build/fuzz/netlink_parser_fuzz
# Rebuilt only when a source (or this script, which holds the flags) changed: the test suite runs
# it several times.
stale=0
[[ -x $binary ]] || stale=1
for f in "${sources[@]}" "${headers[@]}" scripts/fuzz.sh; do [[ $f -nt $binary ]] && stale=1; done
if ((stale)); then
  mkdir -p build/fuzz
  tmp=$(mktemp build/fuzz/build.XXXXXX)
  "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
    "${sources[@]}" -o "$tmp"
  mv -f "$tmp" "$binary"  # atomic: a concurrent run never executes a half-written binary
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "fuzz: seed $seed, $iterations iterations (repeat with: scripts/fuzz.sh $iterations $seed)"
status=0
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}halt_on_error=1:abort_on_error=1:detect_leaks=0" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:abort_on_error=1:print_stacktrace=1" \
  "$binary" --seed "$seed" --iterations "$iterations" test/fuzz/corpus/*.hex 2>"$log" || status=$?
cat "$log" >&2
if ((status == 0)) && grep -qE 'runtime error:|ERROR: AddressSanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$log"; then
  status=1
fi
if ((status != 0)); then
  echo "fuzz: FAILED (exit $status) with seed $seed; add the input printed above to test/fuzz/corpus/" >&2
  exit "$status"
fi
echo "fuzz: no sanitizer report"
