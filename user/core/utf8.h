/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* UTF-8 checks for text any process chooses (comm, argv, file names). */
#ifndef FT_UTF8_H
#define FT_UTF8_H

#include <stddef.h>

/* Length of a valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/*
 * At most n bytes of s (stops at NUL) into out as valid UTF-8: each byte
 * of an invalid sequence becomes U+FFFD; cut at a whole character to fit.
 * Returns the bytes written (out is always terminated when outlen > 0).
 */
size_t utf8_clean(char *out, size_t outlen, const char *s, size_t n);

#endif /* FT_UTF8_H */
