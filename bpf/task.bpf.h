/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process-tree following for `pintrace run`: a task forked by a traced
 * process is traced too. tp_btf loads on every supported kernel, including
 * locked-down ones, so these need no backend choice.
 */
#ifndef PT_TASK_BPF_H
#define PT_TASK_BPF_H

SEC("?tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	PT_NOOP_GUARD();
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (!cfg.filter_tree || ptgid == ctgid ||
	    !bpf_map_lookup_elem(&traced_tgids, &ptgid))
		return 0;
	STAT_INC(PT_HOOK_SCHED_FORK, hits);
	if (bpf_map_update_elem(&traced_tgids, &ctgid, &one, BPF_ANY))
		STAT_INC(PT_HOOK_SCHED_FORK, map_full);
	return 0;
}

/*
 * Forget a process when its last thread is gone, so that a recycled pid is
 * not traced by mistake. Pins it leaves behind stay in `held` and their
 * unpins (by whoever drops them) are still matched.
 */
SEC("?tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	PT_NOOP_GUARD();
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (!cfg.filter_tree || BPF_CORE_READ(task, signal, live.counter) > 0)
		return 0;
	if (bpf_map_delete_elem(&traced_tgids, &tgid) == 0)
		STAT_INC(PT_HOOK_SCHED_EXIT, hits);
	return 0;
}

#endif /* PT_TASK_BPF_H */
