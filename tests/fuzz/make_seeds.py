#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/NAME/): small valid
inputs of each kind, for libFuzzer to mutate.  Run from the repository root
with a recording of a bomb (forktrace -w) as the argument:

    python3 tests/fuzz/make_seeds.py incident.ftr
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ID = "0123456789abcdef" * 4
UID = "8f3c2b1a-1d2e-4f5a-9b8c-7d6e5f4a3b2c"


def put(name, fname, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def records(rec):
    """(header bytes, whole file) of a recording."""
    with open(rec, "rb") as f:
        data = f.read()
    return data[:struct.unpack_from("<H", data, 10)[0]], data


def main():
    header, whole = records(sys.argv[1])
    # recordings: the header alone, the first records, the whole of a short one
    put("recording", "header-only.ftr", header)
    pos = len(header)
    for _ in range(60):
        n = struct.unpack_from("<I", whole, pos)[0]
        pos += 8 + n
    put("recording", "sixty-records.ftr", whole[:pos])
    if len(whole) < 100000:
        put("recording", "bomb-and-kill.ftr", whole)
    # ring records: [2-byte length][record]... of each type the file has
    seen, stream = set(), b""
    pos = len(header)
    while pos + 8 <= len(whole):
        n = struct.unpack_from("<I", whole, pos)[0]
        rec = whole[pos + 8:pos + 8 + n]
        pos += 8 + n
        kind = struct.unpack_from("<H", rec, 0)[0]
        if kind not in seen:
            seen.add(kind)
            put("record", "type-%d" % kind, struct.pack("<H", len(rec)) + rec)
        if len(stream) < 20000:
            stream += struct.pack("<H", len(rec)) + rec
    put("record", "stream", stream)
    # configuration
    put("config", "thresholds.conf", "# thresholds\nmin_tasks = 16\nwindow_ms = 2000\n"
        "max_doubling_ms = 10000  # a comment\nallow = exe:/usr/bin/make\nallow = comm:cc1\n")
    put("config", "rules.conf", "allow = uid:0\nallow = pod:shop/web-0\nallow = namespace:"
        "kube-system\nallow = unit:sshd.service\nallow = cgroup:/system.slice\n"
        "min_generations=4\n")
    # what /proc and runtimes say
    put("procfs", "stat", "4242 (a) b (c) 1 2) S 1 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 "
        "20 0 1 0 123456 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0\n")
    put("procfs", "cgroup-v2", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-"
        "burstable-pod%s.slice/cri-containerd-%s.scope\n" % (UID.replace("-", "_"), ID))
    put("procfs", "cgroup-v1", "12:pids:/docker/%s\n11:cpu,cpuacct:/kubepods/besteffort/"
        "pod%s/%s\n1:name=systemd:/user.slice\n" % (ID, UID, ID))
    put("procfs", "bundle-containerd", '{"ociVersion":"1.0.2","linux":{"cgroupsPath":'
        '"kubepods-burstable-pod%s.slice:cri-containerd:%s"},"annotations":{'
        '"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-'
        'namespace":"shop","io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.'
        'container-name":"app","io.kubernetes.cri.sandbox-uid":"%s"}}'
        % (UID.replace("-", "_"), ID, UID))
    put("procfs", "bundle-crio", '{"annotations":{"io.kubernetes.pod.namespace":"kube-system",'
        '"io.kubernetes.pod.name":"dns-7","io.kubernetes.container.name":"coredns",'
        '"io.kubernetes.pod.uid":"%s"}}' % UID)
    # strings for the JSON writer
    put("json", "ascii", "python3 -c import os; os.fork()")
    put("json", "utf8", "caf\u00e9 \u65e5\u672c \U0001f600")
    put("json", "hostile", b"\xff\xfe\"\\\x01\x1f\x7f\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80")


if __name__ == "__main__":
    main()
