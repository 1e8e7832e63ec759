/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_TEXT_H_
#define _FP_TEXT_H_

/**
 * @file
 * Building text in a caller's buffer, for the libraries' format functions.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Append formatted text to a buffer, like snprintf() at offset *len, and
 * keep counting past the end: *len ends as the length the whole text
 * needs, as snprintf() returns it. The buffer stays NUL-terminated when
 * 'size' > 0.
 *
 * @param buf
 *   The buffer.
 * @param size
 *   Its size.
 * @param len
 *   The text's length so far; updated.
 * @param fmt
 *   printf() format.
 */
void
fp_text_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* _FP_TEXT_H_ */
