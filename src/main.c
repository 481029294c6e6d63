// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace: trace page pins and references on a live kernel.
 * main: options -> privileges -> kernel facts -> attach plan -> trace/check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "diff.h"
#include "facts.h"
#include "foll.h"
#include "opts.h"
#include "place.h"
#include "plan.h"
#include "probe.h"
#include "replay.h"
#include "trace.h"
#include "util.h"

/* CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON (5.8+), from /proc/self/status. */
static bool privileged(void)
{
	unsigned long long cap = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &cap) == 1)
			break;
	fclose(f);
	return (cap & (1ULL << 21)) || ((cap & (1ULL << 39)) && (cap & (1ULL << 38)));
}

/*
 * libbpf messages: none by default (pintrace says what failed itself),
 * warnings and the verifier log with -v, everything with -vv.
 */
static int verbosity;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (verbosity >= 2 || (verbosity == 1 && level <= LIBBPF_INFO))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* PROC_PID_INIT_INO: the initial PID namespace's inode number is fixed. */
static bool init_pidns(void)
{
	char buf[64];
	ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);

	if (n < 0)
		return true;	/* cannot tell: do not refuse */
	buf[n] = '\0';
	return !strcmp(buf, "pid:[4026531836]");
}

static void explain_unsupported(const struct kernel_facts *kf, const char *why)
{
	fprintf(stderr, "pintrace: this kernel (%s) cannot be traced: %s\n", kf->release, why);
	fprintf(stderr, "  fentry/fexit: %s\n", kf->fentry ? "available" : kf->fentry_why);
	fprintf(stderr, "  kprobes:      %s\n", kf->kprobe ? "available" : kf->kprobe_why);
	if (kf->lockdown[0])
		fprintf(stderr, "  lockdown:     %s\n", kf->lockdown);
	fprintf(stderr,
		"What would help: a kernel with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y, or one that\n"
		"allows BPF trampolines (fentry) for root (no lockdown refusing them), with BTF\n"
		"(CONFIG_DEBUG_INFO_BTF=y). To see pintrace work here anyway, run it against real\n"
		"Debian kernels in the bundled VM test bed: `make demo`.\n");
}

static int cmd_check(const struct pt_opts *o, const struct kernel_facts *kf,
		     const struct foll_table *foll, const struct plan *p, const struct btf *btf)
{
	char why[256];
	int cov;

	if (o->dump_facts) {
		facts_write(stdout, kf);
		return EXIT_OK;
	}
	printf("kernel:    %s\n", kf->release);
	printf("BTF:       %s\n", kf->btf ? "yes" : "no");
	printf("lockdown:  %s\n", kf->lockdown[0] ? kf->lockdown : "unknown");
	printf("fentry:    %s\n", kf->fentry ? "yes" : kf->fentry_why);
	printf("kprobe:    %s\n", kf->kprobe ? "yes" : kf->kprobe_why);
	if (o->facts_path)
		printf("FOLL_*:    not known from a facts file (read from BTF when tracing)\n");
	else
		printf("FOLL_*:    from %s: PIN=0x%x GET=0x%x LONGTERM=0x%x WRITE=0x%x\n",
		       foll->from_btf ? "BTF" : "the legacy table (BTF has none: kernel < 6.3)",
		       foll->pin, foll->get, foll->longterm, foll->write);
	if (!o->facts_path) {
		struct place pl;

		place_init(&pl, btf);
		printf("zones:     ");
		for (int i = 0; i < pl.nzones; i++)
			printf("%s%s", i ? " " : "", pl.zone_names[i]);
		printf("%s (page frames and zone bits are calibrated when tracing starts)\n",
		       pl.nzones ? "" : "unknown: no enum zone_type in BTF");
		printf("CMA:       %s\n", pl.how_cma);
	}
	printf("\nAttach plan (backend mode %s):\n",
	       p->mode == MODE_AUTO ? "auto" : p->mode == MODE_FENTRY ? "fentry" : "kprobe");
	plan_print(stdout, p);
	cov = plan_coverage(p, false, why, sizeof(why));
	if (cov) {
		printf("\n");
		fflush(stdout);
		explain_unsupported(kf, why);
		return EXIT_UNSUPPORTED;
	}
	printf("\nverdict: pins and unpins can be traced on this kernel\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct kernel_facts kf;
	struct foll_table foll;
	struct btf *btf = NULL;
	struct pt_opts o;
	struct plan *plan;
	char err[256], why[256];
	bool priv = privileged();
	int ret;

	ret = opts_parse(argc, argv, &o, err, sizeof(err));
	if (ret)
		return ret > 0 ? EXIT_OK : (fprintf(stderr, "pintrace: %s\n", err), EXIT_USAGE);
	if (o.cmd == CMD_REPLAY)
		return replay_main(&o);	/* no kernel involved: no root, no BTF */
	if (o.cmd == CMD_DIFF)
		return diff_main(argc - 1, argv + 1);	/* files only, like replay */
	if (!priv && !(o.cmd == CMD_CHECK)) {
		fprintf(stderr, "pintrace: loading BPF programs needs root (CAP_SYS_ADMIN, or CAP_BPF "
			"and CAP_PERFMON); run it with sudo.\n  `pintrace check` works without.\n");
		return EXIT_RUNTIME;
	}
	verbosity = o.verbose;
	libbpf_set_print(libbpf_log);
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return EXIT_RUNTIME;

	if (o.facts_path) {
		FILE *f = fopen(o.facts_path, "r");

		if (!f || facts_read(f, &kf, err, sizeof(err))) {
			fprintf(stderr, "pintrace: %s: %s\n", o.facts_path, f ? err : strerror(errno));
			if (f)
				fclose(f);
			free(plan);
			return EXIT_USAGE;
		}
		fclose(f);
	} else {
		btf = o.btf_path ? btf__parse(o.btf_path, NULL) : btf__load_vmlinux_btf();
		if (!btf && o.btf_path) {
			fprintf(stderr, "pintrace: cannot read BTF %s: %s\n", o.btf_path, strerror(errno));
			free(plan);
			return EXIT_USAGE;
		}
		probe_kernel(&kf, btf, priv);
		if (!priv)
			fprintf(stderr, "pintrace: not root: fentry and ftrace facts are not probed\n");
	}
	if (foll_load(btf, &foll)) {
		fprintf(stderr, "pintrace: kernel BTF has FOLL_LONGTERM but no FOLL_PIN: refusing to "
			"guess flag values\n");
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
	plan_build(&kf, o.mode, o.cmd == CMD_RUN, plan);
	if (o.cmd == CMD_CHECK) {
		ret = cmd_check(&o, &kf, &foll, plan, btf);
		goto out;
	}
	if (!kf.btf) {
		explain_unsupported(&kf, "no kernel BTF (/sys/kernel/btf/vmlinux); try --btf PATH");
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
	if (!kf.fentry && !kf.kprobe) {
		explain_unsupported(&kf, "neither fentry/fexit nor kprobes can attach");
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
	if (!o.allow_partial && plan_coverage(plan, false, why, sizeof(why))) {
		explain_unsupported(&kf, why);
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
	if ((o.pid || o.cmd == CMD_RUN) && !init_pidns()) {
		fprintf(stderr, "pintrace: -p and `run` need the initial PID namespace (the kernel "
			"reports those pids); run pintrace on the host, not in a container\n");
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = trace_main(&o, &kf, &foll, plan, btf);
out:
	/* foll's names point into btf: free it last */
	btf__free(btf);
	free(plan);
	return ret;
}
