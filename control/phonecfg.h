/*
 * A real Aastra/Mitel phone configuration file (aastra.cfg, <MAC>.cfg: "key: value"
 * lines, '#' comments) read as a line template: the phone's own keys for its proxy,
 * backup proxy, registrar, backup registrar, outbound proxy, backup outbound proxy,
 * outbound support, registration period, user name and password. The failover mode
 * follows from which backups are configured, as the phone's table says (seed/).
 */
#ifndef CTL_PHONECFG_H
#define CTL_PHONECFG_H

#include <stddef.h>
#include <stdio.h>

#include "control/run_cfg.h"

/* Called for each "key: value" line: key lower-cased and trimmed, value trimmed. */
typedef void (*ctl_phonecfg_fn)(void *ctx, const char *key, const char *value, unsigned line);

/* Split text into key: value lines. Lines without a ':' that are not blank or comments
 * are reported with key NULL and value the line, for the caller to complain about. */
void ctl_phonecfg_parse(const char *text, size_t len, ctl_phonecfg_fn fn, void *ctx);

/*
 * Apply the phone's settings to c, every problem to errs as "path:line: sentence".
 * Keys sipedge does not use are passed over (a phone file holds hundreds). Returns the
 * number of problems, or -1 when the file cannot be read.
 */
int ctl_phonecfg_load(const char *path, struct ctl_run_cfg *c, FILE *errs);
int ctl_phonecfg_load_text(const char *path, const char *text, size_t len, struct ctl_run_cfg *c,
			   FILE *errs);

#endif
