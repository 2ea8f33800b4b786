/*
 * A small streaming JSON writer for what sipedge prints for scripts (`parse`, reports,
 * `--json` tables). It tracks commas itself so callers write fields in order and nothing
 * else; strings are escaped so any octets (NUL, invalid UTF-8) still give valid JSON.
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Objects and arrays nest this deep; what a caller opens deeper is left out whole. */
#define CTL_JSON_MAX_DEPTH 31

struct ctl_json {
	FILE *out;
	int depth;   /* open objects and arrays that were written */
	int skipped; /* open ones past CTL_JSON_MAX_DEPTH, left out with all they hold */
	bool need_comma[CTL_JSON_MAX_DEPTH + 1];
};

void ctl_json_init(struct ctl_json *j, FILE *out);
void ctl_json_begin_object(struct ctl_json *j, const char *key);
void ctl_json_end_object(struct ctl_json *j);
void ctl_json_begin_array(struct ctl_json *j, const char *key);
void ctl_json_end_array(struct ctl_json *j);
/* key is NULL inside an array. */
void ctl_json_str(struct ctl_json *j, const char *key, const char *s, size_t len);
void ctl_json_cstr(struct ctl_json *j, const char *key, const char *s);
void ctl_json_u64(struct ctl_json *j, const char *key, uint64_t v);
void ctl_json_double(struct ctl_json *j, const char *key, double v);
void ctl_json_bool(struct ctl_json *j, const char *key, bool v);
void ctl_json_null(struct ctl_json *j, const char *key);

#endif
