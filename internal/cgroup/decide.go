package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// FS is what the decision needs to know about the cgroup filesystems. The
// Linux one asks the kernel; tests pass a fake.
type FS interface {
	// ReadFile returns a file's contents.
	ReadFile(name string) ([]byte, error)
	// Stat describes a file.
	Stat(name string) (fs.FileInfo, error)
	// CanWrite returns nil if the caller may write the file, or create
	// entries in the directory (access(2) with W_OK), or why not.
	CanWrite(name string) error
}

// Host is what the decision is made from.
type Host struct {
	// ProcCgroup is the contents of /proc/self/cgroup.
	ProcCgroup string
	// MountInfo is the contents of /proc/self/mountinfo.
	MountInfo string
	// UID is the caller's uid.
	UID int
	FS  FS
}

// Decide chooses where the run's groups go, and says for each limit what
// will hold it, or why nothing will. It only reads.
//
// Each controller is in at most one hierarchy: a cgroup v1 one (mounted on
// its own, as /sys/fs/cgroup/pids, or with others), or cgroup v2. For a v1
// controller the group goes under the caller's own cgroup in that
// hierarchy (v1 has no rule against a cgroup holding both processes and
// children). In cgroup v2 a process is in exactly one cgroup, and a cgroup
// whose children use a controller may hold no processes, so the run's
// group goes under the nearest cgroup, from the caller's own upwards, that
// enables the controllers for its children and in which the caller may
// both make a directory and move a process (it is the common ancestor of
// the caller's cgroup and the new one). With no controller at all a v2
// group still holds the run's processes together, to kill them at once.
// The pids controller is always used when it can be (to count and to kill),
// memory only when a memory limit is asked for.
func Decide(h Host, lim Limits, opt Options) *Plan {
	p := &Plan{Limits: lim, Options: opt, UID: h.UID}
	self := parseProcCgroup(h.ProcCgroup)
	mounts := parseMountInfo(h.MountInfo)
	wanted := []string{"pids"}
	if lim.MemoryBytes > 0 {
		wanted = append(wanted, "memory")
	}
	d := decider{h: h, self: self, mounts: mounts}
	res := map[string]*ctlResult{}
	var v2wanted []string
	for _, c := range wanted {
		if _, ok := self.v1[c]; ok {
			res[c] = d.v1(c, p)
		} else {
			v2wanted = append(v2wanted, c)
		}
	}
	for c, r := range d.v2(v2wanted, lim, p) {
		res[c] = r
	}
	p.Processes = outcome("max_processes", lim.MaxProcesses, res["pids"], p)
	p.Memory = outcome("memory", lim.MemoryBytes, res["memory"], p)
	if lim.MaxProcesses > 0 && !p.Processes.Applied() {
		p.Processes = d.nproc(p.Processes, opt)
	}
	return p
}

// ctlResult is where one controller's group goes, or why it has none.
type ctlResult struct {
	loc    int // index into Plan.Groups, or -1
	reason string
	fix    string
}

func outcome(limit string, value uint64, r *ctlResult, p *Plan) Outcome {
	o := Outcome{Limit: limit, Value: value, Kind: NotRequested}
	if r == nil {
		return o
	}
	if r.loc >= 0 {
		loc := p.Groups[r.loc]
		o.Path = loc.CordonDir()
		if value > 0 {
			o.Kind = CgroupV1
			if loc.Version == 2 {
				o.Kind = CgroupV2
			}
		}
		return o
	}
	if value > 0 {
		o.Kind, o.Reason, o.Fix = NotApplied, r.reason, r.fix
	}
	return o
}

// nproc is the process limit's outcome when no cgroup holds it: the
// supervisor also sets RLIMIT_NPROC from the same limit, which holds for
// every uid but 0 (the kernel exempts real uid 0).
func (d *decider) nproc(o Outcome, opt Options) Outcome {
	switch {
	case d.h.UID == 0:
		o.Reason += "; RLIMIT_NPROC does not bind uid 0"
	case opt.UserNamespace:
		o.Kind = RlimitNprocUserNS
	default:
		o.Kind = RlimitNprocUser
	}
	return o
}

type decider struct {
	h      Host
	self   procCgroup
	mounts []mount
}

// procCgroup is /proc/self/cgroup: the caller's cgroup in each hierarchy.
type procCgroup struct {
	v1    map[string]string // controller -> cgroup path
	v2    string
	hasV2 bool
}

func parseProcCgroup(s string) procCgroup {
	pc := procCgroup{v1: map[string]string{}}
	for _, line := range strings.Split(s, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			pc.v2, pc.hasV2 = f[2], true
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c != "" && !strings.HasPrefix(c, "name=") {
				pc.v1[c] = f[2]
			}
		}
	}
	return pc
}

// mount is one cgroup or cgroup2 line of /proc/self/mountinfo.
type mount struct {
	root, point string
	v2          bool
	opts        []string // superblock options: the v1 controllers
	ro          bool
}

func (m mount) hasOpt(o string) bool {
	for _, x := range m.opts {
		if x == o {
			return true
		}
	}
	return false
}

func parseMountInfo(s string) []mount {
	var out []mount
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		typ := f[sep+1]
		if typ != "cgroup" && typ != "cgroup2" {
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4]), v2: typ == "cgroup2", opts: strings.Split(f[sep+3], ",")}
		for _, o := range append(strings.Split(f[5], ","), m.opts...) {
			if o == "ro" {
				m.ro = true
			}
		}
		out = append(out, m)
	}
	return out
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dirOf maps a cgroup path to its directory under a mount, or says why the
// cgroup is not visible there.
func dirOf(m mount, cg string) (string, bool) {
	cg = path.Clean("/" + cg)
	root := path.Clean("/" + m.root)
	if root == "/" {
		return path.Join(m.point, cg), true
	}
	if cg == root {
		return m.point, true
	}
	if strings.HasPrefix(cg, root+"/") {
		return path.Join(m.point, cg[len(root):]), true
	}
	return "", false
}

// pick returns the mounts of a hierarchy that show the cgroup, writable
// ones first.
func (d *decider) pick(match func(mount) bool, cg string) (m mount, dir string, found, visible bool) {
	var cands []mount
	for _, x := range d.mounts {
		if match(x) {
			cands = append(cands, x)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return !cands[i].ro && cands[j].ro })
	for _, x := range cands {
		if dir, ok := dirOf(x, cg); ok {
			return x, dir, true, true
		}
	}
	if len(cands) > 0 {
		return cands[0], "", true, false
	}
	return mount{}, "", false, false
}

// v1 places the group of a controller bound to a cgroup v1 hierarchy.
func (d *decider) v1(c string, p *Plan) *ctlResult {
	cg := d.self.v1[c]
	m, dir, found, visible := d.pick(func(m mount) bool { return !m.v2 && m.hasOpt(c) }, cg)
	switch {
	case !found:
		return &ctlResult{loc: -1,
			reason: fmt.Sprintf("the kernel binds %s to a cgroup v1 hierarchy, which is not mounted", c),
			fix:    fmt.Sprintf("mount it (mount -t cgroup -o %s cgroup /sys/fs/cgroup/%s), or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)", c, c)}
	case !visible:
		return &ctlResult{loc: -1,
			reason: fmt.Sprintf("the caller's %s cgroup %s is outside the part of the hierarchy mounted at %s (%s)", c, cg, m.point, m.root),
			fix:    "run cordon where its own cgroup is visible (a cgroup namespace, or a mount of the hierarchy's root)"}
	case m.ro:
		return &ctlResult{loc: -1,
			reason: fmt.Sprintf("cgroup v1 %s at %s is mounted read-only", c, m.point),
			fix:    "give cordon a writable cgroup mount (in a container: --cgroupns=private with a writable /sys/fs/cgroup), or run it on the host"}
	}
	for i, g := range p.Groups {
		if g.Version == 1 && g.Mount == m.point {
			p.Groups[i].Controllers = append(p.Groups[i].Controllers, c)
			return &ctlResult{loc: i}
		}
	}
	if why := d.canMake(dir, false); why != nil {
		r := &ctlResult{loc: -1, reason: fmt.Sprintf("uid %d may not create a cgroup in %s: %v", d.h.UID, dir, why)}
		if d.h.UID == 0 {
			r.fix = fmt.Sprintf("make %s writable for root (a container may mount it read-only)", dir)
		} else {
			r.fix = "cgroup v1 cannot be safely delegated to a user: run cordon as root, or on a cgroup v2 host that delegates pids and memory to the user (systemd: Delegate=pids memory in user@.service)"
		}
		return r
	}
	// The v1 groups are placed before the v2 one, so they come first.
	p.Groups = append(p.Groups, Location{Version: 1, Mount: m.point, Cgroup: path.Clean("/" + cg), Dir: dir, Controllers: []string{c}})
	return &ctlResult{loc: len(p.Groups) - 1}
}

// canMake says whether the caller may make a group in dir's cordon
// directory: create that directory if it is not there, or create entries
// in it. For cgroup v2 it must also write the common ancestor's
// cgroup.procs (dir's) to move a process across, and the cordon
// directory's cgroup.subtree_control to enable the controllers.
func (d *decider) canMake(dir string, v2 bool) error {
	fi, err := d.h.FS.Stat(dir)
	if err != nil {
		return errors.Unwrap(err)
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	cd := dir + "/" + cordonName
	if fi, err := d.h.FS.Stat(cd); err == nil && fi.IsDir() {
		if err := d.h.FS.CanWrite(cd); err != nil {
			return fmt.Errorf("%s: %w", cd, err)
		}
		if v2 {
			if err := d.h.FS.CanWrite(cd + "/cgroup.subtree_control"); err != nil {
				return fmt.Errorf("%s/cgroup.subtree_control: %w", cd, err)
			}
		}
	} else if err := d.h.FS.CanWrite(dir); err != nil {
		return err
	}
	if v2 {
		if err := d.h.FS.CanWrite(dir + "/cgroup.procs"); err != nil {
			return fmt.Errorf("%s/cgroup.procs: %w", dir, err)
		}
	}
	return nil
}

// candidate is one cgroup v2 cgroup from the caller's own upwards.
type candidate struct {
	cg, dir string
	sub     []string // its cgroup.subtree_control
	why     error    // nil if the caller may make a group under it
}

func (c candidate) enables(ctl string) bool {
	for _, x := range c.sub {
		if x == ctl {
			return true
		}
	}
	return false
}

// v2 places the run's cgroup v2 group and says, for each wanted controller
// not bound to v1, whether it has it.
func (d *decider) v2(wanted []string, lim Limits, p *Plan) map[string]*ctlResult {
	out := map[string]*ctlResult{}
	fail := func(reason, fix string) map[string]*ctlResult {
		for _, c := range wanted {
			out[c] = &ctlResult{loc: -1, reason: strings.ReplaceAll(reason, "%s", c), fix: fix}
		}
		return out
	}
	if !d.self.hasV2 {
		return fail("no cgroup hierarchy has the %s controller: it is in no cgroup v1 hierarchy of this process, and the process is in no cgroup v2 hierarchy",
			"boot a kernel with the controller (CONFIG_CGROUP_PIDS, CONFIG_MEMCG) and cgroup v2 mounted at /sys/fs/cgroup")
	}
	m, selfDir, found, visible := d.pick(func(m mount) bool { return m.v2 }, d.self.v2)
	switch {
	case !found:
		return fail("cgroup v2 is not mounted, and no cgroup v1 hierarchy has the %s controller",
			"mount cgroup v2 (mount -t cgroup2 none /sys/fs/cgroup)")
	case !visible:
		return fail(fmt.Sprintf("the caller's cgroup v2 cgroup %s is outside the part mounted at %s (%s)", d.self.v2, m.point, m.root),
			"run cordon where its own cgroup is visible (a cgroup namespace, or a mount of the hierarchy's root)")
	case m.ro:
		return fail(fmt.Sprintf("cgroup v2 at %s is mounted read-only", m.point),
			"give cordon a writable cgroup mount (in a container: a private cgroup namespace with /sys/fs/cgroup writable), or run it on the host")
	}
	rootDir, _ := dirOf(m, m.root)
	offered := fields(d.read(rootDir + "/cgroup.controllers"))

	// From the caller's own cgroup up to the top of the mount.
	var cands []candidate
	cg, dir := path.Clean("/"+d.self.v2), selfDir
	for {
		c := candidate{cg: cg, dir: dir, sub: fields(d.read(dir + "/cgroup.subtree_control"))}
		c.why = d.canMake(dir, true)
		cands = append(cands, c)
		if dir == rootDir || cg == "/" {
			break
		}
		cg, dir = path.Dir(cg), path.Dir(dir)
	}
	// The best is the one that holds the most of what is wanted (a limit
	// asked for counts more than counting alone), the nearest of equals.
	best, bestScore := -1, -1
	for i, c := range cands {
		if c.why != nil {
			continue
		}
		score := 0
		for _, w := range wanted {
			if c.enables(w) {
				score++
				if w == "pids" && lim.MaxProcesses > 0 || w == "memory" {
					score++
				}
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best >= 0 {
		c := cands[best]
		loc := Location{Version: 2, Mount: m.point, Cgroup: c.cg, Dir: c.dir}
		for _, w := range wanted {
			if c.enables(w) {
				loc.Controllers = append(loc.Controllers, w)
			}
		}
		p.Groups = append(p.Groups, loc)
	}
	idx := len(p.Groups) - 1
	for _, w := range wanted {
		if best >= 0 && cands[best].enables(w) {
			out[w] = &ctlResult{loc: idx}
			continue
		}
		out[w] = d.v2Missing(w, m, offered, cands, best)
	}
	return out
}

// v2Missing says why a cgroup v2 controller is not in the run's group.
func (d *decider) v2Missing(c string, m mount, offered []string, cands []candidate, best int) *ctlResult {
	r := &ctlResult{loc: -1}
	if !contains(offered, c) {
		r.reason = fmt.Sprintf("no %s controller: cgroup v2 at %s does not offer it, and no cgroup v1 hierarchy has it", c, m.point)
		r.fix = fmt.Sprintf("boot a kernel with the %s controller (CONFIG_%s)", c, map[string]string{"pids": "CGROUP_PIDS", "memory": "MEMCG"}[c])
		return r
	}
	// The top of what the caller may manage: the delegated subtree.
	top := -1
	for i, x := range cands {
		if x.why == nil {
			top = i
		}
	}
	if top < 0 {
		why := cands[0].why
		r.reason = fmt.Sprintf("no %s controller delegated to uid %d (cgroup v2 at %s: uid %d may not create a cgroup in its own cgroup %s or any above it: %v)", c, d.h.UID, m.point, d.h.UID, cands[0].cg, why)
		r.fix = delegateFix(d.h.UID, c, "")
		return r
	}
	if best >= 0 {
		for _, x := range cands {
			if x.why == nil && x.enables(c) {
				r.reason = fmt.Sprintf("a process is in one cgroup v2 cgroup only: %s is enabled in %s, but the run's group goes under %s for the other limits", c, x.cg, cands[best].cg)
				r.fix = fmt.Sprintf("enable %s in %s/cgroup.subtree_control", c, cands[best].dir)
				return r
			}
		}
	}
	name := unitName(cands[top].cg)
	if cands[top].cg == "/" {
		name = "the root cgroup"
	}
	r.reason = fmt.Sprintf("no %s controller delegated to uid %d (cgroup v2 at %s, %s does not delegate %s)", c, d.h.UID, m.point, name, c)
	if d.h.UID == 0 {
		r.reason = fmt.Sprintf("cgroup v2 at %s enables %s for the children of no cgroup from %s up (%s does not delegate it)", m.point, c, cands[0].cg, name)
	}
	r.fix = delegateFix(d.h.UID, c, cands[top].dir)
	return r
}

var userService = regexp.MustCompile(`^user@[0-9]+\.service$`)

func delegateFix(uid int, c, dir string) string {
	if uid == 0 {
		if dir == "" {
			return "make the cgroup v2 mount writable for root"
		}
		return fmt.Sprintf("enable it: echo +%s > %s/cgroup.subtree_control (systemd: DefaultTasksAccounting=yes, DefaultMemoryAccounting=yes)", c, dir)
	}
	if dir == "" || userService.MatchString(path.Base(dir)) || strings.Contains(dir, "/user@") {
		return "let systemd delegate the controllers to your user manager: a drop-in /etc/systemd/system/user@.service.d/delegate.conf with \"[Service]\" and \"Delegate=pids memory\", then systemctl daemon-reload and log in again"
	}
	return fmt.Sprintf("ask the owner of %s to enable %s in its cgroup.subtree_control", dir, c)
}

// unitName is the last element of a cgroup path when it names a systemd
// unit (user@1000.service), else the whole path.
func unitName(cg string) string {
	b := path.Base(cg)
	for _, suf := range []string{".service", ".slice", ".scope"} {
		if strings.HasSuffix(b, suf) {
			return b
		}
	}
	return cg
}

func (d *decider) read(name string) string {
	b, err := d.h.FS.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

func fields(s string) []string { return strings.Fields(s) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// parents lists every location a run of this process could have used: the
// caller's own cgroup in the pids and memory v1 hierarchies, and its cgroup
// v2 cgroup and every one above it. Stale groups are looked for there.
func parents(h Host) []Location {
	self := parseProcCgroup(h.ProcCgroup)
	d := decider{h: h, self: self, mounts: parseMountInfo(h.MountInfo)}
	var out []Location
	seen := map[string]bool{}
	for _, c := range []string{"pids", "memory"} {
		cg, ok := self.v1[c]
		if !ok {
			continue
		}
		m, dir, _, visible := d.pick(func(m mount) bool { return !m.v2 && m.hasOpt(c) }, cg)
		if visible && !seen[dir] {
			seen[dir] = true
			out = append(out, Location{Version: 1, Mount: m.point, Cgroup: path.Clean("/" + cg), Dir: dir, Controllers: []string{c}})
		}
	}
	if !self.hasV2 {
		return out
	}
	m, dir, _, visible := d.pick(func(m mount) bool { return m.v2 }, self.v2)
	if !visible {
		return out
	}
	rootDir, _ := dirOf(m, m.root)
	for cg := path.Clean("/" + self.v2); ; cg, dir = path.Dir(cg), path.Dir(dir) {
		out = append(out, Location{Version: 2, Mount: m.point, Cgroup: cg, Dir: dir})
		if dir == rootDir || cg == "/" {
			return out
		}
	}
}
