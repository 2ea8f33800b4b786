/*
 * What the dataplane was built against, for `sipedge version` and bug reports. The
 * control plane asks here rather than including DPDK headers itself (DESIGN.md §2).
 */
#ifndef DP_VERSION_H
#define DP_VERSION_H

/* The DPDK release linked in, e.g. "DPDK 22.11.11". */
const char *dp_dpdk_version(void);

#endif
