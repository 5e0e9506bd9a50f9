/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Outputs: aligned human lines or JSON Lines (schema: docs/json.md), the
 * end-of-run fork tree and the summary.
 */
#ifndef FT_OUTPUT_H
#define FT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/container.h"
#include "core/detector.h"
#include "contain/policy.h"
#include "core/proctable.h"
#include "core/stream.h"

enum out_format { OUT_HUMAN, OUT_JSON };

struct ft_totals {
	uint64_t forks, execs, exits, ooms, threads_started, threads_exited;
	uint64_t lost, lost_by_type[FT_EV_MAX];
	uint64_t resyncs, records, filtered_in_kernel;
	uint64_t alerts, findings, signals, kernel_signals;
	uint64_t detector_dropped_pending, detector_dropped_alerts, detector_retired_alerts;
	uint64_t detector_profiles, detector_nodes;
	/* containment failures: kernel helpers that failed, children of
	 * flagged trees the members map had no room for, and user space's
	 * kernel map updates that failed */
	uint64_t kernel_signal_failed, member_map_full, policy_failures;
	/* forks the kernel refused, by errno (the most common ones) */
	uint64_t fork_failures, fork_failures_eagain, fork_failures_enomem;
};

struct output;

struct output *output_new(FILE *f, enum out_format fmt, const struct ft_run_info *info);
void output_free(struct output *o);
/* Human output: one line per signal (else one ACTION line per tree). */
void output_set_verbose(struct output *o, bool verbose);
/* JSON: a line per signal (default), or only the tree's action line
 * (the agent's logs), which verbose overrides. */
void output_set_signal_lines(struct output *o, bool on);
/* Where processes run (pod, container), looked up by cgroup id. */
void output_set_containers(struct output *o, struct ct_cache *containers);

void output_start(struct output *o, const char *source, uint32_t self_pid);
/* One stream record; slot is its subject in t (PT_NONE if unknown);
 * oom: the victim's tree, for OOM records (else NULL). */
void output_record(struct output *o, const union ft_record *rec, const struct proctable *t,
		   int32_t slot, const struct det_oom_tree *oom);
/* root_cgroup: the root's cgroup id, for its attribution (0: unknown) */
void output_verdict(struct output *o, const struct det_verdict *v, uint64_t root_cgroup);
void output_policy(struct output *o, const struct policy_outcome *r);
void output_tree(struct output *o, const struct proctable *t, int32_t root, uint64_t ts_ns);
void output_summary(struct output *o, const struct ft_totals *tot, const struct proctable *t,
		    uint64_t ts_ns);
/* A warning line ("lost", "resync") that is not a stream record. */
void output_flush(struct output *o);

#endif /* FT_OUTPUT_H */
