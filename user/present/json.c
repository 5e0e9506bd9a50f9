// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "present/json.h"

/* Append n bytes at *o if they fit with room for the NUL; false if not. */
static bool append(char *out, size_t outlen, size_t *o, const char *src, size_t n)
{
	if (*o + n >= outlen)
		return false;
	memcpy(out + *o, src, n);
	*o += n;
	return true;
}

size_t json_escape(char *out, size_t outlen, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;

	if (!outlen)
		return 0;
	while (i < n && p[i]) {
		char tmp[8];
		size_t len = utf8_seq_len(p + i, n - i), tlen;
		const char *src = tmp;

		if (len > 1) {
			src = (const char *)p + i;
			tlen = len;
		} else if (len == 1 && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' &&
			   p[i] != 0x7f) {
			src = (const char *)p + i;
			tlen = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)p[i];
			tlen = 2;
		} else if (p[i] == '\n') {
			memcpy(tmp, "\\n", 2);
			tlen = 2;
		} else if (p[i] == '\t') {
			memcpy(tmp, "\\t", 2);
			tlen = 2;
		} else {
			/* control bytes and bytes that are not UTF-8: U+00XX keeps the value */
			tlen = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", p[i]);
		}
		if (!append(out, outlen, &o, src, tlen))
			break;
		i += len ? len : 1;
	}
	out[o] = '\0';
	return o;
}

static void put(struct json_line *j, const char *s, size_t n)
{
	if (j->len + n >= sizeof(j->buf)) {
		j->overflow = true; /* json_end writes a line that says so */
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void putc_(struct json_line *j, char c)
{
	put(j, &c, 1);
}

static void put_u64(struct json_line *j, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(j, tmp + i, sizeof(tmp) - (size_t)i);
}

static void key(struct json_line *j, const char *k)
{
	if (j->need_comma)
		putc_(j, ',');
	j->need_comma = true;
	if (k) { /* keys are our own constants: nothing to escape */
		putc_(j, '"');
		put(j, k, strlen(k));
		put(j, "\":", 2);
	}
}

void json_begin(struct json_line *j, FILE *f)
{
	j->f = f;
	j->depth = 1;
	j->need_comma = j->overflow = false;
	j->len = 0;
	putc_(j, '{');
}

void json_end(struct json_line *j)
{
	static const char cut[] = "{\"event\":\"error\",\"error\":\"line too long\"}\n";

	while (j->depth-- > 0)
		putc_(j, '}');
	putc_(j, '\n');
	/* never half a line: a reader would lose the next one too */
	if (j->overflow)
		fwrite(cut, 1, sizeof(cut) - 1, j->f);
	else
		fwrite(j->buf, 1, j->len, j->f);
	j->len = 0;
	j->overflow = false;
}

void json_strn(struct json_line *j, const char *k, const char *s, size_t n)
{
	char esc[4096 * 6 + 1];

	key(j, k);
	if (n > 4096)
		n = 4096;
	n = json_escape(esc, sizeof(esc), s, n);
	putc_(j, '"');
	put(j, esc, n);
	putc_(j, '"');
}

void json_str(struct json_line *j, const char *k, const char *s)
{
	json_strn(j, k, s, strlen(s));
}

void json_u64(struct json_line *j, const char *k, uint64_t v)
{
	key(j, k);
	put_u64(j, v);
}

void json_i64(struct json_line *j, const char *k, int64_t v)
{
	key(j, k);
	if (v < 0) {
		putc_(j, '-');
		put_u64(j, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(j, (uint64_t)v);
	}
}

void json_f64(struct json_line *j, const char *k, double v)
{
	char tmp[64];

	key(j, k);
	if (isfinite(v)) {
		int n = snprintf(tmp, sizeof(tmp), "%.3f", v);

		put(j, tmp, (size_t)n);
	} else {
		put(j, "null", 4);
	}
}

void json_bool(struct json_line *j, const char *k, bool v)
{
	key(j, k);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void json_null_field(struct json_line *j, const char *k)
{
	key(j, k);
	put(j, "null", 4);
}

void json_u32_array(struct json_line *j, const char *k, const uint32_t *v, size_t n)
{
	key(j, k);
	putc_(j, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc_(j, ',');
		put_u64(j, v[i]);
	}
	putc_(j, ']');
}

void json_nest(struct json_line *j, const char *k)
{
	key(j, k);
	putc_(j, '{');
	j->depth++;
	j->need_comma = false;
}

void json_nest_end(struct json_line *j)
{
	if (j->depth > 1) {
		putc_(j, '}');
		j->depth--;
		j->need_comma = true;
	}
}
