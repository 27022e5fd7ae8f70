package plan

import "fmt"

// ObjectKind is the kind of a schema object the schema phase creates.
type ObjectKind string

const (
	KindDatabase  ObjectKind = "database"
	KindTable     ObjectKind = "table"
	KindView      ObjectKind = "view"
	KindProcedure ObjectKind = "procedure"
	KindFunction  ObjectKind = "function"
	KindTrigger   ObjectKind = "trigger"
	KindAccount   ObjectKind = "account"
)

// Object identifies one unit of the schema phase. It travels in Temporal history
// (activity inputs and results), so it holds names only: definitions are read from
// the source by the activity that applies the object.
type Object struct {
	Kind ObjectKind `json:"kind"`
	// Source names: Database and Name (Name is empty for a database; for an account
	// Name is the user, Host its host, and Database is empty).
	Database string `json:"db,omitempty"`
	Name     string `json:"name,omitempty"`
	Host     string `json:"host,omitempty"`
	// Dest names after renames and the case policy.
	DestDatabase string `json:"dest_db,omitempty"`
	DestName     string `json:"dest_name,omitempty"`
}

// String names the object for messages: table `shop`.`orders` -> `shop_v2`.`orders`.
func (o Object) String() string {
	src, dst := QuoteIdent(o.Database), QuoteIdent(o.DestDatabase)
	switch o.Kind {
	case KindDatabase:
	case KindAccount:
		return fmt.Sprintf("account '%s'@'%s'", o.Name, o.Host)
	default:
		src += "." + QuoteIdent(o.Name)
		dst += "." + QuoteIdent(o.DestName)
	}
	if src == dst {
		return fmt.Sprintf("%s %s", o.Kind, src)
	}
	return fmt.Sprintf("%s %s -> %s", o.Kind, src, dst)
}

// SchemaPlan is what the schema phase creates, in the order it creates it.
type SchemaPlan struct {
	Databases []Object `json:"databases"`
	Tables    []Object `json:"tables"`
	// Views in dependency order: a view comes after the views it reads.
	Views    []Object `json:"views"`
	Routines []Object `json:"routines"`
	Triggers []Object `json:"triggers"`
	Accounts []Object `json:"accounts,omitempty"`
	// NotMigrated names objects left behind (events, sequences, accounts that already
	// exist on the destination), for the report.
	NotMigrated []string `json:"not_migrated,omitempty"`
}

// ApplyResult is what applying one object did.
type ApplyResult struct {
	Object Object `json:"object"`
	// Action: created, exists (already there, identical), kept (conflicts: ignore),
	// replaced, skipped.
	Action  string `json:"action"`
	Warning string `json:"warning,omitempty"`
}
