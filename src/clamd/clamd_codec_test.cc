#include "clamd/clamd_codec.h"

#include <gtest/gtest.h>

#include <utility>

namespace bulwark::clamd {
namespace {

TEST(ClamdCodecTest, FormsAndTerminators) {
  EXPECT_EQ(FormOf('z'), Form::kNul);
  EXPECT_EQ(FormOf('n'), Form::kNewline);
  EXPECT_EQ(FormOf('P'), Form::kPlain);
  EXPECT_EQ(Terminator(Form::kNul), '\0');
  EXPECT_EQ(Terminator(Form::kPlain), '\n');
  EXPECT_EQ(Delimiter(Form::kNul), std::string_view("\0", 1));
}

TEST(ClamdCodecTest, ParsesEveryCommandInTheZForm) {
  const std::pair<std::string_view, Command> commands[] = {
      {"PING", Command::kPing},
      {"VERSION", Command::kVersion},
      {"VERSIONCOMMANDS", Command::kVersionCommands},
      {"RELOAD", Command::kReload},
      {"SHUTDOWN", Command::kShutdown},
      {"QUIT", Command::kShutdown},
      {"INSTREAM", Command::kInstream},
      {"FILDES", Command::kFildes},
      {"STATS", Command::kStats},
      {"IDSESSION", Command::kIdSession},
      {"END", Command::kEnd},
      {"DETSTATS", Command::kDetStats},
      {"DETSTATSCLEAR", Command::kDetStatsClear},
      {"CONTSCAN /x", Command::kContScan},
      {"MULTISCAN /x", Command::kMultiScan},
      {"ALLMATCHSCAN /x", Command::kAllMatchScan},
  };
  for (const auto& [body, command] : commands) {
    EXPECT_EQ(ParseCommand(body, Form::kNul).command, command) << body;
  }
  ParsedCommand scan = ParseCommand("SCAN /srv/a b", Form::kNul);
  EXPECT_EQ(scan.command, Command::kScan);
  EXPECT_EQ(scan.argument, "/srv/a b");
  ParsedCommand auth = ParseCommand("AUTH secret", Form::kNewline);
  EXPECT_EQ(auth.command, Command::kAuth);
  EXPECT_EQ(auth.argument, "secret");
}

TEST(ClamdCodecTest, RejectsWhatClamdRejects) {
  for (std::string_view body : {"", "ping", "PING ", "PING x", "PINGX", "SCAN", "SCAN/x",
                                "STREAM", "INSTREAM x", "\xff\xfe"}) {
    EXPECT_EQ(ParseCommand(body, Form::kNul).command, Command::kUnknown) << body;
  }
  // New-style commands are unknown in the legacy (unprefixed) form, as in clamd 1.4.
  for (std::string_view body : {"INSTREAM", "IDSESSION", "END", "STATS", "VERSIONCOMMANDS",
                                "ALLMATCHSCAN /x"}) {
    EXPECT_EQ(ParseCommand(body, Form::kPlain).command, Command::kUnknown) << body;
  }
  EXPECT_EQ(ParseCommand("PING", Form::kPlain).command, Command::kPing);
  EXPECT_EQ(ParseCommand("SCAN /x", Form::kPlain).command, Command::kScan);
}

TEST(ClamdCodecTest, CommandListIsClamds) {
  EXPECT_EQ(CommandList(),
            " SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN "
            "FILDES STATS IDSESSION INSTREAM DETSTATSCLEAR DETSTATS ALLMATCHSCAN");
}

TEST(ClamdCodecTest, ChunkLengthsAreBigEndian) {
  EXPECT_EQ(DecodeChunkLength(std::string("\x00\x00\x01\x02", 4)), 258u);
  EXPECT_EQ(DecodeChunkLength(std::string("\xff\xff\xff\xff", 4)), 0xffffffffu);
  EXPECT_EQ(EncodeChunkLength(258), std::string("\x00\x00\x01\x02", 4));
  EXPECT_EQ(DecodeChunkLength(EncodeChunkLength(123456789)), 123456789u);
}

TEST(ClamdCodecTest, FramesReplies) {
  EXPECT_EQ(FrameReply("PONG", Form::kNul), std::string("PONG\0", 5));
  EXPECT_EQ(FrameReply("PONG", Form::kNewline), "PONG\n");
  EXPECT_EQ(FrameReply("PONG", Form::kNul, 7), std::string("7: PONG\0", 8));
}

}  // namespace
}  // namespace bulwark::clamd
