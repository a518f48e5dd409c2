#include "unpackers/ole2/cfb_reader.h"
#include "bulwark/common/text.h"
#include "unpackers/ole2/little_endian.h"

#include <algorithm>
#include <set>
#include <utility>

namespace bulwark::unpackers::ole2 {
namespace {

constexpr std::string_view kSignature("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
constexpr std::size_t kHeaderBytes = 512;
constexpr std::uint32_t kMaxRegSect = 0xFFFFFFFA;
constexpr std::uint32_t kEndOfChain = 0xFFFFFFFE;
constexpr std::uint32_t kNoStream = 0xFFFFFFFF;
constexpr std::size_t kHeaderDifatEntries = 109;
constexpr std::size_t kDirEntryBytes = 128;
constexpr std::uint32_t kMiniSectorSize = 64;
constexpr std::uint8_t kTypeStorage = 1;
constexpr std::uint8_t kTypeStream = 2;
constexpr std::uint8_t kTypeRoot = 5;


// A directory entry as stored.
struct RawEntry {
  std::string name;
  std::uint8_t type = 0;
  std::uint32_t left = kNoStream;
  std::uint32_t right = kNoStream;
  std::uint32_t child = kNoStream;
  std::uint32_t start = 0;
  std::uint64_t size = 0;
};

std::uint64_t CeilDiv(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

std::string Utf16LeToUtf8(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    std::uint32_t unit = Le16(bytes, i);
    if (unit == 0) break;
    if (unit >= 0xD800 && unit < 0xDC00 && i + 3 < bytes.size()) {
      std::uint32_t low = Le16(bytes, i + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        AppendUtf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (unit >= 0xD800 && unit < 0xE000) unit = 0xFFFD;  // lone surrogate
    AppendUtf8(out, unit);
  }
  return out;
}

Result<CfbReader> CfbReader::Open(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return InvalidArgumentError("file is shorter than an OLE2 header (" +
                                std::to_string(bytes.size()) + " bytes)");
  }
  if (bytes.substr(0, kSignature.size()) != kSignature) {
    return InvalidArgumentError("no OLE2 signature");
  }
  CfbReader reader(bytes);
  const std::uint16_t major = Le16(bytes, 0x1A);
  if (Le16(bytes, 0x1C) != 0xFFFE) return InvalidArgumentError("bad byte order mark in header");
  reader.sector_shift_ = Le16(bytes, 0x1E);
  if (reader.sector_shift_ != 9 && reader.sector_shift_ != 12) {
    return InvalidArgumentError("unsupported sector size 2^" +
                                std::to_string(reader.sector_shift_));
  }
  if (Le16(bytes, 0x20) != 6) return InvalidArgumentError("unsupported mini sector size");
  reader.sector_size_ = 1u << reader.sector_shift_;
  if (bytes.size() <= reader.sector_size_) {
    return InvalidArgumentError("file ends inside its header sector");
  }
  reader.sector_count_ = CeilDiv(bytes.size() - reader.sector_size_, reader.sector_size_);
  const std::uint32_t fat_sectors = Le32(bytes, 0x2C);
  const std::uint32_t first_dir = Le32(bytes, 0x30);
  reader.mini_cutoff_ = Le32(bytes, 0x38);
  if (reader.mini_cutoff_ != 4096) {
    reader.warnings_.push_back("unusual mini stream cutoff " +
                               std::to_string(reader.mini_cutoff_) + "; using 4096");
    reader.mini_cutoff_ = 4096;
  }
  const std::uint32_t first_difat = Le32(bytes, 0x44);

  BULWARK_RETURN_IF_ERROR(reader.ReadFat(fat_sectors, first_difat));
  BULWARK_RETURN_IF_ERROR(reader.ReadDirectory(first_dir, major == 3));
  return reader;
}

std::string_view CfbReader::Sector(std::uint32_t id) const {
  const std::uint64_t offset = (static_cast<std::uint64_t>(id) + 1) << sector_shift_;
  if (offset >= bytes_.size()) return {};
  return bytes_.substr(offset, sector_size_);
}

CfbReader::Chain CfbReader::Follow(const std::vector<std::uint32_t>& table, std::uint32_t start,
                                   std::uint64_t want, std::uint64_t bound) {
  Chain chain;
  std::uint32_t current = start;
  while (chain.sectors.size() < want) {
    if (current == kEndOfChain) {
      if (want != UINT64_MAX) chain.problem = "sector chain ends early";
      return chain;
    }
    if (current > kMaxRegSect) {
      chain.problem = "sector chain reaches a free or reserved sector";
      return chain;
    }
    if (current >= table.size()) {
      chain.problem = "sector " + std::to_string(current) + " is outside the allocation table";
      return chain;
    }
    if (chain.sectors.size() >= bound) {
      chain.problem = "sector chain loops (longer than the file's sector count)";
      return chain;
    }
    chain.sectors.push_back(current);
    current = table[current];
  }
  // A chain cut at `want` sectors can still revisit a sector: find the first repeat.
  std::vector<std::uint32_t> sorted = chain.sectors;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    std::set<std::uint32_t> seen;
    std::size_t keep = 0;
    while (seen.insert(chain.sectors[keep]).second) ++keep;
    chain.sectors.resize(keep);
    chain.problem = "sector chain loops";
  }
  return chain;
}

Status CfbReader::ReadFat(std::uint32_t fat_sectors, std::uint32_t first_difat) {
  if (fat_sectors == 0) return InvalidArgumentError("header declares no FAT sectors");
  if (fat_sectors > sector_count_) {
    return InvalidArgumentError("header declares " + std::to_string(fat_sectors) +
                                " FAT sectors but the file holds " +
                                std::to_string(sector_count_) + " sectors");
  }
  std::vector<std::uint32_t> fat_ids;
  fat_ids.reserve(fat_sectors);
  for (std::size_t i = 0; i < kHeaderDifatEntries && fat_ids.size() < fat_sectors; ++i) {
    fat_ids.push_back(Le32(bytes_, 0x4C + 4 * i));
  }
  const std::size_t per_difat = sector_size_ / 4 - 1;
  std::uint32_t next = first_difat;
  std::uint64_t walked = 0;
  while (fat_ids.size() < fat_sectors) {
    if (next > kMaxRegSect) {
      warnings_.push_back("DIFAT lists " + std::to_string(fat_ids.size()) + " of " +
                          std::to_string(fat_sectors) + " FAT sectors");
      break;
    }
    if (++walked > sector_count_) return InvalidArgumentError("DIFAT chain loops");
    std::string_view sector = Sector(next);
    if (sector.size() != sector_size_) {
      return InvalidArgumentError("DIFAT sector " + std::to_string(next) +
                                  " is outside the file");
    }
    for (std::size_t j = 0; j < per_difat && fat_ids.size() < fat_sectors; ++j) {
      fat_ids.push_back(Le32(sector, 4 * j));
    }
    next = Le32(sector, sector_size_ - 4);
  }
  fat_.reserve(fat_ids.size() * (sector_size_ / 4));
  for (std::uint32_t id : fat_ids) {
    std::string_view sector = id <= kMaxRegSect ? Sector(id) : std::string_view();
    if (sector.size() != sector_size_) {
      return InvalidArgumentError("FAT sector " + std::to_string(id) + " is outside the file");
    }
    for (std::size_t j = 0; j + 4 <= sector.size(); j += 4) fat_.push_back(Le32(sector, j));
  }
  return OkStatus();
}

Status CfbReader::ReadDirectory(std::uint32_t first_dir_sector, bool version3) {
  Chain chain = Follow(fat_, first_dir_sector, UINT64_MAX, sector_count_);
  if (!chain.problem.empty()) warnings_.push_back("directory: " + chain.problem);
  std::vector<RawEntry> entries;
  for (std::uint32_t id : chain.sectors) {
    std::string_view sector = Sector(id);
    for (std::size_t off = 0; off + kDirEntryBytes <= sector.size(); off += kDirEntryBytes) {
      std::string_view e = sector.substr(off, kDirEntryBytes);
      RawEntry entry;
      std::size_t name_bytes = std::min<std::size_t>(Le16(e, 0x40), 64);
      entry.name = Utf16LeToUtf8(e.substr(0, name_bytes));
      entry.type = static_cast<std::uint8_t>(e[0x42]);
      entry.left = Le32(e, 0x44);
      entry.right = Le32(e, 0x48);
      entry.child = Le32(e, 0x4C);
      entry.start = Le32(e, 0x74);
      entry.size = version3 ? Le32(e, 0x78) : Le64(e, 0x78);
      entries.push_back(std::move(entry));
    }
  }
  if (entries.empty()) return InvalidArgumentError("directory is empty or outside the file");
  if (entries[0].type != kTypeRoot) {
    return InvalidArgumentError("first directory entry is not the root storage");
  }
  ReadMiniStream(entries[0].size, entries[0].start, Le32(bytes_, 0x3C), Le32(bytes_, 0x40));

  // Walks the red-black trees with an explicit stack; each entry is visited once, so a
  // tree that loops ends after entries.size() steps.
  struct Pending {
    std::uint32_t index;
    std::string parent;
  };
  std::vector<bool> visited(entries.size(), false);
  visited[0] = true;
  std::vector<Pending> stack;
  std::vector<Pending> storages;  // visited after the current storage's members
  stack.push_back({entries[0].child, ""});
  std::size_t next_storage = 0;
  bool reported_loop = false;
  while (!stack.empty() || next_storage < storages.size()) {
    if (stack.empty()) {
      stack.push_back(std::move(storages[next_storage++]));
      continue;
    }
    Pending item = std::move(stack.back());
    stack.pop_back();
    if (item.index == kNoStream) continue;
    if (item.index >= entries.size() || visited[item.index]) {
      if (!reported_loop) {
        warnings_.push_back("directory tree links to a missing or already seen entry");
        reported_loop = true;
      }
      continue;
    }
    visited[item.index] = true;
    const RawEntry& entry = entries[item.index];
    stack.push_back({entry.right, item.parent});
    stack.push_back({entry.left, item.parent});
    std::string path = item.parent.empty() ? entry.name : item.parent + "/" + entry.name;
    if (entry.type == kTypeStream) {
      CfbStream stream;
      stream.path = std::move(path);
      stream.name = entry.name;
      stream.size = entry.size;
      stream.start_sector = entry.start;
      stream.in_mini_stream = entry.size < mini_cutoff_;
      streams_.push_back(std::move(stream));
    } else if (entry.type == kTypeStorage) {
      storages.push_back({entry.child, std::move(path)});
    }
  }
  return OkStatus();
}

void CfbReader::ReadMiniStream(std::uint64_t root_size, std::uint32_t root_start,
                               std::uint32_t first_minifat, std::uint32_t minifat_sectors) {
  if (root_size == 0) return;
  const std::uint64_t want = CeilDiv(root_size, sector_size_);
  if (want > sector_count_) {
    warnings_.push_back("mini stream is larger than the file");
  }
  Chain chain = Follow(fat_, root_start, std::min(want, sector_count_), sector_count_);
  if (!chain.problem.empty()) warnings_.push_back("mini stream: " + chain.problem);
  for (std::uint32_t id : chain.sectors) mini_stream_.append(Sector(id));
  if (mini_stream_.size() > root_size) mini_stream_.resize(root_size);

  Chain fat_chain = Follow(fat_, first_minifat, minifat_sectors, sector_count_);
  if (!fat_chain.problem.empty()) warnings_.push_back("mini FAT: " + fat_chain.problem);
  for (std::uint32_t id : fat_chain.sectors) {
    std::string_view sector = Sector(id);
    for (std::size_t j = 0; j + 4 <= sector.size(); j += 4) mini_fat_.push_back(Le32(sector, j));
  }
}

CfbStreamData CfbReader::ReadStream(const CfbStream& stream) const {
  CfbStreamData data;
  if (stream.size == 0) return data;
  const std::uint64_t unit = stream.in_mini_stream ? kMiniSectorSize : sector_size_;
  const std::uint64_t bound = stream.in_mini_stream ? CeilDiv(mini_stream_.size(), unit)
                                                    : sector_count_;
  std::uint64_t want = CeilDiv(stream.size, unit);
  if (want > bound) {
    data.problem = "stream is larger than the file can hold";
    want = bound;
  }
  Chain chain = Follow(stream.in_mini_stream ? mini_fat_ : fat_, stream.start_sector, want, bound);
  if (data.problem.empty()) data.problem = chain.problem;
  data.bytes.reserve(std::min<std::uint64_t>(stream.size, chain.sectors.size() * unit));
  for (std::uint32_t id : chain.sectors) {
    std::string_view sector;
    if (stream.in_mini_stream) {
      const std::uint64_t offset = static_cast<std::uint64_t>(id) * kMiniSectorSize;
      if (offset < mini_stream_.size()) {
        sector = std::string_view(mini_stream_).substr(offset, kMiniSectorSize);
      }
    } else {
      sector = Sector(id);
    }
    const std::uint64_t left = stream.size - data.bytes.size();
    data.bytes.append(sector.substr(0, std::min<std::uint64_t>(left, sector.size())));
    if (sector.size() < unit && data.bytes.size() < stream.size) {
      if (data.problem.empty()) data.problem = "stream is truncated by the end of the file";
      break;
    }
  }
  return data;
}

}  // namespace bulwark::unpackers::ole2
