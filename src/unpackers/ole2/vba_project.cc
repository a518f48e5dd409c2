#include "unpackers/ole2/vba_project.h"
#include "unpackers/ole2/little_endian.h"

#include <algorithm>
#include <utility>

#include "unpackers/ole2/cfb_reader.h"

namespace bulwark::unpackers::ole2 {
namespace {

constexpr std::size_t kChunkOutput = 4096;


Status TooLarge(std::size_t max_bytes) {
  return ResourceExhaustedError("decompressed VBA data is larger than " +
                                std::to_string(max_bytes) + " bytes");
}

// [MS-OVBA] dir stream record ids used here.
constexpr std::uint16_t kProjectVersion = 0x0009;
constexpr std::uint16_t kDirTerminator = 0x0010;
constexpr std::uint16_t kModuleName = 0x0019;
constexpr std::uint16_t kModuleNameUnicode = 0x0047;
constexpr std::uint16_t kModuleStreamName = 0x001A;
constexpr std::uint16_t kModuleStreamNameUnicode = 0x0032;
constexpr std::uint16_t kModuleOffset = 0x0031;
constexpr std::uint16_t kModuleTerminator = 0x002B;

}  // namespace

Result<std::string> DecompressVba(std::string_view in, std::size_t max_bytes) {
  if (in.empty() || in[0] != 0x01) {
    return InvalidArgumentError("compressed container does not start with 0x01");
  }
  std::string out;
  std::size_t pos = 1;
  while (pos + 2 <= in.size()) {
    const std::uint16_t header = Le16(in, pos);
    if (((header >> 12) & 0x7) != 0x3) {
      return InvalidArgumentError("bad chunk signature at offset " + std::to_string(pos));
    }
    const std::size_t chunk_end = std::min(in.size(), pos + (header & 0x0FFF) + 3);
    const bool compressed = (header & 0x8000) != 0;
    pos += 2;
    const std::size_t chunk_start = out.size();
    if (!compressed) {
      const std::size_t n = std::min(kChunkOutput, chunk_end - pos);
      if (out.size() + n > max_bytes) return TooLarge(max_bytes);
      out.append(in.substr(pos, n));
      pos = chunk_end;
      continue;
    }
    while (pos < chunk_end) {
      const unsigned char flags = static_cast<unsigned char>(in[pos++]);
      for (int bit = 0; bit < 8 && pos < chunk_end; ++bit) {
        if ((flags & (1u << bit)) == 0) {
          if (out.size() + 1 > max_bytes) return TooLarge(max_bytes);
          out += in[pos++];
          continue;
        }
        if (pos + 2 > chunk_end) return InvalidArgumentError("copy token cut by chunk end");
        const std::uint16_t token = Le16(in, pos);
        pos += 2;
        const std::size_t done = out.size() - chunk_start;
        unsigned bit_count = 4;
        while (bit_count < 12 && (std::size_t{1} << bit_count) < done) ++bit_count;
        const std::size_t length = (token & (0xFFFFu >> bit_count)) + 3;
        const std::size_t offset = (token >> (16 - bit_count)) + 1;
        if (offset > done) return InvalidArgumentError("copy token reaches before its chunk");
        if (out.size() + length > max_bytes) return TooLarge(max_bytes);
        // Byte by byte: source and destination may overlap (runs).
        std::size_t from = out.size() - offset;
        for (std::size_t i = 0; i < length; ++i) out += out[from + i];
      }
    }
    pos = chunk_end;
  }
  return out;
}

Result<std::vector<VbaModule>> ParseVbaDir(std::string_view dir) {
  std::vector<VbaModule> modules;
  VbaModule current;
  bool in_module = false;
  std::size_t pos = 0;
  while (pos + 6 <= dir.size()) {
    const std::uint16_t id = Le16(dir, pos);
    if (id == kProjectVersion) {  // its size field says 4 but 6 more bytes follow
      pos += 12;
      continue;
    }
    const std::uint32_t size = Le32(dir, pos + 2);
    pos += 6;
    if (size > dir.size() - pos) {
      if (modules.empty() && !in_module) {
        return InvalidArgumentError("dir record " + std::to_string(id) +
                                    " runs past the end of the stream");
      }
      break;
    }
    std::string_view data = dir.substr(pos, size);
    pos += size;
    if (id == kDirTerminator) break;
    switch (id) {
      case kModuleName:
        if (in_module) modules.push_back(std::move(current));
        current = VbaModule();
        current.name = std::string(data);
        in_module = true;
        break;
      case kModuleNameUnicode:
        if (in_module && !data.empty()) current.name = Utf16LeToUtf8(data);
        break;
      case kModuleStreamName:
        if (in_module) current.stream_name = std::string(data);
        break;
      case kModuleStreamNameUnicode:
        if (in_module && !data.empty()) current.stream_name = Utf16LeToUtf8(data);
        break;
      case kModuleOffset:
        if (in_module && data.size() >= 4) current.text_offset = Le32(data, 0);
        break;
      case kModuleTerminator:
        if (in_module) modules.push_back(std::move(current));
        current = VbaModule();
        in_module = false;
        break;
      default:
        break;
    }
  }
  if (in_module) modules.push_back(std::move(current));
  return modules;
}

}  // namespace bulwark::unpackers::ole2
