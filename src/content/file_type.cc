#include "bulwark/content/file_type.h"

namespace bulwark::content {

std::string_view FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kUnknown: return "unknown";
    case FileKind::kEmpty: return "empty";
    case FileKind::kText: return "text";
    case FileKind::kHtml: return "html";
    case FileKind::kEmail: return "email";
    case FileKind::kZip: return "zip";
    case FileKind::kOoxml: return "ooxml";
    case FileKind::kOdf: return "odf";
    case FileKind::kSevenZip: return "7z";
    case FileKind::kRar: return "rar";
    case FileKind::kTar: return "tar";
    case FileKind::kGzip: return "gzip";
    case FileKind::kBzip2: return "bzip2";
    case FileKind::kXz: return "xz";
    case FileKind::kCab: return "cab";
    case FileKind::kIso9660: return "iso9660";
    case FileKind::kAr: return "ar";
    case FileKind::kZstd: return "zstd";
    case FileKind::kLz4: return "lz4";
    case FileKind::kLzip: return "lzip";
    case FileKind::kOtherArchive: return "archive-other";
    case FileKind::kPdf: return "pdf";
    case FileKind::kOle2: return "ole2";
    case FileKind::kRtf: return "rtf";
    case FileKind::kPe: return "pe";
    case FileKind::kElf: return "elf";
    case FileKind::kMachO: return "macho";
    case FileKind::kScript: return "script";
    case FileKind::kImage: return "image";
    case FileKind::kAudioVideo: return "media";
  }
  return "unknown";
}

bool IsArchiveKind(FileKind kind) {
  switch (kind) {
    case FileKind::kZip:
    case FileKind::kOoxml:
    case FileKind::kOdf:
    case FileKind::kSevenZip:
    case FileKind::kRar:
    case FileKind::kTar:
    case FileKind::kGzip:
    case FileKind::kBzip2:
    case FileKind::kXz:
    case FileKind::kCab:
    case FileKind::kIso9660:
    case FileKind::kAr:
    case FileKind::kZstd:
    case FileKind::kLz4:
    case FileKind::kLzip:
    case FileKind::kOtherArchive:
      return true;
    default:
      return false;
  }
}

bool MayHoldText(FileKind kind) {
  switch (kind) {
    case FileKind::kText:
    case FileKind::kHtml:
    case FileKind::kScript:
    case FileKind::kRtf:
    case FileKind::kUnknown:
      return true;
    default:
      return false;
  }
}

}  // namespace bulwark::content
