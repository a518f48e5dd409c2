#pragma once
// Limits that bound one scan. Exceeding one yields an kUnscannable finding, never an
// error and never a silent pass. Defaults follow commercial mail gateways (20 levels,
// ratio 100, 60 MB per unpacked file) with more generous object counts.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bulwark::engine {

struct Limits {
  int max_depth = 20;                               // nesting of containers
  std::size_t max_objects = 10000;                  // objects per scan, outermost included
  std::uint64_t max_total_bytes = 1024ull << 20;    // unpacked bytes per scan
  std::uint64_t max_object_bytes = 64ull << 20;     // one unpacked object
  std::uint64_t max_input_bytes = 1024ull << 20;    // one input file or stream
  double max_ratio = 100.0;                         // unpacked / packed, per container
  std::uint64_t ratio_floor_bytes = 1ull << 20;     // ratio checked past this many unpacked bytes
  std::chrono::milliseconds max_scan_time{60000};   // wall time per scan

  // True when `unpacked` bytes from a container of `packed` bytes break the ratio limit
  // (checked only past ratio_floor_bytes, so small, well-compressed files pass).
  bool ExceedsRatio(std::uint64_t unpacked, std::uint64_t packed) const {
    return unpacked > ratio_floor_bytes &&
           static_cast<double>(unpacked) > max_ratio * static_cast<double>(packed);
  }
};

}  // namespace bulwark::engine
