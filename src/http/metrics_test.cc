#include "http/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::http {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// A parse-level check of the text exposition format 0.0.4: every line is a HELP or TYPE
// comment or a sample "name{label="value",...} number".
void ExpectValidExposition(const std::string& text) {
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  static const std::regex kHelp(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex kType(R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))");
  static const std::regex kSample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? )"
      R"((-?[0-9.e+-]+|\+Inf|-Inf|NaN))");
  for (const std::string& line : Lines(text)) {
    bool ok = std::regex_match(line, kHelp) || std::regex_match(line, kType) ||
              std::regex_match(line, kSample);
    EXPECT_TRUE(ok) << "bad line: " << line;
  }
}

TEST(MetricsTest, RendersCountersGaugesAndHistograms) {
  Metrics metrics;
  metrics.GetCounter("bulwark_test_total", "Things counted.", {{"kind", "a"}}).Increment();
  metrics.GetCounter("bulwark_test_total", "Things counted.", {{"kind", "a"}}).Increment(2);
  metrics.GetCounter("bulwark_test_total", "Things counted.", {{"kind", "b"}}).Increment();
  metrics.GetGauge("bulwark_test_depth", "Depth.").Set(2.5);
  Histogram& histogram =
      metrics.GetHistogram("bulwark_test_seconds", "Latency.", LatencyBuckets(), {{"route", "/x"}});
  histogram.Observe(0.001);
  histogram.Observe(0.005);  // le is inclusive
  histogram.Observe(0.3);
  histogram.Observe(100);

  std::string text = metrics.RenderPrometheus();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("# HELP bulwark_test_total Things counted.\n"
                      "# TYPE bulwark_test_total counter\n"
                      "bulwark_test_total{kind=\"a\"} 3\n"
                      "bulwark_test_total{kind=\"b\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE bulwark_test_depth gauge\nbulwark_test_depth 2.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE bulwark_test_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_bucket{route=\"/x\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_bucket{route=\"/x\",le=\"0.25\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_bucket{route=\"/x\",le=\"10\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_seconds_sum{route=\"/x\"} 100.30"), std::string::npos) << text;
  EXPECT_NE(text.find("bulwark_test_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics metrics;
  metrics.GetCounter("bulwark_escape_total", "Help with \\ and\nnewline.", {{"path", "a\"b\\c\nd"}})
      .Increment();
  std::string text = metrics.RenderPrometheus();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("# HELP bulwark_escape_total Help with \\\\ and\\nnewline.\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_escape_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos)
      << text;
}

TEST(MetricsTest, LabelOrderDoesNotMatter) {
  Metrics metrics;
  Counter& first = metrics.GetCounter("bulwark_x_total", "X.", {{"b", "2"}, {"a", "1"}});
  Counter& second = metrics.GetCounter("bulwark_x_total", "X.", {{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(&first, &second);
  EXPECT_NE(metrics.RenderPrometheus().find("bulwark_x_total{a=\"1\",b=\"2\"} 0\n"),
            std::string::npos);
}

TEST(MetricsTest, MisuseGetsADetachedSeries) {
  Metrics metrics;
  metrics.GetCounter("bulwark_same", "A counter.").Increment();
  Gauge& wrong_type = metrics.GetGauge("bulwark_same", "Now a gauge?");
  wrong_type.Set(5);
  metrics.GetCounter("bad name", "Bad.").Increment();
  metrics.GetCounter("bulwark_bad_label", "Bad.", {{"bad-label", "x"}}).Increment();
  metrics.GetHistogram("bulwark_h", "H.", {1, 2}).Observe(1);
  metrics.GetHistogram("bulwark_h", "H.", {1, 3}).Observe(1);   // other buckets
  metrics.GetHistogram("bulwark_h2", "H.", {2, 1}).Observe(1);  // not increasing
  std::string text = metrics.RenderPrometheus();
  ExpectValidExposition(text);
  EXPECT_NE(text.find("bulwark_same 1\n"), std::string::npos);
  EXPECT_EQ(text.find("bulwark_same 5"), std::string::npos);
  EXPECT_EQ(text.find("bad"), std::string::npos);
  EXPECT_NE(text.find("bulwark_h_count 1\n"), std::string::npos);
  EXPECT_EQ(text.find("bulwark_h2"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreCounted) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) {
        metrics.GetCounter("bulwark_c_total", "C.", {{"k", "v"}}).Increment();
        metrics.GetHistogram("bulwark_l_seconds", "L.", LatencyBuckets()).Observe(0.01);
        metrics.GetGauge("bulwark_g", "G.").Add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("bulwark_c_total{k=\"v\"} 4000\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_l_seconds_count 4000\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_g 4000\n"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::http
