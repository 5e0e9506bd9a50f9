// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "live/privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8: split out of CAP_SYS_ADMIN */
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38 /* Linux 5.8, with CAP_BPF */
#endif

int privs_parse_user(const char *spec, struct privs_opts *o, char *err, size_t errlen)
{
	unsigned long uid, gid;
	char *end;

	errno = 0;
	uid = strtoul(spec, &end, 10);
	if (!errno && end != spec && spec[0] != '-' && uid < 0xffffffffUL &&
	    (!*end || *end == ':')) {
		gid = uid;
		if (*end == ':') {
			const char *g = end + 1;

			gid = strtoul(g, &end, 10);
			if (errno || end == g || *end || g[0] == '-' || gid >= 0xffffffffUL) {
				snprintf(err, errlen, "--user %s: want UID[:GID] or a user name",
					 spec);
				return -1;
			}
		}
		o->uid = (uid_t)uid;
		o->gid = (gid_t)gid;
	} else {
		/* a name needs the passwd database: fine on a host, absent in a
		 * scratch image (the DaemonSet passes a number) */
		struct passwd *pw = getpwnam(spec);

		if (!pw) {
			snprintf(err, errlen, "--user %s: no such user", spec);
			return -1;
		}
		o->uid = pw->pw_uid;
		o->gid = pw->pw_gid;
	}
	o->user_set = true;
	return 0;
}

/*
 * Is map access possible without CAP_BPF?  Older kernels gate every bpf()
 * command on it while kernel.unprivileged_bpf_disabled is set; later ones
 * check only map and program creation.  Measured, not assumed: CAP_BPF and
 * CAP_SYS_ADMIN (which also passes the check) leave the effective set,
 * still permitted, for one map lookup.
 */
static bool bpf_needs_cap(const struct privs_opts *o)
{
	bool needs;

	if (!o->bpf_probe)
		return true;
	capng_get_caps_process();
	capng_updatev(CAPNG_DROP, CAPNG_EFFECTIVE, CAP_BPF, CAP_SYS_ADMIN, -1);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return true;
	needs = o->bpf_probe(o->probe_ctx) != 0;
	capng_get_caps_process();
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_BPF, CAP_SYS_ADMIN, -1);
	capng_apply(CAPNG_SELECT_CAPS);
	return needs;
}

int privs_drop(const struct privs_opts *o, char *err, size_t errlen)
{
	bool keep_bpf = o->bpf_load || bpf_needs_cap(o);
	int keep[7], nkeep = 0, ret;
	bool held[7];
	struct rlimit lim;

	keep[nkeep++] = CAP_SYS_PTRACE;
	keep[nkeep++] = CAP_DAC_READ_SEARCH;
	if (o->signals)
		keep[nkeep++] = CAP_KILL;
	/* CAP_BPF came with the BPF ring buffer (5.8): every kernel that runs
	 * forktrace has it */
	if (keep_bpf)
		keep[nkeep++] = CAP_BPF;
	if (o->bpf_load)
		keep[nkeep++] = CAP_PERFMON;
	/* a load later with what loaded now: CAP_SYS_ADMIN where it stood in
	 * for the two (privs_can_load_bpf) */
	capng_get_caps_process();
	if (o->bpf_load && !(capng_have_capability(CAPNG_PERMITTED, CAP_BPF) &&
			     capng_have_capability(CAPNG_PERMITTED, CAP_PERFMON)))
		keep[nkeep++] = CAP_SYS_ADMIN;
	if (o->memory_locked && (getrlimit(RLIMIT_MEMLOCK, &lim) || lim.rlim_cur != RLIM_INFINITY))
		keep[nkeep++] = CAP_IPC_LOCK;
	/* what was never granted cannot be kept: run without it (the feature
	 * it serves degrades, as it would have anyway) */
	capng_get_caps_process();
	for (int i = 0; i < nkeep; i++)
		held[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned int)keep[i]);
	capng_clear(CAPNG_SELECT_BOTH);
	for (int i = 0; i < nkeep; i++)
		if (held[i])
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
				     (unsigned int)keep[i]);
	if (o->user_set)
		/* setresgid/setresuid keeping the set above (PR_SET_KEEPCAPS) */
		ret = capng_change_id((int)o->uid, (int)o->gid, CAPNG_DROP_SUPP_GRP);
	else
		ret = capng_apply(CAPNG_SELECT_CAPS);
	if (ret) {
		snprintf(err, errlen, "cannot drop capabilities%s (libcap-ng: %d)",
			 o->user_set ? " and switch user" : "", ret);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot set no-new-privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Everything here through libcap-ng, whose state is per thread (0.8,
 * Debian bookworm's): capng_apply() sets the calling thread's sets only,
 * the threads this one creates inherit them, the rest of the process keeps
 * its own.
 */
int privs_drop_thread(bool keep_memlock, char *err, size_t errlen)
{
	bool keep;

	if (capng_get_caps_process()) {
		snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	/*
	 * privs_drop kept CAP_IPC_LOCK only where memory is locked with
	 * MCL_FUTURE under a finite RLIMIT_MEMLOCK: every later mapping of the
	 * process is then a locked one, and without it this thread could not
	 * allocate at all (its first malloc maps an arena).  It locks memory
	 * and nothing else.
	 */
	keep = keep_memlock && capng_have_capability(CAPNG_EFFECTIVE, CAP_IPC_LOCK);
	/* EINVAL: a kernel before ambient capabilities (4.3) has none to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (keep && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_IPC_LOCK)) {
		snprintf(err, errlen, "cannot keep CAP_IPC_LOCK");
		return -1;
	}
	if (capng_apply(CAPNG_SELECT_CAPS)) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	/* set for the process already (privs_drop); again, so this thread
	 * cannot regain anything by exec, whoever called it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot set no-new-privs: %s", strerror(errno));
		return -1;
	}
	/* measured, not assumed: the kernel's sets, read back (libcap-ng in
	 * its error state would answer "no" to every question below) */
	if (capng_get_caps_process() || capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_FAIL) {
		snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	for (unsigned int cap = 0; cap < 64; cap++) {
		bool kept = keep && cap == CAP_IPC_LOCK;

		if (capng_have_capability(CAPNG_INHERITABLE, cap) ||
		    (!kept && (capng_have_capability(CAPNG_EFFECTIVE, cap) ||
			       capng_have_capability(CAPNG_PERMITTED, cap)))) {
			snprintf(err, errlen, "capabilities still held after dropping them");
			return -1;
		}
	}
	return 0;
}

bool privs_can_load_bpf(void)
{
	if (capng_get_caps_process())
		return geteuid() == 0;
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN))
		return true;
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_BPF) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_PERFMON);
}

void privs_describe(char *buf, size_t len)
{
	char *text;

	capng_get_caps_process();
	text = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
	snprintf(buf, len, "%s", text ? text : "none");
	free(text);
}
