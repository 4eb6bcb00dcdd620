// The main() of a fuzz target in the normal (g++) build: instead of
// libFuzzer's search it runs LLVMFuzzerTestOneInput once on every file it
// is given (a file, or every regular file below a directory: the seed
// corpus and the crash regressions), so the targets, their invariants and
// the inputs that once crashed them are checked by every ctest run
// (label `unit`) without clang. A broken invariant aborts, as under
// libFuzzer; a directory that holds no input is an error, so a moved
// corpus cannot pass unnoticed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& p) {
  std::vector<std::filesystem::path> out;
  if (std::filesystem::is_directory(p)) {
    for (auto& e : std::filesystem::recursive_directory_iterator(p))
      if (e.is_regular_file())
        out.push_back(e.path());
    std::sort(out.begin(), out.end());
  } else {
    out.push_back(p);
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg = argv[i];
    if (!std::filesystem::exists(arg)) {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
    auto files = inputs_of(arg);
    if (files.empty()) {
      std::fprintf(stderr, "%s: no inputs\n", argv[i]);
      return 2;
    }
    for (auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::string bytes{std::istreambuf_iterator<char>(in), {}};
      // A private copy of exactly `size` bytes, as libFuzzer passes it, so
      // ASan builds see reads past the end.
      std::vector<uint8_t> copy(bytes.begin(), bytes.end());
      LLVMFuzzerTestOneInput(copy.data(), copy.size());
      ++total;
    }
  }
  std::printf("replayed %zu inputs\n", total);
  return total > 0 ? 0 : 2;
}
