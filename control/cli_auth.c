/* The authentication headers of a parsed message as JSON, for `sipedge parse`. */
#include "control/cli.h"

static void ctl__json_raw_list(struct ctl_json *j, const char *key, const struct sip_msg *m,
			       enum sip_hdr_id id)
{
	const struct sip_header *h;

	if (!m->first[id])
		return;
	ctl_json_begin_array(j, key);
	for (size_t n = 0; (h = sip_msg_header(m, id, n)); n++)
		ctl_json_str(j, NULL, h->value.p, h->value.len);
	ctl_json_end_array(j);
}

void ctl_cli_json_auth(struct ctl_json *j, const struct sip_msg *m)
{
	ctl__json_raw_list(j, "www_authenticate", m, SIP_HDR_WWW_AUTHENTICATE);
	ctl__json_raw_list(j, "proxy_authenticate", m, SIP_HDR_PROXY_AUTHENTICATE);
	ctl__json_raw_list(j, "authentication_info", m, SIP_HDR_AUTHENTICATION_INFO);
}
