/*
 * The failover part of the run report: per episode and overall, how long until 50, 90,
 * 99 and 100 % of the lines that had to move were registered where the mode's table
 * says, requests per server, errors by kind. A table for people, JSON for a carrier's CI.
 */
#ifndef CTL_FO_REPORT_H
#define CTL_FO_REPORT_H

#include <stdio.h>

#include "control/failover.h"
#include "control/json.h"
#include "dataplane/stats.h"

void ctl_fo_report_table(const struct ctl_fo *fo, const struct dp_stats *s, FILE *out);
/* Writes the keys failover_s, failback_s, requests_by_server, errors_by_kind, servers and
 * episodes into the object j has open. */
void ctl_fo_report_json(const struct ctl_fo *fo, const struct dp_stats *s, struct ctl_json *j);

#endif
