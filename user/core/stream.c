// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <string.h>
#include "core/stream.h"
#include "core/container.h"

size_t ft_record_size(uint32_t type)
{
	switch (type) {
	case FT_EV_FORK:
		return sizeof(struct ft_fork);
	case FT_EV_EXEC:
		return sizeof(struct ft_exec);
	case FT_EV_EXIT:
		return sizeof(struct ft_exit);
	case FT_EV_OOM:
		return sizeof(struct ft_oom);
	case FT_EV_SNAPSHOT:
		return sizeof(struct ft_snapshot);
	case FT_EV_GONE:
		return sizeof(struct ft_header);
	case FT_EV_LOST:
		return sizeof(struct ft_lost);
	case FT_EV_RESYNC:
		return sizeof(struct ft_resync);
	case FT_EV_COUNTERS:
		return sizeof(struct ft_counters);
	case FT_EV_ACTION:
		return sizeof(struct ft_action);
	case FT_EV_CONTAINER:
		return sizeof(struct ft_container);
	case FT_EV_POLICY:
		return sizeof(struct ft_policy);
	case FT_EV_REAP:
		return sizeof(struct ft_reap);
	case FT_EV_FORK_FAIL:
		return sizeof(struct ft_fork_fail);
	case FT_EV_SETTINGS:
		return sizeof(struct ft_settings);
	case FT_EV_ALLOW:
		return sizeof(struct ft_allow_rule);
	case FT_EV_LIMITS:
		return sizeof(struct ft_limits);
	default:
		return 0;
	}
}

const char *ft_limit_name(uint32_t kind)
{
	static const char *const names[FT_LIMIT_KIND_MAX] = {
		[FT_LIMIT_PIDS_MAX] = "pids.max",
		[FT_LIMIT_PID_MAX] = "pid_max",
		[FT_LIMIT_THREADS_MAX] = "threads-max",
		[FT_LIMIT_NPROC] = "RLIMIT_NPROC",
	};

	return kind < FT_LIMIT_KIND_MAX && names[kind] ? names[kind] : "?";
}

const char *ft_type_name(uint32_t type)
{
	static const char *const names[FT_EV_MAX] = {
		[FT_EV_FORK] = "fork",	       [FT_EV_EXEC] = "exec",
		[FT_EV_EXIT] = "exit",	       [FT_EV_OOM] = "oom",
		[FT_EV_SNAPSHOT] = "snapshot", [FT_EV_GONE] = "gone",
		[FT_EV_LOST] = "lost",	       [FT_EV_RESYNC] = "resync",
		[FT_EV_COUNTERS] = "counters", [FT_EV_ACTION] = "action",
		[FT_EV_PROBE] = "probe",       [FT_EV_CONTAINER] = "container",
		[FT_EV_POLICY] = "policy",     [FT_EV_REAP] = "reap",
		[FT_EV_FORK_FAIL] = "fork_fail", [FT_EV_SETTINGS] = "settings",
		[FT_EV_ALLOW] = "allow",	       [FT_EV_LIMITS] = "limits",
	};

	return type < FT_EV_MAX && names[type] ? names[type] : "unknown";
}

bool ft_record_sane(union ft_record *rec)
{
	/* strings end inside their fields, whoever wrote them */
	rec->h.comm[FT_COMM_LEN - 1] = '\0';
	if (rec->h.type == FT_EV_EXEC)
		rec->exec.filename[FT_FILENAME_LEN - 1] = '\0';
	if (rec->h.type == FT_EV_SNAPSHOT)
		rec->snapshot.filename[FT_FILENAME_LEN - 1] = '\0';
	if (rec->h.type == FT_EV_CONTAINER)
		ct_record_terminate(&rec->container);
	if (rec->h.type == FT_EV_EXEC && rec->exec.args_len > FT_ARGS_LEN)
		rec->exec.args_len = FT_ARGS_LEN;
	if (rec->h.type == FT_EV_SNAPSHOT && rec->snapshot.args_len > FT_ARGS_LEN)
		rec->snapshot.args_len = FT_ARGS_LEN;
	if (rec->h.type == FT_EV_FORK_FAIL) /* the kernel records only these */
		return (rec->fork_fail.err == -EAGAIN || rec->fork_fail.err == -ENOMEM) &&
		       rec->fork_fail.syscall < FT_CALL_MAX && rec->fork_fail.count;
	if (rec->h.type == FT_EV_SETTINGS) {
		if (rec->settings.len >= FT_SETTINGS_LEN)
			return false;
		rec->settings.text[rec->settings.len] = '\0';
	}
	if (rec->h.type == FT_EV_ALLOW) {
		rec->allow.rule[FT_ALLOW_LEN - 1] = '\0';
		return rec->allow.count <= FT_ALLOW_MAX_RECORDS &&
		       (rec->allow.index < rec->allow.count ||
			(!rec->allow.count && !rec->allow.index));
	}
	if (rec->h.type == FT_EV_LIMITS) {
		if (rec->limits.n > FT_LIMITS_MAX)
			return false;
		for (uint32_t i = 0; i < rec->limits.n; i++)
			if (!rec->limits.lim[i].kind || rec->limits.lim[i].kind >= FT_LIMIT_KIND_MAX)
				return false;
		return true;
	}
	if (rec->h.type == FT_EV_POLICY) {
		rec->policy.why[sizeof(rec->policy.why) - 1] = '\0';
		/* what a replay turns back into a report must be one */
		return rec->policy.kind >= FT_POL_ACTION && rec->policy.kind <= FT_POL_FLAG &&
		       (rec->policy.sig == SIGKILL || rec->policy.sig == SIGSTOP ||
			rec->policy.sig == SIGCONT);
	}
	return true;
}

int ft_record_decode(const void *data, size_t size, union ft_record *out)
{
	struct ft_header h;

	/* copied, not cast: nothing says where data is aligned */
	if (size < sizeof(h))
		return -1;
	memcpy(&h, data, sizeof(h));
	if (size == sizeof(h) && h.type == FT_EV_PROBE)
		return 0;
	if (size > sizeof(*out) || h.size != size || ft_record_size(h.type) != size)
		return -1;
	memcpy(out, data, size);
	return ft_record_sane(out) ? 1 : -1;
}
