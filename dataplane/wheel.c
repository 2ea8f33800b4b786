/*
 * The timing wheel of dataplane/wheel.h: doubly-linked lists threaded through the
 * per-line link array, DP_WHEEL_CHAINS lists per slot, slot = due mod nslots, the list
 * within it by the id's low bits.
 */
#include "dataplane/wheel.h"

#include <errno.h>

int dp_wheel_init(struct dp_wheel *w, uint32_t *slots, uint32_t nslots, struct dp_wheel_link *links,
		  uint32_t nids, uint64_t now)
{
	if (nslots == 0 || (nslots & (nslots - 1)) != 0 || nids >= DP_WHEEL_HEAD)
		return -EINVAL;
	w->slots = slots;
	w->nslots = nslots;
	w->links = links;
	w->nids = nids;
	w->now = now;
	w->armed = 0;
	for (size_t i = 0; i < DP_WHEEL_HEADS(nslots); i++)
		slots[i] = DP_WHEEL_NONE;
	for (uint32_t i = 0; i < nids; i++)
		links[i] = (struct dp_wheel_link){DP_WHEEL_NONE, DP_WHEEL_NONE, 0};
	return 0;
}

/* The head of the list id goes in when due at tick due. */
static inline uint32_t *dp__wheel_head(const struct dp_wheel *w, uint32_t id, uint64_t due)
{
	return &w->slots[(due & (w->nslots - 1)) * DP_WHEEL_CHAINS + (id & (DP_WHEEL_CHAINS - 1))];
}

bool dp_wheel_armed(const struct dp_wheel *w, uint32_t id)
{
	return w->links[id].prev != DP_WHEEL_NONE;
}

uint64_t dp_wheel_due(const struct dp_wheel *w, uint32_t id)
{
	return dp_wheel_armed(w, id) ? w->links[id].due : UINT64_MAX;
}

void dp_wheel_cancel(struct dp_wheel *w, uint32_t id)
{
	struct dp_wheel_link *l = &w->links[id];

	if (l->prev == DP_WHEEL_NONE)
		return;
	if (l->prev != DP_WHEEL_HEAD)
		w->links[l->prev].next = l->next;
	else
		*dp__wheel_head(w, id, l->due) = l->next;
	if (l->next != DP_WHEEL_NONE)
		w->links[l->next].prev = l->prev;
	l->next = l->prev = DP_WHEEL_NONE;
	w->armed--;
}

void dp_wheel_arm(struct dp_wheel *w, uint32_t id, uint64_t due)
{
	struct dp_wheel_link *l = &w->links[id];
	uint32_t *head;

	dp_wheel_cancel(w, id);
	if (due < w->now)
		due = w->now;
	l->due = due;
	head = dp__wheel_head(w, id, due);
	l->prev = DP_WHEEL_HEAD;
	l->next = *head;
	if (*head != DP_WHEEL_NONE)
		w->links[*head].prev = id;
	*head = id;
	w->armed++;
}

/* Hot path: the lists of the current slot are walked a link of each in turn. */
size_t dp_wheel_expire(struct dp_wheel *w, uint64_t now, uint32_t *out, size_t max)
{
	size_t n = 0;

	while (w->now <= now) {
		const uint32_t *heads = dp__wheel_head(w, 0, w->now);
		uint32_t cur[DP_WHEEL_CHAINS];
		unsigned live = 0;

		for (unsigned c = 0; c < DP_WHEEL_CHAINS; c++)
			live += (cur[c] = heads[c]) != DP_WHEEL_NONE;
		while (live) {
			for (unsigned c = 0; c < DP_WHEEL_CHAINS; c++) {
				uint32_t id = cur[c];

				if (id == DP_WHEEL_NONE)
					continue;
				cur[c] = w->links[id].next;
				if (w->links[id].due <= w->now) {
					if (n == max)
						return n;
					dp_wheel_cancel(w, id);
					out[n++] = id;
				}
				live -= cur[c] == DP_WHEEL_NONE;
			}
		}
		if (w->now == now)
			break;
		w->now++;
	}
	return n;
}
