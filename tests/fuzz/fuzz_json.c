// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON Lines writer on any bytes (comm, argv and paths are chosen by
 * whoever runs the process): its line must parse as JSON, and the string
 * must come back as the bytes went in, valid UTF-8 as is, each byte that
 * is not as U+00XX (docs/json.md).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "fuzz.h"
#include "core/utf8.h"
#include "present/json.h"

/* What the reader of the line must see: the writer's documented mapping. */
static size_t expected(const uint8_t *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i];) {
		size_t len = utf8_seq_len(s + i, n - i);

		if (len) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		} else {
			out[o++] = (char)(0xc0 | s[i] >> 6);
			out[o++] = (char)(0x80 | (s[i] & 0x3f));
			i++;
		}
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_line j;
	char *buf = NULL, *want;
	size_t len = 0, n = size > 2000 ? 2000 : size, wlen;
	json_t *doc;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return 0;
	json_begin(&j, f);
	json_strn(&j, "s", (const char *)data, n);
	json_u64(&j, "n", n);
	json_end(&j);
	fclose(f);
	doc = json_loads(buf, 0, NULL);
	if (!doc)
		abort(); /* the writer made a line that is not JSON */
	want = malloc(2 * n + 1);
	if (!want)
		abort();
	wlen = expected(data, n, want);
	/* the whole string, exactly: nothing cut, nothing added */
	if (!json_string_value(json_object_get(doc, "s")) ||
	    json_string_length(json_object_get(doc, "s")) != wlen ||
	    memcmp(json_string_value(json_object_get(doc, "s")), want, wlen))
		abort(); /* the bytes did not come back */
	free(want);
	json_decref(doc);
	free(buf);
	return 0;
}
