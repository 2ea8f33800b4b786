/* `sipedge version`: this build and every library it runs on, for bug reports. */
#include "control/cli.h"

#include <ares.h>
#include <openssl/crypto.h>
#include <string.h>
#include <uv.h>

#include "dataplane/version.h"

#ifdef SIPEDGE_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

int ctl_cmd_version(int argc, char **argv)
{
	const char *je = "not linked (sanitizer build)";

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: sipedge version\nPrints the sipedge version and the libraries it runs on.");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "sipedge version: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
#ifdef SIPEDGE_HAVE_JEMALLOC
	size_t len = sizeof(je);

	if (mallctl("version", &je, &len, NULL, 0) != 0)
		je = "unknown";
#endif
	printf("sipedge %s\n", SIPEDGE_VERSION);
	printf("  %s\n", dp_dpdk_version());
	printf("  libuv %s\n", uv_version_string());
	printf("  c-ares %s\n", ares_version(NULL));
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  jemalloc %s\n", je);
	return 0;
}
