package sandbox

// Fact is one thing cordon learned about what this machine can enforce.
type Fact struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says how to get it, when it is missing.
	Fix string `json:"fix,omitempty"`
}

// ModeSupport says whether a mode works on this machine.
type ModeSupport struct {
	Mode   string `json:"mode"`
	Works  bool   `json:"works"`
	Detail string `json:"detail"`
}

// Diagnosis is what `cordon doctor` reports.
type Diagnosis struct {
	System string        `json:"system"`
	Facts  []Fact        `json:"facts"`
	Modes  []ModeSupport `json:"modes"`
}
