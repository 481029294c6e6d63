// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Stream records of skb frag holds: sockets taking and dropping page references. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "output.h"
#include "util.h"

const char *sock_format(__u64 tuple_addr, __u64 tuple_ports, char *buf, size_t len)
{
	unsigned int family = tuple_ports >> 32;
	unsigned int lport = (tuple_ports >> 16) & 0xffff, rport = tuple_ports & 0xffff;
	char l[INET_ADDRSTRLEN] = "", r[INET_ADDRSTRLEN] = "";

	if (!family) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (family == AF_INET) {
		/* the BPF side read both in network order */
		struct in_addr la = { .s_addr = (__u32)(tuple_addr >> 32) };
		struct in_addr ra = { .s_addr = (__u32)tuple_addr };

		inet_ntop(AF_INET, &la, l, sizeof(l));
		inet_ntop(AF_INET, &ra, r, sizeof(r));
		snprintf(buf, len, "%s:%u -> %s:%u", l, lport, r, rport);
	} else {
		snprintf(buf, len, "family %u :%u -> :%u", family, lport, rport);
	}
	return buf;
}

static json_object *json_sock(__u64 sk, __u64 ino, __u64 tuple_addr, __u64 tuple_ports)
{
	json_object *j = json_object_new_object();
	char buf[96];

	json_object_object_add(j, "sock", json_hex(sk));
	json_object_object_add(j, "ino", json_object_new_int64((int64_t)ino));
	if (tuple_ports >> 32) {
		json_object_object_add(j, "family", json_object_new_int64((int64_t)(tuple_ports >> 32)));
		json_object_object_add(j, "local_port", json_object_new_int64((tuple_ports >> 16) & 0xffff));
		json_object_object_add(j, "remote_port", json_object_new_int64(tuple_ports & 0xffff));
		json_object_object_add(j, "tuple", json_object_new_string(
			sock_format(tuple_addr, tuple_ports, buf, sizeof(buf))));
	}
	return j;
}

void out_skb_hold(struct output *o, const struct pt_event *e, const struct pin_owner *ow)
{
	bool origin = ow->origin_pid != 0;

	char detail[224], sock[96], from[96] = "", comm[4 * PT_COMM_LEN + 1];
	const char *how = e->pt_flags & PT_F_ZEROCOPY ? "zerocopy" :
			  e->pt_flags & PT_F_MOVED ? "skb-copy" : "splice";

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		if (origin)
			snprintf(from, sizeof(from), " from pipe ino %llu (vmspliced by %s/%u)",
				 (unsigned long long)ow->origin_holder_id,
				 sanitize_text(ow->origin_comm, sizeof(ow->origin_comm), comm, sizeof(comm)),
				 ow->origin_pid);
		snprintf(detail, sizeof(detail), "folio=0x%llx -> socket ino %llu %s%s",
			 (unsigned long long)e->folio, (unsigned long long)e->holder_id,
			 sock_format(e->addr, e->nr_req, sock, sizeof(sock)), from);
		text_line(o, e, "SHOLD", how, e->refs, "GET", detail);
		return;
	}
	json_object *j = json_task_record(o, "skb_hold", e);

	json_object_object_add(j, "how", json_object_new_string(how));
	json_object_object_add(j, "refs", json_object_new_int64(e->refs));
	json_object_object_add(j, "folio", json_hex(e->folio));
	json_object_object_add(j, "socket", json_sock(e->holder, e->holder_id, e->addr, e->nr_req));
	if (origin) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "kind", json_object_new_string("pipe"));
		json_object_object_add(p, "ino", json_object_new_int64((int64_t)ow->origin_holder_id));
		json_object_object_add(p, "pid", json_object_new_int64(ow->origin_pid));
		json_object_object_add(p, "comm", json_str_kernel(ow->origin_comm, sizeof(ow->origin_comm)));
		json_object_object_add(j, "origin", p);
	}
	out_json_emit(o, j);
}

void out_skb_release(struct output *o, const struct pt_event *e, const struct unpin_match *m)
{
	char detail[224], hold[32], sock[96], comm[4 * PT_COMM_LEN + 1];
	const char *why = e->pt_flags & PT_F_SAMPLED ? " (found released by the refcount sampler)" : "";

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		if (m->preexisting)
			snprintf(detail, sizeof(detail), "folio=0x%llx (frag taken before tracing)%s",
				 (unsigned long long)m->folio, why);
		else
			snprintf(detail, sizeof(detail), "folio=0x%llx socket ino %llu %s held %s, sent by %s/%u%s",
				 (unsigned long long)m->folio, (unsigned long long)m->owner->holder_id,
				 sock_format(m->owner->tuple_addr, m->owner->tuple_ports, sock, sizeof(sock)),
				 fmt_duration(m->hold_ns, hold, sizeof(hold)),
				 sanitize_text(m->owner->comm, sizeof(m->owner->comm), comm, sizeof(comm)),
				 m->owner->pid, why);
		text_line(o, e, "SREL", "skb", m->refs, "GET", detail);
		return;
	}
	json_object *j = json_task_record(o, "skb_release", e);

	json_object_object_add(j, "refs", json_object_new_int64(m->refs));
	json_object_object_add(j, "folio", json_hex(m->folio));
	json_object_object_add(j, "preexisting", json_object_new_boolean(m->preexisting));
	json_object_object_add(j, "sampled", json_object_new_boolean(!!(e->pt_flags & PT_F_SAMPLED)));
	if (!m->preexisting) {
		json_object_object_add(j, "socket", json_sock(m->owner->holder, m->owner->holder_id,
							      m->owner->tuple_addr, m->owner->tuple_ports));
		json_object_object_add(j, "hold_ns", json_object_new_int64((int64_t)m->hold_ns));
		json_object_object_add(j, "owner_pid", json_object_new_int64(m->owner->pid));
		json_object_object_add(j, "owner_comm", json_str_kernel(m->owner->comm,
									 sizeof(m->owner->comm)));
	}
	out_json_emit(o, j);
}

void out_zc_done(struct output *o, const struct pt_event *e)
{
	char detail[160];
	bool copied = e->pt_flags & PT_F_COPIED;

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		snprintf(detail, sizeof(detail), "sends %llu..%llu %s, socket ino %llu port %u",
			 (unsigned long long)e->addr, (unsigned long long)(e->addr + e->refs - 1),
			 copied ? "copied by the kernel" : "zerocopy", (unsigned long long)e->holder_id,
			 (unsigned int)((e->nr_req >> 16) & 0xffff));
		text_line(o, e, "ZCDONE", "msg_zerocopy", e->refs, "-", detail);
		return;
	}
	json_object *j = json_task_record(o, "zerocopy_done", e);

	json_object_object_add(j, "first_id", json_object_new_int64((int64_t)e->addr));
	json_object_object_add(j, "sends", json_object_new_int64(e->refs));
	json_object_object_add(j, "copied", json_object_new_boolean(copied));
	json_object_object_add(j, "socket", json_sock(e->holder, e->holder_id, 0, 0));
	out_json_emit(o, j);
}
