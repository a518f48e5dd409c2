#pragma once
// The true type of an object, decided from its bytes (never from its name alone).

#include <string>
#include <string_view>

namespace bulwark::content {

enum class FileKind {
  kUnknown,
  kEmpty,
  kText,
  kHtml,
  kEmail,     // RFC 5322 message
  kZip,
  kOoxml,     // docx/xlsx/pptx and macro-enabled variants (zip)
  kOdf,       // OpenDocument (zip)
  kSevenZip,
  kRar,
  kTar,
  kGzip,
  kBzip2,
  kXz,
  kCab,
  kIso9660,
  kAr,        // Unix ar, Debian packages
  kZstd,
  kLz4,
  kLzip,
  kOtherArchive,  // a container libmagic names (cpio, rpm, lha, arj, ace, wim, …); libarchive tries it
  kPdf,
  kOle2,      // legacy Office, MSI
  kRtf,
  kPe,        // Windows executable
  kElf,
  kMachO,
  kScript,    // shell, PowerShell, JavaScript, VBScript… (text with a shebang or known form)
  kImage,
  kAudioVideo,
};

// "zip", "email", … — stable: appears in JSON output and events.
std::string_view FileKindName(FileKind kind);

struct FileType {
  FileKind kind = FileKind::kUnknown;
  std::string mime;         // libmagic's MIME type, e.g. "application/zip"
  std::string description;  // libmagic's description (may be empty)
};

// True for kinds whose bytes are a container that an unpacker opens.
bool IsArchiveKind(FileKind kind);

// True for kinds that may hold readable text: plain text, HTML, scripts, RTF, and bytes
// nothing identified (streams from inside documents, XML parts).
bool MayHoldText(FileKind kind);

}  // namespace bulwark::content
