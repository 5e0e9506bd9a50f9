/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which container a process runs in, from its cgroup path alone: the
 * runtime's scope or directory name carries the container id, and
 * kubelet's slice or directory above it the pod's uid.  Pure: no /proc,
 * no runtime socket, no API server.
 */
#ifndef FT_CONTAINER_H
#define FT_CONTAINER_H

#include <stdbool.h>

enum ct_runtime {
	CT_NONE,       /* not in a container we recognise */
	CT_CONTAINERD, /* cri-containerd-ID.scope */
	CT_CRIO,       /* crio-ID.scope, crio-ID */
	CT_DOCKER,     /* docker-ID.scope, /docker/ID */
	CT_PODMAN,     /* libpod-ID.scope, /libpod_parent/libpod-ID */
	CT_UNKNOWN,    /* a bare ID (cgroupfs driver under kubepods, ...): any runtime */
};

#define CT_ID_LEN      64 /* the runtimes' ids: 64 hex digits */
#define CT_POD_UID_LEN 36 /* 8-4-4-4-12 */

struct ct_ref {
	enum ct_runtime runtime;
	char id[CT_ID_LEN + 1];
	char pod_uid[CT_POD_UID_LEN + 1]; /* "" outside Kubernetes */
};

/*
 * Parse one cgroup path (as in /proc/<pid>/cgroup, any hierarchy, cgroup2
 * or v1).  The innermost component naming a container wins, so a nested
 * path (podman's ".../libpod-ID.scope/container", a container inside a
 * container) reports the container the process is closest to.  Returns
 * true and fills out when the path names a container.
 */
bool ct_from_cgroup_path(const char *path, struct ct_ref *out);

const char *ct_runtime_name(enum ct_runtime r);

#endif /* FT_CONTAINER_H */
