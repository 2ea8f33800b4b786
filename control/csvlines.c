/* SIPp-style CSV line files (control/csvlines.h). */
#include "control/csvlines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CTL__USER_MAX 31 /* the dataplane keeps 31 octets of user name per line */
#define CTL__PASS_MAX 127

/* The octets RFC 3261 §25.1 lets a user part carry unescaped. */
static bool ctl__user_ok(const char *u)
{
	return u[0] && strlen(u) <= CTL__USER_MAX &&
	       strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			 "-_.!~*'()&=+$,;?/") == strlen(u);
}

static void ctl__trim(char **s)
{
	char *e;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	for (e = *s + strlen(*s); e > *s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');)
		*--e = '\0';
}

/* "[authentication username=U password=P]": U and P cut out in place; false if the field
 * is something else. */
static bool ctl__auth_field(char *f, char **user, char **pass)
{
	char *tok, *save = NULL;
	size_t n = strlen(f);

	*user = *pass = NULL;
	if (strncmp(f, "[authentication", 15) != 0 || n < 16 || f[n - 1] != ']')
		return false;
	f[n - 1] = '\0';
	for (tok = strtok_r(f + 15, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!strncmp(tok, "username=", 9))
			*user = tok + 9;
		else if (!strncmp(tok, "password=", 9))
			*pass = tok + 9;
	}
	return true;
}

struct ctl__csvp {
	struct ctl_csv *csv;
	const char *path;
	FILE *errs;
	int problems;
	size_t cap;
};

static void ctl__bad(struct ctl__csvp *p, unsigned no, const char *what, const char *v)
{
	fprintf(p->errs, "%s:%u: %s%s%.40s%s\n", p->path, no, what, v ? " '" : "", v ? v : "",
		v ? "'" : "");
	p->problems++;
}

static void ctl__row(struct ctl__csvp *p, char *row, unsigned no)
{
	struct ctl_csv *csv = p->csv;
	char *save = NULL, *f, *user = NULL, *pass = NULL, *au, *ap;
	int k = 0;

	for (f = strtok_r(row, ";", &save); f; f = strtok_r(NULL, ";", &save), k++) {
		ctl__trim(&f);
		if (k == 0)
			user = f;
		else if (ctl__auth_field(f, &au, &ap)) {
			if (au && user && strcmp(au, user))
				return ctl__bad(p, no,
						"authentication username differs from the user "
						"name (not supported yet):",
						au);
			pass = ap;
		}
	}
	if (!user || !ctl__user_ok(user))
		return ctl__bad(p, no, "a user name of 1..31 URI characters first, not", user);
	if (pass && (!pass[0] || strlen(pass) > CTL__PASS_MAX))
		return ctl__bad(p, no, "password empty or longer than 127 octets", NULL);
	if (csv->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		uint32_t *u = realloc(csv->user, cap * sizeof(*u)), *pw;

		if (u)
			csv->user = u;
		pw = u ? realloc(csv->pass, cap * sizeof(*pw)) : NULL;
		if (!u || !pw)
			return ctl__bad(p, no, "out of memory", NULL);
		csv->pass = pw;
		p->cap = cap;
	}
	csv->user[csv->n] = (uint32_t)(user - csv->text);
	csv->pass[csv->n] = pass ? (uint32_t)(pass - csv->text) : CTL_CSV_NO_PASSWORD;
	csv->n++;
}

int ctl_csv_parse(struct ctl_csv *csv, const char *path, char *text, size_t len, FILE *errs)
{
	struct ctl__csvp p = {.csv = csv, .path = path, .errs = errs};
	size_t pos = 0;
	unsigned no = 0;
	bool first = true;

	memset(csv, 0, sizeof(*csv));
	csv->text = text;
	csv->len = len;
	if (len > UINT32_MAX - 1) {
		fprintf(errs, "%s: larger than 4 GB\n", path);
		return 1;
	}
	while (pos < len) {
		char *row = text + pos, *nl = memchr(row, '\n', len - pos);
		size_t rl = nl ? (size_t)(nl - row) : len - pos;

		row[rl] = '\0'; /* text holds len + 1 octets */
		pos += rl + 1;
		no++;
		if (memchr(row, '\0', rl)) {
			ctl__bad(&p, no, "a NUL octet in the row", NULL);
			continue;
		}
		ctl__trim(&row);
		if (!row[0] || row[0] == '#')
			continue;
		if (first) {
			first = false;
			if (strcmp(row, "SEQUENTIAL") && strcmp(row, "RANDOM") &&
			    strcmp(row, "USER"))
				ctl__bad(&p, no,
					 "the first line wants SEQUENTIAL, RANDOM or USER, not",
					 row);
			continue;
		}
		ctl__row(&p, row, no);
	}
	if (!p.problems && csv->n == 0) {
		fprintf(errs, "%s: no lines in it\n", path);
		p.problems++;
	}
	return p.problems;
}

int ctl_csv_load(struct ctl_csv *csv, const char *path, FILE *errs)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long len = -1;

	memset(csv, 0, sizeof(*csv));
	if (!f) {
		fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
		text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(errs, "%s: cannot read it whole\n", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	return ctl_csv_parse(csv, path, text, (size_t)len, errs);
}

void ctl_csv_free(struct ctl_csv *csv)
{
	if (!csv)
		return;
	if (csv->text) /* passwords do not outlive the load (DESIGN.md §3) */
		memset(csv->text, 0, csv->len);
	free(csv->text);
	free(csv->user);
	free(csv->pass);
	memset(csv, 0, sizeof(*csv));
}
