/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pipe holds: vmsplice() takes plain page references (FOLL_GET, never
 * pins) and parks them in a pipe for as long as user space likes. They are
 * invisible to folio_maybe_dma_pinned() and to nr_foll_pin_*, yet block
 * migration, offlining and CMA. We mark the GUP grabs made inside vmsplice
 * as pipe holds and follow the pages until the pipe lets them go.
 */
#ifndef PT_PIPE_BPF_H
#define PT_PIPE_BPF_H

/* Set by the loader once every pipe hook is attached: half a picture lies. */
bool track_pipes = false;

/*
 * iter_to_pipe() grabs up to this many pages at a time; when the pipe fills
 * mid-batch it releases the failing buffer and put_page()s the rest of the
 * batch, unseen. We keep the batch's folios to account for those.
 */
#define VMS_BATCH 16

/* The pipe a task's vmsplice() or tee() call feeds. */
struct vms_ctx {
	__u64 pipe;	/* struct pipe_inode_info * (file->private_data) */
	__u64 ino;
	__u32 head0;	/* pipe->head at entry: buffers queued = head - head0 */
	__u32 grabs;	/* references taken in this call */
	__u32 releases;	/* of which released again into this pipe's release */
	__u32 is_vmsplice;
	__u64 last[VMS_BATCH];	/* the most recent grabs, ring by grabs */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct vms_ctx);
} vms_ctxs SEC(".maps");

/* Pages held by pipes on behalf of traced tasks, with their reference count. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TRACKED_FOLIOS);
	__type(key, __u64);
	__type(value, __s64);
} pipe_held SEC(".maps");

/* The vmsplice context of the current task, if a grab is happening inside one. */
static __always_inline struct vms_ctx *vmsplice_ctx(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!track_pipes)
		return NULL;
	return bpf_map_lookup_elem(&vms_ctxs, &tid);
}

/* fd -> struct file of the current task (NULL if out of range). */
static __always_inline struct file *fd_file(unsigned int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * Remember the destination pipe of a syscall by its fd argument. The
 * syscall wrappers take (const struct pt_regs *regs) holding the user args.
 */
static __always_inline int pipe_ctx_enter(enum pt_hook hook, unsigned int fd, bool vms)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pipe_inode_info *pi;
	struct vms_ctx c = {};
	struct file *f;

	if (!track_pipes || !task_selected(bpf_get_current_pid_tgid() >> 32))
		return 0;
	f = fd_file(fd);
	if (!f)
		return 0;
	/* vmsplice checks the file is a pipe; a non-pipe fd takes no refs anyway */
	/* locals only inside CO-RE reads: a vms_ctx field access would be relocated too */
	pi = BPF_CORE_READ(f, private_data);
	c.pipe = (__u64)pi;
	c.ino = BPF_CORE_READ(f, f_inode, i_ino);
	c.head0 = BPF_CORE_READ(pi, head);
	c.is_vmsplice = vms;
	STAT_INC(hook, hits);
	if (bpf_map_update_elem(&vms_ctxs, &tid, &c, BPF_ANY))
		STAT_INC(hook, map_full);
	return 0;
}

/* vmsplice(fd, iov, nr, flags): references go to fd */
static __always_inline int vmsplice_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	/* a local: CO-RE must not see the hargs access inside the read */
	struct pt_regs *regs = (struct pt_regs *)h->a[0];

	return pipe_ctx_enter(hook, (unsigned int)PT_REGS_PARM1_CORE_SYSCALL(regs), true);
}

/* tee(fd_in, fd_out, len, flags): link_pipe() calls ->get with the input pipe */
static __always_inline int tee_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct pt_regs *regs = (struct pt_regs *)h->a[0];

	return pipe_ctx_enter(hook, (unsigned int)PT_REGS_PARM2_CORE_SYSCALL(regs), false);
}

static __always_inline int pipe_event(enum pt_hook hook, __u8 be, __u8 type, __u64 pipe,
				      __u64 folio, __u32 flags);

/*
 * Pages vmsplice grabbed but neither queued nor released through the pipe:
 * the tail of the last batch, dropped with put_page() when the pipe filled.
 */
static __always_inline void vmsplice_reconcile(enum pt_hook hook, __u8 be, struct vms_ctx *c)
{
	struct pipe_inode_info *pi = (struct pipe_inode_info *)c->pipe;
	__u32 queued = BPF_CORE_READ(pi, head) - c->head0;
	__u32 dropped;

	if (c->grabs <= queued + c->releases)
		return;
	dropped = c->grabs - queued - c->releases;
	for (__u32 i = 0; i < VMS_BATCH; i++) {
		__u64 folio;

		if (i >= dropped || i >= c->grabs)
			break;
		folio = c->last[(c->grabs - 1 - i) % VMS_BATCH];
		if (folio_count_sub(&pipe_held, folio, 1))
			pipe_event(hook, be, PT_EV_RELEASE, c->pipe, folio, PT_F_DROPPED);
	}
}

static __always_inline int pipe_ctx_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vms_ctx *c = bpf_map_lookup_elem(&vms_ctxs, &tid);

	if (c && c->is_vmsplice)
		vmsplice_reconcile(hook, be, c);
	bpf_map_delete_elem(&vms_ctxs, &tid);
	return 0;
}

static __always_inline int pipe_event(enum pt_hook hook, __u8 be, __u8 type, __u64 pipe,
				      __u64 folio, __u32 flags)
{
	struct pt_event *e = event_reserve(hook, type, be);

	if (!e)
		return 0;
	e->folio = folio;
	e->refs = 1;
	e->holder = pipe;
	e->pt_flags = PT_F_PIPE | PT_F_GET | flags;
	event_submit(e, hook);
	return 0;
}

/* page_cache_pipe_buf_release(pipe, buf): buf->ops is already NULL here. */
static __always_inline int pipe_release_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct pipe_buffer *buf = (struct pipe_buffer *)h->a[1];
	__u64 folio = page_head((__u64)BPF_CORE_READ(buf, page));

	struct vms_ctx *c;

	if (!track_pipes)
		return 0;
	if (!folio_count_sub(&pipe_held, folio, 1))
		return 0;	/* page cache splices use this release too */
	/* the buffer add_to_pipe() refused, inside the vmsplice that grabbed it */
	c = vmsplice_ctx();
	if (c && c->pipe == h->a[0])
		c->releases++;
	STAT_INC(hook, hits);
	return pipe_event(hook, be, PT_EV_RELEASE, h->a[0], folio, 0);
}

/*
 * generic_pipe_buf_get(pipe, buf) -> bool: another reference on a buffer's
 * page. `pipe` is the pipe the buffer comes from; inside tee() the new
 * reference belongs to tee's output pipe, which the syscall hook recorded.
 */
static __always_inline int pipe_get_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct pipe_buffer *buf = (struct pipe_buffer *)h->a[1];
	__u64 folio, pipe = h->a[0], ino = 0;
	struct vms_ctx *c;
	struct pt_event *e;

	if (!track_pipes || !(__u8)h->ret)
		return 0;
	folio = page_head((__u64)BPF_CORE_READ(buf, page));
	if (!bpf_map_lookup_elem(&pipe_held, &folio))
		return 0;
	c = vmsplice_ctx();
	if (c) {
		pipe = c->pipe;
		ino = c->ino;
	}
	folio_count_add(&pipe_held, hook, folio, 1);
	STAT_INC(hook, hits);
	e = event_reserve(hook, PT_EV_HOLD, be);
	if (!e)
		return 0;
	e->folio = folio;
	e->refs = 1;
	e->holder = pipe;
	e->holder_id = ino;
	e->pt_flags = PT_F_PIPE | PT_F_GET;
	event_submit(e, hook);
	return 0;
}

PT_HOOK_ENTRY_EXIT(vmsplice, PT_HOOK_VMSPLICE, 1, vmsplice_entry, pipe_ctx_exit)
PT_HOOK_ENTRY_EXIT(tee, PT_HOOK_TEE, 1, tee_entry, pipe_ctx_exit)
PT_HOOK_ENTRY(pipe_buf_release, PT_HOOK_PIPE_BUF_RELEASE, 2, pipe_release_entry)
PT_HOOK_EXIT(pipe_buf_get, PT_HOOK_PIPE_BUF_GET, 2, pipe_get_exit)

#endif /* PT_PIPE_BPF_H */
