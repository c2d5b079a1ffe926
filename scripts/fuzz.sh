#!/usr/bin/env bash
# Fuzzes the netlink parser (corpus test/fuzz/corpus/) and the macOS PF_ROUTE parser (corpus
# test/fuzz/route_message_corpus/) under AddressSanitizer and UndefinedBehaviorSanitizer: first every
# corpus file as it is (the regression cases), then mutations of them.
#
# usage: scripts/fuzz.sh [iterations] [seed]
#   iterations  mutated inputs after each target's corpus (default 2,000,000: `npm run fuzz` is the
#               long run)
#   seed        a fixed seed repeats a run exactly; without one a random seed is drawn and printed
#
# Exits non-zero on any sanitizer report: the binary is built with -fno-sanitize-recover=all (UBSan
# would otherwise print and carry on), and its output is checked for reports as well.
# ROUTEBIND_FUZZ_CANARY=ub|asan makes the binary commit one such error on purpose (tests use it).
# ROUTEBIND_FUZZ_BUILD_ONLY=1 builds both binaries and stops (test/unit/route-message.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

iterations=${1:-2000000}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cxx=${CXX:-$(command -v g++ || command -v clang++)}

# Each target: its binary, its sources, the headers it depends on, its corpus.
build_target() {  # name source... -- header...
  local name=$1; shift
  local sources=() headers=()
  while [[ $1 != -- ]]; do sources+=("$1"); shift; done
  shift
  headers=("$@")
  local binary=build/fuzz/$name
  # Rebuilt only when a source (or this script, which holds the flags) changed: the test suite runs
  # it several times.
  local stale=0 f
  [[ -x $binary ]] || stale=1
  for f in "${sources[@]}" "${headers[@]}" scripts/fuzz.sh; do [[ $f -nt $binary ]] && stale=1; done
  if ((stale)); then
    mkdir -p build/fuzz
    local tmp
    tmp=$(mktemp build/fuzz/build.XXXXXX)
    "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
      -Inative "${sources[@]}" -o "$tmp"
    mv -f "$tmp" "$binary"  # atomic: a concurrent run never executes a half-written binary
  fi
}
# The netlink parser needs Linux's headers; the PF_ROUTE parser builds anywhere (on a Mac its
# static_asserts then check the layout against the system's own headers).
linux=0
[[ $(uname -s) == Linux ]] && linux=1
if ((linux)); then
  build_target netlink_parser_fuzz test/fuzz/netlink_parser_fuzz.cc native/linux/netlink_parser.cc -- \
    native/linux/netlink_parser.h native/route.h test/fuzz/fuzz_driver.h
fi
build_target route_message_fuzz test/fuzz/route_message_fuzz.cc native/darwin/route_message.cc -- \
  native/darwin/route_message.h native/route.h native/backend.h test/fuzz/fuzz_driver.h
[[ ${ROUTEBIND_FUZZ_BUILD_ONLY:-} == 1 ]] && exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "fuzz: seed $seed, $iterations iterations (repeat with: scripts/fuzz.sh $iterations $seed)"
status=0
run_target() {  # name corpus-dir
  echo "fuzz: target $1"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}halt_on_error=1:abort_on_error=1:detect_leaks=0" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:abort_on_error=1:print_stacktrace=1" \
    "build/fuzz/$1" --seed "$seed" --iterations "$iterations" "$2"/*.hex 2>"$log" || status=$?
  cat "$log" >&2
  if ((status == 0)) && grep -qE 'runtime error:|ERROR: AddressSanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$log"; then
    status=1
  fi
}
((linux)) && run_target netlink_parser_fuzz test/fuzz/corpus
((status == 0)) && run_target route_message_fuzz test/fuzz/route_message_corpus
if ((status != 0)); then
  echo "fuzz: FAILED (exit $status) with seed $seed; add the input printed above to that target's corpus directory" >&2
  exit "$status"
fi
echo "fuzz: no sanitizer report"
