// What the two corpus-replay tests (fuzz_corpus_test, service_fuzz_corpus_test) share: a fuzz
// target as a body plus its seed directory corpus/<name>/ (LINLI_FUZZ_CORPUS_DIR, set by CMake),
// reading the seeds, one gtest parameter per seed file, and seeded random edits of the seeds.
#ifndef LINLI_TESTS_FUZZ_CORPUS_REPLAY_H_
#define LINLI_TESTS_FUZZ_CORPUS_REPLAY_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"

#ifndef LINLI_FUZZ_CORPUS_DIR
#error "LINLI_FUZZ_CORPUS_DIR must name tests/fuzz/corpus"
#endif

namespace linli::fuzz {

using BodyFn = void (*)(const uint8_t*, size_t);

struct Target {
  const char* name;      // corpus/<name>/ and <name>_fuzz
  BodyFn body;           // the libFuzzer body (aborts on a broken invariant)
  const char* alphabet;  // characters random inputs are mostly drawn from
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::filesystem::path SeedPath(const Target& target, const std::string& file) {
  return std::filesystem::path(LINLI_FUZZ_CORPUS_DIR) / target.name / file;
}

// Seed file names of one target, sorted.
inline std::vector<std::string> Seeds(const Target& target) {
  std::vector<std::string> files;
  const std::filesystem::path dir = std::filesystem::path(LINLI_FUZZ_CORPUS_DIR) / target.name;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline void Feed(const Target& target, const std::string& input) {
  target.body(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// (target index, seed file name) for every seed of every target: the replay tests' parameters.
using SeedParam = std::pair<size_t, std::string>;
template <size_t N>
std::vector<SeedParam> AllSeeds(const Target (&targets)[N]) {
  std::vector<SeedParam> all;
  for (size_t i = 0; i < N; ++i) {
    for (std::string& file : Seeds(targets[i])) all.emplace_back(i, std::move(file));
  }
  return all;
}

// A test name for a seed: "<target>_<file>" with everything but letters and digits as '_'.
template <size_t N>
std::string SeedTestName(const Target (&targets)[N], const SeedParam& param) {
  std::string name = std::string(targets[param.first].name) + "_" + param.second;
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// Draws inputs from fixed-seed randomness: `Seed()` is one of the target's seeds with up to four
// random edits (replace, insert, erase, truncate) at or after byte `keep` (bytes before it stay),
// `Random()` a string of up to 80 characters mostly from the target's alphabet.
class InputMaker {
 public:
  InputMaker(const Target& target, uint32_t seed) : alphabet_(target.alphabet), random_(seed) {
    for (const std::string& file : Seeds(target))
      seeds_.push_back(ReadFile(SeedPath(target, file)));
  }
  bool has_seeds() const { return !seeds_.empty(); }

  std::string Seed(size_t keep = 0) {
    std::string input = seeds_[Pick(seeds_.size())];
    for (size_t edits = 1 + Pick(4); edits > 0; --edits) {
      const size_t at = std::min(input.size(), keep + Pick(input.size() + 1));
      switch (Pick(4)) {
        case 0:
          if (at < input.size()) input[at] = AnyChar();
          break;
        case 1:
          input.insert(input.begin() + at, AnyChar());
          break;
        case 2:
          if (at < input.size()) input.erase(at, 1 + Pick(3));
          break;
        default:
          if (at > keep) input.resize(at);
          break;
      }
    }
    return input;
  }

  std::string Random() {
    std::string input(Pick(80), ' ');
    for (char& c : input) c = AnyChar();
    return input;
  }

  size_t Pick(size_t n) { return n == 0 ? size_t{0} : random_() % n; }

 private:
  char AnyChar() {
    return Pick(4) == 0 ? static_cast<char>(random_() % 256) : alphabet_[Pick(alphabet_.size())];
  }

  const std::string alphabet_;
  std::mt19937 random_;
  std::vector<std::string> seeds_;
};

}  // namespace linli::fuzz

#endif  // LINLI_TESTS_FUZZ_CORPUS_REPLAY_H_
