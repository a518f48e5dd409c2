#include "unpackers/ole2/ole2_unpacker.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "unpackers/ole2/cfb_reader.h"
#include "unpackers/ole2/little_endian.h"
#include "unpackers/ole2/vba_project.h"

namespace bulwark::unpackers {
namespace {

using ole2::Le16;
using ole2::Le32;

using engine::Finding;
using engine::UnscannableReason;
using ole2::CfbReader;
using ole2::CfbStream;

constexpr std::size_t kMaxWarningFindings = 8;

Finding Ole2Finding(UnscannableReason reason, const std::string& member, std::string detail) {
  Finding finding = Finding::Unscannable("ole2", reason, std::move(detail));
  if (!member.empty()) finding.path = content::ObjectPath({member});
  return finding;
}

Finding SizeFinding(const std::string& member, std::uint64_t limit) {
  return Ole2Finding(UnscannableReason::kObjectSizeLimit, member,
                     "stream larger than the limit of " + std::to_string(limit) + " bytes");
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// CFB compares names case-insensitively; ASCII folding is enough for the names we look for.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}


// The storage path of `path`'s parent ("" at the root).
std::string_view Parent(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// A module name usable as one path part: no separators or control characters.
std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 128)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || c == '/' || c == '\\' || u == 0x7F) ? '_' : c;
  }
  return out.empty() ? "module" : out;
}

// Streams of no use to a detector: VBA's module-name map and compiled-code caches.
bool IsBookkeeping(const CfbStream& stream) {
  return EqualsIgnoreCase(stream.name, "PROJECTwm") ||
         (stream.name.size() > 6 && EqualsIgnoreCase(stream.name.substr(0, 6), "__SRP_"));
}

// The first bytes of a stream, for format checks.
std::string Head(const CfbReader& reader, const CfbStream& stream, std::uint64_t bytes) {
  CfbStream head = stream;
  head.size = std::min(stream.size, bytes);
  return reader.ReadStream(head).bytes;
}

// Why the document is encrypted, or "" when nothing says so.
std::string EncryptionEvidence(const CfbReader& reader) {
  bool info = false, package = false;
  for (const CfbStream& stream : reader.streams()) {
    const bool at_root = stream.path == stream.name;
    if (!at_root) continue;
    if (EqualsIgnoreCase(stream.name, "EncryptionInfo")) info = true;
    if (EqualsIgnoreCase(stream.name, "EncryptedPackage")) package = true;
    if (EqualsIgnoreCase(stream.name, "EncryptedSummary")) {
      return "PowerPoint document is encrypted (EncryptedSummary stream)";
    }
    if (EqualsIgnoreCase(stream.name, "WordDocument")) {
      // FIB: wIdent 0xA5EC, then flags at 0x0A with fEncrypted (0x0100).
      std::string fib = Head(reader, stream, 12);
      if (fib.size() == 12 && Le16(fib, 0) == 0xA5EC && (Le16(fib, 0x0A) & 0x0100) != 0) {
        return "Word document is encrypted (FIB fEncrypted)";
      }
    }
    if (EqualsIgnoreCase(stream.name, "Workbook") || EqualsIgnoreCase(stream.name, "Book")) {
      // BIFF: FILEPASS (0x002F) follows the globals' BOF when the workbook is encrypted.
      std::string biff = Head(reader, stream, 4096);
      std::size_t pos = 0;
      for (int record = 0; record < 32 && pos + 4 <= biff.size(); ++record) {
        const std::uint16_t type = Le16(biff, pos);
        if (type == 0x002F) return "Excel workbook is encrypted (FILEPASS record)";
        if (type == 0x000A) break;  // EOF of the globals substream
        pos += 4 + Le16(biff, pos + 2);
      }
    }
  }
  if (info && package) return "Office document is encrypted (EncryptionInfo/EncryptedPackage)";
  return "";
}

// Inflates a zlib stream into at most `max_bytes`. kResourceExhausted past the limit,
// kInvalidArgument when the data is not zlib.
Result<std::string> Inflate(std::string_view in, std::uint64_t max_bytes) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return InternalError("inflateInit failed");
  struct Ender {
    z_stream* z;
    ~Ender() { inflateEnd(z); }
  } ender{&z};
  std::string out;
  char buffer[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = sizeof(buffer) - z.avail_out;
    if (out.size() + produced > max_bytes) {
      return ResourceExhaustedError("inflated data larger than the limit");
    }
    out.append(buffer, produced);
    if (rc == Z_STREAM_END) return out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) return out;  // truncated: keep what we have
    if (rc != Z_OK) return InvalidArgumentError("bad zlib data");
  }
}

class Ole2Unpacker : public engine::Unpacker {
 public:
  std::string_view Name() const override { return "ole2"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return object.type.kind == content::FileKind::kOle2;
  }

  Status Unpack(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings) const override {
    Result<CfbReader> opened = CfbReader::Open(object.bytes());
    if (!opened.ok()) {
      findings.Add(Ole2Finding(UnscannableReason::kMalformed, "",
                               "malformed OLE2 file: " + opened.status().message()));
      return OkStatus();
    }
    const CfbReader& reader = *opened;
    for (std::size_t i = 0; i < reader.warnings().size() && i < kMaxWarningFindings; ++i) {
      findings.Add(Ole2Finding(UnscannableReason::kMalformed, "",
                               "damaged OLE2 file: " + reader.warnings()[i]));
    }
    std::string encrypted = EncryptionEvidence(reader);
    if (!encrypted.empty()) {
      findings.Add(Ole2Finding(UnscannableReason::kEncrypted, "", encrypted));
    }

    Walk walk{reader, ctx, children, findings,
              std::vector<bool>(reader.streams().size(), false)};
    if (!EmitVbaModules(walk)) return OkStatus();
    EmitStreams(walk, !encrypted.empty());
    return OkStatus();
  }

 private:
  // State of one Unpack() call.
  struct Walk {
    const CfbReader& reader;
    engine::ScanContext& ctx;
    engine::ChildSink& children;
    engine::FindingSink& findings;
    std::vector<bool> done;  // streams already emitted (as module source)
  };

  // False when the scan must stop: deadline passed (finding added) or the sink refused.
  static bool Emit(Walk& walk, std::string name, std::string bytes) {
    if (walk.ctx.Expired()) {
      walk.findings.Add(Ole2Finding(UnscannableReason::kTimeLimit, "",
                                    "scan time limit reached while unpacking OLE2 streams"));
      return false;
    }
    return walk.children.Add(std::move(name), content::Blob::Own(std::move(bytes))).ok();
  }

  // Reads a stream whole, reporting size-limit and damage findings. False when the
  // stream should not be used (over the limit, or nothing could be read).
  static bool ReadWhole(Walk& walk, const CfbStream& stream, std::string& bytes) {
    const std::uint64_t limit = walk.ctx.limits().max_object_bytes;
    if (stream.size > limit) {
      walk.findings.Add(SizeFinding(stream.path, limit));
      return false;
    }
    ole2::CfbStreamData data = walk.reader.ReadStream(stream);
    if (!data.problem.empty()) {
      walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, stream.path,
                                    "damaged stream: " + data.problem));
    }
    bytes = std::move(data.bytes);
    return !bytes.empty();
  }

  // Emits "VBA/<Module>.vba" for each module of each VBA project (a "dir" stream in a
  // storage named "VBA"). Returns false when the scan must stop.
  static bool EmitVbaModules(Walk& walk) {
    const auto& streams = walk.reader.streams();
    const std::uint64_t limit = walk.ctx.limits().max_object_bytes;
    for (const CfbStream& dir_stream : streams) {
      std::string_view project = Parent(dir_stream.path);
      std::string_view storage = project.substr(project.rfind('/') + 1);
      if (!EqualsIgnoreCase(dir_stream.name, "dir") || !EqualsIgnoreCase(storage, "VBA")) {
        continue;
      }
      std::string compressed;
      if (!ReadWhole(walk, dir_stream, compressed)) continue;
      Result<std::string> dir = ole2::DecompressVba(compressed, limit);
      if (!dir.ok()) {
        walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, dir_stream.path,
                                      "cannot decompress VBA dir stream: " +
                                          dir.status().message()));
        continue;
      }
      Result<std::vector<ole2::VbaModule>> modules = ole2::ParseVbaDir(*dir);
      if (!modules.ok()) {
        walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, dir_stream.path,
                                      "cannot parse VBA dir stream: " +
                                          modules.status().message()));
        continue;
      }
      for (const ole2::VbaModule& module : *modules) {
        if (!EmitModule(walk, project, module)) return false;
      }
    }
    return true;
  }

  static bool EmitModule(Walk& walk, std::string_view project, const ole2::VbaModule& module) {
    const auto& streams = walk.reader.streams();
    const std::string wanted = std::string(project) + "/" + module.stream_name;
    const std::string child = "VBA/" + SafeName(module.name) + ".vba";
    for (std::size_t i = 0; i < streams.size(); ++i) {
      if (walk.done[i] || !EqualsIgnoreCase(streams[i].path, wanted)) continue;
      std::string raw;
      if (!ReadWhole(walk, streams[i], raw)) {
        walk.done[i] = true;  // reported (size limit) or empty
        return true;
      }
      if (module.text_offset >= raw.size()) {
        walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, streams[i].path,
                                      "VBA module source offset is past the stream's end"));
        return true;  // the raw stream is emitted with the others
      }
      Result<std::string> source = ole2::DecompressVba(
          std::string_view(raw).substr(module.text_offset), walk.ctx.limits().max_object_bytes);
      if (!source.ok()) {
        if (source.status().code() == StatusCode::kResourceExhausted) {
          walk.findings.Add(SizeFinding(child, walk.ctx.limits().max_object_bytes));
        } else {
          walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, streams[i].path,
                                        "cannot decompress VBA module source: " +
                                            source.status().message()));
        }
        return true;  // the raw stream is emitted with the others
      }
      walk.done[i] = true;
      return Emit(walk, child, std::move(*source));
    }
    walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, child,
                                  "VBA module stream \"" + wanted + "\" is missing"));
    return true;
  }

  // Emits every remaining non-empty stream under its storage path; PowerPoint's
  // compressed embedded storages (VBA project, OLE objects) as extra children.
  static void EmitStreams(Walk& walk, bool encrypted) {
    const auto& streams = walk.reader.streams();
    std::set<std::tuple<bool, std::uint32_t, std::uint64_t>> seen;
    bool reported_shared = false;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const CfbStream& stream = streams[i];
      if (walk.done[i] || stream.size == 0 || IsBookkeeping(stream)) continue;
      if (encrypted && EqualsIgnoreCase(stream.path, "EncryptedPackage")) continue;
      // Two entries on the same sectors would only multiply the work (a decompression
      // bomb made of directory entries); real files never share sectors.
      if (!seen.insert({stream.in_mini_stream, stream.start_sector, stream.size}).second) {
        if (!reported_shared) {
          walk.findings.Add(Ole2Finding(UnscannableReason::kMalformed, stream.path,
                                        "streams share sectors; duplicates skipped"));
          reported_shared = true;
        }
        continue;
      }
      if (walk.ctx.Expired()) {
        walk.findings.Add(Ole2Finding(UnscannableReason::kTimeLimit, "",
                                      "scan time limit reached while unpacking OLE2 streams"));
        return;
      }
      std::string bytes;
      if (!ReadWhole(walk, stream, bytes)) continue;
      if (EqualsIgnoreCase(stream.path, "PowerPoint Document") && !encrypted) {
        if (!EmitPowerPointStorages(walk, stream.path, bytes)) return;
      }
      if (!Emit(walk, stream.path, std::move(bytes))) return;
    }
  }

  // PowerPoint keeps its VBA project and embedded OLE objects as zlib-compressed OLE2
  // files in ExOleObjStg records (type 0x1011, instance 1) of the "PowerPoint Document"
  // stream. Walks the stream's top-level records (bounded by its length) and emits each
  // inflated storage as "PowerPoint Document/ExOleObjStg-<offset>"; the engine recurses
  // into it. Returns false when the scan must stop.
  static bool EmitPowerPointStorages(Walk& walk, const std::string& path,
                                     std::string_view stream) {
    const std::uint64_t limit = walk.ctx.limits().max_object_bytes;
    std::size_t pos = 0;
    while (pos + 8 <= stream.size()) {
      const std::uint16_t instance = Le16(stream, pos) >> 4;
      const std::uint16_t type = Le16(stream, pos + 2);
      const std::uint32_t length = Le32(stream, pos + 4);
      const std::size_t body = pos + 8;
      if (length > stream.size() - body) break;  // damaged or not a record boundary
      if (type == 0x1011 && instance == 1 && length > 4) {
        const std::string name = path + "/ExOleObjStg-" + std::to_string(pos);
        Result<std::string> inflated = Inflate(stream.substr(body + 4, length - 4), limit);
        if (!inflated.ok()) {
          walk.findings.Add(inflated.status().code() == StatusCode::kResourceExhausted
                                ? SizeFinding(name, limit)
                                : Ole2Finding(UnscannableReason::kMalformed, name,
                                              "cannot inflate embedded storage"));
        } else if (!inflated->empty() && !Emit(walk, name, std::move(*inflated))) {
          return false;
        }
      }
      pos = body + length;
    }
    return true;
  }
};

}  // namespace

engine::UnpackerPtr CreateOle2Unpacker() { return std::make_unique<Ole2Unpacker>(); }

void RegisterOle2Unpacker(engine::Registry& registry) {
  registry.AddUnpacker(CreateOle2Unpacker());
}

}  // namespace bulwark::unpackers
