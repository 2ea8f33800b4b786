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

/* peak_rps: per role, the most requests sent to that server in one second before the run
 * began to stop (whether the fleet stampeded onto the backup). */
void ctl_fo_report_table(const struct ctl_fo *fo, const struct dp_stats *s,
			 const uint64_t peak_rps[CTL_SLOTS], FILE *out);
/* Writes the keys failover_s, failback_s, requests_by_server, peak_requests_per_s_by_server,
 * errors_by_kind, servers and episodes into the object j has open. */
void ctl_fo_report_json(const struct ctl_fo *fo, const struct dp_stats *s,
			const uint64_t peak_rps[CTL_SLOTS], struct ctl_json *j);

/* The subscriptions' part: their moves, and per proxy SUBSCRIBEs sent, accepted, active. */
void ctl_fo_report_subs_table(const struct ctl_fo *fo, const struct dp_stats *s, FILE *out);
/* Key "subscriptions": subscribe_sent, active_end, failures, by_server, failover_s,
 * failback_s, episodes. */
void ctl_fo_report_subs_json(const struct ctl_fo *fo, const struct dp_stats *s, struct ctl_json *j);

/* Mode 4: the two outbound flows (reg-id 1 through OP, 2 through BOP) side by side; fo[k]
 * and s[k] are flow k + 1's failover state and counters. */
void ctl_fo_report_flows_table(const struct ctl_fo *const fo[2], const struct dp_stats s[2],
			       FILE *out);
/* Key "outbound_flows": an array of the two, each reg_id, via, registered_end,
 * registrations_ok, failures, keepalive_sent, keepalive_answered, flow_failures. */
void ctl_fo_report_flows_json(const struct ctl_fo *const fo[2], const struct dp_stats s[2],
			      struct ctl_json *j);

/* Calls the lines placed: outcomes, first INVITEs per next hop, set-up time. */
void ctl_fo_report_calls_table(const struct ctl_fo *fo, const struct dp_stats *s, FILE *out);
/* Key "calls": attempted, answered, completed, remote_bye, failures (timeout, transport,
 * auth, 4xx, 5xx, 6xx), no_answer, cancelled, bye_failed, not_placed, stray_2xx, too_big,
 * active_end, by_server, setup_ms (p50, p90, p99). */
void ctl_fo_report_calls_json(const struct ctl_fo *fo, const struct dp_stats *s,
			      struct ctl_json *j);

#endif
