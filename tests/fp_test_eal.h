/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_TEST_EAL_H_
#define _FP_TEST_EAL_H_

/*
 * For test and benchmark programs that start an EAL: the runtime
 * directory (/var/run/dpdk/PREFIX) outlives the process, even with
 * --no-shconf, so they remove it before exiting.
 */

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* Removes the EAL's runtime directory and its files, then cleans the EAL
 * up. Call it last. */
static inline void
fp_test_eal_finish(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
		rmdir(dir);
	}
	rte_eal_cleanup();
}

#endif /* _FP_TEST_EAL_H_ */
