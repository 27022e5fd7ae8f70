// Package dbconn opens connections to the source and destination from a spec.Endpoint,
// expanding secret references on the worker and keeping secrets out of every error.
package dbconn

import (
	_ "github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/goccy/go-yaml"
	_ "github.com/spf13/pflag"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.temporal.io/server/temporaltest"
)
