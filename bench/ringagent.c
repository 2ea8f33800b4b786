/*
 * bench_ringagent: `sipedge run` and bench_responder in one process, joined by a pair of
 * net_ring ports (two rte_rings, each port's tx the other's rx): frames cross as mbuf
 * pointers, with no copy and no shared-memory ring protocol. bench/run dataplane's memif
 * runs measure the agent plus memif's copies between two processes; this measures the
 * agent's worker with the cheapest transport DPDK has between two cores (the issue's
 * "net_memif or net_ring").
 *
 * The responder takes the last lcore of the EAL (give it one more than the agent needs,
 * e.g. --lcores 0@0,1@1,2@0: the responder shares core 0 with control, as in the memif
 * runs); the agent's workers take the lcores left and the first port, the responder's is
 * owned. The responder stops when the agent's first worker has run and stopped, when the
 * agent goes without it (dp_eal_down_hook), or at --duration.
 *
 * usage: bench_ringagent [--stats FILE] [--batch N] [--verify-every N] [--duration S]
 *                        run [EAL ARGS] -- [sipedge run options]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "bench/resp.h"
#include "control/cli.h"
#include "dataplane/dataplane.h"

static struct resp resp = {.password = "secret", .verify_every = 1};
static const char *stats_path;
static uint32_t duration = 60;
static unsigned worker_lcore, resp_lcore;
static volatile bool quit; /* the agent is going: dp_destroy's dp_eal_down_hook */

/* Until the agent's worker has run and stopped, or the agent goes without it. */
static bool agent_on(void *ctx)
{
	static bool seen;
	bool running = rte_eal_get_lcore_state(worker_lcore) == RUNNING;

	(void)ctx;
	seen = seen || running;
	return !quit && (!seen || running);
}

/* The agent is going (its workers stopped, or it failed before they ran): the responder
 * stops before the EAL goes under it. */
static void resp_stop(void)
{
	quit = true;
	rte_eal_wait_lcore(resp_lcore);
}

static int resp_lcore_main(void *arg)
{
	(void)arg;
	resp_serve(&resp, rte_get_tsc_cycles() + (uint64_t)duration * rte_get_tsc_hz(), stats_path,
		   agent_on, NULL);
	return 0;
}

static int ports_up(void)
{
	struct rte_ring *to_resp, *to_agent;
	struct rte_eth_dev_owner owner = {.name = "bench_responder"};
	unsigned lcore, last = RTE_MAX_LCORE;
	int agent_port, resp_port;

	to_resp = rte_ring_create("to_resp", 1024, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	to_agent = rte_ring_create("to_agent", 1024, (int)rte_socket_id(),
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!to_resp || !to_agent)
		return fprintf(stderr, "bench_ringagent: no rings\n"), -1;
	agent_port = rte_eth_from_rings("agent", &to_agent, 1, &to_resp, 1, rte_socket_id());
	resp_port = rte_eth_from_rings("resp", &to_resp, 1, &to_agent, 1, rte_socket_id());
	if (agent_port < 0 || resp_port < 0)
		return fprintf(stderr, "bench_ringagent: no ring ports\n"), -1;
	/* the agent takes the first port no one owns */
	if (rte_eth_dev_owner_new(&owner.id) != 0 ||
	    rte_eth_dev_owner_set((uint16_t)resp_port, &owner) != 0)
		return fprintf(stderr, "bench_ringagent: cannot own the responder's port\n"), -1;
	if (resp_setup(&resp, (uint16_t)resp_port) != 0)
		return -1;
	worker_lcore = rte_get_next_lcore(-1, 1, 0);
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		last = lcore;
	}
	if (last == RTE_MAX_LCORE || last == worker_lcore)
		return fprintf(stderr, "bench_ringagent: give the EAL a lcore for the responder "
				       "after the agent's, e.g. --lcores 0@0,1@1,2@0\n"),
		       -1;
	if (rte_eal_remote_launch(resp_lcore_main, NULL, last) != 0)
		return -1;
	resp_lcore = last;
	dp_eal_down_hook = resp_stop;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"stats", 1, NULL, 's'},    {"batch", 1, NULL, 'b'}, {"verify-every", 1, NULL, 'v'},
		{"duration", 1, NULL, 'd'}, {NULL, 0, NULL, 0},
	};
	int c;

	resp.net.ip_first = resp.net.ip_last = 0xc6120001; /* 198.18.0.1 */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stats_path = optarg;
			break;
		case 'b':
			resp.batch = (unsigned)atoi(optarg);
			if (resp.batch > 8192)
				return fprintf(stderr, "bench_ringagent: --batch wants 0..8192\n"),
				       2;
			break;
		case 'v':
			resp.verify_every = (uint32_t)atoi(optarg);
			break;
		case 'd':
			duration = (uint32_t)atoi(optarg);
			break;
		default:
			return fprintf(stderr, "bench_ringagent: bad option\n"), 2;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "run") != 0)
		return fprintf(stderr, "bench_ringagent: want 'run' and sipedge run's arguments\n"),
		       2;
	dp_eal_up_hook = ports_up;
	argv += optind;
	argc -= optind;
	optind = 0; /* ctl_cmd_run parses its own options: 0 resets glibc's getopt in full */
	return ctl_cmd_run(argc, argv);
}
