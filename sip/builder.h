/*
 * Request templates for REGISTER, SUBSCRIBE and OPTIONS: the text of a request is prepared
 * once, and each send only copies it and patches the Via branch, CSeq, Expires and
 * credentials in, so the dataplane never formats a message from scratch. With placeholders
 * for the user, host:port, From tag and Call-ID, one template serves every line of a worker.
 */
#ifndef SIP_BUILDER_H
#define SIP_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sip/str.h"

/* Room for the prepared text; a REGISTER with outbound and a route takes about 520. */
#define SIP_TPL_TEXT_MAX 1500
/*
 * Segments (a literal run and the field patched after it) of the richest form: a REGISTER
 * with a route, outbound, credentials and every placeholder where it usually goes (user in
 * From, To, Contact and the instance; host:port in Via and Contact; tag; Call-ID) takes 15.
 * The rest is room for a few more placeholders, e.g. a Call-ID of "{callid}@{hostport}".
 */
#define SIP_TPL_SEGS_MAX 24
/* Per-line variables a template may hold: see struct sip_line_vars. */
#define SIP_TPL_VARS 5

enum sip_tpl_method {
	SIP_TPL_REGISTER,
	SIP_TPL_SUBSCRIBE,
	SIP_TPL_OPTIONS,
};

/* Transport named in the Via (RFC 3261 §18.1.1); the Contact URI says its own. */
enum sip_tpl_transport {
	SIP_TPL_UDP,
	SIP_TPL_TCP,
	SIP_TPL_TLS,
};

/*
 * What is fixed for a line (or for all lines, with placeholders) and a request kind. URIs
 * are given bare ("sip:1000@example.com"), the builder adds the angle brackets. "Required"
 * fields that are empty make sip_tpl_prepare() return -EINVAL.
 *
 * Placeholders: "{user}", "{hostport}", "{tag}", "{callid}" and "{uuid}" inside
 * request_uri, from_uri, to_uri, contact_uri, via_sent_by, from_tag, call_id or instance
 * are not sent as written but replaced, at each build, by the line's value from struct sip_line_vars:
 *
 *	from_uri = "sip:{user}@example.com", contact_uri = "sip:{user}@{hostport}",
 *	via_sent_by = "{hostport}", from_tag = "{tag}", call_id = "{callid}"
 *
 * Elsewhere (display names, routes, User-Agent, ...) and for any other "{...}" the octets
 * are sent as written. The field checks of sip_tpl_prepare() look at one octet at a time
 * and every octet of a placeholder passes them, so a placeholder is checked as its own
 * text: the values themselves are the caller's to keep valid (see sip_line_vars).
 */
struct sip_tpl_params {
	enum sip_tpl_method method;
	struct sip_str request_uri;  /* required: "sip:example.com" for REGISTER (§10.2) */
	struct sip_str from_uri;     /* required: the line's AOR */
	struct sip_str from_display; /* optional display name, quoted by the builder */
	struct sip_str from_tag;     /* required */
	/* optional: REGISTER defaults to from_uri (§10.2), the others to request_uri */
	struct sip_str to_uri;
	struct sip_str to_display;  /* optional; REGISTER without to_uri reuses from_display */
	struct sip_str call_id;	    /* required: one per registrar binding (§10.2.4) */
	struct sip_str contact_uri; /* required for REGISTER and SUBSCRIBE */
	struct sip_str via_sent_by; /* required: "198.18.0.1:5060", "[2001:db8::1]:5060" */
	enum sip_tpl_transport transport;
	/* RFC 5923 §5: ";alias" in the Via: the server may send its requests for the sent-by
	 * over this connection (a line that accepts no connections of its own) */
	bool via_alias;
	const struct sip_str *routes; /* optional route set, each "sip:op.example.com;lr" */
	size_t n_routes;
	struct sip_str user_agent; /* optional */
	/*
	 * RFC 5626 outbound. On REGISTER: Contact gets ;reg-id and ;+sip.instance (§4.2.1),
	 * and "Supported: outbound, path" is sent; instance ("urn:uuid:...") and reg_id >= 1
	 * are then required. On SUBSCRIBE and OPTIONS: the Contact URI gets ;ob (§4.3) and
	 * "Supported: outbound" is sent.
	 */
	bool outbound;
	uint32_t reg_id;
	struct sip_str instance; /* also sent on REGISTER without outbound when given */
	struct sip_str event;	 /* SUBSCRIBE: defaults to "message-summary" (RFC 3842) */
	/*
	 * The To header ends in ";tag=" and the line's sip_line_vars.to_tag when that is not
	 * empty, and in nothing when it is: one template sends both the initial SUBSCRIBE and
	 * its in-dialog refreshes (RFC 6665 §4.1.2.1). Needs placeholders (a shared template).
	 */
	bool to_tag_var;
	/*
	 * The Request-URI is the line's sip_line_vars.target and the Route headers its
	 * sip_line_vars.routes when target is not empty (a request inside a dialog, RFC 3261
	 * §12.2.1.1), and request_uri and routes as given when it is. Needs placeholders.
	 */
	bool dialog_var;
	/* SUBSCRIBE: defaults to the event package's type; OPTIONS: to application/sdp */
	struct sip_str accept;
};

/*
 * A prepared request: caller-allocated, fixed size, no pointers into the params (they may
 * be freed after sip_tpl_prepare()). Read-only once prepared, so one template may be used
 * by any number of builds at once, on any number of lines when it has placeholders.
 */
struct sip_tpl {
	enum sip_tpl_method method;
	uint16_t literal_len; /* octets copied verbatim by every build */
	uint8_t n_segs;
	/* REGISTER: segments of the Contact line, which "Contact: *" replaces */
	uint8_t contact_seg;
	uint8_t contact_n_segs;
	bool has_expires;
	bool has_vars;
	bool has_to_tag;  /* the To header ends in the line's in-dialog tag, when it has one */
	bool has_dialog;  /* Request-URI and routes are the line's dialog's, when it has one */
	uint8_t ruri_seg; /* segments of the Request-URI and of the routes a dialog replaces */
	uint8_t ruri_n_segs;
	uint8_t routes_seg;
	uint8_t routes_n_segs;
	uint8_t var_uses[SIP_TPL_VARS]; /* how often each placeholder occurs */
	struct {
		uint16_t off; /* literal run text[off, off + len), then the field */
		uint16_t len;
		uint8_t field; /* enum sip__field in builder.c */
	} segs[SIP_TPL_SEGS_MAX];
	char text[SIP_TPL_TEXT_MAX];
};

/*
 * Returns 0, -EINVAL for an unknown method or transport, an empty required field, a
 * CR/LF/control octet in any field (header injection), space or angle brackets in a URI,
 * an outbound REGISTER without instance or reg_id; -ENOSPC when the text does not fit
 * SIP_TPL_TEXT_MAX or its placeholders SIP_TPL_SEGS_MAX. On error *t is unusable.
 */
int sip_tpl_prepare(struct sip_tpl *t, const struct sip_tpl_params *p);

/*
 * Octets of *t that builds read: a prepared template may be copied by this many octets
 * into a packed store (about 500 octets for a REGISTER, not sizeof(struct sip_tpl)) and
 * built from there. A template with placeholders is shared instead, so a line keeps only
 * its struct sip_line_vars and the strings they point to.
 */
size_t sip_tpl_size(const struct sip_tpl *t);

/* What changes from one request to the next. */
struct sip_req_fields {
	uint64_t branch; /* Via branch = "z9hG4bK" + 16 lowercase hex digits (§8.1.1.7) */
	uint32_t cseq;	 /* the caller keeps it below 2^31 (§8.1.1.5) */
	/* REGISTER and SUBSCRIBE; 0 removes this Contact (§10.2.2) or ends the subscription */
	uint32_t expires;
	/* REGISTER only: "Contact: *" with "Expires: 0", removes every binding (§10.2.2) */
	bool contact_star;
	/* Proxy-Authorization answers a 407, Authorization a 401 (§22.2, §22.3) */
	bool proxy_auth;
	/*
	 * Credentials ("Digest username=..."), copied as the header's value; empty means no
	 * header. Not checked for CR/LF on the hot path: sip/digest output is trusted.
	 */
	struct sip_str auth;
};

/*
 * Build one request from a template into buf. Return the length written (no NUL) or
 * -ENOSPC when it does not fit cap (then nothing is written), -EINVAL when the template
 * is of another method or contact_star is asked of a non-REGISTER.
 * Hot path: no allocation, no formatting beyond two or three integers, no syscall.
 */
ssize_t sip_build_register(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			   size_t cap);
ssize_t sip_build_subscribe(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			    size_t cap);
ssize_t sip_build_options(const struct sip_tpl *t, const struct sip_req_fields *f, char *buf,
			  size_t cap);

/*
 * What one line puts in place of the placeholders of a shared template. Each value is
 * copied as given: like auth, it is not checked for CR/LF, '<', '>' or spaces on the hot
 * path, so the caller keeps them valid ("1000", "198.18.0.10:5060", "[2001:db8::1]:5060",
 * a token for the tag, a Call-ID word). A value the template does not use may be empty.
 */
struct sip_line_vars {
	struct sip_str user;	 /* "{user}" */
	struct sip_str hostport; /* "{hostport}" */
	struct sip_str tag;	 /* "{tag}" */
	struct sip_str callid;	 /* "{callid}" */
	struct sip_str uuid;	 /* "{uuid}": a line's own part of its +sip.instance */
	struct sip_str to_tag;	 /* the dialog's remote tag, or empty: see to_tag_var */
	/* see dialog_var: the dialog's remote target (a bare URI), or empty outside one */
	struct sip_str target;
	/* the dialog's route set as one Route value ("<sip:p1;lr>,<sip:p2;lr>"), or empty */
	struct sip_str routes;
};

/*
 * As the builds above, with the placeholders of t replaced by v's values. Also -EINVAL
 * when a value t uses is empty or longer than SIP_TPL_TEXT_MAX. On a template without
 * placeholders v is not read (it may be NULL) and the text is the plain build's; the
 * plain builds return -EINVAL on a template with placeholders.
 * Hot path: no allocation, a few more memcpy than the plain build, no syscall.
 */
ssize_t sip_build_register_vars(const struct sip_tpl *t, const struct sip_line_vars *v,
				const struct sip_req_fields *f, char *buf, size_t cap);
ssize_t sip_build_subscribe_vars(const struct sip_tpl *t, const struct sip_line_vars *v,
				 const struct sip_req_fields *f, char *buf, size_t cap);
ssize_t sip_build_options_vars(const struct sip_tpl *t, const struct sip_line_vars *v,
			       const struct sip_req_fields *f, char *buf, size_t cap);

#endif
