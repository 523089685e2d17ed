package linuxplan

import "github.com/cordon-sandbox/cordon/internal/plan/unixplan"

// denied returns the canonical paths to mask (internal/plan/unixplan,
// Host.Denied): cordon's private paths and the existing matches of the
// policy's deny_read entries, minus allow_read exceptions. search are the
// directories searched for workspace patterns: the writable roots, and the
// workspace in read-only mode too, where it is no writable root; none of
// them may lie inside a denied path.
func (b *builder) denied(search []string) ([]string, error) {
	p := b.in.Policy
	return b.host.Denied(unixplan.DenyInput{
		DenyRead:  p.Filesystem.DenyRead,
		AllowRead: p.Filesystem.AllowRead,
		Private:   b.in.Private,
		Search:    search,
		Cache:     b.in.CacheDir,
		Roots:     search,
	})
}
