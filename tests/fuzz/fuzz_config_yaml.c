/*
 * libFuzzer target: a configuration file of any octets through ctl_config_load_text and,
 * when it loads, the cross-checks of ctl_run_cfg_finish. Problems are sentences, never a
 * crash; every string kept is released.
 */
#include <stdint.h>
#include <stdio.h>

#include "control/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_run_cfg c;
	static FILE *devnull;
	char err[256];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	ctl_run_cfg_defaults(&c);
	if (ctl_config_load_text("fuzz.yaml", (const char *)data, size, &c, devnull) == 0)
		ctl_run_cfg_finish(&c, err, sizeof(err));
	ctl_run_cfg_release(&c);
	return 0;
}
