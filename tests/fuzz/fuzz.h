/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the fuzz harnesses (make fuzz: libFuzzer; make test: the
 * regression driver, tests/fuzz/driver.c, replays the corpora).
 */
#ifndef FT_FUZZ_H
#define FT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a file a parser can open by path (a tmpfile, through /proc). */
static inline FILE *fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	FILE *f = tmpfile();

	if (!f)
		return NULL;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return NULL;
	}
	fflush(f);
	snprintf(path, len, "/proc/self/fd/%d", fileno(f));
	return f;
}

#endif /* FT_FUZZ_H */
