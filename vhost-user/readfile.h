/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _READFILE_H_
#define _READFILE_H_

/*
 * Private helpers of the vhost-user library: build paths under a
 * redirectable root and read small sysfs/procfs files whole.
 */

#include <stddef.h>

/*
 * Format a path under 'root' (NULL or "" means "/") into 'path'.
 * Returns 0, or -ENAMETOOLONG.
 */
int
fp_path_format(char *path, size_t size, const char *root, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

/*
 * Read the file 'path' into 'buf' (at most size - 1 bytes) and
 * NUL-terminate it. Returns the length read, or a negative errno.
 * -EFBIG if the file does not fit.
 */
int
fp_read_text(const char *path, char *buf, size_t size);

/*
 * Read a file of any size into a new buffer (NUL-terminated; *len gets the
 * length, the file may hold NULs). Returns 0 or a negative errno; *buf is
 * the caller's to free.
 */
int
fp_read_whole(const char *path, char **buf, size_t *len);

#endif /* _READFILE_H_ */
