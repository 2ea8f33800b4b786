/*
 * Per-line failover and failback (DESIGN.md §4, read beside ../shared/seed/): which
 * servers a line should use given the servers' health (one small function per mode),
 * each line's state machine (one transition table), shared server health with probes and
 * back-off, and storm control. Pure logic: time comes in as an argument and commands go
 * out through a callback, so unit tests drive hours of failover in microseconds;
 * control/cli_run.c wires it to the libuv loop and the dataplane's rings.
 */
#ifndef CTL_FAILOVER_H
#define CTL_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/msg.h"

/* Roles of DESIGN.md §4; each is also the server's index in the dataplane's table. */
enum ctl_role {
	CTL_P = 0, /* primary proxy: its domain is the primary AOR's */
	CTL_BP,	   /* backup proxy: its domain is the backup AOR's */
	CTL_R,	   /* primary registrar */
	CTL_BR,	   /* backup registrar */
	CTL_OP,	   /* primary outbound proxy */
	CTL_BOP,   /* backup outbound proxy */
	CTL_ROLE__COUNT
};

enum ctl_aor { CTL_AOR_PRIMARY = 0, CTL_AOR_BACKUP = 1 };

/*
 * Server slots of the dataplane's table: slot r is role r's own (its Request-URI, and its
 * address when the role is given as one); a role given as a host name has its DNS
 * targets (RFC 3263) in slots of their own, CTL_ROLE__COUNT and up. Health is kept per
 * slot; a role is up while one of its slots is.
 */
#define CTL_SLOTS DP_MAX_SERVERS
#define CTL_ROLE_TARGETS_MAX 16

/* A role's targets in failover order: SRV priority, then weight; owned by the caller. */
struct ctl_role_targets {
	bool dns;	 /* the role is a host name: these are its targets */
	bool dns_failed; /* no usable answer: the role is down until DNS answers again */
	unsigned n;
	uint8_t slot[CTL_ROLE_TARGETS_MAX];
	uint16_t priority[CTL_ROLE_TARGETS_MAX];
	uint16_t weight[CTL_ROLE_TARGETS_MAX];
};

/*
 * RFC 2782's weighted choice, spread over line ids: among targets up[] of the best
 * priority, id's target (an index), lines dividing in the weights' ratio; -1: none up.
 */
int ctl_pick_target(unsigned n, const uint16_t *priority, const uint16_t *weight, const bool *up,
		    uint32_t id);

/* Where a line's requests go, as roles: Request-URI server, AOR, next hop. */
struct ctl_targets {
	uint8_t reg; /* enum ctl_role */
	uint8_t aor; /* enum ctl_aor */
	uint8_t via; /* enum ctl_role: the registrar itself, or an outbound proxy */
};

/*
 * The seed table, per mode, as a function of which servers are up:
 * mode 1: registrar R, else BR; AOR of P, else of BP; sent straight to the registrar.
 * mode 2: everything primary (R, AOR of P, via OP when configured) while P, R and OP
 *         work; any of them failed: backup AOR at BR via BOP.
 * mode 3: R with the AOR of P, via OP, else via BOP.
 * A role not configured counts as down; with no choice left the primary stays.
 */
struct ctl_targets ctl_mode_targets(int mode, const bool configured[CTL_ROLE__COUNT],
				    const bool up[CTL_ROLE__COUNT]);
/*
 * Where subscriptions go, the same rows read for SUBSCRIBE (reg is then the proxy that
 * takes them): mode 1: P with the primary AOR, else BP with the backup AOR; mode 2: P via
 * OP while the primaries work, else BP via BOP; mode 3: P (or R when there is no P) via OP,
 * else via BOP.
 */
struct ctl_targets ctl_mode_sub_targets(int mode, const bool configured[CTL_ROLE__COUNT],
					const bool up[CTL_ROLE__COUNT]);

/* ---- one line's state machine ---- */

enum ctl_line_state {
	CTL_L_REGISTERING = 0, /* a registration is under way (first one, refresh, move) */
	CTL_L_IDLE,	       /* not started: a subscription waits for its line's registration */
	CTL_L_REGISTERED,      /* bound at its targets */
	CTL_L_RETRY,	       /* failed; the dataplane tries again after a delay */
	CTL_L_MOVE_WAIT,       /* must move to other targets; waits for storm control */
	CTL_L_LEAVING,	       /* un-registering the old binding before the move */
	CTL_L_STOPPING,	       /* final un-register out */
	CTL_L_STOPPED,
	CTL_L__COUNT
};

enum ctl_line_event {
	CTL_E_REGISTERED = 0, /* dataplane: bound (first time, refresh, after a move) */
	CTL_E_FAILED,	      /* dataplane: the transaction failed (any reason) */
	CTL_E_FLOW_FAILED,    /* dataplane: keep-alive unanswered; it re-registers itself */
	CTL_E_UNREGISTERED,   /* dataplane: the binding was removed */
	CTL_E_RETARGET,	      /* health changed what this line should use */
	CTL_E_GO,	      /* storm control: move now; no reachable old binding to leave */
	CTL_E_GO_LEAVE,	      /* storm control: move now, un-registering the old binding first */
	CTL_E_GO_STAY,	      /* storm control: health went back; the line is already right */
	CTL_E_STOP,	      /* the run ends */
	CTL_E_START,	      /* begin: a subscription once its line is registered */
	CTL_E__COUNT
};

enum ctl_action {
	CTL_A_NONE = 0,
	CTL_A_REGISTER,	  /* register at the wanted targets now */
	CTL_A_RETRY,	  /* register at the wanted targets after the retry delay */
	CTL_A_QUEUE,	  /* join storm control's queue */
	CTL_A_UNREGISTER, /* un-register at the current targets */
	CTL_A_SETTLED,	  /* a move ended where it should: record its time */
};

struct ctl_transition {
	uint8_t action; /* enum ctl_action */
	uint8_t next;	/* enum ctl_line_state */
	uint8_t valid;	/* 0: the event means nothing in this state, ignored and counted */
};

/* The one table: what event ev does to a line in state st. */
const struct ctl_transition *ctl_line_step(enum ctl_line_state st, enum ctl_line_event ev);
const char *ctl_line_state_name(enum ctl_line_state st);
const char *ctl_line_event_name(enum ctl_line_event ev);
const char *ctl_role_name(enum ctl_role r);

/* ---- back-off and storm arithmetic ---- */

/* Probe gap after n failed probes: min * 2^n capped at max, then 50-100 % of it (rnd). */
uint64_t ctl_probe_gap_ms(uint32_t min_ms, uint32_t max_ms, uint32_t n, uint64_t rnd);
/* Lines released per second for a batch of n over window_ms under cap (0: no cap). */
double ctl_storm_rate(uint64_t n, uint32_t window_ms, uint32_t cap);

/* ---- the whole population ---- */

struct ctl_fo_config {
	int mode;
	bool configured[CTL_ROLE__COUNT];
	uint32_t retry_ms;	   /* after a failure without Retry-After */
	uint32_t fail_threshold;   /* failure signals in a row that mark a server down */
	uint32_t timer_f_ms;	   /* a timeout is about a request sent this long before */
	uint32_t probe_min_ms;	   /* first probe of a down server after 50-100 % of this */
	uint32_t probe_max_ms;	   /* back-off cap */
	uint32_t probe_timeout_ms; /* an OPTIONS probe unanswered this long failed */
	/* mode 4, RFC 5626 §4.5: a failed flow registers again after 50-100 % of
	 * min(max, base * 2^consecutive failures), base "all" when no flow of the line is
	 * registered, "ok" when another is */
	uint32_t flow_base_all_ms; /* 30 s */
	uint32_t flow_base_ok_ms;  /* 90 s */
	uint32_t flow_max_ms;	   /* 1800 s */
	uint32_t monitor_ms;	   /* probe gap of up servers that carry no line's traffic */
	bool storm_on;		   /* off: every line moves at once (a stampede) */
	uint32_t storm_window_ms;  /* moves of one batch spread over this */
	uint32_t storm_rate_cap;   /* and never faster than this many lines/s (0: no cap) */
	uint64_t seed;
};

struct ctl_server {
	bool up;
	uint32_t fails_in_row;
	uint64_t first_fail_us; /* first failure of the current run of failures */
	uint64_t last_ok_us;	/* its last answer that showed it alive */
	uint64_t probe_due_us;	/* 0: no probe planned */
	bool probe_out;
	uint32_t probes_failed; /* since it went down: the back-off exponent */
	/* counters */
	uint64_t fail_signals;
	uint64_t fails_outlived; /* timeouts of requests sent before it last answered */
	uint64_t downs;
	uint64_t probes_sent;
	uint64_t probes_ok;
	/* bindings lines held here and left when their un-REGISTER (leaving for another
	 * server, or at the stop) failed: they stay until they expire */
	uint64_t bindings_left;
};

struct ctl_line {
	uint8_t state; /* enum ctl_line_state */
	uint8_t reg, aor, via;
	uint8_t bound_reg; /* role the line holds a binding at, 0xff: none */
	uint8_t bound_via;
	uint8_t queued;
	uint8_t moving;	  /* 0, or the episode + 1 whose move this line is making */
	uint8_t via_slot; /* the slot its requests go to (its via role's, or a DNS target) */
	uint8_t fails;	  /* failures in a row of this flow (mode 4's back-off), saturating */
};

#define CTL_NO_SERVER 0xff
#define CTL_MAX_EPISODES 32

/* One health change that moved lines: a failover (a server went down) or a failback. */
struct ctl_episode {
	bool failback;
	uint8_t role;	      /* the server that went down or came back */
	uint64_t start_us;    /* failover: its first failure signal; failback: the probe answer */
	uint32_t affected;    /* lines that had to move */
	uint32_t settled;     /* of those, registered where they should be */
	uint32_t *latency_ms; /* settled times, in order of arrival */
};

/* Sends one command to the dataplane; returns 0, or -ENOBUFS when its ring is full. */
typedef int (*ctl_fo_cmd_fn)(void *ctx, const struct dp_msg *cmd);

struct ctl_fo {
	struct ctl_fo_config cfg;
	int flow;		/* enum dp_flow: registrations, or subscriptions */
	struct ctl_server *srv; /* health per slot: own_srv, or the registrations' (shared) */
	struct ctl_server own_srv[CTL_SLOTS];
	/* per role, its DNS targets (NULL: every role is an address); shared by the flows */
	struct ctl_role_targets *rt;
	int8_t slot_role[CTL_SLOTS]; /* -1: a slot no role uses */
	const char (*slot_name)[48]; /* DNS target slots' names for reports, or NULL */
	struct ctl_fo *peer;	     /* the other flow of the same lines, sharing health */
	struct ctl_fo *sibling;	     /* mode 4: the lines' other registration flow, or NULL */
	struct ctl_targets want;
	struct ctl_line *line;
	uint32_t n;
	/* storm control: a ring of line ids in random order, released at rate */
	uint32_t *queue;
	uint32_t q_head, q_len;
	double rate; /* lines/s for the queue now; 0: all at once */
	double tokens;
	uint64_t last_release_us;
	bool stopping;
	uint64_t rng;
	ctl_fo_cmd_fn cmd;
	void *cmd_ctx;
	struct ctl_episode ep[CTL_MAX_EPISODES];
	unsigned nep;
	uint32_t bound_at[CTL_ROLE__COUNT]; /* lines bound per registrar role now */
	/* counters */
	uint64_t ignored;     /* events that meant nothing in the line's state */
	uint64_t cmd_dropped; /* commands the ring would not take, retried later */
	uint64_t moves;
	uint64_t steps;
};

/* Lines start in CTL_L_REGISTERING at ctl_fo's first wanted targets (the dataplane's
 * ramp starts them). Returns 0 or -ENOMEM. */
int ctl_fo_init(struct ctl_fo *fo, const struct ctl_fo_config *cfg, uint32_t lines,
		ctl_fo_cmd_fn cmd, void *cmd_ctx);
void ctl_fo_destroy(struct ctl_fo *fo);
/*
 * The subscriptions of the same lines: health shared with regs (one failure signal moves
 * both), targets from ctl_mode_sub_targets, lines idle until their registration is done.
 * Call after ctl_fo_init(subs, ...).
 */
void ctl_fo_follow(struct ctl_fo *subs, struct ctl_fo *regs);
/*
 * Mode 4: the lines' second registration flow (reg-id 2, through BOP): health shared
 * with regs, which keeps its probes; a failed flow of either waits RFC 5626 §4.5's
 * back-off, shorter while the other flow is registered. Call after ctl_fo_init(reg2, ...).
 */
void ctl_fo_second_flow(struct ctl_fo *reg2, struct ctl_fo *regs);
/* RFC 5626 §4.5: the wait before the next registration of a flow that failed fails
 * times in a row (>= 1): 50-100 % (rnd) of min(max, base * 2^fails). */
uint64_t ctl_flow_recovery_ms(uint32_t base_ms, uint32_t max_ms, uint32_t fails, uint64_t rnd);
/*
 * Roles given as host names: rt[role] lists each one's targets (slots). Call once after
 * init (and ctl_fo_follow / ctl_fo_second_flow) with the same table for every flow, then
 * ctl_fo_targets_changed() whenever a role's DNS answer changes.
 */
void ctl_fo_use_targets(struct ctl_fo *fo, struct ctl_role_targets *rt);
/* A role's targets changed (a new DNS answer, or none): lines move where they now belong,
 * under storm control; new slots start up. */
void ctl_fo_targets_changed(struct ctl_fo *fo, int role, uint64_t now_us);
/* Whether role is up: its address answers, or one of its DNS targets does. */
bool ctl_fo_role_up(const struct ctl_fo *fo, int role);
/* The slot line i's requests to role go to. */
uint8_t ctl_fo_via_slot(const struct ctl_fo *fo, int role, uint32_t i);
/* An event from the dataplane (for this flow; probes go to the registrations'). */
void ctl_fo_event(struct ctl_fo *fo, const struct dp_msg *ev, uint64_t now_us);
/*
 * Calls (DESIGN.md §4: INVITE follows the active targets, as SUBSCRIBE does): where a new
 * INVITE goes now, DP_TARGET(proxy role, AOR, next-hop slot), from the servers' health
 * read through ctl_mode_sub_targets.
 */
uint32_t ctl_fo_call_target(const struct ctl_fo *fo);
/* A call's outcome (DP_EV_CALL) as a signal about its next hop: silence or a transport
 * error or 503 is a failure, any other answer shows it alive. */
void ctl_fo_call_event(struct ctl_fo *fo, const struct dp_msg *ev, uint64_t now_us);
/* Periodic work: probes due, storm control's releases. */
void ctl_fo_tick(struct ctl_fo *fo, uint64_t now_us);
/* The run ends: no more moves; every line takes CTL_E_STOP (the dataplane un-registers
 * them all under its rate cap). */
void ctl_fo_stop(struct ctl_fo *fo);
/* Time in ms by which p % (0..100) of the episode's affected lines had settled; -1 while
 * fewer than that have (so p = 100 is -1 until every line moved). Sorts the times. */
int64_t ctl_episode_pct_ms(const struct ctl_episode *e, double p);

#endif
