/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live view (--top, the default on a terminal): a top-like screen of
 * the fastest-growing trees, fed by the pipeline's observer.  It never
 * blocks the reader: keys are read without waiting and the screen is drawn
 * at most a few times a second, whatever the event rate.
 */
#ifndef FT_TOPVIEW_H
#define FT_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pipeline.h"

struct topview_opts {
	const char *mode; /* "observe", "kill", "stop", "kill (dry run)", "stop (dry run)" */
	const char *host;
	bool can_act; /* s/k/c work (an actuator is in place) */
};

struct topview;

/* Takes the terminal (and stderr, shown on the status line until close).
 * -1 with a one-line reason in err. */
int topview_open(const struct topview_opts *o, struct pipeline *p, struct topview **out, char *err,
		 size_t errlen);
/* Keys, and the screen when due; call every loop.  True: the user quit. */
bool topview_tick(struct topview *v, uint64_t now_ns);
/* Gives the terminal back as it was and prints what stderr got meanwhile. */
void topview_close(struct topview *v);

/*
 * The filter, a pure function: "comm:X" (the root's comm starts with X),
 * "pod:NS/NAME" or "pod:X" (a substring of ns/pod), "uid:N", or plain text
 * (a substring of the comm, command line or pod).  An empty filter matches.
 */
struct topview_row_facts {
	const char *comm, *cmdline, *pod; /* pod: "ns/name" or "" */
	uint32_t uid;
};
bool topview_match(const char *filter, const struct topview_row_facts *f);

#endif /* FT_TOPVIEW_H */
