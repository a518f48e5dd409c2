#include "unpackers/archive/archive_unpacker.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <vector>

namespace bulwark::unpackers {
namespace {

using content::FileKind;
using engine::Finding;
using engine::UnscannableReason;

constexpr std::size_t kReadChunk = 64 * 1024;

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;

bool IsSingleStreamCompression(FileKind kind) {
  return kind == FileKind::kGzip || kind == FileKind::kBzip2 || kind == FileKind::kXz ||
         kind == FileKind::kZstd || kind == FileKind::kLz4 || kind == FileKind::kLzip;
}

// Name for the one member of a gzip/bzip2/xz stream: the container's name without its
// compression suffix ("report.txt.gz" → "report.txt").
std::string DecompressedName(const std::string& container) {
  for (std::string_view suffix : {".gz", ".bz2", ".xz", ".gzip", ".bzip2", ".zst", ".lz4", ".lz"}) {
    if (container.size() > suffix.size() &&
        container.compare(container.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return container.substr(0, container.size() - suffix.size());
    }
  }
  if (container.size() > 4 && container.compare(container.size() - 4, 4, ".tgz") == 0) {
    return container.substr(0, container.size() - 4) + ".tar";
  }
  return container.empty() ? "data" : container + ".data";
}

bool MentionsEncryption(const char* message) {
  if (message == nullptr) return false;
  std::string_view text(message);
  return text.find("ncrypt") != std::string_view::npos ||
         text.find("assphrase") != std::string_view::npos ||
         text.find("assword") != std::string_view::npos;
}

std::string ErrorText(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown error";
}

Finding MemberFinding(UnscannableReason reason, const std::string& member, std::string detail) {
  Finding finding = Finding::Unscannable("archive", reason, std::move(detail));
  if (!member.empty()) finding.path = content::ObjectPath({member});
  return finding;
}

// Reads RAR5 block headers far enough to tell whether any file (or the archive's
// headers) is encrypted: libarchive 3.6 reports RAR5 encryption only as a data error.
// Bounded: stops at the first header it cannot parse.
class Rar5Reader {
 public:
  explicit Rar5Reader(std::string_view bytes) : bytes_(bytes) {}

  bool AnyEncrypted() {
    static constexpr std::string_view kSignature("Rar!\x1A\x07\x01\x00", 8);
    if (bytes_.substr(0, kSignature.size()) != kSignature) return false;
    pos_ = kSignature.size();
    for (int block = 0; block < 100000 && pos_ < bytes_.size(); ++block) {
      std::size_t start = pos_ + 4;  // after the header CRC32
      pos_ = start;
      std::uint64_t header_size = 0, type = 0, flags = 0, extra_size = 0, data_size = 0;
      if (!Vint(header_size)) return false;
      const std::size_t header_end = pos_ + static_cast<std::size_t>(header_size);
      if (header_size == 0 || header_end > bytes_.size() || header_end < pos_) return false;
      if (!Vint(type) || !Vint(flags)) return false;
      if ((flags & 0x1) != 0 && !Vint(extra_size)) return false;
      if ((flags & 0x2) != 0 && !Vint(data_size)) return false;
      if (type == 4) return true;  // archive encryption header: names and data encrypted
      if ((type == 2 || type == 3) && extra_size > 0 && extra_size <= header_size) {
        if (ExtraHasEncryption(header_end - static_cast<std::size_t>(extra_size), header_end)) {
          return true;
        }
      }
      if (type == 5) return false;  // end of archive
      if (data_size > bytes_.size()) return false;
      pos_ = header_end + static_cast<std::size_t>(data_size);
    }
    return false;
  }

 private:
  bool Vint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64 && pos_ < bytes_.size(); shift += 7) {
      auto byte = static_cast<unsigned char>(bytes_[pos_++]);
      out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  bool ExtraHasEncryption(std::size_t from, std::size_t to) {
    std::size_t saved = pos_;
    pos_ = from;
    bool encrypted = false;
    while (pos_ < to) {
      std::uint64_t size = 0, type = 0;
      std::size_t record_start = pos_;
      if (!Vint(size)) break;
      std::size_t record_end = pos_ + static_cast<std::size_t>(size);
      if (size == 0 || record_end > to || !Vint(type)) break;
      if (type == 1) {  // file encryption record
        encrypted = true;
        break;
      }
      pos_ = record_end;
      if (pos_ <= record_start) break;
    }
    pos_ = saved;
    return encrypted;
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// How a container is read: any format libarchive knows, or (for gzip, bzip2, xz, …) the
// decompressed stream as one member.
enum class ReadMode { kAnyFormat, kRawStream };

class ArchiveReader {
 public:
  ArchiveReader(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings)
      : object_(object), ctx_(ctx), children_(children), findings_(findings) {}

  // Emits the members; returns how many regular members were emitted.
  std::size_t Read(ReadMode mode) {
    ArchivePtr a(archive_read_new());
    if (a == nullptr) {
      findings_.Add(MemberFinding(UnscannableReason::kScanError, "", "cannot allocate a reader"));
      return 0;
    }
    archive_read_support_filter_all(a.get());
    if (mode == ReadMode::kRawStream) {
      archive_read_support_format_raw(a.get());
    } else {
      archive_read_support_format_all(a.get());
    }
    if (archive_read_open_memory(a.get(), object_.bytes().data(), object_.bytes().size()) !=
        ARCHIVE_OK) {
      ReportUnreadable(a.get(), 0, /*opened=*/false);
      return 0;
    }
    const engine::Limits& limits = ctx_.limits();
    std::vector<char> chunk(kReadChunk);
    std::size_t members = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int header = archive_read_next_header(a.get(), &entry);
      if (header == ARCHIVE_EOF) break;
      if (header < ARCHIVE_WARN) {  // RETRY or FATAL: the container cannot be walked further
        ReportUnreadable(a.get(), members, /*opened=*/true);
        return members;
      }
      // ar members carry no file type; everything that is not regular is skipped.
      auto filetype = archive_entry_filetype(entry);
      if (filetype != AE_IFREG && filetype != 0) continue;
      ++members;
      std::string name = MemberName(entry, mode);
      if (archive_entry_is_encrypted(entry)) {
        findings_.Add(MemberFinding(UnscannableReason::kEncrypted, name, "encrypted member"));
        continue;
      }
      std::string bytes;
      if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
          static_cast<std::uint64_t>(archive_entry_size(entry)) <= limits.max_object_bytes) {
        bytes.reserve(static_cast<std::size_t>(archive_entry_size(entry)));
      }
      switch (ReadMember(a.get(), name, chunk, bytes)) {
        case MemberOutcome::kRead:
          break;
        case MemberOutcome::kSkipped:
          continue;
        case MemberOutcome::kStop:
          return members;
      }
      if (!children_.Add(std::move(name), content::Blob::Own(std::move(bytes))).ok()) {
        return members;  // a scan budget is spent; the engine recorded why
      }
    }
    return members;
  }

 private:
  enum class MemberOutcome { kRead, kSkipped, kStop };

  std::string MemberName(struct archive_entry* entry, ReadMode mode) const {
    if (mode == ReadMode::kRawStream) return DecompressedName(object_.info.name);
    const char* utf8 = archive_entry_pathname_utf8(entry);
    const char* raw = archive_entry_pathname(entry);
    return utf8 != nullptr ? utf8 : (raw != nullptr ? raw : "");
  }

  // Reads one member into `bytes` within the object size, ratio and time limits.
  MemberOutcome ReadMember(struct archive* a, const std::string& name, std::vector<char>& chunk,
                           std::string& bytes) {
    const engine::Limits& limits = ctx_.limits();
    for (;;) {
      if (ctx_.Expired()) {
        findings_.Add(MemberFinding(UnscannableReason::kTimeLimit, name,
                                    "scan time limit reached while unpacking"));
        return MemberOutcome::kStop;
      }
      la_ssize_t n = archive_read_data(a, chunk.data(), chunk.size());
      if (n == 0) return MemberOutcome::kRead;
      if (n < 0) {
        const char* message = archive_error_string(a);
        bool encrypted = MentionsEncryption(message) || Rar5Encrypted();
        findings_.Add(MemberFinding(
            encrypted ? UnscannableReason::kEncrypted : UnscannableReason::kMalformed, name,
            (encrypted ? "encrypted member: " : "corrupt member: ") + ErrorText(a)));
        return n == ARCHIVE_FATAL ? MemberOutcome::kStop : MemberOutcome::kSkipped;
      }
      unpacked_ += static_cast<std::uint64_t>(n);
      if (limits.ExceedsRatio(unpacked_, object_.info.size)) {
        findings_.Add(MemberFinding(
            UnscannableReason::kRatioLimit, name,
            "compression ratio over " + std::to_string(static_cast<int>(limits.max_ratio)) +
                ": more than " + std::to_string(unpacked_) + " bytes from " +
                std::to_string(object_.info.size)));
        return MemberOutcome::kStop;
      }
      if (bytes.size() + static_cast<std::size_t>(n) > limits.max_object_bytes) {
        findings_.Add(MemberFinding(UnscannableReason::kObjectSizeLimit, name,
                                    "member larger than the limit of " +
                                        std::to_string(limits.max_object_bytes) + " bytes"));
        return MemberOutcome::kSkipped;
      }
      bytes.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }

  // `opened`: archive_read_open succeeded (only then may libarchive be asked about
  // encryption: before a format is chosen the query dereferences nothing valid).
  void ReportUnreadable(struct archive* a, std::size_t members, bool opened) {
    const char* message = archive_error_string(a);
    bool encrypted = MentionsEncryption(message) ||
                     (opened && archive_read_has_encrypted_entries(a) > 0) || Rar5Encrypted();
    UnscannableReason reason = UnscannableReason::kMalformed;
    std::string detail;
    if (encrypted) {
      reason = UnscannableReason::kEncrypted;
      detail = "encrypted archive: ";
    } else if (members == 0 && object_.info.type.kind == FileKind::kOtherArchive) {
      reason = UnscannableReason::kUnsupported;
      detail = "container format not supported (" + object_.info.type.mime + "): ";
    } else if (members == 0) {
      detail = "cannot open " + std::string(content::FileKindName(object_.info.type.kind)) +
               " container: ";
    } else {
      detail = "corrupt archive after " + std::to_string(members) + " members: ";
    }
    findings_.Add(MemberFinding(reason, "", detail + ErrorText(a)));
  }

  bool Rar5Encrypted() const {
    return object_.info.type.kind == FileKind::kRar && Rar5Reader(object_.bytes()).AnyEncrypted();
  }

  const content::Object& object_;
  engine::ScanContext& ctx_;
  engine::ChildSink& children_;
  engine::FindingSink& findings_;
  std::uint64_t unpacked_ = 0;  // all members so far, for the ratio limit
};

class ArchiveUnpacker : public engine::Unpacker {
 public:
  std::string_view Name() const override { return "archive"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return content::IsArchiveKind(object.type.kind);
  }

  Status Unpack(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings) const override {
    if (!IsSingleStreamCompression(object.info.type.kind)) {
      engine::FindingList found;
      std::size_t members = ArchiveReader(object, ctx, children, found).Read(ReadMode::kAnyFormat);
      if (members == 0 && found.findings().empty() &&
          object.info.type.kind == FileKind::kOtherArchive) {
        // A format we only know by name that yields nothing: we cannot tell an empty
        // image from one libarchive misread, so it is not passed as clean.
        found.Add(MemberFinding(UnscannableReason::kUnsupported, "",
                                "container format not supported (" + object.info.type.mime +
                                    "): no members could be read"));
      }
      for (auto& finding : found.findings()) findings.Add(std::move(finding));
      return OkStatus();
    }
    // A compressed stream usually holds a tar; when no archive format yields a member
    // (a stream of zeros reads as an empty tar), the stream itself is the member.
    engine::FindingList first_pass;
    if (ArchiveReader(object, ctx, children, first_pass).Read(ReadMode::kAnyFormat) > 0) {
      for (auto& finding : first_pass.findings()) findings.Add(std::move(finding));
      return OkStatus();
    }
    ArchiveReader(object, ctx, children, findings).Read(ReadMode::kRawStream);
    return OkStatus();
  }
};

}  // namespace

engine::UnpackerPtr CreateArchiveUnpacker() { return std::make_unique<ArchiveUnpacker>(); }

void RegisterArchiveUnpacker(engine::Registry& registry) {
  registry.AddUnpacker(CreateArchiveUnpacker());
}

}  // namespace bulwark::unpackers
