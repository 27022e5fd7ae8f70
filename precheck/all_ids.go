package precheck

// AllIDs lists every item ID declared in ids.go, in report order. The workflow-file
// validator checks options.ignore_warnings against it, so a typo there is caught
// before anything runs. When you add an ID to ids.go, add it here too (a test in
// package spec compares this list with the constants in ids.go).
func AllIDs() []string {
	return []string{
		IDSourceConnect,
		IDDestinationConnect,
		IDSourceVersion,
		IDDestinationVersion,
		IDVersionDifference,
		IDSourcePrivileges,
		IDDestinationPrivileges,
		IDLogBin,
		IDBinlogFormat,
		IDBinlogRowImage,
		IDBinlogRowMetadata,
		IDBinlogRowValueOptions,
		IDBinlogRetention,
		IDServerID,
		IDLogSlaveUpdates,
		IDObjectsExist,
		IDPrimaryKeys,
		IDEngines,
		IDForeignKeyCascades,
		IDDestinationConflicts,
		IDDestinationNames,
		IDDestinationFreeSpace,
		IDOnlineDDLLeftovers,
		IDPTOSCTriggers,
	}
}
