/*
 * bench/run sip: the cost of sip/'s hot-path operations on the messages a registrar
 * really sends, in ns per operation. Each figure is the best of several rounds (the
 * least disturbed by the machine's other load); --json prints one object for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/builder.h"
#include "sip/digest.h"
#include "sip/parser.h"

#define ROUNDS 7

static const char ok_200[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK0123456789abcdef;rport=5060;"
	"received=198.18.0.10\r\n"
	"From: <sip:10001@sip.example.com>;tag=8d1f2a\r\n"
	"To: <sip:10001@sip.example.com>;tag=cd6f1c3a8b1f2d4e1b1a3a4f5e6d7c8b.a1b2\r\n"
	"Call-ID: 1-10001@198.18.0.10\r\n"
	"CSeq: 2 REGISTER\r\n"
	"Contact: <sip:10001@198.18.0.10:5060>;expires=60\r\n"
	"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char challenge_401[] =
	"SIP/2.0 401 Unauthorized\r\n"
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK0123456789abcdee;rport=5060;"
	"received=198.18.0.10\r\n"
	"From: <sip:10001@sip.example.com>;tag=8d1f2a\r\n"
	"To: <sip:10001@sip.example.com>;tag=cd6f1c3a8b1f2d4e1b1a3a4f5e6d7c8b.c3d4\r\n"
	"Call-ID: 1-10001@198.18.0.10\r\n"
	"CSeq: 1 REGISTER\r\n"
	"WWW-Authenticate: Digest realm=\"sip.example.com\", "
	"nonce=\"Z2nB8mdpwMzgY4T1zx6l0q1uU1mG8XHn\", qop=\"auth\"\r\n"
	"Server: kamailio (5.6.3 (x86_64/linux))\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char notify[] = "NOTIFY sip:10001@198.18.0.10:5060 SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bKnotify1\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:10001@sip.example.com>;tag=srv1\r\n"
			     "To: <sip:10001@sip.example.com>;tag=8d1f2b\r\n"
			     "Call-ID: sub-10001@198.18.0.10\r\n"
			     "CSeq: 4 NOTIFY\r\n"
			     "Contact: <sip:198.18.1.1:5060>\r\n"
			     "Event: message-summary\r\n"
			     "Subscription-State: active;expires=3600\r\n"
			     "Content-Type: application/simple-message-summary\r\n"
			     "Content-Length: 48\r\n"
			     "\r\n"
			     "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n";

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps the compiler from dropping work whose result is otherwise unused. */
static volatile long sink;

#define BEST_NS(iters, body)                                              \
	({                                                                \
		double best_ = 1e30;                                      \
		for (int r_ = 0; r_ < ROUNDS; r_++) {                     \
			double t0_ = now_ns();                            \
			for (long i_ = 0; i_ < (iters); i_++) {           \
				body;                                     \
			}                                                 \
			double per_ = (now_ns() - t0_) / (double)(iters); \
			if (per_ < best_)                                 \
				best_ = per_;                             \
		}                                                         \
		best_;                                                    \
	})

static double bench_parse(const char *msg, size_t len, long iters)
{
	struct sip_header hdrs[32];
	struct sip_parse_error err;
	struct sip_msg m;

	return BEST_NS(iters,
		       sink += sip_parse(msg, len, SIP_FRAMING_DATAGRAM, &m, hdrs, 32, &err));
}

/* What the dataplane does with a 401: parse it, then the challenge list. */
static double bench_parse_401(long iters)
{
	struct sip_header hdrs[32];
	struct sip_parse_error err;
	struct sip_msg m;
	struct sip_challenge ch[4];
	size_t n, off;

	return BEST_NS(iters, {
		sink += sip_parse(challenge_401, sizeof(challenge_401) - 1, SIP_FRAMING_DATAGRAM,
				  &m, hdrs, 32, &err);
		sink += sip_digest_challenges_parse(
			sip_msg_header(&m, SIP_HDR_WWW_AUTHENTICATE, 0)->value, ch, 4, &n, &off);
	});
}

static double bench_build_register(long iters, const char *auth)
{
	struct sip_tpl t;
	struct sip_tpl_params p = {
		.method = SIP_TPL_REGISTER,
		.request_uri = SIP_STR("sip:sip.example.com"),
		.from_uri = SIP_STR("sip:10001@sip.example.com"),
		.from_tag = SIP_STR("8d1f2a"),
		.call_id = SIP_STR("1-10001@198.18.0.10"),
		.contact_uri = SIP_STR("sip:10001@198.18.0.10:5060"),
		.via_sent_by = SIP_STR("198.18.0.10:5060"),
		.user_agent = SIP_STR("sipedge/0.1"),
	};
	struct sip_req_fields f = {.cseq = 1, .expires = 3600, .auth = sip_str_cstr(auth)};
	char buf[2048];

	if (sip_tpl_prepare(&t, &p) != 0) {
		fputs("bench sip: template preparation failed\n", stderr);
		exit(1);
	}
	return BEST_NS(iters, {
		f.branch = (uint64_t)i_;
		f.cseq = (uint32_t)i_ + 1;
		sink += sip_build_register(&t, &f, buf, sizeof(buf));
	});
}

/* One Authorization value answering a qop=auth challenge, HA1 precomputed, HA2 cached. */
static double bench_digest(enum sip_digest_alg alg, long iters, char *auth_out, size_t cap)
{
	static const char value[] = "Digest realm=\"sip.example.com\", "
				    "nonce=\"Z2nB8mdpwMzgY4T1zx6l0q1uU1mG8XHn\", qop=\"auth\"";
	struct sip_digest_ctx ctx;
	struct sip_challenge ch;
	struct sip_digest_ha2 ha2;
	char ha1[SIP_DIGEST_HEX_MAX], cn[SIP_DIGEST_CNONCE_LEN];
	size_t n, off;
	int hl;

	if (sip_digest_ctx_create(&ctx) != 0 ||
	    sip_digest_challenges_parse(SIP_STR(value), &ch, 1, &n, &off) != 0) {
		fputs("bench sip: digest set-up failed\n", stderr);
		exit(1);
	}
	ch.algorithm = alg;
	hl = sip_digest_ha1(&ctx, alg, SIP_STR("10001"), SIP_STR("sip.example.com"),
			    SIP_STR("secret"), ha1);
	sip_digest_ha2_reset(&ha2);
	struct sip_digest_req req = {
		.method = SIP_STR("REGISTER"),
		.uri = SIP_STR("sip:sip.example.com"),
		.username = SIP_STR("10001"),
		.ha1 = sip_str_make(ha1, hl > 0 ? (size_t)hl : 0),
		.cnonce = sip_digest_cnonce(0x1234, cn),
		.nc = 1,
	};
	double ns = BEST_NS(iters, {
		req.nc = (uint32_t)i_ + 1;
		sink += sip_digest_authorization(&ctx, &ch, &req, &ha2, auth_out, cap);
	});
	sip_digest_ctx_destroy(&ctx);
	return ns;
}

struct figure {
	const char *key;
	const char *what;
	double ns;
	double target;
};

int main(int argc, char **argv)
{
	int json = argc > 1 && !strcmp(argv[1], "--json");
	long it = 200000;
	char auth[512];
	struct figure f[7];
	size_t nf = 0;

	if (argc > 1 && !json) {
		fprintf(stderr, "usage: bench_sip [--json]\n");
		return 2;
	}
	f[nf++] = (struct figure){"digest_md5_ns", "digest response MD5 (Authorization value)",
				  bench_digest(SIP_DIGEST_MD5, it, auth, sizeof(auth)), 800};
	f[nf++] =
		(struct figure){"digest_sha256_ns", "digest response SHA-256 (Authorization value)",
				bench_digest(SIP_DIGEST_SHA256, it, auth, sizeof(auth)), 0};
	f[nf++] = (struct figure){"parse_200ok_ns", "parse 200 OK to REGISTER",
				  bench_parse(ok_200, sizeof(ok_200) - 1, it), 300};
	f[nf++] = (struct figure){"parse_401_ns", "parse 401 + its challenge", bench_parse_401(it),
				  0};
	f[nf++] = (struct figure){"parse_notify_ns", "parse NOTIFY (message-summary)",
				  bench_parse(notify, sizeof(notify) - 1, it), 0};
	f[nf++] = (struct figure){"build_register_ns", "build REGISTER (no credentials)",
				  bench_build_register(it, ""), 150};
	/* The same REGISTER carrying the MD5 Authorization value computed above. */
	bench_digest(SIP_DIGEST_MD5, 1, auth, sizeof(auth));
	f[nf++] = (struct figure){"build_register_auth_ns", "build REGISTER with Authorization",
				  bench_build_register(it, auth), 150};
	if (json) {
		printf("{");
		for (size_t i = 0; i < nf; i++)
			printf("%s\"%s\":%.1f", i ? "," : "", f[i].key, f[i].ns);
		printf(",\"iterations\":%ld,\"rounds\":%d}\n", it, ROUNDS);
		return 0;
	}
	printf("| operation | key | ns/op (best of %d x %ld) | target |\n", ROUNDS, it);
	printf("|---|---|---:|---:|\n");
	for (size_t i = 0; i < nf; i++) {
		char target[32] = "-";

		if (f[i].target > 0)
			snprintf(target, sizeof(target), "<= %.0f %s", f[i].target,
				 f[i].ns <= f[i].target ? "(met)" : "(MISSED)");
		printf("| %s | `%s` | %.1f | %s |\n", f[i].what, f[i].key, f[i].ns, target);
	}
	return 0;
}
