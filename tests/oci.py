"""Containers laid out the way kubelet and its container runtime lay them out,
run by a real OCI runtime (runc), for the Kubernetes attribution tests.

A Pod here is what the node shows of one: a pod uid in the QoS slice's
name, one cgroup per container below it (systemd driver names:
kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
cri-containerd-<id>.scope, or crio-<id>.scope), and each container's OCI
bundle where the runtime keeps it, with the annotations the CRI writes
(containerd: io.kubernetes.cri.*, under
/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/; CRI-O:
io.kubernetes.*, under /run/containers/storage/overlay-containers/<id>/
userdata/).  The root filesystem is the host's /usr, /bin, /lib... bound
read-only: no image is needed.

Every container runs under contain (tests/contain.c): runc makes the
container's pids cgroup inside contain's (the cgroupsPath is relative), so
the cap, the timeout and the cleanup hold for whatever runs inside.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

from lib import contain_cmd, wait_until

RUNTIME_DIRS = {
    "containerd": "/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s",
    "crio": "/run/containers/storage/overlay-containers/%s/userdata",
}
HOST_DIRS = ("usr", "bin", "sbin", "lib", "lib64", "etc")


def new_id():
    return (uuid.uuid4().hex + uuid.uuid4().hex)[:64]


class Pod:
    def __init__(self, runtime, namespace, name, qos="burstable"):
        assert runtime in RUNTIME_DIRS
        self.runtime, self.namespace, self.name, self.qos = runtime, namespace, name, qos
        self.uid = str(uuid.uuid4())
        self.containers = []

    def slice_path(self):
        u = self.uid.replace("-", "_")
        if self.qos == "guaranteed":
            return "kubepods.slice/kubepods-pod%s.slice" % u
        return "kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice" % (self.qos, self.qos, u)

    def annotations(self, container):
        if self.runtime == "containerd":
            return {
                "io.kubernetes.cri.container-type": "container",
                "io.kubernetes.cri.sandbox-namespace": self.namespace,
                "io.kubernetes.cri.sandbox-name": self.name,
                "io.kubernetes.cri.sandbox-uid": self.uid,
                "io.kubernetes.cri.container-name": container,
            }
        return {
            "io.kubernetes.pod.namespace": self.namespace,
            "io.kubernetes.pod.name": self.name,
            "io.kubernetes.pod.uid": self.uid,
            "io.kubernetes.container.name": container,
        }

    def container(self, name, cmd, max_tasks=500, timeout=30, cgroup_rel=None):
        """cgroup_rel: put it in this cgroup instead of kubelet's (a process
        naming its cgroup after someone else's container)."""
        c = Container(self, name, cmd, max_tasks, timeout, cgroup_rel)
        self.containers.append(c)
        return c

    def cleanup(self):
        for c in self.containers:
            c.cleanup()


class Container:
    def __init__(self, pod, name, cmd, max_tasks, timeout, cgroup_rel=None):
        self.pod, self.name, self.cmd = pod, name, cmd
        self.max_tasks, self.timeout = max_tasks, timeout
        self.id = new_id()
        self.bundle = RUNTIME_DIRS[pod.runtime] % self.id
        scope = ("cri-containerd-%s.scope" if pod.runtime == "containerd" else "crio-%s.scope")
        self.cgroup_rel = cgroup_rel or "%s/%s" % (pod.slice_path(), scope % self.id)
        self.proc = None
        fd, self.report = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        self._write_bundle()

    def _write_bundle(self):
        rootfs = os.path.join(self.bundle, "rootfs")
        os.makedirs(rootfs, exist_ok=True)
        for d in HOST_DIRS + ("proc", "dev", "sys", "tmp"):
            os.makedirs(os.path.join(rootfs, d), exist_ok=True)
        subprocess.run(["runc", "spec", "-b", self.bundle], check=True)
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            spec = json.load(f)
        spec["process"]["terminal"] = False
        spec["process"]["args"] = list(self.cmd)
        spec["root"] = {"path": "rootfs", "readonly": True}
        for d in HOST_DIRS:
            if os.path.isdir("/" + d):
                spec["mounts"].append({"destination": "/" + d, "type": "bind",
                                       "source": "/" + d, "options": ["rbind", "ro"]})
        spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev"]})
        # relative: inside the cgroup contain made for the runtime
        spec["linux"]["cgroupsPath"] = self.cgroup_rel
        spec["annotations"] = self.pod.annotations(self.name)
        with open(path, "w") as f:
            json.dump(spec, f)

    def start(self):
        cmd = contain_cmd(["runc", "run", "-b", self.bundle, self.id],
                          max_tasks=self.max_tasks, timeout=self.timeout, report=self.report)
        self.started = time.time()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        return self

    def state(self):
        r = subprocess.run(["runc", "state", self.id], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_running(self, timeout=10):
        """runc's state once running (lib.wait_until); an error if the
        container exits or is not running after timeout seconds."""
        def running_or_gone():
            st = self.state()
            if st and st.get("status") == "running":
                return st
            return "gone" if self.proc.poll() is not None else None
        st = wait_until(running_or_gone, timeout)
        if not st or st == "gone":
            raise RuntimeError("container %s did not start: %s" % (self.name, self.stderr()))
        return st

    def stderr(self):
        if self.proc and self.proc.poll() is not None:
            return self.proc.stderr.read()
        return ""

    def pids(self):
        """Host pids in the container's cgroup2 directory (empty if gone)."""
        for mnt in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
            path = os.path.join(mnt, self.cgroup_rel, "cgroup.procs")
            if os.path.exists(path):
                with open(path) as f:
                    return [int(x) for x in f.read().split()]
        return []

    def wait(self, timeout=None):
        """contain's report once the container's runtime has returned."""
        out, err = self.proc.communicate(timeout=timeout or self.timeout + 30)
        with open(self.report) as f:
            rep = json.load(f)
        rep["stdout"], rep["stderr"] = out, err
        return rep

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # contain kills every task in its cgroup
            try:
                self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        subprocess.run(["runc", "delete", "-f", self.id], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.bundle, ignore_errors=True)
        if self.pod.runtime == "crio":
            shutil.rmtree(os.path.dirname(self.bundle), ignore_errors=True)
        for f in (self.report,):
            if os.path.exists(f):
                os.unlink(f)
