/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus metrics (--metrics ADDR:PORT): the main loop renders a sample
 * of the pipeline's state into text a few times a second; libmicrohttpd's
 * thread serves the latest text at /metrics and the reader's liveness at
 * /healthz.  Metric names and labels: docs/metrics.md.
 */
#ifndef FT_METRICS_H
#define FT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/container.h"
#include "core/detector.h"
#include "present/output.h"
#include "core/proctable.h"

#define METRICS_TOP_TREES     10 /* tree series: bounded label cardinality */
#define METRICS_LATENCY_NB    10
#define METRICS_ACTION_KINDS  5
#define METRICS_HEALTH_MAX_NS 10000000000ull /* reader silent this long: unhealthy */

/*
 * The server's connections (docs/metrics.md, "Slow clients").  A client
 * that holds a connection open without finishing a request costs a slot
 * and nothing else, so: a request must be read and answered within
 * METRICS_REQUEST_NS of its connection's start (or of the previous answer
 * on a kept-alive connection), however steadily its bytes trickle in; past
 * METRICS_EVICT_AT open connections each new one closes the oldest
 * unanswered one; a source address holds METRICS_PER_IP at most.
 */
#define METRICS_REQUEST_NS 3000000000ull
#define METRICS_MAX_CONNS  256
#define METRICS_EVICT_AT   192
#define METRICS_PER_IP	   4

/* Detection latency histogram buckets, seconds (the last is +Inf). */
extern const double metrics_latency_bounds[METRICS_LATENCY_NB - 1];

enum metrics_action { MA_KILL, MA_STOP, MA_DRY_RUN, MA_REFUSED, MA_EXEMPT };

/*
 * What a SIGHUP's re-read came to.  MR_KERNEL_RULES_FAILED: user space took
 * the new settings but the kernel's safety check did not take the new allow
 * rules whole (it spares what the old set or the new one spares, in part)
 * until a later re-read succeeds.
 */
enum metrics_reload { MR_APPLIED, MR_BAD_CONFIG, MR_KERNEL_RULES_FAILED, METRICS_RELOAD_KINDS };

/* Counters the pipeline keeps for metrics only. */
struct metrics_counts {
	uint64_t alerts[DET_PATTERN_MAX];
	uint64_t actions[METRICS_ACTION_KINDS];
	uint64_t reloads[METRICS_RELOAD_KINDS];
	bool kernel_rules_stale; /* the last re-read that reached the kernel failed there */
	uint64_t latency_buckets[METRICS_LATENCY_NB]; /* not cumulative */
	uint64_t latency_count;
	double latency_sum;
};

struct metrics_tree {
	uint32_t root;
	char comm[FT_COMM_LEN];
	char ns[FT_CT_NS_LEN], pod[FT_CT_POD_LEN];
	uint32_t live;
	double births_per_s;
	bool flagged;
};

struct metrics_sample {
	const char *kernel;
	struct ft_totals tot;
	struct pt_stats table;
	struct ct_cache_stats containers;
	struct metrics_counts counts;
	struct metrics_tree trees[METRICS_TOP_TREES];
	uint32_t ntrees;
};

/* Count a verdict's alert and its detection latency (alert - root's start). */
void metrics_count_verdict(struct metrics_counts *c, const struct det_verdict *v);
/* Count a SIGHUP's outcome; a bad config leaves the kernel's state as it was. */
void metrics_count_reload(struct metrics_counts *c, enum metrics_reload outcome);

/* Prometheus text exposition of s into buf; returns its length (bounded by len). */
size_t metrics_render(const struct metrics_sample *s, char *buf, size_t len);

struct metrics_server;

/*
 * "127.0.0.1:9465", "[::1]:9465", "0.0.0.0:9465"; -1 with a reason.  The
 * server runs in a thread of its own ("ft-http") that drops every
 * capability before it opens the port: nothing it parses runs with the
 * caller's privileges.
 */
int metrics_start(const char *addr, struct metrics_server **out, char *err, size_t errlen);
void metrics_stop(struct metrics_server *m);
/* Main thread: the text the next scrapes get. */
int metrics_publish(struct metrics_server *m, const char *text, size_t len);
/* Main thread: the ring buffer was read at now_ns (CLOCK_BOOTTIME). */
void metrics_heartbeat(struct metrics_server *m, uint64_t now_ns);

#endif /* FT_METRICS_H */
