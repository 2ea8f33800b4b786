/*
 * libFuzzer target for sip/stun.c: anything may arrive on the SIP port, so classify,
 * parse and integrity-check arbitrary octets in an exactly-sized heap buffer (ASan then
 * catches a read one past the end), and check the invariants the header promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/stun.h"

static const uint8_t fuzz_key[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t fuzz_txid[SIP_STUN_TXID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A parsed mapped address must survive a build/parse round trip unchanged. */
static void fuzz_response_round_trip(const struct sip_stun_msg *msg)
{
	struct sip_stun_msg again;
	uint8_t out[64];
	int len;

	len = sip_stun_build_response(out, sizeof(out), fuzz_txid, &msg->mapped, true);
	if (len < 0 || sip_stun_parse(out, (size_t)len, &again) != 0 || !again.fingerprint_ok ||
	    again.mapped.family != msg->mapped.family || again.mapped.port != msg->mapped.port ||
	    memcmp(again.mapped.addr, msg->mapped.addr, sizeof(again.mapped.addr)) != 0 ||
	    !sip_stun_match(&again, fuzz_txid))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_stun_msg msg, again;
	uint8_t *buf;
	bool is_stun;
	int rc;

	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	is_stun = sip_stun_is_stun(buf, size);
	rc = sip_stun_parse(buf, size, &msg);
	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (rc == 0 && !is_stun)
		abort(); /* parse accepts a subset of what is_stun accepts */
	if (rc == -EBADMSG && (msg.bad_off > size || !msg.bad_why))
		abort();

	rc = sip_stun_check_integrity(buf, size, fuzz_key, sizeof(fuzz_key) - 1);
	if (rc != 0 && rc != -EACCES && rc != -ENOENT && rc != -EBADMSG)
		abort();

	if (sip_stun_parse(buf, size, &msg) == 0) {
		if (msg.mapped.family != SIP_STUN_FAMILY_NONE)
			fuzz_response_round_trip(&msg);
		/* Re-arming keeps a valid FINGERPRINT valid (the hot-path promise). */
		if (sip_stun_patch_txid(buf, size, fuzz_txid) != 0)
			abort();
		if (msg.fingerprint_ok &&
		    (sip_stun_parse(buf, size, &again) != 0 || !again.fingerprint_ok))
			abort();
	}

	free(buf);
	return 0;
}
