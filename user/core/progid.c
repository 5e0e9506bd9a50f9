// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Program identity.  "Runs its parent's program" decided by the executable
 * alone calls every Python script a copy of every other (they all run
 * /usr/bin/python3): a supervisor looks like a copy of the worker it
 * started, and a launcher shell like a copy of the shell script bomb it
 * ran.  So for interpreters the program is what they interpret.
 */
#include <stdbool.h>
#include <string.h>
#include "core/progid.h"

#define MAX_ARGS 32

/*
 * How to find the program in an interpreter's argv.  code_opts: short
 * options whose argument is program text; code_operand: the text is the
 * first operand instead (sh -c 'text' name args); module_opts: an option
 * naming a module to run; arg_opts: other short options that take an
 * argument, which must be skipped.
 */
struct interp {
	const char *family;
	const char *code_opts, *module_opts, *arg_opts;
	bool code_operand;
	const char *long_code, *long_arg[3];
};

static const struct interp interps[] = {
	{ "python", "c", "m", "XWQ", false, NULL, { "--check-hash-based-pycs" } },
	{ "sh", "c", "", "oO", true, NULL, { "--rcfile", "--init-file" } },
	{ "bash", "c", "", "oO", true, NULL, { "--rcfile", "--init-file" } },
	{ "zsh", "c", "", "o", true, NULL, { 0 } },
	{ "ksh", "c", "", "o", true, NULL, { 0 } },
	{ "perl", "eE", "", "ICdDmM", false, NULL, { 0 } },
	{ "ruby", "e", "", "rICEFx", false, NULL, { 0 } },
	{ "node", "ep", "", "r", false, "--eval", { "--require", "--import" } },
	{ "php", "r", "", "cdzf", false, NULL, { 0 } },
};

/* What a process that runs nothing of its own passes through. */
static const char *const wrappers[] = { "env",	  "nice",    "nohup",  "timeout", "sudo", "setsid",
					"stdbuf", "taskset", "ionice", "chrt",	  "doas", "time" };

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t hash_of(enum prog_kind k, const char *family, const char *s, uint64_t cwd)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char tag = (char)('0' + k);

	h = fnv(h, &tag, 1);
	if (family)
		h = fnv(h, family, strlen(family) + 1);
	h = fnv(h, (const char *)&cwd, sizeof(cwd));
	h = fnv(h, s, strlen(s));
	return h ? h : 1;
}

uint64_t prog_command(const char *argv, size_t len, uint64_t cwd)
{
	uint64_t h = 0xcbf29ce484222325ull;

	/* a NUL-terminated copy and one cut short hash alike */
	while (len && !argv[len - 1])
		len--;
	if (!len)
		return 0;
	h = fnv(h, (const char *)&cwd, sizeof(cwd));
	h = fnv(h, argv, len);
	return h ? h : 1;
}

const char *prog_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "python3.11" -> "python", "dash" -> "sh"; NULL if not an interpreter */
static const struct interp *interp_of(const char *path)
{
	char fam[32];
	const char *b = prog_base_name(path);
	size_t n = strlen(b);

	while (n && ((b[n - 1] >= '0' && b[n - 1] <= '9') || b[n - 1] == '.'))
		n--;
	if (!n || n >= sizeof(fam))
		return NULL;
	memcpy(fam, b, n);
	fam[n] = '\0';
	if (!strcmp(fam, "dash") || !strcmp(fam, "ash") || !strcmp(fam, "mksh"))
		strcpy(fam, "sh");
	if (!strcmp(fam, "nodejs"))
		strcpy(fam, "node");
	for (size_t i = 0; i < sizeof(interps) / sizeof(interps[0]); i++)
		if (!strcmp(fam, interps[i].family))
			return &interps[i];
	return NULL;
}

static bool is_wrapper(const char *path)
{
	const char *b = prog_base_name(path);

	for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
		if (!strcmp(b, wrappers[i]))
			return true;
	return false;
}

/* A path's identity: absolute as is, relative with the directory; "//",
 * "/./" and a leading "./" spell the same path. */
static struct prog_id path_id(enum prog_kind k, const char *path, uint64_t cwd)
{
	char norm[512] = "";
	size_t n = 0;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	for (const char *p = path; *p && n + 1 < sizeof(norm); p++) {
		if (*p == '/' && n && norm[n - 1] == '/')
			continue;
		if (*p == '.' && p[1] == '/' && n && norm[n - 1] == '/') {
			p++;
			continue;
		}
		norm[n++] = *p;
	}
	norm[n] = '\0';
	return (struct prog_id){ hash_of(k, NULL, norm, norm[0] == '/' ? 0 : cwd), k,
				 hash_of(k, "kin", prog_base_name(norm), 0), !strchr(norm, '/') };
}

/* An interpreter's program given as text or a module: its kin is its
 * family and kind for text (the text is what a copy varies), the module
 * itself for a module. */
static struct prog_id text_id(enum prog_kind k, const char *family, const char *text)
{
	uint64_t h = hash_of(k, family, text, 0);

	return (struct prog_id){ h, k, k == PROG_CODE ? hash_of(k, family, "kin", 0) : h };
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(s, list[i]))
			return true;
	return false;
}

/* The program an interpreter runs, from its arguments (argv[0] excluded);
 * PROG_NONE when argv ended (was cut) before naming it. */
static struct prog_id interp_program(const struct interp *in, char **av, int ac, uint64_t cwd,
				     bool cut)
{
	bool code_mode = false;

	for (int i = 0; i < ac; i++) {
		const char *a = av[i];

		if (!strcmp(a, "--"))
			continue;
		if (a[0] == '-' && a[1] == '-') {
			if (in->long_code && !strcmp(a, in->long_code) && i + 1 < ac)
				return text_id(PROG_CODE, in->family, av[i + 1]);
			if (in_list(a, in->long_arg, 3))
				i++;
			continue;
		}
		if ((a[0] == '-' || (a[0] == '+' && in->code_operand)) && a[1]) {
			/* a cluster of short options: -u, -Bc CODE, -ec, -X dev */
			for (const char *o = a + 1; *o; o++) {
				const char *rest = o[1] ? o + 1 : (i + 1 < ac ? av[i + 1] : "");
				bool attached = o[1] != '\0';

				if (strchr(in->code_opts, *o) && in->code_operand) {
					code_mode = true;
				} else if (strchr(in->code_opts, *o)) {
					if (!strncmp(rest, "from multiprocessing", 20))
						return (struct prog_id){ 0, PROG_INHERIT };
					return text_id(PROG_CODE, in->family, rest);
				} else if (*o && strchr(in->module_opts, *o)) {
					return text_id(PROG_MODULE, in->family, rest);
				} else if (*o && strchr(in->arg_opts, *o)) {
					if (!attached)
						i++;
					break;
				}
			}
			continue;
		}
		if (code_mode)
			return text_id(PROG_CODE, in->family, a);
		if (!strcmp(a, "-"))
			break; /* program on stdin: like an interactive one */
		if (cut && i == ac - 1)
			return (struct prog_id){ 0, PROG_NONE }; /* a path cut short */
		return path_id(PROG_SCRIPT, a, cwd);
	}
	if (cut) /* options filled the bytes the record carries */
		return (struct prog_id){ 0, PROG_NONE };
	return text_id(PROG_INTERACTIVE, in->family, "");
}

struct prog_id prog_identify(const char *filename, const char *argv, size_t len, uint64_t cwd)
{
	char buf[512], *av[MAX_ARGS];
	const struct interp *in;
	struct prog_id id;
	bool cut;
	int ac = 0;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, argv, len);
	buf[len] = '\0';
	/* argv cut short: its last argument is partial, and a path or an
	 * option's value cut in the middle would be another program */
	cut = len && argv[len - 1] != '\0';
	for (size_t i = 0; i < len && ac < MAX_ARGS; i += strlen(buf + i) + 1)
		av[ac++] = buf + i;
	if (ac == MAX_ARGS)
		cut = true;
	if (!filename || !filename[0])
		filename = ac ? av[0] : "";
	if (!filename[0])
		return (struct prog_id){ 0, PROG_NONE };

	in = interp_of(filename);
	if (in) {
		id = interp_program(in, av + 1, ac > 0 ? ac - 1 : 0, cwd, cut);
		if (id.kind != PROG_NONE)
			return id;
		/* not known from argv: the interpreter's executable, as a
		 * binary's (coarser, never a different program per copy) */
		return path_id(PROG_EXE, filename, cwd);
	}
	/*
	 * A script run by its shebang: execve's filename is the script, and
	 * binfmt_script put the interpreter (or env) first in argv with the
	 * script after it.  The program is the script, the same identity as
	 * "python3 script.py" has, so the env -> python3 exec that follows
	 * keeps it.
	 */
	if (ac >= 2 && (interp_of(av[0]) || is_wrapper(av[0])))
		for (int i = 1; i < ac; i++)
			if (!strcmp(av[i], filename))
				return path_id(PROG_SCRIPT, filename, cwd);
	return path_id(PROG_EXE, filename, cwd);
}

void prog_set_exe_size(struct prog_id *id, uint64_t size)
{
	if (id->kind == PROG_EXE && size)
		id->kin = hash_of(PROG_EXE, "size", "", size);
}

const char *prog_kind_name(enum prog_kind k)
{
	static const char *const names[] = { "none",   "exe",	      "script", "code",
					     "module", "interactive", "inherit" };

	return k <= PROG_INHERIT ? names[k] : "none";
}
