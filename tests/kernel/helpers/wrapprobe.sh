#!/bin/bash
# gcc -wrapper target for the "mlock -r make -j2" test: gcc runs each of its
# subprocesses as "wrapprobe.sh TOOL ARGS...". Log this process's lock state
# and the tool it is about to become to $KT_STATUSLOG, then exec the tool
# (same pid: the tool's own line, from libktstatuslog.so, follows).
set -e
: "${KT_STATUSLOG:?}"
vmlck=? mla=mlockall=absent
while IFS= read -r l; do
	case $l in
	VmLck:*) vmlck=${l//[!0-9]/} ;;
	Mlockall:*) mla=${l#Mlockall:}; mla=${mla#$'\t'} ;;
	esac
done < /proc/$$/status
echo "comm=wrap:${1##*/} pid=$$ ppid=$PPID vmlck=$vmlck $mla" >> "$KT_STATUSLOG"
exec "$@"
