package flavor

// DiskSpaceQuery is the statement listing the server's disks as Path, Total, Used,
// Available (in KiB), or "" with the reason when the flavor has no SQL view of free
// space. Only MariaDB has one: information_schema.DISKS, from the DISKS plugin.
func (f Flavor) DiskSpaceQuery() (query, unavailable string) {
	if f.Kind != MariaDB {
		return "", f.Name() + " does not report free disk space over SQL"
	}
	return "SELECT Path, Total, Used, Available FROM information_schema.DISKS", ""
}

// DiskSpaceQueryError explains a server error number of DiskSpaceQuery; "" when the
// number means nothing particular (the caller then shows the server's message).
// 1109 (ER_UNKNOWN_TABLE): MariaDB has information_schema.DISKS only while the
// plugin is installed.
func (f Flavor) DiskSpaceQueryError(number uint16) string {
	if f.Kind == MariaDB && number == 1109 {
		return "the MariaDB DISKS plugin is not installed; INSTALL SONAME 'disks' on the destination enables this estimate"
	}
	return ""
}

// ForeignKeysNeedReferences reports whether creating a foreign key needs the
// REFERENCES privilege on the parent table. MySQL enforces it from 5.7 (5.5.41 and
// 5.6.22 accepted any of SELECT, INSERT, UPDATE, DELETE, REFERENCES); MariaDB
// documents REFERENCES as unused.
func (f Flavor) ForeignKeysNeedReferences() bool {
	return f.Kind == MySQL && f.AtLeast(5, 7, 0)
}
