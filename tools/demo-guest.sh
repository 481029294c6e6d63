#!/bin/sh
# `make demo`, inside the VM: pintrace on a real Debian kernel, with the
# workload generator providing pins to see. Output goes to /out/demo.txt
# (the serial console is not lossless); the host prints it.
exec > /out/demo.txt 2>&1
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say pintrace check
pintrace check

say "pintrace run -- pinload uring --pages 4     # io_uring fixed buffers: long-term pins"
pintrace run -- pinload uring --pages 4

say "pintrace run -- pinload pvr --pages 4       # process_vm_readv: short-term pins"
pintrace run -- pinload pvr --pages 4

say "pintrace -d 5s &  pinload pvr --pages 2 --hold-ms 700   # a short-term pin held long"
pintrace -d 5s --ready-file /tmp/ready &
while [ ! -e /tmp/ready ]; do sleep 0.1; done
pinload pvr --pages 2 --hold-ms 700 > /dev/null
wait
