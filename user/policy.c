// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "policy.h"
#include "procfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define MAX_ANCESTORS 64

/* The trees forktrace would never touch, whatever the detector says. */
static const char *const default_allow[] = {
	"comm:systemd",		"comm:init",	"comm:sshd",	  "comm:containerd",
	"comm:containerd-shim", "comm:dockerd", "comm:runc",	  "comm:crio",
	"comm:conmon",		"comm:kubelet", "comm:forktrace",
};

struct action {
	bool active;
	uint32_t tree, sig;
	struct pt_key root;
	char root_comm[FT_COMM_LEN];
	uint64_t started_ns;
	uint32_t signalled;
};

struct sweep_mark {
	struct pt_key key; /* the process the mark is for (slots are reused) */
	uint32_t tree;
};

struct policy {
	struct policy_opts o;
	struct policy_ops ops;
	struct action actions[FT_MAX_TREES];
	struct sweep_mark *marks; /* per table slot: already signalled */
	uint32_t cap;
	uint32_t self;
	struct pt_key ancestors[MAX_ANCESTORS];
	uint32_t nancestors;
	uint32_t *scratch; /* dry-run pid list */
};

void policy_defaults(struct policy_opts *o)
{
	char ignored[8];

	memset(o, 0, sizeof(*o));
	o->act_on = 1u << DET_FORK_BOMB | 1u << DET_RECURSIVE_SPAWN | 1u << DET_NESTED_POOL |
		    1u << DET_THREAD_EXPLOSION;
	o->give_up_ns = 10000000000ull;
	for (size_t i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++)
		policy_add_allow(o, default_allow[i], ignored, sizeof(ignored));
}

int policy_add_allow(struct policy_opts *o, const char *spec, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		char kind;
	} kinds[] = { { "comm:", 'c' }, { "exe:", 'e' }, { "cgroup:", 'g' } };

	if (o->nallow == POLICY_MAX_ALLOW) {
		snprintf(err, errlen, "--allow: at most %d rules", POLICY_MAX_ALLOW);
		return -1;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		struct allow_rule *r = &o->allow[o->nallow];

		if (strncmp(spec, kinds[i].prefix, n))
			continue;
		if (!spec[n] || strlen(spec + n) >= sizeof(r->value)) {
			snprintf(err, errlen, "--allow %s: empty or too long", spec);
			return -1;
		}
		r->kind = kinds[i].kind;
		snprintf(r->value, sizeof(r->value), "%s", spec + n);
		o->nallow++;
		return 0;
	}
	snprintf(err, errlen, "--allow %s: want comm:NAME, exe:PATH or cgroup:PATH", spec);
	return -1;
}

int policy_set_act_on(struct policy_opts *o, const char *list, char *err, size_t errlen)
{
	char buf[256], *save = NULL;
	uint32_t mask = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int p;

		for (p = 0; p < DET_PATTERN_MAX; p++)
			if (!strcmp(tok, det_pattern_name(p)))
				break;
		if (p == DET_PATTERN_MAX || p == DET_FORK_WHILE_THREADED) {
			snprintf(err, errlen, "--act-on: '%s' is not a pattern forktrace acts on",
				 tok);
			return -1;
		}
		mask |= 1u << p;
	}
	if (!mask) {
		snprintf(err, errlen, "--act-on: empty list");
		return -1;
	}
	o->act_on = mask;
	return 0;
}

/* forktrace's own ancestors, by identity: never to be signalled */
static void find_ancestors(struct policy *p)
{
	uint32_t pid = (uint32_t)getpid();
	struct procfs_stat st;

	while (pid > 1 && p->nancestors < MAX_ANCESTORS && !procfs_stat(pid, &st)) {
		p->ancestors[p->nancestors].tgid = pid;
		p->ancestors[p->nancestors++].start_ticks = st.start_ticks;
		pid = st.ppid;
	}
}

struct policy *policy_new(const struct policy_opts *o, const struct policy_ops *ops,
			  uint32_t table_capacity)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->ops = *ops;
	p->cap = table_capacity;
	p->marks = calloc(table_capacity, sizeof(*p->marks));
	p->scratch = calloc(table_capacity, sizeof(*p->scratch));
	if (!p->marks || !p->scratch) {
		policy_free(p);
		return NULL;
	}
	p->self = (uint32_t)getpid();
	find_ancestors(p);
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->marks);
	free(p->scratch);
	free(p);
}

bool policy_busy(const struct policy *p)
{
	for (int i = 0; i < FT_MAX_TREES; i++)
		if (p->actions[i].active)
			return true;
	return false;
}

/* Never: init, kernel threads, forktrace itself or any of its ancestors. */
static const char *protected_reason(const struct policy *p, const struct pt_entry *e)
{
	if (e->key.tgid <= 1)
		return "init";
	if (e->kthread)
		return "kernel thread";
	if (e->key.tgid == p->self)
		return "forktrace itself";
	for (uint32_t i = 0; i < p->nancestors; i++)
		if (p->ancestors[i].tgid == e->key.tgid &&
		    p->ancestors[i].start_ticks == e->key.start_ticks)
			return "an ancestor of forktrace";
	return NULL;
}

static const struct allow_rule *allowed(const struct policy *p, const struct pt_entry *e)
{
	const char *base = strrchr(e->filename, '/');

	for (uint32_t i = 0; i < p->o.nallow; i++) {
		const struct allow_rule *r = &p->o.allow[i];

		if ((r->kind == 'c' && !strncmp(e->comm, r->value, FT_COMM_LEN - 1)) ||
		    (r->kind == 'e' &&
		     (!strcmp(e->filename, r->value) || (base && !strcmp(base + 1, r->value)))) ||
		    (r->kind == 'g' && p->ops.in_cgroup &&
		     p->ops.in_cgroup(p->ops.ctx, e->key.tgid, r->value)))
			return r;
	}
	return NULL;
}

/* Live members of the tree that may be signalled, in table order. */
static bool may_signal(struct policy *p, const struct proctable *t, struct detector *d,
		       const struct action *a, int32_t slot, int32_t root_slot)
{
	const struct pt_entry *e = pt_get(t, slot);

	if (!e || e->state != PT_ALIVE || det_tree_of(d, t, slot) != a->tree)
		return false;
	/* inside the flagged subtree, by lineage, or nothing */
	if (root_slot == PT_NONE || !pt_is_descendant(t, slot, root_slot))
		return false;
	return !protected_reason(p, e) && !allowed(p, e);
}

static void report(policy_report_fn fn, void *ctx, struct policy_report *r)
{
	fn(ctx, r);
}

static void finish(struct policy *p, struct action *a, uint64_t now, bool complete,
		   uint32_t remaining, const char *why, policy_report_fn fn, void *ctx)
{
	struct policy_report r = {
		.kind = REPORT_ACTION,
		.ts_ns = now,
		.action = a->sig == SIGSTOP ? "stop" : "kill",
		.root = a->root.tgid,
		.root_comm = a->root_comm,
		.signalled = a->signalled,
		.remaining = remaining,
		.ms = (double)(now - a->started_ns) / 1e6,
		.complete = complete,
		.why = why,
	};

	report(fn, ctx, &r);
	a->active = false;
	if (p->ops.flag_tree && a->sig == SIGSTOP)
		p->ops.flag_tree(p->ops.ctx, a->tree, 0); /* frozen: stop freezing new forks */
}

static void sweep(struct policy *p, const struct proctable *t, struct detector *d, struct action *a,
		  uint64_t now, policy_report_fn fn, void *ctx)
{
	int32_t root = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	uint32_t live = 0, stopped = 0;

	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i)) {
		const struct pt_entry *e = pt_get(t, i);
		struct sweep_mark *m = &p->marks[i];
		struct policy_report r;
		int ret;

		if (!may_signal(p, t, d, a, i, root))
			continue;
		live++;
		if (a->sig == SIGSTOP && p->ops.state) {
			char s = p->ops.state(p->ops.ctx, e->key.tgid, e->key.start_ticks);

			if (s == 'T' || s == 't' || !s) {
				stopped++;
				continue;
			}
		}
		if (m->tree == a->tree && m->key.tgid == e->key.tgid &&
		    m->key.start_ticks == e->key.start_ticks)
			continue; /* signalled once: its exit (or stop) is on the way */
		ret = p->ops.signal(p->ops.ctx, e->key.tgid, e->key.start_ticks, (int)a->sig);
		m->key = e->key;
		m->tree = a->tree;
		if (ret == 0)
			a->signalled++;
		memset(&r, 0, sizeof(r));
		r.kind = REPORT_SIGNAL;
		r.ts_ns = now;
		r.action = a->sig == SIGSTOP ? "stop" : "kill";
		r.root = a->root.tgid;
		r.root_comm = a->root_comm;
		r.pid = e->key.tgid;
		r.comm = e->comm;
		r.sig = (int)a->sig;
		r.result = ret;
		report(fn, ctx, &r);
	}
	if (a->sig == SIGSTOP && live && stopped == live)
		finish(p, a, now, true, 0,
		       "resume: kill -CONT <pids>, or end: kill -KILL <pids> (pids: the tree "
		       "events above)",
		       fn, ctx);
	else if (a->sig != SIGSTOP && !live)
		finish(p, a, now, true, 0, NULL, fn, ctx);
	else if (now > a->started_ns + p->o.give_up_ns)
		finish(p, a, now, false, live - stopped, "gave up", fn, ctx);
}

void policy_on_verdict(struct policy *p, const struct proctable *t, struct detector *d,
		       const struct det_verdict *v, policy_report_fn fn, void *ctx)
{
	int32_t root = pt_find(t, v->root, v->root_start_ns);
	const struct pt_entry *re = pt_get(t, root);
	struct policy_report r = { .ts_ns = v->ts_ns, .root = v->root, .root_comm = v->root_comm };
	const struct allow_rule *rule = NULL;
	uint32_t tree = det_tree_id(d, v->root, v->root_start_ns);
	struct action *a;
	char why[300];
	uint32_t n = 0;

	if (p->o.mode == POLICY_OBSERVE || !re)
		return;
	if (v->kind == DET_ALERT_END) {
		/* the detector saw the tree empty: a kill is done */
		if (tree && p->actions[tree].active && p->actions[tree].sig != SIGSTOP)
			finish(p, &p->actions[tree], v->ts_ns, true, 0, NULL, fn, ctx);
		return;
	}
	if (v->kind != DET_ALERT || !(p->o.act_on & (1u << v->pattern)) || !tree)
		return;
	r.action = p->o.mode == POLICY_STOP ? "stop" : "kill";
	if (protected_reason(p, re) || (rule = allowed(p, re))) {
		r.kind = REPORT_EXEMPT;
		if (protected_reason(p, re))
			snprintf(why, sizeof(why), "root is %s", protected_reason(p, re));
		else
			snprintf(why, sizeof(why), "allowed by %s:%s",
				 rule->kind == 'c'   ? "comm"
				 : rule->kind == 'e' ? "exe"
						     : "cgroup",
				 rule->value);
		r.why = why;
		report(fn, ctx, &r);
		return;
	}
	a = &p->actions[tree];
	memset(a, 0, sizeof(*a));
	a->tree = tree;
	a->sig = p->o.mode == POLICY_STOP ? SIGSTOP : SIGKILL;
	a->root = re->key;
	memcpy(a->root_comm, re->comm, sizeof(a->root_comm));
	a->started_ns = v->ts_ns;
	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
		if (may_signal(p, t, d, a, i, root))
			p->scratch[n++] = pt_get(t, i)->key.tgid;
	if (p->o.dry_run) {
		r.kind = REPORT_DRY_RUN;
		r.pids = p->scratch;
		r.npids = n;
		report(fn, ctx, &r);
		return;
	}
	/* first the kernel: from now on every fork in the tree is signalled */
	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
		if (may_signal(p, t, d, a, i, root) && p->ops.add_member)
			p->ops.add_member(p->ops.ctx, pt_get(t, i)->key.tgid,
					  pt_get(t, i)->key.start_ticks, tree);
	if (p->ops.flag_tree)
		p->ops.flag_tree(p->ops.ctx, tree, a->sig);
	a->active = true;
	sweep(p, t, d, a, v->ts_ns, fn, ctx);
}

void policy_tick(struct policy *p, const struct proctable *t, struct detector *d, uint64_t now,
		 policy_report_fn fn, void *ctx)
{
	for (int i = 1; i < FT_MAX_TREES; i++)
		if (p->actions[i].active)
			sweep(p, t, d, &p->actions[i], now, fn, ctx);
}

int policy_signal_pidfd(uint32_t pid, uint64_t start_ticks, int sig)
{
	struct procfs_stat st;
	int fd, ret;

	/*
	 * The pidfd pins the process it was opened for; the start time read
	 * afterwards proves that process is the one we mean.  If the pid was
	 * reused before the open, the times differ; if the process dies after,
	 * the signal fails with ESRCH.  Either way nobody else is signalled.
	 */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	if (procfs_stat(pid, &st) || st.start_ticks != start_ticks) {
		close(fd);
		return -ESRCH;
	}
	ret = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

char policy_proc_state(uint32_t pid, uint64_t start_ticks)
{
	struct procfs_stat st;

	if (procfs_stat(pid, &st) || st.start_ticks != start_ticks)
		return 0;
	return st.state;
}

/* Is path (relative to a hierarchy's root) at or below rule? */
static bool path_under(const char *path, const char *rule)
{
	size_t n = strlen(rule);

	while (n > 1 && rule[n - 1] == '/')
		n--;
	return !strncmp(path, rule, n) && (path[n] == '\0' || path[n] == '/' || n == 1);
}

bool policy_proc_in_cgroup(uint32_t pid, const char *rule)
{
	static const char mnt[] = "/sys/fs/cgroup";
	char path[64], line[4096];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	/*
	 * Lines are "id:controllers:/path".  A rule names either that path, or
	 * the directory under the mount: /sys/fs/cgroup/<controller>/path on
	 * v1, /sys/fs/cgroup[/unified]/path on cgroup2.
	 */
	while (!yes && fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cg, rel[4096];

		cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = '\0';
		ctrl++;
		cg[strcspn(cg, "\n")] = '\0';
		if (rule[0] == '/' && strncmp(rule, mnt, sizeof(mnt) - 1)) {
			yes = path_under(cg, rule);
			continue;
		}
		if (*ctrl) /* v1: strip /sys/fs/cgroup/<first controller> */
			snprintf(rel, sizeof(rel), "%s/%.*s", mnt, (int)strcspn(ctrl, ","), ctrl);
		else
			snprintf(rel, sizeof(rel), "%s%s", mnt,
				 strncmp(rule, "/sys/fs/cgroup/unified", 22) ? "" : "/unified");
		if (!strncmp(rule, rel, strlen(rel)))
			yes = path_under(cg, rule[strlen(rel)] ? rule + strlen(rel) : "/");
	}
	fclose(f);
	return yes;
}
