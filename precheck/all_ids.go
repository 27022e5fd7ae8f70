package precheck

import "github.com/sluice-dev/sluice/spec"

// Register the IDs with the workflow-file validator: options.ignore_warnings is
// checked against them, so a typo there is caught before anything runs. (spec cannot
// import this package, which imports spec.)
func init() { spec.RegisterPrecheckIDs(AllIDs()...) }

// AllIDs lists every item ID declared in ids.go, in report order. When you add an ID
// to ids.go, add it here too (TestAllIDsComplete in package spec compares this list
// with the constants of ids.go).
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
		IDBinlogStart,
		IDObjectsExist,
		IDPrimaryKeys,
		IDEngines,
		IDForeignKeyCascades,
		IDDestinationConflicts,
		IDObjectsNotMigrated,
		IDExcludedColumns,
		IDDependencies,
		IDDestinationNames,
		IDDestinationFreeSpace,
		IDOnlineDDLLeftovers,
		IDPTOSCTriggers,
		IDETLExpressions,
	}
}
