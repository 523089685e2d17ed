package unixplan

// InputError is a problem with the inputs of a plan that the user can fix.
type InputError struct {
	Msg string
	Fix string
}

func (e *InputError) Error() string { return e.Msg }

// Hint says what to do about it.
func (e *InputError) Hint() string { return e.Fix }
