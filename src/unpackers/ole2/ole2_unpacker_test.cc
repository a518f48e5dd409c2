#include "unpackers/ole2/ole2_unpacker.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "test/support/test_support.h"
#include "unpackers/ole2/cfb_reader.h"
#include "unpackers/ole2/vba_project.h"

namespace bulwark::unpackers {
namespace {

using engine::Category;
using engine::Finding;
using engine::FindingList;
using engine::UnscannableReason;
using testing::CollectingChildSink;
using testing::Eicar;
using testing::HasFinding;

constexpr std::uint32_t kEnd = 0xFFFFFFFE;
constexpr std::uint32_t kFree = 0xFFFFFFFF;

void Put16(std::string& b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<char>(v & 0xFF);
  b[off + 1] = static_cast<char>(v >> 8);
}
void Put32(std::string& b, std::size_t off, std::uint32_t v) {
  Put16(b, off, static_cast<std::uint16_t>(v & 0xFFFF));
  Put16(b, off + 2, static_cast<std::uint16_t>(v >> 16));
}
std::string Le16(std::uint16_t v) {
  std::string b(2, '\0');
  Put16(b, 0, v);
  return b;
}
std::string Le32(std::uint32_t v) {
  std::string b(4, '\0');
  Put32(b, 0, v);
  return b;
}
std::string Utf16(const std::string& ascii) {
  std::string out;
  for (char c : ascii) out += std::string{c, '\0'};
  return out;
}

// A test-only CFB writer: version 3, 512-byte sectors, one FAT sector (files up to 64 KiB),
// one mini FAT sector; streams under 4096 bytes go to the mini stream as the format says.
// Siblings are chained through their right links (a valid, if unbalanced, tree).
class CfbBuilder {
 public:
  static constexpr int kRoot = 0;

  CfbBuilder() { nodes_.push_back({"Root Entry", 5, "", {}}); }
  int AddStorage(int parent, const std::string& name) { return Add(parent, name, 1, ""); }
  void AddStream(int parent, const std::string& name, const std::string& data) {
    Add(parent, name, 2, data);
  }

  std::string Build() {
    const std::uint32_t n = static_cast<std::uint32_t>(nodes_.size());
    const std::uint32_t dir_sectors = (n + 3) / 4;
    std::string mini;
    std::vector<std::uint32_t> mini_fat;
    std::vector<std::uint32_t> start(n, kEnd);
    for (std::uint32_t i = 1; i < n; ++i) {
      const std::string& data = nodes_[i].data;
      if (nodes_[i].type != 2 || data.empty() || data.size() >= 4096) continue;
      start[i] = static_cast<std::uint32_t>(mini.size() / 64);
      const std::uint32_t count = static_cast<std::uint32_t>((data.size() + 63) / 64);
      for (std::uint32_t k = 0; k < count; ++k) {
        mini_fat.push_back(k + 1 < count ? start[i] + k + 1 : kEnd);
      }
      mini += data;
      mini.resize((mini.size() + 63) / 64 * 64, '\0');
    }
    std::vector<std::uint32_t> fat = {0xFFFFFFFD, kEnd};  // FAT, mini FAT
    auto chain = [&fat](std::uint32_t count) {
      const std::uint32_t first = static_cast<std::uint32_t>(fat.size());
      for (std::uint32_t k = 0; k < count; ++k) fat.push_back(k + 1 < count ? first + k + 1 : kEnd);
      return count == 0 ? kEnd : first;
    };
    const std::uint32_t dir_start = chain(dir_sectors);
    start[0] = chain(static_cast<std::uint32_t>((mini.size() + 511) / 512));
    for (std::uint32_t i = 1; i < n; ++i) {
      const std::string& data = nodes_[i].data;
      if (nodes_[i].type == 2 && data.size() >= 4096) {
        start[i] = chain(static_cast<std::uint32_t>((data.size() + 511) / 512));
        start_of_[nodes_[i].name] = start[i];
      }
    }
    const std::uint32_t sectors = static_cast<std::uint32_t>(fat.size());
    fat.resize(128, kFree);
    mini_fat.resize(128, kFree);

    std::string out(512 * (1 + sectors), '\0');
    out.replace(0, 8, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    Put16(out, 0x18, 0x3E);
    Put16(out, 0x1A, 3);
    Put16(out, 0x1C, 0xFFFE);
    Put16(out, 0x1E, 9);
    Put16(out, 0x20, 6);
    Put32(out, 0x2C, 1);
    Put32(out, 0x30, dir_start);
    Put32(out, 0x38, 4096);
    Put32(out, 0x3C, 1);
    Put32(out, 0x40, 1);
    Put32(out, 0x44, kEnd);
    for (int i = 0; i < 109; ++i) Put32(out, 0x4C + 4 * i, i == 0 ? 0 : kFree);
    auto sector = [](std::uint32_t id) { return 512 * (static_cast<std::size_t>(id) + 1); };
    for (std::size_t i = 0; i < 128; ++i) Put32(out, sector(0) + 4 * i, fat[i]);
    for (std::size_t i = 0; i < 128; ++i) Put32(out, sector(1) + 4 * i, mini_fat[i]);
    for (std::uint32_t i = 0; i < dir_sectors * 4; ++i) {
      const std::size_t e = sector(dir_start) + 128 * (i % 4) + 512 * (i / 4);
      for (std::size_t k = 0x44; k < 0x50; k += 4) Put32(out, e + k, kFree);
      if (i >= n) continue;
      const Node& node = nodes_[i];
      std::string name = Utf16(node.name);
      out.replace(e, name.size(), name);
      Put16(out, e + 0x40, static_cast<std::uint16_t>(name.size() + 2));
      out[e + 0x42] = static_cast<char>(node.type);
      out[e + 0x43] = 1;  // black
      Put32(out, e + 0x48, next_sibling_[i]);
      Put32(out, e + 0x4C, node.children.empty() ? kFree : node.children.front());
      Put32(out, e + 0x74, start[i]);
      Put32(out, e + 0x78, static_cast<std::uint32_t>(i == 0 ? mini.size() : node.data.size()));
    }
    for (std::size_t k = 0; k < mini.size(); ++k) out[sector(start[0]) + k] = mini[k];
    for (std::uint32_t i = 1; i < n; ++i) {
      if (nodes_[i].type == 2 && nodes_[i].data.size() >= 4096) {
        out.replace(sector(start[i]), nodes_[i].data.size(), nodes_[i].data);
      }
    }
    return out;
  }

  // First sector of a regular (>= 4096 bytes) stream, after Build().
  std::uint32_t StartOf(const std::string& name) const { return start_of_.at(name); }

 private:
  struct Node {
    std::string name;
    int type;
    std::string data;
    std::vector<std::uint32_t> children;
  };
  int Add(int parent, const std::string& name, int type, const std::string& data) {
    const std::uint32_t index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back({name, type, data, {}});
    next_sibling_.resize(nodes_.size(), kFree);
    auto& siblings = nodes_[parent].children;
    if (!siblings.empty()) next_sibling_[siblings.back()] = index;
    siblings.push_back(index);
    return static_cast<int>(index);
  }
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> next_sibling_ = {kFree};
  std::map<std::string, std::uint32_t> start_of_;
};

// An MS-OVBA CompressedContainer of literal-only compressed chunks (flag bytes of 0).
std::string CompressLiteral(const std::string& data) {
  std::string out = "\x01";
  for (std::size_t pos = 0; pos < data.size(); pos += 3000) {
    const std::string block = data.substr(pos, 3000);
    std::string chunk;
    for (std::size_t i = 0; i < block.size(); i += 8) chunk += '\0' + block.substr(i, 8);
    out += Le16(static_cast<std::uint16_t>(0xB000 | (chunk.size() + 2 - 3))) + chunk;
  }
  return out;
}

std::string Record(std::uint16_t id, const std::string& data) {
  return Le16(id) + Le32(static_cast<std::uint32_t>(data.size())) + data;
}

// A decompressed "dir" stream describing `modules` (name == stream name) at `offset`.
std::string VbaDir(const std::vector<std::string>& modules, std::uint32_t offset) {
  std::string dir = Record(0x0001, Le32(1)) + Record(0x0002, Le32(0x409));
  dir += Le16(0x0009) + Le32(4) + Le32(0x5A9A1D3C) + Le16(6);  // PROJECTVERSION quirk
  dir += Record(0x000F, Le16(static_cast<std::uint16_t>(modules.size())));
  dir += Record(0x0013, Le16(0xFFFF));
  for (const std::string& name : modules) {
    dir += Record(0x0019, name) + Record(0x0047, Utf16(name));
    dir += Record(0x001A, name) + Record(0x0032, Utf16(name));
    dir += Record(0x001C, "") + Record(0x0048, "");
    dir += Record(0x0031, Le32(offset)) + Record(0x001E, Le32(0)) + Record(0x002C, Le16(0xFFFF));
    dir += Record(0x0021, "") + Record(0x002B, "");
  }
  return dir + Record(0x0010, "");
}

std::string MacroSource() {
  return "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  MsgBox \"" + Eicar() +
         "\"\r\nEnd Sub\r\n";
}

// A Word-like file with a VBA project in Macros/VBA whose Module1 holds MacroSource().
std::string MacroDocument() {
  CfbBuilder cfb;
  cfb.AddStream(CfbBuilder::kRoot, "WordDocument", std::string(600, 'w'));
  int macros = cfb.AddStorage(CfbBuilder::kRoot, "Macros");
  int vba = cfb.AddStorage(macros, "VBA");
  const std::string pcode(100, '\x7F');
  cfb.AddStream(vba, "dir", CompressLiteral(VbaDir({"Module1"}, 100)));
  cfb.AddStream(vba, "Module1", pcode + CompressLiteral(MacroSource()));
  cfb.AddStream(vba, "_VBA_PROJECT", std::string("\xCC\x61\xFF\xFF\x00\x00\x00", 7));
  cfb.AddStream(vba, "Empty", "");
  cfb.AddStream(macros, "PROJECT", "ID=\"{00000000}\"\r\nModule=Module1\r\n");
  return cfb.Build();
}

struct Outcome {
  std::vector<testing::Member> children;
  std::vector<Finding> findings;
  Status status;
};

Outcome RunUnpacker(const std::string& bytes, const engine::Limits& limits = engine::Limits(),
            std::size_t capacity = static_cast<std::size_t>(-1)) {
  engine::UnpackerPtr unpacker = CreateOle2Unpacker();
  content::Object object;
  object.info.name = "test.doc";
  object.info.type.kind = content::FileKind::kOle2;
  object.info.size = bytes.size();
  object.data = content::Blob::Copy(bytes);
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  CollectingChildSink children(capacity);
  FindingList findings;
  Outcome outcome;
  outcome.status = unpacker->Unpack(object, ctx, children, findings);
  outcome.children = std::move(children.children);
  outcome.findings = std::move(findings.findings());
  return outcome;
}

const testing::Member* Child(const Outcome& outcome, const std::string& name) {
  for (const auto& child : outcome.children) {
    if (child.name == name) return &child;
  }
  return nullptr;
}

std::string Names(const Outcome& outcome) {
  std::string names;
  for (const auto& child : outcome.children) names += "[" + child.name + "] ";
  for (const auto& finding : outcome.findings) names += "{" + finding.detail + "} ";
  return names;
}

TEST(VbaDecompressTest, DecompressesCopyTokens) {
  // abc + copy token (offset 3, length 9).
  std::string container("\x01\x05\xB0\x08" "abc" "\x06\x20", 9);
  Result<std::string> out = ole2::DecompressVba(container, 1000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "abcabcabcabc");
}

TEST(VbaDecompressTest, DecompressesSpecExample) {
  // [MS-OVBA] 3.2.3: a container with literals and copy tokens.
  const unsigned char bytes[] = {
      0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61, 0x61, 0x62, 0x63, 0x64, 0x65, 0x82, 0x66, 0x00,
      0x70, 0x61, 0x67, 0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B, 0x6C, 0x00, 0x30, 0x6D,
      0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10, 0x72, 0x73, 0x74, 0x75, 0x76, 0x10,
      0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C};
  Result<std::string> out =
      ole2::DecompressVba(std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)), 1000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa");
}

TEST(VbaDecompressTest, RejectsMalformedAndCapsOutput) {
  EXPECT_EQ(ole2::DecompressVba("", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ole2::DecompressVba("\x02", 100).status().code(), StatusCode::kInvalidArgument);
  // Bad chunk signature.
  EXPECT_EQ(ole2::DecompressVba(std::string("\x01\x05\x00\x00", 4), 100).status().code(),
            StatusCode::kInvalidArgument);
  // A copy token before any literal reaches before its chunk.
  EXPECT_EQ(ole2::DecompressVba(std::string("\x01\x02\xB0\x01\x00\x00", 6), 100).status().code(),
            StatusCode::kInvalidArgument);
  // abc then a run of 4095 bytes... capped at 10 bytes of output.
  std::string run("\x01\x05\xB0\x08" "abc" "\xFF\x2F", 9);
  EXPECT_EQ(ole2::DecompressVba(run, 10).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ole2::DecompressVba(CompressLiteral(std::string(5000, 'x')), 4999).status().code(),
            StatusCode::kResourceExhausted);
  Result<std::string> big = ole2::DecompressVba(CompressLiteral(std::string(7000, 'x')), 7000);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, std::string(7000, 'x'));
}

TEST(VbaDirTest, ParsesModulesAfterProjectVersionQuirk) {
  Result<std::vector<ole2::VbaModule>> modules =
      ole2::ParseVbaDir(VbaDir({"Module1", "ThisDocument"}, 42));
  ASSERT_TRUE(modules.ok());
  ASSERT_EQ(modules->size(), 2u);
  EXPECT_EQ((*modules)[0].name, "Module1");
  EXPECT_EQ((*modules)[1].stream_name, "ThisDocument");
  EXPECT_EQ((*modules)[1].text_offset, 42u);
  EXPECT_FALSE(ole2::ParseVbaDir(Le16(1) + Le32(1000) + "xx").ok());
}

TEST(Ole2UnpackerTest, AcceptsOnlyOle2) {
  engine::UnpackerPtr unpacker = CreateOle2Unpacker();
  content::ObjectInfo info;
  info.type.kind = content::FileKind::kOle2;
  EXPECT_TRUE(unpacker->Accepts(info));
  info.type.kind = content::FileKind::kZip;
  EXPECT_FALSE(unpacker->Accepts(info));
  EXPECT_EQ(unpacker->Name(), "ole2");
}

TEST(Ole2UnpackerTest, EmitsDecompressedModuleSourceAndOtherStreams) {
  Outcome outcome = RunUnpacker(MacroDocument());
  ASSERT_TRUE(outcome.status.ok());
  EXPECT_TRUE(outcome.findings.empty()) << Names(outcome);
  const testing::Member* module = Child(outcome, "VBA/Module1.vba");
  ASSERT_NE(module, nullptr) << Names(outcome);
  EXPECT_EQ(module->bytes, MacroSource());
  EXPECT_EQ(outcome.children.front().name, "VBA/Module1.vba");  // modules first
  ASSERT_NE(Child(outcome, "WordDocument"), nullptr);
  EXPECT_EQ(Child(outcome, "WordDocument")->bytes, std::string(600, 'w'));
  EXPECT_NE(Child(outcome, "Macros/VBA/dir"), nullptr);
  EXPECT_NE(Child(outcome, "Macros/VBA/_VBA_PROJECT"), nullptr);
  EXPECT_NE(Child(outcome, "Macros/PROJECT"), nullptr);
  EXPECT_EQ(Child(outcome, "Macros/VBA/Module1"), nullptr);  // emitted as source instead
  EXPECT_EQ(Child(outcome, "Macros/VBA/Empty"), nullptr);
}

TEST(Ole2UnpackerTest, ReadsRegularSectorStreams) {
  CfbBuilder cfb;
  std::string big;
  for (int i = 0; i < 900; ++i) big += "line " + std::to_string(i) + "\n";
  cfb.AddStream(CfbBuilder::kRoot, "Workbook", big);
  Outcome outcome = RunUnpacker(cfb.Build());
  ASSERT_NE(Child(outcome, "Workbook"), nullptr) << Names(outcome);
  EXPECT_EQ(Child(outcome, "Workbook")->bytes, big);
  EXPECT_TRUE(outcome.findings.empty()) << Names(outcome);
}

TEST(Ole2UnpackerTest, BrokenModuleSourceIsReportedAndRawStreamEmitted) {
  CfbBuilder cfb;
  int vba = cfb.AddStorage(cfb.AddStorage(CfbBuilder::kRoot, "Macros"), "VBA");
  cfb.AddStream(vba, "dir", CompressLiteral(VbaDir({"Module1", "Missing"}, 10)));
  cfb.AddStream(vba, "Module1", std::string(10, 'p') + "\x07garbage");
  Outcome outcome = RunUnpacker(cfb.Build());
  EXPECT_TRUE(HasFinding(outcome.findings, Category::kUnscannable, UnscannableReason::kMalformed));
  EXPECT_NE(Child(outcome, "Macros/VBA/Module1"), nullptr) << Names(outcome);
  EXPECT_EQ(Child(outcome, "VBA/Module1.vba"), nullptr);
}

TEST(Ole2UnpackerTest, MalformedHeadersAreFindings) {
  std::string good = MacroDocument();
  std::vector<std::string> bad;
  bad.push_back(good.substr(0, 100));                      // shorter than a header
  bad.push_back(std::string(good).replace(0x1C, 2, "\x00\x00", 2));  // byte order
  bad.push_back(std::string(good).replace(0x1E, 2, "\x20\x00", 2));  // sector shift 32
  std::string fat_outside = good;
  Put32(fat_outside, 0x4C, 5000);  // FAT sector outside the file
  bad.push_back(fat_outside);
  std::string many_fats = good;
  Put32(many_fats, 0x2C, 0x7FFFFFFF);  // more FAT sectors than the file holds
  bad.push_back(many_fats);
  std::string no_dir = good;
  Put32(no_dir, 0x30, kEnd);
  bad.push_back(no_dir);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    Outcome outcome = RunUnpacker(bad[i]);
    EXPECT_TRUE(outcome.status.ok());
    EXPECT_TRUE(HasFinding(outcome.findings, Category::kUnscannable, UnscannableReason::kMalformed))
        << "case " << i;
    EXPECT_TRUE(outcome.children.empty()) << "case " << i;
  }
}

TEST(Ole2UnpackerTest, FatLoopsAndOutOfRangeSectorsAreFindings) {
  CfbBuilder cfb;
  cfb.AddStream(CfbBuilder::kRoot, "Big", std::string(5000, 'b'));
  cfb.AddStream(CfbBuilder::kRoot, "Small", "small stream");
  std::string good = cfb.Build();
  const std::uint32_t first = cfb.StartOf("Big");
  const std::size_t fat = 512;

  std::string loop = good;
  Put32(loop, fat + 4 * (first + 2), first);  // third sector points back to the first
  Outcome looped = RunUnpacker(loop);
  EXPECT_TRUE(HasFinding(looped.findings, Category::kUnscannable, UnscannableReason::kMalformed));
  ASSERT_NE(Child(looped, "Big"), nullptr) << Names(looped);
  EXPECT_EQ(Child(looped, "Big")->bytes, std::string(3 * 512, 'b'));  // what was readable
  EXPECT_NE(Child(looped, "Small"), nullptr);

  std::string self = good;
  Put32(self, fat + 4 * first, first);
  Outcome self_loop = RunUnpacker(self);
  EXPECT_TRUE(HasFinding(self_loop.findings, Category::kUnscannable, UnscannableReason::kMalformed));

  std::string outside = good;
  Put32(outside, fat + 4 * first, 100);  // inside the FAT, past the end of the file
  Outcome past_end = RunUnpacker(outside);
  EXPECT_TRUE(HasFinding(past_end.findings, Category::kUnscannable, UnscannableReason::kMalformed));

  std::string beyond = good;
  Put32(beyond, fat + 4 * first, 0x00FFFFFF);  // outside the FAT
  Outcome beyond_fat = RunUnpacker(beyond);
  EXPECT_TRUE(
      HasFinding(beyond_fat.findings, Category::kUnscannable, UnscannableReason::kMalformed));

  std::string dir_loop = good;
  const std::uint32_t dir_sector = 2;
  Put32(dir_loop, fat + 4 * dir_sector, dir_sector);
  Outcome dir_looped = RunUnpacker(dir_loop);
  EXPECT_TRUE(
      HasFinding(dir_looped.findings, Category::kUnscannable, UnscannableReason::kMalformed));

  // Every byte of the header area corrupted in turn: never a crash.
  for (std::size_t off = 0x18; off < 0x80; ++off) {
    std::string mutated = good;
    mutated[off] = static_cast<char>(mutated[off] ^ 0xA5);
    Outcome outcome = RunUnpacker(mutated);
    EXPECT_TRUE(outcome.status.ok());
  }
}

TEST(Ole2UnpackerTest, OversizedStreamIsReportedAndSkipped) {
  CfbBuilder cfb;
  cfb.AddStream(CfbBuilder::kRoot, "Big", std::string(5000, 'b'));
  cfb.AddStream(CfbBuilder::kRoot, "Small", "small");
  engine::Limits limits;
  limits.max_object_bytes = 1000;
  Outcome outcome = RunUnpacker(cfb.Build(), limits);
  EXPECT_EQ(Child(outcome, "Big"), nullptr);
  EXPECT_NE(Child(outcome, "Small"), nullptr);
  bool found = false;
  for (const Finding& finding : outcome.findings) {
    if (finding.reason == UnscannableReason::kObjectSizeLimit &&
        finding.path == content::ObjectPath({"Big"})) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << Names(outcome);
}

TEST(Ole2UnpackerTest, OversizedModuleSourceIsReported) {
  engine::Limits limits;
  limits.max_object_bytes = 80;  // the source is longer; the streams are shorter
  Outcome outcome = RunUnpacker(MacroDocument(), limits);
  EXPECT_EQ(Child(outcome, "VBA/Module1.vba"), nullptr);
  EXPECT_TRUE(HasFinding(outcome.findings, Category::kUnscannable,
                         UnscannableReason::kObjectSizeLimit))
      << Names(outcome);
}

TEST(Ole2UnpackerTest, EncryptedDocumentsAreFindings) {
  CfbBuilder agile;
  agile.AddStream(CfbBuilder::kRoot, "EncryptionInfo", std::string(200, 'i'));
  agile.AddStream(CfbBuilder::kRoot, "EncryptedPackage", std::string(300, 'p'));
  Outcome outcome = RunUnpacker(agile.Build());
  EXPECT_TRUE(HasFinding(outcome.findings, Category::kUnscannable, UnscannableReason::kEncrypted));
  EXPECT_EQ(Child(outcome, "EncryptedPackage"), nullptr);

  std::string fib(64, '\0');
  Put16(fib, 0, 0xA5EC);
  Put16(fib, 0x0A, 0x0100);
  CfbBuilder word;
  word.AddStream(CfbBuilder::kRoot, "WordDocument", fib);
  EXPECT_TRUE(HasFinding(RunUnpacker(word.Build()).findings, Category::kUnscannable,
                         UnscannableReason::kEncrypted));

  std::string biff = Le16(0x0809) + Le16(4) + "abcd" + Le16(0x002F) + Le16(2) + "xy";
  CfbBuilder excel;
  excel.AddStream(CfbBuilder::kRoot, "Workbook", biff);
  EXPECT_TRUE(HasFinding(RunUnpacker(excel.Build()).findings, Category::kUnscannable,
                         UnscannableReason::kEncrypted));

  std::string plain_biff = Le16(0x0809) + Le16(4) + "abcd" + Le16(0x000A) + Le16(0);
  CfbBuilder clean;
  clean.AddStream(CfbBuilder::kRoot, "Workbook", plain_biff);
  EXPECT_TRUE(RunUnpacker(clean.Build()).findings.empty());
}

TEST(Ole2UnpackerTest, PowerPointEmbeddedStorageIsInflated) {
  std::string inner = MacroDocument();
  uLongf packed_size = compressBound(inner.size());
  std::string packed(packed_size, '\0');
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                     reinterpret_cast<const Bytef*>(inner.data()), inner.size()),
            Z_OK);
  packed.resize(packed_size);
  std::string body = Le32(static_cast<std::uint32_t>(inner.size())) + packed;
  std::string stream = Le16(0x0F) + Le16(0x03E8) + Le32(0);  // an empty container first
  const std::size_t offset = stream.size();
  stream += Le16(0x0010) + Le16(0x1011) + Le32(static_cast<std::uint32_t>(body.size())) + body;
  CfbBuilder cfb;
  cfb.AddStream(CfbBuilder::kRoot, "PowerPoint Document", stream);
  Outcome outcome = RunUnpacker(cfb.Build());
  const testing::Member* storage =
      Child(outcome, "PowerPoint Document/ExOleObjStg-" + std::to_string(offset));
  ASSERT_NE(storage, nullptr) << Names(outcome);
  EXPECT_EQ(storage->bytes, inner);
  EXPECT_NE(Child(outcome, "PowerPoint Document"), nullptr);
}

TEST(Ole2UnpackerTest, StopsWhenTheSinkRefuses) {
  Outcome outcome = RunUnpacker(MacroDocument(), engine::Limits(), 1);
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.children.size(), 1u);
}

TEST(Ole2UnpackerTest, ExpiredDeadlineIsATimeLimitFinding) {
  engine::Limits limits;
  limits.max_scan_time = std::chrono::milliseconds(0);
  Outcome outcome = RunUnpacker(MacroDocument(), limits);
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_TRUE(outcome.children.empty());
  EXPECT_TRUE(
      HasFinding(outcome.findings, Category::kUnscannable, UnscannableReason::kTimeLimit));
}

// Writes a few seeds for fuzz/corpus/ole2/ when BULWARK_WRITE_FUZZ_SEEDS names a folder.
// --- corpus ---------------------------------------------------------------------------

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool IsOle2(const std::string& bytes) { return bytes.rfind("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 0) == 0; }

struct Unpacked {
  std::vector<std::string> names;
  std::string vba_source;  // all module sources, concatenated
  std::vector<Finding> findings;
  bool has_vba_dir = false;
};

// Unpacks like the engine would: recursing into children that are OLE2 files themselves.
void UnpackDeep(const std::string& bytes, int depth, Unpacked& out) {
  Outcome outcome = RunUnpacker(bytes);
  EXPECT_TRUE(outcome.status.ok());
  out.findings.insert(out.findings.end(), outcome.findings.begin(), outcome.findings.end());
  for (const auto& child : outcome.children) {
    out.names.push_back(child.name);
    if (child.name.rfind("VBA/", 0) == 0) out.vba_source += child.bytes;
    const std::string suffix = "VBA/dir";
    if (child.name.size() >= suffix.size() &&
        child.name.compare(child.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.has_vba_dir = true;
    }
    if (depth < 3 && IsOle2(child.bytes)) UnpackDeep(child.bytes, depth + 1, out);
  }
}

bool HasVbaChild(const Unpacked& unpacked) {
  for (const auto& name : unpacked.names) {
    if (name.rfind("VBA/", 0) == 0 && name.size() > 4 && name.find(".vba") != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(Ole2CorpusTest, EicarAndOletoolsSamples) {
  const std::filesystem::path corpus = testing::CorpusDir();
  if (corpus.empty()) GTEST_SKIP() << "shared corpus (../shared/corpus) is absent";
  std::vector<std::filesystem::path> files;
  const std::filesystem::path eicar = corpus / "eicar-test-files";
  const std::filesystem::path oletools = corpus / "oletools-test-data";
  std::error_code ec;
  for (const auto& root : {eicar, oletools}) {
    if (!std::filesystem::is_directory(root, ec)) continue;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
  }
  if (files.empty()) GTEST_SKIP() << "no eicar-test-files or oletools-test-data in " << corpus;
  std::sort(files.begin(), files.end());

  int ole_files = 0, with_macros = 0, with_vba_children = 0, encrypted = 0, malformed = 0;
  bool eicar_seen = false;
  for (const auto& path : files) {
    const std::string ext = path.extension().string();
    const bool in_eicar = path.parent_path() == eicar;
    // Only plain OLE2 files: the zips there are password-protected archives of samples.
    if (in_eicar && ext != ".doc" && ext != ".xls" && ext != ".ppt") continue;
    const std::string bytes = ReadAll(path);
    if (!IsOle2(bytes)) continue;
    ++ole_files;
    Unpacked unpacked;
    UnpackDeep(bytes, 0, unpacked);
    const bool vba = HasVbaChild(unpacked);
    const std::string file = path.filename().string();
    const bool expect_macros =
        unpacked.has_vba_dir || (in_eicar && file.find("-macro-") != std::string::npos) ||
        file == "sample_with_vba.ppt";
    if (expect_macros) {
      ++with_macros;
      EXPECT_TRUE(vba) << path << " has macros but yielded no VBA/*.vba child";
    }
    if (vba) ++with_vba_children;
    if (HasFinding(unpacked.findings, Category::kUnscannable, UnscannableReason::kEncrypted)) {
      ++encrypted;
    }
    if (HasFinding(unpacked.findings, Category::kUnscannable, UnscannableReason::kMalformed)) {
      ++malformed;
      std::cout << "[ malformed ] " << path.filename();
      for (const auto& f : unpacked.findings) std::cout << " {" << f.detail << "}";
      std::cout << "\n";
    }
    if (path.parent_path().filename() == "encrypted") {
      EXPECT_TRUE(
          HasFinding(unpacked.findings, Category::kUnscannable, UnscannableReason::kEncrypted))
          << path << " is encrypted but no kEncrypted finding";
    }
    if (file == "eicar-word-macro-msgbox.doc") {
      eicar_seen = true;
      // The sample's macro splits the string in two literals ("…)7C" + "C)7}$EICAR…")
      // joined at run time, so the source holds both halves rather than the whole.
      const std::string eicar_string = Eicar();
      EXPECT_NE(unpacked.vba_source.find(eicar_string.substr(0, 23)), std::string::npos)
          << "first half of the EICAR string missing from the macro source";
      EXPECT_NE(unpacked.vba_source.find(eicar_string.substr(23)), std::string::npos)
          << "second half of the EICAR string missing from the macro source";
    }
  }
  std::cout << "[ ole2 corpus ] " << ole_files << " OLE2 files, " << with_macros
            << " with macros, " << with_vba_children << " yielded VBA source, " << encrypted
            << " encrypted, " << malformed << " with malformed findings\n";
  EXPECT_GT(ole_files, 0);
  if (std::filesystem::is_directory(eicar, ec)) {
    EXPECT_TRUE(eicar_seen);
  }
}

}  // namespace
}  // namespace bulwark::unpackers
