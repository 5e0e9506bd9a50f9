// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pipeline's live half: what only a run on the node does, all of it
 * turned into records the core and the recording take like any other (a
 * replay has them from the recording): container attribution, host
 * limits on alerts, the kernel's loss and thread
 * counters, re-syncs from /proc, a recording started mid-run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pipeline_int.h"
#include "live/container_node.h"
#include "live/hostlimits.h"
#include "live/procfs.h"

/*
 * A verdict's host limits, read now (live only: a replay has the record
 * this makes).  limits: every limit that applies to the root (the uid's
 * tasks come from the table, processes and their threads); events:
 * forks_refused cross-checked with the kernel, pids.events of the
 * forker's pids cgroup (refusals there are a pids.max's; none with forks
 * refused means another limit: RLIMIT_NPROC, pid_max, threads-max).
 */
bool pl_read_limits(struct pipeline *p, int32_t slot, const struct det_verdict *v, bool limits,
		    bool events, struct ft_limits *out)
{
	const struct pt_entry *root = slot != PT_NONE ? pt_get(p->table, slot) : NULL;
	struct host_limit lim[LIMITS_MAX];
	uint64_t uid_tasks = 0, refused = 0;
	int n = 0;

	memset(out, 0, sizeof(*out));
	out->h.type = FT_EV_LIMITS;
	out->h.size = sizeof(*out);
	out->h.ts_ns = v->ts_ns;
	out->h.tgid = v->root;
	out->h.start_ns = v->root_start_ns;
	out->verdict_kind = v->kind;
	out->pattern = v->pattern;
	if (limits && root && (v->doubling_ms > 0 || v->per_minute > 0)) {
		/* a few file reads before the kill; the table walk only where
		 * RLIMIT_NPROC applies (not to root) */
		for (int32_t i = root->uid ? pt_next(p->table, PT_NONE) : PT_NONE; i != PT_NONE;
		     i = pt_next(p->table, i)) {
			const struct pt_entry *e = pt_get(p->table, i);

			if (e->state == PT_ALIVE && e->uid == root->uid)
				uid_tasks += e->threads ? e->threads : 1;
		}
		n = limits_read(p->o.containers, root->key.tgid, root->uid, uid_tasks, lim);
		for (int i = 0; i < n && i < FT_LIMITS_MAX; i++) {
			out->lim[i].kind = lim[i].kind;
			out->lim[i].limit = lim[i].limit;
			out->lim[i].used = lim[i].used;
		}
		out->n = (uint32_t)(n < FT_LIMITS_MAX ? n : FT_LIMITS_MAX);
	}
	if (events && limits_pids_refused(p->o.containers, v->child, &refused) > 0) {
		out->flags |= FT_LIM_PIDS_EVENTS;
		out->pids_events_max = refused;
	}
	return out->n || out->flags;
}

/* Resolve a cgroup on the node (ct_resolve), within this second's search
 * budget; a cgroup gone already is never asked again. */
static bool resolve(struct pipeline *p, uint64_t cgroup_id, uint32_t pid, uint32_t ppid,
		    uint64_t now_ns, struct ft_container *c)
{
	enum ct_found found;

	if (now_ns >= p->walk_refill_ns) {
		p->walk_budget = WALK_DIRS_PER_SECOND;
		p->walk_refill_ns = now_ns + WALK_REFILL_NS;
	}
	found = ct_resolve(p->o.containers, cgroup_id, pid, ppid, c, &p->walk_budget);
	if (found == CT_GONE)
		ct_cache_gone(p->containers, cgroup_id);
	c->h.ts_ns = now_ns;
	return found == CT_FOUND;
}

/*
 * Before the policy reads a flagged tree's attribution (namespace: and
 * pod: rules): the root's cgroup is in the cache, asked again if it was
 * evicted or lacks its pod.  Put in the cache and the recording, not fed:
 * this runs inside the detector's callback (see on_policy_outcome).
 */
void pl_attribution_for_policy(struct pipeline *p, int32_t slot, uint64_t now_ns)
{
	const struct pt_entry *e = slot != PT_NONE ? pt_get(p->table, slot) : NULL;
	const struct ft_container *have;
	struct ft_container c;

	if (!p->o.containers || !e || !e->cgroup_id)
		return;
	have = ct_cache_get(p->containers, e->cgroup_id);
	if (have && (!have->runtime || (have->flags & FT_CT_ANNOTATED)))
		return;
	if (!resolve(p, e->cgroup_id, e->key.tgid, e->ppid_now, now_ns, &c))
		return;
	ct_cache_put(p->containers, &c, now_ns);
	if (p->writer) { /* ahead of the record that raised the verdict, as pl_attribute's */
		p->tot.records++;
		pl_record_write_ahead(p, (const union ft_record *)&c);
	}
}

/* A record's cgroup is new (or still lacks its pod): resolve it on the node
 * and put the answer in the stream ahead of the record. */
void pl_attribute(struct pipeline *p, const struct ft_header *h)
{
	struct ft_container c;

	switch (h->type) {
	case FT_EV_FORK:
	case FT_EV_EXEC:
	case FT_EV_EXIT:
	case FT_EV_OOM:
	case FT_EV_SNAPSHOT:
		break;
	default:
		return;
	}
	if (!h->cgroup_id || !ct_cache_due(p->containers, h->cgroup_id, h->ts_ns))
		return;
	if (!resolve(p, h->cgroup_id, h->tgid, h->ppid, h->ts_ns, &c))
		return;
	pl_feed_core(p, (const union ft_record *)&c);
}

bool pipeline_note_kernel_stats(struct pipeline *p, const uint64_t stats[FT_STAT_MAX],
				uint64_t now_ns)
{
	bool lost = false;

	for (uint32_t type = 1; type < FT_EV_MAX; type++) {
		uint64_t total = stats[FT_STAT_LOST_BASE + type];
		struct ft_lost rec = { 0 };

		if (total <= p->kernel_lost_seen[type])
			continue;
		rec.h.type = FT_EV_LOST;
		rec.h.size = sizeof(rec);
		rec.h.ts_ns = now_ns;
		rec.lost_type = type;
		rec.count = total - p->kernel_lost_seen[type];
		p->kernel_lost_seen[type] = total;
		pipeline_feed(p, (const union ft_record *)&rec);
		lost = true;
	}
	return lost;
}

void pipeline_note_counters(struct pipeline *p, const uint64_t stats[FT_STAT_MAX], uint64_t now_ns)
{
	struct ft_counters rec = { 0 };

	rec.h.type = FT_EV_COUNTERS;
	rec.h.size = sizeof(rec);
	rec.h.ts_ns = now_ns;
	rec.threads_started = stats[FT_STAT_THREADS_STARTED];
	rec.threads_exited = stats[FT_STAT_THREADS_EXITED];
	rec.filtered = stats[FT_STAT_FILTERED];
	rec.signal_failed = stats[FT_STAT_SIGNAL_FAILED];
	rec.member_full = stats[FT_STAT_MEMBER_FULL];
	pipeline_feed(p, (const union ft_record *)&rec);
}

static int feed_and_mark_seen(void *ctx, const union ft_record *rec)
{
	struct pipeline *p = ctx;
	int ret = pipeline_feed(p, rec);

	pt_mark_seen(p->table, p->last_slot);
	return ret;
}

int pipeline_resync(struct pipeline *p, uint64_t now_ns)
{
	uint64_t inserted = pt_get_stats(p->table)->inserted;
	struct ft_resync done = { 0 };
	int32_t i;

	pt_clear_seen(p->table);
	if (procfs_snapshot(p->o.proc_root, now_ns, FT_F_RESYNC, feed_and_mark_seen, p) < 0)
		return -1;
	/* alive in the table, absent from /proc: its exit record was lost */
	for (i = pt_next_unseen_alive(p->table, PT_NONE); i != PT_NONE;
	     i = pt_next_unseen_alive(p->table, i)) {
		const struct pt_entry *e = pt_get(p->table, i);
		struct ft_header gone = { 0 };

		gone.type = FT_EV_GONE;
		gone.flags = FT_F_RESYNC;
		gone.size = sizeof(gone);
		gone.ts_ns = now_ns;
		gone.tgid = gone.tid = e->key.tgid;
		gone.start_ns = e->start_ns;
		gone.ppid = e->ppid_now;
		memcpy(gone.comm, e->comm, sizeof(gone.comm));
		pipeline_feed(p, (const union ft_record *)&gone);
		done.gone++;
	}
	done.h.type = FT_EV_RESYNC;
	done.h.size = sizeof(done);
	done.h.ts_ns = now_ns;
	done.added = (uint32_t)(pt_get_stats(p->table)->inserted - inserted);
	pipeline_feed(p, (const union ft_record *)&done);
	return 0;
}

int pipeline_record_start(struct pipeline *p, const char *path, uint64_t now_ns, char *err,
			  size_t errlen)
{
	if (p->writer) {
		snprintf(err, errlen, "already recording");
		return -1;
	}
	if (ft_writer_open(path, &p->info, false, &p->writer, err, errlen))
		return -1;
	p->writer_optional = true;
	pipeline_note_settings(p, now_ns);
	/* the processes already running, so the recording's table is whole */
	if (pipeline_resync(p, now_ns)) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		pipeline_record_stop(p, err + strlen(err), errlen - strlen(err));
		return -1;
	}
	return 0;
}

int pipeline_record_stop(struct pipeline *p, char *err, size_t errlen)
{
	int ret = ft_writer_close(p->writer, err, errlen);

	p->writer = NULL;
	p->writer_optional = false;
	return ret;
}

bool pipeline_recording(const struct pipeline *p)
{
	return p->writer != NULL;
}

const union ft_record *pl_snapshot_cgroup(struct pipeline *p, const union ft_record *rec,
					  union ft_record *fixed)
{
	/* a snapshot read through a cgroup namespace of our own (a pod) has
	 * no id yet: the node's mount has it */
	if (rec->h.type != FT_EV_SNAPSHOT || rec->h.cgroup_id)
		return rec;
	memcpy(fixed, rec, sizeof(rec->snapshot));
	fixed->h.cgroup_id = ct_pid_cgroup_id(p->o.containers, rec->h.tgid);
	return fixed->h.cgroup_id ? fixed : rec;
}
