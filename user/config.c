// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --config: one file for every module's settings, read here and nowhere
 * else.  Each line goes to its owner: the allow rules to containment
 * (policy_config_line), the thresholds to the detector (det_config_set).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "core/utf8.h"

#define CONFIG_LINE_MAX 1024 /* bytes of one --config line */

/* Where a config line stops being text (a control byte, invalid UTF-8), or -1. */
static long not_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq_len((const unsigned char *)s + i, n - i);

		if (!len ||
		    (len == 1 && (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)))
			return (long)i;
		i += len;
	}
	return -1;
}

/*
 * One line of f into buf (at most CONFIG_LINE_MAX bytes, NULs included):
 * its length, -1 at the end, -2 if longer (the rest of it is not read:
 * memory stays bounded whatever the file).
 */
static long read_line(FILE *f, char *buf)
{
	long n = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n == CONFIG_LINE_MAX)
			return -2;
		buf[n++] = (char)ch;
	}
	if (ch == EOF && !n)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return n;
}

int config_load(const char *path, struct det_config *detect, struct policy_opts *policy, char *err,
		size_t errlen)
{
	char line[CONFIG_LINE_MAX + 1], why[256];
	FILE *f = fopen(path, "re");
	int lineno = 0, ret = 0;
	long n, bad;

	if (!f) {
		snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && (n = read_line(f, line)) != -1) {
		char *p = line, *hash;

		lineno++;
		/* refused whole, and never echoed: a line that is not a setting */
		if (n == -2) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
				 CONFIG_LINE_MAX);
			ret = -1;
			break;
		}
		/* a comment may say anything; the setting must be text (a NUL,
		 * a control byte, invalid UTF-8 are not) */
		hash = memchr(line, '#', (size_t)n);
		bad = not_text(line, hash ? (size_t)(hash - line) : (size_t)n);
		if (bad >= 0) {
			snprintf(err, errlen, "%s:%d: not text (byte 0x%02x at column %ld)", path,
				 lineno, (unsigned char)line[bad], bad + 1);
			ret = -1;
			break;
		}
		if (hash)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		/* an allow rule, else a threshold */
		ret = policy_config_line(policy, p, why, sizeof(why));
		if (ret < 0 || (ret > 0 && det_config_set(detect, p, why, sizeof(why)))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			ret = -1;
		} else {
			ret = 0;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "reading config %s: %s", path, strerror(errno));
		ret = -1;
	}
	fclose(f);
	return ret;
}
