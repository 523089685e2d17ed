package cgroup

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeFS is a cgroup filesystem made of a few entries. A directory or file
// is writable for the test's uid only if listed in writable; everything
// under a read-only prefix refuses writes with EROFS, as access(2) does.
type fakeFS struct {
	files    map[string]string // file -> contents
	dirs     map[string]bool
	writable map[string]bool
	readOnly []string
}

func (f *fakeFS) ReadFile(name string) ([]byte, error) {
	if s, ok := f.files[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (f *fakeFS) Stat(name string) (fs.FileInfo, error) {
	if f.dirs[name] {
		return fakeInfo{name, true}, nil
	}
	if _, ok := f.files[name]; ok {
		return fakeInfo{name, false}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (f *fakeFS) CanWrite(name string) error {
	for _, p := range f.readOnly {
		if name == p || strings.HasPrefix(name, p+"/") {
			return syscall.EROFS
		}
	}
	if _, err := f.Stat(name); err != nil {
		return syscall.ENOENT
	}
	if f.writable[name] {
		return nil
	}
	return syscall.EACCES
}

type fakeInfo struct {
	name string
	dir  bool
}

func (i fakeInfo) Name() string { return i.name }
func (i fakeInfo) Size() int64  { return 0 }
func (i fakeInfo) Mode() fs.FileMode {
	return map[bool]fs.FileMode{true: fs.ModeDir | 0o755, false: 0o644}[i.dir]
}
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return i.dir }
func (i fakeInfo) Sys() any           { return nil }

// cg adds a cgroup directory with its cgroup.procs and, for v2, its
// controller files; owned says the test's uid may write it and its files.
func (f *fakeFS) cg(dir string, owned bool, subtree string, controllers string) *fakeFS {
	f.dirs[dir] = true
	f.files[dir+"/cgroup.procs"] = ""
	if subtree != "-" {
		f.files[dir+"/cgroup.subtree_control"] = subtree
		f.files[dir+"/cgroup.controllers"] = controllers
	}
	if owned {
		f.writable[dir] = true
		f.writable[dir+"/cgroup.procs"] = true
		f.writable[dir+"/cgroup.subtree_control"] = true
	}
	return f
}

func newFS() *fakeFS {
	return &fakeFS{files: map[string]string{}, dirs: map[string]bool{}, writable: map[string]bool{}}
}

// This machine and CI: cgroup v1 for every controller, cgroup2 without any.
const (
	hybridCgroup = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n"
	hybridMounts = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	// A systemd desktop: pure cgroup v2; the user manager has pids and
	// memory delegated; the caller is in an app scope of app.slice.
	desktopCgroup = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-term.scope\n"
	desktopMounts = "25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	userSvc       = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service"
)

func hybridFS(rootWritable bool) *fakeFS {
	f := newFS()
	f.cg("/sys/fs/cgroup/pids", rootWritable, "-", "")
	f.cg("/sys/fs/cgroup/memory", rootWritable, "-", "")
	f.cg("/sys/fs/cgroup/memory/process_api", rootWritable, "-", "")
	f.cg("/sys/fs/cgroup/memory/process_api/abc", rootWritable, "-", "")
	f.cg("/sys/fs/cgroup/unified", rootWritable, "", "hugetlb")
	return f
}

// desktopFS is the systemd layout; delegated lists the controllers systemd
// delegates to the user manager.
func desktopFS(delegated string) *fakeFS {
	f := newFS()
	all := "cpuset cpu io memory hugetlb pids rdma misc"
	f.cg("/sys/fs/cgroup", false, "cpuset cpu io memory pids", all)
	f.cg("/sys/fs/cgroup/user.slice", false, "cpu io memory pids", "cpuset cpu io memory pids")
	f.cg("/sys/fs/cgroup/user.slice/user-1000.slice", false, "cpu io memory pids", "cpu io memory pids")
	f.cg(userSvc, true, delegated, "cpu io memory pids")
	f.cg(userSvc+"/app.slice", true, delegated, delegated)
	f.cg(userSvc+"/app.slice/app-term.scope", true, "", delegated)
	return f
}

func TestDecide(t *testing.T) {
	type want struct {
		groups []string // Location.Dir:Version:controllers
		procs  Kind
		pPath  string // substring of the processes outcome's Path
		memory Kind
		mPath  string
		reason []string // substrings of the reasons (processes, then memory)
		fix    string   // substring of a fix
	}
	lim := Limits{MaxProcesses: 20, MemoryBytes: 64 << 20}
	cases := []struct {
		name string
		host Host
		lim  Limits
		opt  Options
		want want
	}{
		{
			name: "hybrid v1 as root (this machine, CI)",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 0, FS: hybridFS(true)},
			lim:  lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/pids:1:pids", "/sys/fs/cgroup/memory/process_api/abc:1:memory", "/sys/fs/cgroup/unified:2:"},
				procs:  CgroupV1, pPath: "/sys/fs/cgroup/pids/cordon",
				memory: CgroupV1, mPath: "/sys/fs/cgroup/memory/process_api/abc/cordon",
			},
		},
		{
			name: "hybrid v1, only pids asked: no memory group",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 0, FS: hybridFS(true)},
			lim:  Limits{MaxProcesses: 20},
			want: want{
				groups: []string{"/sys/fs/cgroup/pids:1:pids", "/sys/fs/cgroup/unified:2:"},
				procs:  CgroupV1, memory: NotRequested,
			},
		},
		{
			name: "hybrid v1, no limits: the pids group still counts",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 0, FS: hybridFS(true)},
			want: want{
				groups: []string{"/sys/fs/cgroup/pids:1:pids", "/sys/fs/cgroup/unified:2:"},
				procs:  NotRequested, pPath: "/sys/fs/cgroup/pids/cordon", memory: NotRequested,
			},
		},
		{
			name: "hybrid v1, pids hierarchy not mounted, memory is",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: strings.Replace(hybridMounts, "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n", "", 1), UID: 0, FS: hybridFS(true)},
			lim:  lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/memory/process_api/abc:1:memory", "/sys/fs/cgroup/unified:2:"},
				procs:  NotApplied, memory: CgroupV1,
				reason: []string{"binds pids to a cgroup v1 hierarchy, which is not mounted; RLIMIT_NPROC does not bind uid 0"},
				fix:    "mount -t cgroup -o pids",
			},
		},
		{
			name: "hybrid v1, unprivileged in its own user namespace",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 1000, FS: hybridFS(false)},
			lim:  lim,
			opt:  Options{UserNamespace: true},
			want: want{
				procs: RlimitNprocUserNS, memory: NotApplied,
				reason: []string{"uid 1000 may not create a cgroup in /sys/fs/cgroup/pids: permission denied", "uid 1000 may not create a cgroup in /sys/fs/cgroup/memory/process_api/abc"},
				fix:    "cgroup v1 cannot be safely delegated",
			},
		},
		{
			name: "hybrid v1, unprivileged without a user namespace",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 1000, FS: hybridFS(false)},
			lim:  Limits{MaxProcesses: 20},
			want: want{procs: RlimitNprocUser, memory: NotRequested},
		},
		{
			name: "read-only /sys/fs/cgroup (a container)",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: strings.ReplaceAll(hybridMounts, " rw,relatime - cgroup", " ro,relatime - cgroup"), UID: 0, FS: hybridFS(true)},
			lim:  lim,
			want: want{
				procs: NotApplied, memory: NotApplied,
				reason: []string{"cgroup v1 pids at /sys/fs/cgroup/pids is mounted read-only", "cgroup v1 memory at /sys/fs/cgroup/memory is mounted read-only"},
				fix:    "writable cgroup mount",
			},
		},
		{
			name: "read-only filesystem the mount table does not show (EROFS)",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: hybridMounts, UID: 0, FS: func() *fakeFS { f := hybridFS(true); f.readOnly = []string{"/sys/fs/cgroup"}; return f }()},
			lim:  lim,
			want: want{
				procs: NotApplied, memory: NotApplied,
				reason: []string{"may not create a cgroup in /sys/fs/cgroup/pids: read-only file system"},
			},
		},
		{
			name: "pure v2, delegated to the user manager (systemd desktop)",
			host: Host{ProcCgroup: desktopCgroup, MountInfo: desktopMounts, UID: 1000, FS: desktopFS("memory pids")},
			lim:  lim,
			opt:  Options{UserNamespace: true},
			want: want{
				groups: []string{userSvc + "/app.slice:2:pids,memory"},
				procs:  CgroupV2, pPath: userSvc + "/app.slice/cordon",
				memory: CgroupV2, mPath: userSvc + "/app.slice/cordon",
			},
		},
		{
			name: "pure v2, the user manager delegates pids but not memory",
			host: Host{ProcCgroup: desktopCgroup, MountInfo: desktopMounts, UID: 1000, FS: desktopFS("pids")},
			lim:  lim,
			opt:  Options{UserNamespace: true},
			want: want{
				groups: []string{userSvc + "/app.slice:2:pids"},
				procs:  CgroupV2, memory: NotApplied,
				reason: []string{"", "no memory controller delegated to uid 1000 (cgroup v2 at /sys/fs/cgroup, user@1000.service does not delegate memory)"},
				fix:    "Delegate=pids memory",
			},
		},
		{
			name: "pure v2, nothing delegated: a group only to hold the processes",
			host: Host{ProcCgroup: desktopCgroup, MountInfo: desktopMounts, UID: 1000, FS: desktopFS("")},
			lim:  lim,
			opt:  Options{UserNamespace: true},
			want: want{
				groups: []string{userSvc + "/app.slice/app-term.scope:2:"},
				procs:  RlimitNprocUserNS, memory: NotApplied,
				reason: []string{"no pids controller delegated to uid 1000 (cgroup v2 at /sys/fs/cgroup, user@1000.service does not delegate pids)",
					"no memory controller delegated to uid 1000 (cgroup v2 at /sys/fs/cgroup, user@1000.service does not delegate memory)"},
			},
		},
		{
			name: "pure v2 mounted read-only (a container)",
			host: Host{ProcCgroup: "0::/\n", MountInfo: "25 21 0:22 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n", UID: 0,
				FS: newFS().cg("/sys/fs/cgroup", true, "memory pids", "memory pids")},
			lim: lim,
			want: want{
				procs: NotApplied, memory: NotApplied,
				reason: []string{"cgroup v2 at /sys/fs/cgroup is mounted read-only", "cgroup v2 at /sys/fs/cgroup is mounted read-only"},
				fix:    "private cgroup namespace",
			},
		},
		{
			name: "pure v2, unprivileged in a root-owned session scope (ssh login)",
			host: Host{ProcCgroup: "0::/user.slice/user-1000.slice/session-3.scope\n", MountInfo: desktopMounts, UID: 1000,
				FS: desktopFS("memory pids").cg("/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope", false, "", "memory pids")},
			lim: lim,
			want: want{
				procs: RlimitNprocUser, memory: NotApplied,
				reason: []string{"uid 1000 may not create a cgroup in its own cgroup /user.slice/user-1000.slice/session-3.scope or any above it: permission denied",
					"no memory controller delegated to uid 1000"},
				fix: "Delegate=pids memory",
			},
		},
		{
			name: "pure v2 as root: the nearest cgroup that enables both",
			host: Host{ProcCgroup: "0::/user.slice/user-0.slice/session-1.scope\n", MountInfo: desktopMounts, UID: 0,
				FS: func() *fakeFS {
					f := newFS()
					f.cg("/sys/fs/cgroup", true, "memory pids", "memory pids")
					f.cg("/sys/fs/cgroup/user.slice", true, "memory pids", "memory pids")
					f.cg("/sys/fs/cgroup/user.slice/user-0.slice", true, "memory pids", "memory pids")
					f.cg("/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope", true, "", "memory pids")
					return f
				}()},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/user.slice/user-0.slice:2:pids,memory"},
				procs:  CgroupV2, memory: CgroupV2,
			},
		},
		{
			name: "pure v2 as root, memory enabled only higher up: the higher one wins",
			host: Host{ProcCgroup: "0::/a/b/leaf\n", MountInfo: desktopMounts, UID: 0,
				FS: func() *fakeFS {
					f := newFS()
					f.cg("/sys/fs/cgroup", true, "memory pids", "memory pids")
					f.cg("/sys/fs/cgroup/a", true, "memory pids", "memory pids")
					f.cg("/sys/fs/cgroup/a/b", true, "pids", "memory pids")
					f.cg("/sys/fs/cgroup/a/b/leaf", true, "", "pids")
					return f
				}()},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/a:2:pids,memory"},
				procs:  CgroupV2, memory: CgroupV2,
			},
		},
		{
			name: "pure v2 as root, memory asked but enabled nowhere: pids from the nearest",
			host: Host{ProcCgroup: "0::/a/leaf\n", MountInfo: desktopMounts, UID: 0,
				FS: func() *fakeFS {
					f := newFS()
					f.cg("/sys/fs/cgroup", true, "pids", "memory pids")
					f.cg("/sys/fs/cgroup/a", true, "pids", "pids")
					f.cg("/sys/fs/cgroup/a/leaf", true, "", "pids")
					return f
				}()},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/a:2:pids"},
				procs:  CgroupV2, memory: NotApplied,
				reason: []string{"", "cgroup v2 at /sys/fs/cgroup enables memory for the children of no cgroup from /a/leaf up (the root cgroup does not delegate it)"},
				fix:    "echo +memory > /sys/fs/cgroup/cgroup.subtree_control",
			},
		},
		{
			name: "v2 without the pids controller in the kernel",
			host: Host{ProcCgroup: "0::/\n", MountInfo: desktopMounts, UID: 0,
				FS: newFS().cg("/sys/fs/cgroup", true, "memory", "memory")},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup:2:memory"},
				procs:  NotApplied, memory: CgroupV2,
				reason: []string{"no pids controller: cgroup v2 at /sys/fs/cgroup does not offer it, and no cgroup v1 hierarchy has it; RLIMIT_NPROC does not bind uid 0"},
				fix:    "CONFIG_CGROUP_PIDS",
			},
		},
		{
			name: "no cgroup mounts at all",
			host: Host{ProcCgroup: hybridCgroup, MountInfo: "22 1 0:21 / /proc rw - proc proc rw\n", UID: 0, FS: newFS()},
			lim:  lim,
			want: want{
				procs: NotApplied, memory: NotApplied,
				reason: []string{"binds pids to a cgroup v1 hierarchy, which is not mounted", "binds memory to a cgroup v1 hierarchy, which is not mounted"},
			},
		},
		{
			name: "no cgroups in the kernel",
			host: Host{ProcCgroup: "", MountInfo: "", UID: 1000, FS: newFS()},
			lim:  lim,
			opt:  Options{UserNamespace: true},
			want: want{
				procs: RlimitNprocUserNS, memory: NotApplied,
				reason: []string{"no cgroup hierarchy has the pids controller", "no cgroup hierarchy has the memory controller"},
			},
		},
		{
			name: "cgroup v2 not mounted",
			host: Host{ProcCgroup: desktopCgroup, MountInfo: "22 1 0:21 / /proc rw - proc proc rw\n", UID: 0, FS: newFS()},
			lim:  lim,
			want: want{
				procs: NotApplied, memory: NotApplied,
				reason: []string{"cgroup v2 is not mounted", "cgroup v2 is not mounted"},
			},
		},
		{
			name: "a container's bind of part of the hierarchy that hides the caller's cgroup",
			host: Host{ProcCgroup: "8:pids:/other/x\n4:memory:/process_api/abc\n", MountInfo: "39 31 0:36 /docker/c1 /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n35 31 0:32 /process_api /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
				UID: 0, FS: func() *fakeFS { f := newFS(); f.cg("/sys/fs/cgroup/memory/abc", true, "-", ""); return f }()},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/memory/abc:1:memory"},
				procs:  NotApplied, memory: CgroupV1, mPath: "/sys/fs/cgroup/memory/abc/cordon",
				reason: []string{"the caller's pids cgroup /other/x is outside the part of the hierarchy mounted at /sys/fs/cgroup/pids (/docker/c1)"},
			},
		},
		{
			name: "v1 pids and memory in one hierarchy: one group",
			host: Host{ProcCgroup: "3:memory,pids:/job\n", MountInfo: "39 31 0:36 / /sys/fs/cgroup/mp rw - cgroup cgroup rw,memory,pids\n",
				UID: 0, FS: func() *fakeFS { f := newFS(); f.cg("/sys/fs/cgroup/mp/job", true, "-", ""); return f }()},
			lim: lim,
			want: want{
				groups: []string{"/sys/fs/cgroup/mp/job:1:pids,memory"},
				procs:  CgroupV1, memory: CgroupV1,
			},
		},
		{
			name: "an existing cordon directory owned by another user",
			host: Host{ProcCgroup: desktopCgroup, MountInfo: desktopMounts, UID: 1000,
				FS: func() *fakeFS {
					f := desktopFS("memory pids")
					f.cg(userSvc+"/app.slice/cordon", false, "memory pids", "memory pids")
					return f
				}()},
			lim: lim,
			opt: Options{UserNamespace: true},
			want: want{
				// app.slice's cordon is not ours: the next one up is.
				groups: []string{userSvc + ":2:pids,memory"},
				procs:  CgroupV2, pPath: userSvc + "/cordon", memory: CgroupV2,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Decide(tc.host, tc.lim, tc.opt)
			t.Logf("max_processes: %s\nmemory: %s", p.Processes, p.Memory)
			var groups []string
			for _, g := range p.Groups {
				groups = append(groups, g.Dir+":"+string(rune('0'+g.Version))+":"+strings.Join(g.Controllers, ","))
			}
			if tc.want.groups != nil && strings.Join(groups, " ") != strings.Join(tc.want.groups, " ") {
				t.Errorf("groups\n got %q\nwant %q", groups, tc.want.groups)
			}
			if p.Processes.Kind != tc.want.procs {
				t.Errorf("processes: %s (%s), want %s", p.Processes.Kind, p.Processes, tc.want.procs)
			}
			if p.Memory.Kind != tc.want.memory {
				t.Errorf("memory: %s (%s), want %s", p.Memory.Kind, p.Memory, tc.want.memory)
			}
			if !strings.Contains(p.Processes.Path, tc.want.pPath) || !strings.Contains(p.Memory.Path, tc.want.mPath) {
				t.Errorf("paths %q, %q; want %q, %q", p.Processes.Path, p.Memory.Path, tc.want.pPath, tc.want.mPath)
			}
			for i, r := range tc.want.reason {
				got := []Outcome{p.Processes, p.Memory}[i]
				if !strings.Contains(got.Reason, r) {
					t.Errorf("%s reason\n got %q\nwant it to hold %q", got.Limit, got.Reason, r)
				}
			}
			if tc.want.fix != "" && !strings.Contains(p.Processes.Fix+"\n"+p.Memory.Fix, tc.want.fix) {
				t.Errorf("fixes %q, %q; want one to hold %q", p.Processes.Fix, p.Memory.Fix, tc.want.fix)
			}
			for _, o := range []Outcome{p.Processes, p.Memory} {
				if o.Kind == NotApplied && (o.Reason == "" || o.Fix == "") {
					t.Errorf("%s not applied without a reason and a fix: %+v", o.Limit, o)
				}
				if o.Applied() != (o.Status() != "missing" && o.Status() != "off") {
					t.Errorf("%s: Applied %v but status %s", o.Limit, o.Applied(), o.Status())
				}
			}
		})
	}
}

func TestMechanismText(t *testing.T) {
	cases := []struct {
		o    Outcome
		want string
	}{
		{Outcome{Limit: "max_processes", Value: 20, Kind: CgroupV2, Path: "/sys/fs/cgroup/a/cordon/r"}, "cgroup v2 pids.max at /sys/fs/cgroup/a/cordon/r"},
		{Outcome{Limit: "memory", Value: 1, Kind: CgroupV2, Path: "/x"}, "cgroup v2 memory.max at /x"},
		{Outcome{Limit: "max_processes", Value: 20, Kind: CgroupV1, Path: "/sys/fs/cgroup/pids/cordon/r"}, "cgroup v1 pids at /sys/fs/cgroup/pids/cordon/r"},
		{Outcome{Limit: "max_processes", Value: 20, Kind: RlimitNprocUserNS, Reason: "why"}, "RLIMIT_NPROC per user namespace"},
		{Outcome{Limit: "memory", Value: 1, Kind: NotApplied, Reason: "no memory controller"}, "not applied: no memory controller"},
	}
	for _, tc := range cases {
		if got := tc.o.Mechanism(); got != tc.want {
			t.Errorf("Mechanism() = %q, want %q", got, tc.want)
		}
	}
	o := Outcome{Limit: "max_processes", Value: 20, Kind: RlimitNprocUserNS, Reason: "no pids controller delegated"}
	if got, want := o.String(), "20 tasks: RLIMIT_NPROC per user namespace; no cgroup: no pids controller delegated"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseMountInfoEscapes(t *testing.T) {
	ms := parseMountInfo(`40 31 0:37 / /sys/fs/my\040cgroups rw,relatime shared:9 master:2 - cgroup2 none rw` + "\n")
	if len(ms) != 1 || ms[0].point != "/sys/fs/my cgroups" || !ms[0].v2 {
		t.Fatalf("got %+v", ms)
	}
}

func TestGroupName(t *testing.T) {
	o := owner{pid: 4242, start: 987654, pidNS: 4026531836}
	n := groupName("run-1_a", o)
	id, got, ok := parseGroupName(n)
	if !ok || id != "run-1_a" || got != o {
		t.Fatalf("parseGroupName(%q) = %q %+v %v", n, id, got, ok)
	}
	for _, bad := range []string{"cordon", "a.b.c", "a.1.2.x", "a b.1.2.3", "x.0.1.2", ".1.2.3", "a.1.2.3.4"} {
		if _, _, ok := parseGroupName(bad); ok {
			t.Errorf("parseGroupName(%q) accepted a name cordon does not make", bad)
		}
	}
	if err := validRunID("a/../b"); err == nil {
		t.Error("a run id with a slash was accepted")
	}
}

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis.
	line := "1234 (a) b) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 55501 1000 100"
	if v, ok := parseStat(line); !ok || v != 55501 {
		t.Fatalf("parseStat = %d %v, want 55501", v, ok)
	}
}

func TestParents(t *testing.T) {
	ps := parents(Host{ProcCgroup: desktopCgroup + "4:memory:/m\n", MountInfo: desktopMounts + "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", FS: newFS()})
	var dirs []string
	for _, p := range ps {
		dirs = append(dirs, p.Dir)
	}
	want := []string{"/sys/fs/cgroup/memory/m", userSvc + "/app.slice/app-term.scope", userSvc + "/app.slice", userSvc, "/sys/fs/cgroup/user.slice/user-1000.slice", "/sys/fs/cgroup/user.slice", "/sys/fs/cgroup"}
	if strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Fatalf("parents\n got %q\nwant %q", dirs, want)
	}
}

func TestErrorNamesFileAndFix(t *testing.T) {
	e := &Error{Op: "write", Path: "/sys/fs/cgroup/pids/cordon/x/pids.max", Err: syscall.EACCES, Fix: "do this"}
	if got, want := e.Error(), "cgroup: cannot write /sys/fs/cgroup/pids/cordon/x/pids.max: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if e.Hint() != "do this" || !errors.Is(e, syscall.EACCES) {
		t.Errorf("Hint %q, Is EACCES %v", e.Hint(), errors.Is(e, syscall.EACCES))
	}
}
