/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mlock-invariant: seeded random-operation checker for mlockall() with
 * MCL_INHERIT / MCL_RECURSIVE (shared/design/SEMANTICS.md).
 *
 * A script (a tree of operations: the root's list, each fork carrying the
 * child's list) is generated from a seed, then executed by a process tree.
 * Every process keeps a model of its own address space and mlockall state,
 * predicts the result of each operation, and after every step compares the
 * kernel's view (/proc/self/status, /proc/self/smaps, /proc/self/pagemap)
 * with the model.
 */
#ifndef INV_H
#define INV_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

/* Per-architecture fallbacks, as in SEMANTICS.md section 1. */
#include "../../../mlock-cmd/mlock-flags.h"
#ifndef MLOCK_ONFAULT
# define MLOCK_ONFAULT	0x01
#endif
#ifndef MADV_WIPEONFORK
# define MADV_WIPEONFORK	18
# define MADV_KEEPONFORK	19
#endif
#ifndef MADV_DONTNEED_LOCKED
# define MADV_DONTNEED_LOCKED	24
#endif
#ifndef MAP_DROPPABLE
# define MAP_DROPPABLE	0x08
#endif
#ifndef MAP_FIXED_NOREPLACE
# define MAP_FIXED_NOREPLACE	0x100000
#endif

#define NSLOTS		6
#define WIN_PAGES	256	/* address window reserved per slot */
#define MODEL_PAGES	64	/* pages of a window the model tracks */
#define MAX_MAP		32	/* pages per mmap */
#define RANGE_PAGES	40	/* operations address pages [0, RANGE_PAGES) */
#define SLOT_BASE	0x200000000000UL

/* Model inheritance state bits (SEMANTICS.md section 2). */
#define ST_INHERIT	0x1
#define ST_RECURSIVE	0x2
#define ST_EXEC_KEEP	0x4

/* Slot kinds. */
enum { K_ANON_PRIV, K_ANON_SHARED, K_MEMFD_SHARED, K_MEMFD_PRIV, K_DROPPABLE,
	K_NR };
/* Protections used. */
enum { P_NONE, P_READ, P_RW, P_NR };
/* madvise advices, by index. */
enum { A_DONTFORK, A_DOFORK, A_WIPEONFORK, A_KEEPONFORK, A_DONTNEED,
	A_DONTNEED_LOCKED, A_NR };
/* mlock family modes. */
enum { L_MLOCK, L_MLOCK2_ONFAULT, L_MUNLOCK, L_MLOCK2_BAD, L_MLOCK2_ZERO,
	L_NR };
/* mmap flag bits in op.e */
#define MF_LOCKED	0x1
#define MF_POPULATE	0x2
#define MF_FIXED	0x4

struct script;

struct op {
	char type;	/* see ops below */
	bool off;	/* removed by the minimiser */
	int a, b, c, d, e;
	struct script *child;	/* 'F' only */
};

/*
 * ops:  M flags     mlockall(a)
 *       U           munlockall()
 *       m s,n,k,p,f mmap slot s, n pages, kind k, prot p, flags f
 *       u s,o,n     munmap
 *       l s,o,n,mode,x  mlock family (x: bad mlock2 flags)
 *       p s,o,n,prot mprotect
 *       r s,n,mode,dst  mremap (mode 0 in place, 1 maymove, 2 fixed to dst)
 *       a s,o,n,adv madvise
 *       t s,o,n     touch (write if RW, read if R)
 *       F[...]      fork, child runs the bracketed list
 *       E           exec self
 *       X           exit
 */
struct script {
	struct op *ops;
	int n, cap;
};

/* script.c */
uint64_t rng_next(uint64_t *st);
uint64_t seq_seed(uint64_t seed, long seq);
struct script *script_generate(uint64_t seed, int maxops, int maxprocs);
void script_free(struct script *s);
/* Serialises ops[from..] that are not off; returns length or -1. */
int script_format(const struct script *s, int from, char *buf, size_t size);
int op_format(const struct op *op, char *buf, size_t size);
struct script *script_parse(const char *text, const char **err);
int script_flatten(struct script *s, struct op ***out);
int script_count(const struct script *s);

/* The model of one process. */
struct page_model {
	unsigned char mapped, kind, prot, locked, onfault, dontfork, wipe;
	unsigned char claim;	/* model says: PTE present (locked pages) */
};

struct model {
	bool feature;		/* kernel has MCL_INHERIT */
	bool droppable;		/* kernel has MAP_DROPPABLE (6.11+) */
	bool future, onfault;	/* lock bits of mm->def_flags */
	unsigned int state;	/* ST_* */
	struct page_model pg[NSLOTS][MODEL_PAGES];
};

/* What a step lets the checker assert about every VMA of the process. */
enum global_expect { G_NONE, G_ALL_LOCKED, G_NONE_LOCKED };

struct prediction {
	int err;		/* expected errno, 0 for success */
	enum global_expect global;
	bool global_onfault;	/* with G_ALL_LOCKED: every VMA lock-on-fault */
	bool skip;		/* model cannot predict: operation not run */
	bool mremap_merge;	/* mremap success relies on one VMA */
};

/* model.c */
void model_init(struct model *m, bool feature, bool droppable);
int model_mlockall_valid(const struct model *m, int flags);
void model_predict(struct model *m, const struct op *op,
		   struct prediction *pr);
void model_fork_child(struct model *m);
void model_exec(struct model *m);
bool model_slot_simple(const struct model *m, int s, int *npages);

/* kernel.c */
#define VF_LO	0x01
#define VF_LF	0x02
#define VF_DC	0x04
#define VF_WF	0x08
#define VF_SPECIAL 0x10	/* io, pf, mm, ht, dp, or a special name */
#define VF_R	0x20
#define VF_W	0x40
#define VF_ANON	0x80	/* no file name, or [heap] / [stack] */

struct vma {
	unsigned long start, end;
	unsigned int flags;
};

struct kview {
	long vmlck_kb;
	bool has_line;
	int future, onfault, inherit, recursive, exec_keep;
	int nvma;
	struct vma *vma;
	unsigned long lo_kb;
};

extern long page_size;

int kview_read(struct kview *kv, char *why, size_t whylen);
int pagemap_present(unsigned long addr, unsigned long npages,
		    unsigned long *bad);
int meminfo_read(long *mlocked_kb, long *unevictable_kb);
unsigned long slot_addr(int s);

#endif /* INV_H */
