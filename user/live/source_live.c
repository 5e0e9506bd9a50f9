// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "forktrace.skel.h"
#include "contain.skel.h"
#include "live/privs.h"
#include "live/procfs.h"
#include "live/source_live.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct live_source {
	struct forktrace_bpf *skel;
	/*
	 * Containment (bpf/contain.bpf.c): loaded at open for --kill, --stop
	 * and --guard, else at the first action that needs the kernel (the
	 * live view's k or s).  What it is loaded with is kept from open.  A
	 * failed load is tried again only if its cause may pass (memory: the
	 * maps are allocated while a bomb runs), at most once a second;
	 * missing privileges or a verifier refusal stay.  contain_err says why.
	 */
	struct contain_bpf *contain;
	struct live_opts contain_opts;
	struct live_safety_rules *safety; /* a copy; NULL: identity checks only */
	bool use_btf;
	int contain_failed;	     /* -errno of the last failed load, 0 */
	uint64_t contain_retry_ns;   /* CLOCK_MONOTONIC: not tried again before */
	char contain_err[256];
	bool opening;		 /* in live_open: a load now is no load on demand */
	int64_t contain_load_ns; /* how long the load on demand took; -1: none */
	/* the refused-fork programs (loaded where this kernel has their
	 * tracepoints) and their links while attached (live_trace_refusals) */
	struct bpf_program *fail_progs[FT_CALL_MAX];
	struct bpf_link *fail_links[FT_CALL_MAX];
	struct ring_buffer *rb;
	int ncpus;
	ft_record_fn fn;
	void *fn_ctx;
	uint64_t bad_records;
	uint64_t probe_records; /* --noop=record */
	uint32_t budget;	/* records this live_poll may still deliver */
};

/*
 * Number of arguments a tracepoint passes to BPF, from its
 * btf_trace_<name> typedef (a pointer to a prototype whose first parameter
 * is the tracepoint's private data).  -1 if the kernel has no such typedef.
 */
static int tracepoint_nargs(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

static bool classic_tracepoint_exists(const char *category, const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
			snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], category,
				 name);
			if (access(path, R_OK) == 0)
				return true;
		}
		/* libbpf needs tracefs for classic attach; many hosts leave it unmounted */
		if (pass == 0 && mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
			break;
	}
	return false;
}

static void set_mode(struct ft_run_info *info, enum ft_hook hook, const char *mode)
{
	snprintf(info->attach[hook], sizeof(info->attach[hook]), "%s", mode);
}

/* Fill one of the never-signal maps; -1 with the map named in err. */
static int fill_map(struct bpf_map *map, const void *keys, size_t key_size, uint32_t n, char *err,
		    size_t errlen)
{
	__u8 one = 1;

	for (uint32_t i = 0; i < n; i++) {
		int ret = bpf_map__update_elem(map, (const char *)keys + i * key_size, key_size,
					       &one, sizeof(one), BPF_ANY);

		if (ret) {
			snprintf(err, errlen, "cannot fill BPF map %s: %s", bpf_map__name(map),
				 strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/*
 * The rule_shape entry the rules s give (and, with also, the rules of both:
 * which kinds to check, and the v1 hierarchies of either while they fit).
 */
static int write_rule_shape(struct contain_bpf *skel, const struct live_safety_rules *s,
			    const struct live_safety_rules *also, char *err, size_t errlen)
{
	struct ft_rule_shape shape = {
		.check_cgroups = s->ncgroups > 0 || (also && also->ncgroups > 0),
		.check_units = s->nunits > 0 || (also && also->nunits > 0),
	};
	uint32_t n = 0;
	__u32 zero = 0;
	int ret;

	for (int i = 0; i < FT_GUARD_MAX_V1; i++)
		shape.v1_subsys[i] = -1;
	for (int k = 0; k < 2; k++) {
		const struct live_safety_rules *r = k ? also : s;

		for (int i = 0; r && i < FT_GUARD_MAX_V1 && r->v1_subsys[i] >= 0; i++) {
			bool listed = false;

			for (uint32_t j = 0; j < n; j++)
				listed |= shape.v1_subsys[j] == r->v1_subsys[i];
			if (!listed && n < FT_GUARD_MAX_V1)
				shape.v1_subsys[n++] = r->v1_subsys[i];
		}
	}
	ret = bpf_map__update_elem(skel->maps.rule_shape, &zero, sizeof(zero), &shape,
				   sizeof(shape), BPF_ANY);
	if (ret)
		snprintf(err, errlen, "cannot fill BPF map rule_shape: %s", strerror(-ret));
	return ret ? -1 : 0;
}

/* One kind of allow rule: its map and the keys the rules s give it. */
struct rule_map {
	struct bpf_map *map;
	const void *keys;
	size_t key_size;
	uint32_t n;
};

#define RULE_MAPS 4
static void rule_maps(struct contain_bpf *skel, const struct live_safety_rules *s,
		      struct rule_map out[RULE_MAPS])
{
	out[0] = (struct rule_map){ skel->maps.allow_exes, s->exes, sizeof(s->exes[0]), s->nexes };
	out[1] = (struct rule_map){ skel->maps.allow_uids, s->uids, sizeof(s->uids[0]), s->nuids };
	out[2] = (struct rule_map){ skel->maps.allow_cgroups, s->cgroups, sizeof(s->cgroups[0]),
				    s->ncgroups };
	out[3] = (struct rule_map){ skel->maps.allow_units, s->units, sizeof(s->units[0]),
				    s->nunits };
}

static int load_safety(struct contain_bpf *skel, const struct live_safety_rules *s, char *err,
		       size_t errlen)
{
	struct rule_map m[RULE_MAPS];

	if (fill_map(skel->maps.protected_ids, s->protect, sizeof(s->protect[0]), s->nprotect, err,
		     errlen))
		return -1;
	rule_maps(skel, s, m);
	for (int i = 0; i < RULE_MAPS; i++)
		if (fill_map(m[i].map, m[i].keys, m[i].key_size, m[i].n, err, errlen))
			return -1;
	return write_rule_shape(skel, s, NULL, err, errlen);
}

/* Is key one of the n keys of key_size bytes at keys? */
static bool key_listed(const void *key, const void *keys, size_t key_size, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!memcmp(key, (const char *)keys + i * key_size, key_size))
			return true;
	return false;
}

/*
 * Drop from map the keys that are not among the n at keys.  Collected
 * first, then deleted: a walk that deletes as it goes may restart.
 */
static int prune_map(struct bpf_map *map, const void *keys, size_t key_size, uint32_t n,
		     char *err, size_t errlen)
{
	unsigned char cur[FT_UNIT_LEN], next[FT_UNIT_LEN];
	unsigned char gone[2 * FT_GUARD_MAX_RULES][FT_UNIT_LEN];
	uint32_t ngone = 0;
	void *prev = NULL;
	int ret = 0;

	if (key_size > sizeof(cur)) {
		snprintf(err, errlen, "BPF map %s: keys of %zu bytes", bpf_map__name(map), key_size);
		return -1;
	}
	while (ngone < 2 * FT_GUARD_MAX_RULES &&
	       !(ret = bpf_map__get_next_key(map, prev, next, key_size))) {
		memcpy(cur, next, key_size);
		prev = cur;
		if (!key_listed(cur, keys, key_size, n))
			memcpy(gone[ngone++], cur, key_size);
	}
	if (ngone < 2 * FT_GUARD_MAX_RULES && ret != -ENOENT) {
		snprintf(err, errlen, "cannot read BPF map %s: %s", bpf_map__name(map),
			 strerror(-ret));
		return -1;
	}
	for (uint32_t i = 0; i < ngone; i++) {
		ret = bpf_map__delete_elem(map, gone[i], key_size, 0);
		if (ret && ret != -ENOENT) {
			snprintf(err, errlen, "cannot update BPF map %s: %s", bpf_map__name(map),
				 strerror(-ret));
			return -1;
		}
	}
	return 0;
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct live_source *s = ctx;
	union ft_record rec;

	switch (ft_record_decode(data, size, &rec)) {
	case 1:
		s->fn(s->fn_ctx, &rec); /* a pipeline error is the caller's to see */
		break;
	case 0:
		s->probe_records++;
		break;
	default:
		s->bad_records++; /* a BPF/loader mismatch: never expected */
		break;
	}
	/* negative: libbpf keeps this record consumed and stops reading */
	return --s->budget ? 0 : -E2BIG;
}

/* The kernel's TAI offset (whole seconds, 0 until a time daemon sets it),
 * read as the two clocks' difference rounded to the second */
static int64_t tai_minus_real_ns(void)
{
	struct timespec tai, real;

	if (clock_gettime(CLOCK_TAI, &tai) || clock_gettime(CLOCK_REALTIME, &real))
		return 0;
	return (int64_t)(tai.tv_sec - real.tv_sec +
			 (tai.tv_nsec - real.tv_nsec >= 500000000L) -
			 (tai.tv_nsec - real.tv_nsec < -500000000L)) *
	       1000000000LL;
}

static int load(struct live_source *s, const struct live_opts *o, const struct btf *btf,
		bool use_btf, struct ft_run_info *info, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = o->btf_path);
	struct forktrace_bpf *skel;
	int exit_args = tracepoint_nargs(btf, "sched_process_exit");
	int oom_args = tracepoint_nargs(btf, "mark_victim");
	const char *sched_mode = use_btf ? "tp_btf" : "raw_tp";
	const char *oom_mode = "none";
	int ret;

	skel = forktrace_bpf__open_opts(&open_opts);
	if (!skel) {
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		return -1;
	}
	skel->rodata->emit_threads = o->threads;
	skel->rodata->exit_has_group_dead = exit_args >= 2;
	skel->rodata->filter_cgroup_id = o->cgroup.id;
	skel->rodata->filter_cgroup_subsys = o->cgroup.subsys;
	skel->rodata->page_kb = (uint32_t)(sysconf(_SC_PAGESIZE) / 1024);
	skel->rodata->wakeup_bytes = o->wakeup_bytes;
#ifdef FT_BENCH
	skel->rodata->noop = o->noop;
#endif
	skel->bss->tai_minus_real_ns = tai_minus_real_ns();
	ret = bpf_map__set_max_entries(skel->maps.events, o->ring_bytes);
	if (ret) {
		snprintf(err, errlen, "ring buffer size %u rejected: %s", o->ring_bytes,
			 strerror(-ret));
		goto fail;
	}

	bpf_program__set_autoload(skel->progs.fork_btf, use_btf);
	bpf_program__set_autoload(skel->progs.exec_btf, use_btf);
	bpf_program__set_autoload(skel->progs.exit_btf, use_btf);
	bpf_program__set_autoload(skel->progs.fork_raw, !use_btf);
	bpf_program__set_autoload(skel->progs.exec_raw, !use_btf);
	bpf_program__set_autoload(skel->progs.exit_raw, !use_btf);
	/* reaps (zombies): sched_process_free has had one argument, the task,
	 * for as long as BTF tracepoints exist */
	bpf_program__set_autoload(skel->progs.free_btf, use_btf);
	bpf_program__set_autoload(skel->progs.free_raw, !use_btf);
	/*
	 * Refused forks: the syscall exit tracepoints need CONFIG_FTRACE_SYSCALLS
	 * and tracefs, and an architecture has only the calls it has (arm64:
	 * no fork or vfork).  Each one found is loaded; none found, and
	 * forktrace runs without them.  None is attached here: while any
	 * syscall tracepoint is, every syscall of every task takes the
	 * kernel's slow path (docs/performance.md), so the caller decides
	 * (live_trace_refusals, --refused-forks).
	 */
	{
		static const char *const calls[FT_CALL_MAX] = {
			[FT_CALL_CLONE] = "sys_exit_clone",
			[FT_CALL_CLONE3] = "sys_exit_clone3",
			[FT_CALL_FORK] = "sys_exit_fork",
			[FT_CALL_VFORK] = "sys_exit_vfork",
		};

		s->fail_progs[FT_CALL_CLONE] = skel->progs.fail_clone;
		s->fail_progs[FT_CALL_CLONE3] = skel->progs.fail_clone3;
		s->fail_progs[FT_CALL_FORK] = skel->progs.fail_fork;
		s->fail_progs[FT_CALL_VFORK] = skel->progs.fail_vfork;
		for (int i = 0; i < FT_CALL_MAX; i++) {
			bool found = classic_tracepoint_exists("syscalls", calls[i]);

			bpf_program__set_autoload(s->fail_progs[i], found);
			bpf_program__set_autoattach(s->fail_progs[i], false);
			if (!found)
				s->fail_progs[i] = NULL;
		}
	}

	/* mark_victim: (task, uid) after 72ba14deb40a and its backports, (pid) before */
	bpf_program__set_autoload(skel->progs.oom_task_btf, use_btf && oom_args == 2);
	bpf_program__set_autoload(skel->progs.oom_pid_btf, use_btf && oom_args == 1);
	if (use_btf && oom_args == 2)
		oom_mode = "tp_btf";
	else if (use_btf && oom_args == 1)
		oom_mode = "tp_btf_pid";
	else if (classic_tracepoint_exists("oom", "mark_victim"))
		oom_mode = "tracepoint";
	bpf_program__set_autoload(skel->progs.oom_classic, !strcmp(oom_mode, "tracepoint"));

	ret = forktrace_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen, "cannot load BPF programs (%s attach): %s%s", sched_mode,
			 strerror(-ret), " (run with -v for the verifier log)");
		goto fail;
	}
	s->skel = skel;
	s->use_btf = use_btf;
	/* containment first: a fork of a flagged tree is signalled before its
	 * record is written, whatever room the ring has */
	if (o->load_containment && live_arm_containment(s, err, errlen))
		goto fail;
	ret = forktrace_bpf__attach(skel);
	if (ret) {
		snprintf(err, errlen, "cannot attach BPF programs (%s): %s", sched_mode,
			 strerror(-ret));
		goto fail;
	}
	set_mode(info, FT_HOOK_FORK, sched_mode);
	set_mode(info, FT_HOOK_EXEC, sched_mode);
	set_mode(info, FT_HOOK_EXIT,
		 exit_args >= 2 ? (use_btf ? "tp_btf+gd" : "raw_tp+gd") : sched_mode);
	set_mode(info, FT_HOOK_OOM, oom_mode);
	return 0;
fail:
	contain_bpf__destroy(s->contain);
	s->contain = NULL;
	s->contain_failed = 0;
	s->skel = NULL;
	forktrace_bpf__destroy(skel);
	return -1;
}

/* One containment map's size; -1 with the map named in err. */
static int size_map(struct bpf_map *map, uint32_t entries, char *err, size_t errlen)
{
	int ret = bpf_map__set_max_entries(map, entries);

	if (ret)
		snprintf(err, errlen, "map %s: size %u rejected: %s", bpf_map__name(map), entries,
			 strerror(-ret));
	return ret ? -1 : 0;
}

/*
 * Load and attach the containment object beside the observation one, with
 * the settings live_open kept: its records go into the observation
 * object's ring and its counters into its stats (bpf_map__reuse_fd).
 */
static int contain_load(struct live_source *s, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = s->contain_opts.btf_path);
	const struct live_opts *o = &s->contain_opts;
	struct contain_bpf *c;
	int ret;

	c = contain_bpf__open_opts(&open_opts);
	if (!c) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the containment BPF object: %s",
			 strerror(errno));
		return ret;
	}
	c->rodata->filter_cgroup_id = o->cgroup.id;
	c->rodata->filter_cgroup_subsys = o->cgroup.subsys;
	c->rodata->wakeup_bytes = o->wakeup_bytes;
	c->rodata->exit_has_group_dead = s->skel->rodata->exit_has_group_dead;
	c->rodata->guard_forks = o->guard_forks;
	c->rodata->guard_window_ns = o->guard_window_ns;
	c->rodata->guard_sig = o->guard_sig;
	ret = -EINVAL;
	if (o->members_max && size_map(c->maps.members, o->members_max, err, errlen))
		goto fail;
	/* the guard's maps are read only by its programs: one entry each
	 * without it, not the megabytes of two 65,536-entry LRU hashes */
	if (!o->guard_forks && (size_map(c->maps.guard_of, 1, err, errlen) ||
				size_map(c->maps.guard_counts, 1, err, errlen)))
		goto fail;
	if ((ret = bpf_map__reuse_fd(c->maps.events, bpf_map__fd(s->skel->maps.events))) ||
	    (ret = bpf_map__reuse_fd(c->maps.stats, bpf_map__fd(s->skel->maps.stats)))) {
		snprintf(err, errlen, "cannot share the ring with the containment object: %s",
			 strerror(-ret));
		goto fail;
	}
	bpf_program__set_autoload(c->progs.contain_fork_btf, s->use_btf);
	bpf_program__set_autoload(c->progs.contain_exit_btf, s->use_btf);
	bpf_program__set_autoload(c->progs.guard_exec_btf, s->use_btf && o->guard_forks);
	bpf_program__set_autoload(c->progs.contain_fork_raw, !s->use_btf);
	bpf_program__set_autoload(c->progs.contain_exit_raw, !s->use_btf);
	bpf_program__set_autoload(c->progs.guard_exec_raw, !s->use_btf && o->guard_forks);
	ret = contain_bpf__load(c);
	if (ret) {
		snprintf(err, errlen, "cannot load the containment BPF programs: %s%s",
			 strerror(-ret), " (run with -v for the verifier log)");
		goto fail;
	}
	/* before attach: the first signalled fork already obeys the rules */
	if (s->safety && load_safety(c, s->safety, err, errlen)) {
		ret = -EIO;
		goto fail;
	}
	ret = contain_bpf__attach(c);
	if (ret) {
		snprintf(err, errlen, "cannot attach the containment BPF programs: %s",
			 strerror(-ret));
		goto fail;
	}
	s->contain = c;
	return 0;
fail:
	contain_bpf__destroy(c);
	return ret < 0 ? ret : -EINVAL;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* May a load that failed so succeed later, the host unchanged but for load? */
static bool load_may_pass(int err)
{
	return err == -ENOMEM || err == -EAGAIN || err == -EBUSY || err == -EINTR;
}

int live_arm_containment(struct live_source *s, char *err, size_t errlen)
{
	uint64_t t0;

	if (s->contain)
		return 0;
	t0 = monotonic_ns();
	if (!s->contain_failed || (load_may_pass(s->contain_failed) && t0 >= s->contain_retry_ns)) {
		s->contain_failed = contain_load(s, s->contain_err, sizeof(s->contain_err));
		if (!s->contain_failed) {
			if (!s->opening)
				s->contain_load_ns = (int64_t)(monotonic_ns() - t0);
			return 0;
		}
		s->contain_retry_ns = monotonic_ns() + 1000000000ull;
		/* the live view shows stderr's newest line on its status line */
		if (!s->opening)
			fprintf(stderr, "forktrace: containment in the kernel unavailable: %s%s\n",
				s->contain_err,
				load_may_pass(s->contain_failed) ? " (tried again at the next action)"
								 : "; pidfd signals only");
	}
	snprintf(err, errlen, "%s", s->contain_err);
	return -1;
}

int live_set_safety(struct live_source *s, const struct live_safety_rules *r, char *err,
		    size_t errlen)
{
	struct contain_bpf *c = s->contain;
	struct live_safety_rules *was = s->safety;
	struct rule_map m[RULE_MAPS];

	if (!was)
		return 0; /* loaded (if ever) for identity checks only */
	/*
	 * The kernel spares what either set spares until the new set alone
	 * is in place: the shape of both first, then the new rules added
	 * (the maps have room for both sets), then the old ones dropped, then
	 * the new set's shape.  Never less than either set, at any moment.
	 */
	if (c && write_rule_shape(c, r, was, err, errlen))
		return -1;
	/* forktrace and its ancestors are who they were at start */
	memcpy(was->exes, r->exes, sizeof(r->exes));
	was->nexes = r->nexes;
	memcpy(was->uids, r->uids, sizeof(r->uids));
	was->nuids = r->nuids;
	memcpy(was->cgroups, r->cgroups, sizeof(r->cgroups));
	was->ncgroups = r->ncgroups;
	memcpy(was->units, r->units, sizeof(r->units));
	was->nunits = r->nunits;
	memcpy(was->v1_subsys, r->v1_subsys, sizeof(r->v1_subsys));
	if (!c)
		return 0; /* a load on demand takes the new ones */
	rule_maps(c, r, m);
	for (int i = 0; i < RULE_MAPS; i++)
		if (fill_map(m[i].map, m[i].keys, m[i].key_size, m[i].n, err, errlen))
			return -1;
	for (int i = 0; i < RULE_MAPS; i++)
		if (prune_map(m[i].map, m[i].keys, m[i].key_size, m[i].n, err, errlen))
			return -1;
	return write_rule_shape(c, r, NULL, err, errlen);
}

bool live_follows_rules(const struct live_source *s)
{
	return s->safety != NULL;
}

const char *live_containment_error(const struct live_source *s)
{
	return s->contain_failed ? s->contain_err : NULL;
}

int64_t live_containment_load_ns(const struct live_source *s)
{
	return s->contain_load_ns;
}

/* The containment object for an action's map update, loaded now if not yet;
 * NULL with -errno in *ret if it cannot be */
static struct contain_bpf *armed(struct live_source *s, int *ret)
{
	char err[256];

	if (live_arm_containment(s, err, sizeof(err)) == 0)
		return s->contain;
	*ret = s->contain_failed;
	return NULL;
}

int live_open(const struct live_opts *o, struct live_source **out, struct ft_run_info *info,
	      char *err, size_t errlen)
{
	struct live_source *s = NULL;
	struct btf *btf = NULL;
	struct utsname uts;
	struct timespec rt;
	char first_err[256] = "";
	bool try_btf, try_raw;

#ifndef FT_BENCH
	if (o->noop) {
		snprintf(err, errlen,
			 "--noop is in the benchmark build only (make build/forktrace-bench)");
		return -1;
	}
#endif
	if (!privs_can_load_bpf()) {
		snprintf(
		    err, errlen,
		    "need root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) to load BPF programs");
		return -1;
	}
	if (o->btf_path)
		btf = btf__parse(o->btf_path, NULL);
	else
		btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(err, errlen,
			 "kernel BTF not available (%s): CO-RE needs CONFIG_DEBUG_INFO_BTF",
			 o->btf_path ? o->btf_path : "/sys/kernel/btf/vmlinux");
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s || (o->safety && !(s->safety = malloc(sizeof(*s->safety))))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->contain_load_ns = -1;
	s->opening = true;
	s->contain_opts = *o;
	s->contain_opts.safety = NULL; /* s->safety, the copy, is the one used */
	if (o->safety)
		*s->safety = *o->safety;
	memset(info, 0, sizeof(*info));
	/*
	 * tp_btf needs the kernel to know the tracepoint's prototype
	 * (btf_trace_* typedefs, 5.5+); raw_tp reads the same arguments
	 * untyped and works from 4.17.
	 */
	try_btf =
	    o->attach != LIVE_ATTACH_RAW_TP && tracepoint_nargs(btf, "sched_process_fork") == 2;
	try_raw = o->attach != LIVE_ATTACH_TP_BTF;
	if (o->attach == LIVE_ATTACH_TP_BTF && !try_btf) {
		snprintf(err, errlen,
			 "--attach tp_btf: this kernel's BTF has no tracepoint prototypes");
		goto fail;
	}
	if (try_btf && load(s, o, btf, true, info, first_err, sizeof(first_err)) == 0)
		goto loaded;
	if (try_raw && load(s, o, btf, false, info, err, errlen) == 0)
		goto loaded;
	if (first_err[0] && !try_raw)
		snprintf(err, errlen, "%s", first_err);
	goto fail;
loaded:
	s->opening = false;
	s->ncpus = libbpf_num_possible_cpus();
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_ring_record, s, NULL);
	if (!s->rb || s->ncpus <= 0) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (uname(&uts) == 0) {
		snprintf(info->kernel, sizeof(info->kernel), "%s", uts.release);
		snprintf(info->host, sizeof(info->host), "%s", uts.nodename);
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	info->start_ns = procfs_boot_ns();
	info->realtime_offset_ns =
	    (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec - info->start_ns;
	info->ring_bytes = o->ring_bytes;
	info->page_kb = (uint32_t)(sysconf(_SC_PAGESIZE) / 1024);
	btf__free(btf);
	*out = s;
	return 0;
fail:
	btf__free(btf);
	live_close(s);
	return -1;
}

int live_poll(struct live_source *s, int timeout_ms, ft_record_fn fn, void *ctx)
{
	int n = 0, m;

	s->fn = fn;
	s->fn_ctx = ctx;
	s->budget = LIVE_POLL_RECORDS;
	s->skel->bss->tai_minus_real_ns = tai_minus_real_ns();
	if (timeout_ms)
		n = ring_buffer__poll(s->rb, timeout_ms);
	if (n == -E2BIG)
		return LIVE_POLL_RECORDS;
	if (n < 0)
		return n;
	/*
	 * Records submitted with BPF_RB_NO_WAKEUP never make epoll report the
	 * ring ready, and ring_buffer__poll consumes only rings it reports:
	 * consume explicitly, or a trickle below the wakeup threshold would
	 * wait for the next burst (in a bomb stuck at its pids cap: forever).
	 */
	m = ring_buffer__consume(s->rb);
	if (m == -E2BIG)
		return LIVE_POLL_RECORDS;
	return m < 0 ? m : n + m;
}

int live_trace_refusals(struct live_source *s, bool on)
{
	int attached = 0;

	for (int i = 0; i < FT_CALL_MAX; i++) {
		if (!s->fail_progs[i])
			continue;
		if (on && !s->fail_links[i]) {
			struct bpf_link *l = bpf_program__attach(s->fail_progs[i]);

			if (!l)
				return -1;
			s->fail_links[i] = l;
		} else if (!on && s->fail_links[i]) {
			bpf_link__destroy(s->fail_links[i]);
			s->fail_links[i] = NULL;
		}
		attached += s->fail_links[i] != NULL;
	}
	return attached;
}

int live_read_stats(struct live_source *s, uint64_t stats[FT_STAT_MAX])
{
	uint64_t *percpu = calloc((size_t)s->ncpus, sizeof(*percpu));
	int fd = bpf_map__fd(s->skel->maps.stats);

	if (!percpu)
		return -ENOMEM;
	for (uint32_t slot = 0; slot < FT_STAT_MAX; slot++) {
		stats[slot] = 0;
		if (bpf_map_lookup_elem(fd, &slot, percpu))
			continue;
		for (int cpu = 0; cpu < s->ncpus; cpu++)
			stats[slot] += percpu[cpu];
	}
	free(percpu);
	return 0;
}

int live_probe_maps(void *ctx)
{
	struct live_source *s = ctx;
	uint32_t slot = 0;
	uint64_t *percpu = calloc((size_t)s->ncpus, sizeof(*percpu));
	int ret;

	if (!percpu)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stats), &slot, percpu) ? -errno : 0;
	free(percpu);
	return ret;
}

int live_add_member(struct live_source *s, uint32_t tgid, uint64_t start_ticks, uint32_t tree)
{
	struct ft_member_key k = { .tgid = tgid, .start_ticks = start_ticks };
	struct contain_bpf *c;
	int ret = 0;

	if (!(c = armed(s, &ret)))
		return ret;
	/* tree 0 marks a process user space spares (member_by_ancestry) */
	return bpf_map__update_elem(c->maps.members, &k, sizeof(k), &tree, sizeof(tree), BPF_ANY);
}

/* Drop a tree's members from the kernel map (its action is over). */
static int forget_members(struct contain_bpf *c, uint32_t tree)
{
	int fd = bpf_map__fd(c->maps.members);
	struct ft_member_key prev, next;
	bool have_prev = false;
	/* the kernel changes the map meanwhile (a key gone restarts the walk) */
	uint64_t budget = 4ull * bpf_map__max_entries(c->maps.members);
	uint32_t v;
	int ret = 0;

	/* deleting next leaves prev's successor to be the one after it */
	while (budget-- && !bpf_map_get_next_key(fd, have_prev ? &prev : NULL, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v) && v == tree) {
			if (bpf_map_delete_elem(fd, &next) && errno != ENOENT) {
				ret = -errno;
				prev = next;
				have_prev = true;
			}
			continue;
		}
		prev = next;
		have_prev = true;
	}
	return ret;
}

int live_set_tree_signal(struct live_source *s, uint32_t tree, uint32_t sig)
{
	struct ft_tree_policy pol = { .sig = sig };
	struct contain_bpf *c;
	int fd, ret = 0, forgot = 0;
	uint32_t any = 0;

	/* an action ending where none could begin has nothing to undo */
	if (!sig && !s->contain)
		return 0;
	if (!(c = armed(s, &ret)))
		return ret;
	fd = bpf_map__fd(c->maps.trees);
	/* the signal first: a tree without one spreads no membership, so the
	 * walk that deletes its members cannot be outrun */
	ret = bpf_map__update_elem(c->maps.trees, &tree, sizeof(tree), &pol, sizeof(pol),
				   BPF_ANY);
	if (!sig)
		forgot = forget_members(c, tree);
	/* member_by_ancestry's walk only while some tree has a signal */
	for (uint32_t i = 1; i < FT_MAX_TREES && !any; i++)
		if (!bpf_map_lookup_elem(fd, &i, &pol) && pol.sig)
			any = 1;
	c->bss->trees_flagged = any;
	return ret ? ret : forgot;
}

void live_close(struct live_source *s)
{
	if (s)
		live_trace_refusals(s, false);
	if (!s)
		return;
	if (s->bad_records) /* a BPF object and loader out of step: never expected */
		fprintf(stderr, "forktrace: %llu malformed ring buffer records skipped\n",
			(unsigned long long)s->bad_records);
	if (s->probe_records) /* the benchmarks read this */
		fprintf(stderr, "forktrace: --noop=record: %llu probe records read\n",
			(unsigned long long)s->probe_records);
	ring_buffer__free(s->rb);
	contain_bpf__destroy(s->contain);
	forktrace_bpf__destroy(s->skel);
	free(s->safety);
	free(s);
}
