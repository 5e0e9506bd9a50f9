// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "present/json.h"
#include "present/output_int.h"
#include "core/container.h"

#define TREE_MAX_DEPTH 256

struct output *output_new(FILE *f, enum out_format fmt, const struct ft_run_info *info)
{
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->f = f;
	o->fmt = fmt;
	o->info = *info;
	return o;
}

void output_free(struct output *o)
{
	free(o);
}

void output_set_verbose(struct output *o, bool verbose)
{
	o->verbose = verbose;
}

void output_set_signal_lines(struct output *o, bool on)
{
	o->signal_lines_off = !on;
}

void output_set_containers(struct output *o, struct ct_cache *containers)
{
	o->containers = containers;
}

void output_flush(struct output *o)
{
	fflush(o->f);
}

/* Stream timestamps are CLOCK_BOOTTIME; outputs speak wall-clock time. */
static uint64_t wall_ns(const struct output *o, uint64_t boot_ns)
{
	return boot_ns + o->info.realtime_offset_ns;
}

const char *out_hhmmss(const struct output *o, uint64_t boot_ns, char *buf, size_t len)
{
	uint64_t ns = wall_ns(o, boot_ns);
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns / 1000000ull % 1000));
	return buf;
}

const char *out_signal_name(int sig)
{
	const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

	return abbrev ? abbrev : "?";
}

/* "EAGAIN" for -EAGAIN; "?" for what glibc does not name */
const char *out_errno_name(int32_t err)
{
	const char *name = err < 0 ? strerrorname_np(-err) : NULL;

	return name ? name : "?";
}

/* Printable copy of an untrusted string for human output. */
const char *out_printable(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* JSON: where the cgroup is and, in a container, which (docs/json.md) */
void out_json_attribution(struct output *o, struct json_line *j, uint64_t cgroup_id)
{
	const struct ft_container *c = ct_cache_get(o->containers, cgroup_id);

	json_u64(j, "cgroup", cgroup_id);
	if (!c)
		return;
	if (c->flags & FT_CT_PATH)
		json_str(j, "cgroup_path", c->cgroup);
	if (!c->runtime)
		return;
	json_str(j, "container_id", c->id);
	json_str(j, "runtime", ct_runtime_name(c->runtime));
	if (c->flags & FT_CT_ANNOTATED) {
		json_str(j, "namespace", c->ns);
		json_str(j, "pod", c->pod);
		json_str(j, "container", c->name);
	}
	if (c->pod_uid[0])
		json_str(j, "pod_uid", c->pod_uid);
}

/* Human: " [namespace/pod/container]", or " [container 0123456789ab]" */
const char *out_human_attribution(struct output *o, uint64_t cgroup_id, char *buf, size_t len)
{
	const struct ft_container *c = ct_cache_get(o->containers, cgroup_id);
	char text[FT_CT_NS_LEN + FT_CT_POD_LEN + FT_CT_NAME_LEN + 4];

	buf[0] = '\0';
	ct_label(c, CT_LABEL_FULL, text, sizeof(text));
	if (!text[0])
		return buf;
	buf[0] = ' ';
	buf[1] = '[';
	out_printable(text, sizeof(text), buf + 2, len - 3);
	strcat(buf, "]");
	return buf;
}

void out_json_header(struct output *o, struct json_line *j, const char *event, uint64_t ts,
			uint32_t pid, const char *comm)
{
	json_begin(j, o->f);
	json_str(j, "event", event);
	json_u64(j, "ts", wall_ns(o, ts));
	json_u64(j, "pid", pid);
	json_strn(j, "comm", comm, FT_COMM_LEN);
}

void output_start(struct output *o, const char *source, uint32_t self_pid)
{
	static const char *const hooks[FT_HOOK_MAX] = { "fork", "exec", "exit", "oom" };
	struct json_line j;

	if (o->fmt == OUT_HUMAN) {
		fprintf(o->f, "%-12s %-7s %7s %7s %-16s %s\n", "TIME", "EVENT", "PID", "PPID",
			"COMM", "DETAILS");
		fflush(o->f);
		return;
	}
	out_json_header(o, &j, "start", o->info.start_ns, self_pid, "forktrace");
	json_str(&j, "version", FORKTRACE_VERSION);
	json_str(&j, "source", source);
	json_str(&j, "kernel", o->info.kernel);
	json_nest(&j, "attach");
	for (int i = 0; i < FT_HOOK_MAX; i++)
		json_str(&j, hooks[i], o->info.attach[i]);
	json_nest_end(&j);
	json_u64(&j, "ring_buffer_bytes", o->info.ring_bytes);
	json_end(&j);
	fflush(o->f);
}

void output_record(struct output *o, const union ft_record *rec, const struct proctable *t,
		   int32_t slot, const struct det_oom_tree *oom)
{
	const struct pt_entry *e = slot == PT_NONE ? NULL : pt_get(t, slot);

	if (rec->h.type == FT_EV_ACTION && rec->action.tree < FT_MAX_TREES &&
	    rec->action.child_ret == 0)
		o->kernel_signalled[rec->action.tree]++;
	/* a bomb's kill is hundreds of signals: a tree's ACTION line sums them
	 * (JSON has each, unless output_set_verbose said one per tree) */
	if (rec->h.type == FT_EV_ACTION && !o->verbose &&
	    (o->fmt == OUT_HUMAN || o->signal_lines_off))
		return;
	out_record_line(o, rec, e, oom);
}

static void human_gen_list(FILE *f, const char *label, const uint32_t *v, uint32_t n)
{
	fprintf(f, "%-45s %s:", "", label);
	for (uint32_t g = 0; g < n; g++)
		fprintf(f, " %u", v[g]);
	fputc('\n', f);
}

/* " in 41 s" for a limit's time left (reuses buf) */
static const char *seconds_text(double s, char *buf, size_t len)
{
	if (s < 1)
		snprintf(buf, len, " now");
	else
		snprintf(buf, len, " in %.0f s at this pace", s);
	return buf;
}

static void human_verdict(struct output *o, const struct det_verdict *v, uint64_t cgroup_id)
{
	char where[(FT_CT_NS_LEN + FT_CT_POD_LEN + FT_CT_NAME_LEN) * 4 + 8];
	char when[32], comm[FT_COMM_LEN * 4 + 1], exe[FT_FILENAME_LEN * 4 + 1];
	char cmd[FT_ARGS_LEN * 4 + 1], left[48];
	const char *sev = det_severity(v->pattern);

	out_hhmmss(o, v->ts_ns, when, sizeof(when));
	out_printable(v->root_comm, FT_COMM_LEN, comm, sizeof(comm));
	switch (v->kind) {
	case DET_FINDING:
		fprintf(o->f, "%-12s %-7s %7u %7s %-16s finding %s: %s\n", when, "FINDING", v->root,
			"-", comm, det_pattern_name(v->pattern), v->evidence);
		return;
	case DET_ALERT_END:
		fprintf(o->f,
			"%-12s %-7s %7u %7s %-16s %s tree is empty: peak %u tasks, "
			"%.0f ms after the alert\n",
			when, "ENDED", v->root, "-", comm, det_pattern_name(v->pattern),
			v->peak_tasks, (double)v->duration_ns / 1e6);
		return;
	default:
		break;
	}
	fprintf(o->f, "%-12s %-7s %7u %7s %-16s !!! %s %s (%s)", when,
		v->kind == DET_ALERT ? "ALERT" : "UPDATE", v->root, "-", comm,
		det_pattern_name(v->pattern), v->kind == DET_ALERT ? "detected" : "growing", sev);
	if (v->pattern == DET_THREAD_EXPLOSION)
		fprintf(o->f, ": %u threads\n", v->threads);
	else if (v->pattern == DET_RESTART_LOOP)
		fprintf(o->f, ": %u restarts, %.1f/s\n", v->restarts, v->births_per_s);
	else if (v->pattern == DET_ZOMBIE_LEAK || v->pattern == DET_PROCESS_LEAK ||
		 v->pattern == DET_SPAWN_STORM)
		fprintf(o->f, ": %u %s, %.0f more a minute%s%s%s\n", v->leaked,
			v->pattern == DET_ZOMBIE_LEAK	? "zombies"
			: v->pattern == DET_SPAWN_STORM ? "jobs (it is spared)"
							: "idle children",
			v->per_minute,
			v->limit_name ? ": " : "", v->limit_name ? v->limit_name : "",
			v->limit_name ? seconds_text(v->limit_seconds, left, sizeof(left)) : "");
	else if (v->pattern == DET_FORKS_REFUSED && v->pids_events_read)
		fprintf(o->f, ": %llu forks refused (%s); pids.events: %llu by pids.max%s\n",
			(unsigned long long)v->refused, out_errno_name(v->err),
			(unsigned long long)v->pids_events_max,
			v->pids_events_max ? "" : ", another limit");
	else if (v->pattern == DET_FORKS_REFUSED)
		fprintf(o->f, ": %llu forks refused (%s)\n", (unsigned long long)v->refused,
			out_errno_name(v->err));
	else
		fprintf(
		    o->f,
		    ": %u tasks in %u generations, %.0f births/s, doubling every %.1f s%s%s%s\n",
		    v->tasks, v->generations, v->births_per_s, v->doubling_ms / 1e3,
		    v->limit_name ? ": " : "", v->limit_name ? v->limit_name : "",
		    v->limit_name ? seconds_text(v->limit_seconds, left, sizeof(left)) : "");
	out_printable(v->root_exe, FT_FILENAME_LEN, exe, sizeof(exe));
	out_printable(v->cmdline, FT_ARGS_LEN, cmd, sizeof(cmd));
	fprintf(o->f, "%-45s root %u: %s%s%s\n", "", v->root, exe[0] ? exe : comm,
		cmd[0] ? "  cmdline: " : "", cmd);
	if (out_human_attribution(o, cgroup_id, where, sizeof(where))[0])
		fprintf(o->f, "%-45s in%s\n", "", where);
	if (v->launcher) {
		out_printable(v->launcher_comm, FT_COMM_LEN, comm, sizeof(comm));
		out_printable(v->launcher_cmdline, FT_ARGS_LEN, cmd, sizeof(cmd));
		fprintf(o->f, "%-45s launched by %u (%s)%s%s\n", "", v->launcher, comm,
			cmd[0] ? ": " : "", cmd);
	}
	if (v->ngen) {
		human_gen_list(o->f, "live per generation", v->live_per_gen, v->ngen);
		human_gen_list(o->f, "forkers per generation", v->forkers_per_gen, v->ngen);
	}
	fprintf(o->f, "%-45s evidence: %s\n", "", v->evidence);
}

/* the nearest host limit at the verdict's pace, when the pipeline found one */
static void json_limit(struct json_line *j, const struct det_verdict *v)
{
	if (!v->limit_name)
		return;
	json_str(j, "limit", v->limit_name);
	json_u64(j, "limit_value", v->limit_value);
	json_f64(j, "limit_seconds", v->limit_seconds);
}

static void json_verdict(struct output *o, const struct det_verdict *v, uint64_t cgroup_id)
{
	static const char *const kinds[] = { "alert", "alert", "alert_end", "finding" };
	struct json_line j;

	out_json_header(o, &j, kinds[v->kind], v->ts_ns, v->root, v->root_comm);
	json_str(&j, "pattern", det_pattern_name(v->pattern));
	json_str(&j, "severity", det_severity(v->pattern));
	json_u64(&j, "root", v->root);
	json_strn(&j, "root_comm", v->root_comm, FT_COMM_LEN);
	json_strn(&j, "root_exe", v->root_exe, FT_FILENAME_LEN);
	json_u64(&j, "root_start_ns", v->root_start_ns);
	if (v->cmdline[0])
		json_strn(&j, "cmdline", v->cmdline, FT_ARGS_LEN);
	if (v->kind != DET_ALERT_END && v->launcher) {
		json_u64(&j, "launcher", v->launcher);
		json_strn(&j, "launcher_comm", v->launcher_comm, FT_COMM_LEN);
		json_strn(&j, "launcher_cmdline", v->launcher_cmdline, FT_ARGS_LEN);
	}
	if (v->tree)
		json_u64(&j, "tree", v->tree);
	if (v->kind != DET_FINDING)
		json_u64(&j, "seq", v->seq);
	else
		json_bool(&j, "update", v->seq > 1);
	if (v->kind == DET_ALERT || v->kind == DET_ALERT_UPDATE)
		json_bool(&j, "update", v->kind == DET_ALERT_UPDATE);
	switch (v->pattern) {
	case DET_FORK_WHILE_THREADED:
		json_u64(&j, "parent_threads", v->threads);
		json_u64(&j, "child", v->child);
		json_u64(&j, "count", v->count);
		break;
	case DET_THREAD_EXPLOSION:
		json_u64(&j, "threads", v->threads);
		json_f64(&j, "doubling_ms", v->doubling_ms);
		break;
	case DET_RESTART_LOOP:
		json_u64(&j, "restarts", v->restarts);
		json_f64(&j, "restarts_per_s", v->births_per_s);
		json_u64(&j, "child", v->child);
		break;
	case DET_SPAWN_STORM: /* its jobs are counted as a leak's children */
	case DET_ZOMBIE_LEAK:
	case DET_PROCESS_LEAK:
		if (v->pattern == DET_SPAWN_STORM && v->doubling_ms > 0)
			json_f64(&j, "doubling_ms", v->doubling_ms);
		json_u64(&j, v->pattern == DET_ZOMBIE_LEAK ? "zombies" : "children", v->leaked);
		json_f64(&j, "per_minute", v->per_minute);
		json_u64(&j, "child", v->child);
		json_limit(&j, v);
		break;
	case DET_FORKS_REFUSED:
		json_str(&j, "errno", out_errno_name(v->err));
		json_u64(&j, "refused", v->refused);
		json_u64(&j, "caller", v->child);
		if (v->pids_events_read)
			json_u64(&j, "pids_events_max", v->pids_events_max);
		if (v->culprit) {
			json_nest(&j, "culprit");
			json_u64(&j, "root", v->culprit);
			json_strn(&j, "root_comm", v->culprit_comm, FT_COMM_LEN);
			json_u64(&j, "tree", v->culprit_tree);
			json_u64(&j, "tasks", v->culprit_tasks);
			json_nest_end(&j);
		}
		break;
	default:
		if (v->kind == DET_ALERT_END) {
			json_u64(&j, "peak_tasks", v->peak_tasks);
			json_f64(&j, "duration_ms", (double)v->duration_ns / 1e6);
			break;
		}
		json_u64(&j, "tasks", v->tasks);
		json_u64(&j, "peak_tasks", v->peak_tasks);
		json_u64(&j, "generations", v->generations);
		json_f64(&j, "births_per_s", v->births_per_s);
		if (v->doubling_ms >= 0)
			json_f64(&j, "doubling_ms", v->doubling_ms);
		else
			json_null_field(&j, "doubling_ms");
		json_u32_array(&j, "live_per_generation", v->live_per_gen, v->ngen);
		json_u32_array(&j, "forkers_per_generation", v->forkers_per_gen, v->ngen);
		json_limit(&j, v);
	}
	json_str(&j, "evidence", v->evidence);
	if (v->by_operator)
		json_bool(&j, "operator", true);
	if (cgroup_id)
		out_json_attribution(o, &j, cgroup_id);
	json_end(&j);
}

static void json_policy(struct output *o, const struct policy_outcome *r)
{
	struct json_line j;

	bool member = r->kind == OUTCOME_SIGNAL || r->kind == OUTCOME_UNDECIDED;

	out_json_header(o, &j,
		    r->kind == OUTCOME_SIGNAL	  ? "signal"
		    : r->kind == OUTCOME_UNDECIDED ? "undecided"
		    : r->kind == OUTCOME_STATE	  ? "action_state"
						  : "action",
		    r->ts_ns, member ? r->pid : r->root, member ? r->comm : r->root_comm);
	json_str(&j, "action", r->action);
	json_u64(&j, "root", r->root);
	switch (r->kind) {
	case OUTCOME_SIGNAL:
		json_str(&j, "via", "pidfd");
		json_i64(&j, "signal", r->sig);
		json_i64(&j, "result", r->result);
		break;
	case OUTCOME_UNDECIDED:
		json_u64(&j, "tree", r->tree);
		json_str(&j, "reason", r->why);
		break;
	case OUTCOME_STATE:
	case OUTCOME_ACTION:
		json_u64(&j, "tree", r->tree);
		if (r->state)
			json_str(&j, "state", r->state);
		json_u64(&j, "signalled", r->signalled);
		json_u64(&j, "kernel_signalled",
			 r->tree < FT_MAX_TREES ? o->kernel_signalled[r->tree] : 0);
		json_f64(&j, "ms", r->ms);
		json_bool(&j, "complete", r->complete);
		if (!r->complete)
			json_u64(&j, "remaining", r->remaining);
		json_u64(&j, "policy_failures", r->policy_failures);
		if (r->why)
			json_str(&j, "note", r->why);
		break;
	case OUTCOME_EXEMPT:
		json_bool(&j, "exempt", true);
		json_str(&j, "reason", r->why);
		break;
	case OUTCOME_REFUSED:
		json_bool(&j, "refused", true);
		json_str(&j, "reason", r->why);
		break;
	case OUTCOME_DRY_RUN:
		json_bool(&j, "dry_run", true);
		/* a replay knows how many, not which (the pids are not recorded) */
		json_u32_array(&j, "would_signal", r->pids, r->pids ? r->npids : 0);
		json_u64(&j, "would_signal_count", r->npids);
		break;
	case OUTCOME_RESUME:
		json_u64(&j, "tree", r->tree);
		json_u64(&j, "signalled", r->signalled);
		break;
	}
	if (r->by_operator)
		json_bool(&j, "operator", true);
	if (r->cgroup)
		out_json_attribution(o, &j, r->cgroup);
	json_end(&j);
}

/* "killed N processes of tree ROOT (comm) in M ms: S by pidfd sweep, K in kernel at fork" */
static void human_action(struct output *o, const struct policy_outcome *r, const char *when,
			 const char *comm)
{
	uint32_t k = r->tree < FT_MAX_TREES ? o->kernel_signalled[r->tree] : 0;
	char where[(FT_CT_NS_LEN + FT_CT_POD_LEN + FT_CT_NAME_LEN) * 4 + 8];
	bool stop = !strcmp(r->action, "stop");

	fprintf(o->f,
		"%-12s %-7s %7u %7s %-16s %s %u processes of tree %u (%s) in %.1f ms: %u by "
		"pidfd sweep, %u in kernel at fork",
		when, "ACTION", r->root, "-", comm, stop ? "stopped" : "killed", r->signalled + k,
		r->root, comm, r->ms, r->signalled, k);
	if (!r->complete)
		fprintf(o->f, "; incomplete, %u remaining", r->remaining);
	if (r->policy_failures)
		fprintf(o->f, "; %u kernel map updates failed", r->policy_failures);
	fprintf(o->f, "%s%s%s%s\n", r->by_operator ? "; asked for by the operator" : "",
		r->why ? "; " : "", r->why ? r->why : "",
		out_human_attribution(o, r->cgroup, where, sizeof(where)));
}

void output_policy(struct output *o, const struct policy_outcome *r)
{
	char when[32], comm[FT_COMM_LEN * 4 + 1];

	if (o->fmt == OUT_JSON) {
		if (r->kind != OUTCOME_SIGNAL || o->verbose || !o->signal_lines_off)
			json_policy(o, r);
		goto done;
	}
	out_hhmmss(o, r->ts_ns, when, sizeof(when));
	out_printable(r->kind == OUTCOME_SIGNAL ? r->comm : r->root_comm, FT_COMM_LEN, comm,
		  sizeof(comm));
	switch (r->kind) {
	case OUTCOME_SIGNAL:
		if (o->verbose)
			fprintf(o->f, "%-12s %-7s %7u %7s %-16s SIG%s via pidfd (%s) [tree %u]\n",
				when, "SIGNAL", r->pid, "-", comm, out_signal_name(r->sig),
				r->result ? strerror(-r->result) : "sent", r->root);
		break;
	case OUTCOME_ACTION:
		human_action(o, r, when, comm);
		break;
	case OUTCOME_UNDECIDED:
		fprintf(o->f, "%-12s %-7s %7u %7s %-16s member of tree %u: %s\n", when,
			"UNDECID", r->pid, "-", comm, r->root, r->why);
		break;
	case OUTCOME_STATE:
		fprintf(o->f, "%-12s %-7s %7u %7s %-16s %s of tree %u (%s): %s%s%s\n", when,
			"ACTION", r->root, "-", comm, r->action, r->root, comm, r->state,
			r->why ? "; " : "", r->why ? r->why : "");
		break;
	case OUTCOME_EXEMPT:
		fprintf(o->f, "%-12s %-7s %7u %7s %-16s no %s: %s\n", when, "EXEMPT", r->root, "-",
			comm, r->action, r->why);
		break;
	case OUTCOME_REFUSED:
		fprintf(o->f, "%-12s %-7s %7u %7s %-16s cannot %s: %s\n", when, "REFUSED", r->root,
			"-", comm, r->action, r->why);
		break;
	case OUTCOME_DRY_RUN:
		fprintf(o->f,
			"%-12s %-7s %7u %7s %-16s dry run: %s would signal %u processes:", when,
			"DRYRUN", r->root, "-", comm, r->action, r->npids);
		for (uint32_t i = 0; r->pids && i < r->npids; i++)
			fprintf(o->f, " %u", r->pids[i]);
		fputc('\n', o->f);
		break;
	case OUTCOME_RESUME:
		fprintf(o->f,
			"%-12s %-7s %7u %7s %-16s continued %u stopped processes of tree %u\n",
			when, "RESUME", r->root, "-", comm, r->signalled, r->root);
		break;
	}
done:
	/* the tree's id may name another tree next */
	if (r->kind == OUTCOME_ACTION && r->tree < FT_MAX_TREES)
		o->kernel_signalled[r->tree] = 0;
	fflush(o->f);
}

void output_verdict(struct output *o, const struct det_verdict *v, uint64_t root_cgroup)
{
	if (o->fmt == OUT_JSON)
		json_verdict(o, v, root_cgroup);
	else
		human_verdict(o, v, root_cgroup);
	fflush(o->f);
}

/*
 * Tree printing.  live[i] = live processes in the subtree of slot i; a node
 * is shown if its subtree has any.  Kernel threads are left out.
 */
struct tree_walk {
	struct output *o;
	const struct proctable *t;
	uint32_t *live;
	uint64_t ts;
	char prefix[TREE_MAX_DEPTH * 2 + 8];
};

static bool is_plain_leaf(const struct tree_walk *w, int32_t i)
{
	const struct pt_entry *e = pt_get(w->t, i);

	return e->first_child == PT_NONE && e->state == PT_ALIVE;
}

static void print_node(struct tree_walk *w, int32_t i, int depth, int repeat)
{
	const struct pt_entry *e = pt_get(w->t, i);
	char comm[FT_COMM_LEN * 4 + 1];

	out_printable(e->comm, FT_COMM_LEN, comm, sizeof(comm));
	if (w->o->fmt == OUT_JSON) {
		struct json_line j;

		out_json_header(w->o, &j, "tree", w->ts, e->key.tgid, e->comm);
		json_u64(&j, "ppid", e->lineage.tgid);
		json_u64(&j, "ppid_now", e->ppid_now);
		json_u64(&j, "depth", (uint64_t)depth);
		json_bool(&j, "alive", e->state == PT_ALIVE);
		json_u64(&j, "subtree_live", w->live[i]);
		json_u64(&j, "start_ns", e->start_ns);
		out_json_attribution(w->o, &j, e->cgroup_id);
		json_strn(&j, "exe", e->filename, FT_FILENAME_LEN);
		json_end(&j);
		return;
	}
	if (repeat > 1)
		fprintf(w->o->f, "%s%d*[%s]\n", w->prefix, repeat, comm);
	else
		fprintf(w->o->f, "%s%s(%u)%s [%u]\n", w->prefix, comm, e->key.tgid,
			e->state == PT_DEAD ? " (exited)" : "", w->live[i]);
}

static void print_subtree(struct tree_walk *w, int32_t i, int depth)
{
	const struct proctable *t = w->t;
	size_t plen = strlen(w->prefix);
	int32_t c = pt_get(t, i)->first_child;

	if (depth >= TREE_MAX_DEPTH) {
		if (c != PT_NONE && w->o->fmt == OUT_HUMAN)
			fprintf(w->o->f, "%s... (deeper levels not shown)\n", w->prefix);
		return;
	}
	while (c != PT_NONE) {
		int32_t next = pt_get(t, c)->next_sibling, last_shown = PT_NONE, n = 1;

		if (!w->live[c] || pt_get(t, c)->kthread) {
			c = next;
			continue;
		}
		/* human output folds runs of identical live leaves, like pstree */
		while (w->o->fmt == OUT_HUMAN && is_plain_leaf(w, c) && next != PT_NONE &&
		       is_plain_leaf(w, next) &&
		       !strncmp(pt_get(t, c)->comm, pt_get(t, next)->comm, FT_COMM_LEN)) {
			n++;
			next = pt_get(t, next)->next_sibling;
		}
		for (int32_t s = next; s != PT_NONE; s = pt_get(t, s)->next_sibling)
			if (w->live[s] && !pt_get(t, s)->kthread)
				last_shown = s;
		if (plen + 2 < sizeof(w->prefix)) {
			char *tail = w->prefix + plen;

			snprintf(tail, 3, "%s", last_shown == PT_NONE ? "`-" : "|-");
			print_node(w, c, depth + 1, n);
			snprintf(tail, 3, "%s", last_shown == PT_NONE ? "  " : "| ");
			if (n == 1)
				print_subtree(w, c, depth + 1);
			w->prefix[plen] = '\0';
		}
		c = next;
	}
}

void output_tree(struct output *o, const struct proctable *t, int32_t root, uint64_t ts_ns)
{
	struct tree_walk w = { .o = o, .t = t, .ts = ts_ns };
	const struct pt_stats *st = pt_get_stats(t);
	int32_t *order;

	w.live = calloc(st->capacity, sizeof(*w.live));
	order = calloc(st->capacity, sizeof(*order));
	if (!w.live || !order)
		goto cleanup;
	if (o->fmt == OUT_HUMAN)
		fprintf(o->f, "\nProcess tree (live processes per subtree in brackets):\n");
	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i)) {
		const struct pt_entry *e = pt_get(t, i);

		if (root != PT_NONE ? i != root : e->parent != PT_NONE)
			continue;
		if (!pt_subtree_sizes(t, i, order, st->capacity, w.live, true) || !w.live[i] ||
		    e->kthread)
			continue;
		w.prefix[0] = '\0';
		print_node(&w, i, 0, 1);
		print_subtree(&w, i, 0);
	}
cleanup:
	free(order);
	free(w.live);
}

void output_summary(struct output *o, const struct ft_totals *tot, const struct proctable *t,
		    uint64_t ts_ns)
{
	const struct pt_stats *st = pt_get_stats(t);
	struct json_line j;

	if (o->fmt == OUT_HUMAN) {
		fprintf(o->f,
			"\nSummary: %" PRIu64 " forks, %" PRIu64 " execs, %" PRIu64
			" exits, %" PRIu64 " OOM kills, %" PRIu64 " threads started, %" PRIu64
			" records lost, %" PRIu64 " alerts, %" PRIu64 " findings\n",
			tot->forks, tot->execs, tot->exits, tot->ooms, tot->threads_started,
			tot->lost, tot->alerts, tot->findings);
		fprintf(o->f,
			"Process table: %u live, peak %u of %u slots, %" PRIu64 " evicted, %" PRIu64
			" dropped (table full), %" PRIu64 " re-syncs\n",
			st->live, st->peak_used, st->capacity, st->evicted, st->dropped_full,
			tot->resyncs);
		if (tot->signals || tot->kernel_signals || tot->kernel_signal_failed ||
		    tot->member_map_full || tot->policy_failures)
			fprintf(o->f,
				"Containment: %" PRIu64 " signals by pidfd sweep, %" PRIu64
				" in kernel; failures: %" PRIu64 " kernel signals, %" PRIu64
				" members map full, %" PRIu64 " policy (kernel map updates)\n",
				tot->signals, tot->kernel_signals, tot->kernel_signal_failed,
				tot->member_map_full, tot->policy_failures);
		fflush(o->f);
		return;
	}
	out_json_header(o, &j, "summary", ts_ns, 0, "");
	json_u64(&j, "forks", tot->forks);
	json_u64(&j, "execs", tot->execs);
	json_u64(&j, "exits", tot->exits);
	json_u64(&j, "ooms", tot->ooms);
	json_u64(&j, "lost", tot->lost);
	json_nest(&j, "lost_by_type");
	for (int i = 1; i < FT_EV_MAX; i++)
		if (tot->lost_by_type[i])
			json_u64(&j, ft_type_name(i), tot->lost_by_type[i]);
	json_nest_end(&j);
	json_u64(&j, "threads_started", tot->threads_started);
	json_u64(&j, "threads_exited", tot->threads_exited);
	json_u64(&j, "resyncs", tot->resyncs);
	json_u64(&j, "alerts", tot->alerts);
	json_u64(&j, "findings", tot->findings);
	json_u64(&j, "signals", tot->signals);
	json_u64(&j, "kernel_signals", tot->kernel_signals);
	json_u64(&j, "kernel_signal_failures", tot->kernel_signal_failed);
	json_u64(&j, "member_map_full", tot->member_map_full);
	json_u64(&j, "policy_failures", tot->policy_failures);
	json_u64(&j, "filtered_in_kernel", tot->filtered_in_kernel);
	json_nest(&j, "detector_dropped");
	json_u64(&j, "pending_checks", tot->detector_dropped_pending);
	json_u64(&j, "alerts", tot->detector_dropped_alerts);
	json_u64(&j, "alerts_retired", tot->detector_retired_alerts);
	json_nest_end(&j);
	json_nest(&j, "detector_work");
	json_u64(&j, "profiles", tot->detector_profiles);
	json_u64(&j, "nodes", tot->detector_nodes);
	json_u64(&j, "top_trees_cut", tot->top_trees_cut);
	json_nest_end(&j);
	json_u64(&j, "records", tot->records);
	json_nest(&j, "table");
	json_u64(&j, "live", st->live);
	json_u64(&j, "peak", st->peak_used);
	json_u64(&j, "capacity", st->capacity);
	json_u64(&j, "evicted", st->evicted);
	json_u64(&j, "evicted_ancestors", st->evicted_ancestors);
	json_u64(&j, "pruned", st->pruned);
	json_u64(&j, "dropped", st->dropped_full);
	json_nest_end(&j);
	json_end(&j);
	fflush(o->f);
}

/* --- the lines as an observer of the pipeline --------------------------- */

static void observe_start(void *ctx, const char *source, uint32_t self_pid)
{
	struct output *o = ctx;

	if (!o->shows.alerts_only)
		output_start(o, source, self_pid);
}

/* Is a record of this kind printed at all (scope aside)? */
static bool shows_kind(const struct output *o, const union ft_record *rec)
{
	if (o->shows.agent)
		return rec->h.type == FT_EV_OOM || rec->h.type == FT_EV_LOST ||
		       rec->h.type == FT_EV_RESYNC;
	if (o->shows.alerts_only)
		return false;
	return o->shows.threads || !(rec->h.flags & FT_F_THREAD);
}

static void observe_record(void *ctx, const struct observed_record *r)
{
	struct output *o = ctx;
	const union ft_record *rec = r->rec;

	switch (rec->h.type) {
	case FT_EV_LOST:
	case FT_EV_RESYNC:
		if (shows_kind(o, rec))
			output_record(o, rec, r->table, r->slot, NULL);
		break;
	case FT_EV_ACTION:
		/* every signal is logged, whatever the scope */
		output_record(o, rec, r->table, r->slot, NULL);
		break;
	case FT_EV_CONTAINER:
		if (shows_kind(o, rec) && rec->container.runtime)
			output_record(o, rec, r->table, PT_NONE, NULL);
		break;
	case FT_EV_POLICY:   /* said through the policy callback */
	case FT_EV_SETTINGS: /* the detector's */
	case FT_EV_ALLOW:    /* the policy's, in the report */
	case FT_EV_LIMITS:   /* on the verdicts they were read for */
	case FT_EV_REAP:     /* the zombies' bookkeeping: never shown */
	case FT_EV_COUNTERS: /* in the summary */
		break;
	default:
		if (r->in_scope && shows_kind(o, rec))
			output_record(o, rec, r->table, r->slot, r->oom);
	}
}

static void observe_verdict(void *ctx, const struct det_verdict *v, uint64_t root_cgroup)
{
	output_verdict(ctx, v, root_cgroup);
}

static void observe_policy(void *ctx, const struct policy_outcome *r)
{
	output_policy(ctx, r);
}

static void observe_finish(void *ctx, const struct observed_end *end)
{
	struct output *o = ctx;

	if (o->shows.alerts_only)
		return;
	if (o->shows.tree && end->scope_known)
		output_tree(o, end->table, end->scope_root, end->now_ns);
	output_summary(o, end->totals, end->table, end->now_ns);
}

void output_observer(struct output *o, const struct output_shows *shows, struct observer *ob)
{
	o->shows = *shows;
	*ob = (struct observer){
		.start = observe_start,
		.record = observe_record,
		.verdict = observe_verdict,
		.policy = observe_policy,
		.finish = observe_finish,
		.ctx = o,
		/* OOM lines name the victim's tree */
		.wants_oom_trees = !shows->alerts_only || shows->agent,
	};
}
