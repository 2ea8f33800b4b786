/*
 * JSON writer behind control/json.h. Octets that are not valid UTF-8 are written as
 * \u00XX (their Latin-1 reading), so the output always parses.
 */
#include "control/json.h"

#include <string.h>

void ctl_json_init(struct ctl_json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void ctl__json_quoted(struct ctl_json *j, const char *s, size_t len);

static void ctl__json_key(struct ctl_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		ctl__json_quoted(j, key, strlen(key));
		fputc(':', j->out);
	}
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t ctl__utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] > 0xf4 || len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
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
	if (key || j->depth > 0)
		ctl__json_key(j, key);
	ctl__json_quoted(j, s, len);
}

void ctl_json_cstr(struct ctl_json *j, const char *key, const char *s)
{
	ctl_json_str(j, key, s, strlen(s));
}

void ctl_json_begin_object(struct ctl_json *j, const char *key)
{
	if (j->depth > 0)
		ctl__json_key(j, key);
	fputc('{', j->out);
	j->need_comma[++j->depth] = false;
}

void ctl_json_end_object(struct ctl_json *j)
{
	fputc('}', j->out);
	j->depth--;
}

void ctl_json_begin_array(struct ctl_json *j, const char *key)
{
	if (j->depth > 0)
		ctl__json_key(j, key);
	fputc('[', j->out);
	j->need_comma[++j->depth] = false;
}

void ctl_json_end_array(struct ctl_json *j)
{
	fputc(']', j->out);
	j->depth--;
}

void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t v)
{
	ctl__json_key(j, key);
	fprintf(j->out, "%llu", (unsigned long long)v);
}

void ctl_json_double(struct ctl_json *j, const char *key, double v)
{
	ctl__json_key(j, key);
	fprintf(j->out, "%.6g", v);
}

void ctl_json_bool(struct ctl_json *j, const char *key, bool v)
{
	ctl__json_key(j, key);
	fputs(v ? "true" : "false", j->out);
}

void ctl_json_null(struct ctl_json *j, const char *key)
{
	ctl__json_key(j, key);
	fputs("null", j->out);
}
