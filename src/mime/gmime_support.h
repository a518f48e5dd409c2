#pragma once
// What every user of GMime here needs: its one-time set-up and owners for its objects.

#include <gmime/gmime.h>

#include <memory>

namespace bulwark::mime {

// GMime keeps process-wide tables (charsets, the type registry); they are set up once and
// never torn down, since other scans may be running.
void InitGMimeOnce();

// Owns one reference to a GObject (GMime streams, parsers, messages).
struct GObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

// Owns memory GLib or GMime allocated (strings they return).
struct GFree {
  void operator()(gpointer memory) const { g_free(memory); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

}  // namespace bulwark::mime
