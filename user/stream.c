// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "stream.h"

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
	default:
		return 0;
	}
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
		[FT_EV_POLICY] = "policy",
	};

	return type < FT_EV_MAX && names[type] ? names[type] : "unknown";
}
