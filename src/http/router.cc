#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "http/server.h"

namespace bulwark::http {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// "/a/{b}/" → {"a", "{b}", ""}; "/" and "" → {}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return segments;
  while (true) {
    std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool IsParameter(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string Request::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? std::string() : it->second;
}

std::string Request::Cookie(std::string_view name) const {
  auto [begin, end] = headers.equal_range("cookie");
  for (auto it = begin; it != end; ++it) {
    std::string_view rest(it->second);
    while (!rest.empty()) {
      std::size_t semicolon = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semicolon));
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::string();
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response Response::Error(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":{\"code\":";
  AppendJsonString(body, code);
  body += ",\"message\":";
  AppendJsonString(body, message);
  body += "}}";
  return Json(status, std::move(body));
}

void Router::Add(std::string method, std::string pattern, RoutedHandler handler,
                 bool inline_handler) {
  Entry entry;
  entry.method = std::move(method);
  for (std::string_view segment : SplitPath(pattern)) entry.segments.emplace_back(segment);
  entry.pattern = std::move(pattern);
  entry.handler = std::move(handler);
  entry.inline_handler = inline_handler;
  entries_.push_back(std::move(entry));
}

Router::Match Router::Resolve(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segments = SplitPath(path);
  Match match;
  const Entry* best = nullptr;
  std::set<std::string> allowed;
  // True when `a` is strictly more specific than `b` (same segment count, both match).
  auto more_specific = [](const Entry& a, const Entry& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      bool a_param = IsParameter(a.segments[i]);
      bool b_param = IsParameter(b.segments[i]);
      if (a_param != b_param) return !a_param;
    }
    return false;
  };
  for (const Entry& entry : entries_) {
    if (entry.segments.size() != segments.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      if (IsParameter(entry.segments[i])) {
        matches = !segments[i].empty();
      } else {
        matches = entry.segments[i] == segments[i];
      }
    }
    if (!matches) continue;
    if (entry.method != method) {
      allowed.insert(entry.method);
      continue;
    }
    if (best == nullptr || more_specific(entry, *best)) best = &entry;
  }
  if (best != nullptr) {
    match.handler = &best->handler;
    match.inline_handler = best->inline_handler;
    match.pattern = best->pattern;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const std::string& segment = best->segments[i];
      if (IsParameter(segment)) {
        match.params[segment.substr(1, segment.size() - 2)] = std::string(segments[i]);
      }
    }
    return match;
  }
  if (!allowed.empty()) {
    match.status = 405;
    for (const std::string& allowed_method : allowed) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += allowed_method;
    }
  }
  return match;
}

Response Router::Dispatch(const Request& request) const {
  Match match = Resolve(request.method, request.path);
  if (match.handler != nullptr) return (*match.handler)(request, match.params);
  if (match.status == 405) {
    Response response =
        Response::Error(405, "method_not_allowed", "method not allowed for this resource");
    response.headers.emplace_back("Allow", match.allow);
    return response;
  }
  return Response::Error(404, "not_found", "no such resource");
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> routes;
  routes.reserve(entries_.size());
  for (const auto& entry : entries_) routes.emplace_back(entry.method, entry.pattern);
  return routes;
}

}  // namespace bulwark::http
