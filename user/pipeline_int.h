/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the pipeline, shared by its two halves: user/pipeline.c (the core
 * one record at a time, verdicts to containment and the observers) and
 * user/pipeline_live.c (what only a live run does: the node's cgroups
 * resolved into container records, host limits on alerts as limits records, the kernel's
 * counters, re-syncs from /proc, recordings started mid-run).
 */
#ifndef FT_PIPELINE_INT_H
#define FT_PIPELINE_INT_H

#include "pipeline.h"
#include "core/proctable.h"
#include "core/recording.h"

#define PRUNE_INTERVAL_NS	1000000000ull
#define CONTAINER_CACHE_DEFAULT 1024
/* directories attribution may search per second when file handles cannot
 * name a cgroup (ct_resolve): a few ms of stats, whatever anyone churns */
#define WALK_DIRS_PER_SECOND 8192
#define WALK_REFILL_NS	     1000000000ull
/* policy outcomes one record can cause (an alert acted on, refused, ...)
 * before the core takes them, after that record */
#define PENDING_POLICY_MAX 64
/* the lines, the live view or the report, the metrics: room to spare */
#define OBSERVERS_MAX 4
/* LIMITS records a replay holds for the verdicts of the record after them:
 * one per verdict that record raised with host limits, at most one per
 * alert (a record can recount every alert) */
#define LIMITS_HELD FT_MAX_TREES

struct pipeline {
	struct pipeline_opts o;
	struct proctable *table;
	struct ft_writer *writer;
	struct detector *det;
	struct policy *policy;
	struct ct_cache *containers;
	struct ft_totals tot;
	struct metrics_counts counts;
	uint64_t kernel_lost_seen[FT_EV_MAX];
	struct pt_key root;
	bool root_set;
	uint64_t last_prune_ns;
	uint64_t drop_said_ns; /* when a full alert table was last said */
	uint32_t walk_budget; /* ct_resolve's searches, this second */
	uint64_t walk_refill_ns;
	int32_t last_slot;
	struct ft_run_info info; /* for recordings started mid-run */
	bool writer_optional;	 /* started by pipeline_record_start */
	struct observer observers[OBSERVERS_MAX]; /* called in this order */
	uint32_t nobservers;
	/*
	 * The core runs one record at a time: what it makes while it runs
	 * (policy outcomes, from the detector's and policy's callbacks)
	 * waits here and is fed after the record that caused it.  A nested
	 * feed would prune the table and move last_slot under the record.
	 */
	bool feeding;
	struct ft_policy pending[PENDING_POLICY_MAX];
	uint32_t npending;
	/*
	 * The record the core runs is written to the recording when it is
	 * done, so that what the live side read for its verdicts (LIMITS
	 * records) is written ahead of it and a replay has it when the same
	 * verdicts come; anything else written meanwhile goes after it.
	 */
	const union ft_record *unwritten;
	/* a replay's LIMITS records since the last other record, in order */
	struct ft_limits limits_held[LIMITS_HELD];
	uint32_t nlimits_held;
	char error[512];
};

/* the core: one record into the recording, the table, the detector, the
 * observers (user/pipeline.c); never from inside the feed */
int pl_feed_core(struct pipeline *p, const union ft_record *rec);
/* one record into the recording, after the one the core runs; -1 when
 * the run must stop */
int pl_record_write(struct pipeline *p, const union ft_record *rec);
/* one record into the recording ahead of the one the core runs */
int pl_record_write_ahead(struct pipeline *p, const union ft_record *rec);

/* live (user/pipeline_live.c): a record's cgroup resolved on the node, its
 * container record fed ahead of it */
void pl_attribute(struct pipeline *p, const struct ft_header *h);
/* live: a snapshot read in a cgroup namespace of our own, with the node's
 * cgroup id (into fixed), or rec as it is */
const union ft_record *pl_snapshot_cgroup(struct pipeline *p, const union ft_record *rec,
					  union ft_record *fixed);
/* live: the root's attribution before the policy reads it */
void pl_attribution_for_policy(struct pipeline *p, int32_t slot, uint64_t now_ns);
/* live: the host limits of a verdict's tree (limits: at its pace;
 * events: pids.events of the refused forks' cgroup) as a LIMITS record;
 * false when nothing was read */
bool pl_read_limits(struct pipeline *p, int32_t slot, const struct det_verdict *v, bool limits,
		    bool events, struct ft_limits *out);

#endif /* FT_PIPELINE_INT_H */
