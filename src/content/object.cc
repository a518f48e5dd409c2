#include "bulwark/content/object.h"

namespace bulwark::content {

ObjectPath ObjectPath::Child(std::string name) const {
  ObjectPath child = *this;
  child.parts_.push_back(std::move(name));
  return child;
}

ObjectPath ObjectPath::PrefixedWith(const ObjectPath& prefix) const {
  ObjectPath result = prefix;
  result.parts_.insert(result.parts_.end(), parts_.begin(), parts_.end());
  return result;
}

std::string ObjectPath::ToString() const {
  std::string out;
  for (const auto& part : parts_) {
    if (!out.empty()) out += " \u203a ";
    out += part;
  }
  return out;
}

}  // namespace bulwark::content
