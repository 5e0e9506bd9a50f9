// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Growth detector.  The model (docs/detection.md): a runaway tree
 * *replicates*: its processes run their parent's program (they forked
 * without exec, or exec'd the same executable again) and fork in turn,
 * generation after generation, while its live population is young (doubling
 * fast) and large enough to matter.  Bounded parallelism does not
 * replicate: make runs sh runs gcc runs cc1 (a different program at every
 * generation), and pool or server workers run the parent's program but do
 * not fork in turn.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detector.h"

#define DET_MAX_ALERTS	  (FT_MAX_TREES - 1) /* ids 1..63, shared with the kernel */
#define DET_PENDING	  1024
#define DET_CLIMB_MAX	  64
#define DET_THREAD_LEVELS 12	      /* thread-count milestones 2^4 .. 2^15 */
#define POOL_BURST_NS	  10000000ull /* a pool starts its workers within this */
#define ANALYSIS_SCALE	  256	      /* subtree size per analysis_interval of timer pace */

struct det_proc {
	struct pt_key key;
	uint64_t first_fork_ns, last_fork_ns;
	uint32_t nforks;
	uint64_t last_analysis_ns;
	uint64_t forks_at_analysis; /* detector's fork count then */
	uint32_t members_at_analysis;
	uint64_t fail_first_ns;
	uint64_t thr_ns[DET_THREAD_LEVELS];
	uint32_t fail_run, restart_reported, restart_seq;
	uint16_t alert; /* 1 + index into alerts, 0 for none */
	bool mt_fork, fwt_reported, thr_reported;
	char fail_comm[FT_COMM_LEN];
};

struct det_alert {
	bool used;
	enum det_pattern pattern;
	struct pt_key root;
	uint64_t root_start_ns;
	uint32_t live, peak, reported_tasks, seq;
	uint64_t first_ns, last_profile_ns;
	char comm[FT_COMM_LEN];
	char exe[FT_FILENAME_LEN];
	char cmdline[FT_ARGS_LEN];
};

struct pending_fork {
	struct pt_key child, parent;
	uint32_t threads;
	uint64_t ts;
};

struct profile {
	uint32_t live, members, births_window, births_1s;
	uint32_t ngen, execs, same_exe;
	uint32_t live_per_gen[DET_MAX_GEN];
	/* replicating forkers: forked recently, alive or with live descendants,
	 * and running the program of every ancestor up to the root */
	uint32_t forkers_per_gen[DET_MAX_GEN];
	uint32_t forkers, mt_forkers, live_forkers;
	uint32_t settled, bursts; /* forkers whose first fork is a burst old; of
				   * those, the ones that forked >= 2 in one burst */
	uint32_t live_replicators;
	uint32_t replicating_generations; /* consecutive from the root */
	double births_per_s;
	double doubling_ms; /* median age of live replicators */
};

struct detector {
	struct det_config c;
	uint32_t cap;
	struct det_proc *procs;
	struct det_alert alerts[DET_MAX_ALERTS];
	struct pending_fork pending[DET_PENDING];
	uint32_t pend_head, pend_len;
	uint64_t pend_dropped, alerts_dropped;
	uint64_t profiles, profiled_nodes; /* the cost of detection, reported */
	uint64_t forks;			   /* process forks fed so far */
	/* profile scratch, sized to the table so a traversal never allocates */
	int32_t *order;
	uint8_t *gen;
	uint8_t *rep;	    /* per slot: replicates the profile's root */
	uint32_t *sub_live; /* per slot */
	uint32_t *kids;	    /* per slot: children in the table */
	uint64_t *ages;
};

static const char *const pattern_names[DET_PATTERN_MAX] = {
	[DET_FORK_BOMB] = "fork_bomb",
	[DET_RECURSIVE_SPAWN] = "recursive_spawn",
	[DET_NESTED_POOL] = "nested_pool",
	[DET_RESTART_LOOP] = "restart_loop",
	[DET_THREAD_EXPLOSION] = "thread_explosion",
	[DET_FORK_WHILE_THREADED] = "fork_while_threaded",
};

const char *det_pattern_name(enum det_pattern p)
{
	return p < DET_PATTERN_MAX ? pattern_names[p] : "unknown";
}

const char *det_severity(enum det_pattern p)
{
	switch (p) {
	case DET_RESTART_LOOP:
		return "warning";
	case DET_FORK_WHILE_THREADED:
		return "info";
	default:
		return "critical";
	}
}

void det_config_defaults(struct det_config *c)
{
	*c = (struct det_config){
		.window_ns = 2000000000ull,
		.min_tasks = 16,
		.min_generations = 3,
		.max_doubling_ns = 1000000000ull,
		.analysis_interval_ns = 20000000ull,
		.restart_min = 8,
		.restart_window_ns = 10000000000ull,
		.restart_max_life_ns = 1000000000ull,
		.thread_min = 128,
		.thread_doubling_ns = 1000000000ull,
		.exec_grace_ns = 100000000ull,
	};
}

struct knob {
	const char *name;
	size_t off;
	char kind; /* 'm': ms stored as ns, 'u': uint32, 'f': double */
	double min, max;
};

#define KNOB(n, field, kind, lo, hi)                                                               \
	{                                                                                          \
		n, offsetof(struct det_config, field), kind, lo, hi                                \
	}
static const struct knob knobs[] = {
	KNOB("window_ms", window_ns, 'm', 10, 600000),
	KNOB("min_tasks", min_tasks, 'u', 2, 1000000),
	KNOB("min_generations", min_generations, 'u', 2, DET_MAX_GEN - 1),
	KNOB("max_doubling_ms", max_doubling_ns, 'm', 1, 3600000),
	KNOB("analysis_interval_ms", analysis_interval_ns, 'm', 0, 10000),
	KNOB("restart_min", restart_min, 'u', 2, 1000000),
	KNOB("restart_window_ms", restart_window_ns, 'm', 100, 3600000),
	KNOB("restart_max_life_ms", restart_max_life_ns, 'm', 1, 3600000),
	KNOB("thread_min", thread_min, 'u', 32, 1 << 22),
	KNOB("thread_doubling_ms", thread_doubling_ns, 'm', 1, 3600000),
	KNOB("exec_grace_ms", exec_grace_ns, 'm', 1, 60000),
};

int det_config_set(struct det_config *c, const char *assignment, char *err, size_t errlen)
{
	char name[64];
	const char *eq = strchr(assignment, '=');
	size_t n;

	if (!eq || (n = (size_t)(eq - assignment)) == 0 || n >= sizeof(name)) {
		snprintf(err, errlen, "'%s': want key=value", assignment);
		return -1;
	}
	memcpy(name, assignment, n);
	name[n] = '\0';
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		char *end;
		double v;

		if (strcmp(name, k->name))
			continue;
		errno = 0;
		v = strtod(eq + 1, &end);
		while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
			end++;
		if (errno || end == eq + 1 || *end || v < k->min || v > k->max) {
			snprintf(err, errlen, "%s: '%s' is not a number in %g..%g", k->name, eq + 1,
				 k->min, k->max);
			return -1;
		}
		if (k->kind == 'm')
			*(uint64_t *)((char *)c + k->off) = (uint64_t)(v * 1e6);
		else if (k->kind == 'u')
			*(uint32_t *)((char *)c + k->off) = (uint32_t)v;
		else
			*(double *)((char *)c + k->off) = v;
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", name);
	return -1;
}

int det_config_load(struct det_config *c, const char *path, char *err, size_t errlen)
{
	char line[512], why[256];
	FILE *f = fopen(path, "re");
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		lineno++;
		p[strcspn(p, "#")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '\r')
			continue;
		if (det_config_set(c, p, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

struct detector *det_new(const struct det_config *c, uint32_t cap)
{
	struct detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->c = *c;
	d->cap = cap;
	d->procs = calloc(cap, sizeof(*d->procs));
	d->order = calloc(cap, sizeof(*d->order));
	d->gen = calloc(cap, sizeof(*d->gen));
	d->rep = calloc(cap, sizeof(*d->rep));
	d->sub_live = calloc(cap, sizeof(*d->sub_live));
	d->kids = calloc(cap, sizeof(*d->kids));
	d->ages = calloc(cap, sizeof(*d->ages));
	if (!d->procs || !d->order || !d->gen || !d->rep || !d->sub_live || !d->kids || !d->ages) {
		det_free(d);
		return NULL;
	}
	return d;
}

void det_free(struct detector *d)
{
	if (!d)
		return;
	free(d->procs);
	free(d->order);
	free(d->gen);
	free(d->rep);
	free(d->sub_live);
	free(d->kids);
	free(d->ages);
	free(d);
}

/* Per-process state, reset when the table reuses the slot for another process. */
static struct det_proc *st(struct detector *d, const struct proctable *t, int32_t slot)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *p;

	if (!e)
		return NULL;
	p = &d->procs[slot];
	if (p->key.tgid != e->key.tgid || p->key.start_ticks != e->key.start_ticks) {
		memset(p, 0, sizeof(*p));
		p->key = e->key;
	}
	return p;
}

static bool forked_recently(struct detector *d, const struct proctable *t, int32_t slot,
			    uint64_t now)
{
	struct det_proc *p = st(d, t, slot);

	return p && p->last_fork_ns && p->last_fork_ns + d->c.window_ns >= now;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Does child c run its parent's program (no exec, or the same one again)? */
static bool replicates(const struct pt_entry *c, const struct pt_entry *parent)
{
	if (!c->exec_seen)
		return true;
	if (c->filename[0] && !strcmp(c->filename, parent->filename))
		return true;
	return !strncmp(c->comm, parent->comm, FT_COMM_LEN);
}

/*
 * One pass over the subtree of x: generation profile, live population,
 * births, replicating forkers, and the median age of live replicators (a
 * population growing exponentially doubles about once per median age).
 */
static void profile(struct detector *d, const struct proctable *t, int32_t x, uint64_t now,
		    struct profile *pr)
{
	const struct pt_entry *root = pt_get(t, x);
	uint32_t n = 0, head = 0, nages = 0;
	uint64_t first_recent_birth = now;

	memset(pr, 0, sizeof(*pr));
	pr->doubling_ms = -1;
	/* breadth-first: order[] holds the subtree, parents before children */
	d->order[n] = x;
	d->gen[n++] = 0;
	d->rep[x] = 1;
	while (head < n) {
		int32_t i = d->order[head];
		uint8_t g = d->gen[head++];
		const struct pt_entry *e = pt_get(t, i);

		d->kids[i] = 0;
		for (int32_t c = e->first_child; c != PT_NONE && n < d->cap;
		     c = pt_get(t, c)->next_sibling) {
			d->kids[i]++;
			d->rep[c] = d->rep[i] && replicates(pt_get(t, c), e);
			d->order[n] = c;
			d->gen[n++] = g + 1 < DET_MAX_GEN ? g + 1 : DET_MAX_GEN - 1;
		}
	}
	for (uint32_t k = 0; k < n; k++)
		d->sub_live[d->order[k]] = pt_get(t, d->order[k])->state == PT_ALIVE;
	for (uint32_t k = n; k-- > 1;) /* children after parents: sum upwards */
		d->sub_live[pt_get(t, d->order[k])->parent] += d->sub_live[d->order[k]];

	for (uint32_t k = 0; k < n; k++) {
		int32_t i = d->order[k];
		const struct pt_entry *e = pt_get(t, i);
		const struct det_proc *p = st(d, t, i);
		uint8_t g = d->gen[k];
		uint64_t born = e->born_ns ? e->born_ns : e->start_ns;
		bool alive = e->state == PT_ALIVE;

		pr->members++;
		if (alive) {
			pr->live++;
			pr->live_per_gen[g]++;
			if (g + 1u > pr->ngen)
				pr->ngen = g + 1u;
			if (d->rep[i]) {
				pr->live_replicators++;
				d->ages[nages++] = now > born ? now - born : 0;
			}
		}
		if (e->born_ns && e->born_ns + d->c.window_ns >= now)
			pr->births_window++;
		if (e->born_ns && e->born_ns + 1000000000ull >= now) {
			pr->births_1s++;
			if (e->born_ns < first_recent_birth)
				first_recent_birth = e->born_ns;
		}
		if (d->rep[i] && p->last_fork_ns && p->last_fork_ns + d->c.window_ns >= now &&
		    d->sub_live[i]) {
			pr->forkers_per_gen[g]++;
			pr->forkers++;
			pr->live_forkers += alive;
			pr->mt_forkers += p->mt_fork;
			/* a forker older than a burst either forked in one (and
			 * stopped) or did not: one fork, or kept forking */
			if (p->first_fork_ns + POOL_BURST_NS <= now) {
				pr->settled++;
				pr->bursts += p->nforks >= 2 &&
					      p->last_fork_ns - p->first_fork_ns <= POOL_BURST_NS;
			}
		}
		if (k && e->exec_seen) {
			pr->execs++;
			if (root->filename[0] && !strcmp(e->filename, root->filename))
				pr->same_exe++;
		}
	}
	d->profiles++;
	d->profiled_nodes += n;
	if (nages) {
		qsort(d->ages, nages, sizeof(*d->ages), cmp_u64);
		pr->doubling_ms = (double)d->ages[nages / 2] / 1e6;
	}
	/* a rate over the last second, or over the tree's life if younger */
	pr->births_per_s =
	    pr->births_1s * 1e9 /
	    (double)(now - first_recent_birth > 1000000 ? now - first_recent_birth : 1000000);
	while (pr->replicating_generations < DET_MAX_GEN &&
	       pr->forkers_per_gen[pr->replicating_generations])
		pr->replicating_generations++;
}

static bool is_runaway(const struct detector *d, const struct profile *pr)
{
	return pr->live_replicators >= d->c.min_tasks &&
	       pr->replicating_generations >= d->c.min_generations && pr->doubling_ms >= 0 &&
	       pr->doubling_ms * 1e6 <= (double)d->c.max_doubling_ns;
}

static enum det_pattern name_runaway(const struct profile *pr)
{
	/* generation after generation exec'ing the root's own executable */
	if (pr->members > 1 && pr->same_exe * 2 >= pr->members - 1)
		return DET_RECURSIVE_SPAWN;
	/*
	 * Pools: forkers that forked from multithreaded parents (a pool's
	 * manager threads), or that started their workers in one burst and
	 * then stopped, staying alive to wait on them.  A bomb's forkers keep
	 * forking (the C and the slow bomb) or die after forking (the shell
	 * bomb).
	 */
	if (pr->forkers && pr->mt_forkers * 2 >= pr->forkers)
		return DET_NESTED_POOL;
	if (pr->settled >= 2 && pr->bursts * 4 >= pr->settled * 3 &&
	    pr->live_forkers * 4 >= pr->forkers * 3)
		return DET_NESTED_POOL;
	return DET_FORK_BOMB;
}

static void fill_tree_verdict(struct det_verdict *v, const struct profile *pr)
{
	v->tasks = pr->live;
	v->generations = pr->ngen;
	v->births_per_s = pr->births_per_s;
	v->doubling_ms = pr->doubling_ms;
	v->ngen = pr->ngen;
	memcpy(v->live_per_gen, pr->live_per_gen, sizeof(v->live_per_gen));
	memcpy(v->forkers_per_gen, pr->forkers_per_gen, sizeof(v->forkers_per_gen));
	for (uint32_t g = 0; g < DET_MAX_GEN; g++)
		if (pr->forkers_per_gen[g] && g + 1 > v->ngen)
			v->ngen = g + 1;
}

static void base_verdict(struct det_verdict *v, enum det_kind kind, enum det_pattern p,
			 uint64_t now, const struct pt_entry *root)
{
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->pattern = p;
	v->ts_ns = now;
	v->root = root->key.tgid;
	v->root_start_ns = root->start_ns;
	v->root_comm = root->comm;
	v->root_exe = root->filename;
	v->cmdline = root->cmdline;
	v->doubling_ms = -1;
}

static void tree_evidence(struct det_verdict *v, const struct profile *pr, enum det_pattern p,
			  const struct pt_entry *root)
{
	size_t off;

	off = (size_t)snprintf(v->evidence, sizeof(v->evidence),
			       "%u generations of processes running their parent's program "
			       "fork in turn (forkers by generation:",
			       pr->replicating_generations);
	for (uint32_t g = 0; g < pr->replicating_generations && off < sizeof(v->evidence); g++)
		off += (size_t)snprintf(v->evidence + off, sizeof(v->evidence) - off, " %u",
					pr->forkers_per_gen[g]);
	if (off >= sizeof(v->evidence))
		return;
	if (p == DET_RECURSIVE_SPAWN)
		snprintf(v->evidence + off, sizeof(v->evidence) - off,
			 "); %u of %u descendants exec'd %s again", pr->same_exe, pr->members - 1,
			 root->filename);
	else if (p == DET_NESTED_POOL && pr->mt_forkers * 2 >= pr->forkers)
		snprintf(v->evidence + off, sizeof(v->evidence) - off,
			 "); %u of %u forkers forked while multithreaded, as pools do",
			 pr->mt_forkers, pr->forkers);
	else if (p == DET_NESTED_POOL)
		snprintf(v->evidence + off, sizeof(v->evidence) - off,
			 "); %u of %u forkers started their workers in one burst and wait on them",
			 pr->bursts, pr->settled);
	else
		snprintf(v->evidence + off, sizeof(v->evidence) - off,
			 "); %u of %u descendants exec'd anything", pr->execs, pr->members - 1);
}

/* Tag the subtree just profiled (d->order) as members of alert a. */
static void tag_members(struct detector *d, const struct proctable *t, uint32_t n_members,
			uint16_t a)
{
	for (uint32_t k = 0; k < n_members; k++) {
		struct det_proc *p = st(d, t, d->order[k]);

		if (p)
			p->alert = a;
	}
}

static void raise_alert(struct detector *d, const struct proctable *t, int32_t x,
			const struct profile *pr, uint64_t now, det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *root = pt_get(t, x);
	enum det_pattern p = name_runaway(pr);
	struct det_verdict v;
	struct det_alert *a = NULL;
	uint16_t idx;

	for (idx = 0; idx < DET_MAX_ALERTS; idx++)
		if (!d->alerts[idx].used) {
			a = &d->alerts[idx];
			break;
		}
	if (!a) {
		d->alerts_dropped++;
		return;
	}
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->pattern = p;
	a->root = root->key;
	a->root_start_ns = root->start_ns;
	a->live = a->peak = a->reported_tasks = pr->live;
	a->seq = 1;
	a->first_ns = a->last_profile_ns = now;
	memcpy(a->comm, root->comm, sizeof(a->comm));
	memcpy(a->exe, root->filename, sizeof(a->exe));
	memcpy(a->cmdline, root->cmdline, sizeof(a->cmdline));
	tag_members(d, t, pr->members, (uint16_t)(idx + 1));

	base_verdict(&v, DET_ALERT, p, now, root);
	fill_tree_verdict(&v, pr);
	tree_evidence(&v, pr, p, root);
	v.seq = 1;
	v.peak_tasks = a->peak;
	fn(ctx, &v);
}

static struct det_alert *alert_of(struct detector *d, const struct det_proc *p)
{
	if (!p || !p->alert || p->alert > DET_MAX_ALERTS || !d->alerts[p->alert - 1].used)
		return NULL;
	return &d->alerts[p->alert - 1];
}

/* A flagged tree grew: re-profile now and then; report each doubling. */
static void update_alert(struct detector *d, const struct proctable *t, struct det_alert *a,
			 uint64_t now, det_verdict_fn fn, void *ctx)
{
	int32_t r = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	struct det_verdict v;
	struct profile pr;

	/* a->live is kept per fork and exit: profile only when it doubled */
	if (a->live < 2 * a->reported_tasks || r == PT_NONE)
		return;
	a->last_profile_ns = now;
	profile(d, t, r, now, &pr);
	tag_members(d, t, pr.members, (uint16_t)(a - d->alerts + 1));
	a->live = pr.live;
	if (pr.live > a->peak)
		a->peak = pr.live;
	if (pr.live < 2 * a->reported_tasks)
		return;
	a->reported_tasks = pr.live;
	base_verdict(&v, DET_ALERT_UPDATE, a->pattern, now, pt_get(t, r));
	fill_tree_verdict(&v, &pr);
	tree_evidence(&v, &pr, a->pattern, pt_get(t, r));
	v.seq = ++a->seq;
	v.peak_tasks = a->peak;
	fn(ctx, &v);
}

static void member_exited(struct detector *d, const struct proctable *t, struct det_proc *p,
			  uint64_t now, det_verdict_fn fn, void *ctx)
{
	struct det_alert *a = alert_of(d, p);
	struct det_verdict v;

	if (!a || a->pattern == DET_THREAD_EXPLOSION || a->pattern == DET_RESTART_LOOP)
		return;
	if (a->live)
		a->live--;
	if (a->live)
		return;
	/* the tree is empty: close the alert */
	memset(&v, 0, sizeof(v));
	v.kind = DET_ALERT_END;
	v.pattern = a->pattern;
	v.ts_ns = now;
	v.root = a->root.tgid;
	v.root_start_ns = a->root_start_ns;
	v.root_comm = a->comm;
	v.root_exe = a->exe;
	v.cmdline = a->cmdline;
	v.peak_tasks = a->peak;
	v.seq = ++a->seq;
	v.doubling_ms = -1;
	v.duration_ns = now - a->first_ns;
	fn(ctx, &v);
	a->used = false;
}

/*
 * A process forked.  Cheap filter first: the forker, its parent and its
 * grandparent all forked within the window.  Then profile the chain from
 * its highest recently-forking ancestor downwards; the first that is a
 * runaway is the root to act on (so the shell that started a bomb is not).
 */
static void on_process_fork(struct detector *d, const struct proctable *t, int32_t child,
			    const struct ft_fork *f, det_verdict_fn fn, void *ctx)
{
	int32_t parent = pt_get(t, child)->parent, path[DET_CLIMB_MAX], x;
	struct det_proc *pp = st(d, t, parent), *cp = st(d, t, child);
	uint64_t now = f->h.ts_ns;
	struct det_alert *a;
	struct profile pr;
	int n = 0;

	if (!pp || !cp)
		return;
	d->forks++;
	if (!pp->nforks++)
		pp->first_fork_ns = now;
	pp->last_fork_ns = now;
	if (f->parent_threads > 1)
		pp->mt_fork = true;
	a = alert_of(d, pp);
	if (a) { /* membership is inherited at fork */
		cp->alert = pp->alert;
		if (++a->live > a->peak)
			a->peak = a->live;
		update_alert(d, t, a, now, fn, ctx);
		return;
	}
	for (x = parent; x != PT_NONE && n < DET_CLIMB_MAX; x = pt_get(t, x)->parent) {
		const struct pt_entry *e = pt_get(t, x);

		/* init and kernel threads are never the root of a runaway */
		if (e->key.tgid == 1 || e->kthread || !forked_recently(d, t, x, now))
			break;
		path[n++] = x;
	}
	if (n < 3)
		return;
	/*
	 * Profile the chain top-down; the first runaway is the root.  Each
	 * node keeps its own pace: it is looked at again once a quarter of its
	 * own subtree's size in forks has happened, or after an interval that
	 * also grows with that size.  A bomb's root is small and looked at
	 * often (it reaches hundreds of tasks in milliseconds: time alone is
	 * too coarse, and a slow bomb needs the timer); a supervisor above it,
	 * whose subtree may hold thousands of exited processes, rarely.  A
	 * fixed interval would re-walk such a subtree 50 times a second for
	 * as long as it keeps forking (a storm's parent: 57 processes visited per
	 * record); scaled, the timer costs each node at most ~256 visits per
	 * interval, and the count pace keeps the rest O(N log N).
	 */
	for (int i = n - 1; i >= 0; i--) {
		struct det_proc *node = st(d, t, path[i]);
		uint64_t interval =
		    d->c.analysis_interval_ns * (1 + node->members_at_analysis / ANALYSIS_SCALE);

		if (d->forks < node->forks_at_analysis + 4 + node->members_at_analysis / 4 &&
		    now < node->last_analysis_ns + interval)
			continue;
		node->last_analysis_ns = now;
		node->forks_at_analysis = d->forks;
		profile(d, t, path[i], now, &pr);
		node->members_at_analysis = pr.members;
		if (is_runaway(d, &pr)) {
			raise_alert(d, t, path[i], &pr, now, fn, ctx);
			return;
		}
		if (pr.live < d->c.min_tasks)
			return; /* smaller subtrees below cannot qualify either */
	}
}

static void on_thread_start(struct detector *d, const struct proctable *t, int32_t slot,
			    const struct ft_fork *f, det_verdict_fn fn, void *ctx)
{
	struct det_proc *p = st(d, t, slot);
	uint32_t n = f->parent_threads, level = 0, need = 0;
	struct det_verdict v;

	if (!p || n < 16)
		return;
	/* the first record at or above each power of two marks that milestone */
	while (level + 1 < DET_THREAD_LEVELS && (16u << (level + 1)) <= n)
		level++;
	if (!p->thr_ns[level])
		p->thr_ns[level] = f->h.ts_ns;
	while ((16u << need) < d->c.thread_min && need + 1 < DET_THREAD_LEVELS)
		need++;
	if (level < need || p->thr_reported)
		return;
	/* every doubling from 16 up to thread_min came fast */
	for (uint32_t k = 1; k <= need; k++)
		if (!p->thr_ns[k - 1] || !p->thr_ns[k] ||
		    p->thr_ns[k] - p->thr_ns[k - 1] > d->c.thread_doubling_ns)
			return;
	p->thr_reported = true;
	base_verdict(&v, DET_ALERT, DET_THREAD_EXPLOSION, f->h.ts_ns, pt_get(t, slot));
	v.tasks = v.threads = n;
	v.seq = 1;
	v.doubling_ms = (double)(p->thr_ns[need] - p->thr_ns[need - 1]) / 1e6;
	snprintf(v.evidence, sizeof(v.evidence),
		 "threads doubled from 16 to %u, each doubling within %.0f ms", n,
		 (double)d->c.thread_doubling_ns / 1e6);
	fn(ctx, &v);
}

/* A child exited: a parent re-spawning children that fail at once? */
static void on_process_exit(struct detector *d, const struct proctable *t, int32_t slot,
			    const struct ft_exit *x, det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *p;
	struct det_verdict v;
	bool failed, same;

	member_exited(d, t, st(d, t, slot), x->h.ts_ns, fn, ctx);
	if (!e->born_ns || e->parent == PT_NONE || !(p = st(d, t, e->parent)))
		return;
	failed = x->exit_code != 0 && x->h.ts_ns - e->born_ns <= d->c.restart_max_life_ns;
	same = p->fail_run && !strncmp(p->fail_comm, e->comm, FT_COMM_LEN) &&
	       x->h.ts_ns <= p->fail_first_ns + d->c.restart_window_ns;
	/*
	 * Other children (the watchdog's own sleep, say) neither count nor
	 * reset the run; the restarted program surviving does.
	 */
	if (!failed) {
		if (same)
			p->fail_run = p->restart_reported = 0;
		return;
	}
	if (!same) {
		p->fail_run = p->restart_reported = 0;
		p->fail_first_ns = x->h.ts_ns;
		memcpy(p->fail_comm, e->comm, FT_COMM_LEN);
	}
	p->fail_run++;
	/* report at restart_min failures, then at each doubling */
	if (p->fail_run < d->c.restart_min || p->fail_run < 2 * p->restart_reported)
		return;
	/* one alert per parent; later runs and growth are updates */
	base_verdict(&v, p->restart_seq ? DET_ALERT_UPDATE : DET_ALERT, DET_RESTART_LOOP,
		     x->h.ts_ns, pt_get(t, e->parent));
	v.seq = ++p->restart_seq;
	p->restart_reported = p->fail_run;
	v.restarts = p->fail_run;
	v.child = e->key.tgid;
	v.births_per_s =
	    (double)p->fail_run * 1e9 / (double)(x->h.ts_ns - p->fail_first_ns + 1000000);
	snprintf(v.evidence, sizeof(v.evidence),
		 "%u children '%.16s' died within %.0f ms each (last: %s %u)", p->fail_run, e->comm,
		 (double)d->c.restart_max_life_ns / 1e6,
		 (x->exit_code & 0x7f) ? "signal" : "exit code",
		 (x->exit_code & 0x7f) ? x->exit_code & 0x7f : (x->exit_code >> 8) & 0xff);
	fn(ctx, &v);
}

/* fork_while_threaded: decided once the child had exec_grace to exec. */
static void resolve_pending(struct detector *d, const struct proctable *t, uint64_t now, bool all,
			    det_verdict_fn fn, void *ctx)
{
	while (d->pend_len) {
		struct pending_fork *pf = &d->pending[d->pend_head];
		int32_t c, p;
		const struct pt_entry *ce;
		struct det_proc *ps;
		struct det_verdict v;

		if (!all && pf->ts + d->c.exec_grace_ns > now)
			break;
		d->pend_head = (d->pend_head + 1) % DET_PENDING;
		d->pend_len--;
		c = pt_find(t, pf->child.tgid, pf->child.start_ticks * FT_NS_PER_TICK);
		ce = pt_get(t, c);
		if (ce && ce->exec_seen)
			continue; /* fork+exec: the safe use */
		p = pt_find(t, pf->parent.tgid, pf->parent.start_ticks * FT_NS_PER_TICK);
		ps = st(d, t, p);
		if (!ps || ps->fwt_reported)
			continue;
		ps->fwt_reported = true;
		base_verdict(&v, DET_FINDING, DET_FORK_WHILE_THREADED, pf->ts, pt_get(t, p));
		v.threads = pf->threads;
		v.child = pf->child.tgid;
		snprintf(v.evidence, sizeof(v.evidence),
			 "forked child %u while running %u threads; the child did not exec "
			 "within %.0f ms (locks held by other threads stay locked in it)",
			 pf->child.tgid, pf->threads, (double)d->c.exec_grace_ns / 1e6);
		fn(ctx, &v);
	}
}

void det_feed(struct detector *d, const struct proctable *t, const union ft_record *rec,
	      int32_t slot, det_verdict_fn fn, void *ctx)
{
	const struct ft_header *h = &rec->h;

	if (h->ts_ns)
		resolve_pending(d, t, h->ts_ns, false, fn, ctx);
	if (slot == PT_NONE || !pt_get(t, slot))
		return;
	switch (h->type) {
	case FT_EV_FORK:
		if (h->flags & FT_F_THREAD) {
			on_thread_start(d, t, slot, &rec->fork, fn, ctx);
			break;
		}
		if (rec->fork.parent_threads > 1 && pt_get(t, slot)->parent != PT_NONE) {
			struct pending_fork *pf;

			if (d->pend_len == DET_PENDING) {
				d->pend_dropped++;
			} else {
				pf = &d->pending[(d->pend_head + d->pend_len++) % DET_PENDING];
				pf->child = pt_get(t, slot)->key;
				pf->parent = pt_get(t, pt_get(t, slot)->parent)->key;
				pf->threads = rec->fork.parent_threads;
				pf->ts = h->ts_ns;
			}
		}
		on_process_fork(d, t, slot, &rec->fork, fn, ctx);
		break;
	case FT_EV_EXIT:
		if (!(h->flags & FT_F_THREAD))
			on_process_exit(d, t, slot, &rec->exit, fn, ctx);
		break;
	case FT_EV_GONE:
		member_exited(d, t, st(d, t, slot), h->ts_ns, fn, ctx);
		break;
	default:
		break;
	}
}

void det_finish(struct detector *d, const struct proctable *t, uint64_t now, det_verdict_fn fn,
		void *ctx)
{
	resolve_pending(d, t, now, true, fn, ctx);
}

void det_oom_tree(struct detector *d, const struct proctable *t, int32_t victim, uint64_t now,
		  struct det_oom_tree *out)
{
	struct det_proc *p = st(d, t, victim);
	struct det_alert *a = alert_of(d, p);
	struct profile pr;
	int32_t top = victim;

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->known = true;
	if (a) {
		out->flagged = true;
		out->pattern = a->pattern;
		out->root = a->root.tgid;
		out->root_comm = a->comm;
		out->tasks = a->live;
		out->growing = true;
		out->doubling_ms = -1;
		return;
	}
	/* the tree the victim grew in: its highest recently-forking ancestor */
	for (int32_t x = pt_get(t, victim)->parent, n = 0; x != PT_NONE && n < DET_CLIMB_MAX;
	     x = pt_get(t, x)->parent, n++) {
		if (pt_get(t, x)->key.tgid == 1 || !forked_recently(d, t, x, now))
			break;
		top = x;
	}
	profile(d, t, top, now, &pr);
	out->root = pt_get(t, top)->key.tgid;
	out->root_comm = pt_get(t, top)->comm;
	out->tasks = pr.live;
	out->births_per_s = pr.births_per_s;
	out->doubling_ms = pr.doubling_ms;
	out->growing = pr.births_window > 0 && pr.doubling_ms >= 0 &&
		       pr.doubling_ms * 1e6 <= (double)d->c.max_doubling_ns;
}

uint32_t det_tree_id(const struct detector *d, uint32_t pid, uint64_t start_ns)
{
	for (uint32_t i = 0; i < DET_MAX_ALERTS; i++) {
		const struct det_alert *a = &d->alerts[i];

		if (a->used && a->root.tgid == pid && a->root.start_ticks == pt_ticks(start_ns))
			return i + 1;
	}
	return 0;
}

uint32_t det_tree_of(struct detector *d, const struct proctable *t, int32_t slot)
{
	const struct det_proc *p = st(d, t, slot);

	return alert_of(d, p) ? p->alert : 0;
}

void det_get_drops(const struct detector *d, struct det_drops *out)
{
	out->pending = d->pend_dropped;
	out->alerts = d->alerts_dropped;
}

void det_get_work(const struct detector *d, struct det_work *out)
{
	out->profiles = d->profiles;
	out->nodes = d->profiled_nodes;
}
