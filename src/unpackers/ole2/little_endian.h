#pragma once
// Little-endian integers at an offset of a byte string (OLE2 and VBA structures).
// Precondition, checked by every caller: off + sizeof(result) <= b.size().

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulwark::unpackers::ole2 {

inline std::uint16_t Le16(std::string_view b, std::size_t off) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[off]) |
                                    static_cast<unsigned char>(b[off + 1]) << 8);
}
inline std::uint32_t Le32(std::string_view b, std::size_t off) {
  return static_cast<std::uint32_t>(Le16(b, off)) |
         static_cast<std::uint32_t>(Le16(b, off + 2)) << 16;
}
inline std::uint64_t Le64(std::string_view b, std::size_t off) {
  return static_cast<std::uint64_t>(Le32(b, off)) |
         static_cast<std::uint64_t>(Le32(b, off + 4)) << 32;
}

}  // namespace bulwark::unpackers::ole2
