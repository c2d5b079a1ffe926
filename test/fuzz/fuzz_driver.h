// The deterministic mutation driver both fuzz targets share (netlink_parser_fuzz.cc,
// route_message_fuzz.cc): each defines LLVMFuzzerTestOneInput, includes this once, and calls
// FuzzMain from main. Without libFuzzer (scripts/fuzz.sh builds with g++) it runs every corpus
// file as it is, then mutations of them; the same seed gives the same inputs on every run.
//
// usage: <target> [--seed N] [--iterations N] corpus.hex...
// Each corpus file (hex digits, '#' comments) runs once as it is, then seeds the mutations.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being parsed, so a sanitizer's abort can print what to add to the corpus. (A death
// callback would not do: with g++ UBSan and ASan are two runtimes, each with its own callback.)
const std::vector<uint8_t>* g_current = nullptr;

// A SIGABRT handler: only write(2), formatting by hand.
void PrintCurrentInput(int) {
  if (g_current == nullptr) return;
  static const char kHeader[] = "\nfuzz: the input that failed, as a corpus file:\n";
  static const char kDigits[] = "0123456789abcdef";
  ssize_t ignored = write(STDERR_FILENO, kHeader, sizeof kHeader - 1);
  char line[64];
  size_t n = 0;
  for (size_t i = 0; i < g_current->size(); ++i) {
    uint8_t b = (*g_current)[i];
    line[n++] = kDigits[b >> 4];
    line[n++] = kDigits[b & 15];
    if (i % 16 == 15 || i + 1 == g_current->size()) {
      line[n++] = '\n';
    } else if (i % 4 == 3) {
      line[n++] = ' ';
    }
    if (line[n - 1] == '\n') {
      ignored = write(STDERR_FILENO, line, n);
      n = 0;
    }
  }
  (void)ignored;
}

void Run(const std::vector<uint8_t>& input) {
  // An exactly sized heap copy, so AddressSanitizer sees any read past the end.
  std::vector<uint8_t> exact(input.begin(), input.end());
  g_current = &exact;
  LLVMFuzzerTestOneInput(exact.data(), exact.size());
  g_current = nullptr;
}

bool ReadHexFile(const char* path, std::vector<uint8_t>* out) {
  std::ifstream file(path);
  if (!file) return false;
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  int high = -1;
  bool comment = false;
  for (char c : text) {
    if (c == '\n') comment = false;
    if (comment || c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '#') {
      comment = true;
      continue;
    }
    int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (nibble < 0) return false;
    if (high < 0) {
      high = nibble;
    } else {
      out->push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return high < 0;
}

// Values that sit on the edges the parser checks: lengths, signs, family and type numbers.
const uint32_t kInteresting32[] = {0, 1, 4, 16, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff,
                                   0x80000000u, 0xffffffffu, static_cast<uint32_t>(-4095),
                                   static_cast<uint32_t>(-4096)};
const uint16_t kInteresting16[] = {0, 1, 2, 3, 4, 8, 10, 16, 0x7fff, 0x8000, 0xffff};
// 10 and 30 are AF_INET6 on Linux and macOS, 18 AF_LINK; 16, 20, 28 the sockaddr sizes.
const uint8_t kInteresting8[] = {0, 1, 2, 10, 16, 18, 20, 28, 30, 32, 33, 128, 129, 0x7f, 0x80, 0xff};

class Mutator {
 public:
  Mutator(uint32_t seed, const std::vector<std::vector<uint8_t>>& corpus) : rng_(seed), corpus_(corpus) {}

  std::vector<uint8_t> Next() {
    if (corpus_.empty() || Below(8) == 0) {
      std::vector<uint8_t> noise(Below(300));
      for (auto& b : noise) b = static_cast<uint8_t>(rng_());
      return noise;
    }
    std::vector<uint8_t> out = corpus_[Below(corpus_.size())];
    for (size_t n = 1 + Below(6); n > 0; --n) Mutate(&out);
    return out;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  // Field-sized writes land on the field boundaries netlink uses (4-byte aligned records).
  template <typename T, size_t N>
  void Put(std::vector<uint8_t>* b, const T (&values)[N], size_t align) {
    if (b->size() < sizeof(T)) return;
    size_t at = Below((b->size() - sizeof(T)) / align + 1) * align;
    T v = values[Below(N)];
    std::memcpy(b->data() + at, &v, sizeof v);
  }

  void Mutate(std::vector<uint8_t>* b) {
    switch (Below(7)) {
      case 0: if (!b->empty()) (*b)[Below(b->size())] = static_cast<uint8_t>(rng_()); break;
      case 1: Put(b, kInteresting8, 1); break;
      case 2: Put(b, kInteresting16, 2); break;
      case 3: Put(b, kInteresting32, 4); break;
      case 4: b->resize(Below(b->size() + 1)); break;  // cut short
      case 5: {  // another input appended: a second message in the same buffer
        const auto& other = corpus_[Below(corpus_.size())];
        b->insert(b->end(), other.begin(), other.end());
        break;
      }
      default: {  // a run of bytes removed from the middle: attributes shift off alignment
        if (b->empty()) break;
        size_t at = Below(b->size());
        b->erase(b->begin() + static_cast<std::ptrdiff_t>(at),
                 b->begin() + static_cast<std::ptrdiff_t>(at + Below(b->size() - at) + 1));
        break;
      }
    }
  }

  std::mt19937 rng_;
  const std::vector<std::vector<uint8_t>>& corpus_;
};

// ROUTEBIND_FUZZ_CANARY=ub|asan: do one thing the sanitizers must stop, so a test can check that a
// report really fails the run (UBSan on its own only prints and carries on).
void Canary(const char* kind) {
  std::vector<uint8_t> bytes = {0x00, 0x00, 0x00, 0x80};
  g_current = &bytes;
  if (std::strcmp(kind, "ub") == 0) {
    volatile int value = INT_MIN;
    int negated = -value;
    std::printf("canary: %d\n", negated);
  } else if (std::strcmp(kind, "asan") == 0) {
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    volatile const uint8_t* p = exact.data();
    std::printf("canary: %d\n", p[exact.size()]);
  }
}

}  // namespace

inline int FuzzMain(int argc, char** argv) {
  unsigned long iterations = 100000;
  unsigned long seed = 1;
  std::vector<std::vector<uint8_t>> corpus;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::vector<uint8_t> input;
      if (!ReadHexFile(argv[i], &input)) {
        std::fprintf(stderr, "fuzz: %s is not a hex corpus file\n", argv[i]);
        return 2;
      }
      corpus.push_back(input);
    }
  }
  // scripts/fuzz.sh sets abort_on_error, so every sanitizer report ends in SIGABRT.
  struct sigaction on_abort = {};
  on_abort.sa_handler = PrintCurrentInput;
  on_abort.sa_flags = SA_RESETHAND;
  sigaction(SIGABRT, &on_abort, nullptr);
  if (const char* canary = std::getenv("ROUTEBIND_FUZZ_CANARY")) Canary(canary);

  for (const auto& input : corpus) Run(input);
  Mutator mutator(static_cast<uint32_t>(seed), corpus);
  for (unsigned long i = 0; i < iterations; ++i) Run(mutator.Next());
  std::printf("fuzz: %zu corpus inputs, then %lu mutated inputs from seed %lu\n", corpus.size(), iterations, seed);
  return 0;
}
