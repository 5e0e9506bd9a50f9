/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Policy and actions: what to do about a verdict (--kill, --stop,
 * --dry-run, --allow), and doing it safely: in the kernel for new forks,
 * with pidfds for the members already running, repeated until the tree is
 * empty or stopped.
 */
#ifndef FT_POLICY_H
#define FT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/container.h"
#include "core/detector.h"
#include "core/proctable.h"
#include "live/source_live.h"

enum policy_mode { POLICY_OBSERVE, POLICY_KILL, POLICY_STOP };

#define POLICY_MAX_ALLOW 64

/*
 * What an allow rule matches.  All but comm are facts a process cannot
 * change about itself without privilege; comm is set by prctl(PR_SET_NAME)
 * and is an explicit opt-in only.
 */
enum allow_kind {
	ALLOW_EXE,
	ALLOW_CGROUP,
	ALLOW_UNIT,
	ALLOW_UID,
	ALLOW_COMM,
	ALLOW_NAMESPACE, /* a Kubernetes namespace (from the bundle's annotations) */
	ALLOW_POD,	 /* NAMESPACE/NAME */
};

struct allow_rule {
	enum allow_kind kind;
	char value[240]; /* as given, for reports */
	/* exe: the resolved path /proc/PID/exe must show, and the file's
	 * identity when the rule was parsed (a copy or a replacement differs);
	 * kdev is dev in the kernel's encoding (struct ft_exe_key) */
	char path[240];
	uint64_t dev, ino;
	uint32_t kdev;
	uint32_t uid;
};

struct policy_opts {
	enum policy_mode mode;
	/* exe: rules name files as the node sees them: paths are resolved
	 * under this directory ("" or "/": forktrace's own root), as the agent
	 * in a container sees the node's root at --host-root */
	char host_root[240];
	bool dry_run;
	uint32_t act_on; /* bit per enum det_pattern */
	struct allow_rule allow[POLICY_MAX_ALLOW];
	uint32_t nallow;
	uint64_t give_up_ns; /* stop sweeping a tree after this long */
	/* a spawn_storm is acted on only when its pace reaches a limit
	 * within this (policy_storm_due) */
	uint64_t storm_horizon_ns;
};

/* How actions reach processes: live, BPF maps and pidfds; in tests, fakes. */
struct policy_ops {
	int (*flag_tree)(void *ctx, uint32_t tree, uint32_t sig);
	int (*add_member)(void *ctx, uint32_t tgid, uint64_t start_ticks, uint32_t tree);
	/* 0 signalled; -ESRCH gone, or the pid now names another process */
	int (*signal)(void *ctx, uint32_t pid, uint64_t start_ticks, int sig);
	/* state letter from /proc/<pid>/stat, 0 if gone or reused */
	char (*state)(void *ctx, uint32_t pid, uint64_t start_ticks);
	bool (*in_cgroup)(void *ctx, uint32_t pid, const char *path_prefix);
	/* /proc/<pid>/exe: resolved path and (st_dev, st_ino); 0, or -errno if
	 * it cannot be read or the pid now names another process */
	int (*exe)(void *ctx, uint32_t pid, uint64_t start_ticks, char *path, size_t len,
		   uint64_t *dev, uint64_t *ino);
	/* is a cgroup on the process's path named unit (e.g. sshd.service)? */
	bool (*in_unit)(void *ctx, uint32_t pid, const char *unit);
	void *ctx;
};

/* REFUSED: an act-on verdict that cannot be acted on (no tree id, no root) */
/* RESUME: the operator continued a stopped tree */
/* UNDECIDED: a member whose executable could not be learnt, so whether an
 * exe: rule spares it is unknown: not signalled by pidfd, said once */
/* STATE: an action moved on after its first ending (docs/containment.md):
 * re-armed, stopping again, emptied at last */
enum outcome_kind {
	OUTCOME_SIGNAL,
	OUTCOME_ACTION,
	OUTCOME_EXEMPT,
	OUTCOME_DRY_RUN,
	OUTCOME_REFUSED,
	OUTCOME_RESUME,
	OUTCOME_UNDECIDED,
	OUTCOME_STATE,
};

/*
 * The life of an action on a flagged tree (docs/containment.md).  The
 * kernel keeps stopping the tree's forks in every state but the ended
 * ones; only those clear its signal.
 *  SIGNALLING: sweeping members with pidfds until the tree is empty
 *    (kill) or all stopped (stop), or the give-up time passes;
 *  HELD: a stop that froze every member; a member found running again
 *    (kill -CONT from outside) sends it back to SIGNALLING;
 *  GAVE_UP: members remain that could not be signalled; the tree growing
 *    again (a new member) re-arms it: back to SIGNALLING;
 *  EMPTIED: no live member left (ended);
 *  RESUMED: the operator continued a held tree (ended);
 *  SUPERSEDED: a kill replaced a stop (ended).
 */
enum action_state {
	ACTION_NONE,
	ACTION_SIGNALLING,
	ACTION_HELD,
	ACTION_GAVE_UP,
	ACTION_EMPTIED,
	ACTION_RESUMED,
	ACTION_SUPERSEDED,
};

/* What a sweep found, for action_next. */
struct action_obs {
	bool stop;	    /* the action's signal is SIGSTOP */
	uint32_t live;	    /* live members it may signal (the spared are not counted) */
	uint32_t stopped;   /* of those, in state T */
	bool grew;	    /* a member appeared since the last sweep */
	bool past_deadline; /* give_up_ns since SIGNALLING began */
	/* its members come from outside its tree (a spawn_storm's parent
	 * keeps starting jobs): empty is no end, the detector's alert end is */
	bool lasting;
};

/* The next state: a pure function, unit-tested on its own. */
enum action_state action_next(enum action_state s, const struct action_obs *o);
bool action_ended(enum action_state s);
const char *action_state_name(enum action_state s);

struct policy_outcome {
	enum outcome_kind kind;
	uint64_t ts_ns;
	const char *action; /* "kill", "stop" or "resume" */
	bool by_operator;   /* asked for in the live view (policy_operator) */
	uint32_t root;
	uint64_t root_start_ns;
	const char *root_comm;
	uint32_t tree;	 /* flagged-tree id, as in the kernel's action records */
	uint64_t cgroup; /* the signalled process's (signal), else the root's */
	/* signal */
	uint32_t pid;
	const char *comm;
	int sig, result;
	/* action done */
	uint32_t signalled, remaining;
	double ms;		  /* verdict to empty (kill) or all stopped (stop) */
	bool complete;		  /* false: gave up */
	const char *why;	  /* exempt, refused: the reason; stop: how to resume */
	uint32_t policy_failures; /* kernel map updates that failed for this tree */
	/* dry run */
	const uint32_t *pids;
	uint32_t npids;
	/* action, state: where the action is now (action_state_name) */
	const char *state;
};

typedef void (*policy_outcome_fn)(void *ctx, const struct policy_outcome *r);

struct policy;

void policy_defaults(struct policy_opts *o);
/* The same with exe: rules (the defaults and those added later) resolved
 * under host_root (--host-root: the node's root seen from a container). */
void policy_defaults_at(struct policy_opts *o, const char *host_root);
/* "exe:PATH", "cgroup:PATH", "unit:NAME", "uid:N", "comm:NAME",
 * "namespace:NS" or "pod:NS/NAME"; -1 with a one-line reason in err */
int policy_add_allow(struct policy_opts *o, const char *spec, char *err, size_t errlen);
/*
 * A --config line (config_load; ctx: the struct policy_opts): "allow =
 * RULE" is taken (0) or bad (-1, why); 1: another module's line.
 */
int policy_config_line(void *ctx, const char *line, char *why, size_t whylen);
/* "exe" for ALLOW_EXE, ... */
const char *policy_allow_kind_name(enum allow_kind k);
/* "kind:value", as given; with_file: an exe: rule's file as read, when it
 * is another path ("exe:/sbin/init (/usr/lib/systemd/systemd)") */
void policy_allow_describe(const struct allow_rule *r, bool with_file, char *buf, size_t len);
/* forktrace's own ancestors (and itself), by identity; returns how many */
uint32_t policy_ancestors(struct pt_key *out, uint32_t max);
/* "fork_bomb,nested_pool,..."; -1 with a reason in err */
int policy_set_act_on(struct policy_opts *o, const char *list, char *err, size_t errlen);

struct policy *policy_new(const struct policy_opts *o, const struct policy_ops *ops,
			  uint32_t table_capacity);
void policy_free(struct policy *p);
/* New allow rules (SIGHUP): the next sweep and verdict use them. */
void policy_set_allow(struct policy *p, const struct policy_opts *o);
/* The allow rules in force (the policy owns them): how many, in *rules. */
uint32_t policy_allow_rules(const struct policy *p, const struct allow_rule **rules);
/* Where processes run, for namespace: and pod: rules (by cgroup id). */
void policy_set_containers(struct policy *p, struct ct_cache *containers);

/*
 * Is a spawn_storm verdict one to act on?  Only toward a limit: its
 * nearest limit (pids.max, RLIMIT_NPROC, pid_max) is reached within
 * horizon_ns at its measured pace, and within its next two doublings (the
 * room left is at most three times its jobs).  A burst of that size with
 * room for twice as many again (xargs -P, a test runner's workers, a
 * service's requests) is named, never stopped; without a limit reading or
 * a pace (a replay, a burst too short to measure) nothing is acted on.
 */
bool policy_storm_due(const struct det_verdict *v, uint64_t horizon_ns);

void policy_on_verdict(struct policy *p, const struct proctable *t, struct detector *d,
		       const struct det_verdict *v, policy_outcome_fn fn, void *ctx);
/*
 * The operator's kill or stop of the flagged tree rooted at (pid, start_ns)
 * (the detector gives unflagged trees an id first: det_flag_tree): the same
 * safety rules as a verdict's, whatever --kill/--stop say.
 */
void policy_operator(struct policy *p, const struct proctable *t, struct detector *d, uint32_t pid,
		     uint64_t start_ns, enum policy_mode mode, uint64_t now, policy_outcome_fn fn,
		     void *ctx);
/* SIGCONT to the tree's stopped members (those a stop could have frozen). */
void policy_resume(struct policy *p, const struct proctable *t, struct detector *d, uint32_t pid,
		   uint64_t start_ns, uint64_t now, policy_outcome_fn fn, void *ctx);
/* Sweep trees being acted on; call after each batch of records. */
void policy_tick(struct policy *p, const struct proctable *t, struct detector *d, uint64_t now,
		 policy_outcome_fn fn, void *ctx);
bool policy_busy(const struct policy *p);
/* Is an action at work on the detector's alert (ctx: the struct policy)?  det_set_pinned's
 * question: such an alert is never retired to make room. */
bool policy_holds(void *ctx, uint32_t alert);
/* Kernel map updates (add_member, flag_tree) that failed, over the run. */
uint64_t policy_failures(const struct policy *p);

/*
 * The allow rules and the protected identities (forktrace and its
 * ancestors) in the kernel's terms, for the programs' own checks before
 * a signal at fork (bpf/forktrace.bpf.c, may_signal_task).  One owner:
 * the rules are parsed and translated here and nowhere else.
 */

/* Translate; what the kernel cannot check is said on stderr. */
void policy_kernel_rules(const struct policy_opts *po, struct live_safety_rules *out);

/* The live signal primitive: pidfd_open, check the start time, signal. */
int policy_signal_pidfd(uint32_t pid, uint64_t start_ticks, int sig);
/* The live state probe: /proc/<pid>/stat state if the start time matches. */
char policy_proc_state(uint32_t pid, uint64_t start_ticks);
bool policy_proc_in_cgroup(uint32_t pid, const char *path_prefix);
int policy_proc_exe(uint32_t pid, uint64_t start_ticks, char *path, size_t len, uint64_t *dev,
		    uint64_t *ino);
bool policy_proc_in_unit(uint32_t pid, const char *unit);
/* Is unit a system unit on cgroup path cg (every component above it a
 * slice; nothing below a user@.service or another unit matches)? */
bool policy_unit_in_path(const char *cg, const char *unit);

#endif /* FT_POLICY_H */
