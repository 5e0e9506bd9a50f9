// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline.h"
#include "pipeline_int.h"
#include "core/proctable.h"
#include "core/recording.h"


int pipeline_new(const struct pipeline_opts *o, const struct ft_run_info *info,
		 struct pipeline **out, char *err, size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->o = *o;
	p->info = *info;
	p->table = pt_new(o->table_capacity, o->grace_ns);
	p->det = det_new(&o->detect, o->table_capacity);
	p->containers =
	    ct_cache_new(o->container_cache ? o->container_cache : CONTAINER_CACHE_DEFAULT);
	if (o->actuator)
		p->policy = policy_new(&o->policy, o->actuator, o->table_capacity);
	if (!p->table || !p->det || !p->containers ||
	    (o->actuator && !p->policy)) {
		snprintf(err, errlen, "cannot allocate a process table of %u entries and its state",
			 o->table_capacity);
		goto fail;
	}
	/* an alert whose tree an action holds is never retired to make room */
	if (p->policy)
		det_set_pinned(p->det, policy_holds, p->policy);
	if (p->policy)
		policy_set_containers(p->policy, p->containers);
	if (o->write_path && ft_writer_open(o->write_path, info, true, &p->writer, err, errlen))
		goto fail;
	p->last_slot = PT_NONE;
	*out = p;
	return 0;
fail:
	pipeline_free(p);
	return -1;
}

void pipeline_start(struct pipeline *p, const char *source, uint32_t self_pid)
{
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].start)
			p->observers[i].start(p->observers[i].ctx, source, self_pid);
}

static int32_t root_slot(const struct pipeline *p)
{
	return p->root_set ? pt_find(p->table, p->root.tgid, p->root.start_ticks * FT_NS_PER_TICK)
			   : PT_NONE;
}

static bool in_scope(struct pipeline *p, const union ft_record *rec, int32_t slot)
{
	const struct ft_header *h = &rec->h;

	if (!p->o.root_pid)
		return true;
	/* the first process with the -p pid the stream shows is the root */
	if (!p->root_set && h->tgid == p->o.root_pid && slot != PT_NONE &&
	    pt_get(p->table, slot)->state == PT_ALIVE) {
		p->root = pt_get(p->table, slot)->key;
		p->root_set = true;
	}
	return slot != PT_NONE && p->root_set && pt_is_descendant(p->table, slot, root_slot(p));
}

static void count(struct ft_totals *tot, const union ft_record *rec)
{
	const struct ft_header *h = &rec->h;

	switch (h->type) {
	case FT_EV_FORK:
		if (!(h->flags & FT_F_THREAD))
			tot->forks++;
		break;
	case FT_EV_EXEC:
		tot->execs++;
		break;
	case FT_EV_EXIT:
		if (!(h->flags & FT_F_THREAD))
			tot->exits++;
		break;
	case FT_EV_OOM:
		tot->ooms++;
		break;
	case FT_EV_FORK_FAIL:
		tot->fork_failures += rec->fork_fail.count;
		tot->fork_failures_eagain += rec->fork_fail.err == -EAGAIN ? rec->fork_fail.count : 0;
		tot->fork_failures_enomem += rec->fork_fail.err == -ENOMEM ? rec->fork_fail.count : 0;
		break;
	default:
		break;
	}
}

static const uint32_t policy_kinds[][2] = {
	{ OUTCOME_ACTION, FT_POL_ACTION },   { OUTCOME_EXEMPT, FT_POL_EXEMPT },
	{ OUTCOME_DRY_RUN, FT_POL_DRY_RUN }, { OUTCOME_REFUSED, FT_POL_REFUSED },
	{ OUTCOME_RESUME, FT_POL_RESUME },
};

/* A policy outcome as a stream record (false: not one that is recorded). */
static bool policy_record(const struct policy_outcome *r, struct ft_policy *rec)
{
	uint32_t kind = 0;

	for (size_t i = 0; i < sizeof(policy_kinds) / sizeof(policy_kinds[0]); i++)
		if (policy_kinds[i][0] == (uint32_t)r->kind)
			kind = policy_kinds[i][1];
	if (!kind)
		return false;
	memset(rec, 0, sizeof(*rec));
	rec->h.type = FT_EV_POLICY;
	rec->h.size = sizeof(*rec);
	rec->h.ts_ns = r->ts_ns;
	rec->h.tgid = rec->h.tid = r->root;
	rec->h.cgroup_id = r->cgroup;
	rec->h.start_ns = r->root_start_ns;
	snprintf(rec->h.comm, sizeof(rec->h.comm), "%s", r->root_comm ? r->root_comm : "");
	rec->kind = kind;
	rec->flags = (r->complete ? FT_POL_COMPLETE : 0) | (r->by_operator ? FT_POL_OPERATOR : 0);
	rec->tree = r->tree;
	rec->sig = !strcmp(r->action, "stop")	  ? SIGSTOP
		   : !strcmp(r->action, "resume") ? SIGCONT
						  : SIGKILL;
	rec->signalled = r->kind == OUTCOME_DRY_RUN ? r->npids : r->signalled;
	rec->remaining = r->remaining;
	rec->elapsed_ns = (uint64_t)(r->ms * 1e6);
	snprintf(rec->why, sizeof(rec->why), "%s", r->why ? r->why : "");
	return true;
}

/* ... and back, for a replay (the dry run's pid list is not recorded). */
static void policy_outcome_of(const struct ft_policy *rec, struct policy_outcome *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(policy_kinds) / sizeof(policy_kinds[0]); i++)
		if (policy_kinds[i][1] == rec->kind)
			r->kind = (enum outcome_kind)policy_kinds[i][0];
	r->ts_ns = rec->h.ts_ns;
	r->action = rec->sig == SIGSTOP ? "stop" : rec->sig == SIGCONT ? "resume" : "kill";
	r->by_operator = rec->flags & FT_POL_OPERATOR;
	r->root = rec->h.tgid;
	r->root_start_ns = rec->h.start_ns;
	r->root_comm = rec->h.comm;
	r->tree = rec->tree;
	r->cgroup = rec->h.cgroup_id;
	r->signalled = rec->signalled;
	if (r->kind == OUTCOME_DRY_RUN)
		r->npids = rec->signalled; /* how many; which is not recorded */
	r->remaining = rec->remaining;
	r->ms = (double)rec->elapsed_ns / 1e6;
	r->complete = rec->flags & FT_POL_COMPLETE;
	/* exempt and refused always say why, even if the file does not */
	r->why =
	    rec->why[0] || r->kind == OUTCOME_EXEMPT || r->kind == OUTCOME_REFUSED ? rec->why : NULL;
}

/*
 * One record into the recording now: ahead of the record the core runs,
 * if it runs one (pl_record_write: after it).  A failed write ends a -w
 * run (the recording was asked for); one the live view started is closed
 * and said, the view goes on.  0, or -1 when the run must stop.
 */
int pl_record_write_ahead(struct pipeline *p, const union ft_record *rec)
{
	char err[512];

	if (!p->writer || !ft_writer_put(p->writer, rec, err, sizeof(err)))
		return 0;
	if (!p->writer_optional) {
		snprintf(p->error, sizeof(p->error), "%s", err);
		return -1;
	}
	fprintf(stderr, "forktrace: %s: recording stopped\n", err);
	ft_writer_close(p->writer, err, sizeof(err));
	p->writer = NULL;
	return 0;
}

/* The record the core runs, written now if it was not yet (not after a
 * failed write: the run stops, and the recording ends where it failed). */
static int write_unwritten(struct pipeline *p)
{
	const union ft_record *rec = p->unwritten;

	p->unwritten = NULL;
	if (p->error[0])
		return -1;
	return rec ? pl_record_write_ahead(p, rec) : 0;
}

int pl_record_write(struct pipeline *p, const union ft_record *rec)
{
	if (write_unwritten(p))
		return -1;
	return pl_record_write_ahead(p, rec);
}


static void on_policy_outcome(void *ctx, const struct policy_outcome *r)
{
	struct pipeline *p = ctx;
	struct ft_policy rec;

	if (r->kind == OUTCOME_SIGNAL && !r->result)
		p->tot.signals++;
	else if (r->kind == OUTCOME_ACTION)
		p->counts.actions[strcmp(r->action, "stop") ? MA_KILL : MA_STOP]++;
	else if (r->kind == OUTCOME_DRY_RUN)
		p->counts.actions[MA_DRY_RUN]++;
	else if (r->kind == OUTCOME_REFUSED)
		p->counts.actions[MA_REFUSED]++;
	else if (r->kind == OUTCOME_EXEMPT)
		p->counts.actions[MA_EXEMPT]++;
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].policy)
			p->observers[i].policy(p->observers[i].ctx, r);
	/*
	 * Live: into the stream, and so the recording (a replay's come from
	 * it).  Made while the core runs a record: queued behind it.  A
	 * queue full (more outcomes from one record than it holds) writes
	 * the rest straight to the recording, in order, as nothing is lost.
	 */
	if (!p->policy || !policy_record(r, &rec))
		return;
	if (!p->feeding) {
		pipeline_feed(p, (const union ft_record *)&rec);
	} else if (p->npending < PENDING_POLICY_MAX) {
		p->pending[p->npending++] = rec;
	} else {
		p->tot.records++;
		if (p->writer)
			pl_record_write(p, (const union ft_record *)&rec);
	}
}

/* The LIMITS record a replay holds for verdict v (written ahead of the
 * record that raised it), or NULL. */
static const struct ft_limits *held_limits(const struct pipeline *p, const struct det_verdict *v)
{
	for (uint32_t i = p->nlimits_held; i-- > 0;) {
		const struct ft_limits *l = &p->limits_held[i];

		if (l->h.tgid == v->root && l->h.start_ns == v->root_start_ns &&
		    l->h.ts_ns == v->ts_ns && l->verdict_kind == (uint32_t)v->kind &&
		    l->pattern == (uint32_t)v->pattern)
			return l;
	}
	return NULL;
}

/*
 * A verdict's host limits: live, read now and recorded ahead of the
 * record that raised it; in a replay, the record the run wrote.
 */
static void annotate_limits(struct pipeline *p, int32_t slot, struct det_verdict *v)
{
	bool raised = v->kind == DET_ALERT || v->kind == DET_ALERT_UPDATE;
	/* the limit takes file reads: never between a verdict and its kill */
	bool limits = raised && v->pattern != DET_RESTART_LOOP &&
		      v->pattern != DET_THREAD_EXPLOSION &&
		      (!p->policy || !(p->o.policy.act_on & (1u << v->pattern)) ||
		       v->pattern == DET_SPAWN_STORM); /* whether to act on it depends on it */
	bool events = raised && v->pattern == DET_FORKS_REFUSED;
	const struct ft_limits *held;
	struct ft_limits read;

	if (!p->o.host_limits) {
		if ((held = held_limits(p, v)))
			det_apply_limits(v, held);
		return;
	}
	if ((limits || events) && pl_read_limits(p, slot, v, limits, events, &read)) {
		det_apply_limits(v, &read);
		if (p->writer) { /* a replay counts it as it feeds it */
			p->tot.records++;
			pl_record_write_ahead(p, (const union ft_record *)&read);
		}
	}
}

static void on_verdict(void *ctx, const struct det_verdict *verdict)
{
	struct pipeline *p = ctx;
	int32_t slot = pt_find(p->table, verdict->root, verdict->root_start_ns);
	struct det_verdict annotated, *v = &annotated;

	annotated = *verdict;
	if (p->o.root_pid &&
	    (!p->root_set || slot == PT_NONE || !pt_is_descendant(p->table, slot, root_slot(p))))
		return;
	/* an operator's flag is no detection: neither counted nor paged on */
	if (v->kind == DET_ALERT && !v->by_operator)
		p->tot.alerts++;
	else if (v->kind == DET_FINDING)
		p->tot.findings++;
	if (!v->by_operator)
		metrics_count_verdict(&p->counts, v);
	/* a flagged tree's root stays in the table for as long as an alert
	 * rooted there lasts (a daemon can root a storm and a runaway) */
	if (v->tree && slot != PT_NONE && v->kind != DET_FINDING)
		pt_set_pinned(p->table, slot,
			      v->kind != DET_ALERT_END ||
				  det_alert_id(p->det, v->root, v->root_start_ns));
	annotate_limits(p, slot, v);
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].verdict)
			p->observers[i].verdict(p->observers[i].ctx, v,
						slot != PT_NONE ? pt_get(p->table, slot)->cgroup_id
								: 0);
	if (p->policy) {
		if (v->kind == DET_ALERT || v->kind == DET_ALERT_UPDATE)
			pl_attribution_for_policy(p, slot, v->ts_ns);
		policy_on_verdict(p->policy, p->table, p->det, v, on_policy_outcome, p);
	}
}

/* Does an observer want OOM victims' trees (the detector profiles them)? */
static bool oom_trees_wanted(const struct pipeline *p)
{
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].wants_oom_trees)
			return true;
	return false;
}

/*
 * A runaway the detector could not flag (its table of concurrent alerts
 * full) is said when it happens, at most once a second, and counted for
 * the summary and metrics: a silent drop would switch detection off.
 */
static void note_alert_drops(struct pipeline *p, uint64_t now)
{
	struct det_drops drops;

	det_get_drops(p->det, &drops);
	p->tot.detector_retired_alerts = drops.retired;
	if (drops.alerts == p->tot.detector_dropped_alerts)
		return;
	p->tot.detector_dropped_alerts = drops.alerts;
	if (p->drop_said_ns && now < p->drop_said_ns + 1000000000ull)
		return;
	p->drop_said_ns = now;
	fprintf(stderr,
		"forktrace: a runaway tree was not flagged: all %u flagged trees are held by "
		"actions (%llu not flagged so far)\n",
		(unsigned)FT_MAX_TREES - 1, (unsigned long long)drops.alerts);
}

/* A SETTINGS record's lines over the current thresholds; 0, or -1 with
 * the run stopped (a bad line is a damaged recording). */
static int apply_settings(struct pipeline *p, const struct ft_settings *s)
{
	struct det_config c = p->o.detect;
	char line[128], why[256];
	const char *at = s->text;

	while (*at) {
		size_t n = strcspn(at, "\n");

		if (n >= sizeof(line)) {
			snprintf(p->error, sizeof(p->error), "settings record: a line of %zu bytes",
				 n);
			return -1;
		}
		memcpy(line, at, n);
		line[n] = '\0';
		at += n + (at[n] == '\n');
		if (n && det_config_set(&c, line, why, sizeof(why))) {
			snprintf(p->error, sizeof(p->error), "settings record: %s", why);
			return -1;
		}
	}
	p->o.detect = c;
	det_set_config(p->det, &c);
	return 0;
}

/* The policy's allow rules into the stream, one record each (index 0
 * starts the set; none: one record of count 0). */
static void note_allow_rules(struct pipeline *p, uint64_t now_ns)
{
	const struct allow_rule *rules;
	uint32_t n = policy_allow_rules(p->policy, &rules);
	struct ft_allow_rule rec;

	for (uint32_t i = 0; i < n || (!n && !i); i++) {
		memset(&rec, 0, sizeof(rec));
		rec.h.type = FT_EV_ALLOW;
		rec.h.size = sizeof(rec);
		rec.h.ts_ns = now_ns;
		rec.index = i;
		rec.count = n;
		if (n)
			policy_allow_describe(&rules[i], true, rec.rule, sizeof(rec.rule));
		if (pipeline_feed(p, (const union ft_record *)&rec))
			return;
	}
}

void pipeline_note_settings(struct pipeline *p, uint64_t now_ns)
{
	struct ft_settings rec;
	size_t n;

	memset(&rec, 0, sizeof(rec));
	rec.h.type = FT_EV_SETTINGS;
	rec.h.size = sizeof(rec);
	rec.h.ts_ns = now_ns;
	n = det_config_format(&p->o.detect, rec.text, sizeof(rec.text));
	if (n >= sizeof(rec.text)) /* never: the knobs fit twice over */
		return;
	rec.len = (uint32_t)n;
	if (pipeline_feed(p, (const union ft_record *)&rec) == 0 && p->policy)
		note_allow_rules(p, now_ns);
}

/*
 * The live stage ahead of the core, then the core, then what the core
 * made meanwhile.  Containers (live only: a replay's recording has their
 * records) are resolved on the node and put in the stream ahead of the
 * record that named them.
 */
int pipeline_feed(void *ctx, const union ft_record *rec)
{
	struct pipeline *p = ctx;
	union ft_record fixed;
	int32_t slot;
	int ret;

	if (p->error[0])
		return 1;
	if (p->feeding) { /* never: the core queues what it makes */
		snprintf(p->error, sizeof(p->error), "a record was fed from inside the feed");
		return 1;
	}
	if (p->o.containers)
		rec = pl_snapshot_cgroup(p, rec, &fixed);
	p->feeding = true;
	if (p->o.containers)
		pl_attribute(p, &rec->h);
	ret = pl_feed_core(p, rec);
	/* the record's own slot, for the caller (pipeline_resync) */
	slot = p->last_slot;
	for (uint32_t i = 0; i < p->npending; i++)
		ret |= pl_feed_core(p, (const union ft_record *)&p->pending[i]);
	p->npending = 0;
	p->last_slot = slot;
	p->feeding = false;
	return ret;
}

/* The core: one record into the recording, the table, the detector (and
 * through its verdicts the policy), the outputs and observers. */
int pl_feed_core(struct pipeline *p, const union ft_record *rec)
{
	const struct ft_header *h = &rec->h;
	struct det_oom_tree oom, *victim_tree = NULL;
	struct observed_record seen;
	bool scoped = false;
	uint64_t dups;
	int32_t slot;

	if (p->error[0])
		return 1;
	p->tot.records++;
	/* written when done, after what its verdicts' limits wrote ahead */
	p->unwritten = p->writer ? rec : NULL;
	dups = pt_get_stats(p->table)->duplicate_exits;
	slot = pt_apply(p->table, h);
	p->last_slot = slot;

	switch (h->type) {
	case FT_EV_LOST:
		/* the detector forgets what lost records would have corrected */
		if (!p->o.no_detect)
			det_feed(p->det, p->table, rec, slot, on_verdict, p);
		p->tot.lost += rec->lost.count;
		if (rec->lost.lost_type < FT_EV_MAX)
			p->tot.lost_by_type[rec->lost.lost_type] += rec->lost.count;
		break;
	case FT_EV_RESYNC:
		p->tot.resyncs++;
		break;
	case FT_EV_ACTION:
		if (!p->o.no_detect)
			det_feed(p->det, p->table, rec, slot, on_verdict, p);
		p->tot.kernel_signals += !rec->action.parent_ret + (rec->action.child_ret == 0);
		break;
	case FT_EV_CONTAINER:
		ct_cache_put(p->containers, &rec->container, h->ts_ns);
		break;
	case FT_EV_POLICY:
		/* the operator's flag: the detector takes it live and in a
		 * replay alike, so both show the same alert */
		if (rec->policy.kind == FT_POL_FLAG) {
			int32_t root = pt_find(p->table, h->tgid, h->start_ns);

			if (root != PT_NONE && !p->o.no_detect)
				det_flag_tree(p->det, p->table, root, h->ts_ns, on_verdict, p);
			break;
		}
		/* live, on_policy_outcome made it and reported it already */
		if (!p->policy) {
			struct policy_outcome r;

			policy_outcome_of(&rec->policy, &r);
			on_policy_outcome(p, &r);
		}
		break;
	case FT_EV_SETTINGS:
		/* the run's thresholds, live and in a replay alike, unless the
		 * replay's command line set its own */
		if (!p->o.settings_fixed && apply_settings(p, &rec->settings)) {
			write_unwritten(p);
			return 1;
		}
		break;
	case FT_EV_LIMITS:
		/* a replay's: for the verdicts of the record after it (live,
		 * annotate_limits made it and never feeds it); more than
		 * one per alert is a damaged file's */
		if (p->nlimits_held < LIMITS_HELD)
			p->limits_held[p->nlimits_held++] = rec->limits;
		break;
	case FT_EV_ALLOW:
		/* the policy's rules, for the recording and the report: a
		 * replay runs no policy */
		break;
	case FT_EV_REAP:
		/* the zombies' bookkeeping: the detector's, never shown */
		if (!p->o.no_detect)
			det_feed(p->det, p->table, rec, slot, on_verdict, p);
		break;
	case FT_EV_COUNTERS:
		p->tot.threads_started = rec->counters.threads_started;
		p->tot.threads_exited = rec->counters.threads_exited;
		p->tot.filtered_in_kernel = rec->counters.filtered;
		p->tot.kernel_signal_failed = rec->counters.signal_failed;
		p->tot.member_map_full = rec->counters.member_full;
		break;
	default:
		/* a second last-thread exit (pre-6.16 race) is not news */
		if (pt_get_stats(p->table)->duplicate_exits != dups)
			break;
		if (!p->o.no_detect)
			det_feed(p->det, p->table, rec, slot, on_verdict, p);
		if (!in_scope(p, rec, slot))
			break;
		scoped = true;
		count(&p->tot, rec);
		if (h->type == FT_EV_OOM && slot != PT_NONE && oom_trees_wanted(p)) {
			det_oom_tree(p->det, p->table, slot, h->ts_ns, &oom);
			victim_tree = &oom;
		}
	}
	seen = (struct observed_record){
		.rec = rec, .table = p->table, .slot = slot, .in_scope = scoped, .oom = victim_tree
	};
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].record)
			p->observers[i].record(p->observers[i].ctx, &seen);
	if (!p->o.no_detect)
		note_alert_drops(p, h->ts_ns);
	if (h->ts_ns >= p->last_prune_ns + PRUNE_INTERVAL_NS) {
		pt_prune(p->table, h->ts_ns);
		p->last_prune_ns = h->ts_ns;
	}
	/* the held limits were for this record's verdicts: none are later's */
	if (h->type != FT_EV_LIMITS)
		p->nlimits_held = 0;
	return write_unwritten(p) ? 1 : 0;
}

bool pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	if (!p->policy)
		return false;
	policy_tick(p->policy, p->table, p->det, now_ns, on_policy_outcome, p);
	return policy_busy(p->policy);
}

void pipeline_reconfigure(struct pipeline *p, const struct det_config *detect,
			  const struct policy_opts *policy)
{
	p->o.detect = *detect;
	det_set_config(p->det, detect);
	if (p->policy)
		policy_set_allow(p->policy, policy);
}

uint32_t pipeline_count_uid(const struct pipeline *p, uint32_t uid, uint32_t self_pid,
			    uint32_t *one_pid)
{
	uint32_t n = 0;

	for (int32_t i = pt_next(p->table, PT_NONE); i != PT_NONE; i = pt_next(p->table, i)) {
		const struct pt_entry *e = pt_get(p->table, i);

		if (e->state != PT_ALIVE || e->uid != uid || e->key.tgid == self_pid || e->kthread)
			continue;
		if (!n++)
			*one_pid = e->key.tgid;
	}
	return n;
}

void pipeline_count_reload(struct pipeline *p, enum metrics_reload outcome)
{
	metrics_count_reload(&p->counts, outcome);
}

void pipeline_sample(struct pipeline *p, uint64_t now_ns, struct metrics_sample *s)
{
	struct det_tree_info top[METRICS_TOP_TREES];
	uint32_t n = det_top_trees(p->det, p->table, now_ns, top, METRICS_TOP_TREES);

	s->tot = p->tot;
	s->table = *pt_get_stats(p->table);
	ct_cache_get_stats(p->containers, &s->containers);
	s->counts = p->counts;
	s->ntrees = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct pt_entry *e = pt_get(p->table, top[i].root_slot);
		const struct ft_container *c = e ? ct_cache_get(p->containers, e->cgroup_id) : NULL;
		struct metrics_tree *tr = &s->trees[i];

		memset(tr, 0, sizeof(*tr));
		tr->root = top[i].root;
		snprintf(tr->comm, sizeof(tr->comm), "%s", top[i].root_comm);
		if (c && (c->flags & FT_CT_ANNOTATED)) {
			snprintf(tr->ns, sizeof(tr->ns), "%s", c->ns);
			snprintf(tr->pod, sizeof(tr->pod), "%s", c->pod);
		}
		tr->live = top[i].live;
		tr->births_per_s = top[i].births_per_s;
		tr->flagged = top[i].flagged;
	}
}

const struct ft_container *pipeline_container(struct pipeline *p, uint64_t cgroup_id)
{
	return ct_cache_get(p->containers, cgroup_id);
}

int pipeline_observe(struct pipeline *p, const struct observer *ob)
{
	if (p->nobservers >= OBSERVERS_MAX)
		return -1;
	p->observers[p->nobservers++] = *ob;
	return 0;
}

void pipeline_unobserve(struct pipeline *p, const void *ctx)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].ctx != ctx)
			p->observers[kept++] = p->observers[i];
	p->nobservers = kept;
}

struct ct_cache *pipeline_containers(struct pipeline *p)
{
	return p->containers;
}

struct output *pipeline_add_lines(struct pipeline *p, FILE *f, enum out_format fmt,
				  const struct ft_run_info *info, const struct output_shows *shows)
{
	struct output *o = output_new(f, fmt, info);
	struct observer ob;

	if (!o)
		return NULL;
	output_set_containers(o, p->containers);
	output_observer(o, shows, &ob);
	if (pipeline_observe(p, &ob)) {
		output_free(o);
		return NULL;
	}
	return o;
}

const struct proctable *pipeline_table(const struct pipeline *p)
{
	return p->table;
}

const struct ft_totals *pipeline_totals(const struct pipeline *p)
{
	return &p->tot;
}

uint32_t pipeline_top_trees(struct pipeline *p, uint64_t now_ns, struct det_tree_info *out,
			    uint32_t max)
{
	return det_top_trees(p->det, p->table, now_ns, out, max);
}

int pipeline_act(struct pipeline *p, uint32_t pid, uint64_t start_ns, enum pipeline_action act,
		 uint64_t now_ns, char *err, size_t errlen)
{
	int32_t slot = pt_find(p->table, pid, start_ns);
	struct ft_policy flag;
	uint32_t outer;

	if (!p->policy) {
		snprintf(err, errlen, "actions need a live run");
		return -1;
	}
	/* a flagged tree's root may have exited (a shell bomb's forkers do):
	 * its entry stays while members live, and so does the tree */
	if (slot == PT_NONE) {
		snprintf(err, errlen, "tree %u is gone", pid);
		return -1;
	}
	outer = det_tree_of(p->det, p->table, slot);
	if (outer && outer != det_alert_id(p->det, pid, start_ns)) {
		snprintf(err, errlen, "process %u is inside flagged tree %u: act on that tree", pid,
			 outer);
		return -1;
	}
	if (act == PIPELINE_RESUME) {
		policy_resume(p->policy, p->table, p->det, pid, start_ns, now_ns, on_policy_outcome,
			      p);
		return 0;
	}
	/* an unflagged tree gets an id (and an alert saying who asked),
	 * through the stream so that a recording has it */
	memset(&flag, 0, sizeof(flag));
	flag.h.type = FT_EV_POLICY;
	flag.h.size = sizeof(flag);
	flag.h.ts_ns = now_ns;
	flag.h.tgid = flag.h.tid = pid;
	flag.h.start_ns = start_ns;
	flag.h.cgroup_id = pt_get(p->table, slot)->cgroup_id;
	memcpy(flag.h.comm, pt_get(p->table, slot)->comm, sizeof(flag.h.comm));
	flag.kind = FT_POL_FLAG;
	flag.flags = FT_POL_OPERATOR;
	flag.sig = act == PIPELINE_STOP ? SIGSTOP : SIGKILL;
	if (pipeline_feed(p, (const union ft_record *)&flag)) {
		snprintf(err, errlen, "%s", pipeline_error(p)); /* the recording's write */
		return -1;
	}
	if (!det_alert_id(p->det, pid, start_ns)) {
		snprintf(err, errlen, "cannot flag tree %u: %u trees are flagged already", pid,
			 (unsigned)FT_MAX_TREES - 1);
		return -1;
	}
	policy_operator(p->policy, p->table, p->det, pid, start_ns,
			act == PIPELINE_STOP ? POLICY_STOP : POLICY_KILL, now_ns, on_policy_outcome,
			p);
	return 0;
}

bool pipeline_root_known(const struct pipeline *p)
{
	return p->root_set;
}

const char *pipeline_error(const struct pipeline *p)
{
	return p->error[0] ? p->error : NULL;
}

int pipeline_finish(struct pipeline *p, uint64_t now_ns, char *err, size_t errlen)
{
	struct observed_end end;
	struct det_drops drops;
	struct det_work work;
	int ret = 0;

	det_finish(p->det, p->table, now_ns, on_verdict, p);
	det_get_drops(p->det, &drops);
	p->tot.detector_dropped_pending = drops.pending;
	p->tot.detector_dropped_alerts = drops.alerts;
	p->tot.detector_retired_alerts = drops.retired;
	det_get_work(p->det, &work);
	p->tot.detector_profiles = work.profiles;
	p->tot.detector_nodes = work.nodes;
	p->tot.top_trees_cut = work.top_cut;
	if (p->policy)
		p->tot.policy_failures = policy_failures(p->policy);
	end = (struct observed_end){
		.table = p->table,
		.scope_root = p->o.root_pid ? root_slot(p) : PT_NONE,
		.scope_known = !p->o.root_pid || p->root_set,
		.totals = &p->tot,
		.now_ns = now_ns,
	};
	for (uint32_t i = 0; i < p->nobservers; i++)
		if (p->observers[i].finish)
			p->observers[i].finish(p->observers[i].ctx, &end);
	if (p->writer) {
		ret = ft_writer_close(p->writer, err, errlen);
		p->writer = NULL;
	}
	return ret;
}

void pipeline_free(struct pipeline *p)
{
	char ignored[8];

	if (!p)
		return;
	ft_writer_close(p->writer, ignored, sizeof(ignored));
	det_free(p->det);
	policy_free(p->policy);
	pt_free(p->table);
	ct_cache_free(p->containers);
	free(p);
}
