#!/bin/bash
# A small real process tree that reports its own memory-lock state.
# Run it under `mlock -r` (every process locked) or plain `mlock`
# (only this script locked). Every line is printed by the process it
# describes, from its own /proc/PID/status: VmLck and, on a kernel with the
# mlock-inherit series, the Mlockall: line.

report_self() {
	local pid=$BASHPID line vmlck=? state=
	while IFS= read -r line; do
		case $line in
		VmLck:*) vmlck=${line#VmLck:} ;;
		Mlockall:*) state=${line#Mlockall:} ;;
		esac
	done < "/proc/$pid/status"
	state=${state:-" (no Mlockall: line: kernel lacks MCL_INHERIT)"}
	printf '%-40s pid %-6s VmLck %9s %s\n' "$1" "$pid" \
		"${vmlck//[[:space:]]/}" "${state#"${state%%[![:space:]]*}"}"
}
export -f report_self

report_self "command (bash)"
(
	report_self "  child by fork (subshell)"
	( report_self "    grandchild by fork (subshell)" )
	bash -c 'report_self "    grandchild by fork+exec (bash)"'
	:	# keeps the bash above a forked child rather than an exec
)
bash -c 'report_self "  child by fork+exec (bash)"
	bash -c "report_self \"    grandchild by fork+exec (bash)\""; :'
awk '/^Pid:/ { p = $2 } /^VmLck:/ { v = $2 $3 }
	/^Mlockall:/ { sub(/^Mlockall:[ \t]*/, ""); m = $0 }
	END { printf "%-40s pid %-6s VmLck %9s %s\n",
		"  child by fork+exec (awk)", p, v, m }' /proc/self/status
