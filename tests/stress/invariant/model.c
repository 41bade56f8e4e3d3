// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The userspace model of SEMANTICS.md: predicts the result of every
 * operation and the lock state it leaves behind, page by page, in the
 * order the kernel walks VMAs (mlock, mprotect and madvise apply to the
 * VMAs before a hole and then fail).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "inv.h"

/*
 * MLOCK_INVARIANT_INJECT=munlock-noop|fork-inherits deliberately breaks the
 * model, to prove that the checker catches a disagreement and shrinks it
 * (run.sh's self-test).  Never set it for a real run.
 */
static int inject = -1;

static bool injected(const char *what)
{
	const char *e;

	if (inject < 0) {
		e = getenv("MLOCK_INVARIANT_INJECT");
		inject = e && *e ? 1 : 0;
	}
	return inject && !strcmp(getenv("MLOCK_INVARIANT_INJECT"), what);
}

void model_init(struct model *m, bool feature, bool droppable)
{
	memset(m, 0, sizeof(*m));
	m->feature = feature;
	m->droppable = droppable;
}

/* VM_DROPPABLE is never locked (SEMANTICS.md 7): mlock_fixup skips it. */
static bool lockable(const struct page_model *p)
{
	return p->kind != K_DROPPABLE;
}

/* SEMANTICS.md section 1: the validation order. */
int model_mlockall_valid(const struct model *m, int flags)
{
	unsigned int ok = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;

	if (m->feature)
		ok |= MCL_INHERIT | MCL_RECURSIVE;
	if ((unsigned int)flags & ~ok)
		return EINVAL;
	if (!(flags & (MCL_CURRENT | MCL_FUTURE)))
		return EINVAL;
	if ((flags & MCL_RECURSIVE) && !(flags & MCL_INHERIT))
		return EINVAL;
	return 0;
}

static void page_unlock(struct page_model *p)
{
	p->locked = 0;
	p->onfault = 0;
	p->claim = 0;
}

static void page_clear(struct page_model *p)
{
	memset(p, 0, sizeof(*p));
}

/* Populated by mlock()/mlockall()/MAP_LOCKED: what __mm_populate does. */
static bool populatable(const struct page_model *p)
{
	return p->locked && !p->onfault && p->prot != P_NONE;
}

static void predict_mlockall(struct model *m, int flags,
			     struct prediction *pr)
{
	int s, i;

	pr->err = model_mlockall_valid(m, flags);
	if (pr->err)
		return;
	m->future = flags & MCL_FUTURE;
	m->onfault = m->future && (flags & MCL_ONFAULT);
	if (flags & MCL_CURRENT) {
		for (s = 0; s < NSLOTS; s++) {
			for (i = 0; i < MODEL_PAGES; i++) {
				struct page_model *p = &m->pg[s][i];

				if (!p->mapped || !lockable(p))
					continue;
				p->locked = 1;
				p->onfault = !!(flags & MCL_ONFAULT);
				if (populatable(p))
					p->claim = 1;
			}
		}
		pr->global = G_ALL_LOCKED;
		pr->global_onfault = !!(flags & MCL_ONFAULT);
	}
	if (flags & MCL_INHERIT)
		m->state = ST_INHERIT | ST_EXEC_KEEP |
			((flags & MCL_RECURSIVE) ? ST_RECURSIVE : 0);
	else
		m->state = 0;
}

static void predict_munlockall(struct model *m, struct prediction *pr)
{
	int s, i;

	for (s = 0; s < NSLOTS; s++)
		for (i = 0; i < MODEL_PAGES; i++)
			page_unlock(&m->pg[s][i]);
	m->future = false;
	m->onfault = false;
	m->state = 0;
	pr->global = G_NONE_LOCKED;
}

static void predict_mmap(struct model *m, const struct op *op,
			 struct prediction *pr)
{
	struct page_model *pg = m->pg[op->a];
	int i;

	if (!(op->e & MF_FIXED)) {
		for (i = 0; i < op->b; i++) {
			if (pg[i].mapped) {
				pr->err = EEXIST;
				return;
			}
		}
	}
	/* do_mmap() checks the map type after MAP_FIXED_NOREPLACE */
	if (op->c == K_DROPPABLE && (!m->droppable || (op->e & MF_LOCKED))) {
		pr->err = EINVAL;
		return;
	}
	for (i = 0; i < op->b; i++) {
		struct page_model *p = &pg[i];

		page_clear(p);
		p->mapped = 1;
		p->kind = op->c;
		p->prot = op->d;
		p->locked = lockable(p) && ((op->e & MF_LOCKED) || m->future);
		p->onfault = p->locked && m->onfault;
		p->wipe = op->c == K_DROPPABLE;
		p->claim = populatable(p);
	}
}

static void predict_munmap(struct model *m, const struct op *op,
			   struct prediction *pr)
{
	int i;

	if (!op->c) {
		pr->err = EINVAL;
		return;
	}
	for (i = op->b; i < op->b + op->c; i++)
		page_clear(&m->pg[op->a][i]);
}

static void predict_mlock(struct model *m, const struct op *op,
			  struct prediction *pr)
{
	struct page_model *pg = m->pg[op->a];
	bool lock = op->d != L_MUNLOCK;
	bool onfault = op->d == L_MLOCK2_ONFAULT;
	int i, end = op->b + op->c;

	if (op->d == L_MLOCK2_BAD) {
		pr->err = EINVAL;
		return;
	}
	if (!op->c)
		return;
	/* apply_vma_lock_flags(): nothing if the start is in a hole */
	if (!pg[op->b].mapped) {
		pr->err = ENOMEM;
		return;
	}
	for (i = op->b; i < end; i++) {
		if (!pg[i].mapped) {
			pr->err = ENOMEM;
			return;	/* no populate after a failed apply */
		}
		if (!lockable(&pg[i])) {
			continue;	/* untouched, but populated below */
		} else if (lock) {
			pg[i].locked = 1;
			pg[i].onfault = onfault;
		} else if (!injected("munlock-noop")) {
			page_unlock(&pg[i]);
		}
	}
	if (!lock)
		return;
	/* __mm_populate(): stops with EFAULT (-> ENOMEM) at PROT_NONE */
	for (i = op->b; i < end; i++) {
		if (pg[i].onfault)
			continue;
		if (pg[i].prot == P_NONE) {
			pr->err = ENOMEM;
			return;
		}
		pg[i].claim = pg[i].locked;
	}
}

static void predict_mprotect(struct model *m, const struct op *op,
			     struct prediction *pr)
{
	struct page_model *pg = m->pg[op->a];
	int i;

	if (!op->c)
		return;
	if (!pg[op->b].mapped) {
		pr->err = ENOMEM;
		return;
	}
	for (i = op->b; i < op->b + op->c; i++) {
		if (!pg[i].mapped) {
			pr->err = ENOMEM;
			return;
		}
		pg[i].prot = op->d;
	}
}

static void predict_madvise(struct model *m, const struct op *op,
			    struct prediction *pr)
{
	struct page_model *pg = m->pg[op->a];
	int i, unmapped = 0;

	if (!op->c)
		return;
	for (i = op->b; i < op->b + op->c; i++) {
		struct page_model *p = &pg[i];

		if (!p->mapped) {
			unmapped = ENOMEM;
			continue;
		}
		switch (op->d) {
		case A_DONTFORK:
			p->dontfork = 1;
			break;
		case A_DOFORK:
			p->dontfork = 0;
			break;
		case A_WIPEONFORK:
			if (p->kind != K_ANON_PRIV && p->kind != K_DROPPABLE) {
				pr->err = EINVAL;
				return;
			}
			p->wipe = 1;
			break;
		case A_KEEPONFORK:
			if (p->kind == K_DROPPABLE) {
				pr->err = EINVAL;
				return;
			}
			p->wipe = 0;
			break;
		case A_DONTNEED:
			if (p->locked) {
				pr->err = EINVAL;	/* SEMANTICS.md 7 */
				return;
			}
			p->claim = 0;
			break;
		case A_DONTNEED_LOCKED:
			p->claim = 0;
			break;
		}
	}
	pr->err = unmapped;
}

static void predict_touch(struct model *m, const struct op *op)
{
	int i;

	for (i = op->b; i < op->b + op->c; i++) {
		struct page_model *p = &m->pg[op->a][i];

		if (p->mapped && p->prot != P_NONE && p->locked)
			p->claim = 1;
	}
}

/*
 * A slot the model can mremap: pages [0, n) mapped with identical
 * attributes, private anonymous, nothing else in the window.
 */
bool model_slot_simple(const struct model *m, int s, int *npages)
{
	const struct page_model *pg = m->pg[s];
	int i, n = 0;

	if (!pg[0].mapped || pg[0].kind != K_ANON_PRIV)
		return false;
	while (n < MODEL_PAGES && pg[n].mapped)
		n++;
	for (i = 0; i < MODEL_PAGES; i++) {
		if (i >= n) {
			if (pg[i].mapped)
				return false;
			continue;
		}
		if (pg[i].prot != pg[0].prot || pg[i].locked != pg[0].locked ||
		    pg[i].onfault != pg[0].onfault ||
		    pg[i].dontfork != pg[0].dontfork ||
		    pg[i].wipe != pg[0].wipe)
			return false;
	}
	*npages = n;
	return true;
}

static void predict_mremap(struct model *m, const struct op *op,
			   struct prediction *pr)
{
	struct page_model *src = m->pg[op->a], tmpl;
	int mode = op->c, dst = op->d, n = op->b, k, i;

	if (!model_slot_simple(m, op->a, &k)) {
		pr->skip = true;
		return;
	}
	if (mode == 2 && dst == op->a)
		mode = 1;
	if (mode == 2) {
		for (i = 0; i < MODEL_PAGES; i++) {
			if (m->pg[dst][i].mapped) {
				pr->skip = true;
				return;
			}
		}
	}
	tmpl = src[0];
	tmpl.claim = populatable(&tmpl);
	if (mode != 2) {
		for (i = n; i < k; i++)
			page_clear(&src[i]);
		for (i = k; i < n; i++)
			src[i] = tmpl;
		pr->mremap_merge = n > k;
		return;
	}
	for (i = 0; i < n; i++)
		m->pg[dst][i] = i < k ? src[i] : tmpl;
	for (i = 0; i < k; i++)
		page_clear(&src[i]);
	pr->mremap_merge = true;
}

void model_predict(struct model *m, const struct op *op,
		   struct prediction *pr)
{
	memset(pr, 0, sizeof(*pr));
	switch (op->type) {
	case 'M':
		predict_mlockall(m, op->a, pr);
		break;
	case 'U':
		predict_munlockall(m, pr);
		break;
	case 'm':
		predict_mmap(m, op, pr);
		break;
	case 'u':
		predict_munmap(m, op, pr);
		break;
	case 'l':
		predict_mlock(m, op, pr);
		break;
	case 'p':
		predict_mprotect(m, op, pr);
		break;
	case 'r':
		predict_mremap(m, op, pr);
		break;
	case 'a':
		predict_madvise(m, op, pr);
		break;
	case 't':
		predict_touch(m, op);
		break;
	default:
		break;
	}
}

/* SEMANTICS.md section 3: what the fork child starts with. */
void model_fork_child(struct model *m)
{
	bool inherit = m->feature && (m->state & ST_INHERIT);
	int s, i;

	if (injected("fork-inherits"))
		inherit = true;
	for (s = 0; s < NSLOTS; s++) {
		for (i = 0; i < MODEL_PAGES; i++) {
			struct page_model *p = &m->pg[s][i];

			if (!p->mapped)
				continue;
			if (p->dontfork) {
				page_clear(p);
				continue;
			}
			if (!inherit)
				page_unlock(p);
			else
				p->claim = populatable(p);
		}
	}
	if (!inherit) {
		m->future = false;
		m->onfault = false;
	}
	if (!(m->state & ST_RECURSIVE))
		m->state = inherit ? ST_EXEC_KEEP : 0;
}

/* SEMANTICS.md section 4 (no secure exec here). */
void model_exec(struct model *m)
{
	bool keep = m->feature && (m->state & ST_EXEC_KEEP) && m->future;
	int s, i;

	for (s = 0; s < NSLOTS; s++)
		for (i = 0; i < MODEL_PAGES; i++)
			page_clear(&m->pg[s][i]);
	if (!keep) {
		m->future = false;
		m->onfault = false;
		m->state = 0;
		return;
	}
	/* Version 2: the process stays locked through its own execs. */
	if (!(m->state & ST_RECURSIVE))
		m->state = ST_EXEC_KEEP;
}
