#include "mime/base64.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace bulwark::mime {
namespace {

constexpr std::uint8_t kNotInAlphabet = 0xFF;

// The value of each byte as a base64 digit. '=' is in GMime's alphabet (as a zero digit),
// which matters when counting the alphabet bytes left to GMime.
constexpr std::array<std::uint8_t, 256> MakeRanks() {
  std::array<std::uint8_t, 256> ranks{};
  for (auto& rank : ranks) rank = kNotInAlphabet;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    ranks[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  ranks['='] = 0;
  return ranks;
}
constexpr std::array<std::uint8_t, 256> kRanks = MakeRanks();

// GMime's end-of-input rule reads the last two alphabet bytes and needs output of its own
// to drop from; with this many alphabet bytes left to it, its part always has both.
constexpr int kTailDigits = 8;

}  // namespace

std::string DecodeBase64(std::string_view encoded) {
  const auto* in = reinterpret_cast<const unsigned char*>(encoded.data());
  // Where GMime takes over: at the kTailDigits-th alphabet byte from the end, or at the
  // first '=' if one comes earlier (what GMime does after padding is its own business).
  std::size_t tail = encoded.size();
  for (int digits = 0; tail > 0 && digits < kTailDigits;) {
    if (kRanks[in[--tail]] != kNotInAlphabet) ++digits;
  }
  tail = std::min(tail, encoded.substr(0, tail).find('='));

  std::string out(encoded.size() / 4 * 3 + 3, '\0');
  auto* outptr = reinterpret_cast<unsigned char*>(out.data());
  std::uint32_t saved = 0;  // the digits of the quartet under way, as GMime keeps them
  int digits = 0;           // how many of them
  auto put_quartet = [&] {  // the three bytes of a whole quartet's 24 bits
    *outptr++ = static_cast<unsigned char>(saved >> 16);
    *outptr++ = static_cast<unsigned char>(saved >> 8);
    *outptr++ = static_cast<unsigned char>(saved);
  };
  std::size_t i = 0;
  while (i < tail) {
    if (digits == 0 && tail - i >= 4) {
      const std::uint32_t a = kRanks[in[i]], b = kRanks[in[i + 1]], c = kRanks[in[i + 2]],
                          d = kRanks[in[i + 3]];
      if (((a | b | c | d) & 0x80) == 0) {  // four alphabet bytes: a whole quartet
        saved = (a << 18) | (b << 12) | (c << 6) | d;
        put_quartet();
        i += 4;
        continue;
      }
    }
    const std::uint8_t rank = kRanks[in[i++]];
    if (rank == kNotInAlphabet) continue;
    saved = (saved << 6) | rank;
    if (++digits == 4) {
      put_quartet();
      digits = 0;
    }
  }
  // GMime's step state: the number of pending digits (no padding seen yet) and their bits.
  int state = digits;
  guint32 save = saved;
  outptr +=
      g_mime_encoding_base64_decode_step(in + tail, encoded.size() - tail, outptr, &state, &save);
  out.resize(static_cast<std::size_t>(outptr - reinterpret_cast<unsigned char*>(out.data())));
  return out;
}

}  // namespace bulwark::mime
