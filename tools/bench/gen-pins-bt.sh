#!/usr/bin/env bash
# Generate the bpftrace equivalent of pintrace's default GUP pin tracing for
# one kernel line (the benchmark's bpftrace side, see tools/bench/bpftrace-smoke.sh).
#
#   tools/bench/gen-pins-bt.sh 6.1|6.12 [--backend kfunc|kprobe] [--stacks] >pins.bt
#
# Same hooks as pintrace's plan for that kernel (src/hooks.c, src/plan.c,
# bpf/gup.bpf.h; tests/fixtures/facts-<VER>.txt):
#   grabs   6.1:  try_grab_page (bool), try_grab_folio(page, refs, flags) -> folio
#           6.12: try_grab_folio(folio, refs, flags) -> 0/-errno,
#                 try_grab_folio_fast(page, refs, flags) -> folio, folio_add_pin(folio)
#   unpins  gup_put_folio (FOLL_PIN only) + unpin_user_page [+ unpin_folio,
#           unpin_user_folio on 6.12], with pintrace's per-task guard so an
#           unpin that passes through a wrapper and gup_put_folio counts once
#   APIs    pin_user_pages*, get_user_pages*, [memfd_pin_folios], __gup_longterm_locked,
#           internal_get_user_pages_fast (6.1) / gup_fast_fallback (6.12):
#           the outermost one names the grabs (nesting by depth)
# Backend: kfunc/kretfunc (fentry/fexit, pintrace's default) where the
# kernel allows it; pin_user_pages_remote and get_user_pages_remote have 7
# arguments on 6.1, beyond the trampoline limit, so they are kprobes there,
# as in pintrace's plan. --backend kprobe uses kprobes/kretprobes for
# everything (arguments stashed per thread for the return probe), like
# `pintrace --backend kprobe`.
#
# Work per event, as pintrace's (bpf/gup.bpf.h + src/pintable.c): a FOLL_PIN
# grab (zero page excepted) stores a record (time, pid, API, refs,
# long-term) in a per-folio FIFO and counts per API; a FOLL_GET grab is
# counted per API; an unpin consumes records oldest first (pintrace matches
# the same pid first, then oldest), adds each hold time to a log2 histogram
# per class (longterm / short / held-long past 300 ms), deletes the
# records, and counts what matched nothing. Unlike pintrace's single
# user-space consumer, two CPUs pinning the same folio at the same instant
# can race on the FIFO's tail (bpftrace has no locks). --stacks also counts
# the kernel stack of every pin (pintrace takes one per pin).
#
# Run with BPFTRACE_MAP_KEYS_MAX raised above the number of pins that may be
# outstanding at once (default 4096), e.g. 65536.
# shellcheck disable=SC2016 # '$A0'-style placeholders are bpftrace text, replaced later
set -euo pipefail

usage() {
	echo "usage: ${0##*/} 6.1|6.12 [--backend kfunc|kprobe] [--stacks]" >&2
	exit 2
}
ver='' backend=kfunc stacks=0
while (($#)); do
	case "$1" in
	--backend) (($# >= 2)) || usage; backend=$2; shift ;;
	--stacks) stacks=1 ;;
	6.1 | 6.12) [[ -z $ver ]] || usage; ver=$1 ;;
	*) usage ;;
	esac
	shift
done
[[ -n $ver && ($backend == kfunc || $backend == kprobe) ]] || usage

# FOLL_* were #defines up to 6.2 and were renumbered in 6.3 (enum values
# from 6.12's BTF: FOLL_GET=2, FOLL_LONGTERM=256, FOLL_PIN=524288).
case "$ver" in
6.1) FOLL_GET=0x04 FOLL_LONGTERM=0x10000 FOLL_PIN=0x40000 ;;
6.12) FOLL_GET=0x02 FOLL_LONGTERM=0x100 FOLL_PIN=0x80000 ;;
esac
HELD_LONG_NS=300000000 # pintrace's --min-hold default
MATCH_MAX=16           # records one unpin may consume (refs of a large folio)

# ---- per-event bodies --------------------------------------------------------
# Input variables: $head (folio), $refs, $flags (gup flags).
grab_body() { # $1: the per-API pin counter (folio_add_pin's are not in nr_foll_pin_acquired)
	local api='@api[tid]' pins=${1:-@pins}
	cat <<EOF
	if (\$head != 0 && \$refs > 0) {
		if (\$flags & $FOLL_PIN) {
			if (\$head != @zero_page) {
				\$api = $api;
				${pins}[\$api] = sum(\$refs);
				@pins_outstanding = sum(\$refs);
				\$i = @tail[\$head];
				@rec[\$head, \$i] = (nsecs, (uint64)pid, \$api, \$refs, (\$flags & $FOLL_LONGTERM) ? (uint64)1 : (uint64)0);
				@tail[\$head] = \$i + 1;
EOF
	((stacks)) && echo "				@pin_stacks[kstack] = count();"
	cat <<EOF
			}
		} else {
			if (\$flags & $FOLL_GET) {
				@refs[$api] = sum(\$refs);
			}
		}
	}
EOF
}

# Input variables: $head, $refs. Oldest record first.
unpin_body() { # $1: hook name
	cat <<EOF
	if (\$head != 0 && \$refs > 0 && \$head != @zero_page) {
		@unpins["$1"] = sum(\$refs);
		\$r = \$refs;
		\$h = @head_[\$head];
		\$t = @tail[\$head];
		\$n = 0;
		while (\$r > 0 && \$h < \$t && \$n < $MATCH_MAX) {
			\$rec = @rec[\$head, \$h];
			\$held = nsecs - \$rec.0;
			\$m = \$rec.3 < \$r ? \$rec.3 : \$r;
			if (\$rec.4) {
				@hold_ns["longterm"] = hist(\$held);
			} else {
				if (\$held >= $HELD_LONG_NS) {
					@hold_ns["held-long"] = hist(\$held);
				} else {
					@hold_ns["short"] = hist(\$held);
				}
			}
			@matched[\$rec.2] = sum(\$m);
			if (\$m == \$rec.3) {
				delete(@rec[\$head, \$h]);
				\$h = \$h + 1;
			} else {
				@rec[\$head, \$h] = (\$rec.0, \$rec.1, \$rec.2, \$rec.3 - \$m, \$rec.4);
			}
			\$r = \$r - \$m;
			\$n = \$n + 1;
		}
		if (\$h >= \$t) {
			delete(@head_[\$head]);
			delete(@tail[\$head]);
		} else {
			@head_[\$head] = \$h;
		}
		@pins_outstanding = sum((int64)\$r - (int64)\$refs);
		if (\$r > 0) {
			@unmatched_unpins = sum(\$r);
		}
	}
EOF
}

# shellcheck disable=SC2016 # bpftrace text, \$P is replaced below
PAGE_HEAD='(($P->compound_head & 1) ? $P->compound_head - 1 : (uint64)$P)'
page_head() { echo "${PAGE_HEAD//\$P/$1}"; }
GUARD_KEY='(tid != 0 ? (uint64)tid : ((uint64)1 << 32) | (uint64)cpu)'

# ---- probes -----------------------------------------------------------------
# A grab whose result decides: $1 name, $2 args list "a0 a1 a2" (names),
# $3 expression setting $head/$refs/$flags from $A0.. and $RET.
emit_grab_exit() {
	local name=$1 nargs=$2 set=$3 i
	if [[ $backend == kfunc && $(mode_of "$name") == kfunc ]]; then
		set=${set//\$RET/retval}
		for ((i = 0; i < nargs; i++)); do set=${set//\$A$i/args->$(argname "$name" "$i")}; done
		echo "kretfunc:$name"
		echo "{"
		echo "$set"
		grab_body
		echo "}"
	else
		echo "kprobe:$name"
		echo "{"
		for ((i = 0; i < nargs; i++)); do echo "	@stash_${name}${i}[tid] = arg$i;"; done
		echo "}"
		echo "kretprobe:$name"
		echo "{"
		for ((i = 0; i < nargs; i++)); do
			echo "	\$a$i = @stash_${name}${i}[tid];"
			echo "	delete(@stash_${name}${i}[tid]);"
		done
		# arg 0 is a struct page or folio pointer: typed for compound_head
		set=${set//\$A0/((struct page *)\$a0)}
		for ((i = 1; i < nargs; i++)); do set=${set//\$A$i/\$a$i}; done
		set=${set//\$RET/retval}
		echo "$set"
		grab_body
		echo "}"
	fi
}

# Pin grab at entry (folio_add_pin).
emit_grab_entry() { # $1 name, $2 set
	local name=$1 set=$2
	if [[ $backend == kfunc ]]; then
		echo "kfunc:$name"
		set=${set//\$A0/args->$(argname "$name" 0)}
	else
		echo "kprobe:$name"
		set=${set//\$A0/((struct page *)arg0)}
	fi
	echo "{"
	echo "$set"
	grab_body @pins_folio_add_pin
	echo "}"
}

# Unpin at entry: $1 name, $2 set ($head/$refs), $3 guard: raise|check
emit_unpin() {
	local name=$1 set=$2 guard=$3 a
	if [[ $backend == kfunc ]]; then
		echo "kfunc:$name"
		for a in 0 1 2; do set=${set//\$A$a/args->$(argname "$name" "$a")}; done
	else
		echo "kprobe:$name"
		set=${set//\$A0/((struct page *)arg0)}
		for a in 1 2; do set=${set//\$A$a/arg$a}; done
	fi
	echo "{"
	echo "	\$gk = $GUARD_KEY;"
	echo "$set"
	if [[ $guard == raise ]]; then
		echo "	@guard[\$gk] = \$head;"
		unpin_body "$name"
	else
		# gup_put_folio: FOLL_PIN puts only; quiet inside a wrapper that reported it
		echo "	if ((\$flags & $FOLL_PIN) && @guard[\$gk] != \$head) {"
		unpin_body "$name" | sed 's/^/	/'
		echo "	}"
	fi
	echo "}"
	if [[ $guard == raise ]]; then
		[[ $backend == kfunc ]] && echo "kretfunc:$name" || echo "kretprobe:$name"
		echo "{"
		echo "	delete(@guard[$GUARD_KEY]);"
		echo "}"
	fi
}

# API entry/exit: the outermost call names the grabs inside it.
emit_api() { # $1 name, $2 its API id (keys of the per-API maps, see the legend)
	local name=$1 be=$backend ret='(int64)retval'
	[[ $(mode_of "$name") == kprobe ]] && be=kprobe
	if [[ $be == kfunc ]]; then
		echo "kfunc:$name"
	else
		echo "kprobe:$name"
		# kretprobe's retval is the raw RAX: sign-extend int returns
		[[ $(rettype "$name") == int ]] && ret='(int64)(int32)retval'
	fi
	cat <<EOF
{
	if (@depth[tid] == 0) {
		@api[tid] = $2;
		@t0[tid] = nsecs;
	}
	@depth[tid] = @depth[tid] + 1;
}
EOF
	[[ $be == kfunc ]] && echo "kretfunc:$name" || echo "kretprobe:$name"
	cat <<EOF
{
	if (@depth[tid] > 1) {
		@depth[tid] = @depth[tid] - 1;
	} else {
		if (@depth[tid] == 1) {
			\$api = @api[tid];
			@calls[\$api] = count();
			@call_ns[\$api] = hist(nsecs - @t0[tid]);
			if ($ret < 0) {
				@call_errors[\$api] = count();
			}
			delete(@api[tid]);
			delete(@t0[tid]);
			delete(@depth[tid]);
		}
	}
}
EOF
}

# BTF parameter names (for args->NAME) and return types.
argname() { # $1 function, $2 index
	case "$1:$2" in
	try_grab_page:0 | try_grab_folio_fast:0 | unpin_user_page:0) echo page ;;
	try_grab_page:1) echo flags ;;
	try_grab_folio:0) [[ $ver == 6.1 ]] && echo page || echo folio ;;
	*:0) echo folio ;;
	unpin_user_folio:1) echo npages ;;
	*:1) echo refs ;;
	*:2) echo flags ;;
	esac
}
rettype() {
	case "$1" in
	pin_user_pages_fast | pin_user_pages_fast_only | get_user_pages_fast | get_user_pages_fast_only | \
		internal_get_user_pages_fast | gup_fast_fallback) echo int ;;
	*) echo long ;;
	esac
}
# pintrace's auto plan: fentry unless the prototype has more than 6 arguments.
mode_of() {
	case "$ver:$1" in
	6.1:pin_user_pages_remote | 6.1:get_user_pages_remote) echo kprobe ;;
	*) echo kfunc ;;
	esac
}

# ---- the script -------------------------------------------------------------
cat <<EOF
/*
 * pintrace-equivalent GUP pin tracing for Debian $ver, generated by
 * tools/bench/gen-pins-bt.sh $ver --backend $backend$( ((stacks)) && echo " --stacks").
 * FOLL_PIN=$FOLL_PIN FOLL_GET=$FOLL_GET FOLL_LONGTERM=$FOLL_LONGTERM
 */
BEGIN
{
	/* the zero page is neither pinned nor counted by the kernel */
	@zero_page = *(uint64 *)kaddr("vmemmap_base") + *(uint64 *)kaddr("zero_pfn") * 64;
	printf("pins.bt: ready\\n");
}

EOF

if [[ $ver == 6.1 ]]; then
	# try_grab_page(page, flags): bool (a kretprobe sees all of RAX: only AL counts)
	emit_grab_exit try_grab_page 2 "	\$head = $(page_head '$A0');
	\$refs = ((uint64)\$RET & 0xff) ? (uint64)1 : (uint64)0;
	\$flags = (uint64)\$A1;"
	# try_grab_folio(page, refs, flags): folio or NULL
	emit_grab_exit try_grab_folio 3 "	\$head = (uint64)\$RET;
	\$refs = (uint64)\$A1;
	\$flags = (uint64)\$A2;"
else
	# try_grab_folio(folio, refs, flags): 0 or -errno
	emit_grab_exit try_grab_folio 3 "	\$head = (uint64)\$A0;
	\$refs = (int32)\$RET == 0 ? (uint64)\$A1 : (uint64)0;
	\$flags = (uint64)\$A2;"
	# try_grab_folio_fast(page, refs, flags): folio or NULL
	emit_grab_exit try_grab_folio_fast 3 "	\$head = (uint64)\$RET;
	\$refs = (uint64)\$A1;
	\$flags = (uint64)\$A2;"
	# folio_add_pin(folio): one more pin, no flags (not in nr_foll_pin_acquired)
	emit_grab_entry folio_add_pin "	\$head = (uint64)\$A0;
	\$refs = (uint64)1;
	\$flags = $FOLL_PIN;"
fi
echo
emit_unpin gup_put_folio "	\$head = (uint64)\$A0;
	\$refs = (uint64)\$A1;
	\$flags = (uint64)\$A2;" check
emit_unpin unpin_user_page "	\$head = $(page_head '$A0');
	\$refs = (uint64)1;" raise
if [[ $ver == 6.12 ]]; then
	emit_unpin unpin_folio "	\$head = (uint64)\$A0;
	\$refs = (uint64)1;" raise
	emit_unpin unpin_user_folio "	\$head = (uint64)\$A0;
	\$refs = (uint64)\$A1;" raise
fi
echo
apis=(pin_user_pages pin_user_pages_fast pin_user_pages_remote pin_user_pages_unlocked
	get_user_pages get_user_pages_fast get_user_pages_fast_only get_user_pages_remote
	get_user_pages_unlocked __gup_longterm_locked)
case "$ver" in
6.1) apis+=(pin_user_pages_fast_only internal_get_user_pages_fast) ;;
6.12) apis+=(memfd_pin_folios gup_fast_fallback) ;;
esac
# bpftrace 0.17 garbles string keys taken from map values (and strings in
# tuples): APIs are numbered; END prints the legend. 0: no API (a grab
# outside the GUP entry points hooked, e.g. fault-in of the exec's args).
legend=
for i in "${!apis[@]}"; do
	emit_api "${apis[$i]}" $((i + 1))
	legend+="	printf(\"pins.bt: api $((i + 1)) = ${apis[$i]}\\n\");"$'\n'
done

cat <<EOF

END
{
	clear(@api);
	clear(@t0);
	clear(@depth);
	clear(@guard);
	clear(@head_);
	clear(@tail);
	delete(@zero_page);
	printf("pins.bt: api 0 = (none)\\n");
$legend	printf("pins.bt: done\\n");
}
EOF
