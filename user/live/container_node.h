/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Containers read on this node (/proc, the cgroup2 mount, the runtimes'
 * OCI bundles under /run): what attribution and --container/--pod ask of
 * the host.  What a record says is user/core/container.h's.
 */
#ifndef FT_CONTAINER_NODE_H
#define FT_CONTAINER_NODE_H

#include "core/container.h"

/*
 * The same parse in a child with no capability, no-new-privs and
 * SECCOMP_MODE_STRICT (read, write, exit only), so a parser bug in a
 * tenant's config.json is a dead child: 1 named, 0 not, -1 not known (the
 * child failed, was killed or took too long).
 */
int ct_parse_bundle_confined(const char *json, size_t len, enum ct_runtime runtime,
			     struct ft_container *out, char *cgroups_path, size_t cglen);

/*
 * Where this node keeps what attribution reads: host_root prefixes the
 * host's paths when forktrace runs in a container ("" on the host).
 */
#define CT_BUNDLE_ROOTS 2

struct ct_node {
	char host_root[256];
	char cgroup2[512]; /* the cgroup2 mount, "" if none */
	/* where forktrace's cgroup namespace is rooted, as a path of that
	 * mount ("" when it is the host's): /proc/<pid>/cgroup paths are
	 * relative to it ("/../.." climbs out of a pod's) */
	char ns_root[1024];
	char bundle_roots[CT_BUNDLE_ROOTS][384]; /* containerd's k8s.io, CRI-O's */
};

/* -1 with a one-line reason in err (host_root missing) */
int ct_node_init(struct ct_node *n, const char *host_root, char *err, size_t errlen);

/* A process's cgroup2 id, read through the node's mount and namespace
 * root; 0 if it cannot be read (gone, no cgroup2). */
uint64_t ct_pid_cgroup_id(const struct ct_node *n, uint32_t pid);

/*
 * Fill out (a whole FT_EV_CONTAINER record) for cgroup_id: the path from
 * the id itself (a cgroup2 file handle: O(1), no walk), else from
 * /proc/<pid>/cgroup (then ppid's) checked against the id, else by walking
 * the cgroup2 mount: at most CT_WALK_PER_RESOLVE directories and no more
 * than *walk_budget, which it decrements (NULL: no walk); the container
 * from the path; the pod from the runtime's bundle.  CT_FOUND when the path
 * was found; CT_GONE when the cgroup no longer exists (asking again is
 * useless); CT_NOT_FOUND otherwise.
 */
enum ct_found { CT_NOT_FOUND, CT_GONE, CT_FOUND };
#define CT_WALK_PER_RESOLVE 2048
enum ct_found ct_resolve(const struct ct_node *n, uint64_t cgroup_id, uint32_t pid, uint32_t ppid,
			 struct ft_container *out, uint32_t *walk_budget);

/* --container ID (a unique prefix of >= 12 hex digits), --pod NAMESPACE/NAME:
 * the cgroup directory to filter on.  -1 with a one-line reason in err. */
int ct_container_cgroup(const struct ct_node *n, const char *id, char *path, size_t len, char *err,
			size_t errlen);
int ct_pod_cgroup(const struct ct_node *n, const char *ns_name, char *path, size_t len, char *err,
		  size_t errlen);

#endif /* FT_CONTAINER_NODE_H */
