"""What /proc says about a process: CPU seconds, memory, threads, open fds, children, its listening port.

CPU seconds (utime + stime) are the figure that survives a noisy machine; every reader here takes a PID,
so a sampler never needs the Popen object.
"""
import os


def status_field(pid, field):
    """An integer field of /proc/PID/status (e.g. VmRSS in KiB, Threads); 0 when the field is absent."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(pid, field="VmRSS"):
    """Resident set size (VmRSS) or its peak (VmHWM), KiB."""
    return status_field(pid, field)


def peak_rss_mib(pids):
    """Sum of the peak RSS (VmHWM) of the processes, MiB."""
    return round(sum(rss_kib(pid, "VmHWM") for pid in pids) / 1024, 1)


def threads(pids):
    """Threads of all the processes together."""
    return sum(status_field(pid, "Threads") for pid in pids)


def cpu_seconds(pid):
    """utime + stime of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    """Number of open file descriptors; None when the process is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None


def children(pid):
    """PIDs of the direct children of a process (e.g. nginx's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return found


def listening_port(pid):
    """The TCP port a process listens on, from /proc/net/tcp and its socket inodes; None if none yet."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:  # closed since the listing: a starting process opens and closes files
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    return int(fields[1].split(":")[1], 16)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return None


def loadavg():
    """The 1, 5 and 15 minute load averages as /proc/loadavg prints them, e.g. "1.02 0.87 0.66"."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
