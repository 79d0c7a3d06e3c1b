// Instance generators for tests and benchmarks.
//
// GenerateMankowska builds HHCRSP instances of the kind of Mankowska, Meisel and Bierwirth (2014),
// "The home health care routing and scheduling problem with interdependent services": patients on
// a 100 x 100 plane, one centre where every caregiver starts and ends, six service types, each
// caregiver qualified for a few of them, about 30% of patients needing two services
// (simultaneous, or ordered with a minimum and maximum gap between the starts), time windows of
// 120 minutes over a 10-hour day, travel time = Euclidean distance, objective = (travel + total
// lateness + max lateness) / 3. Same options and seed, same instance.
//
// GenerateDistrictWeek builds one district week on geographic coordinates (haversine): elders'
// homes clustered in neighbourhoods of a 12 x 12 km district, workers based at service centres
// with five 8:00-17:00 shifts a week, visits with one-hour windows starting 8:00-14:30; for the
// scale run (100,000 visits, 3,000 workers).
#ifndef LINLI_SERVICES_SCHEDULING_PLANNER_GENERATOR_H_
#define LINLI_SERVICES_SCHEDULING_PLANNER_GENERATOR_H_

#include <cstdint>

#include "services/scheduling/planner/model.h"

namespace linli::planner {

struct MankowskaOptions {
  int patients = 10;
  int caregivers = 3;
  uint64_t seed = 1;
  double double_share = 0.3;  // patients needing two services
  int services = 6;
};

Problem GenerateMankowska(const MankowskaOptions& options);

struct DistrictOptions {
  int visits = 100000;
  int workers = 3000;
  int days = 7;
  uint64_t seed = 1;
  double double_share = 0.05;  // two-worker visits (bathing)
};

Problem GenerateDistrictWeek(const DistrictOptions& options);

}  // namespace linli::planner

#endif  // LINLI_SERVICES_SCHEDULING_PLANNER_GENERATOR_H_
