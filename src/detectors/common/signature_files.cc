#include "detectors/common/signature_files.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

namespace bulwark::detectors {

std::vector<std::filesystem::path> ListSignatureFiles(
    const std::vector<std::filesystem::path>& directories,
    std::initializer_list<std::string_view> extensions) {
  std::vector<std::filesystem::path> files;
  for (const auto& dir : directories) {
    std::error_code ec;
    std::vector<std::filesystem::path> in_dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (!entry.is_regular_file(ec)) continue;
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) {
        in_dir.push_back(entry.path());
      }
    }
    std::sort(in_dir.begin(), in_dir.end());
    files.insert(files.end(), in_dir.begin(), in_dir.end());
  }
  return files;
}

Result<std::string> ReadSignatureFile(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFoundError(path.string() + ": " + ec.message());
  if (size > (1ull << 30)) return ResourceExhaustedError(path.string() + ": larger than 1 GiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return PermissionDeniedError(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace bulwark::detectors
