#pragma once
// CfbReader: a read-only, bounded parser of Compound File Binary files ([MS-CFB]), the
// container of legacy Office documents, MSI packages and vbaProject.bin.
//
// Every offset, size and sector number comes from hostile input and is checked; sector
// chains are walked at most once per sector of the file, so a FAT loop ends as an error,
// never as a hang. Memory: a stream read is bounded by the file's size.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::unpackers::ole2 {

// Decodes UTF-16LE up to the first NUL unit; unpaired surrogates become U+FFFD.
std::string Utf16LeToUtf8(std::string_view bytes);

// One stream found in the directory tree.
struct CfbStream {
  std::string path;   // storage path below the root, "/"-separated, e.g. "Macros/VBA/dir"
  std::string name;   // last part of `path` (UTF-8; may hold control characters like \x01)
  std::uint64_t size = 0;  // declared size in bytes
  std::uint32_t start_sector = 0;
  bool in_mini_stream = false;  // stored in 64-byte mini sectors (size < cutoff)
};

// What ReadStream() could read. `problem` is empty when the stream was read whole;
// otherwise it says why `bytes` is shorter than declared (broken or truncated chain).
struct CfbStreamData {
  std::string bytes;
  std::string problem;
};

class CfbReader {
 public:
  // Parses the header, the FAT (through the DIFAT), the mini FAT, the mini stream and the
  // directory of `bytes`, which must outlive the reader. Returns kInvalidArgument with a
  // reason when the file cannot be read at all (not CFB, bad header, FAT outside the file,
  // no directory). Damage that still leaves part of the file readable (a DIFAT or
  // directory chain cut short, a directory tree loop) is listed in warnings().
  static Result<CfbReader> Open(std::string_view bytes);

  // Streams in directory-tree order (each storage's members, then its sub-storages).
  const std::vector<CfbStream>& streams() const { return streams_; }
  // Non-fatal problems found while opening, one sentence each.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Reads a stream of streams(). Never reads outside the file; output is at most
  // min(stream.size, bytes the file can hold).
  CfbStreamData ReadStream(const CfbStream& stream) const;

 private:
  struct Chain {
    std::vector<std::uint32_t> sectors;
    std::string problem;  // empty when the chain ended where expected
  };

  explicit CfbReader(std::string_view bytes) : bytes_(bytes) {}

  // The bytes of regular sector `id`, possibly short at the end of the file; empty when
  // the sector starts past the end of the file.
  std::string_view Sector(std::uint32_t id) const;
  // Follows `table` from `start` until ENDOFCHAIN or `want` sectors were collected.
  // `bound` is the number of sectors that exist: a longer chain is a loop.
  static Chain Follow(const std::vector<std::uint32_t>& table, std::uint32_t start,
                      std::uint64_t want, std::uint64_t bound);
  Status ReadFat(std::uint32_t fat_sectors, std::uint32_t first_difat);
  Status ReadDirectory(std::uint32_t first_dir_sector, bool version3);
  void ReadMiniStream(std::uint64_t root_size, std::uint32_t root_start,
                      std::uint32_t first_minifat, std::uint32_t minifat_sectors);

  // Constant after Open().
  std::string_view bytes_;
  std::uint32_t sector_shift_ = 9;
  std::uint32_t sector_size_ = 512;
  std::uint64_t sector_count_ = 0;  // sectors (whole or partial) after the header
  std::uint32_t mini_cutoff_ = 4096;
  std::vector<std::uint32_t> fat_;
  std::vector<std::uint32_t> mini_fat_;
  std::string mini_stream_;
  std::vector<CfbStream> streams_;
  std::vector<std::string> warnings_;
};

}  // namespace bulwark::unpackers::ole2
