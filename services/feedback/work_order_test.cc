// The 12345 flow of a work order: which step follows which, deadlines, what each step changes and
// records, escalation of overdue work orders and the complaint figures.
#include "services/feedback/work_order.h"

#include "common/proto_time.h"
#include "gtest/gtest.h"

namespace linli::feedback {
namespace {

const absl::Time kAccepted = absl::FromUnixSeconds(1'780'000'000);

WorkOrderStep By(const std::string& actor, absl::Time time, const std::string& note = "") {
  return {.actor = actor, .time = time, .note = note};
}

v1::WorkOrder Accepted() {
  v1::WorkOrder in;
  in.set_source(v1::WORK_ORDER_SOURCE_HOTLINE_12345);
  in.set_external_reference("12345-0001");
  in.set_visit("visits/v1");
  in.set_description("nobody came on Tuesday");
  in.set_commitment("ignored: the caller decides");
  in.set_state(v1::WORK_ORDER_STATE_CLOSED);  // ignored too
  return AcceptWorkOrder(in, "workOrders/w1", "commitments/c1", "elders/e1", "staff-1", kAccepted);
}

TEST(WorkOrderFlow, OnlyTheNextStepIsAllowed) {
  using S = v1::WorkOrderState;
  const S order[] = {v1::WORK_ORDER_STATE_ACCEPTED,    v1::WORK_ORDER_STATE_CLASSIFIED,
                     v1::WORK_ORDER_STATE_ROUTED,      v1::WORK_ORDER_STATE_RESOLVED,
                     v1::WORK_ORDER_STATE_CALLED_BACK, v1::WORK_ORDER_STATE_CLOSED};
  for (size_t i = 0; i + 1 < std::size(order); ++i) {
    EXPECT_TRUE(CheckTransition(order[i], order[i + 1]).ok()) << i;
    for (size_t j = 0; j < std::size(order); ++j) {
      if (j == i + 1) continue;
      EXPECT_TRUE(absl::IsFailedPrecondition(CheckTransition(order[i], order[j])))
          << v1::WorkOrderState_Name(order[i]) << " -> " << v1::WorkOrderState_Name(order[j]);
    }
  }
  EXPECT_TRUE(CheckTransition(v1::WORK_ORDER_STATE_ROUTED, v1::WORK_ORDER_STATE_ESCALATED).ok());
  EXPECT_TRUE(CheckTransition(v1::WORK_ORDER_STATE_ESCALATED, v1::WORK_ORDER_STATE_RESOLVED).ok());
  EXPECT_FALSE(CheckTransition(v1::WORK_ORDER_STATE_RESOLVED, v1::WORK_ORDER_STATE_ESCALATED).ok());
  EXPECT_EQ(DeadlineFor(v1::WORK_ORDER_CATEGORY_SAFETY), absl::Hours(24));
  EXPECT_EQ(DeadlineFor(v1::WORK_ORDER_CATEGORY_OTHER), absl::Hours(168));
  const absl::Time deadline = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(IsOverdue(v1::WORK_ORDER_STATE_ROUTED, deadline, deadline));
  EXPECT_TRUE(IsOverdue(v1::WORK_ORDER_STATE_ROUTED, deadline, deadline + absl::Seconds(1)));
  EXPECT_FALSE(IsOverdue(v1::WORK_ORDER_STATE_RESOLVED, deadline, deadline + absl::Hours(1)));
}

TEST(WorkOrderFlow, AcceptanceKeepsTheComplaintAndStartsTheHistory) {
  const v1::WorkOrder order = Accepted();
  EXPECT_EQ(order.name(), "workOrders/w1");
  EXPECT_EQ(order.source(), v1::WORK_ORDER_SOURCE_HOTLINE_12345);
  EXPECT_EQ(order.external_reference(), "12345-0001");
  EXPECT_EQ(order.commitment(), "commitments/c1");
  EXPECT_EQ(order.visit(), "visits/v1");
  EXPECT_EQ(order.elder(), "elders/e1");
  EXPECT_EQ(order.description(), "nobody came on Tuesday");
  EXPECT_EQ(order.state(), v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_EQ(FromTimestamp(order.create_time()), kAccepted);
  ASSERT_EQ(order.history_size(), 1);
  EXPECT_EQ(order.history(0).from_state(), v1::WORK_ORDER_STATE_UNSPECIFIED);
  EXPECT_EQ(order.history(0).to_state(), v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_EQ(order.history(0).actor(), "staff-1");
  EXPECT_EQ(order.history(0).note(), "accepted from WORK_ORDER_SOURCE_HOTLINE_12345");
}

TEST(WorkOrderFlow, EachStepChangesItsFieldsAndIsRecorded) {
  v1::WorkOrder order = Accepted();
  const absl::Time t1 = kAccepted + absl::Hours(1);
  ASSERT_TRUE(
      ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_MISSED_VISIT, By("a", t1, "n1")).ok());
  EXPECT_EQ(order.category(), v1::WORK_ORDER_CATEGORY_MISSED_VISIT);
  // The deadline counts from acceptance, not from classification.
  EXPECT_EQ(FromTimestamp(order.deadline()), kAccepted + absl::Hours(72));

  ASSERT_TRUE(RouteWorkOrder(order, "organisations/owner", "organisations/office",
                             By("b", t1 + absl::Hours(1), "n2"))
                  .ok());
  EXPECT_EQ(order.responsible_organisation(), "organisations/owner");
  EXPECT_EQ(order.supervising_organisation(), "organisations/office");

  ASSERT_TRUE(ResolveWorkOrder(order, "visited again",
                               By("c", kAccepted + absl::Hours(72), "visited again"))
                  .ok());
  EXPECT_EQ(order.resolution(), "visited again");
  EXPECT_TRUE(order.resolved_in_time());  // at the deadline itself is in time

  ASSERT_TRUE(RecordWorkOrderCallback(order, 4, By("d", kAccepted + absl::Hours(80), "n4")).ok());
  EXPECT_EQ(order.satisfaction(), 4);
  ASSERT_TRUE(CloseWorkOrder(order, By("e", kAccepted + absl::Hours(81), "n5")).ok());
  EXPECT_EQ(order.state(), v1::WORK_ORDER_STATE_CLOSED);

  ASSERT_EQ(order.history_size(), 6);
  const v1::WorkOrderTransition& route = order.history(2);
  EXPECT_EQ(route.from_state(), v1::WORK_ORDER_STATE_CLASSIFIED);
  EXPECT_EQ(route.to_state(), v1::WORK_ORDER_STATE_ROUTED);
  EXPECT_EQ(route.actor(), "b");
  EXPECT_EQ(FromTimestamp(route.time()), t1 + absl::Hours(1));
  EXPECT_EQ(route.note(), "n2");
  EXPECT_EQ(order.history(5).from_state(), v1::WORK_ORDER_STATE_CALLED_BACK);
  EXPECT_EQ(order.history(5).to_state(), v1::WORK_ORDER_STATE_CLOSED);
}

TEST(WorkOrderFlow, AStepOutOfOrderChangesNothing) {
  v1::WorkOrder order = Accepted();
  const v1::WorkOrder before = order;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ResolveWorkOrder(order, "too early", By("a", kAccepted, "too early"))));
  EXPECT_TRUE(absl::IsFailedPrecondition(RecordWorkOrderCallback(order, 5, By("a", kAccepted))));
  EXPECT_TRUE(absl::IsFailedPrecondition(CloseWorkOrder(order, By("a", kAccepted))));
  EXPECT_TRUE(absl::IsFailedPrecondition(RouteWorkOrder(order, "o", "s", By("a", kAccepted))));
  EXPECT_EQ(order.SerializeAsString(), before.SerializeAsString());
  ASSERT_TRUE(ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_OTHER, By("a", kAccepted)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_SAFETY, By("a", kAccepted))));
  EXPECT_EQ(order.category(), v1::WORK_ORDER_CATEGORY_OTHER);
}

TEST(WorkOrderFlow, LateResolutionIsNotInTime) {
  v1::WorkOrder order = Accepted();
  ASSERT_TRUE(ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_SAFETY, By("a", kAccepted)).ok());
  ASSERT_TRUE(RouteWorkOrder(order, "o", "s", By("a", kAccepted)).ok());
  ASSERT_TRUE(ResolveWorkOrder(order, "late", By("a", kAccepted + absl::Hours(25), "late")).ok());
  EXPECT_FALSE(order.resolved_in_time());
}

TEST(WorkOrderFlow, OnlyAnOverdueWorkOrderIsEscalatedBySystem) {
  v1::WorkOrder order = Accepted();
  EXPECT_FALSE(EscalateIfOverdue(order, "organisations/office", kAccepted + absl::Hours(999)))
      << "an unclassified work order has no deadline yet";
  ASSERT_TRUE(ClassifyWorkOrder(order, v1::WORK_ORDER_CATEGORY_SAFETY, By("a", kAccepted)).ok());
  const absl::Time deadline = kAccepted + absl::Hours(24);
  const v1::WorkOrder before = order;
  EXPECT_FALSE(EscalateIfOverdue(order, "organisations/office", deadline));
  EXPECT_EQ(order.SerializeAsString(), before.SerializeAsString());

  ASSERT_TRUE(EscalateIfOverdue(order, "organisations/office", deadline + absl::Seconds(1)));
  EXPECT_EQ(order.state(), v1::WORK_ORDER_STATE_ESCALATED);
  EXPECT_EQ(order.escalated_to(), "organisations/office");
  const v1::WorkOrderTransition& step = order.history(order.history_size() - 1);
  EXPECT_EQ(step.from_state(), v1::WORK_ORDER_STATE_CLASSIFIED);
  EXPECT_EQ(step.actor(), "system");
  EXPECT_EQ(step.note(),
            "overdue since " + absl::FormatTime(deadline) + "; escalated to organisations/office");
  // Escalated once: no longer overdue.
  EXPECT_FALSE(EscalateIfOverdue(order, "organisations/office", deadline + absl::Hours(1)));

  v1::WorkOrder nowhere = Accepted();
  ASSERT_TRUE(ClassifyWorkOrder(nowhere, v1::WORK_ORDER_CATEGORY_SAFETY, By("a", kAccepted)).ok());
  ASSERT_TRUE(EscalateIfOverdue(nowhere, "", deadline + absl::Seconds(1)));
  EXPECT_EQ(nowhere.history(nowhere.history_size() - 1).note(),
            "overdue since " + absl::FormatTime(deadline) + "; escalated to (no service office)");
}

TEST(WorkOrderFlow, ComplaintFiguresCountEachWorkOrderOnce) {
  EXPECT_EQ(SummariseComplaints({}).total(), 0);
  EXPECT_EQ(SummariseComplaints({}).mean_satisfaction(), 0.0);

  v1::WorkOrder open = Accepted();
  v1::WorkOrder escalated_twice = Accepted();
  escalated_twice.add_history()->set_to_state(v1::WORK_ORDER_STATE_ESCALATED);
  escalated_twice.add_history()->set_to_state(v1::WORK_ORDER_STATE_ESCALATED);
  escalated_twice.set_state(v1::WORK_ORDER_STATE_ESCALATED);
  v1::WorkOrder in_time = Accepted();
  in_time.set_state(v1::WORK_ORDER_STATE_CLOSED);
  in_time.set_resolved_in_time(true);
  in_time.set_satisfaction(5);
  v1::WorkOrder late = Accepted();
  late.set_state(v1::WORK_ORDER_STATE_CALLED_BACK);
  late.set_satisfaction(2);

  const v1::ComplaintFigures c = SummariseComplaints({open, escalated_twice, in_time, late});
  EXPECT_EQ(c.total(), 4);
  EXPECT_EQ(c.open(), 2);
  EXPECT_EQ(c.resolved(), 2);
  EXPECT_EQ(c.resolved_in_time(), 1);
  EXPECT_EQ(c.escalated(), 1);
  EXPECT_DOUBLE_EQ(c.mean_satisfaction(), 3.5);
  EXPECT_TRUE(IsResolved(v1::WORK_ORDER_STATE_RESOLVED));
  EXPECT_FALSE(IsResolved(v1::WORK_ORDER_STATE_ESCALATED));
}

}  // namespace
}  // namespace linli::feedback
