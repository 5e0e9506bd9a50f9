/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which container and pod a process runs in: the runtime's scope or
 * directory name in its cgroup path carries the container id, kubelet's
 * slice or directory above it the pod's uid (pure parsers), and the CRI
 * runtime's OCI bundle the pod's names (read on the node: /proc, the
 * cgroup2 mount, /run; no runtime socket, no API server).
 */
#ifndef FT_CONTAINER_H
#define FT_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "forktrace.h"

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

/*
 * The pod, its namespace and uid and the container's name from an OCI
 * bundle's config.json, with the keys of the runtime that wrote it
 * (CT_CONTAINERD: io.kubernetes.cri.sandbox-name, ...; CT_CRIO:
 * io.kubernetes.pod.name, ...), and its linux.cgroupsPath ("" if none)
 * into cgroups_path when given.  Pure.  Returns true, with FT_CT_ANNOTATED
 * set, when the annotations name a pod.
 */
bool ct_parse_bundle_config(const char *json, size_t len, enum ct_runtime runtime,
			    struct ft_container *out, char *cgroups_path, size_t cglen);
/*
 * The same parse in a child with no capability, no-new-privs and
 * SECCOMP_MODE_STRICT (read, write, exit only), so a parser bug in a
 * tenant's config.json is a dead child: 1 named, 0 not, -1 not known (the
 * child failed, was killed or took too long).
 */
int ct_parse_bundle_confined(const char *json, size_t len, enum ct_runtime runtime,
			     struct ft_container *out, char *cgroups_path, size_t cglen);

/* The cgroup path (from the hierarchy's root) a cgroupsPath makes: systemd
 * "SLICE:PREFIX:NAME" or a path.  Pure; false if it is neither. */
bool ct_cgroup_of_bundle(const char *cgroups_path, char *out, size_t len);

/* NUL-terminate every string of a record read from a file. */
void ct_record_terminate(struct ft_container *c);

/* How much a label says of a container (ct_label). */
enum ct_label_form {
	CT_LABEL_POD,	/* "ns/pod", or "0123456789ab" (a column) */
	CT_LABEL_FULL,	/* "ns/pod/name", or "container 0123456789ab" */
	CT_LABEL_PROSE, /* "pod ns/pod, container name", or "container 0123456789ab" */
};
/*
 * What c is, for people: a pod's container by its Kubernetes names, any
 * other runtime's by its id's first 12 characters; "" when c is NULL or
 * no container.  The one place these are worded.
 */
void ct_label(const struct ft_container *c, enum ct_label_form form, char *buf, size_t len);

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

/* ns_root + the cgroup path a process of this namespace shows, ".." and
 * "." resolved; false if it climbs above the root or does not fit.  Pure. */
bool ct_join_cgroup_path(const char *ns_root, const char *path, char *out, size_t len);

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

/*
 * Bounded cache of cgroup id -> record, the least recently used evicted
 * (counted), but a pod's attribution (FT_CT_ANNOTATED) only when nothing
 * else is left to evict: namespace: and pod: allow rules read it, and
 * churning short-lived cgroups through the cache must not make an
 * allowlisted pod's processes killable.  An entry without its pod is
 * asked again, a few times, as a container's bundle can appear after its
 * first process.
 */
struct ct_cache;

struct ct_cache_stats {
	uint32_t entries, capacity;
	uint64_t evictions, resolved, unresolved;
};

struct ct_cache *ct_cache_new(uint32_t capacity);
void ct_cache_free(struct ct_cache *c);
const struct ft_container *ct_cache_get(struct ct_cache *c, uint64_t cgroup_id);
/* live: should cgroup_id be resolved now?  Marks the attempt. */
bool ct_cache_due(struct ct_cache *c, uint64_t cgroup_id, uint64_t now_ns);
/* live: cgroup_id no longer exists; never due again (its entry ages out) */
void ct_cache_gone(struct ct_cache *c, uint64_t cgroup_id);
void ct_cache_put(struct ct_cache *c, const struct ft_container *rec, uint64_t now_ns);
void ct_cache_get_stats(const struct ct_cache *c, struct ct_cache_stats *out);

#endif /* FT_CONTAINER_H */
