/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One generic body per hook shape, stamped into fentry/fexit and
 * kprobe/kretprobe programs. Every program is declared with "?" (not loaded
 * by default): the loader enables the pair its plan chose for each hook and
 * sets the real target at run time, so one object serves every kernel.
 */
#ifndef PT_HOOKS_BPF_H
#define PT_HOOKS_BPF_H

#define PT_NARGS 6

/*
 * --noop-programs (the benchmark floor): every program returns at once.
 * cfg is read-only data the verifier knows, so it removes whichever branch
 * is dead: normal runs do not pay for this test.
 */
#define PT_NOOP_GUARD()	do { if (cfg.noop) return 0; } while (0)

/* Arguments (and return value) of one traced call, backend independent. */
struct hargs {
	__u64 a[PT_NARGS];
	__s64 ret;
	__u64 sp;	/* an address in the probe's stack frame: call depth */
	void *ctx;	/* the program's context, for bpf_get_stackid() */
};

/* libbpf 1.1 has no PT_REGS_PARM6. */
#if defined(__TARGET_ARCH_x86)
#define PT_KPROBE_PARM6(x) (((struct pt_regs *)(x))->r9)
#elif defined(__TARGET_ARCH_arm64)
#define PT_KPROBE_PARM6(x) (((struct user_pt_regs *)(x))->regs[5])
#else
#error "unsupported architecture"
#endif

struct stash_key {
	__u32 tid;
	__u32 hook;
};

/*
 * kprobe entry -> kretprobe: the arguments a return handler needs. fexit gets
 * them for free; kretprobe does not. Preallocated (the default for hash
 * maps) because try_grab_folio_fast can run in NMI context.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, struct stash_key);
	__type(value, struct hargs);
} stash SEC(".maps");

static __always_inline void fentry_fill(void *ctx, struct hargs *h, int nargs)
{
	for (int i = 0; i < PT_NARGS; i++)
		if (i < nargs)
			bpf_get_func_arg(ctx, i, &h->a[i]);
}

static __always_inline void kprobe_fill(struct pt_regs *ctx, struct hargs *h, int nargs)
{
	h->a[0] = PT_REGS_PARM1(ctx);
	if (nargs > 1)
		h->a[1] = PT_REGS_PARM2(ctx);
	if (nargs > 2)
		h->a[2] = PT_REGS_PARM3(ctx);
	if (nargs > 3)
		h->a[3] = PT_REGS_PARM4(ctx);
	if (nargs > 4)
		h->a[4] = PT_REGS_PARM5(ctx);
	if (nargs > 5)
		h->a[5] = PT_KPROBE_PARM6(ctx);
}

static __always_inline void stash_put(enum pt_hook hook, struct hargs *h)
{
	struct stash_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook };

	/* An entry still there means a kretprobe never fired (maxactive). */
	if (bpf_map_lookup_elem(&stash, &k))
		STAT_INC(hook, stale);
	if (bpf_map_update_elem(&stash, &k, h, BPF_ANY))
		STAT_INC(hook, map_full);
}

static __always_inline bool stash_take(enum pt_hook hook, struct hargs *h)
{
	struct stash_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook };
	struct hargs *s = bpf_map_lookup_elem(&stash, &k);

	if (!s)
		return false;	/* attached while the call was in flight */
	__builtin_memcpy(h, s, sizeof(*h));
	bpf_map_delete_elem(&stash, &k);
	return true;
}

/* Hooks whose work happens at return and needs the arguments (grabs). */
#define PT_HOOK_EXIT(name, hook, nargs, on_exit)				\
SEC("?fexit")									\
int fexit_##name(void *ctx)							\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = { .ctx = ctx };					\
	fentry_fill(ctx, &h, nargs);						\
	bpf_get_func_ret(ctx, (__u64 *)&h.ret);					\
	return on_exit(hook, PT_BACKEND_FENTRY, &h);				\
}										\
SEC("?kprobe")									\
int kprobe_##name(struct pt_regs *ctx)						\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = {};							\
	kprobe_fill(ctx, &h, nargs);						\
	stash_put(hook, &h);							\
	return 0;								\
}										\
SEC("?kretprobe")								\
int kretprobe_##name(struct pt_regs *ctx)					\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = {};							\
	if (!stash_take(hook, &h))						\
		return 0;							\
	h.ret = PT_REGS_RC(ctx);						\
	h.ctx = ctx;								\
	return on_exit(hook, PT_BACKEND_KPROBE, &h);				\
}

/* Hooks that only need the arguments at entry (void functions). */
#define PT_HOOK_ENTRY(name, hook, nargs, on_entry)				\
SEC("?fentry")									\
int fentry_##name(void *ctx)							\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = { .sp = (__u64)ctx, .ctx = ctx };			\
	fentry_fill(ctx, &h, nargs);						\
	return on_entry(hook, PT_BACKEND_FENTRY, &h);				\
}										\
SEC("?kprobe")									\
int kprobe_##name(struct pt_regs *ctx)						\
{										\
	PT_NOOP_GUARD();							\
	/* pt_regs live on the stack */						\
	struct hargs h = { .sp = (__u64)ctx, .ctx = ctx };			\
	kprobe_fill(ctx, &h, nargs);						\
	return on_entry(hook, PT_BACKEND_KPROBE, &h);				\
}

/* Hooks with work at entry (arguments) and at return (result only). */
#define PT_HOOK_ENTRY_EXIT(name, hook, nargs, on_entry, on_exit)		\
PT_HOOK_ENTRY(name, hook, nargs, on_entry)					\
SEC("?fexit")									\
int fexit_##name(void *ctx)							\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = { .ctx = ctx };					\
	bpf_get_func_ret(ctx, (__u64 *)&h.ret);					\
	return on_exit(hook, PT_BACKEND_FENTRY, &h);				\
}										\
SEC("?kretprobe")								\
int kretprobe_##name(struct pt_regs *ctx)					\
{										\
	PT_NOOP_GUARD();							\
	struct hargs h = { .ret = PT_REGS_RC(ctx), .ctx = ctx };		\
	return on_exit(hook, PT_BACKEND_KPROBE, &h);				\
}

#endif /* PT_HOOKS_BPF_H */
