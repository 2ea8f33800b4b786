/* Expansion of line name patterns (control/linegen.h). */
#include "control/linegen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Width of the {...} at p ("{id}" 0, "{id:05}" 5), its length in *n; -1 if malformed. */
static int ctl__field(const char *p, size_t *n)
{
	int width = 0;

	if (strncmp(p, "{id}", 4) == 0) {
		*n = 4;
		return 0;
	}
	if (strncmp(p, "{id:0", 5) != 0)
		return -1;
	p += 5;
	*n = 5;
	while (*p >= '0' && *p <= '9' && width < 20) {
		width = width * 10 + (*p++ - '0');
		(*n)++;
	}
	if (*p != '}' || width == 0 || width > 19)
		return -1;
	(*n)++;
	return width;
}

int ctl_linegen_init(struct ctl_linegen *g, const char *pattern, uint32_t base, char *err,
		     size_t errlen)
{
	int fields = 0;

	if (strlen(pattern) >= sizeof(g->pattern)) {
		snprintf(err, errlen, "line pattern '%s' is longer than %zu characters", pattern,
			 sizeof(g->pattern) - 1);
		return -EINVAL;
	}
	for (const char *p = pattern; *p; p++) {
		size_t n;

		if (*p != '{')
			continue;
		if (ctl__field(p, &n) < 0) {
			snprintf(err, errlen,
				 "line pattern '%s': at character %zu, expected {id} or {id:0N}",
				 pattern, (size_t)(p - pattern) + 1);
			return -EINVAL;
		}
		fields++;
		p += n - 1;
	}
	if (fields == 0) {
		snprintf(err, errlen,
			 "line pattern '%s' has no {id}: every line would have one name", pattern);
		return -EINVAL;
	}
	strcpy(g->pattern, pattern);
	g->base = base;
	return 0;
}

int ctl_linegen_name(const struct ctl_linegen *g, uint32_t id, char *buf, size_t cap)
{
	size_t o = 0;

	for (const char *p = g->pattern; *p; p++) {
		size_t n;
		int w, k;

		if (*p != '{' || (w = ctl__field(p, &n)) < 0) {
			if (o + 1 >= cap)
				return -ENOSPC;
			buf[o++] = *p;
			continue;
		}
		k = snprintf(buf + o, cap - o, "%0*llu", w, (unsigned long long)g->base + id);
		if (k < 0 || (size_t)k >= cap - o)
			return -ENOSPC;
		o += (size_t)k;
		p += n - 1;
	}
	if (o >= cap)
		return -ENOSPC;
	buf[o] = '\0';
	return 0;
}
