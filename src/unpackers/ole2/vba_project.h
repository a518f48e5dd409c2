#pragma once
// The VBA project inside an OLE2 file ([MS-OVBA]): the decompression algorithm of its
// streams (2.4.1) and the module list of its "dir" stream (2.3.4.2).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::unpackers::ole2 {

// Decompresses a CompressedContainer. Returns kInvalidArgument when the container is
// malformed (bad signature byte, bad chunk header, a copy token reaching before the chunk)
// and kResourceExhausted as soon as the output would exceed `max_bytes`. Work is linear in
// the input size; the output of one chunk is at most 4096 bytes.
Result<std::string> DecompressVba(std::string_view container, std::size_t max_bytes);

// One module of a VBA project.
struct VbaModule {
  std::string name;         // MODULENAME (Unicode form when present), UTF-8
  std::string stream_name;  // MODULESTREAMNAME (Unicode form when present), UTF-8
  std::uint32_t text_offset = 0;  // where the compressed source starts in the stream
};

// Parses a decompressed "dir" stream. Returns the modules found before the end of the
// records; kInvalidArgument when a record runs past the end before any module was found.
Result<std::vector<VbaModule>> ParseVbaDir(std::string_view dir);

}  // namespace bulwark::unpackers::ole2
