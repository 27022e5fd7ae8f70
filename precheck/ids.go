package precheck

// Item IDs. They are part of the user interface (options.ignore_warnings names them)
// and documented in docs/precheck.md: never rename one.
const (
	IDSourceConnect         = "source.connect"
	IDDestinationConnect    = "destination.connect"
	IDSourceVersion         = "source.version"
	IDDestinationVersion    = "destination.version"
	IDVersionDifference     = "version.difference"
	IDSourcePrivileges      = "source.privileges"
	IDDestinationPrivileges = "destination.privileges"
	IDLogBin                = "source.log_bin"
	IDBinlogFormat          = "source.binlog_format"
	IDBinlogRowImage        = "source.binlog_row_image"
	IDBinlogRowMetadata     = "source.binlog_row_metadata"
	IDBinlogRowValueOptions = "source.binlog_row_value_options"
	IDBinlogRetention       = "source.binlog_retention"
	IDServerID              = "source.server_id"
	IDLogSlaveUpdates       = "source.log_slave_updates"
	IDBinlogStart           = "source.binlog_start"
	IDObjectsExist          = "objects.exist"
	IDPrimaryKeys           = "tables.primary_key"
	IDEngines               = "tables.engine"
	IDForeignKeyCascades    = "tables.fk_cascade"
	IDDestinationConflicts  = "destination.conflicts"
	IDObjectsNotMigrated    = "objects.not_migrated"
	IDExcludedColumns       = "objects.excluded_columns"
	IDDependencies          = "objects.dependencies"
	IDDestinationNames      = "destination.names"
	IDDestinationFreeSpace  = "destination.free_space"
	IDOnlineDDLLeftovers    = "source.online_ddl_leftovers"
	IDPTOSCTriggers         = "source.pt_osc_triggers"
)
