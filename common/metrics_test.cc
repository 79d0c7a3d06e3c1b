#include "common/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linli::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeries) {
  Registry registry;
  auto& calls = registry.AddCounter("linli_test_calls_total", "Calls.", {"method", "code"});
  calls.WithLabels({"/a.B/C", "OK"}).Increment();
  calls.WithLabels({"/a.B/C", "OK"}).Increment(2);
  calls.WithLabels({"/a.B/C", "NOT_FOUND"}).Increment();
  calls.WithLabels({"/a.B/C", "OK"}).Increment(-5);  // ignored: counters only go up
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP linli_test_calls_total Calls.\n"
                              "# TYPE linli_test_calls_total counter\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_calls_total{method=\"/a.B/C\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_calls_total{method=\"/a.B/C\",code=\"NOT_FOUND\"} 1\n"));
}

TEST(MetricsTest, SameNameReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.AddCounter("linli_test_total", "x", {"k"});
  auto& b = registry.AddCounter("linli_test_total", "x", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.WithLabels({"v"}), &b.WithLabels({"v"}));
}

TEST(MetricsTest, GaugeGoesUpAndDownAndRendersFractions) {
  Registry registry;
  Gauge& lag = registry.AddGauge("linli_test_lag_seconds", "Lag.", {}).WithLabels({});
  lag.Set(10);
  lag.Add(-2.5);
  EXPECT_DOUBLE_EQ(lag.value(), 7.5);
  EXPECT_THAT(registry.Render(), HasSubstr("\nlinli_test_lag_seconds 7.5\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  auto& latency = registry.AddHistogram("linli_test_seconds", "Latency.", {"m"}, {0.25, 1});
  Histogram& h = latency.WithLabels({"x"});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE linli_test_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_seconds_bucket{m=\"x\",le=\"0.25\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_seconds_bucket{m=\"x\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_seconds_bucket{m=\"x\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_seconds_sum{m=\"x\"} 7.875\n"));
  EXPECT_THAT(text, HasSubstr("linli_test_seconds_count{m=\"x\"} 4\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry registry;
  registry.AddCounter("linli_test_total", "x", {"v"}).WithLabels({"a\"b\\c\nd 中文"}).Increment();
  EXPECT_THAT(registry.Render(), HasSubstr("linli_test_total{v=\"a\\\"b\\\\c\\nd 中文\"} 1\n"));
}

TEST(MetricsTest, CallbackSeriesAreCollectedAtRenderTime) {
  Registry registry;
  int calls = 0;
  registry.AddCallbackGauge("linli_test_pool", "Pool.", {"state"}, [&calls] {
    ++calls;
    return std::vector<Sample>{{{"open"}, 3}, {{"in_use"}, static_cast<double>(calls)}};
  });
  registry.AddCallbackCounter("linli_test_cb_total", "Cb.", {}, [] {
    return std::vector<Sample>{{{}, 42}};
  });
  EXPECT_THAT(registry.Render(), HasSubstr("linli_test_pool{state=\"in_use\"} 1\n"));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("linli_test_pool{state=\"in_use\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE linli_test_cb_total counter\nlinli_test_cb_total 42\n"));
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  Registry registry;
  auto& counter = registry.AddCounter("linli_test_total", "x", {"t"});
  auto& hist = registry.AddHistogram("linli_test_seconds", "x", {}, DefaultLatencyBuckets());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.WithLabels({std::to_string(t % 2)}).Increment();
        hist.WithLabels({}).Observe(0.002);
        if (i % 1000 == 0) (void)registry.Render();  // scrapes while recording
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_DOUBLE_EQ(counter.WithLabels({"0"}).value() + counter.WithLabels({"1"}).value(),
                   kThreads * kPerThread);
  EXPECT_EQ(hist.WithLabels({}).count(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_THAT(registry.Render(), HasSubstr("linli_test_seconds_bucket{le=\"0.0025\"} 80000\n"));
}

TEST(MetricsDeathTest, MisuseAborts) {
  Registry registry;
  registry.AddCounter("linli_test_total", "x", {"a"});
  EXPECT_DEATH(registry.AddGauge("linli_test_total", "x", {"a"}), "registered twice");
  EXPECT_DEATH(registry.AddCounter("bad-name", "x", {}), "invalid metric name");
  EXPECT_DEATH(registry.AddCounter("linli_x_total", "x", {"le"}), "invalid label name");
  EXPECT_DEATH(registry.AddCounter("linli_test_total", "x", {"a"}).WithLabels({}),
               "wrong number of label values");
  EXPECT_DEATH(registry.AddHistogram("linli_h", "x", {}, {1, 1}), "strictly increasing");
}

TEST(MetricsTest, EmptyRegistryRendersNothingAndNoLabelsMeansNoBraces) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
  registry.AddCounter("linli_test_total", "x", {}).WithLabels({}).Increment();
  EXPECT_THAT(registry.Render(), HasSubstr("\nlinli_test_total 1\n"));
  EXPECT_THAT(registry.Render(), Not(HasSubstr("{")));
}

}  // namespace
}  // namespace linli::metrics
