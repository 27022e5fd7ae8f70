package schema

// identity maps every name to itself: it reads a destination definition back
// through the same rewriter (package ddl), so both sides of a comparison are printed
// alike.
type identity struct{}

func (identity) Database(db string) string                     { return db }
func (identity) Table(db, table string) (string, string, bool) { return db, table, true }
func (identity) Column(db, table, col string) (string, bool)   { return col, false }
