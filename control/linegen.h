/*
 * Line names from a pattern (DESIGN.md §3: `user: "1{id:05}"`): literal text with {id}
 * or {id:0N} (zero-padded to N digits) standing for the line number plus a base.
 */
#ifndef CTL_LINEGEN_H
#define CTL_LINEGEN_H

#include <stddef.h>
#include <stdint.h>

struct ctl_linegen {
	char pattern[64];
	uint32_t base; /* the number of line 0 */
};

/* 0, or -EINVAL with a sentence in err for a pattern that is not of that shape. */
int ctl_linegen_init(struct ctl_linegen *g, const char *pattern, uint32_t base, char *err,
		     size_t errlen);
/* The name of line id into buf: 0 or -ENOSPC. */
int ctl_linegen_name(const struct ctl_linegen *g, uint32_t id, char *buf, size_t cap);

#endif
