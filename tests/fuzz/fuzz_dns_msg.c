/*
 * libFuzzer target: any octets as a DNS answer through ctl_dns_msg_parse and the CNAME
 * chain walk; names must come out NUL-terminated within 255 octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_dns_msg m;
	const struct ctl_dns_rr *out[CTL_DNS_MAX_RRS];
	const char *why;
	size_t at;
	uint32_t ttl;

	if (ctl_dns_msg_parse(data, size, &m, &why, &at) != 0) {
		if (!why || at > size)
			abort();
		return 0;
	}
	if (strlen(m.qname) > CTL_DNS_NAME_MAX || m.nan > CTL_DNS_MAX_RRS)
		abort();
	for (unsigned k = 0; k < m.nan; k++) {
		if (strlen(m.an[k].name) > CTL_DNS_NAME_MAX)
			abort();
	}
	ctl_dns_msg_records(&m, out, CTL_DNS_MAX_RRS, &ttl);
	return 0;
}
