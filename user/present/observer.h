/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a presenter is told.  Every output (the lines, the live view, the
 * report) is an observer of the core: it is handed each record after the
 * table and the detector took it, each verdict, each policy outcome, and
 * the run's start and end.  It reads what it is handed and the table; it
 * never feeds a record back.  The pipeline calls its observers in the
 * order they were added.
 */
#ifndef FT_OBSERVER_H
#define FT_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include "contain/policy.h"
#include "core/detector.h"
#include "core/proctable.h"
#include "core/stream.h"

/* The run so far, as the summary line says it. */
struct ft_totals {
	uint64_t forks, execs, exits, ooms, threads_started, threads_exited;
	uint64_t lost, lost_by_type[FT_EV_MAX];
	uint64_t resyncs, records, filtered_in_kernel;
	uint64_t alerts, findings, signals, kernel_signals;
	uint64_t detector_dropped_pending, detector_dropped_alerts, detector_retired_alerts;
	uint64_t detector_profiles, detector_nodes;
	uint64_t top_trees_cut; /* top-tree lists (view, metrics) cut at their budget */
	/* containment failures: kernel helpers that failed, children of
	 * flagged trees the members map had no room for, and user space's
	 * kernel map updates that failed */
	uint64_t kernel_signal_failed, member_map_full, policy_failures;
	/* forks the kernel refused, by errno (the most common ones) */
	uint64_t fork_failures, fork_failures_eagain, fork_failures_enomem;
};

/* One record, as the core left it. */
struct observed_record {
	const union ft_record *rec;
	const struct proctable *table;
	int32_t slot; /* its subject in the table, PT_NONE if none */
	/*
	 * A process's record (fork, exec, exit, OOM, snapshot, gone, refused
	 * fork) that is news in the run's scope: its subject is in -p's
	 * subtree (every process without -p), and it is not a second
	 * last-thread exit.  False for the others.
	 */
	bool in_scope;
	const struct det_oom_tree *oom; /* OOM records in scope: the victim's tree */
};

/* The end of the run: what --tree and the summary print. */
struct observed_end {
	const struct proctable *table;
	int32_t scope_root; /* -p's root in the table, else PT_NONE */
	bool scope_known;   /* no -p, or -p's process was seen */
	const struct ft_totals *totals;
	uint64_t now_ns;
};

/* Any callback may be NULL. */
struct observer {
	void (*start)(void *ctx, const char *source, uint32_t self_pid);
	void (*record)(void *ctx, const struct observed_record *r);
	/* verdicts in scope; root_cgroup: the root's cgroup id (0: unknown) */
	void (*verdict)(void *ctx, const struct det_verdict *v, uint64_t root_cgroup);
	void (*policy)(void *ctx, const struct policy_outcome *r);
	void (*finish)(void *ctx, const struct observed_end *end);
	void *ctx;
	/* an OOM record in scope comes with its victim's tree (the detector
	 * profiles it: only for an observer that shows it) */
	bool wants_oom_trees;
};

#endif /* FT_OBSERVER_H */
