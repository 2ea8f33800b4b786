/*
 * Lines from a CSV file in SIPp's injection-file style: a first line SEQUENTIAL, RANDOM
 * or USER, then one row per line, fields separated by ';'. Field 0 is the user name; a
 * field "[authentication username=U password=P]" gives the line's own password (U must
 * be the user name: a separate authentication name is not supported yet). Rows without
 * one use the shared password. '#' starts a comment line.
 */
#ifndef CTL_CSVLINES_H
#define CTL_CSVLINES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_CSV_NO_PASSWORD UINT32_MAX

struct ctl_csv {
	char *text; /* the file, its fields cut out in place (NUL-terminated) */
	size_t len;
	uint32_t n;	/* rows */
	uint32_t *user; /* offset of each row's user name in text */
	uint32_t *pass; /* offset of its password, or CTL_CSV_NO_PASSWORD */
};

/* Parse text (malloc'd, len octets and room for one more; the csv takes it over). Every problem goes to errs as
 * "path:line: sentence"; returns how many, 0 when all rows are usable. */
int ctl_csv_parse(struct ctl_csv *csv, const char *path, char *text, size_t len, FILE *errs);
/* Read and parse path; -1 when it cannot be read. */
int ctl_csv_load(struct ctl_csv *csv, const char *path, FILE *errs);
/* Wipes the passwords and frees everything; accepts a zeroed csv. */
void ctl_csv_free(struct ctl_csv *csv);

#endif
