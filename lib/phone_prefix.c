/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The prefix matcher: a backtracking matcher with Perl's leftmost-first
 * rules for the subset of regular expressions libphonenumber's prefix
 * patterns use (see phone_prefix.h). A pattern compiles into a small tree
 * of nodes on the stack: no allocation, no global state; a step budget
 * bounds the work on any input. */
#include "twofa_build.h"

#include <stdbool.h>
#include <string.h>

#include "phone_prefix.h"

enum { PM_CLASS, PM_GROUP, PM_EOL };
#define PM_MAX_NODES 512
#define PM_MAX_ALTS 256
#define PM_MAX_CAPS TWOFA_PHONE_PREFIX_MAX_GROUPS
#define PM_INF 0xffff
#define PM_BUDGET 200000L /* steps; trusted patterns on <= 96 digits never come near */

typedef struct pm_node {
	unsigned char type;
	unsigned short min, max; /* repetition */
	signed char cap;         /* GROUP: capture number, -1 for (?:...) */
	unsigned short cls;      /* CLASS: bit d set if digit d matches */
	short alt;               /* GROUP: first alternative */
	short next;              /* next node of the sequence, -1 at its end */
} pm_node;

typedef struct pm_alt {
	short first; /* first node of the alternative, -1 if empty */
	short next;  /* next alternative, -1 at the end */
} pm_alt;

typedef struct pm {
	pm_node nodes[PM_MAX_NODES];
	pm_alt alts[PM_MAX_ALTS];
	int nnodes, nalts, ncaps;
	const char *s; /* subject: digits */
	size_t len;
	int caps[2 * (PM_MAX_CAPS + 1)]; /* start, end of each group; -1 unset */
	size_t end;
	long budget;
	bool error;
} pm;

typedef struct pm_frame {
	int node;  /* the group that finished an iteration */
	int count; /* iterations before this one */
	size_t start;
	const struct pm_frame *up;
} pm_frame;

static int pm_new_node(pm *m, unsigned char type)
{
	if (m->nnodes >= PM_MAX_NODES) {
		m->error = true;
		return -1;
	}
	m->nodes[m->nnodes] = (pm_node){.type = type, .min = 1, .max = 1, .cap = -1, .alt = -1, .next = -1};
	return m->nnodes++;
}

static int pm_parse_alternation(pm *m, const char **p, int depth);

static bool pm_parse_count(const char **p, unsigned *out)
{
	unsigned v = 0;

	if (**p < '0' || **p > '9')
		return false;
	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (unsigned)(**p - '0');
		if (v > 255)
			return false;
		(*p)++;
	}
	*out = v;
	return true;
}

/* One atom and its quantifier. Returns the node, -1 on error. */
static int pm_parse_atom(pm *m, const char **p, int depth)
{
	const char *s = *p;
	int n;

	if (*s == '(') {
		int cap = -1;

		if (s[1] == '?') {
			if (s[2] != ':') {
				m->error = true;
				return -1;
			}
			s += 3;
		} else {
			if (m->ncaps >= PM_MAX_CAPS) {
				m->error = true;
				return -1;
			}
			cap = ++m->ncaps;
			s++;
		}
		n = pm_new_node(m, PM_GROUP);
		if (n < 0)
			return -1;
		m->nodes[n].cap = (signed char)cap;
		m->nodes[n].alt = (short)pm_parse_alternation(m, &s, depth + 1);
		if (m->error || *s != ')') {
			m->error = true;
			return -1;
		}
		s++;
	} else if (*s == '[') {
		unsigned cls = 0;

		s++;
		while (*s != ']') {
			if (*s < '0' || *s > '9') {
				m->error = true;
				return -1;
			}
			if (s[1] == '-' && s[2] >= '0' && s[2] <= '9') {
				if (s[2] < s[0]) {
					m->error = true;
					return -1;
				}
				for (int d = s[0]; d <= s[2]; d++)
					cls |= 1u << (d - '0');
				s += 3;
			} else {
				cls |= 1u << (*s - '0');
				s++;
			}
		}
		s++;
		n = pm_new_node(m, PM_CLASS);
		if (n < 0)
			return -1;
		m->nodes[n].cls = (unsigned short)cls;
	} else if (*s >= '0' && *s <= '9') {
		n = pm_new_node(m, PM_CLASS);
		if (n < 0)
			return -1;
		m->nodes[n].cls = (unsigned short)(1u << (*s - '0'));
		s++;
	} else if (*s == '$') {
		*p = s + 1;
		return pm_new_node(m, PM_EOL);
	} else {
		m->error = true;
		return -1;
	}

	/* Quantifier. */
	if (*s == '?' || *s == '*' || *s == '+') {
		m->nodes[n].min = *s == '+' ? 1 : 0;
		m->nodes[n].max = *s == '?' ? 1 : PM_INF;
		s++;
	} else if (*s == '{') {
		unsigned lo, hi;

		s++;
		if (!pm_parse_count(&s, &lo)) {
			m->error = true;
			return -1;
		}
		hi = lo;
		if (*s == ',') {
			s++;
			hi = PM_INF;
			if (*s != '}' && !pm_parse_count(&s, &hi)) {
				m->error = true;
				return -1;
			}
		}
		if (*s != '}' || hi < lo) {
			m->error = true;
			return -1;
		}
		s++;
		m->nodes[n].min = (unsigned short)lo;
		m->nodes[n].max = (unsigned short)hi;
	}
	if (*s == '?' || *s == '*' || *s == '+' || *s == '{') { /* lazy or stacked: unsupported */
		m->error = true;
		return -1;
	}
	*p = s;
	return n;
}

/* A sequence of atoms up to '|', ')' or the end. Returns its first node. */
static int pm_parse_sequence(pm *m, const char **p, int depth)
{
	int first = -1, last = -1;

	while (**p != '\0' && **p != '|' && **p != ')') {
		int n = pm_parse_atom(m, p, depth);
		if (n < 0)
			return -1;
		if (last < 0)
			first = n;
		else
			m->nodes[last].next = (short)n;
		last = n;
	}
	return first;
}

static int pm_parse_alternation(pm *m, const char **p, int depth)
{
	int head = -1, last = -1;

	if (depth > 32) {
		m->error = true;
		return -1;
	}
	for (;;) {
		int a;

		if (m->nalts >= PM_MAX_ALTS) {
			m->error = true;
			return -1;
		}
		a = m->nalts++;
		m->alts[a].next = -1;
		m->alts[a].first = (short)pm_parse_sequence(m, p, depth);
		if (m->error)
			return -1;
		if (last < 0)
			head = a;
		else
			m->alts[last].next = (short)a;
		last = a;
		if (**p != '|')
			return head;
		(*p)++;
	}
}

/* Compiles pattern; the whole of it is group 0. Returns the root node. */
static int pm_compile(pm *m, const char *pattern)
{
	const char *p = pattern;
	int root;

	m->nnodes = m->nalts = m->ncaps = 0;
	m->error = false;
	root = pm_new_node(m, PM_GROUP);
	if (root < 0)
		return -1;
	m->nodes[root].cap = 0;
	m->nodes[root].alt = (short)pm_parse_alternation(m, &p, 0);
	if (m->error || *p != '\0') {
		m->error = true;
		return -1;
	}
	return root;
}

static bool pm_rep(pm *m, int n, int count, size_t pos, const pm_frame *k);

static bool pm_seq(pm *m, int n, size_t pos, const pm_frame *k);

/* A group finished one iteration at pos: record it and go on. */
static bool pm_cont(pm *m, size_t pos, const pm_frame *k)
{
	const pm_node *g;
	int old_start = -1, old_end = -1;
	bool ok;

	if (k == NULL) {
		m->end = pos;
		return true;
	}
	g = &m->nodes[k->node];
	if (g->cap >= 0) {
		old_start = m->caps[2 * g->cap];
		old_end = m->caps[2 * g->cap + 1];
		m->caps[2 * g->cap] = (int)k->start;
		m->caps[2 * g->cap + 1] = (int)pos;
	}
	/* An empty iteration beyond the minimum would loop: leave the group. */
	if (pos == k->start && k->count + 1 >= g->min)
		ok = pm_seq(m, g->next, pos, k->up);
	else
		ok = pm_rep(m, k->node, k->count + 1, pos, k->up);
	if (!ok && g->cap >= 0) {
		m->caps[2 * g->cap] = old_start;
		m->caps[2 * g->cap + 1] = old_end;
	}
	return ok;
}

/* Node n has matched count times ending at pos: greedily try once more,
 * then try what follows. */
static bool pm_rep(pm *m, int n, int count, size_t pos, const pm_frame *k)
{
	const pm_node *node = &m->nodes[n];

	if (--m->budget < 0) {
		m->error = true;
		return false;
	}
	switch (node->type) {
	case PM_EOL:
		return pos == m->len && pm_seq(m, node->next, pos, k);
	case PM_CLASS:
		if (count < node->max && pos < m->len && (node->cls & (1u << (m->s[pos] - '0'))) != 0 &&
		    pm_rep(m, n, count + 1, pos + 1, k))
			return true;
		break;
	case PM_GROUP:
		if (count < node->max) {
			pm_frame f = {.node = n, .count = count, .start = pos, .up = k};

			for (int a = node->alt; a >= 0; a = m->alts[a].next)
				if (pm_seq(m, m->alts[a].first, pos, &f))
					return true;
			if (m->error)
				return false;
		}
		break;
	}
	return count >= node->min && !m->error && pm_seq(m, node->next, pos, k);
}

static bool pm_seq(pm *m, int n, size_t pos, const pm_frame *k)
{
	if (n < 0)
		return pm_cont(m, pos, k);
	return pm_rep(m, n, 0, pos, k);
}

int twofa_phone_prefix_match(const char *pattern, const char *digits, size_t len,
			     twofa_phone_prefix_result *res)
{
	pm m;
	int root;

	if (pattern == NULL || digits == NULL || res == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return -1; /* a class is a bit per digit */
	root = pm_compile(&m, pattern);
	if (root < 0)
		return -1;
	m.s = digits;
	m.len = len;
	m.budget = PM_BUDGET;
	for (size_t i = 0; i < sizeof(m.caps) / sizeof(m.caps[0]); i++)
		m.caps[i] = -1;
	if (!pm_rep(&m, root, 0, 0, NULL))
		return m.error ? -1 : 0;
	res->end = m.end;
	res->ngroups = m.ncaps;
	memcpy(res->groups, m.caps, sizeof(res->groups));
	return 1;
}
