/*
 * bench_responder: the far side of `bench/run dataplane`. A small DPDK program that plays
 * registrar as fast as it can, so that sipedge's worker, not the kernel or the peer, is
 * what is measured: REGISTER without credentials -> 401, with credentials -> digest
 * checked (every one, or one in N) -> 200; STUN Binding -> success. It runs on its own
 * lcore and prints its counters and its own CPU share as JSON when it ends.
 *
 * --batch N holds its answers until N are ready (or 2 ms passed without a frame) and
 * then sends them back to back: the agent then takes them in full bursts, as from a
 * faster peer, so that its busy time is what the work costs at saturation rather than
 * each poll's fixed cost spread over the one or two frames a slower peer offers.
 *
 * It polls only while the port's link is up: when the agent leaves, DPDK 22.11's memif
 * PMD (the server side) unmaps the rings, and a burst could still read them (a segfault
 * in 3 of 24 short runs, once in a `bench/run dataplane`; sleeping between polls alone
 * did not stop it, the link check did: 0 of 24). After 10 ms without a frame it sleeps
 * 100 us between polls, as the agent's worker backs off, so its CPU share is its load.
 *
 * usage: bench_responder [EAL ARGS] -- [--ip A.B.C.D] [--password PW] [--expires S]
 *                        [--verify-every N] [--batch N] [--duration S] [--stats FILE]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>

#include "bench/resp.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool go_on(void *ctx)
{
	(void)ctx;
	return !stop;
}

int main(int argc, char **argv)
{
	static struct resp r = {.password = "secret", .verify_every = 1};
	const char *stats = NULL;
	uint32_t duration = 60;
	struct in_addr a = {htonl(0xc6120001)};
	int n = rte_eal_init(argc, argv);
	static const struct option opts[] = {
		{"ip", 1, NULL, 'i'},	    {"password", 1, NULL, 'p'},
		{"expires", 1, NULL, 'e'},  {"verify-every", 1, NULL, 'v'},
		{"duration", 1, NULL, 'd'}, {"stats", 1, NULL, 's'},
		{"batch", 1, NULL, 'b'},    {NULL, 0, NULL, 0},
	};
	int c;

	if (n < 0) {
		fprintf(stderr, "bench_responder: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return fprintf(stderr, "bench_responder: bad --ip\n"), 2;
			break;
		case 'p':
			r.password = optarg;
			break;
		case 'e':
			r.expires = (uint32_t)atoi(optarg);
			break;
		case 'v':
			r.verify_every = (uint32_t)atoi(optarg);
			break;
		case 'd':
			duration = (uint32_t)atoi(optarg);
			break;
		case 'b':
			r.batch = (uint32_t)atoi(optarg);
			if (r.batch > 8192)
				return fprintf(stderr, "bench_responder: --batch wants 0..8192\n"),
				       2;
			break;
		case 's':
			stats = optarg;
			break;
		default:
			return fprintf(stderr, "bench_responder: bad option\n"), 2;
		}
	}
	r.net.ip_first = r.net.ip_last = ntohl(a.s_addr);
	if (rte_eth_dev_count_avail() == 0)
		return fprintf(stderr, "bench_responder: no port\n"), 1;
	if (resp_setup(&r, 0) != 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	resp_serve(&r, rte_get_tsc_cycles() + (uint64_t)duration * rte_get_tsc_hz(), stats, go_on,
		   NULL);
	rte_eth_dev_stop(0);
	free(r.tx);
	rte_eal_cleanup();
	return 0;
}
