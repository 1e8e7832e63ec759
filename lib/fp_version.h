/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_VERSION_H_
#define _FP_VERSION_H_

/**
 * @file
 * Foldpath version and build information.
 *
 * The patched ovs-vswitchd reports these through
 * "ovs-appctl foldpath/version", which also proves that the Foldpath
 * libraries are linked into the daemon.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Get the Foldpath release version.
 *
 * @return
 *   The version, for example "0.1.0". Never NULL.
 */
const char *
fp_version(void);

/**
 * Get the source revision Foldpath was built from.
 *
 * @return
 *   The output of "git describe" at build time (for example
 *   "a1b2c3d4e5f6-dirty"), or "unknown" outside a git checkout. Never NULL.
 */
const char *
fp_version_revision(void);

/**
 * Get the version of the DPDK library Foldpath runs against.
 *
 * This is the run-time version (rte_version()), which may differ from the
 * headers Foldpath was compiled with after a DPDK package update.
 *
 * @return
 *   The DPDK version string, for example "DPDK 22.11.11". Never NULL.
 */
const char *
fp_version_dpdk(void);

/**
 * Format all version information on one line.
 *
 * @param buf
 *   Destination buffer.
 * @param size
 *   Size of buf in bytes.
 * @return
 *   The length the full string needs, excluding the terminating NUL, as
 *   snprintf() does; the output is truncated if that is >= size.
 */
int
fp_version_format(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* _FP_VERSION_H_ */
