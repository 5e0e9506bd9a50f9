/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which container and pod a process runs in: the runtime's scope or
 * directory name in its cgroup path carries the container id, kubelet's
 * slice or directory above it the pod's uid, and the CRI runtime's OCI
 * bundle the pod's names.  The pure half: parsers, labels and the cache of
 * FT_EV_CONTAINER records; reading them on the node (no runtime socket, no
 * API server) is live/container_node.h's.
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

/* ns_root + the cgroup path a process of this namespace shows, ".." and
 * "." resolved; false if it climbs above the root or does not fit.  Pure. */
bool ct_join_cgroup_path(const char *ns_root, const char *path, char *out, size_t len);

/* A bounded copy into a record's fixed-size field (len > 0), truncating;
 * NULL copies "". */
void ct_copy_field(char *dst, size_t len, const char *src);

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
