//go:build !unix

package devserver

// lockDir is a no-op where flock is unavailable; the frontend port check still stops
// two dev servers with the same address.
func lockDir(string) (func(), error) { return func() {}, nil }
