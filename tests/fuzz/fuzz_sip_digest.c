/*
 * libFuzzer target for sip/digest's parsers: WWW-Authenticate and Authentication-Info
 * values from arbitrary octets, copied to an exactly sized buffer so ASan sees overreads.
 * Whatever parses is also answered, to run pick and the writer on odd but accepted input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/digest.h"

static void answer(struct sip_digest_ctx *ctx, const struct sip_challenge *ch, size_t n)
{
	static const char zeros[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	char buf[512];
	int i = sip_digest_pick(ch, n);
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:example.com"),
		.username = SIP_STR("1000"),
		.cnonce = SIP_STR("0123456789abcdef"),
		.nc = 1,
	};
	ssize_t len;

	if (i < 0)
		return;
	req.ha1 = sip_str_make(zeros, sip_digest_hex_len(ch[i].algorithm));
	req.userhash = req.ha1;
	len = sip_digest_authorization(ctx, &ch[i], &req, NULL, buf, sizeof(buf));
	if (len < 0 && len != -ENOSPC)
		abort(); /* a picked challenge must be answerable */
	if (len > 0 && (memchr(buf, '\r', (size_t)len) || memchr(buf, '\n', (size_t)len)))
		abort(); /* builder.h trusts this output not to break the header line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_digest_ctx ctx;
	static int ready;
	struct sip_challenge ch[8];
	struct sip_auth_info ai;
	size_t n = 0, off = 0;
	char *copy = malloc(size ? size : 1);
	int err;

	if (!copy)
		return 0;
	if (!ready) {
		if (sip_digest_ctx_create(&ctx))
			abort();
		ready = 1;
	}
	memcpy(copy, data, size);

	err = sip_digest_challenges_parse(sip_str_make(copy, size), ch, 8, &n, &off);
	if (err != 0 && err != -EBADMSG && err != -ENOSPC)
		abort();
	if (off > size || n > 8)
		abort();
	if (n > 0 && (err == 0 || err == -ENOSPC))
		answer(&ctx, ch, n);

	err = sip_digest_auth_info_parse(sip_str_make(copy, size), &ai, &off);
	if ((err != 0 && err != -EBADMSG) || off > size)
		abort();

	free(copy);
	return 0;
}
