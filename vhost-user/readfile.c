/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readfile.h"

int
fp_path_format(char *path, size_t size, const char *root, const char *fmt,
	       ...)
{
	va_list ap;
	size_t len;
	int n;

	if (root == NULL || root[0] == '\0')
		root = "/";
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	if (len == 1 && root[0] == '/')
		len = 0;
	if (len + 1 >= size)
		return -ENAMETOOLONG;
	memcpy(path, root, len);
	path[len++] = '/';
	va_start(ap, fmt);
	n = vsnprintf(path + len, size - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - len)
		return -ENAMETOOLONG;
	return 0;
}

/* read(2) that retries when a signal interrupts it: bytes read, 0 at the
 * end of the file, or a negative errno. */
static ssize_t
fp_read_retry(int fd, void *buf, size_t size)
{
	ssize_t n;

	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int
fp_read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len == size - 1) {
			char extra;

			n = fp_read_retry(fd, &extra, 1);
			if (n > 0) {
				close(fd);
				buf[0] = '\0';
				return -EFBIG;
			}
			break;
		}
		n = fp_read_retry(fd, buf + len, size - 1 - len);
		if (n < 0) {
			close(fd);
			buf[0] = '\0';
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

int
fp_read_whole(const char *path, char **bufp, size_t *lenp)
{
	size_t size = 4096, len = 0;
	char *buf, *bigger;
	ssize_t n;
	int fd;

	*bufp = NULL;
	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(size);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len + 1 >= size) {
			bigger = realloc(buf, size * 2);
			if (bigger == NULL) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = bigger;
			size *= 2;
		}
		n = fp_read_retry(fd, buf + len, size - 1 - len);
		if (n < 0) {
			free(buf);
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}
