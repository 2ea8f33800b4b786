/*
 * The RFC 4475 and RFC 5118 torture messages (tests/corpus, written by no one here)
 * against the parser: accept files parse with the right fields, reject files fail with a
 * clear reason inside the buffer, and no prefix of any file crashes or over-reads (each
 * message sits in a buffer of exactly its size, so ASan sees any read past it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/parser.h"

#define MAX_HDRS 128

struct accept_case {
	const char *file;
	const char *method; /* NULL for a response */
	unsigned status;
	const char *call_id;
	uint32_t cseq;
	const char *cseq_method;
	size_t vias;
	size_t body_len;
};

/* Expected fields, read off the RFC texts' own descriptions of each message. */
static const struct accept_case accept_cases[] = {
	{"rfc4475/badbranch.dat", "OPTIONS", 0, "badbranch.sadonfo23i420jv0as0derf3j3n", 8,
	 "OPTIONS", 1, 0},
	{"rfc4475/baddate.dat", "INVITE", 0, "baddate.239423mnsadf3j23lj42--sedfnm234", 1392934,
	 "INVITE", 1, 150},
	{"rfc4475/bcast.dat", NULL, 200, "bcast.0384840201234ksdfak3j2erwedfsASdf", 35, "INVITE", 2,
	 154},
	{"rfc4475/bext01.dat", "OPTIONS", 0, "bext01.0ha0isndaksdj", 8, "OPTIONS", 1, 0},
	{"rfc4475/cparam01.dat", "REGISTER", 0, "cparam01.70710@saturn.example.com", 2, "REGISTER",
	 1, 0},
	{"rfc4475/cparam02.dat", "REGISTER", 0, "cparam02.70710@saturn.example.com", 3, "REGISTER",
	 1, 0},
	{"rfc4475/dblreq.dat", "REGISTER", 0, "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 8,
	 "REGISTER", 1, 0},
	{"rfc4475/esc01.dat", "INVITE", 0, "esc01.239409asdfakjkn23onasd0-3234", 234234, "INVITE",
	 1, 150},
	{"rfc4475/escnull.dat", "REGISTER", 0, "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
	 14398234, "REGISTER", 1, 0},
	{"rfc4475/intmeth.dat", "!interesting-Method0123456789_*+`.%indeed'~", 0,
	 "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 139122385,
	 "!interesting-Method0123456789_*+`.%indeed'~", 1, 0},
	{"rfc4475/inv2543.dat", "INVITE", 0, "inv2543.1717@ift.client.example.com", 56, "INVITE", 1,
	 105},
	{"rfc4475/invut.dat", "INVITE", 0, "invut.0ha0isndaksdjadsfij34n23d", 235448, "INVITE", 1,
	 40},
	{"rfc4475/longreq.dat", "INVITE", 0,
	 "longreq.onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallylongcallid",
	 3882340, "INVITE", 34, 150},
	{"rfc4475/mpart01.dat", "MESSAGE", 0, "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1,
	 "MESSAGE", 1, 553},
	{"rfc4475/noreason.dat", NULL, 100, "noreason.asndj203insdf99223ndf", 35, "INVITE", 1, 0},
	{"rfc4475/novelsc.dat", "OPTIONS", 0, "novelsc.asdfasser0q239nwsdfasdkl34", 3923423,
	 "OPTIONS", 1, 0},
	{"rfc4475/regaut01.dat", "REGISTER", 0, "regaut01.0ha0isndaksdj", 9338, "REGISTER", 1, 0},
	{"rfc4475/sdp01.dat", "INVITE", 0, "sdp01.ndaksdj9342dasdd", 8, "INVITE", 1, 150},
	{"rfc4475/unkscm.dat", "OPTIONS", 0, "unkscm.nasdfasser0q239nwsdfasdkl34", 3923423,
	 "OPTIONS", 1, 0},
	{"rfc4475/unksm2.dat", "REGISTER", 0, "unksm2.daksdj@hyphenated-host.example.com", 234902,
	 "REGISTER", 1, 0},
	{"rfc4475/unreason.dat", NULL, 200, "unreason.1234ksdfak3j2erwedfsASdf", 35, "INVITE", 1,
	 154},
	{"rfc4475/wsinv.dat", "INVITE", 0, "wsinv.ndaksdj@192.0.2.1", 9, "INVITE", 3, 150},
	{"rfc5118/ipv4-mapped-ipv6.dat", "INVITE", 0, "SSG9559905523997077@hlau_4100", 612,
	 "INVITE", 2, 236},
	{"rfc5118/ipv6-correct-abnf-2-colons.dat", "OPTIONS", 0, "G9559905523997077@hlau_4100", 689,
	 "OPTIONS", 1, 0},
	{"rfc5118/ipv6-good.dat", "REGISTER", 0, "SSG9559905523997077@hlau_4100", 98176, "REGISTER",
	 1, 0},
	{"rfc5118/ipv6-in-sdp.dat", "INVITE", 0, "SSG9559905523997077@hlau_4100", 8612, "INVITE", 1,
	 241},
	{"rfc5118/mult-ip-in-header.dat", "BYE", 0, "997077@lau_4100", 89187, "BYE", 3, 0},
	{"rfc5118/mult-ip-in-sdp.dat", "INVITE", 0, "SSG9559905523997077@hlau_4100", 8912, "INVITE",
	 1, 181},
	{"rfc5118/port-unambiguous.dat", "REGISTER", 0, "SSG9559905523997077@hlau_4100", 98176,
	 "REGISTER", 1, 0},
	{"rfc5118/via-received-param-no-delim.dat", "OPTIONS", 0, "SSG95523997077@hlau_4100", 921,
	 "OPTIONS", 1, 0},
	{"rfc5118/via-received-param-with-delim.dat", "BYE", 0, "SSG9559905523997077@hlau_4100",
	 321, "BYE", 1, 0},
};

/* Each reject file and a word its error must name, so a reject for the wrong reason fails. */
static const struct {
	const char *file;
	const char *reason_word;
} reject_cases[] = {
	{"rfc4475/badaspec.dat", "URI"},	 {"rfc4475/baddn.dat", "display name"},
	{"rfc4475/badinv01.dat", "parameter"},	 {"rfc4475/badvers.dat", "version"},
	{"rfc4475/clerr.dat", "Content-Length"}, {"rfc4475/insuf.dat", "missing"},
	{"rfc4475/ltgtruri.dat", "URI"},	 {"rfc4475/lwsruri.dat", "Request-URI"},
	{"rfc4475/mcl01.dat", "twice"},		 {"rfc4475/mismatch01.dat", "CSeq method"},
	{"rfc4475/multi01.dat", "twice"},	 {"rfc4475/ncl.dat", "Content-Length"},
	{"rfc4475/scalar02.dat", "CSeq"},	 {"rfc5118/ipv6-bad.dat", "port"},
};

/* Reads a corpus file into a buffer of exactly its size. */
static char *load(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", SIPEDGE_CORPUS_DIR, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool str_is(struct sip_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static size_t count_vias(const struct sip_msg *m)
{
	const struct sip_header *h;
	size_t n = 0;

	for (size_t k = 0; (h = sip_msg_header(m, SIP_HDR_VIA, k)); k++) {
		struct sip_str cur = h->value, item;

		while (sip_list_next(&cur, &item))
			n++;
	}
	return n;
}

static void accept_files_parse_with_their_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
		const struct accept_case *c = &accept_cases[i];
		struct sip_header hdrs[MAX_HDRS];
		struct sip_parse_error err = {0, NULL};
		struct sip_msg m;
		size_t len;
		char *buf = load(c->file, &len);
		long rc = sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS, &err);

		if (rc < 0)
			fail_msg("%s rejected at octet %zu: %s", c->file, err.off, err.why);
		assert_int_equal(m.is_request, c->method != NULL);
		if (c->method)
			assert_true(str_is(m.method, c->method));
		else
			assert_int_equal(m.status, c->status);
		assert_true(str_is(m.call_id, c->call_id));
		assert_int_equal(m.cseq.seq, c->cseq);
		assert_true(str_is(m.cseq.method, c->cseq_method));
		assert_int_equal(count_vias(&m), c->vias);
		assert_int_equal(m.body.len, c->body_len);
		assert_true((size_t)rc <= len);
		free(buf);
	}
}

static void reject_files_fail_with_a_reason_inside_the_buffer(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		struct sip_header hdrs[MAX_HDRS];
		struct sip_parse_error err = {SIZE_MAX, NULL};
		struct sip_msg m;
		size_t len;
		char *buf = load(reject_cases[i].file, &len);
		long rc = sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS, &err);

		if (rc >= 0)
			fail_msg("%s accepted", reject_cases[i].file);
		assert_int_equal(rc, -EBADMSG);
		assert_true(err.off <= len);
		assert_non_null(err.why);
		if (!strstr(err.why, reject_cases[i].reason_word))
			fail_msg("%s: reason '%s' does not name '%s'", reject_cases[i].file,
				 err.why, reject_cases[i].reason_word);
		free(buf);
	}
}

/* RFC 4475 escnull and esc01: escapes stay escapes, %00 included. */
static void escaped_octets_round_trip_unchanged(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	size_t len;
	char *buf = load("rfc4475/escnull.dat", &len);

	(void)state;
	assert_true(sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS, &err) > 0);
	assert_true(str_is(m.to.uri.user, "null-%00-null"));
	free(buf);
	buf = load("rfc4475/esc01.dat", &len);
	assert_true(sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS, &err) > 0);
	assert_true(str_is(m.ruri_parsed.user, "sips%3Auser%40example.com"));
	assert_true(str_is(m.to.uri.user, "%75se%72"));
	free(buf);
}

/* RFC 4475 dblreq: over UDP the octets after Content-Length's end are dropped. */
static void dblreq_drops_the_octets_after_the_body(void **state)
{
	struct sip_header hdrs[MAX_HDRS];
	struct sip_parse_error err;
	struct sip_msg m;
	size_t len;
	char *buf = load("rfc4475/dblreq.dat", &len);
	long rc = sip_parse(buf, len, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS, &err);

	(void)state;
	assert_true(rc > 0 && (size_t)rc < len);
	assert_memory_equal(buf + rc, "\r\nINVITE", 8);
	free(buf);
}

/* Every file the EXPECT lists call accept or reject has its row in the tables above. */
static bool covered(const char *rel, const char *expect)
{
	if (!strcmp(expect, "accept")) {
		for (size_t i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
			if (!strcmp(accept_cases[i].file, rel))
				return true;
		}
		return false;
	}
	if (!strcmp(expect, "reject")) {
		for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
			if (!strcmp(reject_cases[i].file, rel))
				return true;
		}
		return false;
	}
	return !strcmp(expect, "either");
}

static void every_prefix_of_every_file_is_safe(void **state)
{
	static const char *const lists[] = {"rfc4475", "rfc5118"};

	(void)state;
	for (size_t l = 0; l < 2; l++) {
		char path[1024], name[256], expect[16];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/EXPECT", SIPEDGE_CORPUS_DIR, lists[l]);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fscanf(f, "%255s %15s", name, expect) == 2) {
			char rel[512];
			size_t len;
			char *full;

			snprintf(rel, sizeof(rel), "%s/%s", lists[l], name);
			if (!covered(rel, expect))
				fail_msg("%s (%s) has no row in this test's tables", rel, expect);
			full = load(rel, &len);
			for (size_t cut = 0; cut <= len; cut++) {
				struct sip_header hdrs[MAX_HDRS];
				struct sip_parse_error err;
				struct sip_msg m;
				char *p = malloc(cut ? cut : 1);
				long rc;

				memcpy(p, full, cut);
				rc = sip_parse(p, cut, SIP_FRAMING_DATAGRAM, &m, hdrs, MAX_HDRS,
					       &err);
				assert_true(rc <= (long)cut);
				rc = sip_parse(p, cut, SIP_FRAMING_STREAM, &m, hdrs, MAX_HDRS,
					       &err);
				assert_true(rc <= (long)cut);
				free(p);
			}
			free(full);
		}
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accept_files_parse_with_their_fields),
		cmocka_unit_test(reject_files_fail_with_a_reason_inside_the_buffer),
		cmocka_unit_test(escaped_octets_round_trip_unchanged),
		cmocka_unit_test(dblreq_drops_the_octets_after_the_body),
		cmocka_unit_test(every_prefix_of_every_file_is_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
