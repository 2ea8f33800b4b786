/* The DPDK release the dataplane runs on, read from the library itself. */
#include "dataplane/version.h"

#include <rte_version.h>

const char *dp_dpdk_version(void)
{
	return rte_version();
}
