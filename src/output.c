// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include "hooks.h"
#include "output.h"
#include "util.h"

void out_init(struct output *o, FILE *f, enum out_fmt fmt, bool stream,
	      const struct foll_table *foll, __u64 t0_ns)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->fmt = fmt;
	o->stream = stream;
	o->foll = foll;
	o->t0_ns = t0_ns;
}

json_object *json_str_kernel(const char *s, size_t len)
{
	char buf[4 * 64];

	return json_object_new_string(sanitize_utf8(s, len, buf, sizeof(buf)));
}

json_object *json_hex(__u64 v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)v);
	return json_object_new_string(buf);
}

void out_json_emit(struct output *o, json_object *obj)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE), o->f);
	fputc('\n', o->f);
	json_object_put(obj);
}

static double rel_s(const struct output *o, __u64 ts)
{
	return ts > o->t0_ns ? (ts - o->t0_ns) / 1e9 : 0.0;
}

/* JSON times: integer ns since tracing started (no float rounding noise) */
json_object *json_ts(const struct output *o, __u64 ts)
{
	return json_object_new_int64(ts > o->t0_ns ? (int64_t)(ts - o->t0_ns) : 0);
}

/* Common fields of a record about one task's event. */
json_object *json_task_record(const struct output *o, const char *type,
			      const struct pt_event *e)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "type", json_object_new_string(type));
	json_object_object_add(j, "ts_ns", json_ts(o, e->ts_ns));
	json_object_object_add(j, "pid", json_object_new_int64(e->pid));
	json_object_object_add(j, "tid", json_object_new_int64(e->tid));
	json_object_object_add(j, "comm", json_str_kernel(e->comm, sizeof(e->comm)));
	json_object_object_add(j, "hook", json_object_new_string(hook_name(e->hook)));
	json_object_object_add(j, "backend", json_object_new_string(backend_name(e->backend)));
	return j;
}

static void text_header(struct output *o)
{
	if (o->header_done)
		return;
	o->header_done = true;
	fprintf(o->f, "%-10s %-16s %-7s %-7s %-5s %-24s %5s %-26s %s\n", "TIME(s)", "COMM", "PID",
		"TID", "EVENT", "API", "REFS", "FLAGS", "DETAIL");
}

void text_line(struct output *o, const struct pt_event *e, const char *ev, const char *api,
	       __u64 refs, const char *flags, const char *detail)
{
	char comm[4 * PT_COMM_LEN + 1];

	text_header(o);
	fprintf(o->f, "%-10.6f %-16s %-7u %-7u %-5s %-24s %5llu %-26s %s\n", rel_s(o, e->ts_ns),
		sanitize_text(e->comm, sizeof(e->comm), comm, sizeof(comm)), e->pid, e->tid, ev,
		api, (unsigned long long)refs, flags, detail);
}

static const char *api_of(const struct pt_event *e)
{
	return e->api ? hook_name(e->api) : hook_name(e->hook);
}

void out_grab(struct output *o, const struct pt_event *e)
{
	bool pin = e->pt_flags & PT_F_PIN;
	char fl[128], detail[96];

	if (!o->stream)
		return;
	foll_format(o->foll, e->gup_flags, fl, sizeof(fl));
	if (o->fmt == OUT_TEXT) {
		char pipe[40] = "";

		if (e->pt_flags & PT_F_PIPE)
			snprintf(pipe, sizeof(pipe), " -> pipe ino %llu", (unsigned long long)e->holder_id);
		snprintf(detail, sizeof(detail), "folio=0x%llx%s%s%s", (unsigned long long)e->folio,
			 e->pt_flags & PT_F_LARGE ? " large" : "",
			 e->pt_flags & PT_F_LONGTERM ? " longterm" : "", pipe);
		text_line(o, e, pin ? "PIN" : "REF", api_of(e), e->refs, fl, detail);
		return;
	}
	json_object *j = json_task_record(o, pin ? "pin" : "ref", e);

	if (e->pt_flags & PT_F_PIPE) {
		json_object *h = json_object_new_object();

		json_object_object_add(h, "kind", json_object_new_string("pipe"));
		json_object_object_add(h, "pipe", json_hex(e->holder));
		json_object_object_add(h, "ino", json_object_new_int64((int64_t)e->holder_id));
		json_object_object_add(j, "holder", h);
	}

	json_object_object_add(j, "api", json_object_new_string(api_of(e)));
	json_object_object_add(j, "refs", json_object_new_int64(e->refs));
	json_object_object_add(j, "gup_flags", json_object_new_string(fl));
	json_object_object_add(j, "gup_flags_raw", json_hex(e->gup_flags));
	json_object_object_add(j, "longterm", json_object_new_boolean(e->pt_flags & PT_F_LONGTERM));
	json_object_object_add(j, "folio", json_hex(e->folio));
	json_object_object_add(j, "large", json_object_new_boolean(e->pt_flags & PT_F_LARGE));
	json_object_object_add(j, "nr_req", json_object_new_int64((int64_t)e->nr_req));
	if (e->pt_flags & PT_F_NOFLAGS)
		json_object_object_add(j, "flags_from_caller", json_object_new_boolean(1));
	out_json_emit(o, j);
}

void out_unpin(struct output *o, const struct pt_event *e, const struct unpin_match *m)
{
	char hold[32], detail[160], comm[4 * PT_COMM_LEN + 1];

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		if (m->preexisting)
			snprintf(detail, sizeof(detail), "folio=0x%llx pre-existing (pinned before tracing)",
				 (unsigned long long)m->folio);
		else
			snprintf(detail, sizeof(detail), "folio=0x%llx %s held %s by %s/%u",
				 (unsigned long long)m->folio, pin_class_name(m->cls),
				 fmt_duration(m->hold_ns, hold, sizeof(hold)),
				 sanitize_text(m->owner->comm, sizeof(m->owner->comm), comm, sizeof(comm)),
				 m->owner->pid);
		text_line(o, e, "UNPIN", m->owner ? hook_name(m->owner->api ? m->owner->api
								: m->owner->hook) : "-",
			  m->refs, "PIN", detail);
		return;
	}
	json_object *j = json_task_record(o, "unpin", e);

	json_object_object_add(j, "refs", json_object_new_int64(m->refs));
	json_object_object_add(j, "folio", json_hex(m->folio));
	json_object_object_add(j, "preexisting", json_object_new_boolean(m->preexisting));
	if (!m->preexisting) {
		json_object *ow = json_object_new_object();

		json_object_object_add(j, "class", json_object_new_string(pin_class_name(m->cls)));
		json_object_object_add(j, "hold_ns", json_object_new_int64((int64_t)m->hold_ns));
		json_object_object_add(ow, "pid", json_object_new_int64(m->owner->pid));
		json_object_object_add(ow, "tid", json_object_new_int64(m->owner->tid));
		json_object_object_add(ow, "comm", json_str_kernel(m->owner->comm,
								   sizeof(m->owner->comm)));
		json_object_object_add(ow, "api", json_object_new_string(
			hook_name(m->owner->api ? m->owner->api : m->owner->hook)));
		json_object_object_add(j, "owner", ow);
	}
	out_json_emit(o, j);
}

void out_call(struct output *o, const struct pt_event *e)
{
	char fl[128], detail[96], dur[32];

	if (!o->stream)
		return;
	foll_format(o->foll, e->gup_flags, fl, sizeof(fl));
	if (o->fmt == OUT_TEXT) {
		snprintf(detail, sizeof(detail), "ret=%lld of %llu in %s%s", (long long)e->ret,
			 (unsigned long long)e->nr_req, fmt_duration(e->dur_ns, dur, sizeof(dur)),
			 e->ret >= 0 && (__u64)e->ret < e->nr_req ? " SHORT" : "");
		text_line(o, e, "CALL", hook_name(e->api), e->ret > 0 ? (__u64)e->ret : 0, fl, detail);
		return;
	}
	json_object *j = json_task_record(o, "call", e);

	json_object_object_add(j, "api", json_object_new_string(hook_name(e->api)));
	json_object_object_add(j, "ret", json_object_new_int64(e->ret));
	json_object_object_add(j, "nr_req", json_object_new_int64((int64_t)e->nr_req));
	json_object_object_add(j, "addr", json_hex(e->addr));
	json_object_object_add(j, "gup_flags", json_object_new_string(fl));
	json_object_object_add(j, "dur_ns", json_object_new_int64((int64_t)e->dur_ns));
	out_json_emit(o, j);
}

void out_release(struct output *o, const struct pt_event *e, const struct unpin_match *m)
{
	char hold[32], detail[160], comm[4 * PT_COMM_LEN + 1];

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		if (m->preexisting)
			snprintf(detail, sizeof(detail), "folio=0x%llx pipe 0x%llx (put there before tracing)",
				 (unsigned long long)m->folio, (unsigned long long)e->holder);
		else
			snprintf(detail, sizeof(detail), "folio=0x%llx pipe ino %llu held %s, vmspliced by %s/%u%s",
				 (unsigned long long)m->folio, (unsigned long long)m->owner->holder_id,
				 fmt_duration(m->hold_ns, hold, sizeof(hold)),
				 sanitize_text(m->owner->comm, sizeof(m->owner->comm), comm, sizeof(comm)),
				 m->owner->pid, e->pt_flags & PT_F_DROPPED ? " (pipe full: not queued)" : "");
		text_line(o, e, "PREL", "pipe", m->refs, "GET", detail);
		return;
	}
	json_object *j = json_task_record(o, "pipe_release", e);

	json_object_object_add(j, "refs", json_object_new_int64(m->refs));
	json_object_object_add(j, "folio", json_hex(m->folio));
	json_object_object_add(j, "pipe", json_hex(e->holder));
	json_object_object_add(j, "preexisting", json_object_new_boolean(m->preexisting));
	if (e->pt_flags & PT_F_DROPPED)
		json_object_object_add(j, "not_queued", json_object_new_boolean(1));
	if (!m->preexisting) {
		json_object_object_add(j, "ino", json_object_new_int64((int64_t)m->owner->holder_id));
		json_object_object_add(j, "hold_ns", json_object_new_int64((int64_t)m->hold_ns));
		json_object_object_add(j, "owner_pid", json_object_new_int64(m->owner->pid));
		json_object_object_add(j, "owner_comm", json_str_kernel(m->owner->comm,
									 sizeof(m->owner->comm)));
	}
	out_json_emit(o, j);
}

void out_hold(struct output *o, const struct pt_event *e)
{
	char detail[96];

	if (!o->stream)
		return;
	if (o->fmt == OUT_TEXT) {
		snprintf(detail, sizeof(detail), "folio=0x%llx another pipe 0x%llx (tee)",
			 (unsigned long long)e->folio, (unsigned long long)e->holder);
		text_line(o, e, "PHOLD", "pipe", e->refs, "GET", detail);
		return;
	}
	json_object *j = json_task_record(o, "pipe_hold", e);

	json_object_object_add(j, "refs", json_object_new_int64(e->refs));
	json_object_object_add(j, "folio", json_hex(e->folio));
	json_object_object_add(j, "pipe", json_hex(e->holder));
	out_json_emit(o, j);
}

void out_held(struct output *o, __u64 now_ns, __u64 folio, const struct pin_owner *ow, __u32 refs,
	      __u64 age_ns)
{
	char age[32], fl[128], detail[128];

	/* held-long is notable: shown even with --quiet */
	if (o->fmt == OUT_TEXT) {
		struct pt_event e = { .pid = ow->pid, .tid = ow->tid, .ts_ns = now_ns };

		memcpy(e.comm, ow->comm, sizeof(e.comm));
		snprintf(detail, sizeof(detail), "!! short-term pin held %s (> --min-hold) folio=0x%llx",
			 fmt_duration(age_ns, age, sizeof(age)), (unsigned long long)folio);
		text_line(o, &e, "HELD", hook_name(ow->api ? ow->api : ow->hook), refs,
			  foll_format(o->foll, ow->gup_flags, fl, sizeof(fl)), detail);
		return;
	}
	json_object *j = json_object_new_object();

	json_object_object_add(j, "type", json_object_new_string("held_long"));
	json_object_object_add(j, "ts_ns", json_ts(o, now_ns));
	json_object_object_add(j, "pid", json_object_new_int64(ow->pid));
	json_object_object_add(j, "tid", json_object_new_int64(ow->tid));
	json_object_object_add(j, "comm", json_str_kernel(ow->comm, sizeof(ow->comm)));
	json_object_object_add(j, "api", json_object_new_string(hook_name(ow->api ? ow->api : ow->hook)));
	json_object_object_add(j, "folio", json_hex(folio));
	json_object_object_add(j, "refs", json_object_new_int64(refs));
	json_object_object_add(j, "age_ns", json_object_new_int64((int64_t)age_ns));
	out_json_emit(o, j);
}

void out_warning(struct output *o, const char *what, const char *msg)
{
	if (o->fmt == OUT_TEXT) {
		fprintf(stderr, "pintrace: warning: %s: %s\n", what, msg);
		return;
	}
	json_object *j = json_object_new_object();

	json_object_object_add(j, "type", json_object_new_string("warning"));
	json_object_object_add(j, "what", json_object_new_string(what));
	json_object_object_add(j, "message", json_object_new_string(msg));
	out_json_emit(o, j);
}

void out_attach(struct output *o, const struct kernel_facts *kf, const struct plan *p,
		const char *attach_summary)
{
	if (o->fmt == OUT_TEXT) {
		fprintf(stderr, "pintrace: kernel %s, FOLL_* from %s; attached %s\n", kf->release,
			o->foll->from_btf ? "BTF" : "the legacy table", attach_summary);
		return;
	}
	json_object *j = json_object_new_object(), *hooks = json_object_new_array();

	json_object_object_add(j, "type", json_object_new_string("attach"));
	json_object_object_add(j, "schema_version", json_object_new_int(PT_SCHEMA_VERSION));
	json_object_object_add(j, "kernel", json_object_new_string(kf->release));
	json_object_object_add(j, "backend_mode", json_object_new_string(
		p->mode == MODE_AUTO ? "auto" : p->mode == MODE_FENTRY ? "fentry" : "kprobe"));
	json_object_object_add(j, "foll_source", json_object_new_string(
		o->foll->from_btf ? "btf" : "legacy"));
	json_object_object_add(j, "summary", json_object_new_string(attach_summary));
	for (size_t i = 0; i < p->n; i++) {
		const struct hook_plan *hp = &p->hooks[i];
		json_object *h = json_object_new_object();

		json_object_object_add(h, "hook", json_object_new_string(hp->def->prog));
		json_object_object_add(h, "symbol", json_object_new_string(hp->sym ? hp->sym : ""));
		json_object_object_add(h, "state", json_object_new_string(plan_state_name(hp->state)));
		json_object_object_add(h, "backend", json_object_new_string(backend_name(hp->attached)));
		json_object_object_add(h, "note", json_object_new_string(
			hp->attach_err[0] ? hp->attach_err : hp->why));
		json_object_array_add(hooks, h);
	}
	json_object_object_add(j, "hooks", hooks);
	out_json_emit(o, j);
}
