/*
 * libFuzzer target: an Aastra/Mitel phone configuration of any octets through the
 * key: value splitter and ctl_phonecfg_load_text; long lines, NULs and CRs included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/phonecfg.h"

static void fuzz__line(void *ctx, const char *key, const char *value, unsigned line)
{
	(void)ctx;
	(void)line;
	if ((key && strlen(key) > 511) || strlen(value) > 511)
		abort(); /* a line is cut at 511 octets */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_run_cfg c;
	static FILE *devnull;
	char err[256];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	ctl_phonecfg_parse((const char *)data, size, fuzz__line, NULL);
	ctl_run_cfg_defaults(&c);
	if (ctl_phonecfg_load_text("fuzz.cfg", (const char *)data, size, &c, devnull) == 0)
		ctl_run_cfg_finish(&c, err, sizeof(err));
	ctl_run_cfg_release(&c);
	return 0;
}
