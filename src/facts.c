// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "facts.h"

const struct sym_fact *facts_sym(const struct kernel_facts *kf, const char *name)
{
	for (size_t i = 0; i < kf->nsyms; i++)
		if (!strcmp(kf->syms[i].name, name))
			return &kf->syms[i];
	return NULL;
}

struct sym_fact *facts_sym_add(struct kernel_facts *kf, const char *name)
{
	struct sym_fact *s = (struct sym_fact *)facts_sym(kf, name);

	if (s)
		return s;
	if (kf->nsyms >= FACTS_MAX_SYMS || strlen(name) >= sizeof(s->name))
		return NULL;
	s = &kf->syms[kf->nsyms++];
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->ftrace = FACT_UNKNOWN;
	return s;
}

void facts_write(FILE *f, const struct kernel_facts *kf)
{
	fprintf(f, "kernel %s\n", kf->release);
	fprintf(f, "btf %d\n", kf->btf);
	fprintf(f, "fentry %d%s%s\n", kf->fentry, kf->fentry_why[0] ? " " : "", kf->fentry_why);
	fprintf(f, "kprobe %d%s%s\n", kf->kprobe, kf->kprobe_why[0] ? " " : "", kf->kprobe_why);
	fprintf(f, "tp_btf %d\n", kf->tp_btf);
	fprintf(f, "fentry_max_args %d\n", kf->fentry_max_args);
	fprintf(f, "lockdown %s\n", kf->lockdown[0] ? kf->lockdown : "unknown");
	for (size_t i = 0; i < kf->nsyms; i++) {
		const struct sym_fact *s = &kf->syms[i];

		fprintf(f, "sym %s kallsyms=%d btf=%d nargs=%d param0=%s ret=%s ftrace=%d\n", s->name,
			s->kallsyms, s->btf, s->btf_nargs, s->param0[0] ? s->param0 : "-",
			s->ret[0] ? s->ret : "-", s->ftrace);
	}
}

static int parse_sym(char *rest, struct kernel_facts *kf)
{
	char *save = NULL, *tok = strtok_r(rest, " \t", &save);
	struct sym_fact *s;

	if (!tok || !(s = facts_sym_add(kf, tok)))
		return -EINVAL;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		if (!strcmp(tok, "kallsyms"))
			s->kallsyms = atoi(eq);
		else if (!strcmp(tok, "btf"))
			s->btf = atoi(eq);
		else if (!strcmp(tok, "nargs"))
			s->btf_nargs = atoi(eq);
		else if (!strcmp(tok, "ftrace"))
			s->ftrace = atoi(eq);
		else if (!strcmp(tok, "ret"))
			snprintf(s->ret, sizeof(s->ret), "%s", strcmp(eq, "-") ? eq : "");
		else if (!strcmp(tok, "param0"))
			snprintf(s->param0, sizeof(s->param0), "%s", strcmp(eq, "-") ? eq : "");
		else
			return -EINVAL;
	}
	return 0;
}

/* "0|1 [reason...]" */
static bool parse_flag(const char *v, char *why, size_t whylen)
{
	const char *sp = strchr(v, ' ');

	if (why)
		snprintf(why, whylen, "%s", sp ? sp + 1 : "");
	return atoi(v) != 0;
}

int facts_read(FILE *f, struct kernel_facts *kf, char *err, size_t errlen)
{
	char line[512];
	int lineno = 0;

	memset(kf, 0, sizeof(*kf));
	kf->fentry_max_args = 6;
	while (fgets(line, sizeof(line), f)) {
		char *v, *nl = strchr(line, '\n');

		lineno++;
		if (nl)
			*nl = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		v = strchr(line, ' ');
		if (!v)
			goto bad;
		*v++ = '\0';
		if (!strcmp(line, "kernel"))
			snprintf(kf->release, sizeof(kf->release), "%s", v);
		else if (!strcmp(line, "btf"))
			kf->btf = parse_flag(v, NULL, 0);
		else if (!strcmp(line, "fentry"))
			kf->fentry = parse_flag(v, kf->fentry_why, sizeof(kf->fentry_why));
		else if (!strcmp(line, "kprobe"))
			kf->kprobe = parse_flag(v, kf->kprobe_why, sizeof(kf->kprobe_why));
		else if (!strcmp(line, "tp_btf"))
			kf->tp_btf = parse_flag(v, NULL, 0);
		else if (!strcmp(line, "fentry_max_args"))
			kf->fentry_max_args = atoi(v);
		else if (!strcmp(line, "lockdown"))
			snprintf(kf->lockdown, sizeof(kf->lockdown), "%s", v);
		else if (!strcmp(line, "sym")) {
			if (parse_sym(v, kf))
				goto bad;
		} else
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "facts line %d: cannot parse", lineno);
	return -EINVAL;
}
