/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A one-line JSON object writer (names kept apart from jansson's, which
 * parses bundles and writes the report's document).  Strings are escaped for JSON and made
 * valid UTF-8: comm and filenames are bytes any process chooses.
 */
#ifndef FT_JSON_H
#define FT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/utf8.h"

/* The line is built in buf and written with one fwrite: stdio's printf
 * machinery was most of forktrace's user-space cost at fork-storm rates. */
struct json_line {
	FILE *f;
	int depth;
	bool need_comma, overflow;
	size_t len;
	/* the longest line (an alert: a few escaped 256-byte strings) fits
	 * several times over; a longer one is written as an error line */
	char buf[65536];
};

void json_begin(struct json_line *j, FILE *f);
void json_end(struct json_line *j); /* closes the object and the line */
void json_str(struct json_line *j, const char *key, const char *s);
/* at most n bytes of s (stops at NUL too) */
void json_strn(struct json_line *j, const char *key, const char *s, size_t n);
void json_u64(struct json_line *j, const char *key, uint64_t v);
void json_i64(struct json_line *j, const char *key, int64_t v);
void json_f64(struct json_line *j, const char *key, double v);
void json_bool(struct json_line *j, const char *key, bool v);
void json_null_field(struct json_line *j, const char *key);
void json_u32_array(struct json_line *j, const char *key, const uint32_t *v, size_t n);
void json_nest(struct json_line *j, const char *key); /* nested {...} */
void json_nest_end(struct json_line *j);

/* Escape into a buffer (for tests and reuse); returns bytes written. */
size_t json_escape(char *out, size_t outlen, const char *s, size_t n);

#endif /* FT_JSON_H */
