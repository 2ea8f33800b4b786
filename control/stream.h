/*
 * Lines over TCP and TLS (DESIGN.md §2: connection-oriented flows go through the kernel
 * stack, libuv and OpenSSL, on control's loop). The registration client is the
 * dataplane's own (dataplane/line.h) over the same load-time tables
 * (dataplane/lineset.h); here each line's flow (registration, subscription, second
 * outbound flow) has a connection of its own, which is what RFC 5626 calls a flow.
 * Control speaks to it in the dataplane's struct dp_msg words, so the failover machine
 * cannot tell the two apart.
 *
 * Over a connection: no retransmissions, only timer F (RFC 3261 §17.1.2.2); keep-alives
 * are CRLF pings whose pong is awaited (RFC 5626 §4.4.1); a connection that is refused,
 * reset, closed or fails its TLS handshake fails the transaction out as a transport
 * error, or the registered flow. Requests that reach a line (NOTIFY, OPTIONS, ...) get a
 * phone's answers. Calls are not placed over TCP/TLS yet.
 */
#ifndef CTL_STREAM_H
#define CTL_STREAM_H

#include <stdint.h>

#include <uv.h>

#include "dataplane/dataplane.h"

struct ctl_stream;

struct ctl_stream_cfg {
	int transport;	    /* SIP_TPL_TCP or SIP_TPL_TLS (sip/builder.h) */
	const char *tls_ca; /* TLS: verify servers against these PEM certificates; NULL: do
			     * not verify (a lab's self-signed servers) */
	uint32_t source_ip; /* host order: connections leave from it; 0: the kernel's choice */
	/* TLS: the host name a server slot's certificate must name (a role given as a host
	 * name: RFC 5922 §7.2, the domain before NAPTR and SRV), or NULL: the address dialled.
	 * Asked as each connection opens. NULL function: always the address. */
	const char *(*tls_name)(void *ctx, unsigned slot);
	void *tls_name_ctx;
};

/*
 * Build every line's tables (c as for dp_create; its EAL, port and call fields are not
 * read) and start the lines on loop under c's rate cap. 0, or a negative errno with a
 * sentence in err.
 */
int ctl_stream_create(uv_loop_t *loop, const struct dp_config *c, const struct ctl_stream_cfg *sc,
		      struct ctl_stream **out, char *err, size_t errlen);
/* A command, as to a worker (DP_CMD_CALLS is refused): 0, or -EINVAL for one it cannot
 * carry out (counted as a bad command). */
int ctl_stream_command(struct ctl_stream *s, const struct dp_msg *cmd);
/* Take up to max events. */
unsigned ctl_stream_events(struct ctl_stream *s, struct dp_msg *out, unsigned max);
/* Counters of one flow (enum dp_flow), zero for a flow not run. */
void ctl_stream_stats(const struct ctl_stream *s, int flow, struct dp_stats *out);
/* "TCP from the kernel's address" for the logs. */
const char *ctl_stream_desc(const struct ctl_stream *s);
/* Close every connection and the timer; the memory goes when the loop has run their close
 * callbacks (uv_run after this). Accepts NULL. */
void ctl_stream_destroy(struct ctl_stream *s);

#endif
