/*
 * libFuzzer target: the URI parser and the parameter walker on arbitrary octets; every
 * view handed back must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/uri.h"

static void fuzz__inside(struct sip_str v, const char *buf, size_t size)
{
	if (v.len && (v.p < buf || v.p + v.len > buf + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct sip_str s, cur, name, value;
	struct sip_uri u;
	size_t off;
	const char *why;

	memcpy(buf, data, size);
	s = sip_str_make(buf, size);
	if (sip_uri_parse(s, &u, &off, &why) == 0) {
		fuzz__inside(u.user, buf, size);
		fuzz__inside(u.host, buf, size);
		fuzz__inside(u.params, buf, size);
		fuzz__inside(u.headers, buf, size);
	} else if (off > size) {
		abort();
	}
	cur = s;
	while (sip_param_next(&cur, &name, &value)) {
		fuzz__inside(name, buf, size);
		fuzz__inside(value, buf, size);
	}
	sip_host_valid(s);
	free(buf);
	return 0;
}
