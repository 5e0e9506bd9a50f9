/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The command line, parsed: what a run asks for, before any stage exists.
 */
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "contain/policy.h"
#include "core/detector.h"
#include "live/privs.h"
#include "live/source_live.h"

#define MAX_ARG_RULES POLICY_MAX_ALLOW

struct cli_opts {
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

/*
 * argv into c, the defaults first; a bad command line is reported by argp
 * (one line, exit 2) and never returns; -1 if argp failed otherwise.
 */
int cli_parse(int argc, char **argv, struct cli_opts *c);

/*
 * Thresholds and allow rules: defaults, then --config's file, then --set
 * and --allow.  At start and on SIGHUP; the mode, --act-on and
 * --dry-run are the command line's and stay.  -1 with a reason in err.
 */
int cli_load_settings(const struct cli_opts *c, struct det_config *detect,
		      struct policy_opts *policy, char *err, size_t errlen);

#endif /* FT_CLI_H */
