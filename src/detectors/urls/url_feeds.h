#pragma once
// Local URL reputation: block feeds and allow lists read from the signature directories,
// in the formats public feeds publish. Built on every engine (re)load and then read-only.
// See docs/urls.md for the directory layout and formats.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulwark/common/result.h"
#include "detectors/urls/url.h"

namespace bulwark::urls {

enum class FeedThreat { kPhishing, kMalware };

// Where a blocked URL was listed.
struct FeedHit {
  FeedThreat threat = FeedThreat::kPhishing;
  std::string_view feed;  // the feed file's name; valid while the UrlReputation lives
  bool by_domain = false;  // listed as a domain rather than as this URL
};

// Thread safety: const methods may be called from any number of threads at once.
class UrlReputation {
 public:
  enum class List { kBlock, kAllow };

  // Adds the entries of one feed file. The format comes from `file_name`'s extension:
  //  - ".urls": one URL a line ("www.x.example/p" and "x.example/p" read as http);
  //  - ".domains": one domain a line ("*.x.example" and ".x.example" too), or hosts-file
  //    lines ("0.0.0.0 x.example y.example");
  //  - ".csv": URLhaus ("# id,dateadded,url,url_status,…,threat,…" comment header, quoted
  //    fields), PhishTank ("phish_id,url,…" header) or any CSV whose header names a "url"
  //    column; without a header, the first field with "://" in it.
  // '#' starts a comment line (and, in .domains, a comment after an entry); blank lines are
  // skipped. Block feeds are malware feeds when they are URLhaus CSV, have a "threat" column
  // saying malware, or have "malware" in their file name; else phishing feeds. Lines that do
  // not parse are skipped and counted in malformed_lines(); they never fail the load.
  void AddFeed(List list, std::string_view text, std::string_view file_name);

  // Reads every *.urls, *.domains and *.csv file of <dir>/urls/block/ (block feeds) and
  // <dir>/urls/allow/ (allow lists) for each of `directories`, in order; a directory without
  // them is skipped. Fails only when a file exists but cannot be read.
  static Result<UrlReputation> Load(const std::vector<std::filesystem::path>& directories);

  // The block feed entry that lists `url` (the URL under any scheme, or its host or a parent
  // domain of it), or nullopt.
  std::optional<FeedHit> Blocked(const Url& url) const;
  // True when an allow list names `url` (under any scheme) or its host or a parent domain.
  bool Allowed(const Url& url) const;

  std::size_t block_entries() const { return block_urls_.size() + block_domains_.size(); }
  std::size_t allow_entries() const { return allow_urls_.size() + allow_domains_.size(); }
  std::size_t malformed_lines() const { return malformed_lines_; }

 private:
  struct Feed {
    std::string name;
    FeedThreat threat;
  };
  using Index = std::unordered_map<std::string, std::uint32_t>;  // key → index in feeds_

  void AddUrl(List list, std::string_view text, std::uint32_t feed);
  void AddDomain(List list, std::string_view text, std::uint32_t feed);
  void AddCsv(List list, std::string_view text, std::uint32_t feed);
  // The index entry for `url` in `urls` or `domains`; by_domain tells which matched.
  static const std::uint32_t* Find(const Index& urls, const Index& domains, const Url& url,
                                   bool& by_domain);

  // Constant after loading.
  std::vector<Feed> feeds_;
  Index block_urls_;  // normalised URL without "scheme://"
  Index block_domains_;
  Index allow_urls_;
  Index allow_domains_;
  std::size_t malformed_lines_ = 0;
};

}  // namespace bulwark::urls
