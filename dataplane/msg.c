/* Names of the ring messages' enums, for logs and reports. */
#include "dataplane/msg.h"

const char *dp_fail_name(enum dp_fail_reason r)
{
	static const char *const names[DP_FAIL__COUNT] = {
		[DP_FAIL_NONE] = "none",
		[DP_FAIL_TIMEOUT] = "timeout",
		[DP_FAIL_TRANSPORT] = "transport",
		[DP_FAIL_AUTH] = "auth",
		[DP_FAIL_4XX] = "4xx",
		[DP_FAIL_5XX] = "5xx",
		[DP_FAIL_6XX] = "6xx",
		[DP_FAIL_TERMINATED] = "terminated",
	};

	return (unsigned)r < DP_FAIL__COUNT ? names[r] : "?";
}
