/* SPDX-License-Identifier: Apache-2.0 */

#include <stdio.h>

#include <rte_version.h>

#include "fp_version.h"
#include "fp_config.h"
#include "fp_build.h"

const char *
fp_version(void)
{
	return FP_VERSION;
}

const char *
fp_version_revision(void)
{
	return FP_BUILD_REVISION;
}

const char *
fp_version_dpdk(void)
{
	return rte_version();
}

int
fp_version_format(char *buf, size_t size)
{
	return snprintf(buf, size, "Foldpath %s (%s), %s",
			fp_version(), fp_version_revision(),
			fp_version_dpdk());
}
