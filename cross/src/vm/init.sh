#!/bin/busybox sh
# /init of the emulated aarch64 machine (cross/src/vm): mounts the basics,
# loads the virtio modules, finds the two exchange disks by their serial
# numbers, then runs each script the host asks for on the console:
#
#   host: run <n>     guest: @@cross:<nonce>:done <n> ok|results-too-big
#   host: poweroff
#
# A run reads /x/in from the input disk (a tar holding script.sh), runs it
# in /x/out with its stdout, stderr and exit status in /x/meta, and writes
# out/ and meta/ as a tar to the output disk. The nonce comes from the
# kernel command line, so no other console line can pass for a reply.

/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin /proc /sys /dev /tmp /x /root
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

nonce=$(sed -n 's/.*cross\.nonce=\([^ ]*\).*/\1/p' /proc/cmdline)
say() { echo "@@cross:$nonce:$*"; }
fail() { say "fail $*"; sync; poweroff -f; }

for module in $(cat /modules/order); do
    insmod "/modules/$module.ko" || fail "cannot load kernel module $module"
done

disk() {
    for d in /sys/block/vd*; do
        [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return; }
    done
}
tries=0
until [ -n "$(disk cross-in)" ] && [ -n "$(disk cross-out)" ]; do
    tries=$((tries + 1))
    [ "$tries" -gt 200 ] && fail "the exchange disks did not appear"
    usleep 50000
done
input=$(disk cross-in)
output=$(disk cross-out)

# perf may sample everything, see kernel symbols, and walk deep stacks.
echo -1 > /proc/sys/kernel/perf_event_paranoid
echo 0 > /proc/sys/kernel/kptr_restrict
echo 512 > /proc/sys/kernel/perf_event_max_stack

say ready
while read -r command n; do
    case "$command" in
    run)
        # The host rewrote both disks: forget what the page cache holds.
        sync
        echo 3 > /proc/sys/vm/drop_caches
        rm -rf /x
        mkdir -p /x/in /x/out /x/meta
        if ! tar -x -f "$input" -C /x/in; then
            say "done $n unreadable-input"
            continue
        fi
        (cd /x/out && sh /x/in/script.sh </dev/null >/x/meta/stdout 2>/x/meta/stderr)
        echo $? > /x/meta/status
        if tar -c -f "$output" -C /x out meta && sync; then
            say "done $n ok"
        else
            say "done $n results-too-big"
        fi
        ;;
    poweroff)
        break
        ;;
    esac
done
sync
poweroff -f
