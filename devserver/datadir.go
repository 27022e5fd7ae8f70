package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/server/common/headers"
)

const (
	dbFileName      = "temporal.db"
	versionFileName = "temporal.version"
	lockFileName    = "temporal.lock"
)

// ServerVersion is the version of the embedded Temporal server.
const ServerVersion = headers.ServerVersion

// dataDir is a prepared, locked data directory.
type dataDir struct {
	dir    string
	dbPath string
	isNew  bool // no database yet: the schema must be created
	unlock func()
}

// openDataDir creates dir if needed, takes its lock and checks the database in it was
// made by this server version. Nothing upgrades a SQLite schema in place, so a file
// from another version is refused rather than risked.
func openDataDir(dir string) (*dataDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve data dir %q: %w", dir, err)
	}
	// The SQLite driver gets "file:<path>?mode=rwc" unescaped, so these would be
	// read as URI syntax and open some other file.
	if strings.ContainsAny(abs, "?#%") {
		return nil, fmt.Errorf("data dir %q: the path must not contain '?', '#' or '%%'", abs)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := lockDir(filepath.Join(abs, lockFileName))
	if err != nil {
		return nil, err
	}
	d := &dataDir{dir: abs, dbPath: filepath.Join(abs, dbFileName), unlock: unlock}
	if err := d.checkVersion(); err != nil {
		unlock()
		return nil, err
	}
	return d, nil
}

func (d *dataDir) checkVersion() error {
	versionPath := filepath.Join(d.dir, versionFileName)
	info, err := os.Stat(d.dbPath)
	switch {
	// An empty file is what a crash between creating the file and its schema leaves.
	case errors.Is(err, fs.ErrNotExist), err == nil && info.Size() == 0:
		d.isNew = true
		// Written before the schema, so a crash in between leaves a recorded version
		// and a missing or empty database, never an unlabelled one.
		if err := os.WriteFile(versionPath, []byte(ServerVersion+"\n"), 0o600); err != nil {
			return fmt.Errorf("record the Temporal server version: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("check Temporal database: %w", err)
	}
	b, err := os.ReadFile(versionPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists but %s does not, so the Temporal server version that created it is unknown "+
			"(this build embeds %s and cannot upgrade a SQLite schema); to start fresh, losing its workflow "+
			"history, move %s away or pass another --data-dir", d.dbPath, versionPath, ServerVersion, d.dir)
	}
	if err != nil {
		return fmt.Errorf("read Temporal server version: %w", err)
	}
	if got := strings.TrimSpace(string(b)); got != ServerVersion {
		return fmt.Errorf("%s was created by Temporal server %s but this build embeds %s, and nothing upgrades "+
			"a SQLite schema: run the sluice-worker build that created it; or, to start fresh, losing its "+
			"workflow history, move %s away or pass another --data-dir", d.dbPath, got, ServerVersion, d.dir)
	}
	return nil
}
