package accessmodel

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// File-system errors.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrNotEmpty      = errors.New("directory not empty")
	ErrNotSameDevice = errors.New("not the same volume")
	ErrInvalid       = errors.New("invalid operation")
	ErrLinkLoop      = errors.New("too many reparse points")
)

// Options switch the rules the documentation leaves open.
type Options struct {
	// HardLinkNeedsWriteAttributes: a caller with a restricted (sandboxed)
	// token must have FILE_WRITE_ATTRIBUTES on a file to give it a new name
	// (the 2015 hard-link mitigation; on by default).
	HardLinkNeedsWriteAttributes bool
	// RemoteUsesNetworkIdentity: files on a remote volume are checked by the
	// server against the user's network logon, which has none of the
	// client token's restricting SIDs (on by default).
	RemoteUsesNetworkIdentity bool
	// DeveloperMode lets tokens without SeCreateSymbolicLinkPrivilege
	// create symbolic links.
	DeveloperMode bool
}

// DefaultOptions are the rules the model assumes unless a test says
// otherwise.
var DefaultOptions = Options{HardLinkNeedsWriteAttributes: true, RemoteUsesNetworkIdentity: true}

// FS is a set of volumes with files, directories, hard links, junctions and
// symbolic links, each object with one security descriptor. Its methods that
// take a *Token are what a process with that token can do through Win32;
// the others (Mkdir, WriteFile, PutSD, ...) set up fixtures and are never
// access-checked.
type FS struct {
	Options Options
	// Owner owns the objects fixtures create.
	Owner SID
	vols  map[string]*Volume
	next  int
}

// Volume is a drive or share.
type Volume struct {
	Name string
	// Remote: an SMB share or mapped network drive.
	Remote bool
	// NoACLs: a file system without ACLs (FAT, exFAT): no check applies.
	NoACLs bool
	root   *object
}

type object struct {
	id      int
	vol     *Volume
	dir     bool
	sd      *SD
	entries map[string]*entry
	names   []*entry
	// reparse is the absolute target of a junction or symbolic link.
	reparse string
	symlink bool
	writes  int
}

type entry struct {
	name, short string
	parent      *object
	obj         *object
}

// New returns an empty file system with DefaultOptions, whose fixtures are
// owned by owner.
func New(owner SID) *FS {
	return &FS{Options: DefaultOptions, Owner: owner, vols: map[string]*Volume{}}
}

// AddVolume adds a volume named C: or \\server\share whose root has the
// explicit ACEs root (and, for a volume root, the owner Administrators).
func (fs *FS) AddVolume(name string, remote, noACLs bool, root ...ACE) *Volume {
	v := &Volume{Name: name, Remote: remote, NoACLs: noACLs}
	fs.next++
	v.root = &object{id: fs.next, vol: v, dir: true, entries: map[string]*entry{}}
	if !noACLs {
		v.root.sd = &SD{Owner: Administrators, Group: LocalSystem, DACL: append([]ACE(nil), root...)}
	}
	fs.vols[volKey(name)] = v
	return v
}

// resolved is where a path leads.
type resolved struct {
	vol    *Volume
	parent *object // the directory holding the last component; nil for a volume root
	e      *entry  // the last component; nil if it does not exist (or is the root)
	root   bool    // the path names the volume root
	name   string
	stream string
	path   string // final path, as stored
}

func (r *resolved) obj() *object {
	if r.root {
		return r.vol.root
	}
	if r.e == nil {
		return nil
	}
	return r.e.obj
}

// walk resolves p. Reparse points met on the way are followed; one at the
// end only when followLast. When t is not nil and lacks
// SeChangeNotifyPrivilege, every directory passed through must grant it
// FILE_TRAVERSE.
func (fs *FS) walk(t *Token, p string, followLast bool) (*resolved, error) {
	pp, err := parseWin32(p)
	if err != nil {
		return nil, err
	}
	vol, comps := pp.vol, pp.comps
	for hops := 0; ; hops++ {
		if hops > 63 {
			return nil, fmt.Errorf("%s: %w", p, ErrLinkLoop)
		}
		v, ok := fs.vols[volKey(vol)]
		if !ok {
			return nil, fmt.Errorf("volume %s: %w", vol, ErrNotFound)
		}
		r := &resolved{vol: v, stream: pp.stream, path: v.Name + `\`}
		if len(comps) == 0 {
			r.root = true
			return r, nil
		}
		cur := v.root
		restarted := false
		for i, c := range comps {
			last := i == len(comps)-1
			if t != nil && !t.HasPrivilege(SeChangeNotify) {
				if err := fs.check(t, cur, FileTraverse); err != nil {
					return nil, fmt.Errorf("traversing %s: %w", r.path, err)
				}
			}
			e := cur.lookup(c)
			if e == nil {
				if !last {
					return nil, fmt.Errorf("%s: path %w", p, ErrNotFound)
				}
				r.parent, r.name = cur, c
				r.path = join(r.path, c)
				return r, nil
			}
			if e.obj.reparse != "" && (!last || followLast) {
				tp, err := parseWin32(e.obj.reparse)
				if err != nil {
					return nil, fmt.Errorf("reparse point %s: %w", join(r.path, e.name), err)
				}
				vol, comps = tp.vol, append(append([]string(nil), tp.comps...), comps[i+1:]...)
				restarted = true
				break
			}
			r.path = join(r.path, e.name)
			if last {
				r.parent, r.e, r.name = cur, e, e.name
				return r, nil
			}
			if !e.obj.dir {
				return nil, fmt.Errorf("%s: %s is a file: path %w", p, r.path, ErrNotFound)
			}
			cur = e.obj
		}
		if !restarted {
			return nil, fmt.Errorf("%s: %w", p, ErrInvalid)
		}
	}
}

func join(dir, name string) string { return strings.TrimSuffix(dir, `\`) + `\` + name }

func (o *object) lookup(name string) *entry {
	if e, ok := o.entries[strings.ToLower(name)]; ok {
		return e
	}
	for _, e := range o.entries {
		if e.short != "" && strings.EqualFold(e.short, name) {
			return e
		}
	}
	return nil
}

// check runs the access check for t on o, as the volume decides it.
func (fs *FS) check(t *Token, o *object, desired Mask) error {
	if o.vol.NoACLs {
		return nil
	}
	if o.vol.Remote && fs.Options.RemoteUsesNetworkIdentity {
		n := networkIdentity(t)
		return AccessCheck(&n, o.sd, desired, FileMapping)
	}
	return AccessCheck(t, o.sd, desired, FileMapping)
}

// networkIdentity is the token an SMB server builds for the user's network
// logon: the same user and domain groups, NETWORK instead of INTERACTIVE, no
// logon SID of the client, and nothing of the client token's restrictions.
func networkIdentity(t *Token) Token {
	return Token{
		User: t.User,
		Groups: []Group{
			{SID: Everyone, Attr: Enabled}, {SID: "S-1-5-2", Attr: Enabled},
			{SID: AuthenticatedUsers, Attr: Enabled}, {SID: Users, Attr: Enabled},
		},
		Privileges: []string{SeChangeNotify},
		Integrity:  MediumIntegrity,
		NoWriteUp:  true,
	}
}

// openCheck grants desired on the object r names, with NTFS's two ways
// around the object's own DACL (MS-FSA 2.1.5.1.2.1, KB238018): DELETE
// through FILE_DELETE_CHILD on the parent, FILE_READ_ATTRIBUTES through
// FILE_LIST_DIRECTORY on the parent; the rest must still be granted by the
// object.
func (fs *FS) openCheck(t *Token, r *resolved, desired Mask) error {
	o := r.obj()
	err := fs.check(t, o, desired)
	if err == nil || r.parent == nil {
		return err
	}
	var viaParent Mask
	if desired&Delete != 0 && fs.check(t, r.parent, FileDeleteChild) == nil {
		viaParent |= Delete
	}
	if desired&FileReadAttributes != 0 && fs.check(t, r.parent, FileListDirectory) == nil {
		viaParent |= FileReadAttributes
	}
	if viaParent == 0 {
		return err
	}
	if rest := desired &^ viaParent; rest != 0 {
		return fs.check(t, o, rest)
	}
	return nil
}

// Open opens path for desired, following a reparse point at its end unless
// openReparsePoint (FILE_FLAG_OPEN_REPARSE_POINT).
func (fs *FS) Open(t *Token, path string, desired Mask, openReparsePoint bool) error {
	r, err := fs.walk(t, path, !openReparsePoint)
	if err != nil {
		return err
	}
	if r.obj() == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	return fs.openCheck(t, r, desired)
}

// Read reads the file's data (FILE_READ_DATA).
func (fs *FS) Read(t *Token, path string) error { return fs.Open(t, path, FileReadData, false) }

// Write writes the file's data, or a directory's stream (FILE_WRITE_DATA).
func (fs *FS) Write(t *Token, path string) error {
	if err := fs.Open(t, path, FileWriteData, false); err != nil {
		return err
	}
	r, _ := fs.walk(nil, path, true)
	r.obj().writes++
	return nil
}

// Append appends to the file (FILE_APPEND_DATA).
func (fs *FS) Append(t *Token, path string) error {
	if err := fs.Open(t, path, FileAppendData, false); err != nil {
		return err
	}
	r, _ := fs.walk(nil, path, true)
	r.obj().writes++
	return nil
}

// SetAttributes changes the file's attributes or times
// (FILE_WRITE_ATTRIBUTES).
func (fs *FS) SetAttributes(t *Token, path string) error {
	return fs.Open(t, path, FileWriteAttributes, false)
}

// WriteEA writes extended attributes (FILE_WRITE_EA).
func (fs *FS) WriteEA(t *Token, path string) error { return fs.Open(t, path, FileWriteEA, false) }

// Create creates a file or directory; the creator's handle gets what it
// asked for, whatever the new object's inherited DACL says, so only the
// parent is checked (FILE_ADD_FILE or FILE_ADD_SUBDIRECTORY).
func (fs *FS) Create(t *Token, path string, dir bool) error {
	r, err := fs.walk(t, path, true)
	if err != nil {
		return err
	}
	if r.obj() != nil {
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
	need := FileAddFile
	if dir {
		need = FileAddSubdirectory
	}
	if err := fs.check(t, r.parent, need); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	fs.add(r.parent, r.name, dir, t)
	return nil
}

func (fs *FS) add(parent *object, name string, dir bool, t *Token) *object {
	fs.next++
	o := &object{id: fs.next, vol: parent.vol, dir: dir}
	if dir {
		o.entries = map[string]*entry{}
	}
	if !parent.vol.NoACLs {
		o.sd = NewSD(parent.sd, t, dir, FileMapping)
	}
	e := &entry{name: name, parent: parent, obj: o}
	parent.entries[strings.ToLower(name)] = e
	o.names = append(o.names, e)
	return o
}

func (fs *FS) unlink(e *entry) {
	delete(e.parent.entries, strings.ToLower(e.name))
	for i, n := range e.obj.names {
		if n == e {
			e.obj.names = append(e.obj.names[:i], e.obj.names[i+1:]...)
			break
		}
	}
}

// Delete deletes a file, an empty directory, or a link itself
// (DeleteFileW, RemoveDirectoryW: open with DELETE without following a
// reparse point at the end).
func (fs *FS) Delete(t *Token, path string) error {
	r, err := fs.walk(t, path, false)
	if err != nil {
		return err
	}
	if r.root {
		return fmt.Errorf("%s: %w", path, ErrInvalid)
	}
	if r.e == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err := fs.openCheck(t, r, Delete); err != nil {
		return err
	}
	if o := r.e.obj; o.dir && o.reparse == "" && len(o.entries) > 0 {
		return fmt.Errorf("%s: %w", path, ErrNotEmpty)
	}
	fs.unlink(r.e)
	return nil
}

// Rename moves from to to on the same volume (MoveFileExW;
// FileRenameInformation, MS-FSA 2.1.5.14.11): DELETE on the source, the add
// right on the destination directory, and, when replace lets it take an
// existing file's place, DELETE on that file. The moved object keeps its
// security descriptor.
func (fs *FS) Rename(t *Token, from, to string, replace bool) error {
	rs, err := fs.walk(t, from, false)
	if err != nil {
		return err
	}
	if rs.root || rs.e == nil {
		return fmt.Errorf("%s: %w", from, ErrNotFound)
	}
	if err := fs.openCheck(t, rs, Delete); err != nil {
		return fmt.Errorf("opening %s for DELETE: %w", from, err)
	}
	rd, err := fs.walk(t, to, false)
	if err != nil {
		return err
	}
	if rd.root {
		return fmt.Errorf("%s: %w", to, ErrInvalid)
	}
	if rd.vol != rs.vol {
		return fmt.Errorf("%s to %s: %w", from, to, ErrNotSameDevice)
	}
	src := rs.e.obj
	for p := rd.parent; ; {
		if p == src {
			return fmt.Errorf("moving %s into itself: %w", from, ErrInvalid)
		}
		if len(p.names) == 0 {
			break
		}
		p = p.names[0].parent
	}
	need := FileAddFile
	if src.dir {
		need = FileAddSubdirectory
	}
	if err := fs.check(t, rd.parent, need); err != nil {
		return fmt.Errorf("adding to the directory of %s: %w", to, err)
	}
	if rd.e != nil {
		if rd.e == rs.e {
			return nil
		}
		if !replace {
			return fmt.Errorf("%s: %w", to, ErrExists)
		}
		if rd.e.obj.dir {
			return fmt.Errorf("replacing the directory %s: %w", to, ErrAccessDenied)
		}
		if err := fs.openCheck(t, rd, Delete); err != nil {
			return fmt.Errorf("replacing %s: %w", to, err)
		}
		fs.unlink(rd.e)
	}
	e := rs.e
	fs.unlink(e)
	e.name, e.short, e.parent = rd.name, "", rd.parent
	rd.parent.entries[strings.ToLower(e.name)] = e
	src.names = append(src.names, e)
	return nil
}

// HardLink gives the file existing the new name newPath (CreateHardLinkW):
// FILE_ADD_FILE on the new name's directory and, for a restricted token
// when Options.HardLinkNeedsWriteAttributes, FILE_WRITE_ATTRIBUTES on the
// file.
func (fs *FS) HardLink(t *Token, existing, newPath string) error {
	rs, err := fs.walk(t, existing, true)
	if err != nil {
		return err
	}
	o := rs.obj()
	if o == nil {
		return fmt.Errorf("%s: %w", existing, ErrNotFound)
	}
	if o.dir {
		return fmt.Errorf("hard link to the directory %s: %w", existing, ErrInvalid)
	}
	if t.IsRestricted() && fs.Options.HardLinkNeedsWriteAttributes {
		if err := fs.openCheck(t, rs, FileWriteAttributes); err != nil {
			return fmt.Errorf("linking %s: %w", existing, err)
		}
	}
	rd, err := fs.walk(t, newPath, false)
	if err != nil {
		return err
	}
	if rd.obj() != nil {
		return fmt.Errorf("%s: %w", newPath, ErrExists)
	}
	if rd.vol != o.vol {
		return fmt.Errorf("%s: %w", newPath, ErrNotSameDevice)
	}
	if err := fs.check(t, rd.parent, FileAddFile); err != nil {
		return fmt.Errorf("adding %s: %w", newPath, err)
	}
	e := &entry{name: rd.name, parent: rd.parent, obj: o}
	rd.parent.entries[strings.ToLower(rd.name)] = e
	o.names = append(o.names, e)
	return nil
}

// Junction makes path a junction to target: a new directory (which needs
// FILE_ADD_SUBDIRECTORY on its parent), or an existing empty one opened for
// FILE_WRITE_DATA or FILE_WRITE_ATTRIBUTES (FSCTL_SET_REPARSE_POINT).
func (fs *FS) Junction(t *Token, path, target string) error {
	r, err := fs.walk(t, path, false)
	if err != nil {
		return err
	}
	if r.root {
		return fmt.Errorf("%s: %w", path, ErrInvalid)
	}
	if r.e == nil {
		if err := fs.Create(t, path, true); err != nil {
			return err
		}
		r, _ = fs.walk(nil, path, false)
	} else {
		o := r.e.obj
		if !o.dir || len(o.entries) > 0 || o.reparse != "" {
			return fmt.Errorf("%s is not an empty directory: %w", path, ErrInvalid)
		}
		if fs.openCheck(t, r, FileWriteData) != nil {
			if err := fs.openCheck(t, r, FileWriteAttributes); err != nil {
				return err
			}
		}
	}
	r.e.obj.reparse = target
	return nil
}

// Symlink creates a symbolic link, which needs
// SeCreateSymbolicLinkPrivilege unless Options.DeveloperMode.
func (fs *FS) Symlink(t *Token, path, target string, dir bool) error {
	if !t.HasPrivilege(SeCreateSymbolicLink) && !fs.Options.DeveloperMode {
		return fmt.Errorf("symbolic link %s: %w", path, ErrPrivilegeNotHeld)
	}
	if err := fs.Create(t, path, dir); err != nil {
		return err
	}
	r, _ := fs.walk(nil, path, false)
	r.e.obj.reparse, r.e.obj.symlink = target, true
	return nil
}

// SetDACL replaces the object's explicit ACEs with explicit, keeping its
// inherited ones (what SetSecurityInfo does for a caller that got WRITE_DAC).
func (fs *FS) SetDACL(t *Token, path string, explicit []ACE) error {
	r, err := fs.walk(t, path, true)
	if err != nil {
		return err
	}
	if r.obj() == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err := fs.openCheck(t, r, WriteDAC); err != nil {
		return err
	}
	o := r.obj()
	var inherited []ACE
	for _, a := range o.sd.DACL {
		if a.Flags&Inherited != 0 {
			inherited = append(inherited, a)
		}
	}
	o.sd.NullDACL = false
	o.sd.DACL = append(append([]ACE(nil), explicit...), inherited...)
	return nil
}

// SetOwner makes owner the object's owner: WRITE_OWNER, and an owner the
// token may set (its user, an owner group, or SeRestorePrivilege).
func (fs *FS) SetOwner(t *Token, path string, owner SID) error {
	r, err := fs.walk(t, path, true)
	if err != nil {
		return err
	}
	if r.obj() == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err := fs.openCheck(t, r, WriteOwner); err != nil {
		return err
	}
	if !t.mayOwn(owner) {
		return fmt.Errorf("%s may not be made the owner: %w", owner, ErrInvalid)
	}
	r.obj().sd.Owner = owner
	return nil
}

// Info describes a path without access checks.
type Info struct {
	Exists, Dir, Reparse bool
	Links                int
	ID                   int
	// Writes counts successful data writes and appends.
	Writes int
	// Final is the path with every reparse point followed, as stored.
	Final string
	// Remote, NoACLs describe the volume.
	Remote, NoACLs bool
}

// Stat describes path, following a reparse point at its end if followLast.
func (fs *FS) Stat(path string, followLast bool) (Info, error) {
	r, err := fs.walk(nil, path, followLast)
	if errors.Is(err, ErrNotFound) {
		return Info{}, nil
	}
	if err != nil {
		return Info{}, err
	}
	o := r.obj()
	if o == nil {
		return Info{Remote: r.vol.Remote, NoACLs: r.vol.NoACLs}, nil
	}
	return Info{Exists: true, Dir: o.dir, Reparse: o.reparse != "", Links: len(o.names), ID: o.id,
		Writes: o.writes, Final: r.path, Remote: r.vol.Remote, NoACLs: r.vol.NoACLs}, nil
}

// GetSD returns a copy of the descriptor of path (following links at the end
// if followLast).
func (fs *FS) GetSD(path string, followLast bool) (*SD, error) {
	r, err := fs.walk(nil, path, followLast)
	if err != nil {
		return nil, err
	}
	if r.obj() == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if r.vol.NoACLs {
		return nil, fmt.Errorf("%s: the volume has no ACLs: %w", path, ErrInvalid)
	}
	return r.obj().sd.Clone(), nil
}

// PutSD stores sd as the descriptor of path, with no propagation
// (NtSetSecurityObject on a handle).
func (fs *FS) PutSD(path string, sd *SD, followLast bool) error {
	r, err := fs.walk(nil, path, followLast)
	if err != nil {
		return err
	}
	if r.obj() == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if r.vol.NoACLs {
		return nil // accepted and dropped, as FAT does
	}
	r.obj().sd = sd.Clone()
	return nil
}

// Propagate re-computes the inherited ACEs of everything below path from
// path's DACL, as SetNamedSecurityInfo's automatic propagation does;
// followReparse says whether the walk enters the targets of junctions and
// directory links (a switch: the documentation does not say).
func (fs *FS) Propagate(path string, followReparse bool) error {
	r, err := fs.walk(nil, path, true)
	if err != nil {
		return err
	}
	o := r.obj()
	if o == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	seen := map[int]bool{}
	var walk func(parent *object)
	walk = func(parent *object) {
		if seen[parent.id] || parent.vol.NoACLs {
			return
		}
		seen[parent.id] = true
		for _, name := range sortedNames(parent) {
			c := parent.entries[name].obj
			if c.reparse != "" {
				c.sd = Repropagated(c.sd, parent.sd.DACL, c.dir, FileMapping)
				if !followReparse {
					continue
				}
				tr, err := fs.walk(nil, c.reparse, true)
				if err != nil || tr.obj() == nil {
					continue
				}
				c = tr.obj()
			}
			c.sd = Repropagated(c.sd, parent.sd.DACL, c.dir, FileMapping)
			if c.dir && !c.sd.Protected {
				walk(c)
			}
		}
	}
	if o.dir {
		walk(o)
	}
	return nil
}

func sortedNames(o *object) []string {
	names := make([]string, 0, len(o.entries))
	for k := range o.entries {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Mkdir creates the directory path and its missing parents as the fixture
// owner would (inheriting from each parent); the last one gets the extra
// explicit ACEs in front. An existing directory gets them added.
func (fs *FS) Mkdir(path string, explicit ...ACE) error {
	return fs.mk(path, true, explicit)
}

// WriteFile creates the file path (and missing parents) like Mkdir.
func (fs *FS) WriteFile(path string, explicit ...ACE) error {
	return fs.mk(path, false, explicit)
}

func (fs *FS) fixtureToken() *Token {
	return &Token{User: fs.Owner, PrimaryGroup: fs.Owner, DefaultDACL: []ACE{{Type: Allowed, Mask: GenericAll, SID: fs.Owner}, {Type: Allowed, Mask: GenericAll, SID: LocalSystem}}}
}

func (fs *FS) mk(path string, dir bool, explicit []ACE) error {
	pp, err := parseWin32(path)
	if err != nil {
		return err
	}
	v, ok := fs.vols[volKey(pp.vol)]
	if !ok {
		return fmt.Errorf("volume %s: %w", pp.vol, ErrNotFound)
	}
	cur := v.root
	for i, c := range pp.comps {
		last := i == len(pp.comps)-1
		e := cur.lookup(c)
		if e == nil {
			o := fs.add(cur, c, dir || !last, fs.fixtureToken())
			e = o.names[0]
		}
		if e.obj.reparse != "" && !last {
			return fmt.Errorf("fixture path %s crosses a reparse point", path)
		}
		if last && len(explicit) > 0 && e.obj.sd != nil {
			e.obj.sd.DACL = append(append([]ACE(nil), explicit...), e.obj.sd.DACL...)
		}
		cur = e.obj
	}
	return nil
}

// ShortName gives the last component of path the 8.3 alias short.
func (fs *FS) ShortName(path, short string) error {
	r, err := fs.walk(nil, path, false)
	if err != nil {
		return err
	}
	if r.e == nil {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	r.e.short = short
	return nil
}

// MakeLink makes path (missing) a junction or, with symlink, a symbolic link
// to target, without any check (a fixture).
func (fs *FS) MakeLink(path, target string, symlink bool) error {
	if err := fs.mk(path, true, nil); err != nil {
		return err
	}
	r, _ := fs.walk(nil, path, false)
	r.e.obj.reparse, r.e.obj.symlink = target, symlink
	return nil
}

// DirEntry is one name in a directory.
type DirEntry struct {
	Name         string
	Dir, Reparse bool
	Links        int
}

// ReadDir lists the directory path (following links), sorted by name.
func (fs *FS) ReadDir(path string) ([]DirEntry, error) {
	r, err := fs.walk(nil, path, true)
	if err != nil {
		return nil, err
	}
	o := r.obj()
	if o == nil || !o.dir {
		return nil, fmt.Errorf("%s: not a directory: %w", path, ErrNotFound)
	}
	var out []DirEntry
	for _, k := range sortedNames(o) {
		e := o.entries[k]
		out = append(out, DirEntry{Name: e.name, Dir: e.obj.dir, Reparse: e.obj.reparse != "", Links: len(e.obj.names)})
	}
	return out, nil
}

// Snapshot describes every object's security descriptor by path (links not
// followed), for comparing a machine before and after.
func (fs *FS) Snapshot() map[string]string {
	out := map[string]string{}
	var walk func(path string, o *object)
	walk = func(path string, o *object) {
		if o.sd != nil {
			out[path] = fmt.Sprintf("owner=%s protected=%t null=%t dacl=%v", o.sd.Owner, o.sd.Protected, o.sd.NullDACL, o.sd.DACL)
		}
		if o.reparse != "" {
			return
		}
		for _, k := range sortedNames(o) {
			e := o.entries[k]
			walk(join(path, e.name), e.obj)
		}
	}
	for _, v := range fs.vols {
		walk(v.Name+`\`, v.root)
	}
	return out
}
