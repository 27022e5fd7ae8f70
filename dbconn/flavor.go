package dbconn

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sluice-dev/sluice/flavor"
)

// Flavor detects the flavor of the server db is connected to (the flavor
// package itself holds no database code: workflow code imports it).
func Flavor(ctx context.Context, db *sql.DB) (flavor.Flavor, error) {
	var version, comment string
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment").Scan(&version, &comment); err != nil {
		return flavor.Flavor{}, fmt.Errorf("read the server version: %w", err)
	}
	return flavor.Detect(version, comment)
}
