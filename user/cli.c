// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace's command line: the options, their checks against each other,
 * and the settings they name (--config, --set, --allow), into struct
 * cli_opts.  main.c then wires the stages a run needs.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "config.h"
#include "core/defaults.h"

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
    "        --user 60600                 # node agent: JSON Lines, metrics, no root\n"
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

int cli_load_settings(const struct cli_opts *c, struct det_config *detect,
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
	struct cli_opts *c = state->input;
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
		if (cli_load_settings(c, &c->detect, &c->policy, c->err, sizeof(c->err)))
			argp_failure(state, 2, 0, "%s", c->err);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *c)
{
	const struct argp argp = { options, parse_arg, NULL, doc, NULL, NULL, NULL };

	*c = (struct cli_opts){
		.ring_bytes = 8u << 20,
		.table_capacity = FT_TABLE_DEFAULT,
		.grace_ns = FT_GRACE_NS_DEFAULT,
		.wakeup_bytes = 64u << 10,
	};
	det_config_defaults(&c->detect);
	policy_defaults(&c->policy); /* the mode and --act-on start here */
	return argp_parse(&argp, argc, argv, 0, NULL, c) ? -1 : 0;
}
