/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `forktrace report RECORDING -o FILE`: an incident report from a
 * recording, replayed through the same pipeline as -r.  One self-contained
 * HTML file (inline SVG and CSS, no script, no network reference), or the
 * plot alone (svg), or its data (json); --folded adds flame-graph folded
 * stacks of the trees.
 */
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* argv[0] is "report"; returns the exit status. */
int report_main(int argc, char **argv);

/*
 * Nice axis ticks, a pure function: a step of 1, 2 or 5 times a power of
 * ten such that [0, max] needs at most max_ticks steps.
 */
double report_tick_step(double max, int max_ticks);

/* Text for HTML or XML: &<>"' escaped, invalid UTF-8 as U+FFFD, control
 * bytes dropped.  At most n bytes of s (stops at NUL). */
void report_escape(FILE *f, const char *s, size_t n);

#endif /* FT_REPORT_H */
