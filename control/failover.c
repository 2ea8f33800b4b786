/*
 * Failover and failback of every line (control/failover.h). Health is per server and
 * shared: one failure signal feeds every line that uses the server, and the wanted
 * targets of the whole population follow from the mode's table. Lines that must move
 * queue in random order and are released under storm control.
 */
#include "control/failover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define T(a, n)                         \
	{                               \
		CTL_A_##a, CTL_L_##n, 1 \
	}

/*
 * state x event -> action, next state. Rows are states, columns events, in the enums'
 * order; an empty cell is an event that means nothing in that state (ignored, counted).
 */
/* clang-format off */
static const struct ctl_transition ctl__table[CTL_L__COUNT][CTL_E__COUNT] = {
	[CTL_L_REGISTERING] = {
		[CTL_E_REGISTERED] = T(SETTLED, REGISTERED),
		[CTL_E_FAILED] = T(RETRY, RETRY),
		[CTL_E_FLOW_FAILED] = T(NONE, REGISTERING),
		[CTL_E_RETARGET] = T(QUEUE, MOVE_WAIT),
		[CTL_E_STOP] = T(UNREGISTER, STOPPING),
	},
	[CTL_L_IDLE] = {
		[CTL_E_RETARGET] = T(NONE, IDLE), /* it starts at what is wanted then */
		[CTL_E_START] = T(REGISTER, REGISTERING),
		[CTL_E_STOP] = T(NONE, STOPPED),
	},
	[CTL_L_REGISTERED] = {
		[CTL_E_REGISTERED] = T(NONE, REGISTERED), /* a refresh */
		[CTL_E_FAILED] = T(RETRY, RETRY),	  /* a refresh failed */
		[CTL_E_FLOW_FAILED] = T(NONE, REGISTERING), /* the dataplane re-registers */
		[CTL_E_RETARGET] = T(QUEUE, MOVE_WAIT),
		[CTL_E_STOP] = T(UNREGISTER, STOPPING),
	},
	[CTL_L_RETRY] = {
		[CTL_E_REGISTERED] = T(SETTLED, REGISTERED),
		[CTL_E_FAILED] = T(RETRY, RETRY),
		[CTL_E_RETARGET] = T(QUEUE, MOVE_WAIT),
		[CTL_E_STOP] = T(UNREGISTER, STOPPED), /* no binding: nothing comes back */
	},
	[CTL_L_MOVE_WAIT] = {
		/* the old binding lives on (refreshes, failures) until the line's turn */
		[CTL_E_REGISTERED] = T(NONE, MOVE_WAIT),
		[CTL_E_FAILED] = T(NONE, MOVE_WAIT),
		[CTL_E_FLOW_FAILED] = T(NONE, MOVE_WAIT),
		[CTL_E_RETARGET] = T(NONE, MOVE_WAIT),
		[CTL_E_GO] = T(REGISTER, REGISTERING),
		[CTL_E_GO_LEAVE] = T(UNREGISTER, LEAVING),
		[CTL_E_GO_STAY] = T(NONE, REGISTERED),
		[CTL_E_STOP] = T(UNREGISTER, STOPPING),
	},
	[CTL_L_LEAVING] = {
		[CTL_E_REGISTERED] = T(NONE, LEAVING), /* a refresh ended first; un-register next */
		[CTL_E_FAILED] = T(REGISTER, REGISTERING),
		[CTL_E_UNREGISTERED] = T(REGISTER, REGISTERING),
		[CTL_E_RETARGET] = T(NONE, LEAVING), /* it registers at what is wanted then */
		[CTL_E_STOP] = T(NONE, STOPPING),
	},
	[CTL_L_STOPPING] = {
		[CTL_E_REGISTERED] = T(NONE, STOPPING), /* the un-register follows it */
		[CTL_E_FAILED] = T(NONE, STOPPED),
		[CTL_E_UNREGISTERED] = T(NONE, STOPPED),
		[CTL_E_RETARGET] = T(NONE, STOPPING),
		[CTL_E_GO] = T(NONE, STOPPING),
		[CTL_E_GO_LEAVE] = T(NONE, STOPPING),
		[CTL_E_GO_STAY] = T(NONE, STOPPING),
		[CTL_E_STOP] = T(NONE, STOPPING),
	},
	[CTL_L_STOPPED] = {
		[CTL_E_REGISTERED] = T(NONE, STOPPED),
		[CTL_E_FAILED] = T(NONE, STOPPED),
		[CTL_E_FLOW_FAILED] = T(NONE, STOPPED),
		[CTL_E_UNREGISTERED] = T(NONE, STOPPED),
		[CTL_E_RETARGET] = T(NONE, STOPPED),
		[CTL_E_GO] = T(NONE, STOPPED),
		[CTL_E_GO_LEAVE] = T(NONE, STOPPED),
		[CTL_E_GO_STAY] = T(NONE, STOPPED),
		[CTL_E_STOP] = T(NONE, STOPPED),
	},
};
/* clang-format on */

#undef T

const struct ctl_transition *ctl_line_step(enum ctl_line_state st, enum ctl_line_event ev)
{
	static const struct ctl_transition none = {0, 0, 0};

	if ((unsigned)st >= CTL_L__COUNT || (unsigned)ev >= CTL_E__COUNT)
		return &none;
	return &ctl__table[st][ev];
}

const char *ctl_line_state_name(enum ctl_line_state st)
{
	static const char *const n[CTL_L__COUNT] = {"registering", "idle",	"registered",
						    "retry",	   "move-wait", "leaving",
						    "stopping",	   "stopped"};

	return (unsigned)st < CTL_L__COUNT ? n[st] : "?";
}

const char *ctl_line_event_name(enum ctl_line_event ev)
{
	static const char *const n[CTL_E__COUNT] = {
		"registered", "failed",	  "flow-failed", "unregistered", "retarget",
		"go",	      "go-leave", "go-stay",	 "stop",	 "start"};

	return (unsigned)ev < CTL_E__COUNT ? n[ev] : "?";
}

const char *ctl_role_name(enum ctl_role r)
{
	static const char *const n[CTL_ROLE__COUNT] = {"P", "BP", "R", "BR", "OP", "BOP"};

	return (unsigned)r < CTL_ROLE__COUNT ? n[r] : "?";
}

/* ---- the seed table per mode ---- */

struct ctl_targets ctl_mode_targets(int mode, const bool configured[CTL_ROLE__COUNT],
				    const bool up[CTL_ROLE__COUNT])
{
	bool ok[CTL_ROLE__COUNT];
	struct ctl_targets t = {CTL_R, CTL_AOR_PRIMARY, CTL_R};

	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		ok[r] = configured[r] && up[r];
	switch (mode) {
	case 1: /* registrar and proxy fail independently */
		t.reg = ok[CTL_R] || !ok[CTL_BR] ? CTL_R : CTL_BR;
		t.aor = ok[CTL_P] || !ok[CTL_BP] ? CTL_AOR_PRIMARY : CTL_AOR_BACKUP;
		t.via = t.reg;
		return t;
	case 2: { /* any failure: the whole backup path */
		bool primary = ok[CTL_P] && ok[CTL_R] && (!configured[CTL_OP] || ok[CTL_OP]);
		bool backup = ok[CTL_BR] && (!configured[CTL_BOP] || ok[CTL_BOP]);

		if (primary || !backup) {
			t.via = configured[CTL_OP] ? CTL_OP : CTL_R;
			return t;
		}
		t.reg = CTL_BR;
		t.aor = CTL_AOR_BACKUP;
		t.via = configured[CTL_BOP] ? CTL_BOP : CTL_BR;
		return t;
	}
	case 4: /* outbound: flow 1 through OP (flow 2 through BOP, ctl__targets); the
		 * registrar fails over as in mode 1 */
		t.reg = ok[CTL_R] || !ok[CTL_BR] ? CTL_R : CTL_BR;
		t.via = configured[CTL_OP] ? CTL_OP : t.reg;
		return t;
	default: /* 3: only the outbound proxy changes */
		t.via = ok[CTL_OP] || !ok[CTL_BOP] ? CTL_OP : CTL_BOP;
		if (!configured[CTL_OP])
			t.via = CTL_R;
		return t;
	}
}

struct ctl_targets ctl_mode_sub_targets(int mode, const bool configured[CTL_ROLE__COUNT],
					const bool up[CTL_ROLE__COUNT])
{
	bool ok[CTL_ROLE__COUNT];
	struct ctl_targets t = {CTL_P, CTL_AOR_PRIMARY, CTL_P};

	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		ok[r] = configured[r] && up[r];
	if (!configured[CTL_P]) /* no proxy: the registrar is the phone's proxy */
		t.reg = t.via = CTL_R;
	switch (mode) {
	case 1:
		if (!ok[CTL_P] && ok[CTL_BP])
			t = (struct ctl_targets){CTL_BP, CTL_AOR_BACKUP, CTL_BP};
		return t;
	case 2: {
		bool primary = ok[CTL_P] && ok[CTL_R] && (!configured[CTL_OP] || ok[CTL_OP]);
		bool backup = ok[CTL_BP] && (!configured[CTL_BOP] || ok[CTL_BOP]);

		if (primary || !backup) {
			t.via = configured[CTL_OP] ? CTL_OP : t.reg;
			return t;
		}
		return (struct ctl_targets){CTL_BP, CTL_AOR_BACKUP,
					    configured[CTL_BOP] ? CTL_BOP : CTL_BP};
	}
	default:
		if (configured[CTL_OP])
			t.via = ok[CTL_OP] || !ok[CTL_BOP] ? CTL_OP : CTL_BOP;
		return t;
	}
}

/* ---- arithmetic ---- */

uint64_t ctl_probe_gap_ms(uint32_t min_ms, uint32_t max_ms, uint32_t n, uint64_t rnd)
{
	uint64_t gap = min_ms;

	for (uint32_t k = 0; k < n && gap < max_ms; k++)
		gap *= 2;
	if (gap > max_ms)
		gap = max_ms;
	/* 50-100 %: probes of many instances do not line up (RFC 5626 §4.5 does the same) */
	return gap / 2 + rnd % (gap / 2 + 1);
}

uint64_t ctl_flow_recovery_ms(uint32_t base_ms, uint32_t max_ms, uint32_t fails, uint64_t rnd)
{
	/* W = min(max-time, base-time * 2^consecutive-failures), then 50-100 % of W */
	return ctl_probe_gap_ms(base_ms, max_ms, fails, rnd);
}

double ctl_storm_rate(uint64_t n, uint32_t window_ms, uint32_t cap)
{
	double r = window_ms ? (double)n * 1000.0 / window_ms : 0;

	if (cap && (r == 0 || r > cap))
		r = cap;
	return r;
}

static uint64_t ctl__rand(struct ctl_fo *fo)
{
	fo->rng ^= fo->rng >> 12;
	fo->rng ^= fo->rng << 25;
	fo->rng ^= fo->rng >> 27;
	return fo->rng * 0x2545f4914f6cdd1dull;
}

/* ---- the population ---- */

int ctl_fo_init(struct ctl_fo *fo, const struct ctl_fo_config *cfg, uint32_t lines,
		ctl_fo_cmd_fn cmd, void *cmd_ctx)
{
	bool up[CTL_ROLE__COUNT];

	memset(fo, 0, sizeof(*fo));
	fo->cfg = *cfg;
	fo->srv = fo->own_srv;
	fo->n = lines;
	fo->cmd = cmd;
	fo->cmd_ctx = cmd_ctx;
	fo->rng = cfg->seed | 1;
	fo->line = calloc(lines, sizeof(*fo->line));
	fo->queue = calloc(lines, sizeof(*fo->queue));
	if (!fo->line || !fo->queue) {
		ctl_fo_destroy(fo);
		return -ENOMEM;
	}
	for (int k = 0; k < CTL_SLOTS; k++)
		fo->slot_role[k] = (int8_t)(k < CTL_ROLE__COUNT ? k : -1);
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		fo->srv[r].up = cfg->configured[r];
		up[r] = fo->srv[r].up;
	}
	fo->want = ctl_mode_targets(cfg->mode, cfg->configured, up);
	for (uint32_t i = 0; i < lines; i++) {
		fo->line[i] = (struct ctl_line){
			.state = CTL_L_REGISTERING,
			.reg = fo->want.reg,
			.aor = fo->want.aor,
			.via = fo->want.via,
			.bound_reg = CTL_NO_SERVER,
			.bound_via = CTL_NO_SERVER,
			.via_slot = fo->want.via,
		};
	}
	return 0;
}

/* ---- slots: roles and their DNS targets ---- */

int ctl_pick_target(unsigned n, const uint16_t *priority, const uint16_t *weight, const bool *up,
		    uint32_t id)
{
	uint64_t total = 0, x;
	double f = (double)id * 0.6180339887498949;
	int best = -1;

	for (unsigned k = 0; k < n; k++) {
		if (up[k] && (best < 0 || priority[k] < priority[best]))
			best = (int)k;
	}
	if (best < 0)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		if (up[k] && priority[k] == priority[best])
			total += weight[k] + 1ull; /* weight 0 still gets a share (RFC 2782) */
	}
	/* multiples of the golden ratio mod 1 spread ids evenly over [0, 1) */
	x = (uint64_t)((double)total * (f - (double)(uint64_t)f));
	for (unsigned k = 0; k < n; k++) {
		if (!up[k] || priority[k] != priority[best])
			continue;
		if (x < weight[k] + 1ull)
			return (int)k;
		x -= weight[k] + 1ull;
	}
	return best;
}

static bool ctl__is_dns(const struct ctl_fo *fo, int role)
{
	return fo->rt && role >= 0 && role < CTL_ROLE__COUNT && fo->rt[role].dns;
}

/* A slot health is kept for: a role given as an address, or a DNS target. */
static bool ctl__slot_used(const struct ctl_fo *fo, int slot)
{
	if (slot < 0 || slot >= CTL_SLOTS)
		return false;
	if (slot < CTL_ROLE__COUNT)
		return fo->cfg.configured[slot] && !ctl__is_dns(fo, slot);
	return fo->slot_role[slot] >= 0;
}

bool ctl_fo_role_up(const struct ctl_fo *fo, int role)
{
	const struct ctl_role_targets *t;

	if (!ctl__is_dns(fo, role))
		return fo->srv[role].up;
	t = &fo->rt[role];
	for (unsigned k = 0; k < t->n && !t->dns_failed; k++) {
		if (fo->srv[t->slot[k]].up)
			return true;
	}
	return false;
}

uint8_t ctl_fo_via_slot(const struct ctl_fo *fo, int role, uint32_t i)
{
	const struct ctl_role_targets *t;
	bool up[CTL_ROLE_TARGETS_MAX];
	int k;

	if (!ctl__is_dns(fo, role))
		return (uint8_t)role;
	t = &fo->rt[role];
	if (!t->n)
		return (uint8_t)role;
	/* the line's own share first, health aside: a target failing or returning moves
	 * only its own lines; those pick again among the targets up */
	for (unsigned j = 0; j < t->n; j++)
		up[j] = true;
	k = ctl_pick_target(t->n, t->priority, t->weight, up, i);
	if (k >= 0 && fo->srv[t->slot[k]].up)
		return t->slot[k];
	for (unsigned j = 0; j < t->n; j++)
		up[j] = fo->srv[t->slot[j]].up;
	k = ctl_pick_target(t->n, t->priority, t->weight, up, i);
	return t->slot[k < 0 ? 0 : k];
}

static void ctl__roles_up(const struct ctl_fo *fo, bool up[CTL_ROLE__COUNT])
{
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		up[r] = ctl_fo_role_up(fo, r);
}

void ctl_fo_destroy(struct ctl_fo *fo)
{
	if (!fo)
		return;
	for (unsigned k = 0; k < fo->nep; k++)
		free(fo->ep[k].latency_ms);
	free(fo->line);
	free(fo->queue);
	fo->line = NULL;
	fo->queue = NULL;
	fo->nep = 0;
}

static struct ctl_targets ctl__targets(const struct ctl_fo *fo, const bool up[CTL_ROLE__COUNT])
{
	struct ctl_targets t;

	if (fo->flow == DP_FLOW_SUBSCRIBE)
		return ctl_mode_sub_targets(fo->cfg.mode, fo->cfg.configured, up);
	t = ctl_mode_targets(fo->cfg.mode, fo->cfg.configured, up);
	if (fo->flow == DP_FLOW_REGISTER2) /* reg-id 2 keeps to the backup outbound proxy */
		t.via = CTL_BOP;
	return t;
}

/* Another flow of the same lines (flow): health shared with regs, its first targets
 * from the table, every line at them. */
static void ctl__join(struct ctl_fo *fo, struct ctl_fo *regs, int flow)
{
	bool up[CTL_ROLE__COUNT];

	fo->flow = flow;
	fo->srv = regs->srv;
	ctl__roles_up(regs, up);
	fo->want = ctl__targets(fo, up);
	for (uint32_t i = 0; i < fo->n; i++) {
		fo->line[i].reg = fo->want.reg;
		fo->line[i].aor = fo->want.aor;
		fo->line[i].via = fo->line[i].via_slot = fo->want.via;
	}
}

void ctl_fo_follow(struct ctl_fo *subs, struct ctl_fo *regs)
{
	subs->peer = regs;
	regs->peer = subs;
	ctl__join(subs, regs, DP_FLOW_SUBSCRIBE);
	for (uint32_t i = 0; i < subs->n; i++)
		subs->line[i].state = CTL_L_IDLE; /* until the line has registered */
}

void ctl_fo_second_flow(struct ctl_fo *reg2, struct ctl_fo *regs)
{
	reg2->sibling = regs;
	regs->sibling = reg2;
	ctl__join(reg2, regs, DP_FLOW_REGISTER2);
}

/* Whether line i at (reg, aor, via slot) is where it should be now. */
static bool ctl__is_want(const struct ctl_fo *fo, uint32_t i, uint8_t reg, uint8_t aor,
			 uint8_t via_slot)
{
	return reg == fo->want.reg && aor == fo->want.aor && via_slot < CTL_SLOTS &&
	       fo->slot_role[via_slot] == fo->want.via &&
	       via_slot == ctl_fo_via_slot(fo, fo->want.via, i);
}

static void ctl__enqueue(struct ctl_fo *fo, uint32_t i)
{
	if (fo->line[i].queued)
		return;
	fo->line[i].queued = 1;
	fo->queue[(fo->q_head + fo->q_len) % fo->n] = i;
	fo->q_len++;
}

static void ctl__unbind(struct ctl_fo *fo, struct ctl_line *l)
{
	if (l->bound_reg != CTL_NO_SERVER)
		fo->bound_at[l->bound_reg]--;
	l->bound_reg = l->bound_via = CTL_NO_SERVER;
}

/* The line's moving episode ends if it is now bound where it should be. */
static void ctl__settled(struct ctl_fo *fo, struct ctl_line *l, uint64_t now_us)
{
	struct ctl_episode *e;

	if (!l->moving || !ctl__is_want(fo, (uint32_t)(l - fo->line), l->reg, l->aor, l->via_slot))
		return;
	e = &fo->ep[l->moving - 1];
	l->moving = 0;
	if (e->latency_ms && e->settled < e->affected)
		e->latency_ms[e->settled++] = (uint32_t)((now_us - e->start_us) / 1000);
}

/* Send a command for line i; on a full ring the line queues for a move, so that no line
 * is left waiting for a command that never went out. */
static int ctl__send(struct ctl_fo *fo, uint32_t i, uint16_t type, uint32_t target,
		     uint32_t delay_ms)
{
	struct dp_msg c = {.type = type,
			   .line = i,
			   .value = delay_ms,
			   .target = target,
			   .flow = (uint16_t)fo->flow};

	if (fo->cmd(fo->cmd_ctx, &c) == 0)
		return 0;
	fo->cmd_dropped++;
	return -ENOBUFS;
}

static void ctl__act(struct ctl_fo *fo, uint32_t i, const struct ctl_transition *t,
		     uint32_t retry_ms, uint64_t now_us)
{
	struct ctl_line *l = &fo->line[i];
	uint8_t via_slot = ctl_fo_via_slot(fo, fo->want.via, i);
	uint32_t tgt = DP_TARGET(fo->want.reg, fo->want.aor, via_slot) | DP_TARGET_SET;

	l->state = t->next;
	switch ((enum ctl_action)t->action) {
	case CTL_A_NONE:
		return;
	case CTL_A_SETTLED:
		return ctl__settled(fo, l, now_us);
	case CTL_A_QUEUE:
		return ctl__enqueue(fo, i);
	case CTL_A_UNREGISTER:
		if (fo->stopping)
			return; /* the dataplane's un-register ramp reaches every line */
		if (ctl__send(fo, i, DP_CMD_UNREGISTER, 0, 0) != 0) {
			l->state = CTL_L_MOVE_WAIT;
			ctl__enqueue(fo, i);
		}
		return;
	case CTL_A_REGISTER:
	case CTL_A_RETRY:
		if (fo->stopping)
			return;
		if (l->bound_reg != CTL_NO_SERVER &&
		    !ctl__is_want(fo, i, l->reg, l->aor, l->via_slot))
			ctl__unbind(fo, l); /* the dataplane leaves that binding behind too */
		if (ctl__send(fo, i, DP_CMD_REGISTER, tgt,
			      t->action == CTL_A_RETRY ? retry_ms : 0) != 0) {
			l->state = CTL_L_MOVE_WAIT;
			ctl__enqueue(fo, i);
			return;
		}
		l->reg = fo->want.reg;
		l->aor = fo->want.aor;
		l->via = fo->want.via;
		l->via_slot = via_slot;
		if (t->action == CTL_A_REGISTER)
			fo->moves++;
		return;
	}
}

static void ctl__step(struct ctl_fo *fo, uint32_t i, enum ctl_line_event ev, uint32_t retry_ms,
		      uint64_t now_us)
{
	const struct ctl_transition *t = ctl_line_step(fo->line[i].state, ev);

	fo->steps++;
	if (!t->valid) {
		fo->ignored++;
		return;
	}
	ctl__act(fo, i, t, retry_ms, now_us);
}

/* ---- server health ---- */

static struct ctl_episode *ctl__episode(struct ctl_fo *fo, bool failback, int role,
					uint64_t start_us)
{
	struct ctl_episode *e;

	if (fo->nep == CTL_MAX_EPISODES)
		return NULL;
	e = &fo->ep[fo->nep];
	*e = (struct ctl_episode){
		.failback = failback, .role = (uint8_t)role, .start_us = start_us};
	e->latency_ms = calloc(fo->n, sizeof(*e->latency_ms));
	if (!e->latency_ms)
		return NULL;
	fo->nep++;
	return e;
}

/* Health changed: recompute the wanted targets; lines elsewhere must move. */
/*
 * Health changed: recompute the wanted targets; lines elsewhere must move. slots: a slot
 * of a role with DNS targets changed, so lines may move within a role (SRV order,
 * weights) even when the wanted roles stay.
 */
static void ctl__retarget(struct ctl_fo *fo, bool failback, int role, uint64_t start_us,
			  uint64_t now_us, bool slots)
{
	bool up[CTL_ROLE__COUNT];
	struct ctl_targets t;
	struct ctl_episode *e = NULL;
	uint32_t before = fo->q_len;
	bool same;

	ctl__roles_up(fo, up);
	t = ctl__targets(fo, up);
	same = t.reg == fo->want.reg && t.aor == fo->want.aor && t.via == fo->want.via;
	if (same && !slots)
		return;
	fo->want = t;
	if (!same)
		e = ctl__episode(fo, failback, role, start_us);
	for (uint32_t i = 0; i < fo->n; i++) {
		struct ctl_line *l = &fo->line[i];

		if (l->state == CTL_L_STOPPING || l->state == CTL_L_STOPPED)
			continue;
		if (l->state == CTL_L_IDLE) { /* not started: it starts where wanted */
			l->reg = fo->want.reg;
			l->aor = fo->want.aor;
			l->via = fo->want.via;
			l->via_slot = ctl_fo_via_slot(fo, fo->want.via, i);
			continue;
		}
		if (ctl__is_want(fo, i, l->reg, l->aor, l->via_slot) && l->state != CTL_L_MOVE_WAIT)
			continue;
		if (same && l->state == CTL_L_MOVE_WAIT)
			continue; /* queued already, by the episode that moved it */
		if (!e)		  /* the first line to move within its role opens the episode */
			e = ctl__episode(fo, failback, role, start_us);
		if (l->moving && fo->ep[l->moving - 1].affected)
			fo->ep[l->moving - 1].affected--; /* superseded: this episode owns it now */
		l->moving = e ? (uint8_t)(e - fo->ep + 1) : 0;
		if (e)
			e->affected++;
		ctl__step(fo, i, CTL_E_RETARGET, 0, now_us);
	}
	/* per-line jitter: the new arrivals take a random order (Fisher-Yates) */
	for (uint32_t k = fo->q_len - before; k > 1; k--) {
		uint32_t a = (fo->q_head + before + k - 1) % fo->n;
		uint32_t b = (fo->q_head + before + (uint32_t)(ctl__rand(fo) % k)) % fo->n;
		uint32_t x = fo->queue[a];

		fo->queue[a] = fo->queue[b];
		fo->queue[b] = x;
	}
	if (fo->q_len == before && same)
		return; /* nothing moved: the pace of what queued before stays */
	fo->rate = fo->cfg.storm_on ? ctl_storm_rate(fo->q_len, fo->cfg.storm_window_ms,
						     fo->cfg.storm_rate_cap)
				    : 0;
	if (fo->last_release_us < now_us)
		fo->last_release_us = now_us;
}

static void ctl__plan_probe(struct ctl_fo *fo, int role, uint64_t now_us)
{
	struct ctl_server *s = &fo->srv[role];

	s->probe_due_us =
		now_us + 1000 * ctl_probe_gap_ms(fo->cfg.probe_min_ms, fo->cfg.probe_max_ms,
						 s->probes_failed, ctl__rand(fo));
}

/* The lines' first registration flow, whichever flow of theirs fo is. */
static struct ctl_fo *ctl__root(struct ctl_fo *fo)
{
	return fo->flow == DP_FLOW_SUBSCRIBE   ? fo->peer
	       : fo->flow == DP_FLOW_REGISTER2 ? fo->sibling
					       : fo;
}

/*
 * Mode 4: an outbound proxy came back, and the flows through it recover in the background
 * (RFC 5626 §4.5): a failback episode of the lines whose flow there is down, each settled
 * when it registers again, so the summary tells how long recovery took.
 */
static void ctl__recovery(struct ctl_fo *fo, int role, uint64_t now_us)
{
	struct ctl_episode *e = NULL;

	if (fo->cfg.mode != 4 || fo->want.via != role)
		return;
	for (uint32_t i = 0; i < fo->n; i++) {
		struct ctl_line *l = &fo->line[i];

		if (l->bound_reg != CTL_NO_SERVER ||
		    (l->state != CTL_L_RETRY && l->state != CTL_L_REGISTERING))
			continue;
		if (!e && !(e = ctl__episode(fo, true, role, now_us)))
			return; /* only when some line has a flow to recover */
		if (l->moving && fo->ep[l->moving - 1].affected)
			fo->ep[l->moving - 1].affected--;
		l->moving = (uint8_t)(e - fo->ep + 1);
		e->affected++;
	}
}

/* Shared health: every flow of the lines follows the change. */
static void ctl__retarget_all(struct ctl_fo *fo, bool failback, int role, uint64_t start_us,
			      uint64_t now_us, bool slots)
{
	struct ctl_fo *root = ctl__root(fo);

	ctl__retarget(root, failback, role, start_us, now_us, slots);
	if (root->sibling)
		ctl__retarget(root->sibling, failback, role, start_us, now_us, slots);
	if (root->peer)
		ctl__retarget(root->peer, failback, role, start_us, now_us, slots);
	if (failback) {
		ctl__recovery(root, role, now_us);
		if (root->sibling)
			ctl__recovery(root->sibling, role, now_us);
	}
}

static uint64_t ctl__sent_before(uint64_t now_us, uint32_t ms)
{
	return now_us > 1000ull * ms ? now_us - 1000ull * ms : 0;
}

/*
 * A failure signal about a request sent at sent_us. A server that answered after that
 * request left is alive: its timeout is a loss (an overloaded server drops some of a
 * stampede and answers the rest), counted, but it does not bring the server nearer down.
 */
static void ctl__server_failed(struct ctl_fo *fo, int slot, uint64_t sent_us, uint64_t now_us)
{
	struct ctl_server *s = &fo->srv[slot < CTL_SLOTS ? slot : 0];
	int role;

	if (!ctl__slot_used(fo, slot))
		return;
	role = fo->slot_role[slot];
	s->fail_signals++;
	if (!s->up)
		return;
	if (s->last_ok_us > sent_us) {
		s->fails_outlived++;
		return;
	}
	if (s->fails_in_row++ == 0)
		s->first_fail_us = now_us;
	if (s->fails_in_row < fo->cfg.fail_threshold)
		return;
	s->up = false;
	s->downs++;
	s->probes_failed = 0;
	ctl__plan_probe(fo, slot, now_us);
	ctl__retarget_all(fo, false, role, s->first_fail_us, now_us, ctl__is_dns(fo, role));
}

static void ctl__server_ok(struct ctl_fo *fo, int slot, uint64_t now_us)
{
	struct ctl_server *s = &fo->srv[slot < CTL_SLOTS ? slot : 0];
	int role;

	if (!ctl__slot_used(fo, slot))
		return;
	role = fo->slot_role[slot];
	s->fails_in_row = 0;
	s->last_ok_us = now_us;
	if (s->up)
		return;
	s->up = true;
	s->probe_due_us = 0;
	ctl__retarget_all(fo, true, role, now_us, now_us, ctl__is_dns(fo, role));
}

static void ctl__probe_result(struct ctl_fo *fo, const struct dp_msg *ev, uint64_t now_us)
{
	int role = (int)DP_TARGET_VIA(ev->target); /* the probed slot */
	struct ctl_server *s;

	if (!ctl__slot_used(fo, role))
		return;
	s = &fo->srv[role];
	s->probe_out = false;
	s->probe_due_us = 0;
	/* any final answer but 503 shows a live server (RFC 3261 §21.5.4: 503 is overload) */
	if (ev->reason == DP_FAIL_NONE && ev->value != 503) {
		s->probes_ok++;
		ctl__server_ok(fo, role, now_us);
		return;
	}
	if (!s->up) {
		s->probes_failed++;
		ctl__plan_probe(fo, role, now_us);
		return;
	}
	ctl__server_failed(fo, role,
			   ev->reason == DP_FAIL_TIMEOUT
				   ? ctl__sent_before(now_us, fo->cfg.probe_timeout_ms)
				   : now_us,
			   now_us);
}

/* ---- roles given as host names ---- */

/* Which role each slot serves, from the targets table; returns the slots that are new. */
static void ctl__slot_roles(struct ctl_fo *fo, bool fresh[CTL_SLOTS])
{
	int8_t before[CTL_SLOTS];

	memcpy(before, fo->slot_role, sizeof(before));
	for (int k = 0; k < CTL_SLOTS; k++)
		fo->slot_role[k] = (int8_t)(k < CTL_ROLE__COUNT ? k : -1);
	for (int r = 0; fo->rt && r < CTL_ROLE__COUNT; r++) {
		for (unsigned k = 0; fo->rt[r].dns && k < fo->rt[r].n; k++)
			fo->slot_role[fo->rt[r].slot[k]] = (int8_t)r;
	}
	for (int k = 0; k < CTL_SLOTS; k++)
		fresh[k] = k >= CTL_ROLE__COUNT && fo->slot_role[k] >= 0 &&
			   before[k] != fo->slot_role[k];
}

/* A slot that begins to serve a role starts up, with no history. */
static void ctl__fresh_slots(struct ctl_fo *fo, const bool fresh[CTL_SLOTS])
{
	for (int k = 0; k < CTL_SLOTS; k++) {
		if (fresh[k])
			fo->srv[k] = (struct ctl_server){.up = true};
	}
}

void ctl_fo_use_targets(struct ctl_fo *fo, struct ctl_role_targets *rt)
{
	bool fresh[CTL_SLOTS], up[CTL_ROLE__COUNT];

	fo->rt = rt;
	ctl__slot_roles(fo, fresh);
	if (fo->srv == fo->own_srv)
		ctl__fresh_slots(fo, fresh);
	ctl__roles_up(fo, up);
	fo->want = ctl__targets(fo, up);
	for (uint32_t i = 0; i < fo->n; i++) {
		struct ctl_line *l = &fo->line[i];

		l->reg = fo->want.reg;
		l->aor = fo->want.aor;
		l->via = fo->want.via;
		l->via_slot = ctl_fo_via_slot(fo, l->via, i);
	}
}

void ctl_fo_targets_changed(struct ctl_fo *fo, int role, uint64_t now_us)
{
	struct ctl_fo *root = ctl__root(fo);
	struct ctl_fo *flows[3] = {root, root->sibling, root->peer};
	bool fresh[CTL_SLOTS];

	for (int k = 0; k < 3; k++) {
		if (!flows[k])
			continue;
		ctl__slot_roles(flows[k], fresh);
		if (flows[k]->srv == flows[k]->own_srv)
			ctl__fresh_slots(flows[k], fresh);
	}
	ctl__retarget_all(root, false, role, now_us, now_us, true);
}

/* ---- events, ticks ---- */

/* Mode 4: how long line i's failed flow waits before it registers again (§4.5). */
static uint32_t ctl__flow_wait_ms(struct ctl_fo *fo, uint32_t i)
{
	struct ctl_line *l = &fo->line[i];
	const struct ctl_fo *other = fo->sibling;
	bool other_up = other && other->line[i].bound_reg != CTL_NO_SERVER;

	if (l->fails < UINT8_MAX)
		l->fails++;
	return (uint32_t)ctl_flow_recovery_ms(other_up ? fo->cfg.flow_base_ok_ms
						       : fo->cfg.flow_base_all_ms,
					      fo->cfg.flow_max_ms, l->fails, ctl__rand(fo));
}

void ctl_fo_event(struct ctl_fo *fo, const struct dp_msg *ev, uint64_t now_us)
{
	struct ctl_line *l;
	uint8_t reg = (uint8_t)DP_TARGET_REG(ev->target), via = (uint8_t)DP_TARGET_VIA(ev->target);
	uint32_t retry_ms = fo->cfg.retry_ms;
	bool current;

	if (ev->type == DP_EV_PROBE)
		return ctl__probe_result(fo, ev, now_us);
	if (ev->line >= fo->n)
		return;
	l = &fo->line[ev->line];
	/* an event about targets the line has since left still tells about that server */
	current = reg == l->reg && DP_TARGET_AOR(ev->target) == l->aor && via == l->via_slot;
	switch (ev->type) {
	case DP_EV_REGISTERED:
		ctl__server_ok(fo, via, now_us);
		if (!current)
			break;
		if (l->bound_reg != reg) {
			ctl__unbind(fo, l);
			fo->bound_at[reg]++;
		}
		l->bound_reg = reg;
		l->bound_via = via;
		ctl__step(fo, ev->line, CTL_E_REGISTERED, 0, now_us);
		/* a line subscribes once it is registered, as a phone does */
		l->fails = 0;
		if (fo->flow != DP_FLOW_SUBSCRIBE && ctl__root(fo)->peer &&
		    ctl__root(fo)->peer->line[ev->line].state == CTL_L_IDLE)
			ctl__step(ctl__root(fo)->peer, ev->line, CTL_E_START, 0, now_us);
		return;
	case DP_EV_FAILED:
		/* DESIGN.md §4: timeout, transport error, 503; and what a proxy on the way
		 * says when the next hop is gone: 408 (its timer fired), 502/504 */
		if (ev->reason == DP_FAIL_TIMEOUT) {
			ctl__server_failed(fo, via, ctl__sent_before(now_us, fo->cfg.timer_f_ms),
					   now_us);
		} else if ((ev->value == 408 || ev->value == 502 || ev->value == 504) &&
			   via < CTL_SLOTS && fo->slot_role[via] != reg) {
			/* a proxy on the way answered: it lives; its next hop failed */
			ctl__server_ok(fo, via, now_us);
			ctl__server_failed(fo, reg, now_us, now_us);
		} else if (ev->reason == DP_FAIL_TRANSPORT || ev->value == 503 ||
			   ev->value == 408 || ev->value == 502 || ev->value == 504) {
			ctl__server_failed(fo, via, now_us, now_us);
		}
		if (!current)
			break;
		if ((l->state == CTL_L_LEAVING || l->state == CTL_L_STOPPING) &&
		    l->bound_reg != CTL_NO_SERVER)
			fo->srv[l->bound_reg].bindings_left++; /* its un-REGISTER failed */
		ctl__unbind(fo, l);
		if (fo->cfg.mode == 4 && fo->flow != DP_FLOW_SUBSCRIBE)
			retry_ms = ctl__flow_wait_ms(fo, ev->line);
		/* Retry-After; a flow's back-off may only make the wait longer */
		if (ev->reason == DP_FAIL_5XX && ev->value2 &&
		    (fo->cfg.mode != 4 || ev->value2 * 1000 > retry_ms))
			retry_ms = ev->value2 * 1000;
		/* a notifier ended the subscription: its reason set the wait, 0 for at once */
		if (ev->reason == DP_FAIL_TERMINATED)
			retry_ms = ev->value2 * 1000;
		return ctl__step(fo, ev->line, CTL_E_FAILED, retry_ms, now_us);
	case DP_EV_FLOW_FAILED:
		/* a missed keep-alive is the server's silence; a connection that ended (a
		 * reset, a close: TCP/TLS) is not by itself: a server may close idle
		 * connections. The flow's new connection tells, as its REGISTER fails or not */
		if (ev->reason != DP_FAIL_TRANSPORT)
			ctl__server_failed(fo, via, now_us, now_us);
		if (!current)
			break;
		ctl__unbind(fo, l);
		return ctl__step(fo, ev->line, CTL_E_FLOW_FAILED, 0, now_us);
	case DP_EV_UNREGISTERED:
		if (!current)
			break;
		ctl__unbind(fo, l);
		return ctl__step(fo, ev->line, CTL_E_UNREGISTERED, 0, now_us);
	default:
		return;
	}
	fo->ignored++;
}

uint32_t ctl_fo_call_target(const struct ctl_fo *fo)
{
	bool up[CTL_ROLE__COUNT];
	struct ctl_targets t;

	ctl__roles_up(fo, up);
	t = ctl_mode_sub_targets(fo->cfg.mode, fo->cfg.configured, up);
	return DP_TARGET(t.reg, t.aor, ctl_fo_via_slot(fo, t.via, 0));
}

void ctl_fo_call_event(struct ctl_fo *fo, const struct dp_msg *ev, uint64_t now_us)
{
	int via = (int)DP_TARGET_VIA(ev->target);

	if (ev->reason == DP_FAIL_TIMEOUT)
		ctl__server_failed(fo, via, ctl__sent_before(now_us, fo->cfg.timer_f_ms), now_us);
	else if (ev->reason == DP_FAIL_TRANSPORT || ev->value == 503)
		ctl__server_failed(fo, via, now_us, now_us);
	else
		ctl__server_ok(fo, via, now_us); /* whatever the callee said, the hop lives */
}

/* Release one queued line: which kind of GO depends on where it stands now. */
static bool ctl__release(struct ctl_fo *fo, uint64_t now_us)
{
	uint32_t i = fo->queue[fo->q_head];
	struct ctl_line *l = &fo->line[i];
	enum ctl_line_event ev;
	uint64_t dropped = fo->cmd_dropped;

	fo->q_head = (fo->q_head + 1) % fo->n;
	fo->q_len--;
	l->queued = 0;
	if (l->state != CTL_L_MOVE_WAIT)
		return true;
	if (l->bound_reg != CTL_NO_SERVER &&
	    ctl__is_want(fo, i, l->bound_reg, l->aor, l->bound_via))
		ev = CTL_E_GO_STAY;
	else if (l->bound_reg != CTL_NO_SERVER && ctl_fo_role_up(fo, l->bound_reg) &&
		 l->bound_via < CTL_SLOTS && fo->srv[l->bound_via].up)
		/* leave cleanly only where the request can arrive: a REGISTER (or SUBSCRIBE)
		 * with expiry 0 held by a live proxy for a dead server would reach it late */
		ev = CTL_E_GO_LEAVE;
	else
		ev = CTL_E_GO;
	ctl__step(fo, i, ev, 0, now_us);
	if (ev == CTL_E_GO_STAY)
		ctl__settled(fo, l, now_us);
	return fo->cmd_dropped == dropped; /* a full ring: try the rest next tick */
}

static void ctl__storm(struct ctl_fo *fo, uint64_t now_us)
{
	if (fo->stopping || !fo->q_len) {
		fo->tokens = 0;
		fo->last_release_us = now_us;
		return;
	}
	if (fo->rate > 0) {
		fo->tokens += fo->rate * (double)(now_us - fo->last_release_us) / 1e6;
		fo->last_release_us = now_us;
		while (fo->q_len && fo->tokens >= 1) {
			fo->tokens -= 1;
			if (!ctl__release(fo, now_us))
				return;
		}
		if (!fo->q_len)
			fo->tokens = 0;
		return;
	}
	while (fo->q_len) {
		if (!ctl__release(fo, now_us))
			return;
	}
}

/* Whether a slot carries the lines' requests now (its role is where they go). */
static bool ctl__in_use(const struct ctl_fo *fo, int slot)
{
	const struct ctl_role_targets *t;
	int role = fo->slot_role[slot], best = -1;

	if (role < 0)
		return false;
	if (role != fo->want.via && !(fo->sibling && role == fo->sibling->want.via))
		return false;
	if (!ctl__is_dns(fo, role))
		return true;
	/* a DNS target: in use while up and of the best priority up (every target there
	 * has a share of the lines, RFC 2782 weights 0 included) */
	t = &fo->rt[role];
	for (unsigned k = 0; k < t->n; k++) {
		if (fo->srv[t->slot[k]].up && (best < 0 || t->priority[k] < best))
			best = t->priority[k];
	}
	for (unsigned k = 0; k < t->n; k++) {
		if (t->slot[k] == slot)
			return fo->srv[slot].up && t->priority[k] == best;
	}
	return false;
}

static void ctl__probes(struct ctl_fo *fo, uint64_t now_us)
{
	for (int r = 0; r < CTL_SLOTS; r++) {
		struct ctl_server *s = &fo->srv[r];
		bool in_use;
		struct dp_msg c = {.type = DP_CMD_PROBE,
				   .value = fo->cfg.probe_timeout_ms,
				   .target = DP_TARGET(r, 0, r)};

		if (!ctl__slot_used(fo, r) || s->probe_out)
			continue;
		in_use = ctl__in_use(fo, r);
		/* an up server that carries no line's requests is watched with OPTIONS */
		if (s->up && !s->probe_due_us && !in_use && fo->cfg.monitor_ms)
			s->probe_due_us = now_us + 1000ull * fo->cfg.monitor_ms;
		if (s->up && in_use)
			s->probe_due_us = 0;
		if (!s->probe_due_us || now_us < s->probe_due_us)
			continue;
		if (fo->cmd(fo->cmd_ctx, &c) != 0) {
			fo->cmd_dropped++;
			continue;
		}
		s->probe_out = true;
		s->probes_sent++;
	}
}

void ctl_fo_tick(struct ctl_fo *fo, uint64_t now_us)
{
	if (fo->stopping)
		return;
	if (fo->flow == DP_FLOW_REGISTER) /* health is the registrations' to probe */
		ctl__probes(fo, now_us);
	ctl__storm(fo, now_us);
}

void ctl_fo_stop(struct ctl_fo *fo)
{
	fo->stopping = true;
	for (uint32_t i = 0; i < fo->n; i++)
		ctl__step(fo, i, CTL_E_STOP, 0, 0);
	for (; fo->q_len; fo->q_len--) {
		fo->line[fo->queue[fo->q_head]].queued = 0;
		fo->q_head = (fo->q_head + 1) % fo->n;
	}
}

static int ctl__u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int64_t ctl_episode_pct_ms(const struct ctl_episode *e, double p)
{
	/* of every line that had to move: a share not yet settled has no time yet */
	size_t k = (size_t)(p / 100.0 * e->affected + 0.999999);

	if (k < 1)
		k = 1;
	if (!e->affected || k > e->settled)
		return -1;
	qsort(e->latency_ms, e->settled, sizeof(uint32_t), ctl__u32cmp);
	return e->latency_ms[k - 1];
}
