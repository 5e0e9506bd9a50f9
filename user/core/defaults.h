/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The defaults every entry point starts from (the live run, a replay,
 * forktrace report): one place, so a recording is read as it was made.
 */
#ifndef FT_DEFAULTS_H
#define FT_DEFAULTS_H

/* process table slots (--table-size) */
#define FT_TABLE_DEFAULT 65536
/* how long an exited process stays in the table for its late records */
#define FT_GRACE_NS_DEFAULT 5000000000ull

#endif /* FT_DEFAULTS_H */
