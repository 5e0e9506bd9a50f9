/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A liveness signal that needs no port: the main loop writes the time it
 * last read the ring buffer into a file (--heartbeat FILE), and
 * `forktrace --health-check FILE`, run by the kubelet as an exec probe,
 * says whether that time is recent.  No client of the metrics port can
 * make it fail (docs/kubernetes.md, "Health").
 */
#ifndef FT_HEALTH_H
#define FT_HEALTH_H

#include <stdint.h>
#include <stdio.h>

#define HEALTH_WRITE_NS 1000000000ull /* the file is rewritten at most this often */

struct health {
	int fd; /* -1: no --heartbeat */
	uint64_t written_ns;
};

/* Open (create) path for the heartbeat; before privileges are dropped. */
int health_open(const char *path, struct health *h, char *err, size_t errlen);
/* The ring buffer was read at now_ns (CLOCK_BOOTTIME); no-op without a file. */
void health_beat(struct health *h, uint64_t now_ns);
void health_close(struct health *h);

/*
 * Parse a heartbeat file's bytes: the CLOCK_BOOTTIME nanoseconds of the
 * last read, as decimal digits and a newline.  0 and *ns on success, -1 on
 * anything else.
 */
int health_parse(const char *buf, size_t len, uint64_t *ns);

/*
 * --health-check FILE: drop every capability, read FILE, and return 0 if
 * its time is at most max_age_ns before now_ns, else 1 with one line on
 * msg saying why.
 */
int health_check(const char *path, uint64_t now_ns, uint64_t max_age_ns, FILE *msg);

#endif /* FT_HEALTH_H */
