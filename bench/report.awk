# bench/report.awk: turn the raw samples of bench/suite.sh into the tables
# of RESULTS.md, and the data files of the plot.
#
# awk -f report.awk -v plotdir=DIR -v envnames="host=...;guest=..." \
#     DIR/host.tsv DIR/guest.tsv
#
# Input lines (tab-separated, see bench/README.md):
#   MEAS PARAM VARIANT REP VALUE UNIT
#   na MEAS PARAM VARIANT REASON
# Output: markdown on stdout; plot data under plotdir.

BEGIN {
	FS = "\t"
	nmeas = split("fork fork-childfirst fork-thp fork-thp-childfirst resident resident-copied spawn make wrapper", measorder, " ")
	nvar = split("none locked inherit kernel fallback populate plain onfault fallback-onfault", varorder, " ")
	title["fork"] = "1. parent fork() latency"
	title["fork-childfirst"] = "1. child ran before fork() returned"
	title["fork-thp"] = "1b. parent fork() latency, transparent huge pages"
	title["fork-thp-childfirst"] = "1b. child ran before fork() returned (THP)"
	title["resident"] = "2. fork until the child is resident + locked"
	title["resident-copied"] = "2. memory the child copied (Private_Dirty)"
	title["spawn"] = "3. fork+exec of true, in a loop under mlock -r"
	title["make"] = "4. make -j2 of the project's userspace"
	title["wrapper"] = "5. mlock true vs true (fork+exec+wait)"
	vname["none"] = "no locks"
	vname["locked"] = "mlockall, no INHERIT"
	vname["inherit"] = "mlockall + MCL_INHERIT"
	vname["kernel"] = "kernel mode"
	vname["fallback"] = "fallback (LD_PRELOAD)"
	vname["populate"] = "MAP_POPULATE reference"
	vname["plain"] = "plain"
	vname["onfault"] = "kernel mode --on-fault"
	vname["fallback-onfault"] = "fallback --on-fault"

	# ratio specs: meas num den kind target target_param label
	ns = 0
	spec(ns++, "fork", "inherit", "locked", "ratio", 1.2, "", "fork: INHERIT / no INHERIT")
	spec(ns++, "fork", "inherit", "none", "ratio", "", "", "fork: INHERIT / no locks")
	spec(ns++, "fork", "locked", "none", "ratio", "", "", "fork: no INHERIT / no locks")
	spec(ns++, "resident", "kernel", "fallback", "ratio", 0.2, 1024, "resident: kernel / fallback")
	spec(ns++, "resident", "kernel", "populate", "ratio", "", "", "resident: kernel / MAP_POPULATE")
	spec(ns++, "resident", "fallback", "populate", "ratio", "", "", "resident: fallback / MAP_POPULATE")
	spec(ns++, "spawn", "kernel", "plain", "ratio", 1.25, "", "fork+exec: kernel -r / plain")
	spec(ns++, "spawn", "fallback", "plain", "ratio", "", "", "fork+exec: fallback -r / plain")
	spec(ns++, "make", "kernel", "plain", "ratio", "", "", "make: kernel -r / plain")
	spec(ns++, "make", "onfault", "plain", "ratio", "", "", "make: kernel -r --on-fault / plain")
	spec(ns++, "make", "fallback", "plain", "ratio", "", "", "make: fallback -r / plain")
	spec(ns++, "make", "fallback-onfault", "plain", "ratio", "", "", "make: fallback -r --on-fault / plain")
	spec(ns++, "wrapper", "kernel", "plain", "diff", 1e6, "", "wrapper: mlock true - true, kernel")
	spec(ns++, "wrapper", "fallback", "plain", "diff", 1e6, "", "wrapper: mlock true - true, fallback")
	spec(ns++, "wrapper", "kernel", "plain", "ratio", "", "", "wrapper: mlock true / true, kernel")
	spec(ns++, "wrapper", "fallback", "plain", "ratio", "", "", "wrapper: mlock true / true, fallback")
	# informational: the target is defined on 4 KiB pages (the worst case)
	spec(ns++, "fork-thp", "inherit", "locked", "ratio", "", "", "fork, THP: INHERIT / no INHERIT")
	spec(ns++, "fork-thp", "locked", "none", "ratio", "", "", "fork, THP: no INHERIT / no locks")

	nenv = 0
	n = split(envnames, a, ";")
	for (i = 1; i <= n; i++) {
		split(a[i], kv, "=")
		ename[kv[1]] = substr(a[i], length(kv[1]) + 2)
	}
}

function spec(i, meas, num, den, kind, target, tparam, label) {
	s_meas[i] = meas; s_num[i] = num; s_den[i] = den; s_kind[i] = kind
	s_target[i] = target; s_tparam[i] = tparam; s_label[i] = label
}

FNR == 1 {
	env = FILENAME
	sub(/.*\//, "", env)
	sub(/\.tsv$/, "", env)
	envs[++nenv] = env
}

$1 == "na" && NF >= 5 {
	na[env, $2, $3, $4] = $5
	params[env, $2, $3] = 1
	havemeas[env, $2] = 1
	next
}

NF >= 6 && $5 ~ /^-?[0-9]+$/ {
	k = env SUBSEP $1 SUBSEP $2 SUBSEP $3
	cnt[k]++
	vals[k, cnt[k]] = $5 + 0
	rep[k, $4] = $5 + 0
	reps[env, $1, $2, $4] = 1
	params[env, $1, $2] = 1
	havemeas[env, $1] = 1
	unit[$1] = $6
}

# --- small statistics helpers
function sortn(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = arr[i]
		for (j = i - 1; j >= 1 && arr[j] > t; j--)
			arr[j + 1] = arr[j]
		arr[j + 1] = t
	}
}
function stats(arr, n) {
	sortn(arr, n)
	st_min = arr[1]
	st_max = arr[n]
	st_med = n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
function fmt_ns(v,    a, s) {
	s = v < 0 ? "-" : ""
	a = v < 0 ? -v : v
	if (a >= 1e9) return sprintf("%s%.2f s", s, a / 1e9)
	if (a >= 1e6) return sprintf("%s%.2f ms", s, a / 1e6)
	if (a >= 1e3) return sprintf("%s%.1f µs", s, a / 1e3)
	return sprintf("%s%d ns", s, a)
}
function fmt_val(meas, v) {
	if (unit[meas] == "KiB") return sprintf("%.0f MiB", v / 1024)
	return fmt_ns(v)
}
function fmt_param(meas, p) {
	return (meas ~ /^fork/ || meas ~ /^resident/) ? p " MiB" : "-"
}
function fmt_ratio(kind, v) {
	return kind == "diff" ? fmt_ns(v) : sprintf("%.2fx", v)
}
function fmt_target(kind, t) {
	if (t == "") return "-"
	return kind == "diff" ? "≤ " fmt_ns(t) : "≤ " t "x"
}
function param_list(e, m, v,    p, n, i, key, list) {
	n = 0
	for (key in params) {
		split(key, kp, SUBSEP)
		if (kp[1] == e && kp[2] == m)
			list[++n] = kp[3] + 0
	}
	sortn(list, n)
	pl_n = 0
	for (i = 1; i <= n; i++)
		if (i == 1 || list[i] != list[i - 1])
			pl[++pl_n] = list[i]
	return pl_n
}

END {
	# --- summary of the targets
	print "### Targets"
	print ""
	print "| environment | figure | size | median | min | max | pairs | target | result |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (ie = 1; ie <= nenv; ie++)
		for (i = 0; i < ns; i++)
			if (s_target[i] != "")
				ratio_rows(envs[ie], i, 1)
	wrapper_estimate(1)
	print ""
	print "PASS/MISS compares the median of the per-pair figures with the target."
	print ""

	# --- every figure
	print "### Figures (median of the repetitions, with min and max)"
	print ""
	print "| environment | measurement | size | variant | median | min | max | n |"
	print "|---|---|---|---|---|---|---|---|"
	for (ie = 1; ie <= nenv; ie++) {
		e = envs[ie]
		for (im = 1; im <= nmeas; im++) {
			m = measorder[im]
			if (!((e, m) in havemeas))
				continue
			np = param_list(e, m)
			for (ip = 1; ip <= np; ip++) {
				p = pl[ip]
				for (iv = 1; iv <= nvar; iv++) {
					v = varorder[iv]
					k = e SUBSEP m SUBSEP p SUBSEP v
					if ((e, m, p, v) in na) {
						printf "| %s | %s | %s | %s | n/a (%s) | | | |\n",
							ename[e], title[m], fmt_param(m, p), vname[v], na[e, m, p, v]
						continue
					}
					if (!(k in cnt))
						continue
					n = cnt[k]
					delete arr
					for (j = 1; j <= n; j++)
						arr[j] = vals[k, j]
					if (unit[m] == "bool") {
						for (j = 1; j <= n; j++)
							sum += arr[j]
						printf "| %s | %s | %s | %s | %d of %d forks | | | %d |\n",
							ename[e], title[m], fmt_param(m, p), vname[v], sum, n, n
						sum = 0
						continue
					}
					stats(arr, n)
					printf "| %s | %s | %s | %s | %s | %s | %s | %d |\n",
						ename[e], title[m], fmt_param(m, p), vname[v],
						fmt_val(m, st_med), fmt_val(m, st_min), fmt_val(m, st_max), n
					if (m == "fork" || m == "resident")
						printf "%d %.6f %.6f %.6f\n", p, st_med / 1e6, st_min / 1e6,
							st_max / 1e6 > (plotdir "/" e "-" m "-" v ".dat")
				}
			}
		}
	}
	print ""

	# --- every ratio, pair by pair
	print "### Ratios and differences, pair by pair (same repetition)"
	print ""
	print "| environment | figure | size | median | min | max | pairs | target | result |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (ie = 1; ie <= nenv; ie++)
		for (i = 0; i < ns; i++)
			ratio_rows(envs[ie], i, 0)
	wrapper_estimate(0)
	print ""
}

# The wrapper target is an absolute time, which TCG (tens of times slower
# than the host) cannot meet by construction.  Estimate the kernel mode's
# overhead at host speed: the guest's per-pair relative overhead
# (mlock true - true) / true, times the host's median time of plain true.
function wrapper_estimate(targets_only,    kn, kd, kh, key, r, n, j, hmed, res) {
	kn = "guest" SUBSEP "wrapper" SUBSEP 0 SUBSEP "kernel"
	kd = "guest" SUBSEP "wrapper" SUBSEP 0 SUBSEP "plain"
	kh = "host" SUBSEP "wrapper" SUBSEP 0 SUBSEP "plain"
	if (!(kn in cnt) || !(kd in cnt) || !(kh in cnt))
		return
	delete arr
	for (j = 1; j <= cnt[kh]; j++)
		arr[j] = vals[kh, j]
	stats(arr, cnt[kh])
	hmed = st_med
	n = 0
	delete rr
	for (key in reps) {
		split(key, kp, SUBSEP)
		if (kp[1] != "guest" || kp[2] != "wrapper")
			continue
		r = kp[4]
		if ((kn, r) in rep && (kd, r) in rep && rep[kd, r] > 0)
			rr[++n] = (rep[kn, r] - rep[kd, r]) / rep[kd, r] * hmed
	}
	if (!n)
		return
	stats(rr, n)
	res = st_med <= 1e6 ? "PASS" : "MISS"
	printf "| guest scaled to host speed (estimate) | wrapper: mlock true - true, kernel | - | %s | %s | %s | %d | %s | %s |\n",
		fmt_ns(st_med), fmt_ns(st_min), fmt_ns(st_max), n, fmt_target("diff", 1e6), res
}

# Print the rows of spec i for environment e (only the target sizes when
# targets_only); also writes the plot data.
function ratio_rows(e, i, targets_only,    m, np, ip, p, kn, kd, r, n, res, t, rr, reason) {
	m = s_meas[i]
	if (!((e, m) in havemeas))
		return
	np = param_list(e, m)
	for (ip = 1; ip <= np; ip++) {
		p = pl[ip]
		t = s_target[i]
		if (s_tparam[i] != "" && p != s_tparam[i])
			t = ""
		if (targets_only && t == "")
			continue
		reason = ""
		if ((e, m, p, s_num[i]) in na)
			reason = na[e, m, p, s_num[i]]
		else if ((e, m, p, s_den[i]) in na)
			reason = na[e, m, p, s_den[i]]
		if (reason != "") {
			printf "| %s | %s | %s | n/a (%s) | | | | %s | n/a |\n", ename[e],
				s_label[i], fmt_param(m, p), reason, fmt_target(s_kind[i], t)
			continue
		}
		kn = e SUBSEP m SUBSEP p SUBSEP s_num[i]
		kd = e SUBSEP m SUBSEP p SUBSEP s_den[i]
		if (!(kn in cnt) || !(kd in cnt))
			continue
		n = 0
		delete rr
		for (key in reps) {
			split(key, kp, SUBSEP)
			if (kp[1] != e || kp[2] != m || kp[3] != p)
				continue
			r = kp[4]
			if (!((kn, r) in rep) || !((kd, r) in rep))
				continue
			if (s_kind[i] == "diff")
				rr[++n] = rep[kn, r] - rep[kd, r]
			else if (rep[kd, r] > 0)
				rr[++n] = rep[kn, r] / rep[kd, r]
		}
		if (!n)
			continue
		stats(rr, n)
		res = "-"
		if (t != "")
			res = st_med <= t ? "PASS" : "MISS"
		printf "| %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", ename[e],
			s_label[i], fmt_param(m, p), fmt_ratio(s_kind[i], st_med),
			fmt_ratio(s_kind[i], st_min), fmt_ratio(s_kind[i], st_max), n,
			fmt_target(s_kind[i], t), res
		if (targets_only)
			continue
		if (m == "fork" || m == "resident")
			printf "%d %.4f %.4f %.4f\n", p, st_med, st_min, st_max > (plotdir "/" e "-ratio-" i ".dat")
		else if (s_kind[i] == "ratio")
			printf "\"%s\\n%s\" %.4f %.4f %.4f\n", e, s_label[i], st_med, st_min, st_max > (plotdir "/bars.dat")
	}
}
