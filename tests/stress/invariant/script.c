// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Scripts: generation from a seed, text form (carried across exec and
 * printed as the reproducer), and flattening for the minimiser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv.h"

/* splitmix64: small, good enough, and identical everywhere. */
uint64_t rng_next(uint64_t *st)
{
	uint64_t z;

	*st += 0x9e3779b97f4a7c15ULL;
	z = *st;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t seq_seed(uint64_t seed, long seq)
{
	uint64_t st = seed ^ ((uint64_t)seq * 0xd1342543de82ef95ULL);

	return rng_next(&st);
}

static int rnd(uint64_t *st, int n)
{
	return (int)(rng_next(st) % (uint64_t)n);
}

static struct script *script_new(void)
{
	struct script *s = calloc(1, sizeof(*s));

	if (!s) {
		perror("mlock-invariant: calloc");
		exit(2);
	}
	return s;
}

static struct op *script_push(struct script *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ops = realloc(s->ops, s->cap * sizeof(*s->ops));
		if (!s->ops) {
			perror("mlock-invariant: realloc");
			exit(2);
		}
	}
	memset(&s->ops[s->n], 0, sizeof(s->ops[0]));
	return &s->ops[s->n++];
}

void script_free(struct script *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		script_free(s->ops[i].child);
	free(s->ops);
	free(s);
}

/* A random mlockall() flag set: mostly valid, sometimes anything. */
static int gen_mcl(uint64_t *st)
{
	static const int base[] = {
		MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_FUTURE,
	};
	int f;

	switch (rnd(st, 10)) {
	case 0:	/* any subset of the five bits, valid or not */
		f = rnd(st, 32);
		return (f & 1 ? MCL_CURRENT : 0) | (f & 2 ? MCL_FUTURE : 0) |
			(f & 4 ? MCL_ONFAULT : 0) | (f & 8 ? MCL_INHERIT : 0) |
			(f & 16 ? MCL_RECURSIVE : 0);
	case 1:	/* one stray bit */
		f = base[rnd(st, 3)];
		return f | (int)(1U << (5 + rnd(st, 27)));
	default:
		f = base[rnd(st, 3)];
		if (rnd(st, 3) == 0)
			f |= MCL_ONFAULT;
		switch (rnd(st, 4)) {
		case 0:
			break;
		case 1:
			f |= MCL_INHERIT;
			break;
		default:
			f |= MCL_INHERIT | MCL_RECURSIVE;
			break;
		}
		return f;
	}
}

static void gen_range(uint64_t *st, struct op *op)
{
	op->a = rnd(st, NSLOTS);
	op->b = rnd(st, 4) ? rnd(st, 8) : rnd(st, RANGE_PAGES - 1);
	op->c = rnd(st, 16) ? 1 + rnd(st, 16) : rnd(st, RANGE_PAGES - op->b);
}

static struct script *gen_list(uint64_t *st, int depth, int maxops,
			       int *procs, int execs)
{
	struct script *s = script_new();
	int n = maxops / 2 + rnd(st, maxops / 2 + 1);
	int i, w;

	for (i = 0; i < n; i++) {
		struct op *op = script_push(s);

		w = rnd(st, 100);
		if (w < 14) {
			op->type = 'm';
			op->a = rnd(st, NSLOTS);
			op->b = 1 + rnd(st, MAX_MAP);
			op->c = rnd(st, 12) ? rnd(st, K_DROPPABLE) :
				K_DROPPABLE;
			op->d = rnd(st, 8) ? (rnd(st, 3) ? P_RW : P_READ) :
				P_NONE;
			op->e = (rnd(st, 4) == 0 ? MF_LOCKED : 0) |
				(rnd(st, 6) == 0 ? MF_POPULATE : 0) |
				(rnd(st, 5) == 0 ? MF_FIXED : 0);
		} else if (w < 19) {
			op->type = 'u';
			gen_range(st, op);
		} else if (w < 34) {
			op->type = 'l';
			gen_range(st, op);
			op->d = rnd(st, 10);
			if (op->d >= L_NR)	/* favour mlock and munlock */
				op->d = op->d & 1 ? L_MLOCK : L_MUNLOCK;
			op->e = rnd(st, 2) ? 2 : (int)(1U << rnd(st, 31));
			if (op->e == 1)
				op->e = 2;
		} else if (w < 40) {
			op->type = 'p';
			gen_range(st, op);
			op->d = rnd(st, P_NR);
		} else if (w < 45) {
			op->type = 'r';
			op->a = rnd(st, NSLOTS);
			op->b = 1 + rnd(st, MODEL_PAGES);
			op->c = rnd(st, 3);
			op->d = rnd(st, NSLOTS);
		} else if (w < 54) {
			op->type = 'a';
			gen_range(st, op);
			op->d = rnd(st, A_NR);
		} else if (w < 63) {
			op->type = 't';
			gen_range(st, op);
		} else if (w < 77) {
			op->type = 'M';
			op->a = gen_mcl(st);
		} else if (w < 81) {
			op->type = 'U';
		} else if (w < 91) {
			if (*procs <= 0 || depth >= 5) {
				op->type = 't';
				gen_range(st, op);
				continue;
			}
			(*procs)--;
			op->type = 'F';
			op->child = gen_list(st, depth + 1,
					     maxops > 8 ? maxops * 2 / 3 : 8,
					     procs, execs);
		} else if (w < 96) {
			if (execs <= 0) {
				op->type = 'U';
				continue;
			}
			execs--;
			op->type = 'E';
		} else if (w < 97) {
			op->type = 'X';
		} else {
			op->type = 'u';
			gen_range(st, op);
		}
	}
	return s;
}

struct script *script_generate(uint64_t seed, int maxops, int maxprocs)
{
	uint64_t st = seed;
	int procs = maxprocs - 1;

	return gen_list(&st, 0, maxops, &procs, 2);
}

static int nargs(char type)
{
	switch (type) {
	case 'M':
		return 1;
	case 'u': case 't':
		return 3;
	case 'p': case 'a': case 'r':
		return 4;
	case 'm': case 'l':
		return 5;
	default:
		return 0;
	}
}

int op_format(const struct op *op, char *buf, size_t size)
{
	int v[5] = { op->a, op->b, op->c, op->d, op->e };
	int i, k, len;

	len = snprintf(buf, size, "%c", op->type);
	k = nargs(op->type);
	for (i = 0; i < k && len >= 0 && (size_t)len < size; i++)
		len += snprintf(buf + len, size - len, "%s%d", i ? "," : "",
				v[i]);
	if (len < 0 || (size_t)len >= size)
		return -1;
	return len;
}

int script_format(const struct script *s, int from, char *buf, size_t size)
{
	size_t len = 0;
	bool first = true;
	int i, r;

	if (size)
		buf[0] = '\0';
	for (i = from; i < s->n; i++) {
		const struct op *op = &s->ops[i];

		if (op->off)
			continue;
		if (!first) {
			if (len + 1 >= size)
				return -1;
			buf[len++] = ' ';
		}
		first = false;
		r = op_format(op, buf + len, size - len);
		if (r < 0)
			return -1;
		len += r;
		if (op->type == 'F') {
			if (len + 1 >= size)
				return -1;
			buf[len++] = '[';
			r = script_format(op->child, 0, buf + len, size - len);
			if (r < 0)
				return -1;
			len += r;
			if (len + 2 >= size)
				return -1;
			buf[len++] = ']';
		}
		buf[len] = '\0';
	}
	return (int)len;
}

static struct script *parse_list(const char **p, const char **err, int depth)
{
	struct script *s = script_new();

	for (;;) {
		struct op *op;
		int v[5] = { 0 }, i, k;
		char *end;

		while (**p == ' ')
			(*p)++;
		if (!**p || **p == ']')
			return s;
		if (!strchr("MUmulpratFEX", **p)) {
			*err = "unknown operation letter";
			script_free(s);
			return NULL;
		}
		op = script_push(s);
		op->type = *(*p)++;
		k = nargs(op->type);
		for (i = 0; i < k; i++) {
			if (i && *(*p)++ != ',') {
				*err = "expected ',' between arguments";
				script_free(s);
				return NULL;
			}
			v[i] = (int)strtol(*p, &end, 10);
			if (end == *p) {
				*err = "expected a number";
				script_free(s);
				return NULL;
			}
			*p = end;
		}
		op->a = v[0];
		op->b = v[1];
		op->c = v[2];
		op->d = v[3];
		op->e = v[4];
		if (op->type == 'F') {
			if (**p != '[' || depth > 64) {
				*err = "expected '[' after F";
				script_free(s);
				return NULL;
			}
			(*p)++;
			op->child = parse_list(p, err, depth + 1);
			if (!op->child) {
				script_free(s);
				return NULL;
			}
			if (**p != ']') {
				*err = "missing ']'";
				script_free(s);
				return NULL;
			}
			(*p)++;
		}
	}
}

static bool op_args_ok(const struct op *op)
{
	switch (op->type) {
	case 'm':
		return op->a >= 0 && op->a < NSLOTS && op->b >= 1 &&
			op->b <= MODEL_PAGES && op->c >= 0 && op->c < K_NR &&
			op->d >= 0 && op->d < P_NR;
	case 'u': case 't': case 'p': case 'a': case 'l':
		if (op->a < 0 || op->a >= NSLOTS || op->b < 0 || op->c < 0 ||
		    op->b + op->c > MODEL_PAGES)
			return false;
		if (op->type == 'p')
			return op->d >= 0 && op->d < P_NR;
		if (op->type == 'a')
			return op->d >= 0 && op->d < A_NR;
		if (op->type == 'l')
			return op->d >= 0 && op->d < L_NR;
		return true;
	case 'r':
		return op->a >= 0 && op->a < NSLOTS && op->b >= 1 &&
			op->b <= MODEL_PAGES && op->c >= 0 && op->c <= 2 &&
			op->d >= 0 && op->d < NSLOTS;
	default:
		return true;
	}
}

static bool script_args_ok(const struct script *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (!op_args_ok(&s->ops[i]))
			return false;
		if (s->ops[i].child && !script_args_ok(s->ops[i].child))
			return false;
	}
	return true;
}

struct script *script_parse(const char *text, const char **err)
{
	const char *p = text;
	struct script *s;

	*err = NULL;
	s = parse_list(&p, err, 0);
	if (s && *p) {
		*err = "unbalanced ']'";
		script_free(s);
		return NULL;
	}
	if (s && !script_args_ok(s)) {
		*err = "argument out of range";
		script_free(s);
		return NULL;
	}
	return s;
}

static int flatten(struct script *s, struct op **out, int n)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (out)
			out[n] = &s->ops[i];
		n++;
		if (s->ops[i].child)
			n = flatten(s->ops[i].child, out, n);
	}
	return n;
}

int script_count(const struct script *s)
{
	return flatten((struct script *)s, NULL, 0);
}

int script_flatten(struct script *s, struct op ***out)
{
	int n = script_count(s);

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out) {
		perror("mlock-invariant: calloc");
		exit(2);
	}
	flatten(s, *out, 0);
	return n;
}
