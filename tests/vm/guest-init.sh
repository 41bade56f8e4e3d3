#!/bin/sh
# /init of the guest initramfs built by tests/vm/run-guest.sh (busybox sh).
# Mounts the host root (9p, read-only) at /host, the guest's own proc, sys,
# dev and tmpfs on /tmp /run /dev/shm inside it, the source tree share if
# there is one (mlock_src=), the writable results share at its host path,
# then runs RESULTS/guest-cmd.sh chrooted into the host root, records its
# exit status and dmesg, and reboots (QEMU then exits).
/bin/busybox --install -s /bin
export PATH=/bin

msg() { echo "mlock-inherit-guest: $*"; }
halt_now() {
	msg "$*"
	sync
	reboot -f
	sleep 5
	echo b > /proc/sysrq-trigger
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
res=$(sed -n 's/.* mlock_results=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$res" ] || halt_now "no mlock_results= on the kernel command line"

p9=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$p9,ro,cache=loose" hostroot /host ||
	halt_now "cannot mount the host root over 9p (kernel without CONFIG_9P_FS, NET_9P_VIRTIO or VIRTIO_PCI?)"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
# what udev would create: bash process substitution (bats) needs /dev/fd
ln -sf /proc/self/fd /host/dev/fd
ln -sf /proc/self/fd/0 /host/dev/stdin
ln -sf /proc/self/fd/1 /host/dev/stdout
ln -sf /proc/self/fd/2 /host/dev/stderr
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs -o mode=755 tmpfs /host/run
# a source tree in /tmp (a clone there) comes as its own share
src=$(sed -n 's/.* mlock_src=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$src" ]; then
	mkdir -p "/host$src" &&
		mount -t 9p -o "$p9,ro,cache=loose" src "/host$src" ||
		halt_now "cannot mount the source tree share at $src"
fi
mkdir -p "/host$res" 2>/dev/null
mount -t 9p -o "$p9,cache=none" results "/host$res" ||
	halt_now "cannot mount the results share at $res"

ncpu=$(grep -c '^processor' /proc/cpuinfo)
echo "$ncpu" > "/host$res/cpus"
msg "running $(uname -r) $ncpu cpus"
chroot /host /bin/bash "$res/guest-cmd.sh" </dev/null >/dev/console 2>&1
rc=$?
msg "exit $rc"
dmesg > "/host$res/dmesg"
echo "$rc" > "/host$res/exit-status"
sync
umount "/host$res"
halt_now "done"
