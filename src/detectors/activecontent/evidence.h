#pragma once
// Evidence: the keywords a scanner matched, in first-seen order, without duplicates. Each
// entry is a view into one of the scanners' own constant tables, never into the content,
// so evidence can be put into a finding's detail as is.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::detectors::activecontent {

class Evidence {
 public:
  // Bounded: a hostile object repeating keywords cannot grow the list past the tables.
  void Add(std::string_view keyword) {
    if (std::find(items_.begin(), items_.end(), keyword) == items_.end()) {
      items_.push_back(keyword);
    }
  }
  bool empty() const { return items_.empty(); }
  bool Has(std::string_view keyword) const {
    return std::find(items_.begin(), items_.end(), keyword) != items_.end();
  }
  const std::vector<std::string_view>& items() const { return items_; }
  // "a, b, c".
  std::string Join() const {
    std::string out;
    for (std::string_view item : items_) {
      if (!out.empty()) out += ", ";
      out += item;
    }
    return out;
  }

 private:
  std::vector<std::string_view> items_;
};

}  // namespace bulwark::detectors::activecontent
