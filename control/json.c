/*
 * JSON writer behind control/json.h. Octets that are not well-formed UTF-8 (RFC 3629 §4)
 * are written as \u00XX (their Latin-1 reading), so the output always parses.
 */
#include "control/json.h"

#include <math.h>
#include <string.h>

void ctl_json_init(struct ctl_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void ctl__json_quoted(struct ctl_json *j, const char *s, size_t len);

/* The comma and key before a value; false when the value sits too deep to be written. */
static bool ctl__json_key(struct ctl_json *j, const char *key)
{
	if (j->skipped)
		return false;
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		ctl__json_quoted(j, key, strlen(key));
		fputc(':', j->out);
	}
	return true;
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is not one. The
 * table of RFC 3629 §4: the second octet's range depends on the first, which is what
 * rules out overlong forms (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code
 * points past U+10FFFF (F4 90-BF, F5-FF).
 */
static size_t ctl__utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

static void ctl__json_quoted(struct ctl_json *j, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', j->out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		size_t u;

		if (c == '"' || c == '\\') {
			fputc('\\', j->out);
			fputc(c, j->out);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->out, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, j->out);
		} else if ((u = ctl__utf8_len(p + i, len - i)) != 0) {
			fwrite(p + i, 1, u, j->out);
			i += u - 1;
		} else {
			fprintf(j->out, "\\u%04x", c);
		}
	}
	fputc('"', j->out);
}

void ctl_json_str(struct ctl_json *j, const char *key, const char *s, size_t len)
{
	if ((key || j->depth > 0) && !ctl__json_key(j, key))
		return;
	if (!j->skipped)
		ctl__json_quoted(j, s, len);
}

void ctl_json_cstr(struct ctl_json *j, const char *key, const char *s)
{
	ctl_json_str(j, key, s, strlen(s));
}

static void ctl__json_open(struct ctl_json *j, const char *key, char c)
{
	if (j->skipped || j->depth == CTL_JSON_MAX_DEPTH) {
		j->skipped++;
		return;
	}
	if (j->depth > 0)
		ctl__json_key(j, key);
	fputc(c, j->out);
	j->need_comma[++j->depth] = false;
}

static void ctl__json_close(struct ctl_json *j, char c)
{
	if (j->skipped) {
		j->skipped--;
		return;
	}
	if (j->depth == 0)
		return; /* nothing open: writing c would break the document */
	fputc(c, j->out);
	j->depth--;
}

void ctl_json_begin_object(struct ctl_json *j, const char *key)
{
	ctl__json_open(j, key, '{');
}

void ctl_json_end_object(struct ctl_json *j)
{
	ctl__json_close(j, '}');
}

void ctl_json_begin_array(struct ctl_json *j, const char *key)
{
	ctl__json_open(j, key, '[');
}

void ctl_json_end_array(struct ctl_json *j)
{
	ctl__json_close(j, ']');
}

void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t v)
{
	if (ctl__json_key(j, key))
		fprintf(j->out, "%llu", (unsigned long long)v);
}

void ctl_json_double(struct ctl_json *j, const char *key, double v)
{
	if (!ctl__json_key(j, key))
		return;
	if (isfinite(v))
		fprintf(j->out, "%.6g", v);
	else
		fputs("null", j->out); /* JSON has no NaN or infinity */
}

void ctl_json_bool(struct ctl_json *j, const char *key, bool v)
{
	if (ctl__json_key(j, key))
		fputs(v ? "true" : "false", j->out);
}

void ctl_json_null(struct ctl_json *j, const char *key)
{
	if (ctl__json_key(j, key))
		fputs("null", j->out);
}
