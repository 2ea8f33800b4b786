/*
 * sipedge: the command line. One table of subcommands; each parses its own options and
 * answers --help. Bad usage exits 2 with a sentence, like every Unix tool.
 */
#include <stdio.h>
#include <string.h>

#include "control/cli.h"

struct ctl_subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int ctl__cmd_help(int argc, char **argv);

static const struct ctl_subcommand ctl__subcommands[] = {
	{"help", ctl__cmd_help, "list the subcommands"},
	{"version", ctl_cmd_version, "print the version and the libraries in use"},
	{"parse", ctl_cmd_parse, "parse SIP messages from files, print them as JSON"},
	{"run", ctl_cmd_run, "emulate N lines through a DPDK port: register, fail over, fail back"},
	{"check", ctl_cmd_check, "check a configuration file, every problem with file:line"},
	{"resolve", ctl_cmd_resolve, "locate SIP servers through DNS (RFC 3263) and the TTL cache"},
};

#define CTL_NSUB (sizeof(ctl__subcommands) / sizeof(ctl__subcommands[0]))

static int ctl__cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	puts("usage: sipedge COMMAND [ARGS...]\n\nCommands:");
	for (size_t i = 0; i < CTL_NSUB; i++)
		printf("  %-10s %s\n", ctl__subcommands[i].name, ctl__subcommands[i].summary);
	puts("\n'sipedge COMMAND --help' tells more about one command.");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("sipedge: no command given (try 'sipedge help')\n", stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return ctl__cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version"))
		return ctl_cmd_version(1, argv + 1);
	for (size_t i = 0; i < CTL_NSUB; i++) {
		if (!strcmp(argv[1], ctl__subcommands[i].name))
			return ctl__subcommands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "sipedge: unknown command '%s' (try 'sipedge help')\n", argv[1]);
	return 2;
}
