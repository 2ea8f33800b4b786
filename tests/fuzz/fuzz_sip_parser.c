/*
 * libFuzzer target: the message parser on arbitrary octets, datagram and stream framing,
 * then every typed header parser on every header it split. The input sits in a buffer of
 * exactly its size so that ASan reports any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/parser.h"

static void fuzz__typed(const struct sip_msg *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		struct sip_str cur = m->hdrs[i].value, item;
		size_t off;
		const char *why;
		union {
			struct sip_via via;
			struct sip_contact c;
			struct sip_naddr na;
			struct sip_cseq cs;
			struct sip_retry_after ra;
			struct sip_sub_state_hdr ss;
		} u;
		uint32_t n;

		while (sip_list_next(&cur, &item)) {
			if (item.len > m->hdrs[i].value.len)
				abort();
			sip_via_parse(item, &u.via, &off, &why);
			sip_contact_parse(item, &u.c, &off, &why);
			sip_naddr_parse(item, &u.na, &off, &why);
		}
		sip_cseq_parse(m->hdrs[i].value, &u.cs, &off, &why);
		sip_retry_after_parse(m->hdrs[i].value, &u.ra, &off, &why);
		if (sip_sub_state_parse(m->hdrs[i].value, &u.ss, &off, &why) == 0 &&
		    u.ss.reason.len > m->hdrs[i].value.len)
			abort();
		sip_u32_parse(m->hdrs[i].value, UINT32_MAX, &n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_header hdrs[64];
	struct sip_parse_error err;
	struct sip_msg m;
	char *buf = malloc(size ? size : 1);
	long rc;

	memcpy(buf, data, size);
	rc = sip_parse(buf, size, SIP_FRAMING_DATAGRAM, &m, hdrs, 64, &err);
	if (rc > (long)size || (rc < 0 && err.off > size))
		abort();
	if (rc > 0)
		fuzz__typed(&m);
	rc = sip_parse(buf, size, SIP_FRAMING_STREAM, &m, hdrs, 64, &err);
	if (rc > (long)size)
		abort();
	free(buf);
	return 0;
}
