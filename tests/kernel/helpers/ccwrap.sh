#!/bin/bash
# CC for the "mlock -r make -j2" test. Logs this process's own lock state
# to $KT_STATUSLOG, then becomes the real compiler driver ($KT_REAL_CC), told
# by -wrapper to start every subprocess (cc1, as, collect2) through
# wrapprobe.sh, which logs again just before exec'ing the real tool.
set -e
: "${KT_STATUSLOG:?}" "${KT_REAL_CC:?}" "${KT_WRAPPROBE:?}"
vmlck=? mla=mlockall=absent
while IFS= read -r l; do
	case $l in
	VmLck:*) vmlck=${l//[!0-9]/} ;;
	Mlockall:*) mla=${l#Mlockall:}; mla=${mla#$'\t'} ;;
	esac
done < /proc/$$/status
echo "comm=script:ccwrap pid=$$ ppid=$PPID vmlck=$vmlck $mla" >> "$KT_STATUSLOG"
exec "$KT_REAL_CC" -wrapper "$KT_WRAPPROBE" "$@"
