/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal test harness: CHECK records a failure with its line and goes
 * on; each TEST counts as passed only if none of its checks failed.  The
 * last line is "N passed, N failed", which CI reads.
 */
#ifndef FT_CHECK_H
#define FT_CHECK_H

#include <stdio.h>

static int check_failures, tests_passed, tests_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before = check_failures;                                                       \
		fn();                                                                              \
		if (check_failures == before) {                                                    \
			tests_passed++;                                                            \
			printf("ok   %s\n", #fn);                                                  \
		} else {                                                                           \
			tests_failed++;                                                            \
			printf("FAIL %s\n", #fn);                                                  \
		}                                                                                  \
	} while (0)

#define SUMMARY() (printf("%d passed, %d failed\n", tests_passed, tests_failed), tests_failed != 0)

#endif /* FT_CHECK_H */
