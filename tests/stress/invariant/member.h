/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MEMBER_H
#define MEMBER_H

#include "inv.h"

/* The state of the process running a part of the tree. */
struct member {
	struct model m;
	struct script *script;	/* the list this process runs */
	int pc;			/* index of the current operation */
	char path[128];		/* 0, 0.1, 0.1.0, ... */
	long step;		/* steps of this process, kept across exec */
	int reportfd;		/* O_APPEND memfd read by the driver */
	long seq;
	uint64_t seed;
	int verbose;
	long steps, checks, forks, execs, skips, unmerged;
	long fork_inherit, exec_keep, einval, enomem, eexist;
};

extern struct member me;

void member_run(void);
void member_after_exec(void) __attribute__((noreturn));
void member_finish(int status) __attribute__((noreturn));

#endif /* MEMBER_H */
