// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "front/report.h"
#include "front/report_model.h"
#include "core/defaults.h"
#include "core/utf8.h"
#include "core/recording.h"


/* ---- small pure helpers ------------------------------------------------- */

double report_tick_step(double max, int max_ticks)
{
	double raw, mag, steps[] = { 1, 2, 5, 10 };

	if (!(max > 0) || max_ticks < 1)
		return 1;
	raw = max / max_ticks;
	mag = pow(10, floor(log10(raw)));
	for (int i = 0; i < 4; i++)
		if (steps[i] * mag >= raw)
			return steps[i] * mag;
	return 10 * mag;
}

void report_escape(FILE *f, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i]) {
		unsigned char c = (unsigned char)s[i];
		size_t len;

		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				break; /* XML has no place for them */
			if (c < 0x80) {
				fputc(c, f);
				break;
			}
			len = utf8_seq_len((const unsigned char *)s + i, n - i);
			if (!len) {
				fputs("\xef\xbf\xbd", f);
				break;
			}
			/* C1 controls, U+FFFE and U+FFFF: valid UTF-8, not XML */
			if (!(len == 2 && c == 0xc2 && (unsigned char)s[i + 1] < 0xa0) &&
			    !(len == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf &&
			      (unsigned char)s[i + 2] >= 0xbe))
				fwrite(s + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
	}
}

/* ---- what the replay shows --------------------------------------------- */

static struct series *series_of(struct report *r, uint32_t pid, uint64_t start_ns, bool add)
{
	for (uint32_t i = 0; i < r->nseries; i++)
		if (r->series[i].root == pid && r->series[i].start_ns == start_ns)
			return &r->series[i];
	if (!add)
		return NULL;
	if (r->nseries == MAX_SERIES) {
		/* full: the smallest unflagged tree so far makes room (a late
		 * bomb in a busy recording still gets its line) */
		struct series *small = NULL;

		for (uint32_t i = 0; i < r->nseries; i++)
			if (!r->series[i].flagged && (!small || r->series[i].peak < small->peak))
				small = &r->series[i];
		r->series_dropped++;
		if (!small)
			return NULL;
		free(small->pic.nodes);
		memset(small, 0, sizeof(*small));
		small->root = pid;
		small->start_ns = start_ns;
		return small;
	}
	memset(&r->series[r->nseries], 0, sizeof(r->series[0]));
	r->series[r->nseries].root = pid;
	r->series[r->nseries].start_ns = start_ns;
	return &r->series[r->nseries++];
}

/* The tree at root as it is now: pre-order, with subtree sizes. */
static void capture(struct report *r, const struct proctable *t, int32_t root, uint64_t ts,
		    struct picture *pic)
{
	uint32_t n = 0;

	if (!pic->nodes && !(pic->nodes = calloc(MAX_NODES, sizeof(*pic->nodes))))
		return;
	n = pt_subtree_sizes(t, root, r->scratch, r->cap, r->members, false);
	pic->n = pic->left_out = 0;
	pic->ts_ns = ts;
	for (uint32_t k = 0; k < n; k++) {
		const struct pt_entry *e = pt_get(t, r->scratch[k]);
		uint32_t depth;
		struct node *nd;

		/* pre-order: the parent's depth is known */
		depth = k ? r->depth[e->parent] + 1u : 0;
		r->depth[r->scratch[k]] = (uint16_t)(depth < UINT16_MAX ? depth : UINT16_MAX);
		if (pic->n == MAX_NODES || depth >= MAX_DEPTH) {
			pic->left_out++;
			continue;
		}
		nd = &pic->nodes[pic->n++];
		nd->pid = e->key.tgid;
		memcpy(nd->comm, e->comm, sizeof(nd->comm));
		nd->depth = (uint16_t)depth;
		nd->alive = e->state == PT_ALIVE;
		nd->members = r->members[r->scratch[k]];
	}
}

static void capture_alert(struct report *r, struct alert *a, uint64_t ts)
{
	const struct proctable *t = pipeline_table(r->p);
	int32_t root = pt_find(t, a->v.root, a->v.root_start_ns);

	a->capture_due = false;
	if (root != PT_NONE)
		capture(r, t, root, ts, &a->pic);
}

static void sample(struct report *r, uint64_t ts)
{
	const struct proctable *t = pipeline_table(r->p);
	struct det_tree_info top[TOP_PER_STEP];
	uint32_t n, k = r->nsamples;

	if (k == MAX_SAMPLES)
		return;
	r->nsamples++;
	r->sample_ns[k] = ts;
	r->total_live[k] = pt_get_stats(t)->live;
	n = pipeline_top_trees(r->p, ts, top, TOP_PER_STEP);
	for (uint32_t i = 0; i < n; i++) {
		struct series *s = series_of(r, top[i].root, top[i].root_start_ns, true);
		const struct pt_entry *e = pt_get(t, top[i].root_slot);

		if (!s)
			continue;
		s->live[k] = top[i].live;
		if (top[i].flagged) {
			s->flagged = true;
			s->pattern = top[i].pattern;
		}
		if (top[i].live > s->peak && e) {
			s->peak = top[i].live;
			memcpy(s->comm, e->comm, sizeof(s->comm));
			snprintf(s->cmd, sizeof(s->cmd), "%s",
				 e->cmdline[0] ? e->cmdline : e->comm);
			s->cgroup = e->cgroup_id;
			capture(r, t, top[i].root_slot, ts, &s->pic);
		}
	}
}

static void add_allow_rule(struct allow_set *s, const struct ft_allow_rule *a)
{
	if (!a->index) {
		s->count = a->count;
		s->nshown = 0;
		s->ts_ns = a->h.ts_ns;
	}
	/* in order, within the set's count (a damaged file's are skipped) */
	if (a->index == s->nshown && a->index < s->count && s->nshown < MAX_ALLOW_SHOWN)
		memcpy(s->rules[s->nshown++], a->rule, FT_ALLOW_LEN);
}

static void on_record(void *ctx, const struct observed_record *seen)
{
	const union ft_record *rec = seen->rec;
	const struct det_oom_tree *tree = seen->oom;
	struct report *r = ctx;
	struct oom *o;

	switch (rec->h.type) {
	case FT_EV_LOST:
		r->lost += rec->lost.count;
		if (r->nlosses && r->losses[r->nlosses - 1].ts_ns == rec->h.ts_ns)
			r->losses[r->nlosses - 1].count += rec->lost.count;
		else if (r->nlosses < MAX_LOSSES)
			r->losses[r->nlosses++] = (struct loss){ rec->h.ts_ns, rec->lost.count };
		break;
	case FT_EV_ALLOW:
		if (!rec->allow.index) /* a new set: the start's, or a SIGHUP's */
			r->allow_sets++;
		add_allow_rule(&r->allow_last, &rec->allow);
		if (r->allow_sets == 1)
			add_allow_rule(&r->allow_start, &rec->allow);
		break;
	case FT_EV_ACTION:
		r->kernel_signals += !rec->action.parent_ret + (rec->action.child_ret == 0);
		r->kernel_guard += rec->action.guard;
		break;
	case FT_EV_OOM:
		if (r->nooms == MAX_OOMS) {
			r->ooms_dropped++;
			break;
		}
		o = &r->ooms[r->nooms++];
		memset(o, 0, sizeof(*o));
		o->ts_ns = rec->h.ts_ns;
		o->pid = rec->h.tgid;
		memcpy(o->comm, rec->h.comm, sizeof(o->comm));
		o->rss_kb = rec->oom.anon_rss_kb + rec->oom.file_rss_kb + rec->oom.shmem_rss_kb;
		if (tree && tree->known) {
			o->known = true;
			o->flagged = tree->flagged;
			o->growing = tree->growing;
			o->root = tree->root;
			o->tasks = tree->tasks;
			o->pattern = tree->pattern;
			snprintf(o->root_comm, sizeof(o->root_comm), "%s",
				 tree->root_comm ? tree->root_comm : "");
		}
		break;
	default:
		break;
	}
}

static struct alert *alert_of(struct report *r, uint32_t pid, uint64_t start_ns)
{
	for (uint32_t i = 0; i < r->nalerts; i++)
		if (r->alerts[i].v.root == pid && r->alerts[i].v.root_start_ns == start_ns)
			return &r->alerts[i];
	return NULL;
}

static void on_verdict(void *ctx, const struct det_verdict *v, uint64_t cgroup)
{
	struct report *r = ctx;
	struct alert *a = alert_of(r, v->root, v->root_start_ns);

	if (v->kind == DET_FINDING) {
		r->findings[v->pattern]++;
		return;
	}
	if (v->kind == DET_ALERT && (!a || a->ended)) {
		if (r->nalerts == MAX_ALERTS) {
			r->alerts_dropped++;
			return;
		}
		a = &r->alerts[r->nalerts++];
		memset(a, 0, sizeof(*a));
		a->v = *v;
		snprintf(a->comm, sizeof(a->comm), "%s", v->root_comm ? v->root_comm : "");
		snprintf(a->exe, sizeof(a->exe), "%s", v->root_exe ? v->root_exe : "");
		snprintf(a->cmdline, sizeof(a->cmdline), "%s", v->cmdline ? v->cmdline : "");
		snprintf(a->launcher_comm, sizeof(a->launcher_comm), "%s",
			 v->launcher_comm ? v->launcher_comm : "");
		snprintf(a->launcher_cmdline, sizeof(a->launcher_cmdline), "%s",
			 v->launcher_cmdline ? v->launcher_cmdline : "");
		a->cgroup = cgroup;
		a->peak = v->tasks;
		a->capture_due = r->sample_due = true;
		return;
	}
	if (!a)
		return;
	r->sample_due = true;
	if (v->peak_tasks > a->peak)
		a->peak = v->peak_tasks;
	if (v->kind == DET_ALERT_UPDATE) {
		a->updates++;
		a->capture_due = true;
	}
	if (v->kind == DET_ALERT_END) {
		a->ended = true;
		a->end_ns = v->ts_ns;
	}
}

static void on_policy(void *ctx, const struct policy_outcome *p)
{
	struct report *r = ctx;
	struct action *a;

	if (p->kind == OUTCOME_SIGNAL || p->kind == OUTCOME_UNDECIDED || p->kind == OUTCOME_STATE)
		return;
	if (r->nactions == MAX_ACTIONS) {
		r->actions_dropped++;
		return;
	}
	r->sample_due = true;
	a = &r->actions[r->nactions++];
	a->r = *p;
	snprintf(a->comm, sizeof(a->comm), "%s", p->root_comm ? p->root_comm : "");
	snprintf(a->why, sizeof(a->why), "%s", p->why ? p->why : "");
	a->r.root_comm = a->comm;
	a->r.why = a->why[0] ? a->why : NULL;
	a->r.pids = NULL;
}

/* ---- reading ------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = 1;
}

/* First pass: the time span, and every record checked before any output. */
static int scan(struct report *r, char *err, size_t errlen)
{
	struct ft_reader *rd = NULL;
	union ft_record rec;
	int got;

	if (ft_reader_open(r->path, &r->info, &rd, err, errlen))
		return -1;
	while ((got = ft_reader_next(rd, &rec, err, errlen)) > 0) {
		if (!r->first_ns || (rec.h.ts_ns && rec.h.ts_ns < r->first_ns))
			r->first_ns = rec.h.ts_ns;
		if (rec.h.ts_ns > r->last_ns)
			r->last_ns = rec.h.ts_ns;
		r->records++;
	}
	ft_reader_close(rd);
	if (got < 0)
		return -1;
	if (!r->records) /* a run stopped at once: an empty report, not an error */
		r->first_ns = r->last_ns = r->info.start_ns;
	r->interval_ns = (r->last_ns - r->first_ns) / (MAX_REGULAR - 1);
	if (r->interval_ns < MIN_INTERVAL)
		r->interval_ns = MIN_INTERVAL;
	return 0;
}

static int replay_into(struct report *r, char *err, size_t errlen)
{
	struct pipeline_opts po = { 0 };
	struct observer ob = { .record = on_record,
			       .verdict = on_verdict,
			       .policy = on_policy,
			       .ctx = r,
			       .wants_oom_trees = true };
	struct ft_reader *rd = NULL;
	union ft_record rec;
	uint64_t next;
	int got = 0, ret = -1;

	/* no lines: the report observes the records itself */
	po.table_capacity = FT_TABLE_DEFAULT;
	po.grace_ns = FT_GRACE_NS_DEFAULT;
	det_config_defaults(&po.detect);
	policy_defaults(&po.policy);
	r->cap = po.table_capacity;
	r->scratch = calloc(r->cap, sizeof(*r->scratch));
	r->members = calloc(r->cap, sizeof(*r->members));
	r->depth = calloc(r->cap, sizeof(*r->depth));
	if (!r->scratch || !r->members || !r->depth) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (ft_reader_open(r->path, &r->info, &rd, err, errlen) ||
	    pipeline_new(&po, &r->info, &r->p, err, errlen))
		goto out;
	if (pipeline_observe(r->p, &ob)) {
		snprintf(err, errlen, "no room for another observer");
		goto out;
	}
	pipeline_start(r->p, "replay", 0);
	next = r->first_ns;
	while (!interrupted && (got = ft_reader_next(rd, &rec, err, errlen)) > 0) {
		/* the state between records, at each sample time passed; the
		 * points at alerts and actions keep room of their own */
		while (rec.h.ts_ns > next && r->nregular < MAX_REGULAR) {
			sample(r, next);
			r->nregular++;
			next += r->interval_ns;
		}
		if (pipeline_feed(r->p, &rec))
			break;
		/* not from the callbacks: the detector is mid-record there */
		if (r->sample_due) {
			r->sample_due = false;
			sample(r, rec.h.ts_ns);
		}
		for (uint32_t i = 0; i < r->nalerts; i++)
			if (r->alerts[i].capture_due)
				capture_alert(r, &r->alerts[i], rec.h.ts_ns);
	}
	if (got < 0 || pipeline_error(r->p)) {
		if (pipeline_error(r->p))
			snprintf(err, errlen, "%s", pipeline_error(r->p));
		goto out;
	}
	if (interrupted) {
		snprintf(err, errlen, "interrupted");
		goto out;
	}
	sample(r, r->last_ns);
	if (pipeline_finish(r->p, r->last_ns, err, errlen))
		goto out;
	ret = 0;
out:
	ft_reader_close(rd);
	return ret;
}

/* ---- the command ------------------------------------------------------------ */

enum report_format { FMT_HTML, FMT_SVG, FMT_JSON };

struct report_args {
	const char *recording, *output, *folded;
	enum report_format format;
};

static const char report_doc[] =
    "Write an incident report from a recording (forktrace -w FILE).\n"
    "\n"
    "USAGE: forktrace report RECORDING -o FILE [--format html|svg|json] [--folded FILE]\n"
    "\n"
    "EXAMPLES:\n"
    "    forktrace report incident.ftr -o incident.html    # one self-contained page\n"
    "    forktrace report incident.ftr -o live.svg --format svg   # the plot alone\n"
    "    forktrace report incident.ftr -o data.json --format json\n"
    "    forktrace report incident.ftr -o incident.html --folded trees.folded\n"
    "        # then: flamegraph.pl trees.folded > trees.svg\n"
    "\n"
    "OPTIONS:";

static const struct argp_option report_options[] = {
	{ "output", 'o', "FILE", 0, "Write the report to FILE (- for stdout)", 0 },
	{ "format", 'f', "FORMAT", 0, "html (default), svg (the plot) or json (its data)", 0 },
	{ "folded", 'F', "FILE", 0,
	  "Also write the flagged trees as flame-graph folded stacks (root;child;... 1)", 0 },
	{},
};

static error_t parse_report_arg(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		break;
	case 'f':
		if (!strcmp(arg, "html"))
			a->format = FMT_HTML;
		else if (!strcmp(arg, "svg"))
			a->format = FMT_SVG;
		else if (!strcmp(arg, "json"))
			a->format = FMT_JSON;
		else
			argp_failure(state, 2, 0, "invalid --format '%s': want html, svg or json",
				     arg);
		break;
	case 'F':
		a->folded = arg;
		break;
	case ARGP_KEY_ARG:
		if (a->recording)
			argp_failure(state, 2, 0, "unexpected argument '%s'", arg);
		a->recording = arg;
		break;
	case ARGP_KEY_END:
		if (!a->recording)
			argp_failure(state, 2, 0, "no recording named (forktrace -w makes one)");
		if (!a->output)
			argp_failure(state, 2, 0, "-o FILE is required");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/*
 * Each file goes to a temporary beside it, created exclusively (nothing
 * planted there is followed), and is renamed into place only when every
 * file was written: a failed report leaves no half page.
 */
struct out_file {
	const char *path;
	char tmp[4096];
	FILE *f;
};

static int out_open(struct out_file *o, const char *path, char *err, size_t errlen)
{
	int fd;

	o->path = path;
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	o->f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!o->f) {
		snprintf(err, errlen, "cannot write %.300s: %s", o->tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		o->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

/* Flush and close; the temporary stays until out_commit or out_discard. */
static int out_close(struct out_file *o, char *err, size_t errlen)
{
	bool bad;

	if (!o->f)
		return 0;
	if (o->f == stdout) {
		o->f = NULL;
		return fflush(stdout) ? -1 : 0;
	}
	bad = ferror(o->f);
	if (fclose(o->f) || bad) {
		o->f = NULL;
		snprintf(err, errlen, "writing %.300s: %s", o->tmp, strerror(errno ? errno : EIO));
		return -1;
	}
	o->f = NULL;
	return 0;
}

static int out_commit(struct out_file *o, char *err, size_t errlen)
{
	if (!o->tmp[0])
		return 0;
	if (rename(o->tmp, o->path)) {
		snprintf(err, errlen, "cannot rename %.200s to %.200s: %s", o->tmp, o->path,
			 strerror(errno));
		return -1;
	}
	o->tmp[0] = '\0';
	return 0;
}

static void out_discard(struct out_file *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

/* -o naming the recording would replace the evidence with the report. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int report_main(int argc, char **argv)
{
	const struct argp argp = {
		report_options, parse_report_arg, "RECORDING", report_doc, NULL, NULL, NULL
	};
	struct report_args args = { 0 };
	/* SA_RESTART: a read interrupted by a signal is no truncated file */
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };
	struct out_file out = { 0 }, fold = { 0 };
	struct report *r = NULL;
	char err[512] = "";
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &args))
		return 2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (same_file(args.recording, args.output) ||
	    (args.folded && same_file(args.recording, args.folded))) {
		snprintf(err, sizeof(err), "the output would overwrite the recording %s",
			 args.recording);
		goto cleanup;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, sizeof(err), "out of memory");
		goto cleanup;
	}
	r->path = args.recording;
	/* everything read and checked before a byte is written */
	if (scan(r, err, sizeof(err)) || replay_into(r, err, sizeof(err)))
		goto cleanup;
	if (out_open(&out, args.output, err, sizeof(err)))
		goto cleanup;
	if (args.format == FMT_HTML) {
		report_write_html(out.f, r);
	} else if (args.format == FMT_SVG) {
		report_write_plot(out.f, r, true);
	} else if (report_write_json(out.f, r)) {
		snprintf(err, sizeof(err), "cannot build the JSON document");
		goto cleanup;
	}
	if (out_close(&out, err, sizeof(err)))
		goto cleanup;
	if (args.folded) {
		if (out_open(&fold, args.folded, err, sizeof(err)))
			goto cleanup;
		report_write_folded(fold.f, r);
		if (out_close(&fold, err, sizeof(err)))
			goto cleanup;
	}
	if (out_commit(&out, err, sizeof(err)) || out_commit(&fold, err, sizeof(err)))
		goto cleanup;
	ret = 0;
cleanup:
	out_discard(&out);
	out_discard(&fold);
	if (err[0])
		fprintf(stderr, "forktrace report: %s\n", err);
	if (r) {
		for (uint32_t i = 0; i < r->nseries; i++)
			free(r->series[i].pic.nodes);
		for (uint32_t i = 0; i < r->nalerts; i++)
			free(r->alerts[i].pic.nodes);
		pipeline_free(r->p);
		free(r->scratch);
		free(r->members);
		free(r->depth);
		free(r);
	}
	return ret;
}
