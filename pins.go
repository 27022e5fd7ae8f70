//go:build pins

// This file only pins modules that the next phases are built on, at the versions
// tested with the rest of the stack, so `go mod tidy` keeps them in go.mod. It is
// never compiled (the pins build tag is never set). go-mysql's BinlogSyncer is the
// incremental phase's binlog reader (issue 5).
package sluice

import _ "github.com/go-mysql-org/go-mysql/replication"
