#include "detectors/activecontent/file_names.h"

#include <array>
#include <utility>

#include "detectors/activecontent/ascii.h"

namespace bulwark::detectors::activecontent {
namespace {

constexpr std::array<std::pair<std::string_view, ExtensionClass>, 30> kExtensionClasses = {{
    {"exe", ExtensionClass::kExecutable}, {"dll", ExtensionClass::kExecutable},
    {"scr", ExtensionClass::kExecutable}, {"pif", ExtensionClass::kExecutable},
    {"com", ExtensionClass::kExecutable}, {"cpl", ExtensionClass::kExecutable},
    {"sys", ExtensionClass::kExecutable}, {"js", ExtensionClass::kScript},
    {"jse", ExtensionClass::kScript},     {"vbs", ExtensionClass::kScript},
    {"vbe", ExtensionClass::kScript},     {"wsf", ExtensionClass::kScript},
    {"wsh", ExtensionClass::kScript},     {"ps1", ExtensionClass::kScript},
    {"psm1", ExtensionClass::kScript},    {"bat", ExtensionClass::kScript},
    {"cmd", ExtensionClass::kScript},     {"hta", ExtensionClass::kScript},
    {"lnk", ExtensionClass::kShortcut},   {"url", ExtensionClass::kShortcut},
    {"scf", ExtensionClass::kShortcut},   {"msi", ExtensionClass::kInstaller},
    {"msp", ExtensionClass::kInstaller},  {"msix", ExtensionClass::kInstaller},
    {"appx", ExtensionClass::kInstaller}, {"jar", ExtensionClass::kInstaller},
    {"iso", ExtensionClass::kDiskImage},  {"img", ExtensionClass::kDiskImage},
    {"vhd", ExtensionClass::kDiskImage},  {"vhdx", ExtensionClass::kDiskImage},
}};

constexpr std::array<std::string_view, 36> kDocumentExtensions = {
    "pdf",  "doc",  "docx", "docm", "dot", "dotx", "xls",  "xlsx", "xlsm", "xlsb", "ppt",  "pptx",
    "pptm", "pps",  "ppsx", "rtf",  "odt", "ods",  "odp",  "txt",  "csv",  "htm",  "html", "xml",
    "jpg",  "jpeg", "png",  "gif",  "bmp", "tif",  "tiff", "svg",  "mp3",  "mp4",  "wav",  "avi",
};

}  // namespace

std::string_view ExtensionClassName(ExtensionClass cls) {
  switch (cls) {
    case ExtensionClass::kExecutable:
      return "Executable";
    case ExtensionClass::kScript:
      return "Script";
    case ExtensionClass::kShortcut:
      return "Shortcut";
    case ExtensionClass::kInstaller:
      return "Installer";
    case ExtensionClass::kDiskImage:
      return "DiskImage";
    case ExtensionClass::kNone:
      break;
  }
  return "None";
}

std::string_view BaseName(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

std::string_view Extension(std::string_view name) {
  const std::string_view base = BaseName(name);
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return base.substr(dot + 1);
}

ExtensionClass ClassifyExtension(std::string_view extension) {
  for (const auto& [ext, cls] : kExtensionClasses) {
    if (EqualsIgnoreCase(extension, ext)) return cls;
  }
  return ExtensionClass::kNone;
}

bool IsDocumentExtension(std::string_view extension) {
  for (std::string_view ext : kDocumentExtensions) {
    if (EqualsIgnoreCase(extension, ext)) return true;
  }
  return false;
}

bool HasDoubleExtension(std::string_view name) {
  std::string_view base = BaseName(name);
  // Trailing spaces and dots are dropped by Windows: "a.pdf.exe . " runs as a.pdf.exe.
  while (!base.empty() && (base.back() == ' ' || base.back() == '.')) base.remove_suffix(1);
  const std::size_t last_dot = base.rfind('.');
  if (last_dot == std::string_view::npos || last_dot == 0) return false;
  if (ClassifyExtension(base.substr(last_dot + 1)) == ExtensionClass::kNone) return false;
  std::string_view stem = base.substr(0, last_dot);
  while (!stem.empty() && (stem.back() == ' ' || stem.back() == '.' || stem.back() == '_')) {
    stem.remove_suffix(1);
  }
  const std::size_t dot = stem.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  return IsDocumentExtension(stem.substr(dot + 1));
}

bool HasBidiControl(std::string_view name) {
  for (std::size_t i = 0; i + 2 < name.size(); ++i) {
    if (name[i] != '\xE2') continue;
    const auto second = static_cast<unsigned char>(name[i + 1]);
    const auto third = static_cast<unsigned char>(name[i + 2]);
    if (second == 0x80 && third >= 0xAA && third <= 0xAE) return true;  // U+202A–U+202E
    if (second == 0x81 && third >= 0xA6 && third <= 0xA9) return true;  // U+2066–U+2069
  }
  return false;
}

bool IsExecutableKind(content::FileKind kind) {
  return kind == content::FileKind::kPe || kind == content::FileKind::kElf ||
         kind == content::FileKind::kMachO;
}

bool GlobMatch(std::string_view pattern, std::string_view name) {
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;  // pattern position after the last '*'
  std::size_t star_n = 0;                     // name position that '*' matched up to
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      star_n = n;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || LowerAscii(pattern[p]) == LowerAscii(name[n]))) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace bulwark::detectors::activecontent
