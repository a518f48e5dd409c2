#include "mime/parsed_message.h"

#include <gtest/gtest.h>

#include <string>

namespace bulwark::mime {
namespace {

TEST(ParsedMessageTest, ReadsTheMessageWhereItsBytesLie) {
  const std::string bytes =
      "From: a@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n";
  auto parsed = ParsedMessage::Parse(bytes);
  ASSERT_NE(parsed->message(), nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(parsed->message()), "caf\xC3\xA9");
  EXPECT_EQ(parsed->bytes().data(), bytes.data());
  ASSERT_NE(parsed->buffer(), nullptr);
  EXPECT_EQ(reinterpret_cast<const char*>(parsed->buffer()->data), bytes.data());  // no copy

  GMimeObject* body = g_mime_message_get_mime_part(parsed->message());
  ASSERT_TRUE(GMIME_IS_MULTIPART(body));
  GMimeObject* part = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
  ASSERT_TRUE(GMIME_IS_TEXT_PART(part));
  GCharPtr text(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
  EXPECT_STREQ(text.get(), "hello");
  // The part's content is a stream over the same buffer, at the text's offset.
  GMimeStream* content = g_mime_data_wrapper_get_stream(g_mime_part_get_content(GMIME_PART(part)));
  ASSERT_TRUE(
      GMIME_IS_STREAM_MEM(content->super_stream != nullptr ? content->super_stream : content));
  EXPECT_EQ(std::string_view(bytes).substr(static_cast<std::size_t>(content->bound_start), 5),
            "hello");
}

TEST(ParsedMessageTest, WhatGMimeCannotReadHasNoMessage) {
  auto parsed = ParsedMessage::Parse("");
  EXPECT_EQ(parsed->message(), nullptr);
  EXPECT_TRUE(parsed->bytes().empty());
}

}  // namespace
}  // namespace bulwark::mime
