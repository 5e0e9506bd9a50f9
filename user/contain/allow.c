// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The allow rules, one owner from the config line to the kernel: parsed
 * here (--allow, --config's allow lines, the defaults), written out in the
 * kernel's terms for the programs' own check (policy_kernel_rules,
 * bpf/contain.bpf.c's may_signal_task), and the unit rule's path test both
 * halves share (policy_unit_in_path).  Matching a process against them, with
 * what the sweep remembers per process, is policy.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>
#include "contain/policy.h"

/*
 * Never signalled by default: init and the container and login plumbing,
 * by executable (the Debian paths; symlinks such as /sbin/init resolve to
 * their target).  A path this host lacks is skipped.  forktrace itself and
 * its ancestors are protected by identity, not by rule.
 */
static const char *const default_allow[] = {
	"exe:/usr/lib/systemd/systemd",
	"exe:/lib/systemd/systemd",
	"exe:/sbin/init",
	"exe:/usr/sbin/sshd",
	"exe:/usr/bin/containerd",
	"exe:/usr/bin/containerd-shim",
	"exe:/usr/bin/containerd-shim-runc-v1",
	"exe:/usr/bin/containerd-shim-runc-v2",
	"exe:/usr/sbin/dockerd",
	"exe:/usr/bin/dockerd",
	"exe:/usr/sbin/runc",
	"exe:/usr/bin/runc",
	"exe:/usr/bin/crio",
	"exe:/usr/bin/conmon",
	"exe:/usr/libexec/podman/conmon",
	"exe:/usr/bin/kubelet",
	"exe:/usr/local/bin/kubelet",
	"exe:/usr/local/bin/containerd",
	"exe:/usr/local/bin/containerd-shim-runc-v2",
	"exe:/usr/bin/crun",
	"exe:/usr/sbin/crio",
	"exe:/usr/local/bin/crio",
};

/* systemd unit types: a unit rule names one, so a typo is caught */
static const char *const unit_suffixes[] = { ".service", ".scope", ".slice", ".socket",
					     ".mount",	 ".swap",  ".target" };
const char *policy_allow_kind_name(enum allow_kind k)
{
	static const char *const names[] = { "exe",  "cgroup",	  "unit", "uid",
					     "comm", "namespace", "pod" };

	return k <= ALLOW_POD ? names[k] : "?";
}

void policy_allow_describe(const struct allow_rule *r, bool with_file, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s:%s", policy_allow_kind_name(r->kind), r->value);

	/* the file an exe: rule named when it was read (/sbin/init is
	 * systemd): what a copy or a replacement would not be */
	if (with_file && r->kind == ALLOW_EXE && r->path[0] && strcmp(r->path, r->value) &&
	    n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (%s)", r->path);
}

/*
 * Open path as the node sees it: under host_root with every symlink and
 * ".." resolved inside it (RESOLVE_IN_ROOT: /sbin/init -> /lib/systemd/
 * systemd lands in the node's /lib, not the agent's image).  An O_PATH fd,
 * or -1 with errno.
 */
static int open_on_node(const char *host_root, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int dir, fd;

	if (!host_root || !host_root[0] || !strcmp(host_root, "/"))
		return open(path, O_PATH | O_CLOEXEC);
	dir = open(host_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
	close(dir);
	return fd;
}

/*
 * The device of fd's file as the kernel's records give it: its super
 * block's s_dev, which /proc/self/mountinfo shows for the mount (fdinfo
 * names it).  stat's st_dev differs on some file systems (btrfs
 * subvolumes report a device of their own).  stat's as a fallback.
 */
static uint32_t kernel_dev_of(int fd, dev_t st_dev)
{
	unsigned int maj = major(st_dev), min = minor(st_dev);
	char path[64], line[1024];
	int mnt_id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &mnt_id) == 1)
			break;
	if (f)
		fclose(f);
	f = mnt_id >= 0 ? fopen("/proc/self/mountinfo", "re") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned int a, b;
		int id;

		if (sscanf(line, "%d %*d %u:%u", &id, &a, &b) == 3 && id == mnt_id) {
			maj = a;
			min = b;
			break;
		}
	}
	if (f)
		fclose(f);
	return (uint32_t)(maj << 20 | (min & 0xfffff));
}

static int parse_exe(struct allow_rule *r, const char *path, const char *host_root, bool optional,
		     char *err, size_t errlen)
{
	char link[64], real[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (path[0] != '/') {
		snprintf(err, errlen, "--allow exe:%s: want an absolute path", path);
		return -1;
	}
	fd = open_on_node(host_root, path);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		if (optional)
			return 1;
		snprintf(err, errlen, "--allow exe:%s: %s", path, strerror(errno));
		return -1;
	}
	/* the resolved name, for reports (the identity is what matches) */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	r->kdev = kernel_dev_of(fd, st.st_dev);
	close(fd);
	if (n < 0)
		n = 0;
	real[n] = '\0';
	if (!S_ISREG(st.st_mode)) {
		if (optional)
			return 1;
		snprintf(err, errlen, "--allow exe:%s: not a regular file", path);
		return -1;
	}
	if (strlen(real) >= sizeof(r->path)) {
		snprintf(err, errlen, "--allow exe:%s: resolved path too long", path);
		return -1;
	}
	snprintf(r->path, sizeof(r->path), "%s", real);
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	return 0;
}

static int parse_unit(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (strchr(name, '/')) {
		snprintf(err, errlen, "--allow unit:%s: a unit name has no '/'", name);
		return -1;
	}
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++) {
		size_t m = strlen(unit_suffixes[i]);

		if (n > m && !strcmp(name + n - m, unit_suffixes[i]))
			return 0;
	}
	snprintf(err, errlen, "--allow unit:%s: want a systemd unit such as sshd.service", name);
	return -1;
}

static int parse_uid(struct allow_rule *r, const char *s, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v >= UINT32_MAX) {
		snprintf(err, errlen, "--allow uid:%s: want a numeric uid", s);
		return -1;
	}
	r->uid = (uint32_t)v;
	return 0;
}

/*
 * A Kubernetes name: a DNS-1123 label (namespaces) or subdomain (pods,
 * dots allowed), so a typo or a stray space is an error, not a rule that
 * never matches.
 */
static bool k8s_name(const char *s, size_t n, size_t max, bool dots)
{
	if (!n || n > max || s[0] == '-' || s[n - 1] == '-' || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      (dots && s[i] == '.')))
			return false;
	return true;
}

/* 0 added, 1 skipped (an optional rule whose file is absent), -1 bad */
static int add_rule(struct policy_opts *o, const char *spec, bool optional, char *err,
		    size_t errlen)
{
	static const struct {
		const char *prefix;
		enum allow_kind kind;
	} kinds[] = { { "exe:", ALLOW_EXE },   { "cgroup:", ALLOW_CGROUP },
		      { "unit:", ALLOW_UNIT }, { "uid:", ALLOW_UID },
		      { "comm:", ALLOW_COMM }, { "namespace:", ALLOW_NAMESPACE },
		      { "pod:", ALLOW_POD } };
	struct allow_rule r;
	int ret = 0;

	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		const char *v = spec + n;

		if (strncmp(spec, kinds[i].prefix, n))
			continue;
		if (!*v || strlen(v) >= sizeof(r.value)) {
			snprintf(err, errlen, "--allow %s: empty or too long", spec);
			return -1;
		}
		r.kind = kinds[i].kind;
		snprintf(r.value, sizeof(r.value), "%s", v);
		if (r.kind == ALLOW_EXE)
			ret = parse_exe(&r, v, o->host_root, optional, err, errlen);
		else if (r.kind == ALLOW_UNIT)
			ret = parse_unit(v, err, errlen);
		else if (r.kind == ALLOW_UID)
			ret = parse_uid(&r, v, err, errlen);
		if (r.kind == ALLOW_CGROUP && v[0] != '/') {
			snprintf(err, errlen, "--allow %s: want an absolute cgroup path", spec);
			ret = -1;
		}
		if (r.kind == ALLOW_POD &&
		    (!strchr(v, '/') || !k8s_name(v, (size_t)(strchr(v, '/') - v), 63, false) ||
		     !k8s_name(strchr(v, '/') + 1, strlen(strchr(v, '/') + 1), 253, true))) {
			snprintf(err, errlen,
				 "--allow %s: want pod:NAMESPACE/NAME (Kubernetes names: "
				 "lower-case letters, digits, '-', '.')",
				 spec);
			ret = -1;
		}
		if (r.kind == ALLOW_NAMESPACE && !k8s_name(v, strlen(v), 63, false)) {
			snprintf(
			    err, errlen,
			    "--allow %s: want namespace:NAME (lower-case letters, digits, '-')",
			    spec);
			ret = -1;
		}
		if (ret)
			return ret;
		/* the same file under two names (/sbin/init, systemd) is one rule */
		for (uint32_t j = 0; r.kind == ALLOW_EXE && j < o->nallow; j++)
			if (o->allow[j].kind == ALLOW_EXE && o->allow[j].dev == r.dev &&
			    o->allow[j].ino == r.ino)
				return 0;
		if (o->nallow == POLICY_MAX_ALLOW) {
			snprintf(err, errlen, "--allow: at most %d rules", POLICY_MAX_ALLOW);
			return -1;
		}
		o->allow[o->nallow++] = r;
		return 0;
	}
	snprintf(err, errlen,
		 "--allow %s: want exe:PATH, cgroup:PATH, unit:NAME, uid:N, comm:NAME, "
		 "namespace:NS or pod:NS/NAME",
		 spec);
	return -1;
}

void policy_defaults_at(struct policy_opts *o, const char *host_root)
{
	char ignored[256];

	memset(o, 0, sizeof(*o));
	o->act_on = 1u << DET_FORK_BOMB | 1u << DET_RECURSIVE_SPAWN | 1u << DET_NESTED_POOL |
		    1u << DET_THREAD_EXPLOSION | 1u << DET_SPAWN_STORM;
	o->give_up_ns = 10000000000ull;
	o->storm_horizon_ns = 60000000000ull;
	snprintf(o->host_root, sizeof(o->host_root), "%s", host_root ? host_root : "");
	/* a default whose file this host lacks (or has as no regular file)
	 * is inert, never an error: the result is deliberately not checked */
	for (size_t i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++)
		(void)add_rule(o, default_allow[i], true, ignored, sizeof(ignored));
}

void policy_defaults(struct policy_opts *o)
{
	policy_defaults_at(o, NULL);
}

int policy_add_allow(struct policy_opts *o, const char *spec, char *err, size_t errlen)
{
	return add_rule(o, spec, false, err, errlen) < 0 ? -1 : 0;
}

int policy_config_line(void *ctx, const char *line, char *why, size_t whylen)
{
	const char *p = line;
	char rule[256];
	size_t n;

	if (strncmp(p, "allow", 5))
		return 1;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return 1;
	while (*p == ' ' || *p == '\t')
		p++;
	/* the line's trailing blanks are no part of the rule */
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= sizeof(rule)) {
		snprintf(why, whylen, "allow rule too long");
		return -1;
	}
	memcpy(rule, p, n);
	rule[n] = '\0';
	return policy_add_allow(ctx, rule, why, whylen) ? -1 : 0;
}

int policy_set_act_on(struct policy_opts *o, const char *list, char *err, size_t errlen)
{
	char buf[256], *save = NULL;
	uint32_t mask = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int p;

		for (p = 0; p < DET_PATTERN_MAX; p++)
			if (!strcmp(tok, det_pattern_name(p)))
				break;
		if (p == DET_PATTERN_MAX || !det_pattern_actionable(p)) {
			snprintf(err, errlen, "--act-on: '%s' is not a pattern forktrace acts on",
				 tok);
			return -1;
		}
		mask |= 1u << p;
	}
	if (!mask) {
		snprintf(err, errlen, "--act-on: empty list");
		return -1;
	}
	o->act_on = mask;
	return 0;
}

bool policy_unit_in_path(const char *cg, const char *unit)
{
	size_t n = strlen(unit);

	/*
	 * Only where the system manager puts its units: every component above
	 * the unit is a slice.  Below a unit is delegated ground (a user's
	 * systemd in user@UID.service, a container's own manager, anything
	 * with Delegate=) where any name can be made: a user's
	 * `systemd-run --user --unit=sshd.service` lands in
	 * .../user@1000.service/app.slice/sshd.service, and matches nothing.
	 */
	/*
	 * Seen from a cgroup namespace (the DaemonSet's), a path outside it
	 * climbs first: "/../../system.slice/sshd.service".  What it climbs
	 * over is the namespace root's ancestors, above the agent's own
	 * scope: slices.  The rest is the path from their common ancestor.
	 */
	while (!strncmp(cg, "/..", 3) && (cg[3] == '/' || cg[3] == '\0'))
		cg += 3;
	for (const char *c = cg; c && *c;) {
		const char *name = c[0] == '/' ? c + 1 : c, *end = strchr(name, '/');
		size_t len = end ? (size_t)(end - name) : strlen(name);

		if (len == n && !strncmp(name, unit, n))
			return true;
		if (len < 6 || strncmp(name + len - 6, ".slice", 6))
			return false; /* a unit, or delegated ground: stop */
		c = end;
	}
	return false;
}

/* --- the rules in the kernel's terms (the programs' own checks) -------- */

/* One cgroup directory for the kernel's rules; 1 if it is one. */
static int safety_try_cgroup(struct live_safety_rules *s, const char *dir)
{
	struct ft_cgroup_filter cg;
	char ignored[512];
	int v = 0;

	if (cgroup_resolve(dir, &cg, ignored, sizeof(ignored)) || s->ncgroups == FT_GUARD_MAX_RULES)
		return 0;
	/* a v1 hierarchy is walked in the kernel only if listed */
	while (cg.subsys >= 0 && v < FT_GUARD_MAX_V1 && s->v1_subsys[v] >= 0 &&
	       s->v1_subsys[v] != cg.subsys)
		v++;
	if (cg.subsys >= 0 && v == FT_GUARD_MAX_V1)
		return 0;
	if (cg.subsys >= 0)
		s->v1_subsys[v] = cg.subsys;
	s->cgroups[s->ncgroups].id = cg.id;
	s->cgroups[s->ncgroups++].subsys = cg.subsys;
	return 1;
}

/*
 * A cgroup rule's directories: the path itself under /sys/fs/cgroup, or a
 * path as /proc/<pid>/cgroup shows it, in every hierarchy mounted there.
 */
static void safety_add_cgroup(struct live_safety_rules *s, const char *rule)
{
	static const char mnt[] = "/sys/fs/cgroup";
	char dir[PATH_MAX + 320];
	struct dirent *de;
	int found;
	DIR *d;

	if (!strncmp(rule, mnt, sizeof(mnt) - 1)) {
		found = safety_try_cgroup(s, rule);
	} else {
		snprintf(dir, sizeof(dir), "%s%s", mnt, rule);
		found = safety_try_cgroup(s, dir);
		d = opendir(mnt);
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || de->d_type != DT_DIR)
				continue;
			snprintf(dir, sizeof(dir), "%s/%s%s", mnt, de->d_name, rule);
			found += safety_try_cgroup(s, dir);
		}
		if (d)
			closedir(d);
	}
	if (!found)
		fprintf(stderr,
			"forktrace: --allow cgroup:%s: no such cgroup now; signals sent in the "
			"kernel at fork cannot spare it (the sweep still does)\n",
			rule);
}

void policy_kernel_rules(const struct policy_opts *po, struct live_safety_rules *s)
{
	struct pt_key anc[128];
	uint32_t n = policy_ancestors(anc, 128);

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < FT_GUARD_MAX_V1; i++)
		s->v1_subsys[i] = -1;
	for (uint32_t i = 0; i < n; i++) {
		s->protect[i].tgid = anc[i].tgid;
		s->protect[i].start_ticks = anc[i].start_ticks;
	}
	s->nprotect = n;
	for (uint32_t i = 0; i < po->nallow; i++) {
		const struct allow_rule *r = &po->allow[i];

		switch (r->kind) {
		case ALLOW_EXE:
			s->exes[s->nexes].ino = r->ino;
			s->exes[s->nexes++].dev = r->kdev;
			break;
		case ALLOW_UID:
			s->uids[s->nuids++] = r->uid;
			break;
		case ALLOW_CGROUP:
			safety_add_cgroup(s, r->value);
			break;
		case ALLOW_UNIT:
			if (strlen(r->value) >= FT_UNIT_LEN) {
				fprintf(stderr,
					"forktrace: --allow unit:%s: longer than %d bytes; signals "
					"sent in the kernel at fork cannot spare it\n",
					r->value, FT_UNIT_LEN - 1);
				break;
			}
			snprintf(s->units[s->nunits++].name, FT_UNIT_LEN, "%s", r->value);
			break;
		case ALLOW_COMM:
			break; /* spoofable: user space only */
		case ALLOW_NAMESPACE:
		case ALLOW_POD:
			/* the kernel has no pod names: user space spares these
			 * (written to members as tree 0); --guard does not */
			break;
		}
	}
}
