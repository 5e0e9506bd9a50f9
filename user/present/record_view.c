// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What each record says, for both outputs at once: one function per record
 * type (the table `views` below) names the line's event, its process
 * columns and its fields, and the sink turns them into a JSON line or a
 * human one.  A field may carry a human form, so adding one to a record
 * type adds it to both outputs in one place; text only a person reads
 * (the kernel's signal sentence) is human text, not a field.  The sink
 * does only its own format's work: this runs for every record of a fork
 * storm.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include "present/output_int.h"

struct sink {
	struct output *o;
	struct json_line j; /* OUT_JSON */
	bool json;
	/* OUT_HUMAN: the columns and the details */
	const char *event;
	uint32_t pid, ppid;
	const char *comm;
	uint64_t cgroup; /* the attribution column */
	char detail[FT_FILENAME_LEN * 4 + 64];
	size_t used;
};

/* The line's start.  json_comm and human_comm differ only for the records
 * forktrace makes itself (lost, resync), whose JSON lines have no process. */
static void line_begin(struct sink *s, const struct ft_header *h, const char *json_event,
		       const char *human_event, uint32_t pid, uint32_t ppid,
		       const char *json_comm, const char *human_comm)
{
	if (s->json) {
		out_json_header(s->o, &s->j, json_event, h->ts_ns, pid, json_comm);
		return;
	}
	s->event = human_event;
	s->pid = pid;
	s->ppid = ppid;
	s->comm = human_comm;
	s->cgroup = h->cgroup_id;
}

/* Human details only (a JSON line never has them). */
static void human_text(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void human_text(struct sink *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->json || s->used >= sizeof(s->detail))
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->detail + s->used, sizeof(s->detail) - s->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->used = s->used + (size_t)n < sizeof(s->detail) ? s->used + (size_t)n
								  : sizeof(s->detail) - 1;
}

/* A field's human form: the value between two texts ("parent had ",
 * " threads"); a field without one is JSON's only. */
struct human_form {
	const char *before, *after;
};
#define HUMAN(before, after) (&(const struct human_form){ (before), (after) })

static void field_u64(struct sink *s, const char *key, uint64_t v, const struct human_form *h)
{
	if (s->json)
		json_u64(&s->j, key, v);
	else if (h)
		human_text(s, "%s%" PRIu64 "%s", h->before, v, h->after);
}

static void field_i64(struct sink *s, const char *key, int64_t v, const struct human_form *h)
{
	if (s->json)
		json_i64(&s->j, key, v);
	else if (h)
		human_text(s, "%s%" PRId64 "%s", h->before, v, h->after);
}

static void field_str(struct sink *s, const char *key, const char *v)
{
	if (s->json)
		json_str(&s->j, key, v);
}

static void field_strn(struct sink *s, const char *key, const char *v, size_t n)
{
	if (s->json)
		json_strn(&s->j, key, v, n);
}

static void field_bool(struct sink *s, const char *key, bool v)
{
	if (s->json)
		json_bool(&s->j, key, v);
}

/* A process's identity at the end of its JSON line: tid, uid, where its
 * cgroup is, its start time. */
static void process_tail(struct sink *s, const struct ft_header *h, uint64_t cgroup,
			 uint64_t start_ns)
{
	if (!s->json)
		return;
	json_u64(&s->j, "tid", h->tid);
	json_u64(&s->j, "uid", h->uid);
	out_json_attribution(s->o, &s->j, cgroup);
	json_u64(&s->j, "start_ns", start_ns);
}

static void exit_status(uint32_t status, int *code, int *sig, bool *core)
{
	*sig = status & 0x7f;
	*code = *sig ? 0 : (status >> 8) & 0xff;
	*core = status & 0x80;
}

/* Returns false when the record has no line in this format. */
typedef bool (*view_fn)(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
			const struct det_oom_tree *oom);

static bool view_fork(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
		      const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;

	if (h->flags & FT_F_THREAD) {
		line_begin(s, h, "thread_start", "THREAD", h->tgid, e ? e->ppid_now : 0, h->comm,
			   h->comm);
		human_text(s, "tid=%u", h->tid);
		field_u64(s, "creator_tid", rec->fork.parent_tid, NULL);
		field_u64(s, "parent_threads", rec->fork.parent_threads, NULL);
	} else {
		line_begin(s, h, "fork", "FORK", h->tgid, h->ppid, h->comm, h->comm);
		field_u64(s, "ppid", h->ppid, NULL);
		field_u64(s, "real_ppid", rec->fork.real_ppid, NULL);
		field_u64(s, "parent_tid", rec->fork.parent_tid, NULL);
		if (h->flags & FT_F_SHARED_VM)
			field_bool(s, "shared_vm", true);
		field_u64(s, "parent_threads", rec->fork.parent_threads,
			  rec->fork.parent_threads > 1 ? HUMAN("parent had ", " threads") : NULL);
	}
	process_tail(s, h, h->cgroup_id, h->start_ns);
	return true;
}

static bool view_exec(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
		      const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;
	char text[FT_FILENAME_LEN * 4 + 64];
	bool args = e && e->cmdline[0];

	line_begin(s, h, "exec", "EXEC", h->tgid, h->ppid, h->comm, h->comm);
	field_u64(s, "ppid", h->ppid, NULL);
	field_strn(s, "filename", rec->exec.filename, FT_FILENAME_LEN);
	if (args)
		field_strn(s, "args", e->cmdline, FT_ARGS_LEN);
	/* like execsnoop: the arguments, which start with argv[0] */
	if (!s->json)
		human_text(s, "%s",
			   args ? out_printable(e->cmdline, FT_ARGS_LEN, text, sizeof(text))
				: out_printable(rec->exec.filename, FT_FILENAME_LEN, text,
						sizeof(text)));
	if (rec->exec.old_tid != h->tgid)
		field_u64(s, "old_tid", rec->exec.old_tid, NULL);
	if (rec->exec.cwd_age_ns)
		field_u64(s, "cwd_age_ms", (rec->exec.cwd_age_ns - 1) / 1000000, NULL);
	process_tail(s, h, h->cgroup_id, h->start_ns);
	return true;
}

static bool view_exit(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
		      const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;
	int code, sig;
	bool core;

	if (h->flags & FT_F_THREAD) {
		line_begin(s, h, "thread_exit", "TEXIT", h->tgid, h->ppid, h->comm, h->comm);
		human_text(s, "tid=%u", h->tid);
		process_tail(s, h, h->cgroup_id, h->start_ns);
		return true;
	}
	line_begin(s, h, "exit", "EXIT", h->tgid, h->ppid, h->comm, h->comm);
	exit_status(rec->exit.exit_code, &code, &sig, &core);
	field_u64(s, "ppid", h->ppid, NULL);
	field_i64(s, "exit_code", code, sig ? NULL : HUMAN("code=", ""));
	field_i64(s, "signal", sig, NULL);
	if (sig)
		human_text(s, "signal=SIG%s%s", out_signal_name(sig), core ? " (core dumped)" : "");
	if (core)
		field_bool(s, "core_dumped", true);
	if (e && e->born_ns && h->ts_ns >= e->born_ns) {
		field_u64(s, "lifetime_ns", h->ts_ns - e->born_ns, NULL);
		human_text(s, " after %.1fms", (double)(h->ts_ns - e->born_ns) / 1e6);
	}
	process_tail(s, h, h->cgroup_id, h->start_ns);
	return true;
}

static bool view_oom(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
		     const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;
	/* pid-only OOM records (older kernels, classic fallback): the table knows */
	const char *comm = h->comm[0] || !e ? h->comm : e->comm;
	bool from_table = !(h->flags & FT_F_OOM_TASK) && e;
	char root_comm[FT_COMM_LEN * 4 + 1] = "";

	line_begin(s, h, "oom", "OOM", h->tgid, h->ppid, comm, comm);
	if (e)
		s->cgroup = e->cgroup_id;
	field_u64(s, "ppid", h->ppid ? h->ppid : (e ? e->ppid_now : 0), NULL);
	/* a person reads all three numbers, known or not */
	human_text(s, "killed: anon-rss=%llukB total-vm=%llukB oom_score_adj=%d",
		   (unsigned long long)rec->oom.anon_rss_kb,
		   (unsigned long long)rec->oom.total_vm_kb, rec->oom.oom_score_adj);
	if (h->flags & FT_F_OOM_RSS) {
		field_u64(s, "total_vm_kb", rec->oom.total_vm_kb, NULL);
		field_u64(s, "anon_rss_kb", rec->oom.anon_rss_kb, NULL);
		field_u64(s, "file_rss_kb", rec->oom.file_rss_kb, NULL);
		field_u64(s, "shmem_rss_kb", rec->oom.shmem_rss_kb, NULL);
	}
	if (h->flags & FT_F_OOM_SCORE)
		field_i64(s, "oom_score_adj", rec->oom.oom_score_adj, NULL);
	/* the root's name is any bytes its process chose: printable only */
	if (!s->json && oom && oom->known)
		out_printable(oom->root_comm ? oom->root_comm : "", FT_COMM_LEN, root_comm,
			      sizeof(root_comm));
	if (oom && oom->flagged)
		human_text(s, "; caused by runaway %s tree of %s(%u), %u tasks",
			   det_pattern_name(oom->pattern), root_comm, oom->root, oom->tasks);
	else if (oom && oom->known)
		human_text(s, "; tree %s(%u): %u tasks%s", root_comm, oom->root, oom->tasks,
			   oom->growing ? ", growing" : "");
	if (s->json && oom && oom->known) {
		json_nest(&s->j, "tree");
		json_u64(&s->j, "root", oom->root);
		json_strn(&s->j, "root_comm", oom->root_comm, FT_COMM_LEN);
		json_u64(&s->j, "tasks", oom->tasks);
		json_bool(&s->j, "growing", oom->growing);
		json_bool(&s->j, "flagged", oom->flagged);
		if (oom->flagged)
			json_str(&s->j, "pattern", det_pattern_name(oom->pattern));
		else
			json_f64(&s->j, "births_per_s", oom->births_per_s);
		if (oom->doubling_ms >= 0)
			json_f64(&s->j, "doubling_ms", oom->doubling_ms);
		json_nest_end(&s->j);
	}
	process_tail(s, h, from_table ? e->cgroup_id : h->cgroup_id,
		     from_table ? e->start_ns : h->start_ns);
	return true;
}

static bool view_lost(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
		      const struct det_oom_tree *oom)
{
	line_begin(s, &rec->h, "lost", "LOST", 0, 0, "", rec->h.comm);
	field_u64(s, "count", rec->lost.count, HUMAN("kernel dropped ", ""));
	field_str(s, "type", ft_type_name(rec->lost.lost_type));
	human_text(s, " %s records (ring buffer full)", ft_type_name(rec->lost.lost_type));
	return true;
}

static const char *kernel_signal_result(int32_t ret)
{
	return ret == FT_SIG_UNAVAILABLE ? "kernel lacks bpf_send_signal_task"
	       : ret == FT_SIG_SPARED	 ? "spared"
	       : ret			 ? "failed"
					 : "sent";
}

static bool view_action(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
			const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;
	const struct ft_action *a = &rec->action;

	line_begin(s, h, "signal", "SIGNAL", h->tgid, h->ppid, h->comm, h->comm);
	/* the forker's result never reads "unavailable": bpf_send_signal is
	 * everywhere; the child's needs the kfunc */
	human_text(s, "in kernel at fork: SIG%s to forker %u (%s) and new child (%s)%s",
		   out_signal_name((int)a->sig), h->ppid,
		   a->parent_ret == FT_SIG_SPARED ? "spared" : a->parent_ret ? "failed" : "sent",
		   kernel_signal_result(a->child_ret), a->guard ? " [fork budget guard]" : "");
	field_str(s, "via", "kernel");
	field_u64(s, "ppid", h->ppid, NULL);
	field_i64(s, "signal", a->sig, NULL);
	field_bool(s, "guard", a->guard);
	field_u64(s, "tree", a->tree, NULL);
	field_i64(s, "forker_result", a->parent_ret, NULL);
	if (s->json && a->child_ret == FT_SIG_UNAVAILABLE)
		json_null_field(&s->j, "child_result");
	else
		field_i64(s, "child_result", a->child_ret, NULL);
	field_u64(s, "start_ns", h->start_ns, NULL);
	return true;
}

static bool view_container(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
			   const struct det_oom_tree *oom)
{
	if (!s->json) /* the human lines name containers on each process's line */
		return false;
	line_begin(s, &rec->h, "container", NULL, rec->h.tgid, 0, "", NULL);
	out_json_attribution(s->o, &s->j, rec->h.cgroup_id);
	return true;
}

static const char *fork_call_name(const union ft_record *rec)
{
	static const char *const names[FT_CALL_MAX] = { "clone", "clone3", "fork", "vfork" };

	return rec->fork_fail.syscall < FT_CALL_MAX ? names[rec->fork_fail.syscall] : "?";
}

static bool view_fork_fail(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
			   const struct det_oom_tree *oom)
{
	const struct ft_header *h = &rec->h;

	line_begin(s, h, "fork_failed", "FORKFAIL", h->tgid, h->ppid, h->comm, h->comm);
	field_u64(s, "ppid", h->ppid, NULL);
	field_str(s, "syscall", fork_call_name(rec));
	field_str(s, "errno", out_errno_name(rec->fork_fail.err));
	human_text(s, "%s refused: %s", fork_call_name(rec), out_errno_name(rec->fork_fail.err));
	field_u64(s, "count", rec->fork_fail.count, NULL);
	if (rec->fork_fail.count > 1)
		human_text(s, " (%u times in %.0f ms)", rec->fork_fail.count,
			   (double)FT_FAIL_PERIOD_NS / 1e6);
	if (rec->fork_fail.pids_limit)
		field_u64(s, "pids_limit", rec->fork_fail.pids_limit, NULL);
	process_tail(s, h, h->cgroup_id, h->start_ns);
	return true;
}

static bool view_resync(struct sink *s, const union ft_record *rec, const struct pt_entry *e,
			const struct det_oom_tree *oom)
{
	line_begin(s, &rec->h, "resync", "RESYNC", 0, 0, "", rec->h.comm);
	field_u64(s, "added", rec->resync.added, HUMAN("re-synced from /proc: ", " found"));
	field_u64(s, "gone", rec->resync.gone, HUMAN(", ", " gone"));
	return true;
}

/* The record types with a line; the others (snapshot, gone, counters,
 * policy, settings, allow, reap) are the table's, the detector's or the
 * report's input. */
static const view_fn views[FT_EV_MAX] = {
	[FT_EV_FORK] = view_fork,	    [FT_EV_EXEC] = view_exec,
	[FT_EV_EXIT] = view_exit,	    [FT_EV_OOM] = view_oom,
	[FT_EV_LOST] = view_lost,	    [FT_EV_ACTION] = view_action,
	[FT_EV_CONTAINER] = view_container, [FT_EV_FORK_FAIL] = view_fork_fail,
	[FT_EV_RESYNC] = view_resync,
};

void out_record_line(struct output *o, const union ft_record *rec, const struct pt_entry *e,
		     const struct det_oom_tree *oom)
{
	view_fn view = rec->h.type < FT_EV_MAX ? views[rec->h.type] : NULL;
	struct sink sink, *s = &sink;
	char when[32], comm[FT_COMM_LEN * 4 + 1];
	char where[(FT_CT_NS_LEN + FT_CT_POD_LEN + FT_CT_NAME_LEN) * 4 + 8];

	if (!view)
		return;
	s->o = o;
	s->json = o->fmt == OUT_JSON;
	s->used = 0;
	s->detail[0] = '\0';
	if (!view(s, rec, e, oom))
		return;
	if (s->json) {
		json_end(&s->j);
		return;
	}
	fprintf(o->f, "%-12s %-7s %7u %7u %-16s %s%s\n", out_hhmmss(o, rec->h.ts_ns, when, sizeof(when)),
		s->event, s->pid, s->ppid, out_printable(s->comm, FT_COMM_LEN, comm, sizeof(comm)),
		s->detail, out_human_attribution(o, s->cgroup, where, sizeof(where)));
}
