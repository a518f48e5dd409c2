#include "identify/type_identifier.h"

#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace bulwark::identify {
namespace {

using content::FileKind;

// libmagic looks at no more than this many leading bytes: its text and regex tests cost
// time in proportion to what they are given, and type signatures sit at the start.
constexpr std::size_t kMagicWindow = 4 * 1024;

// libmagic's built-in tests for what our own checks already decide (compression, tar,
// ELF, text, CSV, JSON, OLE2/CDF, encodings) are off: they cost time on every object and
// libmagic only ever sees what our checks could not name. Only its magic database runs.
constexpr int kMagicFlags = MAGIC_NO_CHECK_BUILTIN | MAGIC_ERROR;

bool StartsWith(std::string_view bytes, std::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

bool HasAt(std::string_view bytes, std::size_t offset, std::string_view what) {
  return bytes.size() >= offset + what.size() && bytes.substr(offset, what.size()) == what;
}

std::string_view Lowercase(std::string_view in, std::array<char, 1024>& buffer) {
  std::size_t n = std::min(in.size(), buffer.size());
  for (std::size_t i = 0; i < n; ++i) {
    buffer[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(in[i])));
  }
  return std::string_view(buffer.data(), n);
}

FileKind ClassifyZip(std::string_view bytes) {
  // ODF stores an uncompressed "mimetype" member first (ODF 1.2, 3.3).
  if (HasAt(bytes, 30, "mimetype") &&
      bytes.substr(38, 64).find("application/vnd.oasis.opendocument") != std::string_view::npos) {
    return FileKind::kOdf;
  }
  // OOXML packages name "[Content_Types].xml" in a local header (usually the first) and
  // in the central directory at the end; looking at both ends keeps this O(1).
  constexpr std::size_t kEdge = 64 * 1024;
  constexpr std::string_view kContentTypes = "[Content_Types].xml";
  if (bytes.substr(0, kEdge).find(kContentTypes) != std::string_view::npos ||
      (bytes.size() > kEdge &&
       bytes.substr(bytes.size() - kEdge).find(kContentTypes) != std::string_view::npos)) {
    return FileKind::kOoxml;
  }
  return FileKind::kZip;
}

bool IsPortableExecutable(std::string_view bytes) {
  if (!StartsWith(bytes, "MZ")) return false;
  if (bytes.size() < 0x40) return bytes.size() >= 2;
  std::uint32_t lfanew = 0;
  std::memcpy(&lfanew, bytes.data() + 0x3c, sizeof(lfanew));
  return HasAt(bytes, lfanew, std::string_view("PE\0\0", 4)) || lfanew >= bytes.size();
}

// A message starts with header fields; we ask for two well-known ones among the first
// lines so that a text file with one "Note: …" line is not mail.
bool LooksLikeEmail(std::string_view bytes) {
  if (StartsWith(bytes, "From ")) {  // mbox separator line
    auto eol = bytes.find('\n');
    if (eol == std::string_view::npos) return false;
    bytes.remove_prefix(eol + 1);
  }
  static constexpr std::string_view kKnown[] = {
      "from:", "to:", "subject:", "date:", "received:", "return-path:", "message-id:",
      "mime-version:", "content-type:", "delivered-to:", "reply-to:", "x-", "dkim-signature:",
      "authentication-results:", "cc:", "sender:", "arc-"};
  int known = 0;
  int lines = 0;
  std::size_t pos = 0;
  while (pos < bytes.size() && lines < 64) {
    std::size_t eol = bytes.find('\n', pos);
    if (eol == std::string_view::npos) eol = bytes.size();
    std::string_view line = bytes.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty()) break;                       // end of header block
    if (line[0] == ' ' || line[0] == '\t') continue;  // folded continuation
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (std::size_t i = 0; i < colon; ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      if (c <= 32 || c >= 127) return false;
    }
    ++lines;
    std::array<char, 1024> buffer{};
    std::string_view lower = Lowercase(line.substr(0, colon + 1), buffer);
    for (auto field : kKnown) {
      if (StartsWith(lower, field)) {
        ++known;
        break;
      }
    }
  }
  return known >= 2;
}

bool LooksLikeHtml(std::string_view bytes) {
  std::array<char, 1024> buffer{};
  std::string_view head = Lowercase(bytes.substr(0, 1024), buffer);
  auto start = head.find_first_not_of(" \t\r\n\xef\xbb\xbf");
  if (start == std::string_view::npos) return false;
  head.remove_prefix(start);
  if (StartsWith(head, "<!doctype html") || StartsWith(head, "<html")) return true;
  return head.find("<html") != std::string_view::npos ||
         head.find("<body") != std::string_view::npos ||
         head.find("<head>") != std::string_view::npos;
}

// The MIME type of a kind our own checks recognised (libmagic is not asked then).
std::string_view CanonicalMime(FileKind kind) {
  switch (kind) {
    case FileKind::kEmail: return "message/rfc822";
    case FileKind::kHtml: return "text/html";
    case FileKind::kZip: return "application/zip";
    case FileKind::kOoxml: return "application/vnd.openxmlformats-officedocument";
    case FileKind::kOdf: return "application/vnd.oasis.opendocument";
    case FileKind::kSevenZip: return "application/x-7z-compressed";
    case FileKind::kRar: return "application/vnd.rar";
    case FileKind::kTar: return "application/x-tar";
    case FileKind::kGzip: return "application/gzip";
    case FileKind::kBzip2: return "application/x-bzip2";
    case FileKind::kXz: return "application/x-xz";
    case FileKind::kCab: return "application/vnd.ms-cab-compressed";
    case FileKind::kIso9660: return "application/x-iso9660-image";
    case FileKind::kAr: return "application/x-archive";
    case FileKind::kZstd: return "application/zstd";
    case FileKind::kLz4: return "application/x-lz4";
    case FileKind::kLzip: return "application/x-lzip";
    case FileKind::kPdf: return "application/pdf";
    case FileKind::kOle2: return "application/x-ole-storage";
    case FileKind::kRtf: return "text/rtf";
    case FileKind::kPe: return "application/vnd.microsoft.portable-executable";
    case FileKind::kElf: return "application/x-executable";
    case FileKind::kMachO: return "application/x-mach-binary";
    case FileKind::kScript: return "text/x-script";
    case FileKind::kEmpty: return "application/x-empty";
    case FileKind::kText: return "text/plain";
    default: return "";
  }
}

FileKind KindFromMime(std::string_view mime) {
  if (StartsWith(mime, "text/html")) return FileKind::kHtml;
  if (StartsWith(mime, "text/x-shellscript") || StartsWith(mime, "text/x-script") ||
      StartsWith(mime, "application/javascript") || StartsWith(mime, "text/javascript")) {
    return FileKind::kScript;
  }
  if (StartsWith(mime, "message/rfc822")) return FileKind::kEmail;
  if (StartsWith(mime, "text/")) return FileKind::kText;
  if (StartsWith(mime, "image/")) return FileKind::kImage;
  if (StartsWith(mime, "audio/") || StartsWith(mime, "video/")) return FileKind::kAudioVideo;
  if (StartsWith(mime, "application/x-tar")) return FileKind::kTar;
  if (StartsWith(mime, "application/x-iso9660-image")) return FileKind::kIso9660;
  static constexpr std::string_view kOtherArchives[] = {
      "application/x-cpio", "application/x-rpm", "application/x-lha", "application/x-lzh",
      "application/x-arj", "application/x-ace", "application/x-arc", "application/x-ms-wim",
      "application/x-xar", "application/x-compress", "application/x-lzma",
      "application/x-apple-diskimage", "application/x-stuffit", "application/x-zoo"};
  for (auto other : kOtherArchives) {
    if (StartsWith(mime, other)) return FileKind::kOtherArchive;
  }
  return FileKind::kUnknown;
}

// Text: no NUL and almost only printable ASCII, whitespace or UTF-8 in the first 8 KiB.
// (libmagic's text tests run regular expressions over their whole window, which made
// identification the slowest step of a scan.)
bool LooksLikeText(std::string_view bytes) {
  std::string_view head = bytes.substr(0, 8192);
  std::size_t odd = 0;
  for (unsigned char c : head) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b) ++odd;
  }
  return odd * 100 <= head.size();
}

// Disk images that no unpacker opens: naming them makes them *unsupported* containers
// rather than unknown bytes that pass as clean. Returns their MIME type, or "".
std::string_view SniffDiskImage(std::string_view bytes) {
  if (StartsWith(bytes, "KDMV") || StartsWith(bytes, "# Disk DescriptorFile")) {
    return "application/x-vmdk";
  }
  if (StartsWith(bytes, "conectix") || StartsWith(bytes, "vhdxfile")) return "application/x-vhd";
  if (StartsWith(bytes, "QFI\xFB")) return "application/x-qemu-disk";
  if (bytes.size() >= 512 && bytes.substr(bytes.size() - 512, 4) == "koly") {
    return "application/x-apple-diskimage";
  }
  // UDF volume recognition sequence (ECMA-167 NSR02/NSR03) without ISO 9660's CD001.
  for (std::size_t offset = 0x8001; offset < 0x9001 && offset + 5 <= bytes.size(); offset += 0x800) {
    if (HasAt(bytes, offset, "NSR02") || HasAt(bytes, offset, "NSR03")) return "application/x-udf-image";
  }
  return "";
}

}  // namespace

FileKind SniffKind(std::string_view bytes) {
  if (bytes.empty()) return FileKind::kEmpty;
  if (StartsWith(bytes, "PK\x03\x04") || StartsWith(bytes, "PK\x05\x06") ||
      StartsWith(bytes, "PK\x07\x08")) {
    return ClassifyZip(bytes);
  }
  if (StartsWith(bytes, "7z\xBC\xAF\x27\x1C")) return FileKind::kSevenZip;
  if (StartsWith(bytes, "Rar!\x1A\x07")) return FileKind::kRar;
  if (StartsWith(bytes, "\x1F\x8B")) return FileKind::kGzip;
  if (StartsWith(bytes, "BZh") && bytes.size() > 3 && bytes[3] >= '1' && bytes[3] <= '9') {
    return FileKind::kBzip2;
  }
  if (StartsWith(bytes, std::string_view("\xFD" "7zXZ\0", 6))) return FileKind::kXz;
  if (StartsWith(bytes, std::string_view("MSCF\0\0\0\0", 8))) return FileKind::kCab;
  if (StartsWith(bytes, "!<arch>\n")) return FileKind::kAr;
  if (StartsWith(bytes, "\x28\xB5\x2F\xFD")) return FileKind::kZstd;
  if (StartsWith(bytes, "\x04\x22\x4D\x18")) return FileKind::kLz4;
  if (StartsWith(bytes, "LZIP")) return FileKind::kLzip;
  if (HasAt(bytes, 0x8001, "CD001")) return FileKind::kIso9660;
  if (HasAt(bytes, 257, "ustar")) return FileKind::kTar;
  if (StartsWith(bytes, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) return FileKind::kOle2;
  if (StartsWith(bytes, "{\\rt")) return FileKind::kRtf;
  if (StartsWith(bytes, "\x7F" "ELF")) return FileKind::kElf;
  if (StartsWith(bytes, "\xFE\xED\xFA\xCE") || StartsWith(bytes, "\xFE\xED\xFA\xCF") ||
      StartsWith(bytes, "\xCE\xFA\xED\xFE") || StartsWith(bytes, "\xCF\xFA\xED\xFE")) {
    return FileKind::kMachO;
  }
  if (IsPortableExecutable(bytes)) return FileKind::kPe;
  if (bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos) return FileKind::kPdf;
  if (StartsWith(bytes, "\x89PNG\r\n\x1a\n") || StartsWith(bytes, "\xFF\xD8\xFF") ||
      StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a") ||
      (StartsWith(bytes, "RIFF") && HasAt(bytes, 8, "WEBP")) || StartsWith(bytes, "II*\0") ||
      StartsWith(bytes, "MM\0*")) {
    return FileKind::kImage;
  }
  if (HasAt(bytes, 4, "ftyp") || StartsWith(bytes, "ID3") || StartsWith(bytes, "OggS") ||
      (StartsWith(bytes, "RIFF") && (HasAt(bytes, 8, "WAVE") || HasAt(bytes, 8, "AVI ")))) {
    return FileKind::kAudioVideo;
  }
  if (StartsWith(bytes, "#!")) return FileKind::kScript;
  if (LooksLikeEmail(bytes)) return FileKind::kEmail;
  if (LooksLikeHtml(bytes)) return FileKind::kHtml;
  if (LooksLikeText(bytes)) return FileKind::kText;
  return FileKind::kUnknown;
}

class TypeIdentifier::MagicHandle {
 public:
  explicit MagicHandle(magic_t cookie) : cookie_(cookie) {}
  ~MagicHandle() { magic_close(cookie_); }
  MagicHandle(const MagicHandle&) = delete;
  MagicHandle& operator=(const MagicHandle&) = delete;

  static std::unique_ptr<MagicHandle> Open() {
    magic_t cookie = magic_open(kMagicFlags | MAGIC_MIME_TYPE);
    if (cookie == nullptr) return nullptr;
    if (magic_load(cookie, nullptr) != 0) {
      magic_close(cookie);
      return nullptr;
    }
    return std::make_unique<MagicHandle>(cookie);
  }

  // The MIME type of the first kMagicWindow bytes.
  std::string MimeType(std::string_view bytes) {
    const char* answer = magic_buffer(cookie_, bytes.data(), std::min(bytes.size(), kMagicWindow));
    return answer != nullptr ? answer : "";
  }

 private:
  magic_t cookie_;
};

Result<std::unique_ptr<TypeIdentifier>> TypeIdentifier::Create() {
  auto first = MagicHandle::Open();
  if (first == nullptr) return UnavailableError("cannot load the libmagic database");
  std::unique_ptr<TypeIdentifier> identifier(new TypeIdentifier());
  identifier->idle_.push_back(std::move(first));
  return identifier;
}

TypeIdentifier::~TypeIdentifier() = default;

std::unique_ptr<TypeIdentifier::MagicHandle> TypeIdentifier::Acquire() const {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return MagicHandle::Open();
}

void TypeIdentifier::Release(std::unique_ptr<MagicHandle> handle) const {
  if (handle == nullptr) return;
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(handle));
}

content::FileType TypeIdentifier::Identify(std::string_view bytes) const {
  content::FileType type;
  type.kind = SniffKind(bytes);
  if (std::string_view mime = CanonicalMime(type.kind); !mime.empty()) {
    type.mime = std::string(mime);
    return type;
  }
  if (std::string_view disk = SniffDiskImage(bytes); !disk.empty()) {
    type.kind = FileKind::kOtherArchive;
    type.mime = std::string(disk);
    return type;
  }
  auto handle = Acquire();
  if (handle != nullptr) {
    type.mime = handle->MimeType(bytes);
    Release(std::move(handle));
  }
  if (type.kind == FileKind::kUnknown) type.kind = KindFromMime(type.mime);
  return type;
}

}  // namespace bulwark::identify
