// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace report's writers: what user/front/report.c gathered from the replay, as
 * the plot (SVG), the trees' pictures, one self-contained HTML page, its
 * JSON, and flame-graph folded stacks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "front/report.h"
#include "front/report_model.h"
#include "core/utf8.h"

static void esc(FILE *f, const char *s)
{
	report_escape(f, s, strlen(s));
}

/* ---- the plot ----------------------------------------------------------- */

static const char *const palette[PLOT_TREES] = { "#d62728", "#1f77b4", "#2ca02c",
						 "#9467bd", "#ff7f0e", "#8c564b" };

#define PLOT_W	   960
#define PLOT_H	   380
#define PLOT_LEFT  64
#define PLOT_RIGHT 16
#define PLOT_TOP   24
#define PLOT_BASE  (PLOT_H - 40)

/* The series shown: the largest peaks, flagged ones first. */
static uint32_t plotted(const struct report *r, const struct series **out)
{
	const struct series *cand[MAX_SERIES];
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->nseries; i++)
		cand[n++] = &r->series[i];
	for (uint32_t i = 1; i < n; i++) /* insertion sort: at most MAX_SERIES */
		for (uint32_t j = i; j > 0; j--) {
			const struct series *a = cand[j - 1], *b = cand[j];

			if (a->flagged > b->flagged ||
			    (a->flagged == b->flagged && a->peak >= b->peak))
				break;
			cand[j - 1] = b;
			cand[j] = a;
		}
	n = n < PLOT_TREES ? n : PLOT_TREES;
	for (uint32_t i = 0; i < n; i++)
		out[i] = cand[i];
	return n;
}

static double plot_x(const struct report *r, uint64_t ts)
{
	double span = r->last_ns > r->first_ns ? (double)(r->last_ns - r->first_ns) : 1;
	double rel = ts > r->first_ns ? (double)(ts - r->first_ns) : 0;

	return PLOT_LEFT + (PLOT_W - PLOT_LEFT - PLOT_RIGHT) * (rel > span ? span : rel) / span;
}

static double plot_y(double v, double ymax)
{
	return PLOT_BASE - (PLOT_BASE - PLOT_TOP) * v / ymax;
}

static void marker(FILE *f, const struct report *r, uint64_t ts, const char *cls, const char *color,
		   const char *label, uint32_t row)
{
	double x = plot_x(r, ts);

	fprintf(f,
		"<g class=\"marker %s\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		"stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
		"<text x=\"%.1f\" y=\"%u\" font-size=\"11\" fill=\"%s\">",
		cls, x, PLOT_TOP, x, PLOT_BASE, color, x + 3, PLOT_TOP + 10 + 12 * (row % 4),
		color);
	esc(f, label);
	fprintf(f, "</text></g>\n");
}

void report_write_plot(FILE *f, const struct report *r, bool standalone)
{
	const struct series *shown[PLOT_TREES];
	uint32_t n = plotted(r, shown), ymax_u = 1, row = 0;
	double span_s = (double)(r->last_ns - r->first_ns) / 1e9, ymax, step;
	char label[96];

	for (uint32_t k = 0; k < r->nsamples; k++)
		ymax_u = r->total_live[k] > ymax_u ? r->total_live[k] : ymax_u;
	step = report_tick_step(ymax_u, 6);
	ymax = ceil(ymax_u / step) * step;
	fprintf(f,
		"<svg %sclass=\"plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"live tasks over time\"%s>\n",
		standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "", PLOT_W, PLOT_H, PLOT_W,
		PLOT_H, standalone ? " font-family=\"sans-serif\"" : "");
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", PLOT_W,
		PLOT_H);
	/* axes and ticks */
	for (double v = 0; v <= ymax + step / 2; v += step)
		fprintf(
		    f,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
		    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f</text>\n",
		    PLOT_LEFT, plot_y(v, ymax), PLOT_W - PLOT_RIGHT, plot_y(v, ymax), PLOT_LEFT - 6,
		    plot_y(v, ymax) + 4, v);
	step = report_tick_step(span_s > 0 ? span_s : 1, 10);
	for (double s = 0; s <= span_s + 1e-9; s += step)
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" font-size=\"11\" "
			"text-anchor=\"middle\">%gs</text>\n",
			plot_x(r, s * 1e9 < (double)(r->last_ns - r->first_ns)
				      ? r->first_ns + (uint64_t)(s * 1e9)
				      : r->last_ns),
			PLOT_BASE + 16, s);
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" font-size=\"12\">live tasks</text>"
		"<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">seconds from the "
		"recording's start</text>\n",
		4, PLOT_TOP - 8, PLOT_W - PLOT_RIGHT, PLOT_H - 6);
	/* the host's live tasks, then the top trees */
	fprintf(f, "<polyline class=\"series total\" fill=\"none\" stroke=\"#999999\" "
		   "stroke-width=\"1.5\" points=\"");
	for (uint32_t k = 0; k < r->nsamples; k++)
		fprintf(f, "%.1f,%.1f ", plot_x(r, r->sample_ns[k]),
			plot_y(r->total_live[k], ymax));
	fprintf(f, "\"/>\n");
	for (uint32_t i = 0; i < n; i++) {
		char id[32];
		bool again = false; /* a pid reused: its second tree gets its own id */

		for (uint32_t k = 0; k < i; k++)
			again |= shown[k]->root == shown[i]->root;
		snprintf(id, sizeof(id), again ? "tree-%u-%u" : "tree-%u", shown[i]->root, i);
		fprintf(f,
			"<polyline class=\"series tree\" id=\"%s\" data-root=\"%u\" "
			"data-peak=\"%u\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			id, shown[i]->root, shown[i]->peak, palette[i]);
		for (uint32_t k = 0; k < r->nsamples; k++)
			fprintf(f, "%.1f,%.1f ", plot_x(r, r->sample_ns[k]),
				plot_y(shown[i]->live[k], ymax));
		fprintf(f, "\"/>\n");
	}
	/* what happened, where it happened */
	for (uint32_t i = 0; i < r->nalerts; i++) {
		snprintf(label, sizeof(label), "alert: %s %u",
			 det_pattern_name(r->alerts[i].v.pattern), r->alerts[i].v.root);
		marker(f, r, r->alerts[i].v.ts_ns, "alert", "#d62728", label, row++);
	}
	for (uint32_t i = 0; i < r->nactions; i++) {
		const struct policy_outcome *a = &r->actions[i].r;

		if (a->kind != OUTCOME_ACTION && a->kind != OUTCOME_RESUME)
			continue;
		snprintf(label, sizeof(label), "%s %u: %u signalled%s", a->action, a->root,
			 a->signalled, a->complete || a->kind == OUTCOME_RESUME ? "" : " (gave up)");
		marker(f, r, a->ts_ns,
		       a->kind == OUTCOME_RESUME	    ? "action resume"
		       : !strcmp(a->action, "stop") ? "action stop"
						    : "action kill",
		       "#000000", label, row++);
	}
	for (uint32_t i = 0; i < r->nooms; i++) {
		snprintf(label, sizeof(label), "OOM kill %u", r->ooms[i].pid);
		marker(f, r, r->ooms[i].ts_ns, "oom", "#9467bd", label, row++);
	}
	for (uint32_t i = 0; i < r->nlosses; i++)
		fprintf(f,
			"<rect class=\"marker lost\" x=\"%.1f\" y=\"%d\" width=\"3\" height=\"8\" "
			"fill=\"#ff7f0e\"><title>%llu records lost</title></rect>\n",
			plot_x(r, r->losses[i].ts_ns) - 1, PLOT_BASE - 8,
			(unsigned long long)r->losses[i].count);
	/* legend */
	fprintf(f, "<g class=\"legend\" font-size=\"11\">");
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\" fill=\"#999999\"/>"
		"<text x=\"%d\" y=\"%d\">all processes</text>",
		PLOT_LEFT + 10, PLOT_TOP + 2, PLOT_LEFT + 24, PLOT_TOP + 6);
	for (uint32_t i = 0; i < n; i++) {
		int y = PLOT_TOP + 2 + 14 * (int)(i + 1);

		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\" fill=\"%s\"/><text "
			"x=\"%d\" y=\"%d\">",
			PLOT_LEFT + 10, y, palette[i], PLOT_LEFT + 24, y + 4);
		fprintf(f, "%u ", shown[i]->root);
		report_escape(f, shown[i]->comm, sizeof(shown[i]->comm));
		fprintf(f, " (peak %u)%s</text>", shown[i]->peak,
			shown[i]->flagged ? ", flagged" : "");
	}
	fprintf(f, "</g>\n</svg>\n");
}

/* ---- a tree's picture: an icicle, a row per generation ------------------ */

#define ICICLE_W   900
#define ICICLE_ROW 18

static void write_icicle(FILE *f, const struct picture *pic)
{
	double cursor[MAX_DEPTH + 1] = { 0 }; /* per depth: where the next box starts */
	uint32_t depth_max = 0, total;
	int h;

	if (!pic->n)
		return;
	total = pic->nodes[0].members;
	for (uint32_t k = 0; k < pic->n; k++)
		depth_max = pic->nodes[k].depth > depth_max ? pic->nodes[k].depth : depth_max;
	h = (int)(depth_max + 1) * ICICLE_ROW + 4;
	fprintf(f,
		"<svg class=\"icicle\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"fork tree\">\n",
		ICICLE_W + 60, h, ICICLE_W + 60, h);
	for (uint32_t d = 0; d <= depth_max; d++)
		fprintf(f, "<text x=\"0\" y=\"%u\" font-size=\"10\">gen %u</text>\n",
			d * ICICLE_ROW + 12, d);
	/* pre-order: a node starts where its generation's cursor is, and its
	 * children, visited next, start where it does */
	for (uint32_t k = 0; k < pic->n; k++) {
		const struct node *nd = &pic->nodes[k];
		double w = (double)ICICLE_W * nd->members / (total ? total : 1);
		double x = cursor[nd->depth];

		cursor[nd->depth] = x + w;
		cursor[nd->depth + 1] = x;
		if (w < 0.3)
			continue;
		fprintf(f,
			"<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
			"stroke=\"#ffffff\" stroke-width=\"0.5\"><title>%u ",
			50 + x, (unsigned)(nd->depth * ICICLE_ROW), w, ICICLE_ROW - 1,
			nd->alive ? "#e4572e" : "#bbbbbb", nd->pid);
		report_escape(f, nd->comm, sizeof(nd->comm));
		fprintf(f, ": %u processes%s</title></rect>\n", nd->members,
			nd->alive ? "" : " (exited)");
		if (w > 70) {
			fprintf(f, "<text x=\"%.1f\" y=\"%u\" font-size=\"10\">%u ", 52 + x,
				(unsigned)(nd->depth * ICICLE_ROW + 12), nd->pid);
			report_escape(f, nd->comm, sizeof(nd->comm));
			fprintf(f, "</text>\n");
		}
	}
	fprintf(f, "</svg>\n");
}

/* ---- HTML ---------------------------------------------------------------- */

static void wall_time(const struct report *r, uint64_t ts, char *buf, size_t len)
{
	time_t secs = (time_t)((ts + r->info.realtime_offset_ns) / 1000000000ull);
	struct tm tm;

	if (!r->info.realtime_offset_ns || !gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "+%.3f s", (double)(ts - r->first_ns) / 1e9);
}

static void pod_prose(struct report *r, uint64_t cgroup, char *buf, size_t len)
{
	ct_label(cgroup ? pipeline_container(r->p, cgroup) : NULL, CT_LABEL_PROSE, buf, len);
	if (len > 1 && !buf[0])
		snprintf(buf, len, "-");
}

static const char style[] =
    "body,svg{font-family:sans-serif}body{max-width:1000px;margin:1em auto;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "code{background:#f6f6f6;padding:0 3px;word-break:break-all}"
    ".critical{color:#b00;font-weight:bold}.note{color:#666}";

static void row2(FILE *f, const char *k, const char *v)
{
	fprintf(f, "<tr><th>%s</th><td>", k);
	esc(f, v);
	fprintf(f, "</td></tr>\n");
}

static void write_alert(FILE *f, struct report *r, const struct alert *a)
{
	const struct det_verdict *v = &a->v;
	char buf[512], when[64];

	fprintf(f, "<h3 id=\"alert-%u\"><span class=\"critical\">%s</span> tree %u (",
		(unsigned)(a - r->alerts) + 1, det_pattern_name(v->pattern), v->root);
	esc(f, a->comm);
	fprintf(f, ")</h3>\n<table>\n");
	wall_time(r, v->ts_ns, when, sizeof(when));
	row2(f, "flagged", when);
	row2(f, "command line", a->cmdline[0] ? a->cmdline : a->comm);
	row2(f, "executable", a->exe[0] ? a->exe : "-");
	snprintf(buf, sizeof(buf), "%u %s%s%s", v->launcher, a->launcher_comm,
		 a->launcher_cmdline[0] ? ": " : "", a->launcher_cmdline);
	row2(f, "launched by", v->launcher ? buf : "-");
	pod_prose(r, a->cgroup, buf, sizeof(buf));
	row2(f, "where", buf);
	snprintf(buf, sizeof(buf),
		 "%u live at the alert, %u at the peak; %.1f births/s; "
		 "doubling every %.0f ms; %u generations",
		 v->tasks, a->peak, v->births_per_s, v->doubling_ms > 0 ? v->doubling_ms : 0,
		 v->generations);
	row2(f, "growth", buf);
	buf[0] = '\0';
	for (uint32_t g = 0, off = 0; g < v->ngen && g < DET_MAX_GEN && off < sizeof(buf); g++)
		off += (uint32_t)snprintf(buf + off, sizeof(buf) - off, "%s%u", g ? " " : "",
					  v->live_per_gen[g]);
	row2(f, "live per generation", buf[0] ? buf : "-");
	row2(f, "evidence", v->evidence);
	if (a->ended) {
		wall_time(r, a->end_ns, when, sizeof(when));
		snprintf(buf, sizeof(buf), "%s (%.1f s after the alert)", when,
			 (double)(a->end_ns - v->ts_ns) / 1e9);
		row2(f, "tree empty", buf);
	}
	for (uint32_t i = 0; i < r->nactions; i++) {
		const struct policy_outcome *p = &r->actions[i].r;

		if (p->root != v->root || p->root_start_ns != v->root_start_ns)
			continue;
		snprintf(buf, sizeof(buf), "%s%s: %u signalled in %.1f ms%s%s%s", p->action,
			 p->by_operator ? " (operator)" : "", p->signalled, p->ms,
			 p->kind == OUTCOME_ACTION && !p->complete ? ", incomplete" : "",
			 p->why ? "; " : "", p->why ? p->why : "");
		row2(f, "action", buf);
	}
	fprintf(f, "</table>\n");
	if (a->pic.n) {
		wall_time(r, a->pic.ts_ns, when, sizeof(when));
		fprintf(f,
			"<p class=\"note\">The fork tree at its last report (%s, %u processes): "
			"one box per process, as wide as its subtree, a row per generation; red "
			"boxes were alive, grey had exited%s.</p>\n",
			when, a->pic.nodes[0].members,
			a->pic.left_out ? "; deeper or further processes left out" : "");
		write_icicle(f, &a->pic);
	}
}

static void write_allow_set(FILE *f, const struct report *r, const struct allow_set *s,
			    const char *which)
{
	char when[64];

	wall_time(r, s->ts_ns, when, sizeof(when));
	fprintf(f, "<p>%s, %s: %u rule%s</p>\n", which, when, s->count, s->count == 1 ? "" : "s");
	if (s->nshown)
		fprintf(f, "<ul>\n");
	for (uint32_t i = 0; i < s->nshown; i++) {
		fprintf(f, "<li><code>");
		esc(f, s->rules[i]);
		fprintf(f, "</code>%s</li>\n",
			strncmp(s->rules[i], "comm:", 5) ? ""
							 : " (spoofable: any process may take a name)");
	}
	if (s->nshown)
		fprintf(f, "</ul>\n");
	if (s->count > s->nshown)
		fprintf(f, "<p class=\"note\">%u further rules not recorded or not shown.</p>\n",
			s->count - s->nshown);
}

/* What containment spared by rule: only a run that could act recorded its
 * rules (recording version 12 on); an observing run's report says nothing. */
static void write_allow_rules(FILE *f, const struct report *r)
{
	char which[96];

	if (!r->allow_sets)
		return;
	fprintf(f, "<h2>Allow rules</h2>\n<p>Processes these rules matched were never signalled "
		   "by forktrace's sweeps (nor pid 1, kernel threads, forktrace and its ancestors). "
		   "The kernel's checks at fork and the guard match the <code>exe:</code>, "
		   "<code>uid:</code>, <code>cgroup:</code> and <code>unit:</code> rules only "
		   "(docs/containment.md).</p>\n");
	write_allow_set(f, r, &r->allow_start, "At start");
	if (r->allow_sets > 1) {
		snprintf(which, sizeof(which), "Last re-read (SIGHUP; %u sets in all)",
			 r->allow_sets);
		write_allow_set(f, r, &r->allow_last, which);
	}
}

void report_write_html(FILE *f, struct report *r)
{
	const struct ft_totals *tot = pipeline_totals(r->p);
	uint32_t peak = 0, nfind;
	char when[64], when2[64], buf[512];

	for (uint32_t k = 0; k < r->nsamples; k++)
		peak = r->total_live[k] > peak ? r->total_live[k] : peak;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<title>forktrace report: ");
	esc(f, r->info.host[0] ? r->info.host : r->path);
	fprintf(
	    f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>forktrace incident report</h1>\n",
	    style);
	fprintf(f, "<table>\n");
	row2(f, "host", r->info.host[0] ? r->info.host : "(not recorded)");
	row2(f, "kernel", r->info.kernel);
	row2(f, "recording", r->path);
	wall_time(r, r->first_ns, when, sizeof(when));
	wall_time(r, r->last_ns, when2, sizeof(when2));
	snprintf(buf, sizeof(buf), "%s to %s (%.1f s)", when, when2,
		 (double)(r->last_ns - r->first_ns) / 1e9);
	row2(f, "span", buf);
	snprintf(buf, sizeof(buf),
		 "%llu forks, %llu execs, %llu exits; at most %u processes alive at once",
		 (unsigned long long)tot->forks, (unsigned long long)tot->execs,
		 (unsigned long long)tot->exits, peak);
	row2(f, "activity", buf);
	snprintf(buf, sizeof(buf),
		 "%u runaway alerts, %u actions, %llu signals sent in the "
		 "kernel at fork (%llu by the guard), %u OOM kills",
		 r->nalerts, r->nactions, (unsigned long long)r->kernel_signals,
		 (unsigned long long)r->kernel_guard, r->nooms);
	row2(f, "what happened", buf);
	snprintf(buf, sizeof(buf), "%llu%s", (unsigned long long)r->lost,
		 r->lost ? " (the kernel's ring buffer was full; /proc re-syncs filled the "
			   "table back in)"
			 : "");
	row2(f, "records lost", buf);
	fprintf(f, "</table>\n<h2>Live tasks</h2>\n");
	report_write_plot(f, r, false);
	fprintf(f, "<p class=\"note\">Grey: every process on the host; colours: the trees that "
		   "grew most.  Dashed lines: alerts (red), actions (black), OOM kills (purple); "
		   "orange ticks: records lost.</p>\n");
	fprintf(f, "<h2>Flagged trees</h2>\n");
	if (!r->nalerts)
		fprintf(f, "<p>No tree was flagged as a runaway.</p>\n");
	for (uint32_t i = 0; i < r->nalerts; i++)
		write_alert(f, r, &r->alerts[i]);
	if (r->alerts_dropped)
		fprintf(f, "<p class=\"note\">%u further alerts not shown.</p>\n",
			r->alerts_dropped);
	fprintf(f, "<h2>Actions</h2>\n");
	if (!r->nactions)
		fprintf(f, "<p>None recorded (observe mode, or a recording made before "
			   "version 5).</p>\n");
	else
		fprintf(f,
			"<table><tr><th>when</th><th>tree</th><th>what</th><th>result</th></tr>\n");
	for (uint32_t i = 0; i < r->nactions; i++) {
		const struct policy_outcome *p = &r->actions[i].r;
		static const char *const kinds[] = { "signal",	"done",	   "exempt",
						     "dry run", "refused", "resumed" };

		wall_time(r, p->ts_ns, when, sizeof(when));
		fprintf(f, "<tr><td>%s</td><td>%u ", when, p->root);
		esc(f, r->actions[i].comm);
		fprintf(f, "</td><td>%s%s (%s)</td><td>", p->action,
			p->by_operator ? " by the operator" : "", kinds[p->kind]);
		snprintf(buf, sizeof(buf), "%u signalled%s%s%s", p->signalled,
			 p->kind == OUTCOME_ACTION && !p->complete ? ", incomplete" : "",
			 p->why ? "; " : "", p->why ? p->why : "");
		esc(f, buf);
		fprintf(f, "</td></tr>\n");
	}
	if (r->nactions)
		fprintf(f, "</table>\n");
	write_allow_rules(f, r);
	fprintf(f, "<h2>OOM kills</h2>\n");
	if (!r->nooms)
		fprintf(f, "<p>None.</p>\n");
	else
		fprintf(f, "<table><tr><th>when</th><th>victim</th><th>memory</th><th>its "
			   "tree</th></tr>\n");
	for (uint32_t i = 0; i < r->nooms; i++) {
		const struct oom *o = &r->ooms[i];

		wall_time(r, o->ts_ns, when, sizeof(when));
		fprintf(f, "<tr><td>%s</td><td>%u ", when, o->pid);
		esc(f, o->comm);
		fprintf(f, "</td><td>%llu KiB</td><td>", (unsigned long long)o->rss_kb);
		if (!o->known)
			fprintf(f, "unknown (not in the process table)");
		else {
			snprintf(buf, sizeof(buf), "%u %s: %u live%s%s%s", o->root, o->root_comm,
				 o->tasks, o->flagged ? ", flagged " : "",
				 o->flagged ? det_pattern_name(o->pattern) : "",
				 !o->flagged && o->growing ? ", growing" : "");
			esc(f, buf);
		}
		fprintf(f, "</td></tr>\n");
	}
	if (r->nooms)
		fprintf(f, "</table>\n");
	fprintf(f, "<h2>Findings</h2>\n<p>");
	nfind = 0;
	for (int p = 0; p < DET_PATTERN_MAX; p++)
		if (r->findings[p])
			fprintf(f, "%s%u %s", nfind++ ? ", " : "", r->findings[p],
				det_pattern_name(p));
	fprintf(f, "%s</p>\n", nfind ? "" : "None.");
	fprintf(f,
		"<p class=\"note\">Made by forktrace %s from %llu records.</p>\n</body>\n</html>\n",
		FORKTRACE_VERSION, (unsigned long long)r->records);
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *u32_array(const uint32_t *v, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* Text any process chose, as a JSON string: jansson takes only UTF-8. */
static json_t *text(const char *s, size_t n)
{
	char clean[FT_ARGS_LEN * 3 + 1];

	utf8_clean(clean, sizeof(clean), s, n);
	return json_string(clean);
}

/* Append to an array, or count the failure (NULL from a builder). */
static void add(json_t *array, json_t *item, int *failed)
{
	if (!item || json_array_append_new(array, item))
		(*failed)++;
}

/* {"t": seconds into the recording, "count": N, "rules": [...]} */
static json_t *allow_set_json(const struct report *r, const struct allow_set *s, int *failed)
{
	json_t *rules = json_array();

	for (uint32_t i = 0; rules && i < s->nshown; i++)
		add(rules, text(s->rules[i], FT_ALLOW_LEN), failed);
	if (!rules)
		(*failed)++;
	return json_pack("{s:f, s:I, s:o}", "t",
			 s->ts_ns >= r->first_ns ? (double)(s->ts_ns - r->first_ns) / 1e9 : 0.0,
			 "count", (json_int_t)s->count, "rules", rules ? rules : json_array());
}

int report_write_json(FILE *f, struct report *r)
{
	json_t *doc = json_object(), *trees = json_array(), *alerts = json_array(),
	       *actions = json_array(), *ooms = json_array(), *t = json_array();
	int failed = !doc || !trees || !alerts || !actions || !ooms || !t;

	for (uint32_t k = 0; t && k < r->nsamples; k++)
		add(t, json_real((double)(r->sample_ns[k] - r->first_ns) / 1e9), &failed);
	for (uint32_t i = 0; trees && i < r->nseries; i++) {
		const struct series *s = &r->series[i];

		add(trees,
		    json_pack("{s:I, s:o, s:I, s:b, s:s, s:o}", "root", (json_int_t)s->root, "comm",
			      text(s->comm, sizeof(s->comm)), "peak", (json_int_t)s->peak,
			      "flagged", s->flagged, "pattern",
			      s->flagged ? det_pattern_name(s->pattern) : "", "live",
			      u32_array(s->live, r->nsamples)),
		    &failed);
	}
	for (uint32_t i = 0; alerts && i < r->nalerts; i++) {
		const struct alert *a = &r->alerts[i];

		add(alerts,
		    json_pack("{s:f, s:s, s:I, s:o, s:I, s:I, s:b, s:b, s:o}", "t",
			      (double)(a->v.ts_ns - r->first_ns) / 1e9, "pattern",
			      det_pattern_name(a->v.pattern), "root", (json_int_t)a->v.root, "comm",
			      text(a->comm, sizeof(a->comm)), "tasks", (json_int_t)a->v.tasks,
			      "peak", (json_int_t)a->peak, "ended", a->ended, "operator",
			      a->v.by_operator, "evidence",
			      text(a->v.evidence, sizeof(a->v.evidence))),
		    &failed);
	}
	for (uint32_t i = 0; actions && i < r->nactions; i++) {
		const struct policy_outcome *p = &r->actions[i].r;

		add(actions,
		    json_pack("{s:f, s:s, s:I, s:I, s:b, s:b, s:f}", "t",
			      (double)(p->ts_ns - r->first_ns) / 1e9, "action", p->action, "root",
			      (json_int_t)p->root, "signalled", (json_int_t)p->signalled,
			      "complete", p->complete, "operator", p->by_operator, "ms", p->ms),
		    &failed);
	}
	for (uint32_t i = 0; ooms && i < r->nooms; i++) {
		const struct oom *o = &r->ooms[i];

		add(ooms,
		    json_pack("{s:f, s:I, s:o, s:I, s:b}", "t",
			      (double)(o->ts_ns - r->first_ns) / 1e9, "pid", (json_int_t)o->pid,
			      "comm", text(o->comm, sizeof(o->comm)), "tree_root",
			      (json_int_t)o->root, "flagged", o->flagged),
		    &failed);
	}
	if (doc)
		failed +=
		    json_object_set_new(doc, "host", text(r->info.host, sizeof(r->info.host))) +
		    json_object_set_new(doc, "kernel",
					text(r->info.kernel, sizeof(r->info.kernel))) +
		    json_object_set_new(doc, "duration_s",
					json_real((double)(r->last_ns - r->first_ns) / 1e9)) +
		    json_object_set_new(doc, "records", json_integer((json_int_t)r->records)) +
		    json_object_set_new(doc, "lost", json_integer((json_int_t)r->lost)) +
		    json_object_set_new(doc, "t", t) +
		    json_object_set_new(doc, "live", u32_array(r->total_live, r->nsamples)) +
		    json_object_set_new(doc, "trees", trees) +
		    json_object_set_new(doc, "alerts", alerts) +
		    json_object_set_new(doc, "actions", actions) +
		    json_object_set_new(doc, "ooms", ooms);
	if (doc && r->allow_sets) { /* a run that could act (recording version 12 on) */
		failed += json_object_set_new(doc, "allow_rule_sets",
					      json_integer((json_int_t)r->allow_sets)) +
			  json_object_set_new(doc, "allow_rules_at_start",
					      allow_set_json(r, &r->allow_start, &failed)) +
			  json_object_set_new(doc, "allow_rules",
					      allow_set_json(r, &r->allow_last, &failed));
	}
	if (!failed)
		failed =
		    json_dumpf(doc, f, JSON_INDENT(1) | JSON_ENSURE_ASCII) || fputc('\n', f) < 0;
	json_decref(doc);
	return failed ? -1 : 0;
}

/* ---- folded stacks -------------------------------------------------------- */

/* "root;child;grandchild 1" per process: flamegraph.pl and speedscope read it. */
static void folded_picture(FILE *f, const struct picture *pic)
{
	const char *path[MAX_DEPTH];

	for (uint32_t k = 0; k < pic->n; k++) {
		const struct node *nd = &pic->nodes[k];

		path[nd->depth] = nd->comm;
		for (uint32_t d = 0; d <= nd->depth; d++) {
			char comm[FT_COMM_LEN];

			/* the separators are the format's: none in a name */
			snprintf(comm, sizeof(comm), "%s", path[d]);
			for (char *c = comm; *c; c++)
				if (*c == ';' || *c == ' ' || (unsigned char)*c < 0x20)
					*c = '_';
			fprintf(f, "%s%s", d ? ";" : "", comm);
		}
		fprintf(f, " 1\n");
	}
}

/* The flagged trees; with none, the trees that grew most, at their peak. */
void report_write_folded(FILE *f, const struct report *r)
{
	for (uint32_t i = 0; i < r->nalerts; i++)
		folded_picture(f, &r->alerts[i].pic);
	for (uint32_t i = 0; !r->nalerts && i < r->nseries; i++)
		folded_picture(f, &r->series[i].pic);
}
