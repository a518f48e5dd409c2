#pragma once
// Finding and reading signature files in the configured directories.

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::detectors {

// Regular files directly in `directories` whose extension (lowercased) is one of
// `extensions` (".yar"), in directory order, sorted by name within a directory.
// Missing directories are skipped.
std::vector<std::filesystem::path> ListSignatureFiles(
    const std::vector<std::filesystem::path>& directories,
    std::initializer_list<std::string_view> extensions);

// The whole file; signature files are capped at 1 GiB.
Result<std::string> ReadSignatureFile(const std::filesystem::path& path);

}  // namespace bulwark::detectors
