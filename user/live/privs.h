/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege once the BPF programs are attached: every capability
 * the rest of the run does not use is dropped, no-new-privs is set, and
 * the process can switch to an unprivileged uid (--user).
 */
#ifndef FT_PRIVS_H
#define FT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privs_opts {
	bool signals;	    /* --kill/--stop: pidfd signals to any uid */
	bool user_set;	    /* --user given */
	bool memory_locked; /* mlockall(MCL_FUTURE): later allocations lock too */
	bool bpf_load;	    /* BPF programs are loaded later (the live view's k and s) */
	uid_t uid;
	gid_t gid;
	/* does the bpf() syscall still work without CAP_BPF?  Called with
	 * CAP_BPF (and CAP_SYS_ADMIN) out of the effective set: 0 if so */
	int (*bpf_probe)(void *ctx);
	void *probe_ctx;
};

/* "nobody", "65534" or "65534:65534" into uid/gid; -1 with a reason */
int privs_parse_user(const char *spec, struct privs_opts *o, char *err, size_t errlen);

/*
 * Keep CAP_SYS_PTRACE (/proc/<pid>/exe and cwd of any process),
 * CAP_DAC_READ_SEARCH (the runtimes' bundles under /run), CAP_KILL with
 * signals, CAP_BPF only if bpf_probe says map access needs it (with
 * bpf_load: CAP_BPF and CAP_PERFMON, what loading a tracing program takes,
 * or CAP_SYS_ADMIN where it stood in for them), and
 * CAP_IPC_LOCK only if memory is locked under a finite RLIMIT_MEMLOCK;
 * drop the rest, switch uid if asked, set no-new-privs.  -1 with a reason
 * in err.
 */
int privs_drop(const struct privs_opts *o, char *err, size_t errlen);

/*
 * The calling thread only: no capability in any set (effective, permitted,
 * inheritable, ambient) but, with keep_memlock, CAP_IPC_LOCK where
 * privs_drop kept it (locked memory under a finite limit: without it no
 * allocation would work), and
 * no-new-privs; checked after.  For a thread that faces the network:
 * threads it creates inherit the same.  -1 with a reason in err.
 */
int privs_drop_thread(bool keep_memlock, char *err, size_t errlen);

/* May this process load BPF programs: effective CAP_SYS_ADMIN, or CAP_BPF
 * with CAP_PERFMON (5.8+)?  Every capability question goes through here
 * and libcap-ng. */
bool privs_can_load_bpf(void);

/* The effective capabilities, as capability names ("cap_kill,..."). */
void privs_describe(char *buf, size_t len);

#endif /* FT_PRIVS_H */
