/*
 * The `sipedge` subcommands. Each takes argc/argv starting at its own name and returns
 * the process exit status: 0 success, 1 failure, 2 bad usage (with a sentence on stderr).
 */
#ifndef CTL_CLI_H
#define CTL_CLI_H

#include "control/json.h"
#include "sip/parser.h"

int ctl_cmd_version(int argc, char **argv);
int ctl_cmd_parse(int argc, char **argv);
int ctl_cmd_run(int argc, char **argv);
int ctl_cmd_check(int argc, char **argv);
int ctl_cmd_resolve(int argc, char **argv);

/* The authentication headers of m as typed JSON fields (used by `parse`). */
void ctl_cli_json_auth(struct ctl_json *j, const struct sip_msg *m);

#endif
