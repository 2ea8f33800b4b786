/*
 * sipedge's configuration file: one YAML document (parsed with libyaml) whose keys are
 * the options of `sipedge run`, grouped by what they set. Every key is documented in
 * docs/config.md. A bad value is reported as FILE:LINE: section.key and the same sentence
 * the command line gives; an unknown key names the keys its section knows.
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stdio.h>

#include "control/run_cfg.h"

/*
 * Read path into c (over its defaults; the file's strings are kept for the life of the
 * process). Each problem goes to errs as "path:line: sentence". Returns the number of
 * problems (0: all applied), or -1 when the file cannot be read or is not YAML.
 */
int ctl_config_load(const char *path, struct ctl_run_cfg *c, FILE *errs);
/* The same from text in memory; path only names it in the messages. */
int ctl_config_load_text(const char *path, const char *text, size_t len, struct ctl_run_cfg *c,
			 FILE *errs);

#endif
