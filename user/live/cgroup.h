/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning a cgroup directory (v1 or v2) into what the BPF filter compares. */
#ifndef FT_CGROUP_H
#define FT_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct ft_cgroup_filter {
	uint64_t id;	/* kernfs node id: the directory's inode number */
	int32_t subsys; /* -1 for cgroup2, else the v1 controller's cgroup_subsys_id */
	char controller[32];
};

/* 0 on success; -1 with a one-line reason in err. */
int cgroup_resolve(const char *path, struct ft_cgroup_filter *out, char *err, size_t errlen);

#endif /* FT_CGROUP_H */
