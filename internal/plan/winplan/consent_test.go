package winplan

import (
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy"
)

// TestConsentTextNamesEveryGap: the text a user accepts with
// --allow-degraded=windows-unelevated must name everything the mode's facts
// report as not enforced or advisory (review H6).
func TestConsentTextNamesEveryGap(t *testing.T) {
	text := policy.KnownDegraded[policy.DegradedWindowsUnelevated]
	phrases := map[string]string{
		LayerReads:          "read everything you can",
		LayerOutsideDeletes: "delete your files or move them",
		LayerNetworkFiles:   "network share",
		LayerProcesses:      "memory of your non-elevated processes",
		LayerCredentials:    "Credential Manager",
		LayerUI:             "record input on your desktop",
		"network":           "network around the proxy",
	}
	for _, f := range ModeFacts(nil) {
		if f.Status == Enforced || f.Layer == "verification" || f.Layer == "Everyone-writable directories" {
			continue
		}
		phrase, ok := phrases[f.Layer]
		if !ok {
			t.Errorf("fact %q (%s) has no phrase in this test: add one, and name it in the consent text", f.Layer, f.Status)
			continue
		}
		if !strings.Contains(text, phrase) {
			t.Errorf("the consent text does not say %q (for %q):\n%s", phrase, f.Layer, text)
		}
	}
	for _, want := range []string{"registry", "DPAPI", "docs/windows.md"} {
		if !strings.Contains(text, want) {
			t.Errorf("the consent text does not mention %s", want)
		}
	}
}
