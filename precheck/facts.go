package precheck

import (
	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Facts is everything the rules look at, gathered from the live servers by package
// inspect. Rules never query a server, so each is unit-tested with recorded facts.
// A field that could not be gathered carries the reason in its *Error companion, and
// the items depending on it say so instead of guessing.
type Facts struct {
	Spec        spec.Spec
	Source      *Server
	Destination *Server
	// Plan is the selection resolved against the source catalog; nil when the
	// catalog could not be read (PlanError says why).
	Plan      *plan.Plan
	PlanError string
	// Schema is set when schema is among the types and the source objects could be
	// read; SchemaError says why not otherwise.
	Schema      *SchemaFacts
	SchemaError string
	// ETL is the type-check of the filters and transforms against the source
	// tables; nil when no selected table has any.
	ETL *ETLFacts
}

// ETLFacts is what checking the expressions found.
type ETLFacts struct {
	// Expressions counts the expressions checked (per table), Tables the
	// tables, Failed the expressions that did not check.
	Expressions, Tables, Failed int
	Problems                    []ETLProblem
}

// ETLProblem is one expression that does not check.
type ETLProblem struct {
	// Place is "file:line:col" in the workflow file (or the field path when the
	// file position is unknown); Path the field ("objects[0].tables[1].filter").
	Place, Path string
	Table       string // quoted source table
	Msg, Hint   string
	Snippet     string // the expression's line and a caret under the column
}

// Server is what was learned about one server.
type Server struct {
	Role    string // "source" or "destination"
	Address string // user@host:port, for messages
	// ConnectError is set when no connection could be made; nothing else is then known.
	ConnectError  string
	ConnectRemedy string
	// TLSCipher is the session's Ssl_cipher ("" = not encrypted).
	TLSCipher string

	Flavor      flavor.Flavor
	FlavorError string

	Variables      flavor.Variables
	VariablesError string

	// CurrentUser is CURRENT_USER(): the account the grants belong to (user@host).
	CurrentUser string
	Grants      []string
	GrantsError string

	// Replica lists the replication channels of the server (source only); empty when
	// it is not a replica.
	Replica      []flavor.ReplicaChannel
	ReplicaError string

	// BinlogStart is what the source says about options.incremental.start; nil
	// unless a start is given and incremental is chosen.
	BinlogStart *BinlogStart

	// Catalog holds the databases sluice reads or writes on this server: on the
	// source the databases named in objects, on the destination the target databases.
	Catalog      *Catalog
	CatalogError string

	// Datadir and Disks (MariaDB's information_schema.DISKS) estimate free space on
	// the destination; DisksError says why they are not known.
	Datadir    string
	Disks      []Disk
	DisksError string
}

// Connected reports whether a connection was made.
func (s *Server) Connected() bool { return s != nil && s.ConnectError == "" }

// LowerCaseTableNames is the server's lower_case_table_names (0 when unknown).
func (s *Server) LowerCaseTableNames() int {
	if s == nil {
		return 0
	}
	v, _ := s.Variables.Get("lower_case_table_names")
	switch v {
	case "1":
		return 1
	case "2":
		return 2
	}
	return 0
}

// Catalog is the part of information_schema the rules need.
type Catalog struct {
	// Databases that exist among those asked about.
	Databases []string
	Tables    []Table
	// ForeignKeys of the tables in Databases.
	ForeignKeys []ForeignKey
	Triggers    []Trigger
	// Columns of the tables in Databases, in table order.
	Columns []Column
	// Routines of Databases.
	Routines []Routine
	// Events (DB, event name in Table) of Databases: not migrated.
	Events []plan.Name
	// NonEmpty marks tables (plan.Name) known to hold at least one row; only
	// destination tables that matter for destination.conflicts are probed.
	NonEmpty map[plan.Name]bool
}

// Table is one row of information_schema.TABLES plus what its keys look like.
type Table struct {
	DB, Name string
	// Type is TABLE_TYPE: BASE TABLE, VIEW, SYSTEM VERSIONED, SEQUENCE.
	Type        string
	Engine      string
	DataLength  int64
	IndexLength int64
	PrimaryKey  bool
	// NotNullUnique: a UNIQUE key whose columns are all NOT NULL (as good as a
	// primary key for finding a row).
	NotNullUnique bool
}

// IsView reports a view (not copied as a table).
func (t Table) IsView() bool { return t.Type == "VIEW" }

// ForeignKey is one row of information_schema.REFERENTIAL_CONSTRAINTS.
type ForeignKey struct {
	DB, Table, Name    string
	RefDB, RefTable    string
	OnUpdate, OnDelete string
}

// Routine is one row of information_schema.ROUTINES.
type Routine struct {
	DB, Name string
	Type     string // PROCEDURE or FUNCTION
}

// SchemaFacts is what the schema phase would create besides tables (destination
// names), and what depends on excluded columns.
type SchemaFacts struct {
	Views    []plan.Name
	Routines []Routine
	// Triggers: DB is the destination database, Table the trigger's name.
	Triggers []plan.Name
	// ExcludedColumnDeps describes each use of an excluded column (an index, a
	// generated column, a CHECK, a foreign key, a view).
	ExcludedColumnDeps []string
	// ExclusionsError says why the dependencies could not be checked.
	ExclusionsError string
	// Dependencies are what the selected views read or call that the schema phase
	// does not create; DependenciesError says why they could not be listed.
	Dependencies      []Dependency
	DependenciesError string
}

// Dependency is a table, view or stored function a selected view needs that is not
// migrated.
type Dependency struct {
	Dependent string    // e.g. "view `shop`.`v`" (source name)
	Kind      string    // "table or view" or "function"
	Source    plan.Name // the dependency's source name
	Dest      plan.Name // the name the view uses for it on the destination
	Reason    string    // why it is not migrated
	// OnDestination: the destination already has it under Dest, so the view can be
	// created there.
	OnDestination bool
}

// Column is one row of information_schema.COLUMNS.
type Column struct {
	DB, Table, Name string
}

// Trigger is one row of information_schema.TRIGGERS.
type Trigger struct {
	DB, Table, Name string
	Timing, Event   string
}

// Disk is one row of MariaDB's information_schema.DISKS, in bytes.
type Disk struct {
	Path                   string
	Total, Used, Available int64
}

// BinlogStart is what the source answered about the start position of an
// incremental-only migration.
type BinlogStart struct {
	// Logs is SHOW BINARY LOGS, oldest first; LogsError says why it is unknown.
	Logs      []flavor.BinaryLog
	LogsError string

	// For a binlog_file/binlog_pos start whose file exists: EventAt is the type of
	// the event at the position ("" at the very end of the file). EventRefused holds
	// the server's reason when it refused the position (not the start of an event,
	// past the end); EventError says why the event could not be read at all (a
	// missing privilege, say).
	EventAt      string
	EventRefused string
	EventError   string

	// For a gtid start on MariaDB: the GTID state before the oldest binlog file
	// (flavor.PurgedGTIDStatement); MySQL's gtid_purged is among the variables.
	PurgedGTIDs      string
	PurgedGTIDsError string
}
