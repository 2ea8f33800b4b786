/*
 * A timing wheel for one worker: every line has at most one pending timer (its next
 * retransmission, timeout or refresh), so the links live in a caller-owned array indexed
 * by line id and arming is O(1) with no allocation. Ticks are milliseconds; a timer
 * further out than the wheel's span stays in its slot and is skipped until its turn.
 */
#ifndef DP_WHEEL_H
#define DP_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_WHEEL_NONE UINT32_MAX
/* A link's prev when it heads its list: armed is then one load (prev != NONE), with no
 * look at the slot, whose line the arm after an expiry would otherwise miss on. */
#define DP_WHEEL_HEAD (UINT32_MAX - 1)

/* Lists per slot, an id's by its low bits: expiry walks them side by side, so the cache
 * misses of one list's next link overlap those of the others instead of queuing behind
 * each other (one list was 74 % of dp_wheel_expire's samples on a single load). Eight,
 * not four: at 1,000,000 lines, whose links miss to DRAM, bench_kapath took 135 ns a
 * keep-alive with eight against 150 with four (16: 130); the heads cost 2 MiB a worker. */
#define DP_WHEEL_CHAINS 8
/* The heads a wheel of nslots ticks needs (the slots array dp_wheel_init takes). */
#define DP_WHEEL_HEADS(nslots) ((size_t)(nslots)*DP_WHEEL_CHAINS)

struct dp_wheel_link {
	uint32_t next;
	uint32_t prev; /* DP_WHEEL_HEAD: first of its list; DP_WHEEL_NONE: unarmed */
	uint64_t due;  /* tick; DP_WHEEL_NONE-linked entries are unarmed */
};

struct dp_wheel {
	uint32_t *slots;	     /* nslots x DP_WHEEL_CHAINS heads */
	uint32_t nslots;	     /* power of two */
	struct dp_wheel_link *links; /* one per id */
	uint32_t nids;
	uint64_t now; /* every slot before now has been expired */
	uint32_t armed;
};

/* slots and links are caller-allocated arrays of nslots x DP_WHEEL_CHAINS and nids
 * entries; the wheel spans nslots ticks. */
int dp_wheel_init(struct dp_wheel *w, uint32_t *slots, uint32_t nslots, struct dp_wheel_link *links,
		  uint32_t nids, uint64_t now);

/* (Re)arm id for tick due; a due in the past fires at the next expiry. */
void dp_wheel_arm(struct dp_wheel *w, uint32_t id, uint64_t due);
void dp_wheel_cancel(struct dp_wheel *w, uint32_t id);
bool dp_wheel_armed(const struct dp_wheel *w, uint32_t id);
/* The tick id is armed for, UINT64_MAX when it is not armed. */
uint64_t dp_wheel_due(const struct dp_wheel *w, uint32_t id);

/*
 * Move the wheel to now and write up to max ids whose timers are due into out; they are
 * disarmed. Returns how many. When max is reached the wheel stays on the current tick,
 * so the next call picks up the rest: a burst of due timers spreads over calls.
 */
size_t dp_wheel_expire(struct dp_wheel *w, uint64_t now, uint32_t *out, size_t max);

#endif
