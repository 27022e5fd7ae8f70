// Package devserver embeds a Temporal server (SQLite file store) and the Temporal Web UI
// in the worker process, the way `temporal server start-dev` does.
package devserver

import (
	_ "github.com/temporalio/ui-server/v2/server"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	_ "go.temporal.io/server/schema/sqlite"
	_ "go.temporal.io/server/temporal"
)
