#include "detectors/urls/url_feeds.h"

#include "bulwark/common/text.h"
#include "detectors/common/signature_files.h"
#include "detectors/urls/ascii.h"

namespace bulwark::urls {
namespace {

// Calls `line` for each line of `text` (CR LF or LF), trimmed, skipping blank lines.
template <typename F>
void ForEachLine(std::string_view text, F line) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = TrimSpace(text.substr(start, end - start));
    if (!l.empty()) line(l);
    start = end + 1;
  }
}

// The fields of one CSV line (RFC 4180 quoting; "" inside quotes is one quote).
std::vector<std::string> CsvFields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  for (auto& field : fields) field = std::string(TrimSpace(field));
  return fields;
}

bool ContainsCaseless(std::string_view text, std::string_view lower_needle) {
  return AsciiLower(text).find(lower_needle) != std::string::npos;
}

std::optional<Url> ParseEntryUrl(std::string_view text) {
  if (text.find("://") == std::string_view::npos) return ParseUrl("http://" + std::string(text));
  return ParseUrl(text);
}

std::string SchemelessKey(const Url& url) {
  std::string key = url.host;
  if (!url.port.empty()) key += ":" + url.port;
  key += url.path;
  if (!url.query.empty()) key += "?" + url.query;
  return key;
}

}  // namespace

void UrlReputation::AddUrl(List list, std::string_view text, std::uint32_t feed) {
  auto url = ParseEntryUrl(text);
  if (!url) {
    ++malformed_lines_;
    return;
  }
  (list == List::kBlock ? block_urls_ : allow_urls_).emplace(SchemelessKey(*url), feed);
}

void UrlReputation::AddDomain(List list, std::string_view text, std::uint32_t feed) {
  if (text.starts_with("*.")) text.remove_prefix(2);
  if (text.starts_with(".")) text.remove_prefix(1);
  auto host = NormaliseHost(text);
  if (!host) {
    ++malformed_lines_;
    return;
  }
  (list == List::kBlock ? block_domains_ : allow_domains_).emplace(std::move(*host), feed);
}

void UrlReputation::AddCsv(List list, std::string_view text, std::uint32_t feed) {
  std::optional<std::size_t> url_column;
  std::optional<std::size_t> threat_column;
  auto read_header = [&](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::string name = AsciiLower(fields[i]);
      if (name == "url") url_column = i;
      if (name == "threat") threat_column = i;
    }
  };
  bool first_data_line = true;
  ForEachLine(text, [&](std::string_view line) {
    if (line.front() == '#') {
      // URLhaus names its columns in a comment: "# id,dateadded,url,url_status,…".
      std::string_view comment = TrimSpace(line.substr(1));
      if (!url_column && ContainsCaseless(comment, "url") && comment.find(',') != comment.npos) {
        read_header(CsvFields(comment));
        if (url_column && ContainsCaseless(comment, "dateadded")) {
          feeds_[feed].threat = FeedThreat::kMalware;
        }
      }
      return;
    }
    std::vector<std::string> fields = CsvFields(line);
    if (first_data_line && !url_column) {
      first_data_line = false;
      read_header(fields);
      if (url_column) return;  // "phish_id,url,…"
    }
    first_data_line = false;
    std::string_view url;
    if (url_column) {
      if (*url_column < fields.size()) url = fields[*url_column];
    } else {
      for (const auto& field : fields) {
        if (field.find("://") != std::string::npos) {
          url = field;
          break;
        }
      }
    }
    if (url.empty()) {
      ++malformed_lines_;
      return;
    }
    AddUrl(list, url, feed);
    if (threat_column && *threat_column < fields.size() &&
        ContainsCaseless(fields[*threat_column], "malware")) {
      feeds_[feed].threat = FeedThreat::kMalware;
    }
  });
}

void UrlReputation::AddFeed(List list, std::string_view text, std::string_view file_name) {
  const std::string name = AsciiLower(file_name);
  const auto feed = static_cast<std::uint32_t>(feeds_.size());
  feeds_.push_back(Feed{std::string(file_name), name.find("malware") != std::string::npos
                                                    ? FeedThreat::kMalware
                                                    : FeedThreat::kPhishing});
  if (name.ends_with(".csv")) {
    AddCsv(list, text, feed);
    return;
  }
  const bool domains = name.ends_with(".domains");
  ForEachLine(text, [&](std::string_view line) {
    if (line.front() == '#') return;
    if (!domains) {
      AddUrl(list, line, feed);
      return;
    }
    line = TrimSpace(line.substr(0, line.find('#')));
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) {
      AddDomain(list, line, feed);
      return;
    }
    // A hosts file line: an address, then names.
    HostKind kind = HostKind::kDomain;
    std::string_view address = line.substr(0, space);
    if (!NormaliseHost(address, &kind) || kind == HostKind::kDomain) {
      ++malformed_lines_;
      return;
    }
    std::string_view names = line.substr(space);
    while (!(names = TrimSpace(names)).empty()) {
      std::size_t end = names.find_first_of(" \t");
      std::string_view one = names.substr(0, end);
      if (one != "localhost" && one != "localhost.localdomain" && one != "local" &&
          one != "broadcasthost" && one != address) {
        AddDomain(list, one, feed);
      }
      if (end == std::string_view::npos) break;
      names.remove_prefix(end);
    }
  });
}

Result<UrlReputation> UrlReputation::Load(const std::vector<std::filesystem::path>& directories) {
  UrlReputation reputation;
  for (const auto& dir : directories) {
    for (auto [sub, list] : {std::pair{"block", List::kBlock}, std::pair{"allow", List::kAllow}}) {
      for (const auto& file : detectors::ListSignatureFiles({dir / "urls" / sub},
                                                            {".urls", ".domains", ".csv"})) {
        BULWARK_ASSIGN_OR_RETURN(std::string text, detectors::ReadSignatureFile(file));
        reputation.AddFeed(list, text, file.filename().string());
      }
    }
  }
  return reputation;
}

const std::uint32_t* UrlReputation::Find(const Index& urls, const Index& domains, const Url& url,
                                         bool& by_domain) {
  by_domain = false;
  if (!urls.empty()) {
    if (auto it = urls.find(SchemelessKey(url)); it != urls.end()) return &it->second;
  }
  if (domains.empty()) return nullptr;
  by_domain = true;
  std::string_view host = url.host;
  while (true) {
    if (auto it = domains.find(std::string(host)); it != domains.end()) return &it->second;
    const std::size_t dot = host.find('.');
    if (url.host_kind != HostKind::kDomain || dot == std::string_view::npos) return nullptr;
    host.remove_prefix(dot + 1);
  }
}

std::optional<FeedHit> UrlReputation::Blocked(const Url& url) const {
  bool by_domain = false;
  const std::uint32_t* feed = Find(block_urls_, block_domains_, url, by_domain);
  if (feed == nullptr) return std::nullopt;
  return FeedHit{feeds_[*feed].threat, feeds_[*feed].name, by_domain};
}

bool UrlReputation::Allowed(const Url& url) const {
  bool by_domain = false;
  return Find(allow_urls_, allow_domains_, url, by_domain) != nullptr;
}

}  // namespace bulwark::urls
