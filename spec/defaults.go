package spec

import "time"

// Defaults. The retry windows are DTS's: connection problems are retried for 12
// hours, other errors for 10 minutes.
const (
	DefaultPort      = 3306
	DefaultTLSMode   = "preferred"
	DefaultConflicts = "precheck"
	DefaultCase      = "default"
	DefaultTriggers  = "after-cutover"
	DefaultOnlineDDL = "none"
	// gh-ost's own table names: _<table>_gho is the shadow table; _<table>_ghc the
	// changelog and _<table>_del (or _<table>_<timestamp>_del) the renamed original.
	DefaultGhOstShadowTable = `^_(.+)_gho$`
	DefaultGhOstTrashTable  = `^_(.+)_(?:ghc|del)$`
	DefaultRetryConnection  = Duration(720 * time.Minute)
	DefaultRetryOther       = Duration(10 * time.Minute)
	retryOtherMargin        = Duration(time.Minute)
)

// ApplyDefaults fills every field the user left out (or wrote as zero) with its
// default. It is idempotent and touches only scalar fields, so applying it to a
// shallow copy never changes the original's objects.
//
// Table operations are deliberately not filled in: no operations means all of them
// (see Table.Allows), which keeps a plain-string entry and a mapping entry without
// operations equivalent.
func (s *Spec) ApplyDefaults() {
	s.Source.applyDefaults()
	s.Destination.applyDefaults()
	o := &s.Options
	if o.Conflicts == "" {
		o.Conflicts = DefaultConflicts
	}
	if o.Case == "" {
		o.Case = DefaultCase
	}
	if o.Triggers == "" {
		o.Triggers = DefaultTriggers
	}
	if o.OnlineDDL == "" {
		o.OnlineDDL = DefaultOnlineDDL
	}
	if o.ETL.OnError == "" {
		o.ETL.OnError = ETLFail
	}
	if o.GhOst.ShadowTable == "" {
		o.GhOst.ShadowTable = DefaultGhOstShadowTable
	}
	if o.GhOst.TrashTable == "" {
		o.GhOst.TrashTable = DefaultGhOstTrashTable
	}
	if o.Retry.Connection == 0 {
		o.Retry.Connection = DefaultRetryConnection
	}
	if o.Retry.Other == 0 {
		// "other" must stay below "connection": with a short connection window the
		// default shrinks to one minute less than it.
		o.Retry.Other = DefaultRetryOther
		if c := o.Retry.Connection; c <= o.Retry.Other && c-retryOtherMargin >= Duration(time.Minute) {
			o.Retry.Other = c - retryOtherMargin
		}
	}
}

func (e *Endpoint) applyDefaults() {
	if e.Port == 0 {
		e.Port = DefaultPort
	}
	if e.TLS.Mode == "" {
		e.TLS.Mode = DefaultTLSMode
	}
}

// normalize makes empty lists and maps nil, so a spec means the same whether a key
// was omitted or written empty (and survives a JSON round trip unchanged). An empty
// operations list is kept: it is an error, reported by Validate.
func (s *Spec) normalize() {
	if len(s.Options.IgnoreWarnings) == 0 {
		s.Options.IgnoreWarnings = nil
	}
	for i := range s.Objects {
		o := &s.Objects[i]
		if len(o.ExcludeTables) == 0 {
			o.ExcludeTables = nil
		}
		for j := range o.Tables {
			t := &o.Tables[j]
			if len(t.Columns) == 0 {
				t.Columns = nil
			}
			if len(t.ExcludeColumns) == 0 {
				t.ExcludeColumns = nil
			}
			if len(t.Transform) == 0 {
				t.Transform = nil
			}
		}
	}
}
