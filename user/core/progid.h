/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Program identity: what program a process runs, as a 64-bit hash.  For an
 * interpreter the program is the script, the -c text or the -m module, not
 * /usr/bin/python3 or /bin/bash; a relative path counts with the directory
 * it was run in.  The rule and its interpreter table: docs/detection.md.
 */
#ifndef FT_PROGID_H
#define FT_PROGID_H

#include <stddef.h>
#include <stdint.h>

enum prog_kind {
	PROG_NONE = 0,	  /* not known (no exec seen, no snapshot) */
	PROG_EXE,	  /* a binary: its path */
	PROG_SCRIPT,	  /* an interpreter running a script file: the script's path */
	PROG_CODE,	  /* an interpreter running -c/-e text: the text */
	PROG_MODULE,	  /* python -m MODULE */
	PROG_INTERACTIVE, /* an interpreter with no program: a shell, a REPL */
	PROG_INHERIT,	  /* runs its parent's program (multiprocessing spawn) */
};

struct prog_id {
	uint64_t hash; /* 0 only with PROG_NONE or PROG_INHERIT */
	enum prog_kind kind;
	/*
	 * Kin: the program up to what a copy can change without doing anything
	 * else: a binary's size (its path can be a fresh copy's, or relative
	 * from another directory; prog_set_exe_size), a script's file name
	 * without its directory, an interpreter's -c text whatever it says.
	 * The detector's second look (docs/detection.md, "Kin").  0: unknown.
	 */
	uint64_t kin;
	/* a script or binary run from its working directory (a path with no
	 * directory but ./): where it runs is where its file is */
	bool in_cwd;
};

/*
 * Identify the program an exec started.  filename: the path given to
 * execve (a shebang script's own path); argv: NUL-separated, len bytes,
 * possibly cut short; cwd: an id of the working directory (its inode),
 * which qualifies relative paths.
 */
struct prog_id prog_identify(const char *filename, const char *argv, size_t len, uint64_t cwd);

/* A binary's kin from its size in bytes (the kernel's exec record); a
 * size of 0 (unknown) leaves the kin prog_identify gave. */
void prog_set_exe_size(struct prog_id *id, uint64_t size);

/*
 * A command exactly as run: its argv (NUL-separated, len bytes, as
 * prog_identify takes it) in its working directory, hashed.  Two execs
 * with one key ran the same command line in the same place: a command
 * that runs itself again, unchanged, where it is.  0: no argv.
 */
uint64_t prog_command(const char *argv, size_t len, uint64_t cwd);

const char *prog_kind_name(enum prog_kind k);
/* A path's last component: "/usr/bin/make" -> "make". */
const char *prog_base_name(const char *path);

#endif /* FT_PROGID_H */
