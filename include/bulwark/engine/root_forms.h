#pragma once
// What one step of a scan built from the outermost object and a later step may reuse
// instead of building it again: the MIME unpacker's GMime parse of a mail, which the
// phishing assessor reads too. Each form is immutable and kept until the scan ends (it may
// point into the object's bytes, which live as long). One form per type.
//
// Thread safety: belongs to one scan, which runs on one thread.
// (C++17-clean: included by sources built as C++17 for qpdf's headers.)

#include <memory>
#include <typeindex>
#include <utility>
#include <vector>

namespace bulwark::engine {

class RootForms {
 public:
  // Keeps `form`, replacing an earlier form of the same type.
  template <typename T>
  void Keep(std::shared_ptr<const T> form) {
    const std::type_index type(typeid(T));
    for (auto& [kept_type, kept] : forms_) {
      if (kept_type == type) {
        kept = std::move(form);
        return;
      }
    }
    forms_.emplace_back(type, std::move(form));
  }

  // The kept form of type T, or null.
  template <typename T>
  std::shared_ptr<const T> Find() const {
    for (const auto& [type, form] : forms_) {
      if (type == std::type_index(typeid(T))) return std::static_pointer_cast<const T>(form);
    }
    return nullptr;
  }

 private:
  std::vector<std::pair<std::type_index, std::shared_ptr<const void>>> forms_;
};

}  // namespace bulwark::engine
