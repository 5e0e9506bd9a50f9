// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace: trace process creation, exec, exit and OOM kills with eBPF,
 * rebuild the fork trees, record and replay the stream.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include "live/cgroup.h"
#include "config.h"
#include "core/container.h"
#include "live/container_node.h"
#include "core/defaults.h"
#include "core/detector.h"
#include "present/health.h"
#include "present/metrics.h"
#include "contain/policy.h"
#include "pipeline.h"
#include "live/privs.h"
#include "live/procfs.h"
#include "core/recording.h"
#include "front/report.h"
#include "live/source_live.h"
#include "front/topview.h"

#define STATS_INTERVAL_NS   200000000ull /* how often kernel loss counters are read */
#define POLL_TIMEOUT_MS	    50
#define VMLINUX_BTF	    "/sys/kernel/btf/vmlinux"
#define METRICS_INTERVAL_NS 1000000000ull /* how often the metrics text is rendered */
#define METRICS_TEXT_MAX    (256 * 1024)
#define MAX_ARG_RULES	    POLICY_MAX_ALLOW

static volatile sig_atomic_t exiting, reload;


struct config {
	bool json, tree, threads, verbose;
	double duration_s;
	const char *write_path, *read_path, *cgroup_path, *btf_path;
	uint32_t pid;
	enum live_attach attach;
	uint32_t ring_bytes, table_capacity, members_max;
	uint64_t grace_ns, wakeup_bytes;
	bool alerts_only;
	struct det_config detect;
	struct policy_opts policy;
	uint32_t guard_forks;
	bool wakeup_set; /* --wakeup-kb given: keep it even when acting */
	bool no_detect;
	uint32_t noop; /* enum ft_noop */
	bool no_refusals; /* --refused-forks=never */
	/* the settings SIGHUP re-reads: --config's file, then --set and --allow */
	const char *config_path;
	const char *sets[MAX_ARG_RULES], *allows[MAX_ARG_RULES];
	uint32_t nsets, nallows;
	/* node agent */
	bool agent;
	const char *output_path, *metrics_addr, *host_root, *container_id, *pod, *proc_root;
	const char *heartbeat_path, *health_check_path;
	struct privs_opts privs;
	bool top, log; /* --top, --log: the live view or lines, whatever stdout is */
	char err[512]; /* a --config/--set problem, reported after parsing */
};

const char *argp_program_version = "forktrace " FORKTRACE_VERSION;
const char *argp_program_bug_address = "the forktrace issue tracker";
/* every bad command line exits 2, argp's own complaints included */
error_t argp_err_exit_status = 2;

static const char doc[] =
    "Trace process forks, execs, exits and OOM kills with eBPF, and rebuild the fork trees.\n"
    "\n"
    "USAGE: forktrace [-j] [-d SEC] [-w FILE | -r FILE] [-p PID] [-c PATH] [-T] [--tree] [-v]\n"
    "       forktrace report RECORDING -o FILE [--format html|svg|json] [--folded FILE]\n"
    "\n"
    "EXAMPLES:\n"
    "    sudo forktrace                   # on a terminal: the live view (keys at the bottom)\n"
    "    sudo forktrace --log             # one line per fork, exec, exit and OOM kill\n"
    "    sudo forktrace -j -d 30 > ev.jl  # 30 s of JSON Lines (schema: docs/json.md)\n"
    "    sudo forktrace -p 1234 --tree    # only pid 1234's subtree, tree printed at exit\n"
    "    sudo forktrace -c /sys/fs/cgroup/system.slice/foo.service   # one cgroup\n"
    "    sudo forktrace -w incident.ftr   # record the stream for later\n"
    "    forktrace -r incident.ftr -j     # replay it (no root needed)\n"
    "    forktrace report incident.ftr -o incident.html   # a report to hand on\n"
    "    sudo forktrace -T                # include thread creation and exit\n"
    "    sudo forktrace --alerts -j       # only runaway alerts and findings\n"
    "    sudo forktrace --set min_tasks=32 --config /etc/forktrace.conf\n"
    "    sudo forktrace --kill            # kill runaway trees as they are flagged\n"
    "    sudo forktrace --kill --dry-run  # say what --kill would signal\n"
    "    sudo forktrace --stop --allow exe:/usr/bin/make   # freeze them for forensics\n"
    "    sudo forktrace --pod default/web-0 --tree         # one Kubernetes pod\n"
    "    sudo forktrace --agent --metrics 127.0.0.1:9465 --config /etc/forktrace.conf \\\n"
    "        --user 65534                 # node agent: JSON Lines, metrics, no root\n"
    "\n"
    "OPTIONS:";

enum {
	OPT_TREE = 1000,
	OPT_ATTACH,
	OPT_BTF,
	OPT_RING_MB,
	OPT_TABLE,
	OPT_GRACE,
	OPT_WAKEUP,
	OPT_ALERTS,
	OPT_CONFIG,
	OPT_SET,
	OPT_KILL,
	OPT_STOP,
	OPT_DRY_RUN,
	OPT_ALLOW,
	OPT_ACT_ON,
	OPT_GUARD,
	OPT_NO_DETECT,
	OPT_NOOP,
	OPT_AGENT,
	OPT_METRICS,
	OPT_HOST_ROOT,
	OPT_CONTAINER,
	OPT_POD,
	OPT_USER,
	OPT_TOP,
	OPT_LOG,
	OPT_RING_KB,
	OPT_MEMBERS,
	OPT_HEARTBEAT,
	OPT_HEALTH_CHECK,
	OPT_PROC,
	OPT_REFUSED,
};

static const struct argp_option options[] = {
	{ "top", OPT_TOP, NULL, 0,
	  "The live view: growing trees, rates, keys to stop, kill, continue and record (the "
	  "default when stdin and stdout are a terminal)",
	  0 },
	{ "log", OPT_LOG, NULL, 0, "Lines, even on a terminal (the default elsewhere)", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output (docs/json.md)", 0 },
	{ "duration", 'd', "SEC", 0, "Stop after SEC seconds", 0 },
	{ "write", 'w', "FILE", 0, "Record the event stream to FILE", 0 },
	{ "read", 'r', "FILE", 0, "Replay a recording instead of tracing", 0 },
	{ "pid", 'p', "PID", 0, "Only PID and its descendants", 0 },
	{ "cgroup", 'c', "PATH", 0, "Only tasks in this cgroup (v2, or a v1 controller) and below",
	  0 },
	{ "threads", 'T', NULL, 0, "Also show thread creation and exit", 0 },
	{ "tree", OPT_TREE, NULL, 0, "Print the rebuilt fork tree at the end", 0 },
	{ "verbose", 'v', NULL, 0,
	  "Show libbpf's log (verifier output on failure) and, with --kill/--stop, one line per "
	  "signal (else one ACTION line per tree)",
	  0 },
	{ "alerts", OPT_ALERTS, NULL, 0, "Print only alerts and findings (for runbooks, pagers)",
	  0 },
	{ "no-detect", OPT_NO_DETECT, NULL, 0, "Trace only: no runaway detection", 0 },
	{ "container", OPT_CONTAINER, "ID", 0,
	  "Only this container's tasks (its id or a prefix of >= 12 hex digits)", 0 },
	{ "pod", OPT_POD, "NS/NAME", 0, "Only this Kubernetes pod's tasks (on this node)", 0 },
	{ "output", 'o', "FILE", 0, "Write output to FILE (appended) instead of stdout", 0 },
	{ "agent", OPT_AGENT, NULL, 0,
	  "Node agent: JSON Lines of alerts, actions, OOM kills and losses; SIGHUP re-reads "
	  "--config (docs/kubernetes.md)",
	  3 },
	{ "metrics", OPT_METRICS, "ADDR:PORT", 0,
	  "Serve Prometheus metrics at /metrics and a health check at /healthz (loopback or the "
	  "pod IP; docs/metrics.md)",
	  3 },
	{ "heartbeat", OPT_HEARTBEAT, "FILE", 0,
	  "Write the time the ring buffer was last read to FILE, each second (for --health-check)",
	  3 },
	{ "health-check", OPT_HEALTH_CHECK, "FILE", 0,
	  "Exit 0 if --heartbeat's FILE says the ring buffer was read in the last 10 s, else 1: "
	  "a liveness probe no network client can starve",
	  3 },
	{ "user", OPT_USER, "UID[:GID]", 0,
	  "After attaching, run as this user with only the capabilities still needed", 3 },
	{ "host-root", OPT_HOST_ROOT, "DIR", 0,
	  "Where the host's /sys/fs/cgroup and /run are mounted when run in a container", 3 },
	{ "config", OPT_CONFIG, "FILE", 0,
	  "Detection thresholds (key = value lines, docs/detection.md) and allow = RULE "
	  "lines; SIGHUP re-reads it",
	  0 },
	{ "set", OPT_SET, "KEY=VALUE", 0, "One detection threshold (repeatable; after --config)",
	  0 },
	{ "kill", OPT_KILL, NULL, 0, "Kill flagged trees (in the kernel at fork, and pidfds)", 2 },
	{ "stop", OPT_STOP, NULL, 0, "Freeze flagged trees with SIGSTOP, for forensics", 2 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "With --kill/--stop: print what would be signalled", 2 },
	{ "allow", OPT_ALLOW, "RULE", 0,
	  "Never signal a process matching RULE (repeatable): exe:PATH (absolute; the running "
	  "executable, that very file), cgroup:PATH, unit:NAME (a systemd unit on its cgroup "
	  "path, e.g. sshd.service), uid:N, namespace:NS or pod:NS/NAME (Kubernetes, from the "
	  "container runtime's bundle), or comm:NAME (SPOOFABLE: any process can rename "
	  "itself with prctl(PR_SET_NAME); explicit opt-in only).  Added to the defaults: the "
	  "executables of systemd/init, sshd, containerd(-shim*), dockerd, runc, crio, conmon, "
	  "kubelet where this host has them.  Members that match are spared, the rest of the "
	  "tree is acted on",
	  2 },
	{ "act-on", OPT_ACT_ON, "PATTERNS", 0,
	  "Patterns that trigger --kill/--stop (fork_bomb,recursive_spawn,nested_pool,"
	  "thread_explosion,spawn_storm: its jobs, toward a limit; restart_loop only if listed)",
	  2 },
	{ "guard", OPT_GUARD, "FORKS", 0,
	  "In-kernel backstop: kill a tree whose descendants fork more than FORKS times in a "
	  "second, before user space decides (off by default; docs/containment.md)",
	  2 },
	{ "attach", OPT_ATTACH, "MODE", 0, "auto (default), tp_btf or raw_tp", 1 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use instead of /sys/kernel/btf/vmlinux", 1 },
	{ "ring-mb", OPT_RING_MB, "MB", 0, "Ring buffer size in MiB, a power of two (8)", 1 },
	{ "refused-forks", OPT_REFUSED, "WHEN", 0,
	  "Trace forks the kernel refuses: 'always' (the default; every syscall on the host "
	  "then takes the kernel's slower path, docs/performance.md) or 'never'",
	  1 },
	{ "ring-kb", OPT_RING_KB, "KB", 0,
	  "Ring buffer size in KiB, a power of two from the page size (tests of losses)", 1 },
	{ "table-size", OPT_TABLE, "N", 0, "Process table capacity (65536)", 1 },
	{ "members", OPT_MEMBERS, "N", 0,
	  "Processes of flagged trees the kernel can track (65536); beyond, sweeps catch them", 1 },
	{ "grace", OPT_GRACE, "SEC", 0, "Keep exited processes this long (5)", 1 },
	{ "proc", OPT_PROC, "DIR", 0,
	  "Read the processes at start and in re-syncs from DIR instead of /proc (tests and "
	  "benchmarks: a synthetic /proc)",
	  1 },
	{ "noop", OPT_NOOP, "record", OPTION_ARG_OPTIONAL,
	  "Benchmarking aid, in the benchmark build only (build/forktrace-bench): "
	  "attach the programs but have them return at once "
	  "(=record: write a bare record per event and drop it)",
	  1 },
	{ "wakeup-kb", OPT_WAKEUP, "KB", 0,
	  "Batch reader wakeups until KB are queued; 0 wakes an idle reader at once "
	  "(64; 0 with --kill/--stop)",
	  1 },
	{},
};

static int parse_number(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Thresholds and allow rules: defaults, then --config's file, then --set
 * and --allow.  At start and on SIGHUP; the mode, --act-on and
 * --dry-run are the command line's and stay.
 */
static int load_settings(const struct config *c, struct det_config *detect,
			 struct policy_opts *policy, char *err, size_t errlen)
{
	struct policy_opts fresh;
	char why[400];

	det_config_defaults(detect);
	/* exe: rules, the defaults too, name the node's files */
	policy_defaults_at(&fresh, c->host_root);
	fresh.mode = policy->mode;
	fresh.dry_run = policy->dry_run;
	fresh.act_on = policy->act_on;
	if (c->config_path &&
	    config_load(c->config_path, detect, &fresh, err, errlen))
		return -1;
	for (uint32_t i = 0; i < c->nsets; i++)
		if (det_config_set(detect, c->sets[i], why, sizeof(why))) {
			snprintf(err, errlen, "--set %s", why);
			return -1;
		}
	for (uint32_t i = 0; i < c->nallows; i++)
		if (policy_add_allow(&fresh, c->allows[i], err, errlen))
			return -1;
	*policy = fresh;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct config *c = state->input;
	double v;

	switch (key) {
	case 'j':
		c->json = true;
		break;
	case 'd':
		if (parse_number(arg, 0.001, 1e7, &v))
			argp_failure(state, 2, 0, "invalid duration '%s': want seconds > 0", arg);
		c->duration_s = v;
		break;
	case 'w':
		c->write_path = arg;
		break;
	case 'r':
		c->read_path = arg;
		break;
	case 'p':
		if (parse_number(arg, 1, 4194304, &v) || v != (uint32_t)v)
			argp_failure(state, 2, 0, "invalid pid '%s'", arg);
		c->pid = (uint32_t)v;
		break;
	case 'c':
		c->cgroup_path = arg;
		break;
	case 'T':
		c->threads = true;
		break;
	case OPT_TREE:
		c->tree = true;
		break;
	case 'v':
		c->verbose = true;
		break;
	case OPT_ATTACH:
		if (!strcmp(arg, "auto"))
			c->attach = LIVE_ATTACH_AUTO;
		else if (!strcmp(arg, "tp_btf"))
			c->attach = LIVE_ATTACH_TP_BTF;
		else if (!strcmp(arg, "raw_tp"))
			c->attach = LIVE_ATTACH_RAW_TP;
		else
			argp_failure(state, 2, 0,
				     "invalid --attach '%s': want auto, tp_btf or raw_tp", arg);
		break;
	case OPT_BTF:
		c->btf_path = arg;
		break;
	case OPT_RING_MB:
		if (parse_number(arg, 1, 1024, &v) || v != (uint32_t)v ||
		    ((uint32_t)v & ((uint32_t)v - 1)))
			argp_failure(state, 2, 0,
				     "invalid --ring-mb '%s': want a power of two, 1..1024", arg);
		c->ring_bytes = (uint32_t)v << 20;
		break;
	case OPT_RING_KB:
		if (parse_number(arg, (double)sysconf(_SC_PAGESIZE) / 1024, 1 << 20, &v) ||
		    v != (uint32_t)v || ((uint32_t)v & ((uint32_t)v - 1)))
			argp_failure(
			    state, 2, 0,
			    "invalid --ring-kb '%s': want a power of two, page size..1048576", arg);
		c->ring_bytes = (uint32_t)v << 10;
		break;
	case OPT_MEMBERS:
		if (parse_number(arg, 16, 1 << 24, &v) || v != (uint32_t)v)
			argp_failure(state, 2, 0, "invalid --members '%s': want 16..16777216", arg);
		c->members_max = (uint32_t)v;
		break;
	case OPT_TABLE:
		if (parse_number(arg, 64, 1 << 24, &v) || v != (uint32_t)v)
			argp_failure(state, 2, 0, "invalid --table-size '%s': want 64..16777216",
				     arg);
		c->table_capacity = (uint32_t)v;
		break;
	case OPT_GRACE:
		if (parse_number(arg, 0, 86400, &v))
			argp_failure(state, 2, 0, "invalid --grace '%s': want seconds, 0..86400",
				     arg);
		c->grace_ns = (uint64_t)(v * 1e9);
		break;
	case OPT_WAKEUP:
		if (parse_number(arg, 0, 1 << 20, &v) || v != (uint32_t)v)
			argp_failure(state, 2, 0, "invalid --wakeup-kb '%s'", arg);
		c->wakeup_bytes = (uint64_t)v << 10;
		c->wakeup_set = true;
		break;
	case OPT_ALERTS:
		c->alerts_only = true;
		break;
	case OPT_CONFIG:
		c->config_path = arg;
		break;
	case OPT_SET:
		if (c->nsets == MAX_ARG_RULES)
			argp_failure(state, 2, 0, "--set: at most %d", MAX_ARG_RULES);
		c->sets[c->nsets++] = arg;
		break;
	case OPT_NO_DETECT:
		c->no_detect = true;
		break;
	case OPT_REFUSED:
		if (strcmp(arg, "always") && strcmp(arg, "never"))
			argp_failure(state, 2, 0,
				     "invalid --refused-forks '%s': want always or never", arg);
		c->no_refusals = !strcmp(arg, "never");
		break;
	case OPT_NOOP:
		if (arg && strcmp(arg, "record"))
			argp_failure(state, 2, 0, "invalid --noop '%s' (only --noop=record)", arg);
		c->noop = arg ? FT_NOOP_RECORD : FT_NOOP_IDLE;
		break;
	case OPT_KILL:
	case OPT_STOP:
		if (c->policy.mode != POLICY_OBSERVE)
			argp_failure(state, 2, 0, "--kill and --stop cannot be combined");
		c->policy.mode = key == OPT_KILL ? POLICY_KILL : POLICY_STOP;
		break;
	case OPT_DRY_RUN:
		c->policy.dry_run = true;
		break;
	case OPT_ALLOW:
		if (c->nallows == MAX_ARG_RULES)
			argp_failure(state, 2, 0, "--allow: at most %d rules", MAX_ARG_RULES);
		c->allows[c->nallows++] = arg;
		break;
	case OPT_AGENT:
		c->agent = c->json = true;
		break;
	case 'o':
		c->output_path = arg;
		break;
	case OPT_METRICS:
		c->metrics_addr = arg;
		break;
	case OPT_HOST_ROOT:
		c->host_root = arg;
		break;
	case OPT_HEARTBEAT:
		c->heartbeat_path = arg;
		break;
	case OPT_HEALTH_CHECK:
		c->health_check_path = arg;
		break;
	case OPT_PROC:
		c->proc_root = arg;
		break;
	case OPT_CONTAINER:
		c->container_id = arg;
		break;
	case OPT_POD:
		if (!strchr(arg, '/') || arg[0] == '/' || !strchr(arg, '/')[1])
			argp_failure(state, 2, 0, "--pod '%s': want NAMESPACE/NAME", arg);
		c->pod = arg;
		break;
	case OPT_USER:
		if (privs_parse_user(arg, &c->privs, c->err, sizeof(c->err)))
			argp_failure(state, 2, 0, "%s", c->err);
		break;
	case OPT_TOP:
		c->top = true;
		break;
	case OPT_LOG:
		c->log = true;
		break;
	case OPT_ACT_ON:
		if (policy_set_act_on(&c->policy, arg, c->err, sizeof(c->err)))
			argp_failure(state, 2, 0, "%s", c->err);
		break;
	case OPT_GUARD:
		if (parse_number(arg, 1, 1e7, &v) || v != (uint32_t)v)
			argp_failure(state, 2, 0, "invalid --guard '%s': want a fork count", arg);
		c->guard_forks = (uint32_t)v;
		break;
	case ARGP_KEY_ARG:
		argp_failure(state, 2, 0, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (c->read_path && c->write_path)
			argp_failure(state, 2, 0, "-r and -w cannot be combined");
		if (c->read_path && c->cgroup_path)
			argp_failure(state, 2, 0,
				     "-c filters in the kernel and has no effect with -r");
		if (c->read_path && c->policy.mode != POLICY_OBSERVE)
			argp_failure(state, 2, 0,
				     "--kill/--stop act on live processes, not with -r");
		if (c->policy.dry_run && c->policy.mode == POLICY_OBSERVE)
			argp_failure(state, 2, 0, "--dry-run goes with --kill or --stop");
		if (c->no_detect && (c->policy.mode != POLICY_OBSERVE || c->alerts_only))
			argp_failure(state, 2, 0,
				     "--no-detect leaves nothing to act on or alert about");
		if (c->guard_forks && c->policy.mode != POLICY_KILL)
			argp_failure(state, 2, 0, "--guard goes with --kill");
		if (!!c->cgroup_path + !!c->container_id + !!c->pod > 1)
			argp_failure(state, 2, 0, "-c, --container and --pod: one at a time");
		if (c->read_path &&
		    (c->container_id || c->pod || c->metrics_addr || c->agent || c->privs.user_set ||
		     c->heartbeat_path))
			argp_failure(state, 2, 0,
				     "--container, --pod, --metrics, --heartbeat, --agent and --user "
				     "are for live tracing, not -r");
		if (c->top && (c->log || c->read_path || c->json || c->alerts_only ||
			       c->no_detect || c->output_path || c->tree || c->threads))
			argp_failure(state, 2, 0,
				     "--top is a live screen: not with --log, -r, -j, --agent, "
				     "--alerts, --no-detect, -o, --tree or -T");
		if (c->top && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
			argp_failure(
			    state, 2, 0,
			    "--top needs a terminal on stdin and stdout (--log for lines)");
		/* a person at a terminal gets the view unless lines were asked for */
		if (!c->top && !c->log && !c->read_path && !c->json && !c->alerts_only &&
		    !c->no_detect && !c->output_path && !c->tree && !c->threads && !c->pid &&
		    isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			c->top = true;
		if (load_settings(c, &c->detect, &c->policy, c->err, sizeof(c->err)))
			argp_failure(state, 2, 0, "%s", c->err);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		exiting = 1;
}

static void on_hangup_quit(int sig)
{
	exiting = 1;
}

/* hangup_quits: the live view's terminal went away (ssh dropped): end,
 * rather than run on unseen; elsewhere SIGHUP re-reads the settings */
static int install_signals(bool hangup_quits)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction hup = { .sa_handler = hangup_quits ? on_hangup_quit : on_signal };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&hup.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &hup, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a write error */
	return 0;
}

static struct pipeline_opts pipeline_options(const struct config *c)
{
	struct pipeline_opts po = {
		.out = stdout,
		.format = c->json ? OUT_JSON : OUT_HUMAN,
		.tree = c->tree,
		.root_pid = c->pid,
		.table_capacity = c->table_capacity,
		.grace_ns = c->grace_ns,
		.write_path = c->write_path,
		.show_threads = c->threads,
		.alerts_only = c->alerts_only,
		.agent = c->agent,
		.detect = c->detect,
		/* a replay takes the recording's settings unless told others */
		.settings_fixed = c->config_path || c->nsets,
		.policy = c->policy,
		.no_detect = c->no_detect,
		.verbose = c->verbose,
	};
	return po;
}

/* The live actuator: BPF maps for the kernel path, pidfds for the sweep. */
static int act_flag_tree(void *ctx, uint32_t tree, uint32_t sig)
{
	return live_set_tree_signal(ctx, tree, sig);
}

static int act_add_member(void *ctx, uint32_t tgid, uint64_t start_ticks, uint32_t tree)
{
	return live_add_member(ctx, tgid, start_ticks, tree);
}

static int act_signal(void *ctx, uint32_t pid, uint64_t start_ticks, int sig)
{
	return policy_signal_pidfd(pid, start_ticks, sig);
}

static char act_state(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	return policy_proc_state(pid, start_ticks);
}

static bool act_in_cgroup(void *ctx, uint32_t pid, const char *path)
{
	return policy_proc_in_cgroup(pid, path);
}

static int act_exe(void *ctx, uint32_t pid, uint64_t start_ticks, char *path, size_t len,
		   uint64_t *dev, uint64_t *ino)
{
	return policy_proc_exe(pid, start_ticks, path, len, dev, ino);
}

static bool act_in_unit(void *ctx, uint32_t pid, const char *unit)
{
	return policy_proc_in_unit(pid, unit);
}

/*
 * A fork bomb saturates every CPU with runnable tasks; a tracer at normal
 * priority then reads its records seconds late and acts on a tree already
 * at its cap.  Acting needs the CPU first: real-time round robin at a low
 * priority when --kill/--stop (it sleeps in epoll otherwise, and RT
 * throttling bounds any mistake), the best nice value when observing.
 * Memory is locked so a host under memory pressure does not page it out.
 */
static bool claim_priority(bool acting)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (!acting || sched_setscheduler(0, SCHED_RR, &sp))
		setpriority(PRIO_PROCESS, 0, -20);
	/* MCL_FUTURE makes every later allocation a locked one: without a
	 * limit, they keep working once CAP_IPC_LOCK is dropped (privs.h) */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	/* on fault: the tables' untouched slots stay unallocated (idle RSS),
	 * every page in use stays in memory */
	return !mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) ||
	       !mlockall(MCL_CURRENT | MCL_FUTURE);
}

/* -o FILE: appended to, a line at a time (a log shipper reads it live) */
static int open_output(const char *path, FILE **out, struct pipeline_opts *po, char *err,
		       size_t errlen)
{
	*out = fopen(path, "ae");
	if (!*out) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(*out, NULL, _IOLBF, 0);
	po->out = *out;
	return 0;
}

static int replay(const struct config *c)
{
	struct pipeline_opts po = pipeline_options(c);
	struct pipeline *p = NULL;
	struct ft_reader *r = NULL;
	struct ft_run_info info;
	union ft_record rec;
	char err[512] = "", rerr[512] = "";
	uint64_t last_ts = 0;
	FILE *out = NULL;
	int ret = 1, got;

	if (c->output_path && open_output(c->output_path, &out, &po, err, sizeof(err)))
		goto cleanup;
	if (ft_reader_open(c->read_path, &info, &r, err, sizeof(err)))
		goto cleanup;
	if (pipeline_new(&po, &info, &p, err, sizeof(err)))
		goto cleanup;
	pipeline_start(p, "replay", (uint32_t)getpid());
	while (!exiting && (got = ft_reader_next(r, &rec, rerr, sizeof(rerr))) > 0) {
		if (rec.h.ts_ns > last_ts)
			last_ts = rec.h.ts_ns;
		if (pipeline_feed(p, &rec))
			break;
	}
	if (pipeline_finish(p, last_ts, err, sizeof(err)))
		goto cleanup;
	if (pipeline_error(p))
		snprintf(err, sizeof(err), "%s", pipeline_error(p));
	else if (rerr[0])
		snprintf(err, sizeof(err), "%s", rerr); /* after printing what was good */
	else
		ret = 0;
cleanup:
	fflush(po.out);
	if (ferror(po.out) && ret == 0) {
		snprintf(err, sizeof(err), "writing output: %s", strerror(errno));
		ret = 1;
	}
	if (err[0])
		fprintf(stderr, "forktrace: %s\n", err);
	pipeline_free(p);
	ft_reader_close(r);
	if (out)
		fclose(out);
	return ret;
}

/* --container/--pod: the directory -c would have named */
static int scope_cgroup(const struct config *c, const struct ct_node *node, char *path, size_t len,
			char *err, size_t errlen)
{
	if (c->container_id)
		return ct_container_cgroup(node, c->container_id, path, len, err, errlen);
	if (c->pod)
		return ct_pod_cgroup(node, c->pod, path, len, err, errlen);
	snprintf(path, len, "%s", c->cgroup_path ? c->cgroup_path : "");
	return 0;
}

/* Render the metrics text and hand it to the server's thread. */
static void publish_metrics(struct metrics_server *m, struct pipeline *p, const char *kernel,
			    uint64_t now, char *text)
{
	struct metrics_sample *sample = calloc(1, sizeof(*sample));
	size_t n;

	if (!sample)
		return;
	sample->kernel = kernel;
	pipeline_sample(p, now, sample);
	n = metrics_render(sample, text, METRICS_TEXT_MAX);
	if (metrics_publish(m, text, n))
		fprintf(stderr, "forktrace: metrics: out of memory\n");
	free(sample);
}

/*
 * SIGHUP and -o FILE: write to a new FILE from now on (log rotation moved
 * the old one away).  The same stream and descriptor, so nothing that holds
 * them notices; if the file cannot be opened, the old one stays.
 */
static void reopen_output(const char *path, FILE *out)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "forktrace: SIGHUP: cannot reopen %s: %s (still writing the old)\n",
			path, strerror(errno));
		return;
	}
	fflush(out);
	if (dup3(fd, fileno(out), O_CLOEXEC) < 0)
		fprintf(stderr, "forktrace: SIGHUP: cannot reopen %s: %s\n", path, strerror(errno));
	close(fd);
}

/* SIGHUP: --config again; a bad file keeps the settings running now. */
static void reload_settings(const struct config *c, struct pipeline *p)
{
	struct policy_opts policy = c->policy;
	struct det_config detect;
	char err[512];

	if (load_settings(c, &detect, &policy, err, sizeof(err))) {
		fprintf(stderr, "forktrace: SIGHUP: %s (settings unchanged)\n", err);
		return;
	}
	pipeline_reconfigure(p, &detect, &policy);
	pipeline_note_settings(p, procfs_boot_ns());
	fprintf(stderr, "forktrace: SIGHUP: settings re-read%s%s\n", c->config_path ? " from " : "",
		c->config_path ? c->config_path : "");
}

static int trace_live(struct config *c)
{
	struct pipeline_opts po = pipeline_options(c);
	struct live_opts lo = {
		.threads = c->threads,
		.attach = c->attach,
		/*
		 * Named even by default: without a file, libbpf also reads the
		 * modules' BTF, listed by BPF_BTF_GET_NEXT_ID, which needs
		 * CAP_SYS_ADMIN; every type forktrace relocates is vmlinux's.
		 */
		.btf_path = c->btf_path			     ? c->btf_path
			    : access(VMLINUX_BTF, R_OK) == 0 ? VMLINUX_BTF
							     : NULL,
		.ring_bytes = c->ring_bytes,
		.members_max = c->members_max,
		/* acting: every record may be the one that flags a tree, so wake
		 * the reader as soon as it is idle (unless told otherwise) */
		.wakeup_bytes =
		    c->policy.mode != POLICY_OBSERVE && !c->wakeup_set ? 0 : c->wakeup_bytes,
		/* the live view's s and k act through the kernel too */
		.load_containment = (c->policy.mode != POLICY_OBSERVE && !c->policy.dry_run) || c->top,
		.guard_forks = c->policy.dry_run ? 0 : c->guard_forks,
		.guard_window_ns = 1000000000ull,
		.guard_sig = SIGKILL,
		.noop = c->noop,
	};
	struct policy_ops ops = {
		.flag_tree = act_flag_tree,
		.add_member = act_add_member,
		.signal = act_signal,
		.state = act_state,
		.in_cgroup = act_in_cgroup,
		.exe = act_exe,
		.in_unit = act_in_unit,
	};
	uint64_t stats[FT_STAT_MAX], deadline = 0, next_stats = 0, next_metrics = 0, now;
	struct metrics_server *metrics = NULL;
	struct health heartbeat = { .fd = -1 };
	struct topview *view = NULL;
	struct live_safety_rules *safety = NULL;
	struct live_source *src = NULL;
	struct pipeline *p = NULL;
	struct ct_node *node = NULL;
	struct ft_run_info info;
	char err[512] = "", scope[PATH_MAX] = "", *metrics_text = NULL;
	FILE *out = NULL;
	int ret = 1, n;
	bool busy = false;

	if (c->pid && kill((pid_t)c->pid, 0) && errno == ESRCH) {
		snprintf(err, sizeof(err), "-p %u: no such process", c->pid);
		goto cleanup;
	}
	node = calloc(1, sizeof(*node));
	if (!node) {
		snprintf(err, sizeof(err), "out of memory");
		goto cleanup;
	}
	if (ct_node_init(node, c->host_root, err, sizeof(err)) ||
	    scope_cgroup(c, node, scope, sizeof(scope), err, sizeof(err)))
		goto cleanup;
	if (scope[0] && cgroup_resolve(scope, &lo.cgroup, err, sizeof(err)))
		goto cleanup;
	po.containers = node;
	if (c->proc_root) {
		struct stat st;

		if (stat(c->proc_root, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, sizeof(err), "--proc %s: not a directory", c->proc_root);
			goto cleanup;
		}
		po.proc_root = c->proc_root;
	}
	if (c->output_path && open_output(c->output_path, &out, &po, err, sizeof(err)))
		goto cleanup;
	/* the view draws the screen: no lines */
	if (c->top)
		po.out = NULL;
	if (lo.load_containment) {
		safety = calloc(1, sizeof(*safety));
		if (!safety) {
			snprintf(err, sizeof(err), "out of memory");
			goto cleanup;
		}
		policy_kernel_rules(&c->policy, safety);
		lo.safety = safety;
	}
	if (live_open(&lo, &src, &info, err, sizeof(err)))
		goto cleanup;
	ops.ctx = src;
	po.host_limits = true;
	if (c->policy.mode != POLICY_OBSERVE || c->top)
		po.actuator = &ops;
	if (pipeline_new(&po, &info, &p, err, sizeof(err)))
		goto cleanup;
	if (c->heartbeat_path && health_open(c->heartbeat_path, &heartbeat, err, sizeof(err)))
		goto cleanup;
	/* real-time for verdicts that act; the view's keys wait for a person */
	c->privs.memory_locked = claim_priority(c->policy.mode != POLICY_OBSERVE);
	/* attached, files and port open: what is left needs far less */
	/*
	 * Refused forks: attached now or never, as attaching takes the
	 * privileges dropped below (perf_event_open).  Without them (a kernel
	 * without syscall tracepoints, a container without tracefs or
	 * CAP_PERFMON) forktrace runs on, and says so.
	 */
	if (!c->no_refusals && live_trace_refusals(src, true) < 0)
		fprintf(stderr, "forktrace: refused forks are not traced: %s\n", strerror(errno));
	c->privs.signals = lo.load_containment;
	c->privs.bpf_probe = live_probe_maps;
	c->privs.probe_ctx = src;
	if (privs_drop(&c->privs, err, sizeof(err)))
		goto cleanup;
	/* after the drop: capabilities and no-new-privs are per thread, and
	 * the server's thread is the one that faces the network */
	if (c->metrics_addr) {
		metrics_text = malloc(METRICS_TEXT_MAX);
		if (!metrics_text) {
			snprintf(err, sizeof(err), "out of memory");
			goto cleanup;
		}
		if (metrics_start(c->metrics_addr, &metrics, err, sizeof(err)))
			goto cleanup;
	}
	if (c->verbose) {
		char caps[256];

		privs_describe(caps, sizeof(caps));
		fprintf(stderr, "forktrace: running as uid %u with %s\n", (unsigned)getuid(), caps);
	}
	/* every program is attached: say so, then learn who was already running */
	now = procfs_boot_ns();
	if (metrics) /* healthy from here on, while the loop reads */
		metrics_heartbeat(metrics, now);
	health_beat(&heartbeat, now);
	pipeline_start(p, "live", (uint32_t)getpid());
	pipeline_note_settings(p, now);
	if (procfs_snapshot(c->proc_root, now, 0, pipeline_feed, p) < 0) {
		snprintf(err, sizeof(err), "cannot read %s: %s", c->proc_root ? c->proc_root : "/proc",
			 strerror(errno));
		goto cleanup;
	}
	if (c->pid && !pipeline_root_known(p)) {
		snprintf(err, sizeof(err), "-p %u: process exited before tracing started", c->pid);
		goto cleanup;
	}
	{
		/* reaps are traced from here on (a reap of pid 0, in the stream
		 * and its recording): an exited child is a zombie until its reap
		 * record comes, however quiet the host */
		struct ft_reap traced = { .h = { .type = FT_EV_REAP, .size = sizeof(traced),
						 .ts_ns = now } };

		pipeline_feed(p, (const union ft_record *)&traced);
	}
	if (c->duration_s > 0)
		deadline = now + (uint64_t)(c->duration_s * 1e9);
	if (c->top) {
		struct topview_opts vo = {
			.mode = c->policy.mode == POLICY_OBSERVE ? "observe"
				: c->policy.dry_run
				    ? (c->policy.mode == POLICY_KILL ? "kill (dry run)"
								     : "stop (dry run)")
				: c->policy.mode == POLICY_KILL ? "kill"
								: "stop",
			.host = info.host,
			.can_act = true,
		};

		if (topview_open(&vo, p, &view, err, sizeof(err)))
			goto cleanup;
	}
	while (!exiting && !pipeline_error(p)) {
		/* while a tree is being swept, come back every few ms */
		n = live_poll(src, busy ? 2 : POLL_TIMEOUT_MS, pipeline_feed, p);
		if (n < 0 && n != -EINTR) {
			snprintf(err, sizeof(err), "reading the ring buffer: %s", strerror(-n));
			goto cleanup;
		}
		now = procfs_boot_ns();
		busy = pipeline_tick(p, now);
		if (po.out)
			fflush(po.out);

		if (now >= next_stats) {
			next_stats = now + STATS_INTERVAL_NS;
			/* losses first get their LOST records, then /proc fills the gap */
			if (live_read_stats(src, stats) == 0 &&
			    pipeline_note_kernel_stats(p, stats, now) && pipeline_resync(p, now))
				fprintf(stderr, "forktrace: re-sync from /proc failed: %s\n",
					strerror(errno));
		}
		if (reload) {
			reload = 0;
			/* what happened before the SIGHUP is judged by the settings
			 * it happened under (the poll it interrupted read nothing) */
			live_poll(src, 0, pipeline_feed, p);
			reload_settings(c, p);
			if (out && c->output_path)
				reopen_output(c->output_path, out);
		}
		health_beat(&heartbeat, now);
		if (metrics) {
			metrics_heartbeat(metrics, now);
			if (now >= next_metrics) {
				next_metrics = now + METRICS_INTERVAL_NS;
				publish_metrics(metrics, p, info.kernel, now, metrics_text);
			}
		}
		if (view && topview_tick(view, now))
			break;
		if (deadline && now >= deadline)
			break;
	}
	/*
	 * Drain what the kernel queued before we stopped, then one last tick:
	 * what the records so far decide (a swept tree found empty, an
	 * action's outcome) is in the output when we exit, so whoever stops us
	 * right after an event needs no grace period to see its consequences.
	 */
	live_poll(src, 0, pipeline_feed, p);
	now = procfs_boot_ns();
	if (live_read_stats(src, stats) == 0) {
		if (pipeline_note_kernel_stats(p, stats, now))
			pipeline_resync(p, now);
		pipeline_note_counters(p, stats, now);
	}
	pipeline_tick(p, now);
	if (pipeline_finish(p, now, err, sizeof(err)))
		goto cleanup;
	if (pipeline_error(p)) {
		snprintf(err, sizeof(err), "%s", pipeline_error(p));
		goto cleanup;
	}
	ret = 0;
cleanup:
	/* the terminal back first: what follows is printed on it */
	topview_close(view);
	if (po.out)
		fflush(po.out);
	if (po.out && ferror(po.out) && ret == 0) {
		snprintf(err, sizeof(err), "writing output: %s", strerror(errno));
		ret = 1;
	}
	if (err[0])
		fprintf(stderr, "forktrace: %s\n", err);
	pipeline_free(p);
	metrics_stop(metrics);
	health_close(&heartbeat);
	live_close(src);
	free(metrics_text);
	free(safety);
	free(node);
	if (out)
		fclose(out);
	return ret;
}

int main(int argc, char **argv)
{
	struct config c = {
		.ring_bytes = 8u << 20,
		.table_capacity = FT_TABLE_DEFAULT,
		.grace_ns = FT_GRACE_NS_DEFAULT,
		.wakeup_bytes = 64u << 10,
	};
	const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };

	if (argc > 1 && !strcmp(argv[1], "report")) {
		argv[1] = "forktrace report"; /* how its messages name it */
		return report_main(argc - 1, argv + 1);
	}
	det_config_defaults(&c.detect);
	policy_defaults(&c.policy); /* the mode and --act-on start here */
	if (argp_parse(&argp, argc, argv, 0, NULL, &c))
		return 2;
	/* the kubelet's exec probe: nothing else is started */
	if (c.health_check_path)
		return health_check(c.health_check_path, procfs_boot_ns(), METRICS_HEALTH_MAX_NS,
				    stderr);
	libbpf_set_print(c.verbose ? libbpf_print : NULL);
	/*
	 * Before anything slow: a SIGINT during the BPF load must end the run
	 * cleanly, and a shell starts background jobs with SIGINT ignored, so
	 * until the handler is in place an early SIGINT would be lost.
	 */
	if (install_signals(c.top)) {
		fprintf(stderr, "forktrace: cannot install signal handlers: %s\n", strerror(errno));
		return 1;
	}
	return c.read_path ? replay(&c) : trace_live(&c);
}
